//! A sandboxed machine for driving the real Claude Code and Codex CLIs against a scripted
//! [`ModelServer`]: the sandbox's environment points both CLIs at the server, puts the pinned
//! CLIs and the workspace's skillopt binaries on PATH (so the hooks the CLIs run are ours and
//! the detached worker finds the real CLI as its judge), and a project directory whose
//! `CLAUDE.md`/`AGENTS.md` carry [`PROJECT_MARKER`].

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use crate::model_server::{ModelServer, Script};
use crate::real_clients::RealClients;
use crate::{bin, skill_md, stderr, stdout, Sandbox};

/// Planted in the project's CLAUDE.md and AGENTS.md; must never reach a judge or proposer.
pub const PROJECT_MARKER: &str = "PROJECT-INSTRUCTIONS-MARKER-7f3a";

/// The org skill's name, author, and installed directory name.
pub const SKILL: &str = "deploy-checklist";
pub const AUTHOR: &str = "alice";
pub const SKILL_DIR: &str = "deploy-checklist--alice";

/// The skill's body; step 3 is wrong on purpose.
pub const SKILL_BODY: &str = "# Deploy checklist

1. Run the test suite: `npm test`.
2. Build the image: `make image`.
3. Skip the database migration step; migrations run automatically on deploy.
4. Deploy: `make deploy ENV=<env>`.
";

/// The wrong step, and the text the scripted proposer puts in its place.
pub const WRONG_STEP: &str =
    "3. Skip the database migration step; migrations run automatically on deploy.";
pub const FIXED_STEP: &str =
    "3. Run the database migration before deploying. Migrations do NOT run automatically.";

/// The user's complaint after the skill was used.
pub const COMPLAINT: &str = "that broke prod, the checklist skipped the migration";

/// The script every real-client test uses: a failure verdict and the fix above.
pub fn script() -> Script {
    Script {
        edits: serde_json::json!([{"op": "replace", "target": WRONG_STEP, "content": FIXED_STEP}])
            .to_string(),
        ..Script::default()
    }
}

/// Environment variables of the caller that would point a CLI elsewhere.
fn foreign_env(k: &str) -> bool {
    ["ANTHROPIC_", "CLAUDE", "OPENAI_", "CODEX_", "OTEL_"]
        .iter()
        .any(|p| k.starts_with(p))
}

/// A sandbox, its model server and a project directory.
pub struct RealSession {
    pub sb: Sandbox,
    pub server: ModelServer,
    pub clients: RealClients,
    pub project: PathBuf,
}

impl RealSession {
    /// A fresh machine with both CLIs pointed at a new server running `script`.
    pub fn new(clients: RealClients, script: Script) -> Self {
        let mut sb = Sandbox::new();
        let server = ModelServer::start(script, &sb.path().join("model-requests.jsonl"))
            .expect("start the model server");
        for (k, v) in server.claude_env() {
            sb.set_env(&k, &v);
        }
        let codex_home = sb.home().join(".codex");
        std::fs::create_dir_all(&codex_home).unwrap();
        std::fs::write(codex_home.join("config.toml"), server.codex_config_toml()).unwrap();
        sb.set_env("CODEX_HOME", codex_home.to_str().unwrap());
        let skillopt_dir = bin("skillopt").parent().unwrap().to_path_buf();
        let path = std::env::join_paths(
            [sb.bin_dir(), clients.bin_dir(), skillopt_dir]
                .into_iter()
                .chain(std::env::split_paths(
                    &std::env::var_os("PATH").unwrap_or_default(),
                )),
        )
        .unwrap();
        sb.set_env("PATH", path.to_str().unwrap());
        sb.set_env("SKILLOPT_AGENT_TIMEOUT", "90s");
        // Claude Code keeps task output under $TMPDIR: keep it in the sandbox.
        let tmp = sb.path().join("tmp");
        std::fs::create_dir_all(&tmp).unwrap();
        sb.set_env("TMPDIR", tmp.to_str().unwrap());
        let project = sb.path().join("project");
        std::fs::create_dir_all(&project).unwrap();
        let instructions = format!("# Project rules\n\nAlways mention {PROJECT_MARKER}.\n");
        std::fs::write(project.join("CLAUDE.md"), &instructions).unwrap();
        std::fs::write(project.join("AGENTS.md"), &instructions).unwrap();
        Self {
            sb,
            server,
            clients,
            project,
        }
    }

