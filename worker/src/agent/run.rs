//! Running one invocation: the whitelisted binary found on PATH, `SKILLOPT_WORKER=1` (so
//! skillopt's own hooks stay quiet inside it), its own process group killed whole at the
//! timeout (and once it exits, so nothing it started outlives the job), stdout and stderr
//! drained at the same time and capped ([`MAX_STDOUT`], [`MAX_STDERR`]).

use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::reply::{extract_reply, BadReply, Parsed};
use super::{AgentError, Invocation};

/// The most stdout kept: a verdict or three edits are a few KB; Claude's JSON envelope and
/// Codex's event stream add little. More is an unusable reply, not a bigger buffer.
pub(crate) const MAX_STDOUT: usize = 4 * 1024 * 1024;
/// The most stderr kept (only a preview goes into the error).
const MAX_STDERR: usize = 64 * 1024;

/// The binary on PATH (a regular, executable file).
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

#[allow(unsafe_code)]
fn kill_group(pid: u32) {
    if let Ok(pid) = libc::pid_t::try_from(pid) {
        // SAFETY: sends SIGKILL to the process group we created for the child (pgid == pid);
        // no memory is touched.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
}

/// What a reader thread got: at most `cap` bytes, and whether more were cut off.
struct Capped {
    bytes: Vec<u8>,
    truncated: bool,
}

/// Reads `r` to its end on a thread, keeping at most `cap` bytes (the rest is read and
/// dropped, so the child never blocks on a full pipe).
fn read_capped(r: impl Read + Send + 'static, cap: usize) -> mpsc::Receiver<Capped> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let mut r = r;
        let _ = r.by_ref().take(cap as u64).read_to_end(&mut bytes);
        let truncated = std::io::copy(&mut r, &mut std::io::sink()).is_ok_and(|n| n > 0);
        let _ = tx.send(Capped { bytes, truncated });
    });
    rx
}

/// Runs an invocation and returns the reply text and usage.
pub fn run(inv: &Invocation, timeout: Duration) -> Result<Parsed, AgentError> {
    let name = inv.kind.binary();
    let program = find_on_path(name).ok_or(AgentError::NotFound(name))?;
    let mut cmd = Command::new(program);
    cmd.args(&inv.args)
        .env("SKILLOPT_WORKER", "1")
        .current_dir(&inv.workdir);
    // `skillopt demo --agent …` runs the real CLI with the user's HOME so it finds its login.
    if let Some(home) = std::env::var_os("SKILLOPT_AGENT_HOME").filter(|h| !h.is_empty()) {
        cmd.env("HOME", home);
    }
    cmd.stdin(if inv.stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .process_group(0);
    let mut child = cmd.spawn().map_err(|e| AgentError::Spawn(name, e))?;
    let pid = child.id();
    if let (Some(text), Some(mut stdin)) = (inv.stdin.clone(), child.stdin.take()) {
        std::thread::spawn(move || {
            let _ = stdin.write_all(text.as_bytes());
        });
    }
    let out_rx = read_capped(
        child.stdout.take().ok_or(AgentError::Empty(name))?,
        MAX_STDOUT,
    );
    let err_rx = read_capped(
        child.stderr.take().ok_or(AgentError::Empty(name))?,
        MAX_STDERR,
    );
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                kill_group(pid);
                let _ = child.wait();
                return Err(AgentError::Timeout(name, timeout));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(AgentError::Spawn(name, e)),
        }
    };
    // Reap stragglers the CLI left in its group, so nothing outlives the job.
    kill_group(pid);
    let grace = Duration::from_secs(2);
    let empty = || Capped {
        bytes: Vec::new(),
        truncated: false,
    };
    let stdout = out_rx.recv_timeout(grace).unwrap_or_else(|_| empty());
    let stderr = err_rx.recv_timeout(grace).unwrap_or_else(|_| empty());
    if !status.success() {
        let stderr = String::from_utf8_lossy(&stderr.bytes);
        return Err(AgentError::Exit {
            name,
            code: status
                .code()
                .map(|c| c.to_string())
                .unwrap_or_else(|| "a signal".into()),
            stderr: skillopt_shared::text::preview(&stderr, 300),
        });
    }
    if stdout.truncated {
        return Err(AgentError::BadReply(name, BadReply::TooLarge(MAX_STDOUT)));
    }
    let text = String::from_utf8_lossy(&stdout.bytes);
    let parsed = extract_reply(inv.kind, &text)?;
    if parsed.text.trim().is_empty() {
        return Err(AgentError::Empty(name));
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_past_the_cap_is_drained_and_flagged() {
        let data = vec![b'x'; 1000];
        let got = read_capped(std::io::Cursor::new(data.clone()), 100)
            .recv()
            .unwrap();
        assert_eq!((got.bytes.len(), got.truncated), (100, true));
        let got = read_capped(std::io::Cursor::new(data), 1000)
            .recv()
            .unwrap();
        assert_eq!((got.bytes.len(), got.truncated), (1000, false));
    }
}
