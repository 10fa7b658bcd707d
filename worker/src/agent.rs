//! The agent CLI runner: asks the user's own agent CLI (run without tools) a question.
//!
//! Only whitelisted binaries (claude, codex, cursor-agent, hermes, pi) are run, found by walking
//! PATH; argv is built without a shell; the prompt goes on stdin where the CLI reads it there.
//! The child gets `SKILLOPT_WORKER=1` (so skillopt's own hooks stay quiet inside it), runs in its
//! own process group, and is killed with its whole group at the timeout. A non-zero exit or an
//! empty reply is an error.
//!
//! The child runs in a fresh empty directory (Codex also gets it as `-C`), so the project's
//! `CLAUDE.md` / `AGENTS.md` never reach the judge or the proposer. The CLIs also read those
//! files from every parent directory, so the directory is made under a temp base with none
//! above it (`$TMPDIR` may sit inside a project, and anyone may write `/tmp/CLAUDE.md`). Claude Code additionally gets
//! `--bare` when `ANTHROPIC_API_KEY` is set (it then skips user-level `CLAUDE.md`, hooks and
//! plugins; without an API key `--bare` cannot log in, so OAuth users keep their user-level
//! `~/.claude/CLAUDE.md`). Codex gets `project_doc_max_bytes=0` and every tool it lets us turn
//! off (shell, web search, multi-agent, goals, image generation); its user-level
//! `$CODEX_HOME/AGENTS.md` has no switch and still loads.

use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::settings::Settings;

/// Agent CLIs skillopt may run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentKind {
    Claude,
    Codex,
    CursorAgent,
    Hermes,
    Pi,
}

/// What the agent is asked to do (selects the model).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Judge,
    Proposer,
    /// Checks a gated proposal against the failure and recent successes before publish.
    Verifier,
}

impl Role {
    pub(crate) const ALL: [Role; 3] = [Role::Judge, Role::Proposer, Role::Verifier];

    /// The role in `SKILLOPT_<AGENT>_<ROLE>_MODEL`.
    pub(crate) fn env_name(self) -> &'static str {
        match self {
            Role::Judge => "JUDGE",
            Role::Proposer => "PROPOSER",
            Role::Verifier => "VERIFIER",
        }
    }

    /// Lower-case name (`judge`, `proposer`).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Role::Judge => "judge",
            Role::Proposer => "proposer",
            Role::Verifier => "verifier",
        }
    }
}

/// An agent's answer and the model it was asked for (`None`: the CLI's default).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Reply {
    pub(crate) text: String,
    pub(crate) model: Option<String>,
}

/// Asking an agent CLI a question: [`CliRunner`] runs the real one; unit tests script one.
pub(crate) trait AgentCli {
    /// Asks `kind`, in `role`, with a system prompt and a prompt.
    fn ask(
        &self,
        kind: AgentKind,
        role: Role,
        system: &str,
        prompt: &str,
    ) -> Result<Reply, AgentError>;
}

/// The real runner: the whitelisted binary on PATH, the model and timeout from the settings.
pub(crate) struct CliRunner<'a> {
    pub(crate) settings: &'a Settings,
}

impl AgentCli for CliRunner<'_> {
    fn ask(
        &self,
        kind: AgentKind,
        role: Role,
        system: &str,
        prompt: &str,
    ) -> Result<Reply, AgentError> {
        let name = kind.binary();
        // Removed (with anything the CLI left in it) when the call returns.
        let workdir = isolated_workdir(name)?;
        let model = self.settings.model(kind, role);
        let inv = build(
            kind,
            model,
            system,
            prompt,
            workdir.path(),
            Auth::from_env(),
        );
        let text = run(&inv, self.settings.agent_timeout.value)?;
        Ok(Reply {
            text,
            model: inv.model,
        })
    }
}

