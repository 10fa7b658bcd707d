//! skillopt's local state directory.
//!
//! Layout (under [`Paths::state_dir`], dirs 0700, files 0600):
//! ```text
//! manifest.json                    installed org skills (ref, version, paths, sha256)
//! sessions/<sid>/attribution.json  org skills + versions a session had, its bucket
//! sessions/<sid>/pending.json      the open judgment window of a session
//! sessions/<sid>/.lock             session lock (fs4)
//! jobs/{queued,running,done,failed}/<ulid>.json   the durable job queue
//! jobs/corrupt/<ulid>.json         job files that do not parse, moved aside (never run)
//! outbox/<key>.json                events waiting for the registry
//! outbox/refused/<key>.json        events the registry refused for good, moved aside
//! sync.json                        when the last sync ran / was requested
//! agent-calls/<YYYY-MM-DD>.jsonl   this machine's agent calls per UTC day (budget, stats)
//! agent-health.json                the agent circuit breaker (consecutive errors, open until)
//! locks/*.lock                     per-skill install and pipeline locks
//! log/hooks.log, log/worker.log    hook errors (hooks never print), the detached worker's log
//! ```
//! Every write is atomic (temp file + rename); every read-modify-write of a shared file happens
//! under an fs4 lock.

pub mod agent_ledger;
pub mod attribution;
pub mod fsutil;
pub mod jobs;
pub mod log;
pub mod machine;
pub mod manifest;
pub mod outbox;
pub mod paths;
pub mod pending;
pub mod pull_mark;
pub mod success_windows;
pub mod sync_marker;

pub use fsutil::{write_atomic, FileLock};
pub use paths::Paths;

/// Errors of the state store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    #[error("{path}: {source}")]
    Io {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: corrupt JSON: {source}")]
    Corrupt {
        path: std::path::PathBuf,
        #[source]
        source: serde_json::Error,
    },
    /// A value that cannot be written as JSON (a map with non-string keys, say).
    #[error("{path}: cannot encode JSON: {source}")]
    Encode {
        path: std::path::PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("timed out waiting for lock {0}")]
    LockTimeout(std::path::PathBuf),
    #[error("cannot find a home directory (set HOME or SKILLOPT_STATE_DIR)")]
    NoHome,
    #[error("job {0} not found")]
    NoJob(String),
    /// A job file that does not parse; it was moved to `moved_to` and will not run.
    #[error("job {id} is corrupt and was moved to {moved_to}: {defect}")]
    CorruptJob {
        id: String,
        moved_to: std::path::PathBuf,
        #[source]
        defect: JobDefect,
    },
    /// The running job was re-queued by a stale-job sweep (or finished by someone else) while
    /// this worker ran it; this worker's result is not recorded.
    #[error("job {0} is no longer ours (its heartbeat went stale and it was re-queued)")]
    LostJob(String),
}

/// What is wrong with a job file moved aside as corrupt.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JobDefect {
    /// It does not parse as a job.
    #[error("{0}")]
    Json(#[source] serde_json::Error),
    /// It parses, but its record names another job.
    #[error("its record names job {0:?}")]
    WrongId(String),
}

/// Result alias of the state store.
pub type Result<T, E = StateError> = std::result::Result<T, E>;

pub(crate) fn io_err(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> StateError + '_ {
    move |source| StateError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Current time as RFC 3339 UTC with millisecond precision.
pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
