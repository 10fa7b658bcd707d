//! The hook log: hooks never print, so their errors are appended here (one line each).

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;

use crate::Paths;

/// Largest log before it is rotated to `hooks.log.1`.
const MAX_LOG_BYTES: u64 = 1024 * 1024;

/// Appends `"<time> <hook>: <message>"` to `log/hooks.log`. Best effort: never fails.
pub fn hook_error(paths: &Paths, hook: &str, message: &str) {
    let dir = paths.log_dir();
    if crate::fsutil::ensure_dir(&dir).is_err() {
        return;
    }
    let path = dir.join("hooks.log");
    if std::fs::metadata(&path)
        .map(|m| m.len() > MAX_LOG_BYTES)
        .unwrap_or(false)
    {
        let _ = std::fs::rename(&path, dir.join("hooks.log.1"));
    }
    let line = format!(
        "{} {hook}: {}\n",
        crate::now_rfc3339(),
        message.replace('\n', " ")
    );
    if let Ok(mut f) = OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(&path)
    {
        let _ = f.write_all(line.as_bytes());
    }
}