/// Runner failures.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("agent CLI {0} not found on PATH")]
    NotFound(&'static str),
    #[error("{0} timed out after {1:?} (killed with its process group)")]
    Timeout(&'static str, Duration),
    #[error("{name} exited with {code}: {stderr}")]
    Exit {
        name: &'static str,
        code: String,
        stderr: String,
    },
    #[error("{0} replied with nothing")]
    Empty(&'static str),
    #[error("{0} reply unusable: {1}")]
    BadReply(&'static str, String),
    #[error("running {0}: {1}")]
    Spawn(&'static str, std::io::Error),
    #[error("cannot make an empty working directory for {0}: {1}")]
    Workdir(&'static str, std::io::Error),
}

impl AgentKind {
    pub(crate) const ALL: [AgentKind; 5] = [
        AgentKind::Claude,
        AgentKind::Codex,
        AgentKind::CursorAgent,
        AgentKind::Hermes,
        AgentKind::Pi,
    ];

    /// The binary name.
    pub fn binary(self) -> &'static str {
        match self {
            AgentKind::Claude => "claude",
            AgentKind::Codex => "codex",
            AgentKind::CursorAgent => "cursor-agent",
            AgentKind::Hermes => "hermes",
            AgentKind::Pi => "pi",
        }
    }

    /// The agent in `SKILLOPT_<AGENT>_MODEL`.
    pub(crate) fn env_name(self) -> &'static str {
        match self {
            AgentKind::Claude => "CLAUDE",
            AgentKind::Codex => "CODEX",
            AgentKind::CursorAgent => "CURSOR",
            AgentKind::Hermes => "HERMES",
            AgentKind::Pi => "PI",
        }
    }

    /// Parses a binary or agent name.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "claude" | "claude-code" | "claude_code" => Some(AgentKind::Claude),
            "codex" => Some(AgentKind::Codex),
            "cursor-agent" | "cursor" => Some(AgentKind::CursorAgent),
            "hermes" => Some(AgentKind::Hermes),
            "pi" => Some(AgentKind::Pi),
            _ => None,
        }
    }

    /// The model asked for when no variable names one (`None`: the CLI's own default).
    pub(crate) fn default_model(self, role: Role) -> Option<&'static str> {
        match (self, role) {
            (AgentKind::Claude, Role::Judge) => Some("haiku"),
            (AgentKind::Claude, Role::Proposer | Role::Verifier) => Some("sonnet"),
            _ => None,
        }
    }
}

/// A fully built invocation.
#[derive(Debug, Clone, PartialEq)]
pub struct Invocation {
    pub kind: AgentKind,
    pub args: Vec<String>,
    pub stdin: Option<String>,
    pub model: Option<String>,
    /// The empty directory the child runs in.
    pub workdir: PathBuf,
}

/// What of the environment shapes the argv.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Auth {
    /// `ANTHROPIC_API_KEY` is set: Claude Code can run `--bare`.
    pub anthropic_api_key: bool,
}

impl Auth {
    /// Read from the process environment.
    pub fn from_env() -> Self {
        Self {
            anthropic_api_key: std::env::var_os("ANTHROPIC_API_KEY").is_some_and(|k| !k.is_empty()),
        }
    }
}

/// Files an agent CLI reads as instructions from its working directory and every parent.
const INSTRUCTION_FILES: &[&str] = &[
    "CLAUDE.md",
    "CLAUDE.local.md",
    "AGENTS.md",
    "AGENTS.override.md",
];

/// The first instruction file in `dir` or above it.
fn instructions_above(dir: &Path) -> Option<PathBuf> {
    dir.ancestors().find_map(|a| {
        INSTRUCTION_FILES
            .iter()
            .map(|f| a.join(f))
            .find(|p| p.symlink_metadata().is_ok())
    })
}

/// A fresh empty directory with no instruction file in it or above it: under `$TMPDIR`, else
/// `/tmp`, `/var/tmp` or `/dev/shm`. Removed when dropped.
fn isolated_workdir(name: &'static str) -> Result<tempfile::TempDir, AgentError> {
    let mut refused = Vec::new();
    let bases = [
        std::env::temp_dir(),
        PathBuf::from("/tmp"),
        PathBuf::from("/var/tmp"),
        PathBuf::from("/dev/shm"),
    ];
    for base in bases {
        let Ok(base) = base.canonicalize() else {
            continue;
        };
        if let Some(found) = instructions_above(&base) {
            refused.push(found.display().to_string());
            continue;
        }
        if let Ok(dir) = tempfile::Builder::new()
            .prefix("skillopt-agent-")
            .tempdir_in(&base)
        {
            return Ok(dir);
        }
    }
    Err(AgentError::Workdir(
        name,
        std::io::Error::other(format!(
            "every temp directory has an agent instruction file above it ({}); remove it or set TMPDIR",
            refused.join(", ")
        )),
    ))
}

/// Codex features turned off for the judge and the proposer: they answer from the prompt alone.
const CODEX_DISABLED_FEATURES: &[&str] = &[
    "hooks",
    "shell_tool",
    "goals",
    "multi_agent",
    "image_generation",
];

