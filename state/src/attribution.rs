//! Attribution: which org skills (and versions) a session had, and its A/B bucket.
//!
//! `sessions/<sid>/attribution.json` holds one [`Attribution`]. A `resume`/`compact` SessionStart
//! of the same session updates it in place (skills merged, `source` and `updated_at` set) and
//! rewrites the same outbox event, so the registry never sees a duplicate. A SessionStart that
//! would change neither the skills nor the source leaves the file as it is: `updated_at` is when
//! the record last changed, and replacing a file costs more than the rest of the hook (on ext4 a
//! rename over an existing file also flushes the new one and frees the old one's blocks). A torn
//! or corrupt file is rewritten from the fresh record rather than failing every later
//! SessionStart.

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
/// record. A record the merge would not change is not rewritten.
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
            let mut changed = old.source != fresh.source;
            for s in fresh.skills {
                if !old.skills.contains(&s) {
                    old.skills.push(s);
                    changed = true;
                }
            }
            if !changed {
                return Ok(old);
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

    #[test]
    fn a_start_that_changes_nothing_leaves_the_record_alone() {
        let d = tempfile::tempdir().unwrap();
        let p = Paths::under(d.path());
        let skill = |name: &str| AttributedSkill {
            name: name.into(),
            author: "bob".into(),
            version: 1,
            sha256: "h".into(),
        };
        let at = |t: &str, source: &str, skills: Vec<AttributedSkill>| Attribution {
            session_id: "s1".into(),
            session_hash: "h".into(),
            bucket: 7,
            agent: "codex".into(),
            source: source.into(),
            started_at: t.into(),
            updated_at: t.into(),
            skills,
        };
        let file = p.session_dir("s1").join("attribution.json");
        record(&p, at("t0", "startup", vec![skill("a")])).unwrap();
        let ino = || std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(&file).unwrap());
        let first = ino();
        // Same source, same skills: the stored record, untouched on disk.
        let same = record(&p, at("t1", "startup", vec![skill("a")])).unwrap();
        assert_eq!(same, at("t0", "startup", vec![skill("a")]));
        assert_eq!(ino(), first, "the file was replaced");
        // A new source or a new skill is recorded (the start time stays the first one).
        let resumed = record(&p, at("t2", "resume", vec![skill("a")])).unwrap();
        assert_eq!(
            (resumed.source.as_str(), resumed.updated_at.as_str()),
            ("resume", "t2")
        );
        let more = record(&p, at("t3", "resume", vec![skill("b")])).unwrap();
        assert_eq!(more.skills, vec![skill("a"), skill("b")]);
        assert_eq!(
            (more.started_at.as_str(), more.updated_at.as_str()),
            ("t0", "t3")
        );
        assert_eq!(load(&p, "s1").unwrap(), Some(more));
    }
}
