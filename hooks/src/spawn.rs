//! Starting the detached worker: `skillopt worker run --job <id>` in a new session, stdio to
//! /dev/null (an inherited stdout would make the agent wait for EOF), never waited for.
//!
//! The worker binary is the `skillopt` next to the hook binary, else `SKILLOPT_WORKER_BIN`, else
//! `skillopt` on PATH. If the spawn fails the job stays queued for the next spawn or
//! `skillopt worker drain`.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::{HookError, HookResult};

/// Finds the worker binary.
pub fn worker_bin() -> Option<PathBuf> {
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(PathBuf::from))
    {
        let next = dir.join("skillopt");
        if next.is_file() {
            return Some(next);
        }
    }
    if let Some(bin) = std::env::var_os("SKILLOPT_WORKER_BIN").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(bin));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("skillopt"))
        .find(|p| p.is_file())
}

/// Spawns the worker for one job, detached.
#[allow(unsafe_code)]
pub fn spawn_worker(job_id: &str) -> HookResult {
    use std::os::unix::process::CommandExt;
    let bin = worker_bin().ok_or(HookError::NoWorker)?;
    let mut cmd = Command::new(&bin);
    cmd.args(["worker", "run", "--job", job_id])
        .env("SKILLOPT_WORKER", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // SAFETY: setsid is async-signal-safe and touches no memory of the parent; it only makes the
    // child a session leader so the agent's process group and terminal never reach it.
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    match cmd.spawn() {
        Ok(_) => Ok(()),
        Err(source) => Err(HookError::Spawn { bin, source }),
    }
}