/// Builds the argv (no shell) for asking `kind` (`model`, else its default) with `system` and
/// `prompt`, run in `workdir`.
pub fn build(
    kind: AgentKind,
    model: Option<String>,
    system: &str,
    prompt: &str,
    workdir: &Path,
    auth: Auth,
) -> Invocation {
    let s = |x: &str| x.to_string();
    let (args, stdin) = match kind {
        AgentKind::Claude => {
            let mut a = vec![s("-p"), s("--output-format"), s("json")];
            if let Some(m) = &model {
                a.extend([s("--model"), m.clone()]);
            }
            if auth.anthropic_api_key {
                a.push(s("--bare"));
            }
            a.extend([
                s("--no-session-persistence"),
                s("--tools"),
                s(""),
                s("--strict-mcp-config"),
                s("--disable-slash-commands"),
                s("--max-turns"),
                s("1"),
                s("--settings"),
                s(r#"{"disableAllHooks":true}"#),
                s("--system-prompt"),
                s(system),
            ]);
            (a, Some(prompt.to_string()))
        }
        AgentKind::Codex => {
            let mut a = vec![
                s("exec"),
                s("--skip-git-repo-check"),
                s("-s"),
                s("read-only"),
                s("--ephemeral"),
                s("-C"),
                workdir.display().to_string(),
            ];
            for feature in CODEX_DISABLED_FEATURES {
                a.extend([s("--disable"), s(feature)]);
            }
            a.extend([
                s("-c"),
                s(r#"web_search="disabled""#),
                s("-c"),
                s("project_doc_max_bytes=0"),
            ]);
            if let Some(m) = &model {
                a.extend([s("-m"), m.clone()]);
            }
            a.push(s("-"));
            (a, Some(format!("{system}\n\n{prompt}")))
        }
        AgentKind::CursorAgent => {
            let mut a = vec![
                s("--print"),
                s("--mode"),
                s("ask"),
                s("--output-format"),
                s("text"),
            ];
            if let Some(m) = &model {
                a.extend([s("--model"), m.clone()]);
            }
            a.push(format!("{system}\n\n{prompt}"));
            (a, None)
        }
        AgentKind::Hermes => {
            let mut a = vec![s("chat"), s("--quiet")];
            if let Some(m) = &model {
                a.extend([s("--model"), m.clone()]);
            }
            a.extend([s("-q"), format!("{system}\n\n{prompt}")]);
            (a, None)
        }
        AgentKind::Pi => {
            let mut a = vec![s("--print"), s("--no-session"), s("--no-tools")];
            if let Some(m) = &model {
                a.extend([s("--model"), m.clone()]);
            }
            a.push(format!("{system}\n\n{prompt}"));
            (a, None)
        }
    };
    Invocation {
        kind,
        args,
        stdin,
        model,
        workdir: workdir.to_path_buf(),
    }
}

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

fn read_all(mut r: impl Read + Send + 'static) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = r.read_to_end(&mut buf);
        let _ = tx.send(buf);
    });
    rx
}

/// Runs an invocation and returns the reply text.
pub fn run(inv: &Invocation, timeout: Duration) -> Result<String, AgentError> {
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
    let out_rx = read_all(child.stdout.take().ok_or(AgentError::Empty(name))?);
    let err_rx = read_all(child.stderr.take().ok_or(AgentError::Empty(name))?);
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
    let stdout = out_rx.recv_timeout(grace).unwrap_or_default();
    let stderr = err_rx.recv_timeout(grace).unwrap_or_default();
    if !status.success() {
        let stderr = String::from_utf8_lossy(&stderr);
        return Err(AgentError::Exit {
            name,
            code: status
                .code()
                .map(|c| c.to_string())
                .unwrap_or_else(|| "a signal".into()),
            stderr: skillopt_shared::text::preview(&stderr, 300),
        });
    }
    let text = String::from_utf8_lossy(&stdout).into_owned();
    let reply = extract_reply(inv.kind, &text)?;
    if reply.trim().is_empty() {
        return Err(AgentError::Empty(name));
    }
    Ok(reply)
}

