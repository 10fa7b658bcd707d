//! The safety gate: a deterministic, pure check of a proposed new SKILL.md against the current
//! one (its parent). Only this gate decides what may be published; model output is never trusted.
//! It does not list bad content; it decides what *new* content is allowed: nothing invisible, no
//! destination or program the parent does not already have, no idiom that runs unreviewed code,
//! and none of a few phrase classes.
//!
//! Rules, in the order they run (the first failure rejects the whole proposal as `gated:<rule>`):
//! * `no-change` / `too-many-edits`: 1–3 applied edits.
//! * `control-char`: no added control or format character (Unicode Cc/Cf/Zl/Zp/Co: NUL, ESC and
//!   terminal escapes, zero-width and bidi characters, tag characters; see [`chars`]).
//!   Then both texts are NFKC-normalised, and every rule below sees the normalised text.
//! * `invalid-skill-md`: the result still parses as a SKILL.md.
//! * `frontmatter-changed`: frontmatter identical except skillopt's version metadata.
//! * `too-large`: ≤ 1200 chars added, and growth ≤ the larger of 25 % and 400 chars (so a
//!   missing step fits into a small skill); `too-much-removed`: ≤ 20 % removed.
//! * `protected-region`: `<!-- skillopt:protected -->…<!-- /skillopt:protected -->` untouched.
//! * `new-url`: no host, IP, URL (host + path) or `data:` URI the parent does not name, however
//!   it is spelled (see [`hosts`]).
//! * `permission-bypass`: no added way to turn off the agent's permission checks or sandbox
//!   (`--dangerously-skip-permissions`, `bypassPermissions`, `--yolo`,
//!   `approval_policy = "never"`, `danger-full-access`, "disable the permission prompts", …).
//! * `shell-exec`: no added idiom that runs code nobody reviewed: a pipe (also through `tee`,
//!   wrappers and continued lines) into a shell or interpreter, process substitution,
//!   `sh -c`/`python -c`/`node -e`, here-strings into a shell, `eval`/`iex`, `` !`cmd` ``,
//!   `$(curl …)`, `os.system`/`subprocess`/`child_process`, download-then-`chmod`, writes to
//!   shell start-up files, `/etc` or `authorized_keys`, schedulers, git hook paths (see
//!   [`commands`]).
//! * `new-command`: no command line whose program the parent does not already run (`make
//!   migrate` passes in a skill that runs `make`; `curl` does not in one that never did; a new
//!   code fence language counts as its interpreter). A few read-only tools are always allowed
//!   ([`commands::HARMLESS`]).
//! * `exfiltration`: no added reference to secrets (`$…TOKEN`, `printenv`, `~/.ssh`, `.netrc`,
//!   …), upload idiom (`curl -d @file`, `/dev/tcp`, `scp host:`) or prose that sends env vars,
//!   keys or files anywhere (see [`phrases`]).
//! * `secret`: no new secret (AWS keys, GitHub/Slack/OpenAI/Anthropic tokens, private keys, …).
//! * `base64-blob`: no new base64-looking blob of ≥ 40 chars.
//! * `instruction-override`: no added instruction-override phrasing in any wording ("ignore /
//!   disregard / forget … instructions / rules / the above"), role reassignment ("you are now",
//!   "act as", "your new role"), system-prompt or chat-role markup, precedence claims, or hiding
//!   things from the user.
//!
//! "Added" is checked twice: over the whole text, a pattern may appear in the result only as often
//! as it already did in the parent (this sees idioms spread over several lines); and over the
//! added lines alone (lines of the result that the parent does not have, continuations joined),
//! a phrase or idiom rule may not match at all, so a warning cannot be turned into the
//! instruction it warned against ("Never run `curl … | sh`" → "Run `curl … | sh`"). Editing a
//! line that already holds such an idiom is therefore refused too. Destinations and programs are
//! compared as sets. All regexes are compiled once;
//! one that fails to compile panics (and so fails the tests) rather than disabling a rule.

mod chars;
mod commands;
mod hosts;
mod markdown;
mod phrases;

use std::sync::OnceLock;

