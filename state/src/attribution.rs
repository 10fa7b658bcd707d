//! Attribution: which org skills (and versions) a session had, and its A/B bucket.
//!
//! `sessions/<sid>/attribution.json` holds one [`Attribution`]. A `resume`/`compact` SessionStart
//! of the same session updates it in place (skills merged, `updated_at` bumped) and rewrites the
//! same outbox event, so the registry never sees a duplicate. A torn or corrupt file is
//! rewritten from the fresh record rather than failing every later SessionStart.

use serde::{Deserialize, Serialize};

use crate::fsutil::{read_json, write_json_with, Durability, FileLock};
use crate::{Paths, Result, StateError};

/// One org skill present at session start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributedSkill {
    pub name: String,
    pub author: String,
    pub version: u32,
    pub sha256: String,
}

/// A session's attribution record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attribution {
    pub session_id: String,
    pub session_hash: String,
    pub bucket: u8,
    pub agent: String,
    pub source: String,
    pub started_at: String,
    pub updated_at: String,
    pub skills: Vec<AttributedSkill>,
}

/// Loads a session's attribution, if any.
pub fn load(paths: &Paths, session_id: &str) -> Result<Option<Attribution>> {
    read_json(&paths.session_dir(session_id).join("attribution.json"))
}

/// Writes (or merges into) a session's attribution under the session lock; returns the stored
/// record.
pub fn record(paths: &Paths, fresh: Attribution) -> Result<Attribution> {
    let dir = paths.session_dir(&fresh.session_id);
    let _lock = FileLock::acquire(&dir.join(".lock"))?;
    let path = dir.join("attribution.json");
    let old = match read_json::<Attribution>(&path) {
        Err(StateError::Corrupt { .. }) => None,
        other => other?,
    };
    let merged = match old {
        Some(mut old) => {
            for s in fresh.skills {
                if !old.skills.contains(&s) {
                    old.skills.push(s);
                }
            }
            old.updated_at = fresh.updated_at;
            old.source = fresh.source;
            old
        }
        None => fresh,
    };
    write_json_with(&path, &merged, Durability::Recoverable)?;
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_torn_attribution_is_rewritten() {
        let d = tempfile::tempdir().unwrap();
        let p = Paths::under(d.path());
        let file = p.session_dir("s1").join("attribution.json");
        crate::fsutil::ensure_dir(file.parent().unwrap()).unwrap();
        std::fs::write(&file, b"{\"session_id\":\"s1\",\"bu").unwrap();
        let fresh = Attribution {
            session_id: "s1".into(),
            session_hash: "h".into(),
            bucket: 7,
            agent: "codex".into(),
            source: "startup".into(),
            started_at: "t0".into(),
            updated_at: "t0".into(),
            skills: vec![],
        };
        assert_eq!(record(&p, fresh.clone()).unwrap(), fresh);
        assert_eq!(load(&p, "s1").unwrap(), Some(fresh));
    }
}
