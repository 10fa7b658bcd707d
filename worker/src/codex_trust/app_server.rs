//! A minimal client for `codex app-server`: JSON-RPC 2.0 as one JSON object per line over the
//! child's stdin/stdout. Only what trust needs: `initialize` + `initialized`, then plain
//! requests. Server notifications (e.g. `configWarning`) are skipped. Every request shares one
//! deadline; the child runs in its own process group, which is killed when the client is dropped
//! (the npm `codex` launcher is a node script that starts the native binary as a child).

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// What can go wrong talking to `codex app-server`.
#[derive(Debug, thiserror::Error)]
pub enum AppServerError {
    #[error("codex is not installed: no `codex` on PATH")]
    NotInstalled,
    #[error("cannot start {}: {source}", path.display())]
    Spawn {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("codex app-server did not answer `{method}` within {secs}s")]
    Timeout { method: String, secs: u64 },
    #[error("codex app-server exited before answering `{method}`{stderr}")]
    Exited { method: String, stderr: String },
    #[error("codex app-server refused `{method}`: {message}")]
    Rpc { method: String, message: String },
    #[error("codex app-server: {0}")]
    Protocol(String),
    #[error("cannot write to codex app-server: {0}")]
    Io(#[from] std::io::Error),
}

/// A running `codex app-server`, initialized.
pub struct AppServer {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    stderr: Arc<Mutex<String>>,
    next_id: u64,
    deadline: Instant,
    budget: Duration,
    /// `codexHome` from the `initialize` reply (where it reads config.toml).
    pub codex_home: Option<PathBuf>,
}

/// `codex` on PATH (an executable file), if any.
pub fn find_codex() -> Option<PathBuf> {
    crate::agent::find_on_path("codex")
}

impl AppServer {
    /// Starts `<codex> app-server` in `cwd` and completes the handshake; every request must be
    /// answered within `budget` of this call.
    pub fn start(codex: &Path, cwd: &Path, budget: Duration) -> Result<Self, AppServerError> {
        use std::os::unix::process::CommandExt;
        let mut child = Command::new(codex)
            .arg("app-server")
            .current_dir(cwd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .map_err(|source| AppServerError::Spawn {
                path: codex.to_path_buf(),
                source,
            })?;
        let stdin = child.stdin.take();
        let (tx, lines) = mpsc::channel();
        if let Some(out) = child.stdout.take() {
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines().map_while(Result::ok) {
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        let stderr = Arc::new(Mutex::new(String::new()));
        if let Some(mut err) = child.stderr.take() {
            let keep = Arc::clone(&stderr);
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = err.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    if let Ok(mut s) = keep.lock() {
                        s.push_str(&String::from_utf8_lossy(&buf[..n]));
                        if s.len() > 8192 {
                            let cut = s.len() - 4096;
                            let cut = (cut..s.len()).find(|&i| s.is_char_boundary(i)).unwrap_or(0);
                            s.drain(..cut);
                        }
                    }
                }
            });
        }
        let mut server = Self {
            child,
            stdin,
            lines,
            stderr,
            next_id: 1,
            deadline: Instant::now() + budget,
            budget,
            codex_home: None,
        };
        let init = server.request(
            "initialize",
            json!({"clientInfo": {"name": "skillopt", "title": "skillopt", "version": env!("CARGO_PKG_VERSION")}}),
        )?;
        server.codex_home = init
            .get("codexHome")
            .and_then(Value::as_str)
            .map(PathBuf::from);
        server.send(&json!({"jsonrpc": "2.0", "method": "initialized"}))?;
        Ok(server)
    }

    fn send(&mut self, msg: &Value) -> Result<(), AppServerError> {
        let stdin = self
            .stdin
            .as_mut()
            .ok_or_else(|| AppServerError::Protocol("stdin is closed".into()))?;
        let mut line = msg.to_string();
        line.push('\n');
        stdin.write_all(line.as_bytes())?;
        stdin.flush()?;
        Ok(())
    }

    /// Sends a request and waits for its response's `result`.
    pub fn request(&mut self, method: &str, params: Value) -> Result<Value, AppServerError> {
        let id = self.next_id;
        self.next_id += 1;
        let sent =
            self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        if let Err(e) = sent {
            // A closed pipe means the server is gone: say so with its last words.
            return Err(self.exited(method).unwrap_or(e));
        }
        loop {
            let left = self.deadline.saturating_duration_since(Instant::now());
            let line = match self.lines.recv_timeout(left) {
                Ok(line) => line,
                Err(RecvTimeoutError::Timeout) => {
                    return Err(AppServerError::Timeout {
                        method: method.into(),
                        secs: self.budget.as_secs(),
                    })
                }
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(self.exited(method).unwrap_or_else(|| {
                        AppServerError::Protocol(format!("stdout closed during `{method}`"))
                    }))
                }
            };
            let Ok(msg) = serde_json::from_str::<Value>(&line) else {
                continue; // not a protocol line
            };
            if msg.get("id").and_then(Value::as_u64) != Some(id) || msg.get("method").is_some() {
                continue; // a notification or a server request: not ours to answer
            }
            if let Some(err) = msg.get("error") {
                let message = err
                    .get("message")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .unwrap_or_else(|| err.to_string());
                return Err(AppServerError::Rpc {
                    method: method.into(),
                    message,
                });
            }
            return msg.get("result").cloned().ok_or_else(|| {
                AppServerError::Protocol(format!("`{method}` answered without a result"))
            });
        }
    }

    fn exited(&mut self, method: &str) -> Option<AppServerError> {
        // Give the stderr reader a moment to collect the last words.
        let until = Instant::now() + Duration::from_millis(500);
        while Instant::now() < until {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.child.try_wait().ok().flatten()?;
        std::thread::sleep(Duration::from_millis(50));
        let tail = self
            .stderr
            .lock()
            .map(|s| s.trim().lines().last().unwrap_or("").to_string())
            .unwrap_or_default();
        Some(AppServerError::Exited {
            method: method.into(),
            stderr: if tail.is_empty() {
                String::new()
            } else {
                format!(": {tail}")
            },
        })
    }
}

impl Drop for AppServer {
    fn drop(&mut self) {
        // EOF on stdin ends the server; whatever is left of its process group is killed.
        drop(self.stdin.take());
        let until = Instant::now() + Duration::from_secs(2);
        while Instant::now() < until {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        kill_group(self.child.id());
        let _ = self.child.wait();
    }
}

#[allow(unsafe_code)]
fn kill_group(pid: u32) {
    if let Ok(pid) = libc::pid_t::try_from(pid) {
        // SAFETY: SIGKILL to the process group of our own child, still running (not yet
        // reaped), so the group id cannot have been reused; no memory is touched.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
}
