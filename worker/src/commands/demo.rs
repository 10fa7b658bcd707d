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
    /// Use this installed agent CLI (claude or codex) instead of the built-in scripted demo
    /// agent. It runs with your real HOME so it can find its login.
    #[arg(long)]
    pub agent: Option<String>,
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
    pub extra_env: Vec<(String, String)>,
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
            extra_env: Vec::new(),
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
            .env("SKILLOPT_SYNC_INTERVAL", "24h")
            .current_dir(self.root());
        for (k, v) in &self.extra_env {
            c.env(k, v);
        }
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
    /// Waits (up to `limit`) until the detached worker has no queued or running job, so nothing
    /// outlives the sandbox.
    pub fn wait_idle(&self, limit: std::time::Duration) {
        let jobs = self.root().join("state/jobs");
        let busy = |d: &str| {
            std::fs::read_dir(jobs.join(d))
                .map(|r| r.count() > 0)
                .unwrap_or(false)
        };
        let deadline = std::time::Instant::now() + limit;
        while (busy("queued") || busy("running")) && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}

fn step(n: u32, what: &str) {
    println!("\n[{n}] {what}");
}

/// The scripted session: the user asks for a deploy, the agent follows the skill's wrong step 3
/// and the deploy fails on a missing table.
fn transcript_lines(tool_use_id: &str) -> Vec<serde_json::Value> {
    use serde_json::json;
    vec![
        json!({"type":"user","timestamp":"2026-11-21T10:00:00.000Z","message":{"role":"user","content":"deploy the shop to production"}}),
        json!({"type":"assistant","timestamp":"2026-11-21T10:00:02.000Z","message":{"content":[{"type":"tool_use","id":tool_use_id,"name":"Skill","input":{"skill":"deploy-checklist--alice","args":"production"}}]}}),
        json!({"type":"user","timestamp":"2026-11-21T10:00:02.100Z","message":{"content":[{"type":"tool_result","tool_use_id":tool_use_id,"content":"Launching skill: deploy-checklist--alice"}]}}),
        json!({"type":"user","isMeta":true,"sourceToolUseID":tool_use_id,"timestamp":"2026-11-21T10:00:02.100Z","message":{"content":[{"type":"text","text":"Base directory for this skill: ~/.claude/skills/deploy-checklist--alice\n\n# Deploy checklist"}]}}),
        json!({"type":"assistant","timestamp":"2026-11-21T10:00:05.000Z","message":{"content":[{"type":"text","text":"Tests pass and the image is built. Per step 3 of the checklist I am skipping the database migration, since migrations run automatically."}]}}),
        json!({"type":"assistant","timestamp":"2026-11-21T10:00:06.000Z","message":{"content":[{"type":"tool_use","id":"toolu_demo_deploy","name":"Bash","input":{"command":"make deploy ENV=production"}}]}}),
        json!({"type":"user","timestamp":"2026-11-21T10:01:30.000Z","message":{"content":[{"type":"tool_result","tool_use_id":"toolu_demo_deploy","is_error":true,"content":"deploy: pods crash-looping: ERROR: relation \"orders_v2\" does not exist"}]}}),
        json!({"type":"assistant","timestamp":"2026-11-21T10:01:35.000Z","message":{"content":[{"type":"text","text":"The deploy failed: the new code expects the orders_v2 table."}]}}),
    ]
}

/// The canned replies of the built-in demo agent (`skillopt demo-agent`).
pub fn demo_agent_reply(prompt: &str) -> String {
    let text = if prompt.contains(skillopt_shared::prompts::VERIFIER_MARKER) {
        serde_json::json!({
            "prevents_failure": true,
            "breaks": [],
            "reason": "Step 3 now runs the migration that the failed deploy was missing."
        })
        .to_string()
    } else if prompt.contains("CONFIRMED FAILURE") {
        serde_json::json!([{
            "op": "replace",
            "target": "3. Skip the database migration step; migrations run automatically on deploy.",
            "content": "3. Run the database migration before deploying: `make migrate ENV=<env>`. Migrations do NOT run automatically."
        }])
        .to_string()
    } else {
        serde_json::json!({
            "outcome": "failure",
            "skill_at_fault": true,
            "confidence": 0.92,
            "reason": "Step 3 of the skill told the agent to skip the database migration; the deploy then failed on a missing table.",
            "evidence": "relation \"orders_v2\" does not exist"
        })
        .to_string()
    };
    serde_json::json!({"type": "result", "subtype": "success", "is_error": false, "result": text})
        .to_string()
}