    /// Installs the hooks for both agents (Codex's trusted), pushes the skill and pulls it.
    pub fn install_and_pull(&self) {
        self.sb.ok(&["install", "all"]);
        self.sb.ok(&["install", "codex", "--trust"]);
        let dir = self.sb.write_skill(SKILL, &skill_md(SKILL, SKILL_BODY));
        self.sb
            .ok(&["push", dir.to_str().unwrap(), "--author", AUTHOR]);
        self.sb.ok(&["pull"]);
    }

    /// A command for a real CLI in the project directory, with none of the caller's agent env.
    pub fn cli(&self, program: &Path) -> Command {
        let mut c = self.sb.cmd_at(program);
        for (k, _) in std::env::vars() {
            if foreign_env(&k) && !self.sb.env.iter().any(|(key, _)| *key == k) {
                c.env_remove(k);
            }
        }
        c.current_dir(&self.project).stdin(Stdio::null());
        c
    }

    fn run(&self, mut c: Command, what: &str) -> Output {
        let out = c.output().unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(
            out.status.success(),
            "{what} failed: {}\n{}\n{}",
            stdout(&out),
            stderr(&out),
            self.diagnostics()
        );
        out
    }

    /// `claude -p --output-format json <args…> <prompt>`; returns the result JSON.
    pub fn claude(&self, args: &[&str], prompt: &str) -> Value {
        let mut c = self.cli(&self.clients.claude);
        c.args(["-p", "--output-format", "json"])
            .args(args)
            .arg(prompt);
        let out = self.run(c, &format!("claude -p {args:?} {prompt:?}"));
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "claude printed no JSON ({e}): {}\n{}",
                stdout(&out),
                self.diagnostics()
            )
        })
    }

    /// `codex exec --json <args…> <prompt>`; returns the thread (session) id.
    pub fn codex(&self, args: &[&str], prompt: &str) -> String {
        let mut c = self.cli(&self.clients.codex);
        c.arg("exec")
            .args(args)
            .args(["--json", "--skip-git-repo-check"])
            .arg(prompt);
        let out = self.run(c, &format!("codex exec {args:?} {prompt:?}"));
        let text = stdout(&out);
        text.lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find_map(|v| v["thread_id"].as_str().map(str::to_string))
            .unwrap_or_else(|| panic!("codex printed no thread id: {text}\n{}", self.diagnostics()))
    }

    /// `skillopt <args> --json` parsed.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut a = args.to_vec();
        a.push("--json");
        let out = self.sb.skillopt(&a);
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
    }

    /// The installed SKILL.md for Claude Code and for Codex.
    pub fn installed(&self) -> [String; 2] {
        [self.sb.claude_skills(), self.sb.codex_skills()].map(|d| {
            std::fs::read_to_string(d.join(SKILL_DIR).join("SKILL.md")).unwrap_or_default()
        })
    }

    /// Everything useful after a failure: the server's request summary and JSONL path,
    /// skillopt's status, the jobs and the state dir's logs.
    pub fn diagnostics(&self) -> String {
        let mut s = format!(
            "\n===== model server requests ({}) =====\n{}",
            self.server.log_path().display(),
            self.server.summary()
        );
        s += &format!(
            "===== skillopt status =====\n{}\n",
            stdout(&self.sb.skillopt(&["status", "--json"]))
        );
        for state in ["queued", "running", "done", "failed"] {
            for job in self.sb.jobs(state) {
                s += &format!(
                    "===== job {state}/{} =====\n{}\n",
                    job.file_name().unwrap().to_string_lossy(),
                    std::fs::read_to_string(&job).unwrap_or_default()
                );
            }
        }
        let logs = self.sb.state().join("log");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&logs)
            .map(|rd| rd.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        files.sort();
        for f in files {
            s += &format!(
                "===== {} =====\n{}\n",
                f.display(),
                std::fs::read_to_string(&f).unwrap_or_default()
            );
        }
        s
    }
}
