//! The per-machine agent call ledger: `agent-calls/<YYYY-MM-DD>.jsonl` under the state dir, one
//! JSON line per agent CLI call this machine made (judge, proposer, verifier), filed by its UTC
//! day. It is what the daily budget counts ([`calls_on`]) and what `skillopt stats` sums
//! ([`records_since`], [`Totals`]).
//!
//! Appends happen under `agent-calls/.lock`, one `write` of a whole line to a file opened
//! `O_APPEND | O_NOFOLLOW | O_NONBLOCK` (never a link, FIFO or device planted under a day's
//! name). A line torn by a crash is skipped by readers, and the next append starts on a fresh
//! line so it never glues onto the torn one; the budget still counts it (a call was made).
//! Lines are not fsynced: after a power cut the worst case is a few calls missing from the
//! count. Day files older than [`KEEP_DAYS`] are deleted on append.
//!
//! The circuit breaker's state (`agent-health.json`) is in [`health`].

pub mod health;

use std::fs::OpenOptions;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::fsutil::{ensure_dir, read_regular, FileLock, Unreadable, MAX_STATE_FILE_BYTES};
use crate::{io_err, Paths, Result, StateError};

/// Day files kept: a month of history for `stats`, plus a few days of slack.
pub const KEEP_DAYS: i64 = 35;
/// Longest text kept in a record field (an error message, a model name): the ledger stays
/// small whatever an agent CLI printed.
const MAX_FIELD_CHARS: usize = 300;

/// One agent call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallRecord {
    /// When the call ended.
    pub at: DateTime<Utc>,
    /// The UTC day it counts against.
    pub day: NaiveDate,
    /// `judge`, `proposer`, `verifier`.
    pub role: String,
    /// The agent CLI (`claude`, `codex`, …).
    pub agent: String,
    #[serde(default)]
    pub model: Option<String>,
    /// The skill's directory name (`name--author`), when the call was for a job.
    #[serde(default)]
    pub skill: Option<String>,
    #[serde(default)]
    pub job_id: Option<String>,
    pub ok: bool,
    /// Why the call failed (shortened).
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub input_tokens: Option<u64>,
    #[serde(default)]
    pub output_tokens: Option<u64>,
    #[serde(default)]
    pub cost_usd: Option<f64>,
    #[serde(default)]
    pub duration_ms: u64,
}

impl CallRecord {
    /// Caps every free-text field at [`MAX_FIELD_CHARS`].
    fn capped(&self) -> Self {
        let cap = |s: &Option<String>| {
            s.as_deref()
                .map(|s| s.chars().take(MAX_FIELD_CHARS).collect())
        };
        Self {
            role: self.role.chars().take(MAX_FIELD_CHARS).collect(),
            agent: self.agent.chars().take(MAX_FIELD_CHARS).collect(),
            model: cap(&self.model),
            skill: cap(&self.skill),
            job_id: cap(&self.job_id),
            error: cap(&self.error),
            ..self.clone()
        }
    }
}

/// The ledger's directory.
pub fn dir(paths: &Paths) -> PathBuf {
    paths.state_dir.join("agent-calls")
}

fn day_file(dir: &Path, day: NaiveDate) -> PathBuf {
    dir.join(format!("{}.jsonl", day.format("%Y-%m-%d")))
}

/// The UTC day of a time.
pub fn day_of(t: DateTime<Utc>) -> NaiveDate {
    t.date_naive()
}

/// Appends one record to its day's file, then deletes day files older than [`KEEP_DAYS`].
pub fn append(paths: &Paths, record: &CallRecord) -> Result<()> {
    let dir = dir(paths);
    ensure_dir(&dir)?;
    let _lock = FileLock::acquire(&dir.join(".lock"))?;
    let path = day_file(&dir, record.day);
    let mut line = serde_json::to_vec(&record.capped()).map_err(|source| StateError::Encode {
        path: path.clone(),
        source,
    })?;
    line.push(b'\n');
    let mut file = OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(&path)
        .map_err(io_err(&path))?;
    let meta = file.metadata().map_err(io_err(&path))?;
    if !meta.is_file() {
        return Err(io_err(&path)(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            Unreadable::NotRegular,
        )));
    }
    if meta.len() > 0 {
        // A line torn by a crash: start on a fresh line.
        let mut last = [0u8; 1];
        file.seek(SeekFrom::End(-1)).map_err(io_err(&path))?;
        file.read_exact(&mut last).map_err(io_err(&path))?;
        if last[0] != b'\n' {
            line.insert(0, b'\n');
        }
    }
    file.write_all(&line).map_err(io_err(&path))?;
    // A failed prune is retried on the next append.
    let _ = prune(&dir, record.day);
    Ok(())
}

