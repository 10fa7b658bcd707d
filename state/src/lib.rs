//! skillopt's local state directory.
//!
//! Layout (under [`Paths::state_dir`], dirs 0700, files 0600):
//! ```text
//! manifest.json                    installed org skills (ref, version, paths, sha256)
//! sessions/<sid>/attribution.json  org skills + versions a session had, its bucket
//! sessions/<sid>/pending.json      the open judgment window of a session
//! sessions/<sid>/.lock             session lock (fs4)
//! jobs/{queued,running,done,failed}/<ulid>.json   the durable job queue
//! outbox/<key>.json                events waiting for the registry
//! sync.json                        when the last sync ran / was requested
//! locks/*.lock                     per-skill install and pipeline locks
//! log/hooks.log, log/worker.log    hook errors (hooks never print), the detached worker's log
//! ```
//! Every write is atomic (temp file + rename); every read-modify-write of a shared file happens
//! under an fs4 lock.

pub mod attribution;
pub mod fsutil;
pub mod jobs;
pub mod log;
pub mod manifest;
pub mod outbox;
pub mod paths;
pub mod pending;
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
    #[error("{path}: corrupt JSON: {message}")]
    Corrupt {
        path: std::path::PathBuf,
        message: String,
    },
    #[error("timed out waiting for lock {0}")]
    LockTimeout(std::path::PathBuf),
    #[error("cannot find a home directory (set HOME or SKILLOPT_STATE_DIR)")]
    NoHome,
    #[error("job {0} not found")]
    NoJob(String),
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
