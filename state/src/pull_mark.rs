//! `pulled.json`: what the last full pull saw, so the next sync can skip it when nothing changed.
//!
//! A pull's result depends on the registry (its revision, see the registry's `revision`) and on
//! this machine (its channel, what is installed where): the mark keeps the registry's address,
//! the revision read before the pull, a digest of the machine-side inputs (made by the caller),
//! and whether a candidate was out (the rollout rules must then run at every sync, since
//! outcomes are not part of the revision). A missing, torn or foreign mark only costs a full
//! pull.

use serde::{Deserialize, Serialize};

use crate::fsutil::{read_json, write_json_with, Durability};
use crate::{Paths, Result};

/// The last full pull.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullMark {
    /// The registry pulled from (redacted description).
    pub registry: String,
    /// Its revision, read before the pull.
    pub revision: u64,
    /// The caller's digest of the machine-side inputs of the pull.
    pub local: String,
    /// True when some skill had a candidate out.
    pub candidates: bool,
}

fn file(paths: &Paths) -> std::path::PathBuf {
    paths.state_dir.join("pulled.json")
}

/// The mark, or `None` when there is none (or it does not read).
pub fn load(paths: &Paths) -> Option<PullMark> {
    read_json(&file(paths)).ok().flatten()
}

/// Records a full pull. A lost write (a crash) only costs the next sync a full pull.
pub fn save(paths: &Paths, mark: &PullMark) -> Result<()> {
    write_json_with(&file(paths), mark, Durability::Recoverable)
}

/// Forgets the mark: the next sync pulls in full.
pub fn clear(paths: &Paths) {
    let _ = std::fs::remove_file(file(paths));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mark_round_trips_and_a_torn_one_is_none() {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::under(dir.path());
        std::fs::create_dir_all(&paths.state_dir).unwrap();
        assert_eq!(load(&paths), None);
        let mark = PullMark {
            registry: "sqlite:///r".into(),
            revision: 7,
            local: "abc".into(),
            candidates: false,
        };
        save(&paths, &mark).unwrap();
        assert_eq!(load(&paths), Some(mark));
        std::fs::write(file(&paths), "{\"registry\":").unwrap();
        assert_eq!(load(&paths), None);
        clear(&paths);
        assert_eq!(load(&paths), None);
    }
}