/// The reply text from a CLI's stdout (`claude --output-format json` → `.result`).
pub fn extract_reply(kind: AgentKind, stdout: &str) -> Result<String, AgentError> {
    let name = kind.binary();
    if stdout.trim().is_empty() {
        return Err(AgentError::Empty(name));
    }
    match kind {
        AgentKind::Claude => {
            let v: serde_json::Value = serde_json::from_str(stdout.trim())
                .map_err(|e| AgentError::BadReply(name, format!("not JSON: {e}")))?;
            if v.get("is_error").and_then(|b| b.as_bool()) == Some(true) {
                let sub = v.get("subtype").and_then(|s| s.as_str()).unwrap_or("error");
                return Err(AgentError::BadReply(name, sub.to_string()));
            }
            v.get("result")
                .and_then(|r| r.as_str())
                .map(str::to_string)
                .ok_or_else(|| AgentError::BadReply(name, "no .result".into()))
        }
        _ => Ok(stdout.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(kind: AgentKind, role: Role, system: &str, prompt: &str) -> Invocation {
        build(
            kind,
            kind.default_model(role).map(str::to_string),
            system,
            prompt,
            Path::new("/tmp/w"),
            Auth::default(),
        )
    }

    #[test]
    fn claude_argv() {
        let inv = at(AgentKind::Claude, Role::Judge, "SYS", "PROMPT");
        assert_eq!(
            inv.args,
            [
                "-p",
                "--output-format",
                "json",
                "--model",
                "haiku",
                "--no-session-persistence",
                "--tools",
                "",
                "--strict-mcp-config",
                "--disable-slash-commands",
                "--max-turns",
                "1",
                "--settings",
                r#"{"disableAllHooks":true}"#,
                "--system-prompt",
                "SYS"
            ]
        );
        assert_eq!(inv.stdin.as_deref(), Some("PROMPT"));
        assert_eq!(
            at(AgentKind::Claude, Role::Proposer, "", "")
                .model
                .as_deref(),
            Some("sonnet")
        );
    }

    #[test]
    fn instruction_files_above_a_directory_are_found() {
        let d = tempfile::tempdir().unwrap();
        let deep = d.path().join("a/b");
        std::fs::create_dir_all(&deep).unwrap();
        assert_eq!(instructions_above(&deep), None);
        std::fs::write(d.path().join("a/CLAUDE.md"), "x").unwrap();
        assert_eq!(
            instructions_above(&deep),
            Some(d.path().join("a/CLAUDE.md"))
        );
    }

    #[test]
    fn claude_is_bare_with_an_api_key() {
        let auth = Auth {
            anthropic_api_key: true,
        };
        let inv = build(
            AgentKind::Claude,
            Some("haiku".into()),
            "S",
            "P",
            Path::new("/w"),
            auth,
        );
        assert_eq!(inv.args[5], "--bare");
        assert_eq!(inv.workdir, Path::new("/w"));
    }

    #[test]
    fn codex_argv() {
        let inv = at(AgentKind::Codex, Role::Judge, "SYS", "PROMPT");
        assert_eq!(
            inv.args,
            [
                "exec",
                "--skip-git-repo-check",
                "-s",
                "read-only",
                "--ephemeral",
                "-C",
                "/tmp/w",
                "--disable",
                "hooks",
                "--disable",
                "shell_tool",
                "--disable",
                "goals",
                "--disable",
                "multi_agent",
                "--disable",
                "image_generation",
                "-c",
                "web_search=\"disabled\"",
                "-c",
                "project_doc_max_bytes=0",
                "-"
            ]
        );
        assert_eq!(inv.stdin.as_deref(), Some("SYS\n\nPROMPT"));
    }

    #[test]
    fn best_effort_argv() {
        let c = at(AgentKind::CursorAgent, Role::Judge, "S", "P");
        assert_eq!(
            c.args,
            [
                "--print",
                "--mode",
                "ask",
                "--output-format",
                "text",
                "S\n\nP"
            ]
        );
        assert!(c.stdin.is_none());
        let h = at(AgentKind::Hermes, Role::Judge, "S", "P");
        assert_eq!(h.args, ["chat", "--quiet", "-q", "S\n\nP"]);
        let p = at(AgentKind::Pi, Role::Proposer, "S", "P");
        assert_eq!(p.args, ["--print", "--no-session", "--no-tools", "S\n\nP"]);
    }

    #[test]
    fn claude_reply_is_unwrapped() {
        assert_eq!(
            extract_reply(
                AgentKind::Claude,
                r#"{"type":"result","is_error":false,"result":"hi"}"#
            )
            .unwrap(),
            "hi"
        );
        assert!(extract_reply(
            AgentKind::Claude,
            r#"{"is_error":true,"subtype":"error_max_turns"}"#
        )
        .is_err());
        assert!(extract_reply(AgentKind::Claude, "plain text").is_err());
        assert!(extract_reply(AgentKind::Codex, "  ").is_err());
    }
}
