//! `skillopt log <skill> [--json]`: every version with its source (push/skillopt/revert), who
//! made it, its changeset's reason and its measured outcomes. Registry text is untrusted: control,
//! bidi and zero-width characters are printed as `\u{XXXX}` (in `--json`, as JSON `\uXXXX`
//! escapes), never raw.

use std::collections::BTreeMap;
use std::process::ExitCode;

use serde::Serialize;
use skillopt_shared::text::{for_terminal, is_unsafe_for_terminal};
use skillopt_shared::verdict::Outcome;

use super::resolve_skill;
use crate::registry::{Changeset, OutcomeRow, VersionSource, VersionStatus};
use crate::settings::Settings;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// `name--author` (or a unique bare name).
    pub skill: String,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Serialize)]
struct Entry {
    version: u32,
    source: VersionSource,
    status: VersionStatus,
    created_by: String,
    created_at: String,
    parent_version: Option<u32>,
    changeset: Option<Changeset>,
    sessions: usize,
    /// Sessions per agent (`claude-code`, `codex`, …).
    sessions_by_agent: BTreeMap<String, usize>,
    judged: usize,
    failures: usize,
    skill_failures: usize,
    /// Every judged use of this version (`unclear` ones included), oldest first.
    outcomes: Vec<OutcomeView>,
}

/// One judged use, as `log --json` shows it.
#[derive(Debug, Serialize)]
struct OutcomeView {
    job_id: String,
    outcome: Outcome,
    skill_at_fault: bool,
    confidence: f64,
    bucket: u8,
    reason: String,
    agent: String,
    model: String,
    judged_at: String,
}

fn count(outcomes: &[OutcomeRow], version: u32, pred: impl Fn(&OutcomeRow) -> bool) -> usize {
    outcomes
        .iter()
        .filter(|o| o.version == version && pred(o))
        .count()
}

pub fn run(settings: &Settings, args: Args) -> anyhow::Result<ExitCode> {
    let mut reg = settings.open_registry()?;
    let skill = resolve_skill(reg.as_mut(), &args.skill)?;
    let versions = reg.history(&skill)?;
    if versions.is_empty() {
        anyhow::bail!("{skill} is not in the registry");
    }
    let changesets = reg.changesets(&skill)?;
    let outcomes = reg.outcomes(&skill)?;
    let attributions = reg.attributions(&skill)?;
    let frozen = reg.is_frozen(&skill)?;
    let entries: Vec<Entry> = versions
        .iter()
        .map(|v| Entry {
            version: v.version,
            source: v.source,
            status: v.status,
            created_by: v.created_by.clone(),
            created_at: v.created_at.clone(),
            parent_version: v.parent_version,
            changeset: changesets.iter().find(|c| c.version == v.version).cloned(),
            sessions: attributions
                .iter()
                .filter(|a| a.version == v.version)
                .count(),
            sessions_by_agent: attributions.iter().filter(|a| a.version == v.version).fold(
                BTreeMap::new(),
                |mut m, a| {
                    *m.entry(a.agent.clone()).or_insert(0) += 1;
                    m
                },
            ),
            judged: count(&outcomes, v.version, |o| o.outcome != Outcome::Unclear),
            failures: count(&outcomes, v.version, |o| o.outcome == Outcome::Failure),
            skill_failures: count(&outcomes, v.version, |o| {
                o.outcome == Outcome::Failure && o.skill_at_fault
            }),
            outcomes: outcomes
                .iter()
                .filter(|o| o.version == v.version)
                .map(|o| OutcomeView {
                    job_id: o.job_id.clone(),
                    outcome: o.outcome,
                    skill_at_fault: o.skill_at_fault,
                    confidence: o.confidence,
                    bucket: o.bucket,
                    reason: o.reason.clone(),
                    agent: o.agent.clone(),
                    model: o.model.clone(),
                    judged_at: o.judged_at.clone(),
                })
                .collect(),
        })
        .collect();
    if args.json {
        let json = serde_json::to_string_pretty(
            &serde_json::json!({"skill": skill.dir_name(), "frozen": frozen, "versions": entries}),
        )?;
        println!("{}", json_for_terminal(&json));
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{skill}{}",
        if frozen {
            "  [frozen: no automatic edits]"
        } else {
            ""
        }
    );
    let t = |s: &str| for_terminal(s, false).into_owned();
    for e in entries.iter().rev() {
        println!(
            "v{:<3} {:<8} {}  by {}  sessions {}  judged {}  failures {} (skill at fault {})",
            e.version,
            t(e.source.as_str()),
            t(&e.created_at),
            t(&e.created_by),
            e.sessions,
            e.judged,
            e.failures,
            e.skill_failures
        );
        if let Some(c) = &e.changeset {
            println!("      reason:   {}", t(&c.reason));
            if !c.evidence.is_empty() {
                println!("      evidence: {}", t(&c.evidence));
            }
            if c.agent != "-" {
                println!(
                    "      by agent {} (model {}), job {}",
                    t(&c.agent),
                    t(&c.model),
                    t(c.job_id.as_deref().unwrap_or("-"))
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Pretty JSON with every terminal-unsafe character (serde leaves DEL, C1 controls, bidi and
/// zero-width characters raw) written as a `\uXXXX` escape. Outside strings, JSON holds only
/// ASCII punctuation and whitespace, so only string contents change.
fn json_for_terminal(json: &str) -> String {
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
