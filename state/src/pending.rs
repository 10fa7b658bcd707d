//! The open judgment window of a session: `sessions/<sid>/pending.json`.
//!
//! Armed when an org skill is used; each of the next K non-empty prompts spends one unit and
//! fires a judge job; a newer use replaces it. Every change happens under the session lock.

use serde::{Deserialize, Serialize};

use crate::fsutil::{read_json, write_json, FileLock};
use crate::{io_err, Paths, Result};

/// An open window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    /// `<name>--<author>`.
    pub skill: String,
    pub name: String,
    pub author: String,
    pub version: u32,
    pub tool_use_id: Option<String>,
    pub transcript_path: Option<String>,
    pub agent: String,
    pub armed_at: String,
    pub budget: u32,
}

/// Arms (or re-arms) the window of a session.
pub fn arm(paths: &Paths, session_id: &str, pending: &Pending) -> Result<()> {
    let dir = paths.session_dir(session_id);
    let _lock = FileLock::acquire(&dir.join(".lock"))?;
    write_json(&dir.join("pending.json"), pending)
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
    fire: impl FnOnce(&Pending) -> Result<T>,
) -> Result<Option<T>> {
    let dir = paths.session_dir(session_id);
    let path = dir.join("pending.json");
    if !path.exists() {
        return Ok(None);
    }
    let _lock = FileLock::acquire(&dir.join(".lock"))?;
    let Some(mut p) = read_json::<Pending>(&path)? else {
        return Ok(None);
    };
    if p.budget == 0 {
        std::fs::remove_file(&path).map_err(io_err(&path))?;
        return Ok(None);
    }
    let out = fire(&p)?;
    p.budget -= 1;
    if p.budget == 0 {
        std::fs::remove_file(&path).map_err(io_err(&path))?;
    } else {
        write_json(&path, &p)?;
    }
    Ok(Some(out))
}
