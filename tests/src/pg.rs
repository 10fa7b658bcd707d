//! PostgreSQL registries for tests: each test gets a fresh schema in the database named by
//! `SKILLOPT_TEST_POSTGRES_URL`, and the schema is dropped when the test ends.
//!
//! [`schema`] returns a [`PgSchema`] guard; its `Drop` runs `DROP SCHEMA … CASCADE` (also when
//! the test panics: the guard is dropped while unwinding). A run that was killed leaves its
//! schemas behind, so the first schema of every test process first sweeps leftovers:
//!
//! * ours, `t_<unix secs>_<pid>_<n>`: created before this run by a process that no longer runs
//!   on this machine, or more than [`MAX_AGE_OURS`] ago whatever the process;
//! * the harness's older names, `t_<pid>_<n>`: the process no longer runs;
//! * the worker's registry conformance tests, `t_<ulid>`: the ULID's time is more than
//!   [`MAX_AGE_ULID`] ago (those tests take seconds).
//!
//! A schema of a test process that is still running (another `cargo test` at the same time,
//! another test of this process) is never swept, so parallel tests and parallel runs are safe.
//! Any other `t_…` name is left alone.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Ours are swept after this long even when their process seems to run (a reused pid, or a
/// run on another machine sharing the database).
pub const MAX_AGE_OURS: Duration = Duration::from_secs(6 * 3600);
/// The worker's conformance schemas are swept after this long.
pub const MAX_AGE_ULID: Duration = Duration::from_secs(3600);

/// A fresh schema in the test database, dropped on `Drop`.
#[derive(Debug)]
pub struct PgSchema {
    base: String,
    schema: String,
    url: String,
}

impl PgSchema {
    /// The registry URL (`<base>?schema=<name>`) to hand to `SKILLOPT_REGISTRY`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The schema's name (`[a-z0-9_]`, safe to splice into SQL).
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// A connection to the test database (not scoped to the schema).
    pub fn client(&self) -> postgres::Client {
        connect(&self.base).unwrap_or_else(|e| panic!("cannot connect to PostgreSQL: {e}"))
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        // Never panic here: this may run while a failed test unwinds.
        let dropped = connect(&self.base).and_then(|mut c| {
            c.batch_execute(&format!(
                "SET lock_timeout = '10s'; DROP SCHEMA IF EXISTS {} CASCADE",
                self.schema
            ))
        });
        if let Err(e) = dropped {
            eprintln!("could not drop test schema {}: {e}", self.schema);
        }
    }
}

fn connect(base: &str) -> Result<postgres::Client, postgres::Error> {
    let mut config: postgres::Config = base.parse()?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(10));
    }
    config.connect(postgres::NoTls)
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Whether a process runs on this machine (`/proc/<pid>` exists). Without `/proc` every
/// process counts as running, so only the age rule sweeps.
fn running(pid: u32) -> bool {
    let proc = std::path::Path::new("/proc");
    !proc.is_dir() || proc.join(pid.to_string()).exists()
}

/// Crockford base32 milliseconds of a ULID's first 10 characters.
fn ulid_millis(s: &str) -> Option<u64> {
    const ALPHABET: &[u8] = b"0123456789abcdefghjkmnpqrstvwxyz";
    if s.len() != 26 {
        return None;
    }
    let mut ms = 0u64;
    for b in s[..10].bytes() {
        let d = ALPHABET.iter().position(|&a| a == b.to_ascii_lowercase())?;
        ms = ms.checked_mul(32)?.checked_add(d as u64)?;
    }
    s[10..]
        .bytes()
        .all(|b| ALPHABET.contains(&b.to_ascii_lowercase()))
        .then_some(ms)
}

