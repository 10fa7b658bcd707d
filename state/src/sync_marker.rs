//! `sync.json`: when the last successful sync ran and when one was last requested, so that
//! SessionStart asks for a sync at most once per interval. A time in the future (a clock that
//! was wrong, a copied state dir, a hand edit) counts as long ago: it must never stop syncs.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::fsutil::{read_json, write_json, write_json_with, Durability, FileLock};
use crate::{Paths, Result};

/// The marker file.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SyncMarker {
    pub last_sync_at: Option<DateTime<Utc>>,
    pub last_request_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

/// Loads the marker (default when missing or unreadable).
pub fn load(paths: &Paths) -> SyncMarker {
    read_json(&paths.sync_marker())
        .ok()
        .flatten()
        .unwrap_or_default()
}

fn older_than(t: Option<DateTime<Utc>>, interval: Duration) -> bool {
    match t {
        None => true,
        // A negative age (a time in the future) does not convert: it is due.
        Some(t) => (Utc::now() - t)
            .to_std()
            .map(|d| d >= interval)
            .unwrap_or(true),
    }
}

/// True (and the request recorded) when both the last sync and the last request are older than
/// `interval`. Runs under a lock so concurrent SessionStarts request one sync, not many.
pub fn claim_request(paths: &Paths, interval: Duration) -> Result<bool> {
    let due = |m: &SyncMarker| {
        older_than(m.last_sync_at, interval) && older_than(m.last_request_at, interval)
    };
    // The common case (a fresh marker) needs no lock: the file is replaced atomically.
    if !due(&load(paths)) {
        return Ok(false);
    }
    let _lock = FileLock::acquire(&paths.state_dir.join(".sync.lock"))?;
    let mut m = load(paths);
    if !due(&m) {
        return Ok(false);
    }
    m.last_request_at = Some(Utc::now());
    write_json_with(&paths.sync_marker(), &m, Durability::Recoverable)?;
    Ok(true)
}

/// Records a finished sync.
pub fn record_sync(paths: &Paths, error: Option<String>) -> Result<()> {
    let _lock = FileLock::acquire(&paths.state_dir.join(".sync.lock"))?;
    let mut m = load(paths);
    if error.is_none() {
        m.last_sync_at = Some(Utc::now());
    }
    m.last_error = error;
    write_json(&paths.sync_marker(), &m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_marker_in_the_future_does_not_stop_syncs() {
        let hour = Duration::from_secs(3600);
        let future = Utc::now() + chrono::Duration::days(365 * 900);
        assert!(older_than(Some(future), hour));
        assert!(older_than(None, hour));
        assert!(!older_than(Some(Utc::now()), hour));
        assert!(older_than(
            Some(Utc::now() - chrono::Duration::hours(2)),
            hour
        ));
    }
}