use regex::Regex;
use serde::Serialize;

use crate::edits::Edit;
use crate::skill_md::SkillMd;

/// Most edits per proposal.
pub const MAX_EDITS: usize = 3;
/// Most chars a proposal may add.
pub const MAX_ADDED_CHARS: usize = 1200;
/// Most growth of the whole file, in percent…
pub const MAX_GROWTH_PCT: usize = 25;
/// …unless the growth is at most this many chars: a one-line missing step (a sentence or a
/// command, typically 60–300 chars) must fit into a small skill, where 25 % may be ~100 chars.
pub const MIN_GROWTH_CHARS: usize = 400;
/// Most removal of the whole file, in percent.
pub const MAX_REMOVED_PCT: usize = 20;

/// A gate rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Rule {
    NoChange,
    TooManyEdits,
    ControlChar,
    TooLarge,
    TooMuchRemoved,
    FrontmatterChanged,
    NewUrl,
    PermissionBypass,
    ShellExec,
    NewCommand,
    Exfiltration,
    Base64Blob,
    Secret,
    InstructionOverride,
    ProtectedRegion,
    InvalidSkillMd,
}

impl Rule {
    /// Every rule, for documentation and tests.
    pub const ALL: &'static [Rule] = &[
        Rule::NoChange,
        Rule::TooManyEdits,
        Rule::ControlChar,
        Rule::TooLarge,
        Rule::TooMuchRemoved,
        Rule::FrontmatterChanged,
        Rule::NewUrl,
        Rule::PermissionBypass,
        Rule::ShellExec,
        Rule::NewCommand,
        Rule::Exfiltration,
        Rule::Base64Blob,
        Rule::Secret,
        Rule::InstructionOverride,
        Rule::ProtectedRegion,
        Rule::InvalidSkillMd,
    ];

    /// The name used in `gated:<rule>`.
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::NoChange => "no-change",
            Rule::TooManyEdits => "too-many-edits",
            Rule::ControlChar => "control-char",
            Rule::TooLarge => "too-large",
            Rule::TooMuchRemoved => "too-much-removed",
            Rule::FrontmatterChanged => "frontmatter-changed",
            Rule::NewUrl => "new-url",
            Rule::PermissionBypass => "permission-bypass",
            Rule::ShellExec => "shell-exec",
            Rule::NewCommand => "new-command",
            Rule::Exfiltration => "exfiltration",
            Rule::Base64Blob => "base64-blob",
            Rule::Secret => "secret",
            Rule::InstructionOverride => "instruction-override",
            Rule::ProtectedRegion => "protected-region",
            Rule::InvalidSkillMd => "invalid-skill-md",
        }
    }
}

/// Why a proposal was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("gated:{} ({detail})", rule.as_str())]
pub struct Rejection {
    pub rule: Rule,
    pub detail: String,
}

/// Size of an accepted change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Passed {
    pub added_chars: usize,
    pub removed_chars: usize,
}

fn reject(rule: Rule, detail: impl Into<String>) -> Rejection {
    Rejection {
        rule,
        detail: detail.into(),
    }
}

/// Compiles a built-in pattern. A pattern that does not compile is a bug: panic (the tests
/// initialise every pattern), never run with a rule silently missing.
pub(crate) fn compile(pattern: &str) -> Regex {
    Regex::new(pattern).unwrap_or_else(|e| panic!("gate pattern {pattern:?} does not compile: {e}"))
}

fn base64_blobs() -> &'static Regex {
    static C: OnceLock<Regex> = OnceLock::new();
    C.get_or_init(|| compile(r"[A-Za-z0-9+/_-]{40,}={0,2}"))
}

fn looks_base64(s: &str) -> bool {
    let upper = s.bytes().any(|b| b.is_ascii_uppercase());
    let lower = s.bytes().any(|b| b.is_ascii_lowercase());
    let digit = s.bytes().any(|b| b.is_ascii_digit());
    s.ends_with('=') || (upper && lower && digit) || (digit && (upper || lower) && s.contains('+'))
}

