//! The outbox: events for the registry, kept on disk until an upload succeeds.
//!
//! One file per event, `outbox/<key>.json`. The key is the event's natural identity
//! (`attribution-<session_hash>`, `outcome-<job_id>`), so re-recording an event overwrites it
//! instead of duplicating it, and the registry's unique keys make a retried upload a no-op.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::fsutil::{read_json, safe_component, write_json};
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

/// All queued events, oldest first. Unreadable files are skipped (and left for inspection).
pub fn list(paths: &Paths) -> Result<Vec<Event>> {
    let dir = paths.outbox_dir();
    let rd = match std::fs::read_dir(&dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_err(&dir)(e)),
    };
    let mut events: Vec<Event> = rd
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .filter_map(|e| read_json::<Event>(&e.path()).ok().flatten())
        .collect();
    events.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.key.cmp(&b.key)));
    Ok(events)
}

/// Removes an uploaded event.
pub fn remove(paths: &Paths, key: &str) -> Result<()> {
    let p = path_of(paths, key);
    match std::fs::remove_file(&p) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io_err(&p)(e)),
        _ => Ok(()),
    }
}
