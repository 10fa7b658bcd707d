//! `agent-health.json`: the agent circuit breaker. After [`OPEN_AFTER_ERRORS`] agent calls in a
//! row fail, the circuit opens and no agent call is made for [`OPEN_FOR`]; a successful call
//! closes it and resets the count. When the pause is over one call is let through: it closes
//! the circuit if it succeeds and reopens it for another [`OPEN_FOR`] if it fails.
//!
//! Updated read-modify-write under `.agent-health.lock`, written atomically. A missing or
//! corrupt file is a closed circuit, and so is an `open_until` further ahead than [`OPEN_FOR`]
//! (a wrong clock or a hand edit must never stop agent calls for good).

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::fsutil::{read_json, write_json, FileLock};
use crate::{Paths, Result};

/// Consecutive failed agent calls that open the circuit.
pub const OPEN_AFTER_ERRORS: u32 = 5;
/// How long an open circuit stops agent calls.
pub const OPEN_FOR: Duration = Duration::from_secs(3600);
/// Longest error text kept.
const MAX_ERROR_CHARS: usize = 300;

/// The breaker's state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Health {
    #[serde(default)]
    pub consecutive_errors: u32,
    /// No agent call before this time.
    #[serde(default)]
    pub open_until: Option<DateTime<Utc>>,
    #[serde(default)]
    pub last_error: Option<String>,
    #[serde(default)]
    pub last_error_at: Option<DateTime<Utc>>,
}

impl Health {
    /// Until when the circuit is open at `now` (`None`: closed).
    pub fn open_at(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let until = self.open_until?;
        let longest = chrono::Duration::from_std(OPEN_FOR).ok()?;
        (until > now && until - now <= longest).then_some(until)
    }
}

fn file(paths: &Paths) -> std::path::PathBuf {
    paths.state_dir.join("agent-health.json")
}

/// The breaker's state (closed when missing or unreadable).
pub fn load(paths: &Paths) -> Health {
    read_json(&file(paths)).ok().flatten().unwrap_or_default()
}

/// Records how an agent call ended (`Err` carries why it failed) and returns the new state.
pub fn record(
    paths: &Paths,
    now: DateTime<Utc>,
    call: std::result::Result<(), &str>,
) -> Result<Health> {
    let _lock = FileLock::acquire(&paths.state_dir.join(".agent-health.lock"))?;
    let mut h = load(paths);
    match call {
        Ok(()) => h = Health::default(),
        Err(why) => {
            h.consecutive_errors = h.consecutive_errors.saturating_add(1);
            h.last_error = Some(why.chars().take(MAX_ERROR_CHARS).collect());
            h.last_error_at = Some(now);
            if h.consecutive_errors >= OPEN_AFTER_ERRORS {
                h.open_until = chrono::Duration::from_std(OPEN_FOR)
                    .ok()
                    .and_then(|d| now.checked_add_signed(d));
            }
        }
    }
    write_json(&file(paths), &h)?;
    Ok(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_errors_in_a_row_open_the_circuit_for_an_hour() {
        let d = tempfile::tempdir().unwrap();
        let paths = Paths::under(d.path());
        let t0 = Utc::now();
        for _ in 0..4 {
            let h = record(&paths, t0, Err("exit 1")).unwrap();
            assert_eq!(h.open_at(t0), None);
        }
        // A success in between resets the count.
        record(&paths, t0, Ok(())).unwrap();
        for _ in 0..4 {
            record(&paths, t0, Err("exit 1")).unwrap();
        }
        assert_eq!(load(&paths).open_at(t0), None);
        let h = record(&paths, t0, Err("timed out")).unwrap();
        assert_eq!(h.consecutive_errors, 5);
        assert_eq!(h.last_error.as_deref(), Some("timed out"));
        let until = load(&paths).open_at(t0).expect("open");
        assert_eq!(until, t0 + chrono::Duration::hours(1));
        assert!(load(&paths)
            .open_at(t0 + chrono::Duration::minutes(59))
            .is_some());
        // After the hour one call goes through; its failure reopens the circuit at once.
        let later = t0 + chrono::Duration::minutes(61);
        assert_eq!(load(&paths).open_at(later), None);
        let h = record(&paths, later, Err("exit 1")).unwrap();
        assert!(h.open_at(later).is_some());
        let h = record(&paths, later, Ok(())).unwrap();
        assert_eq!(h, Health::default());
    }

    #[test]
    fn a_corrupt_file_or_a_far_future_is_closed() {
        let d = tempfile::tempdir().unwrap();
        let paths = Paths::under(d.path());
        std::fs::create_dir_all(&paths.state_dir).unwrap();
        std::fs::write(file(&paths), "{not json").unwrap();
        assert_eq!(load(&paths), Health::default());
        let far = Health {
            consecutive_errors: 9,
            open_until: Some(Utc::now() + chrono::Duration::days(3650)),
            ..Health::default()
        };
        assert_eq!(far.open_at(Utc::now()), None);
        // A corrupt file is replaced by the next record.
        let h = record(&paths, Utc::now(), Err("boom")).unwrap();
        assert_eq!(h.consecutive_errors, 1);
        assert_eq!(load(&paths).consecutive_errors, 1);
    }
}
