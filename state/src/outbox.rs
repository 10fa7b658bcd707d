//! The outbox: events for the registry, kept on disk until an upload succeeds.
//!
//! One file per event, `outbox/<key>.json`. The key is the event's natural identity
//! (`attribution-<session_hash>`, `outcome-<job_id>`), so re-recording an event overwrites it
//! instead of duplicating it, and the registry's unique keys make a retried upload a no-op.
//!
//! An event that can never be uploaded (a file that does not parse, or one the registry refuses
//! for its content, say a NUL byte PostgreSQL will not store) is moved to `outbox/refused/`
//! by the uploader, so it never blocks the others; `skillopt status` counts both directories.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::fsutil::{count_files, move_aside, read_json, safe_component, write_json};
use crate::{io_err, Paths, Result};

/// One queued event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub key: String,
    /// `attribution` | `outcome`.
    pub kind: String,
    pub created_at: String,
    pub payload: Value,
}

fn path_of(paths: &Paths, key: &str) -> PathBuf {
    paths
        .outbox_dir()
        .join(format!("{}.json", safe_component(key)))
}

/// Queues (or replaces) an event.
pub fn put(paths: &Paths, event: &Event) -> Result<()> {
    write_json(&path_of(paths, &event.key), event)
}

/// What the outbox holds: the events that parse, oldest first, and the files that do not.
#[derive(Debug, Default)]
pub struct Scan {
    pub events: Vec<Event>,
    /// `*.json` files that cannot be read as an event (torn, corrupt, unreadable).
    pub unreadable: Vec<PathBuf>,
}

fn json_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_err(dir)(e)),
    };
    Ok(rd
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect())
}

/// Every waiting event file, parsed or not.
pub fn scan(paths: &Paths) -> Result<Scan> {
    let mut scan = Scan::default();
    for p in json_files(&paths.outbox_dir())? {
        match read_json::<Event>(&p) {
            Ok(Some(e)) => scan.events.push(e),
            Ok(None) => {}
            Err(_) => scan.unreadable.push(p),
        }
    }
    scan.events
        .sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.key.cmp(&b.key)));
    scan.unreadable.sort();
    Ok(scan)
}

/// All queued events, oldest first. Unreadable files are skipped here (see [`scan`]).
pub fn list(paths: &Paths) -> Result<Vec<Event>> {
    Ok(scan(paths)?.events)
}

/// Event files waiting for the registry, unreadable ones included.
pub fn waiting(paths: &Paths) -> Result<usize> {
    Ok(json_files(&paths.outbox_dir())?.len())
}

/// Where events that can never be uploaded are kept.
pub fn refused_dir(paths: &Paths) -> PathBuf {
    paths.outbox_dir().join("refused")
}

/// Events moved aside as never uploadable.
pub fn refused(paths: &Paths) -> Result<usize> {
    count_files(&refused_dir(paths))
}

/// Moves an event that can never be uploaded to `outbox/refused/`; returns where it went.
pub fn move_aside_key(paths: &Paths, key: &str) -> Result<Option<PathBuf>> {
    move_aside(&path_of(paths, key), &refused_dir(paths))
}

/// Moves an unreadable outbox file to `outbox/refused/`; returns where it went.
pub fn move_aside_file(paths: &Paths, file: &Path) -> Result<Option<PathBuf>> {
    move_aside(file, &refused_dir(paths))
}

/// Removes an uploaded event.
pub fn remove(paths: &Paths, key: &str) -> Result<()> {
    let p = path_of(paths, key);
    match std::fs::remove_file(&p) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io_err(&p)(e)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(d: &Path) -> Paths {
        Paths {
            home: d.into(),
            state_dir: d.join("state"),
            data_dir: d.join("data"),
            claude_dir: d.join("claude"),
            codex_home: d.join("codex"),
            claude_skills: d.join("claude/skills"),
            codex_skills: d.join("agents/skills"),
        }
    }

    #[test]
    fn unreadable_events_are_counted_and_moved_aside() {
        let d = tempfile::tempdir().unwrap();
        let p = paths(d.path());
        for k in ["a", "b"] {
            put(
                &p,
                &Event {
                    key: k.into(),
                    kind: "outcome".into(),
                    created_at: "2020".into(),
                    payload: Value::Null,
                },
            )
            .unwrap();
        }
        std::fs::write(p.outbox_dir().join("torn.json"), b"{\"key\":").unwrap();
        let s = scan(&p).unwrap();
        assert_eq!((s.events.len(), s.unreadable.len()), (2, 1));
        assert_eq!(waiting(&p).unwrap(), 3);
        move_aside_file(&p, &s.unreadable[0]).unwrap();
        move_aside_key(&p, "a").unwrap();
        assert_eq!((waiting(&p).unwrap(), refused(&p).unwrap()), (1, 2));
        assert_eq!(list(&p).unwrap()[0].key, "b");
    }
}
