//! Why a hook did nothing: every cause kept as a typed error with its source, written to
//! `hooks.log` as one line (the `Display` of the error and its chain), never shown to the agent.

use std::error::Error as _;
use std::path::PathBuf;

use skillopt_shared::config::MAX_STDIN_BYTES;
use skillopt_shared::payload::PayloadError;
use skillopt_state::StateError;

/// A hook's failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HookError {
    /// stdin held more than the cap; nothing past it was read.
    #[error("payload larger than {MAX_STDIN_BYTES} bytes ignored")]
    PayloadTooLarge,
    /// stdin was not a hook payload.
    #[error(transparent)]
    Payload(#[from] PayloadError),
    /// The payload lacks a field this hook needs.
    #[error("{context}payload without {field}")]
    MissingField {
        /// `SessionStart ` or empty: a prefix naming the event.
        context: &'static str,
        field: &'static str,
    },
    /// `--agent` named an agent skillopt does not know.
    #[error("unknown --agent {0:?}; guessing from the payload")]
    UnknownAgent(String),
    /// Reading or writing the state directory failed.
    #[error(transparent)]
    State(#[from] StateError),
    /// No worker binary to hand the job to.
    #[error("no skillopt worker binary found (job stays queued)")]
    NoWorker,
    /// Starting the worker failed.
    #[error("spawning {}: {source} (job stays queued)", bin.display())]
    Spawn {
        bin: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// What a hook body returns: `Err` is logged, never shown.
pub type HookResult<T = ()> = Result<T, HookError>;

impl HookError {
    /// The `hooks.log` line: the error, then each source its message does not already show.
    pub fn log_line(&self) -> String {
        let mut line = self.to_string();
        let mut source = self.source();
        while let Some(s) = source {
            let msg = s.to_string();
            if !line.contains(&msg) {
                line.push_str(": ");
                line.push_str(&msg);
            }
            source = s.source();
        }
        line
    }
}
