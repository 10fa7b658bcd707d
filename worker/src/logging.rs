//! tracing setup: warnings to stderr for interactive use; when running detached
//! (`SKILLOPT_WORKER=1`, stderr is /dev/null) to `<state>/log/worker.log`. `SKILLOPT_LOG` sets
//! the filter (default `warn`, `info` for the detached worker).

use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt;
use std::sync::Mutex;

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. Never fails: logging is best effort.
pub fn init() {
    let detached = skillopt_shared::config::env_flag("SKILLOPT_WORKER");
    let default = if detached { "info" } else { "warn" };
    let filter =
        EnvFilter::try_from_env("SKILLOPT_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    if detached {
        if let Ok(paths) = skillopt_state::Paths::from_env() {
            let dir = paths.log_dir();
            if skillopt_state::fsutil::ensure_dir(&dir).is_ok() {
                if let Ok(file) = OpenOptions::new()
                    .create(true)
                    .append(true)
                    .mode(0o600)
                    .open(dir.join("worker.log"))
                {
                    let _ = tracing_subscriber::fmt()
                        .with_env_filter(filter)
                        .with_ansi(false)
                        .with_writer(Mutex::new(file))
                        .try_init();
                    return;
                }
            }
        }
    }
    // Colours only for a terminal: a log redirected to a file (a server's) stays greppable.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .without_time()
        .with_target(false)
        .try_init();
}