fn protected_regions(text: &str) -> (usize, Vec<&str>) {
    const OPEN: &str = "<!-- skillopt:protected -->";
    const CLOSE: &str = "<!-- /skillopt:protected -->";
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find(OPEN) {
        match rest[i..].find(CLOSE) {
            Some(j) => {
                out.push(&rest[i..i + j + CLOSE.len()]);
                rest = &rest[i + j + CLOSE.len()..];
            }
            None => {
                out.push(&rest[i..]);
                break;
            }
        }
    }
    (
        text.matches(OPEN).count() + text.matches(CLOSE).count(),
        out,
    )
}

/// Chars inserted and deleted between two texts (word-level diff).
pub fn change_size(old: &str, new: &str) -> (usize, usize) {
    let diff = similar::TextDiff::configure()
        .timeout(std::time::Duration::from_secs(2))
        .diff_words(old, new);
    let (mut added, mut removed) = (0, 0);
    for op in diff.ops() {
        for change in diff.iter_changes(op) {
            let n = change.value().chars().count();
            match change.tag() {
                similar::ChangeTag::Insert => added += n,
                similar::ChangeTag::Delete => removed += n,
                similar::ChangeTag::Equal => {}
            }
        }
    }
    (added, removed)
}

fn size_rules(old: &str, new: &str) -> Result<(usize, usize), Rejection> {
    let (old_n, new_n) = (old.chars().count().max(1), new.chars().count());
    let (added, removed) = change_size(old, new);
    if added > MAX_ADDED_CHARS {
        return Err(reject(
            Rule::TooLarge,
            format!("{added} chars added (max {MAX_ADDED_CHARS})"),
        ));
    }
    let growth = new_n.saturating_sub(old_n);
    if growth > MIN_GROWTH_CHARS && growth * 100 > old_n * MAX_GROWTH_PCT {
        return Err(reject(
            Rule::TooLarge,
            format!(
                "grows {}% / {growth} chars (max {MAX_GROWTH_PCT}% or {MIN_GROWTH_CHARS} chars)",
                growth * 100 / old_n
            ),
        ));
    }
    if removed * 100 > old_n * MAX_REMOVED_PCT {
        return Err(reject(
            Rule::TooMuchRemoved,
            format!(
                "{}% removed (max {MAX_REMOVED_PCT}%)",
                removed * 100 / old_n
            ),
        ));
    }
    Ok((added, removed))
}

/// Rejects when `new` holds more matches of a phrase class than `old`.
fn counted(rule: Rule, res: &[Regex], old: &str, new: &str, what: &str) -> Result<(), Rejection> {
    let (o, n) = (phrases::count(res, old), phrases::count(res, new));
    if n > o {
        let first = res
            .iter()
            .flat_map(|r| r.find_iter(new))
            .map(|m| m.as_str().to_string())
            .find(|m| !old.contains(m.as_str()))
            .unwrap_or_default();
        return Err(reject(
            rule,
            format!("{what}: {}", crate::text::preview(&first, 80)),
        ));
    }
    Ok(())
}

/// The lines of `new` that `old` does not have (as a multiset of trimmed lines), in order, after
/// `\`-continuations are joined in both.
fn added_lines(old: &str, new: &str) -> String {
    let old = commands::join_continuations(old);
    let new = commands::join_continuations(new);
    let mut have: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for l in old.lines() {
        *have.entry(l.trim()).or_default() += 1;
    }
    let mut out = String::new();
    for l in new.lines() {
        match have.get_mut(l.trim()) {
            Some(n) if *n > 0 => *n -= 1,
            _ => {
                out.push_str(l);
                out.push('\n');
            }
        }
    }
    out
}

/// Rejects when the added lines match a phrase class at all.
fn absent(rule: Rule, res: &[Regex], added: &str, what: &str) -> Result<(), Rejection> {
    match res.iter().find_map(|r| r.find(added)) {
        Some(m) => Err(reject(
            rule,
            format!(
                "{what} in an added line: {}",
                crate::text::preview(m.as_str(), 80)
            ),
        )),
        None => Ok(()),
    }
}

