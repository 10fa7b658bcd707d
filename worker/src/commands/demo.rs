//! `skillopt demo`: the whole loop in a throwaway sandbox on the embedded registry.
//!
//! Everything runs as the real binaries (this `skillopt` and the hook binaries next to it) with
//! HOME, the state dir and the registry pointed into a temporary directory, which is removed at
//! the end: the demo leaves nothing outside its sandbox.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use anyhow::{bail, Context};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Keep the sandbox directory afterwards (its path is printed).
    #[arg(long)]
    pub keep: bool,
}

/// The sample org skill. Its step 3 is wrong on purpose: it tells the agent to skip the
/// database migration, which is what breaks the deploy in the scripted session.
pub const SAMPLE_SKILL: &str = "---
name: deploy-checklist
description: Use when deploying the shop service to staging or production.
---
# Deploy checklist

1. Run the test suite: `npm test`.
2. Build the image: `make image`.
3. Skip the database migration step; migrations run automatically on deploy.
4. Deploy: `make deploy ENV=<env>`.
5. Watch the logs for five minutes.
";

/// A sandboxed machine for the demo.
pub struct DemoBox {
    pub dir: tempfile::TempDir,
    pub bin_dir: PathBuf,
    pub extra_path: Option<PathBuf>,
}

impl DemoBox {
    pub fn new() -> anyhow::Result<Self> {
        let exe = std::env::current_exe()?;
        let bin_dir = exe.parent().context("no binary dir")?.to_path_buf();
        for hook in [
            "skillopt-session-start",
            "skillopt-pre-tool-use",
            "skillopt-user-prompt-submit",
        ] {
            if !bin_dir.join(hook).is_file() {
                bail!(
                    "{hook} not found next to {}: build the whole workspace (cargo build --workspace)",
                    exe.display()
                );
            }
        }
        let dir = tempfile::Builder::new()
            .prefix("skillopt-demo-")
            .tempdir()?;
        std::fs::create_dir_all(dir.path().join("home"))?;
        Ok(Self {
            dir,
            bin_dir,
            extra_path: None,
        })
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn home(&self) -> PathBuf {
        self.root().join("home")
    }

    /// A command with the sandbox's environment.
    pub fn command(&self, program: &Path) -> Command {
        let mut c = Command::new(program);
        for (k, _) in std::env::vars() {
            if k.starts_with("SKILLOPT_") || k == "CLAUDE_CONFIG_DIR" || k == "CODEX_HOME" {
                c.env_remove(k);
            }
        }
        let mut path = std::env::var_os("PATH").unwrap_or_default();
        if let Some(extra) = &self.extra_path {
            let mut v = vec![extra.clone()];
            v.extend(std::env::split_paths(&path));
            path = std::env::join_paths(v).unwrap_or(path);
        }
        c.env("HOME", self.home())
            .env("PATH", path)
            .env("XDG_STATE_HOME", self.root().join("xdg-state"))
            .env("XDG_DATA_HOME", self.root().join("xdg-data"))
            .env("XDG_CONFIG_HOME", self.root().join("xdg-config"))
            .env("SKILLOPT_STATE_DIR", self.root().join("state"))
            .env(
                "SKILLOPT_REGISTRY",
                format!(
                    "sqlite://{}",
                    self.root().join("registry.sqlite3").display()
                ),
            )
            .env("SKILLOPT_USER", "alice")
            .current_dir(self.root());
        c
    }

    /// Runs `skillopt <args>` and prints its output indented.
    pub fn skillopt(&self, args: &[&str]) -> anyhow::Result<String> {
        let out = self
            .command(&self.bin_dir.join("skillopt"))
            .args(args)
            .stdin(Stdio::null())
            .output()?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        for line in text.lines() {
            println!("    {line}");
        }
        if !out.status.success() {
            bail!(
                "skillopt {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(text)
    }

    /// Feeds a payload to a hook binary; returns (exit code, stdout bytes).
    pub fn hook(&self, name: &str, payload: &serde_json::Value) -> anyhow::Result<(i32, usize)> {
        let mut child = self
            .command(&self.bin_dir.join(name))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        child
            .stdin
            .take()
            .context("hook stdin")?
            .write_all(payload.to_string().as_bytes())?;
        let out = child.wait_with_output()?;
        Ok((out.status.code().unwrap_or(-1), out.stdout.len()))
    }
}

impl DemoBox {
    /// Waits (up to 10 s) until the detached worker has no queued or running job, so nothing
    /// outlives the sandbox.
    pub fn wait_idle(&self) {
        let jobs = self.root().join("state/jobs");
        let busy = |d: &str| {
            std::fs::read_dir(jobs.join(d))
                .map(|r| r.count() > 0)
                .unwrap_or(false)
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while (busy("queued") || busy("running")) && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}

fn step(n: u32, what: &str) {
    println!("\n[{n}] {what}");
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let sb = DemoBox::new()?;
    println!(
        "skillopt demo: a throwaway sandbox at {}",
        sb.root().display()
    );
    println!("(embedded SQLite registry; HOME, state and registry all live inside the sandbox)");

    step(1, "push a sample org skill to the registry");
    let src = sb.root().join("src/deploy-checklist");
    std::fs::create_dir_all(&src)?;
    std::fs::write(src.join("SKILL.md"), SAMPLE_SKILL)?;
    sb.skillopt(&["push", &src.display().to_string(), "--author", "alice"])?;

    step(2, "pull: install it for Claude Code and Codex");
    sb.skillopt(&["pull"])?;

    step(3, "a Claude Code session starts (SessionStart hook)");
    let sid = "demo-session-0001";
    let transcript = sb.root().join("transcript.jsonl");
    let (code, stdout_bytes) = sb.hook(
        "skillopt-session-start",
        &serde_json::json!({
            "session_id": sid, "transcript_path": transcript, "cwd": sb.root(),
            "hook_event_name": "SessionStart", "source": "startup", "model": "claude-sonnet-4-5"
        }),
    )?;
    println!("    hook exit code {code}, {stdout_bytes} bytes on stdout");
    let attribution = sb
        .root()
        .join("state/sessions")
        .join(sid)
        .join("attribution.json");
    println!(
        "    attribution: {}",
        std::fs::read_to_string(&attribution)
            .unwrap_or_default()
            .replace('\n', "\n    ")
    );

    sb.wait_idle();

    step(4, "skillopt status");
    sb.skillopt(&["status"])?;

    if args.keep {
        let kept = sb.dir.keep();
        println!("\nsandbox kept at {}", kept.display());
    } else {
        println!("\nsandbox removed.");
    }
    Ok(ExitCode::SUCCESS)
}