/// Whether the leftover schema `name` may be dropped by a run that started at `run_start`
/// (unix seconds), `now` being the time now; `running` tells whether a pid still runs.
pub fn is_stale(name: &str, run_start: u64, now: u64, running: impl Fn(u32) -> bool) -> bool {
    let Some(rest) = name.strip_prefix("t_") else {
        return false;
    };
    let parts: Vec<&str> = rest.split('_').collect();
    let num = |s: &str| -> Option<u64> {
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    match parts.as_slice() {
        [secs, pid, n] if num(n).is_some() => match (num(secs), num(pid)) {
            (Some(secs), Some(pid)) => {
                let pid = u32::try_from(pid).unwrap_or(u32::MAX);
                now.saturating_sub(secs) > MAX_AGE_OURS.as_secs()
                    || (secs <= run_start && pid != std::process::id() && !running(pid))
            }
            _ => false,
        },
        [pid, n] if num(n).is_some() => match num(pid).and_then(|p| u32::try_from(p).ok()) {
            Some(pid) => pid != std::process::id() && !running(pid),
            None => false,
        },
        [ulid] => match ulid_millis(ulid) {
            Some(ms) => now.saturating_sub(ms / 1000) > MAX_AGE_ULID.as_secs(),
            None => false,
        },
        _ => false,
    }
}

/// Drops every stale leftover `t_…` schema (see the module doc). Errors are printed, not fatal.
fn sweep(base: &str, run_start: u64) {
    let swept = connect(base).and_then(|mut c| {
        let names: Vec<String> = c
            .query(
                "SELECT nspname FROM pg_namespace WHERE nspname LIKE 't\\_%'",
                &[],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let mut n = 0;
        for name in names {
            if is_stale(&name, run_start, now_secs(), running)
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            {
                let _ = c.batch_execute(&format!(
                    "SET lock_timeout = '5s'; DROP SCHEMA IF EXISTS {name} CASCADE"
                ));
                n += 1;
            }
        }
        Ok(n)
    });
    match swept {
        Ok(0) => {}
        Ok(n) => eprintln!("dropped {n} leftover test schema(s)"),
        Err(e) => eprintln!("could not sweep leftover test schemas: {e}"),
    }
}

/// A fresh schema in `SKILLOPT_TEST_POSTGRES_URL`'s database, or `None` (with a message) when
/// that variable is unset. The first call of the process sweeps stale leftovers first.
pub fn schema() -> Option<PgSchema> {
    let Some(base) = std::env::var("SKILLOPT_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        eprintln!("skipped: PostgreSQL case (set SKILLOPT_TEST_POSTGRES_URL)");
        return None;
    };
    static RUN_START: OnceLock<u64> = OnceLock::new();
    let run_start = *RUN_START.get_or_init(|| {
        let t = now_secs();
        sweep(&base, t);
        t
    });
    static N: AtomicU64 = AtomicU64::new(0);
    let schema = format!(
        "t_{}_{}_{}",
        now_secs().max(run_start),
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{sep}schema={schema}");
    Some(PgSchema { base, schema, url })
}

#[cfg(test)]
mod tests {
    use super::*;

    const START: u64 = 1_800_000_000;

    #[test]
    fn only_leftovers_of_finished_or_ancient_runs_are_stale() {
        let me = std::process::id();
        let dead = |_: u32| false;
        let alive = |_: u32| true;
        // Ours: an earlier run whose process is gone.
        assert!(is_stale("t_1799999000_4242_0", START, START, dead));
        // A parallel run that still runs, however early it started (within the age limit).
        assert!(!is_stale("t_1799999000_4242_0", START, START, alive));
        // Made after this run started (a later run): never, even with its pid gone.
        assert!(!is_stale("t_1800000005_4242_3", START, START + 10, dead));
        // This process's own schemas: never by the pid rule.
        assert!(!is_stale(&format!("t_{START}_{me}_1"), START, START, dead));
        // Ancient: swept even when the pid seems to run (reused).
        assert!(is_stale("t_1700000000_4242_0", START, START, alive));
        // The older harness names: by pid only.
        assert!(is_stale("t_30110_1795774614550279043", START, START, dead));
        assert!(!is_stale(
            "t_30110_1795774614550279043",
            START,
            START,
            alive
        ));
        // The worker's conformance schemas: by the ULID's time.
        let ulid_at = |ms: u64| {
            const A: &[u8] = b"0123456789abcdefghjkmnpqrstvwxyz";
            let mut t: String = (0..10)
                .rev()
                .map(|i| A[((ms >> (5 * i)) & 31) as usize] as char)
                .collect();
            t.push_str("9x9gfca87xn4hp8q");
            format!("t_{t}")
        };
        assert!(is_stale(
            &ulid_at((START - 7200) * 1000),
            START,
            START,
            alive
        ));
        assert!(!is_stale(&ulid_at((START - 60) * 1000), START, START, dead));
        // Anything else is not ours to drop.
        for other in ["t_users", "tmp", "t_", "t_1_2_3_4", "t_abc_12", "public"] {
            assert!(!is_stale(other, START, START, dead), "{other}");
        }
    }
}