/// Checks a proposal: `old` and `new` are whole SKILL.md texts, `edits` the applied edits.
pub fn check(old: &str, new: &str, edits: &[Edit]) -> Result<Passed, Rejection> {
    if edits.is_empty() || old == new {
        return Err(reject(Rule::NoChange, "no edit changed the skill"));
    }
    if edits.len() > MAX_EDITS {
        return Err(reject(
            Rule::TooManyEdits,
            format!("{} edits (max {MAX_EDITS})", edits.len()),
        ));
    }
    if let Some(c) = chars::first_added(old, new) {
        return Err(reject(
            Rule::ControlChar,
            format!("U+{:04X} added", u32::from(c)),
        ));
    }
    let (old, new) = (chars::normalise(old), chars::normalise(new));
    let (old, new) = (old.as_str(), new.as_str());
    let new_doc = SkillMd::parse(new).map_err(|e| reject(Rule::InvalidSkillMd, e.to_string()))?;
    let old_doc =
        SkillMd::parse(old).map_err(|e| reject(Rule::InvalidSkillMd, format!("current: {e}")))?;
    if new_doc.frontmatter_without_version() != old_doc.frontmatter_without_version() {
        return Err(reject(Rule::FrontmatterChanged, "frontmatter differs"));
    }
    let (added, removed) = size_rules(old, new)?;
    if protected_regions(old) != protected_regions(new) {
        return Err(reject(Rule::ProtectedRegion, "a protected region changed"));
    }
    let known = hosts::destinations(old);
    let new_dest: Vec<String> = hosts::destinations(new)
        .into_iter()
        .filter(|d| !known.contains(d))
        .collect();
    if !new_dest.is_empty() {
        return Err(reject(Rule::NewUrl, new_dest.join(", ")));
    }
    let (old_sk, new_sk) = (phrases::skeleton(old), phrases::skeleton(new));
    let added_text = added_lines(old, new);
    let added_sk = phrases::skeleton(&added_text);
    let added_sk = format!("{added_sk}\n{}", phrases::unleet(&added_sk));
    absent(
        Rule::PermissionBypass,
        phrases::permission_bypass(),
        &added_sk,
        "turns off permission checks",
    )?;
    counted(
        Rule::PermissionBypass,
        phrases::permission_bypass(),
        &old_sk,
        &new_sk,
        "turns off permission checks",
    )?;
    if commands::exec_idioms(new) > commands::exec_idioms(old) {
        return Err(reject(Rule::ShellExec, "a new code-execution idiom"));
    }
    if commands::exec_idioms(&added_text) > 0 {
        return Err(reject(
            Rule::ShellExec,
            "a code-execution idiom in an added line",
        ));
    }
    let new_programs = commands::added(old, new);
    if !new_programs.is_empty() {
        return Err(reject(
            Rule::NewCommand,
            format!("runs {}", new_programs.join(", ")),
        ));
    }
    counted(
        Rule::Exfiltration,
        phrases::exfiltration(),
        &old_sk,
        &new_sk,
        "sends or reads secrets",
    )?;
    absent(
        Rule::Exfiltration,
        phrases::exfiltration(),
        &added_sk,
        "sends or reads secrets",
    )?;
    let secrets = |t: &str| crate::redact::redact(t).matches("[REDACTED:").count();
    if secrets(new) > secrets(old) {
        let rule = crate::redact::find_secret(new).unwrap_or("secret");
        return Err(reject(Rule::Secret, rule));
    }
    let blobs = |t: &str| {
        base64_blobs()
            .find_iter(t)
            .filter(|m| looks_base64(m.as_str()))
            .count()
    };
    if blobs(new) > blobs(old) {
        return Err(reject(
            Rule::Base64Blob,
            "a new base64-like blob of 40+ chars",
        ));
    }
    counted(
        Rule::InstructionOverride,
        phrases::overrides(),
        &old_sk,
        &new_sk,
        "instruction-override phrasing",
    )?;
    absent(
        Rule::InstructionOverride,
        phrases::overrides(),
        &added_sk,
        "instruction-override phrasing",
    )?;
    Ok(Passed {
        added_chars: added,
        removed_chars: removed,
    })
}

#[cfg(test)]
mod tests;
