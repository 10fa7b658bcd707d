//! The open judgment window of a session: `sessions/<sid>/pending.json`.
//!
//! Armed when an org skill is used; each of the next K non-empty prompts spends one unit and
//! fires a judge job; a newer use replaces it. Every change happens under the session lock.
//!
//! One prompt fires once even when the hook runs twice for it: Claude Code runs the hooks of
//! its plugin and of `settings.json` both, in parallel, when a user has both. The spend records
//! the reaction's digest and time, and the same reaction again within
//! [`DUPLICATE_WINDOW_MS`] spends nothing.

use serde::{Deserialize, Serialize};

use crate::fsutil::{read_json, write_json_with, Durability, FileLock};
use crate::{io_err, Paths, Result, StateError};

/// An open window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    /// `<name>--<author>`.
    pub skill: String,
    pub version: u32,
    pub tool_use_id: Option<String>,
    pub transcript_path: Option<String>,
    pub agent: String,
    /// Claude Code subagent that used the skill: its events live in
    /// `<session>/subagents/agent-<id>.jsonl`, not in `transcript_path`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    pub armed_at: String,
    pub budget: u32,
    /// Prompts already spent on this window (the next reaction is prompt `spent + 1`).
    #[serde(default)]
    pub spent: u32,
    /// The session (its folder name is a path-safe form of it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// The reaction spent last, to tell a second delivery of it from a new prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_reaction: Option<LastReaction>,
}

/// The reaction a window spent last.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastReaction {
    /// SHA-256 of the prompt.
    pub digest: String,
    /// When it was spent, in milliseconds since the Unix epoch.
    pub at_ms: i64,
}

/// The same prompt within this long of the last one is a second delivery, not a new reaction
/// (two hook runs for one prompt start within milliseconds of each other).
pub const DUPLICATE_WINDOW_MS: i64 = 10_000;

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Every open window, by session folder (unreadable ones skipped), for `skillopt status`.
pub fn open_windows(paths: &Paths) -> Vec<Pending> {
    let Ok(rd) = std::fs::read_dir(paths.state_dir.join("sessions")) else {
        return Vec::new();
    };
    let mut out: Vec<Pending> = rd
        .flatten()
        .filter_map(|e| {
            read_json::<Pending>(&e.path().join("pending.json"))
                .ok()
                .flatten()
        })
        .collect();
    out.sort_by(|a, b| a.armed_at.cmp(&b.armed_at));
    out
}

/// Arms (or re-arms) the window of a session.
pub fn arm(paths: &Paths, session_id: &str, pending: &Pending) -> Result<()> {
    let dir = paths.session_dir(session_id);
    let _lock = FileLock::acquire(&dir.join(".lock"))?;
    write_json_with(&dir.join("pending.json"), pending, Durability::Recoverable)
}

/// Loads the open window, if any.
pub fn load(paths: &Paths, session_id: &str) -> Result<Option<Pending>> {
    read_json(&paths.session_dir(session_id).join("pending.json"))
}

/// Spends one unit of budget under the session lock, then runs `fire` with the window as it was
/// before spending. The window closes at zero. `fire` runs under the lock so that two prompts
/// racing can never spend the same unit twice.
pub fn spend<T>(
    paths: &Paths,
    session_id: &str,
    reaction: &str,
    fire: impl FnOnce(&Pending) -> Result<T>,
) -> Result<Option<T>> {
    let dir = paths.session_dir(session_id);
    let path = dir.join("pending.json");
    if !path.exists() {
        return Ok(None);
    }
    let _lock = FileLock::acquire(&dir.join(".lock"))?;
    let mut p = match read_json::<Pending>(&path) {
        Ok(Some(p)) => p,
        Ok(None) => return Ok(None),
        Err(e @ StateError::Corrupt { .. }) => {
            // A torn or foreign file must not wedge the session: drop it, report once.
            let _ = std::fs::remove_file(&path);
            return Err(e);
        }
        Err(e) => return Err(e),
    };
    if p.budget == 0 {
        std::fs::remove_file(&path).map_err(io_err(&path))?;
        return Ok(None);
    }
    let digest = skillopt_shared::sha256_hex(reaction);
    let now = now_ms();
    if let Some(last) = &p.last_reaction {
        if last.digest == digest && (0..DUPLICATE_WINDOW_MS).contains(&(now - last.at_ms)) {
            return Ok(None);
        }
    }
    let out = fire(&p)?;
    p.budget -= 1;
    p.spent += 1;
    p.last_reaction = Some(LastReaction { digest, at_ms: now });
    if p.budget == 0 {
        std::fs::remove_file(&path).map_err(io_err(&path))?;
    } else {
        write_json_with(&path, &p, Durability::Recoverable)?;
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(dir: &std::path::Path) -> Paths {
        Paths::under(dir)
    }

    fn window(budget: u32) -> Pending {
        Pending {
            skill: "a--b".into(),
            version: 1,
            tool_use_id: None,
            transcript_path: None,
            agent: "claude-code".into(),
            agent_id: None,
            armed_at: "now".into(),
            budget,
            spent: 0,
            session_id: None,
            last_reaction: None,
        }
    }

    #[test]
    fn budget_is_spent_and_the_window_closes() {
        let d = tempfile::tempdir().unwrap();
        let p = paths(d.path());
        arm(&p, "s", &window(2)).unwrap();
        assert_eq!(spend(&p, "s", "no", |w| Ok(w.budget)).unwrap(), Some(2));
        assert_eq!(load(&p, "s").unwrap().unwrap().budget, 1);
        assert_eq!(
            spend(&p, "s", "still no", |w| Ok(w.budget)).unwrap(),
            Some(1)
        );
        assert!(load(&p, "s").unwrap().is_none());
        assert_eq!(spend(&p, "s", "again", |w| Ok(w.budget)).unwrap(), None);
    }

    #[test]
    fn one_prompt_delivered_twice_spends_once() {
        let d = tempfile::tempdir().unwrap();
        let p = paths(d.path());
        arm(&p, "s", &window(3)).unwrap();
        assert_eq!(spend(&p, "s", "it broke", |_| Ok(())).unwrap(), Some(()));
        assert_eq!(spend(&p, "s", "it broke", |_| Ok(())).unwrap(), None);
        assert_eq!(load(&p, "s").unwrap().unwrap().budget, 2);
        // Another prompt is a new reaction; the same one long after, too.
        assert_eq!(spend(&p, "s", "now this", |_| Ok(())).unwrap(), Some(()));
        let mut w = load(&p, "s").unwrap().unwrap();
        w.last_reaction.as_mut().unwrap().at_ms -= DUPLICATE_WINDOW_MS;
        arm(&p, "s", &w).unwrap();
        assert_eq!(spend(&p, "s", "now this", |_| Ok(())).unwrap(), Some(()));
    }

    #[test]
    fn a_corrupt_window_is_dropped_not_sticky() {
        let d = tempfile::tempdir().unwrap();
        let p = paths(d.path());
        arm(&p, "s", &window(3)).unwrap();
        std::fs::write(p.session_dir("s").join("pending.json"), "{torn").unwrap();
        assert!(spend(&p, "s", "r", |_| Ok(())).is_err());
        assert_eq!(
            spend(&p, "s", "r", |_| Ok(())).unwrap(),
            None,
            "the second prompt sees no window"
        );
    }
}