/// Deletes day files more than [`KEEP_DAYS`] before `today` (other names are left alone).
fn prune(dir: &Path, today: NaiveDate) -> Result<()> {
    let oldest = today - chrono::Duration::days(KEEP_DAYS);
    for e in std::fs::read_dir(dir).map_err(io_err(dir))?.flatten() {
        let name = e.file_name();
        let Some(day) = name
            .to_str()
            .and_then(|n| n.strip_suffix(".jsonl"))
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        else {
            continue;
        };
        if day < oldest {
            let _ = std::fs::remove_file(e.path());
        }
    }
    Ok(())
}

/// A day file's bytes (none when missing). One that is not a regular file or is over
/// [`MAX_STATE_FILE_BYTES`] is an error: the budget cannot be known.
fn read_day(dir: &Path, day: NaiveDate) -> Result<Vec<u8>> {
    let path = day_file(dir, day);
    match read_regular(&path, MAX_STATE_FILE_BYTES) {
        Ok(b) => Ok(b.unwrap_or_default()),
        Err(e) => Err(io_err(&path)(e)),
    }
}

/// Calls made on `day`: every non-empty line, a torn or unreadable one included.
pub fn calls_on(paths: &Paths, day: NaiveDate) -> Result<u32> {
    let bytes = read_day(&dir(paths), day)?;
    let n = bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
        .count();
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

/// Every readable record from `from` up to `to` (inclusive), oldest day first. Lines that do
/// not parse are skipped; a day file that cannot be read is skipped too.
pub fn records_between(paths: &Paths, from: NaiveDate, to: NaiveDate) -> Vec<CallRecord> {
    let dir = dir(paths);
    let mut out = Vec::new();
    let mut day = from;
    while day <= to {
        if let Ok(bytes) = read_day(&dir, day) {
            out.extend(
                bytes
                    .split(|b| *b == b'\n')
                    .filter_map(|l| serde_json::from_slice::<CallRecord>(l).ok()),
            );
        }
        let Some(next) = day.succ_opt() else { break };
        day = next;
    }
    out
}

/// Every readable record of the days kept, up to `today`.
pub fn records_since(paths: &Paths, today: NaiveDate) -> Vec<CallRecord> {
    records_between(paths, today - chrono::Duration::days(KEEP_DAYS), today)
}

/// Sums over some records. Tokens and cost stay `None` until a call reports them.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Totals {
    pub calls: u64,
    pub errors: u64,
    pub input_tokens: Option<u64>,
    pub output_tokens: Option<u64>,
    pub cost_usd: Option<f64>,
}

