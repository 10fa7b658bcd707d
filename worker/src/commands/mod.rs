//! One file per `skillopt` subcommand.

pub(crate) mod channel;
pub(crate) mod demo;
pub(crate) mod diff;
pub(crate) mod doctor;
pub(crate) mod freeze;
pub(crate) mod history;
pub(crate) mod hooks_config;
pub(crate) mod inspect;
pub(crate) mod judge;
pub(crate) mod login;
pub(crate) mod policy;
pub(crate) mod pull;
pub(crate) mod push;
pub(crate) mod revert;
pub(crate) mod review;
pub(crate) mod serve;
pub(crate) mod stats;
pub(crate) mod status;
pub(crate) mod worker;

mod skill_arg;

pub(crate) use skill_arg::resolve_skill;

use std::io::Write;

use skillopt_shared::text::is_unsafe_for_terminal;

/// Prints a value as pretty JSON on stdout, every terminal-unsafe character escaped (see
/// [`json_for_terminal`]): registry rows and transcripts are untrusted.
pub fn print_json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    let json = serde_json::to_string_pretty(value)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", json_for_terminal(&json))?;
    Ok(())
}

/// Pretty JSON with every terminal-unsafe character (serde leaves DEL, C1 controls, bidi and
/// zero-width characters raw) written as a `\uXXXX` escape. Outside strings, JSON holds only
/// ASCII punctuation and whitespace, so only string contents change and the value is the same.
pub(crate) fn json_for_terminal(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if is_unsafe_for_terminal(c) && c != '\n' {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// [`resolve_skill`], and the skill must have a version in the registry (a one-line error
/// otherwise).
pub(crate) fn resolve_known_skill(
    reg: &mut dyn crate::registry::Registry,
    arg: &str,
) -> anyhow::Result<skillopt_shared::SkillRef> {
    let skill = resolve_skill(reg, arg)?;
    if reg.latest(&skill)?.is_none() {
        anyhow::bail!("{skill} is not in the registry");
    }
    Ok(skill)
}

/// Registry text on one terminal line: unsafe characters (newlines included) as `\u{XXXX}`.
pub(crate) fn one_line(s: &str) -> String {
    skillopt_shared::text::for_terminal(s, false).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_escapes_what_serde_leaves_raw() {
        let v = serde_json::json!({"r": "a\u{7f}\u{9b}\u{202E}\u{200B}\u{E0041}\u{1b}"});
        let s = json_for_terminal(&serde_json::to_string_pretty(&v).unwrap());
        assert!(
            !s.chars().any(|c| is_unsafe_for_terminal(c) && c != '\n'),
            "{s:?}"
        );
        let back: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(back, v);
    }
}