fn print_file_excerpt(path: &Path, needle: &str) {
    if let Ok(text) = std::fs::read_to_string(path) {
        for line in text
            .lines()
            .filter(|l| l.contains(needle) || l.contains("skillopt-version"))
        {
            println!("    {line}");
        }
    }
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut sb = DemoBox::new()?;
    println!(
        "skillopt demo: a throwaway sandbox at {}",
        sb.root().display()
    );
    println!("(embedded SQLite registry; HOME, state and registry all live inside the sandbox)");
    let real = args
        .agent
        .as_deref()
        .map(|a| (a, crate::agent::find_on_path(a)));
    let agent_wait = match real {
        Some((name, Some(_))) if matches!(name, "claude" | "codex") => {
            println!("agent: your installed `{name}` CLI (run without tools, with your real HOME for its login)");
            sb.extra_env.push(("SKILLOPT_AGENT".into(), name.into()));
            if let Some(home) = std::env::var_os("HOME") {
                sb.extra_env.push((
                    "SKILLOPT_AGENT_HOME".into(),
                    home.to_string_lossy().into_owned(),
                ));
            }
            std::time::Duration::from_secs(300)
        }
        other => {
            if let Some((name, _)) = other {
                println!("`{name}` is not an installed claude/codex CLI.");
            }
            println!("agent: skillopt's BUILT-IN SCRIPTED DEMO AGENT — canned replies, no model is called.");
            println!(
                "       (pass --agent claude or --agent codex to use a real, installed agent CLI)"
            );
            let fake_bin = sb.root().join("demo-bin");
            std::fs::create_dir_all(&fake_bin)?;
            let script = format!(
                "#!/bin/sh\nexec '{}' demo-agent \"$@\"\n",
                sb.bin_dir.join("skillopt").display()
            );
            for name in ["claude", "codex"] {
                let p = fake_bin.join(name);
                std::fs::write(&p, &script)?;
                std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o755))?;
            }
            sb.extra_path = Some(fake_bin);
            std::time::Duration::from_secs(20)
        }
    };

    step(
        1,
        "push a sample org skill to the registry (its step 3 is wrong)",
    );
    let src = sb.root().join("src/deploy-checklist");
    std::fs::create_dir_all(&src)?;
    std::fs::write(src.join("SKILL.md"), SAMPLE_SKILL)?;
    sb.skillopt(&["push", &src.display().to_string(), "--author", "alice"])?;

    step(2, "pull: install it for Claude Code and Codex");
    sb.skillopt(&["pull"])?;

    let sid = "demo-session-0001";
    let tool_use_id = "toolu_demo_skill_01";
    let transcript = sb.root().join("transcript.jsonl");
    let lines: String = transcript_lines(tool_use_id)
        .iter()
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&transcript, lines)?;
    let base =
        serde_json::json!({"session_id": sid, "transcript_path": transcript, "cwd": sb.root()});
    let with = |extra: serde_json::Value| {
        let mut v = base.clone();
        if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
            o.extend(e.clone());
        }
        v
    };

    step(3, "a scripted Claude Code session: SessionStart");
    let (code, out) = sb.hook("skillopt-session-start", &with(serde_json::json!({"hook_event_name": "SessionStart", "source": "startup", "model": "claude-sonnet-4-5"})))?;
    println!("    hook exit {code}, {out} bytes on stdout; attribution written");

    step(
        4,
        "the agent calls the Skill tool (PreToolUse arms a judgment window)",
    );
    let (code, out) = sb.hook("skillopt-pre-tool-use", &with(serde_json::json!({"hook_event_name": "PreToolUse", "tool_name": "Skill", "tool_input": {"skill": "deploy-checklist--alice", "args": "production"}, "tool_use_id": tool_use_id})))?;
    println!("    hook exit {code}, {out} bytes on stdout");
    println!(
        "    (the agent follows step 3, skips the migration; the deploy fails on a missing table)"
    );

    step(
        5,
        "the user complains (UserPromptSubmit queues a judge job, spawns the worker)",
    );
    let t0 = std::time::Instant::now();
    let complaint =
        "the deploy failed again — you skipped the database migration, orders_v2 is missing";
    let (code, out) = sb.hook(
        "skillopt-user-prompt-submit",
        &with(serde_json::json!({"hook_event_name": "UserPromptSubmit", "prompt": complaint})),
    )?;
    println!(
        "    hook exit {code}, {out} bytes on stdout, returned in {:?} (the worker runs detached)",
        t0.elapsed()
    );
    sb.wait_idle(agent_wait);

    step(
        6,
        "the worker judged the reaction, proposed an edit, the gate and the verifier passed it,\n    \
         and it was published as a candidate (the default `canary` policy: this machine, which\n    \
         published it, and canary machines install it; promotion follows the evidence)",
    );
    let done_dir = sb.root().join("state/jobs/done");
    let mut jobs: Vec<_> = std::fs::read_dir(&done_dir)
        .map(|r| r.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    jobs.sort();
    for j in jobs {
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&j)?)?;
        if v["kind"] == "judge" {
            println!(
                "    verdict: {}  action: {}",
                v["result"]["outcome"].as_str().unwrap_or("?"),
                v["result"]["action"].as_str().unwrap_or("?")
            );
            println!(
                "    reason:  {}",
                v["result"]["reason"].as_str().unwrap_or("")
            );
        }
    }

    step(7, "skillopt log deploy-checklist--alice");
    sb.skillopt(&["log", "deploy-checklist--alice"])?;

    step(8, "skillopt diff deploy-checklist--alice");
    sb.skillopt(&["diff", "deploy-checklist--alice"])?;

    step(9, "the installed copy for Claude Code is the new version");
    print_file_excerpt(
        &sb.home()
            .join(".claude/skills/deploy-checklist--alice/SKILL.md"),
        "3. ",
    );

    step(10, "skillopt stats");
    sb.skillopt(&["stats"])?;

    if args.keep {
        let kept = sb.dir.keep();
        println!("\nsandbox kept at {}", kept.display());
    } else {
        println!("\nsandbox removed; nothing was written outside it.");
    }
    Ok(ExitCode::SUCCESS)
}