impl Totals {
    /// Adds one record.
    pub fn add(&mut self, r: &CallRecord) {
        fn sum(a: Option<u64>, b: Option<u64>) -> Option<u64> {
            match (a, b) {
                (Some(a), Some(b)) => Some(a.saturating_add(b)),
                (a, b) => a.or(b),
            }
        }
        self.calls += 1;
        self.errors += u64::from(!r.ok);
        self.input_tokens = sum(self.input_tokens, r.input_tokens);
        self.output_tokens = sum(self.output_tokens, r.output_tokens);
        let cost = r.cost_usd.filter(|c| c.is_finite() && *c >= 0.0);
        self.cost_usd = match (self.cost_usd, cost) {
            (Some(a), Some(b)) => Some(a + b),
            (a, b) => a.or(b),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(day: NaiveDate, skill: &str, ok: bool, cost: Option<f64>) -> CallRecord {
        CallRecord {
            at: Utc::now(),
            day,
            role: "judge".into(),
            agent: "claude".into(),
            model: Some("haiku".into()),
            skill: Some(skill.into()),
            job_id: Some("01J".into()),
            ok,
            error: (!ok).then(|| "x".repeat(5000)),
            input_tokens: Some(10),
            output_tokens: Some(3),
            cost_usd: cost,
            duration_ms: 5,
        }
    }

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn appends_count_per_day_and_read_back() {
        let d = tempfile::tempdir().unwrap();
        let paths = Paths::under(d.path());
        let today = day("2026-11-21");
        assert_eq!(calls_on(&paths, today).unwrap(), 0);
        append(&paths, &rec(today, "a--x", true, Some(0.5))).unwrap();
        append(&paths, &rec(today, "b--x", false, None)).unwrap();
        append(&paths, &rec(day("2026-11-20"), "a--x", true, Some(0.25))).unwrap();
        assert_eq!(calls_on(&paths, today).unwrap(), 2);
        assert_eq!(calls_on(&paths, day("2026-11-20")).unwrap(), 1);
        let all = records_since(&paths, today);
        assert_eq!(all.len(), 3);
        assert_eq!(all[0].day, day("2026-11-20"), "oldest day first");
        let err = all.iter().find(|r| !r.ok).unwrap();
        assert_eq!(err.error.as_ref().unwrap().chars().count(), MAX_FIELD_CHARS);
        let mut t = Totals::default();
        all.iter().for_each(|r| t.add(r));
        assert_eq!(
            t,
            Totals {
                calls: 3,
                errors: 1,
                input_tokens: Some(30),
                output_tokens: Some(9),
                cost_usd: Some(0.75),
            }
        );
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(day_file(&dir(&paths), today))
                .unwrap()
                .permissions(),
        );
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn a_torn_line_still_counts_and_never_swallows_the_next() {
        let d = tempfile::tempdir().unwrap();
        let paths = Paths::under(d.path());
        let today = day("2026-11-21");
        append(&paths, &rec(today, "a--x", true, None)).unwrap();
        let f = day_file(&dir(&paths), today);
        let mut text = std::fs::read(&f).unwrap();
        text.extend_from_slice(br#"{"at":"2026-11-21T10:00:00Z","da"#);
        std::fs::write(&f, text).unwrap();
        append(&paths, &rec(today, "a--x", true, None)).unwrap();
        assert_eq!(calls_on(&paths, today).unwrap(), 3, "the torn call counts");
        assert_eq!(
            records_since(&paths, today).len(),
            2,
            "both whole lines parse"
        );
    }

    #[test]
    fn old_days_are_pruned_and_hostile_files_refused() {
        let d = tempfile::tempdir().unwrap();
        let paths = Paths::under(d.path());
        let today = day("2026-11-21");
        let dir = dir(&paths);
        ensure_dir(&dir).unwrap();
        std::fs::write(day_file(&dir, day("2026-09-01")), "{}\n").unwrap();
        std::fs::write(day_file(&dir, day("2026-11-01")), "{}\n").unwrap();
        std::fs::write(dir.join("notes.txt"), "keep").unwrap();
        append(&paths, &rec(today, "a--x", true, None)).unwrap();
        assert!(!day_file(&dir, day("2026-09-01")).exists());
        assert!(day_file(&dir, day("2026-11-01")).exists());
        assert!(dir.join("notes.txt").exists());
        // A link planted under tomorrow's name is neither followed for writing nor reading.
        let tomorrow = day("2026-11-22");
        std::os::unix::fs::symlink("/dev/zero", day_file(&dir, tomorrow)).unwrap();
        assert!(append(&paths, &rec(tomorrow, "a--x", true, None)).is_err());
        assert!(calls_on(&paths, tomorrow).is_err());
    }

    #[test]
    fn totals_ignore_nonsense_costs() {
        let mut t = Totals::default();
        t.add(&rec(day("2026-11-21"), "a--x", true, Some(f64::NAN)));
        t.add(&rec(day("2026-11-21"), "a--x", true, Some(-1.0)));
        assert_eq!(t.cost_usd, None);
        t.add(&rec(day("2026-11-21"), "a--x", true, Some(0.1)));
        assert_eq!(t.cost_usd, Some(0.1));
    }
}
