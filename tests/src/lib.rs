//! Test harness for black-box tests: a [`Sandbox`] with its own HOME, state dir and registry,
//! that runs the real skillopt binaries as separate processes, and asserts through what a user
//! sees (`--json` output, installed files, exit codes).
//!
//! * The binaries are built by the harness on first use ([`workspace_bins`]): `cargo test`
//!   alone works, and after the README's `cargo build --workspace` that build is a no-op.
//! * Real-world fixtures are read from `../shared/fixtures` ([`fixtures`], [`fixture`]). When
//!   the directory is absent the tests that need it skip with a message, except in CI (`CI` or
//!   `SKILLOPT_TEST_REQUIRE_FIXTURES` set), where they fail; a fixture missing from a present
//!   directory always fails.
//! * PostgreSQL cases get a fresh schema that is dropped when the test ends ([`pg`]).

pub mod linters;
pub mod model_server;
pub mod npm_dist;
pub mod pg;
pub mod real_clients;
pub mod real_session;
pub mod serve_process;
pub mod skill_session;
pub mod webhook_endpoint;
pub mod workspace_bins;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub use pg::PgSchema;

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .expect("repository root")
}

/// Path of a workspace binary (built first, once per test process, if missing or stale).
pub fn bin(name: &str) -> PathBuf {
    let p = workspace_bins::dir().join(name);
    assert!(
        p.is_file(),
        "{} is missing after `cargo build --workspace --bins`",
        p.display()
    );
    p
}

/// True when the environment variable `k` is set to something other than empty, `0` or `false`.
pub fn env_flag(k: &str) -> bool {
    std::env::var(k)
        .ok()
        .is_some_and(|v| !v.is_empty() && v != "0" && v != "false")
}

/// True when the real-world fixtures must be present (CI): a test needing them fails instead of
/// skipping.
pub fn fixtures_required() -> bool {
    env_flag("CI") || env_flag("SKILLOPT_TEST_REQUIRE_FIXTURES")
}

/// `../shared/fixtures`. When it is absent: `None` after printing that the test is skipped, or a
/// panic when fixtures are required ([`fixtures_required`]).
pub fn fixtures() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures");
    if p.is_dir() {
        return Some(p);
    }
    if fixtures_required() {
        panic!(
            "{} is missing and fixtures are required here (CI or SKILLOPT_TEST_REQUIRE_FIXTURES)",
            p.display()
        );
    }
    eprintln!("skipped: ../shared/fixtures is not present");
    None
}

/// One fixture file or folder, `rel` under `../shared/fixtures`. `None` (skip) only when the
/// whole fixtures directory is absent outside CI; a fixture missing from a present directory
/// always panics, so a renamed or deleted fixture never turns a test into a silent pass.
pub fn fixture(rel: &str) -> Option<PathBuf> {
    let p = fixtures()?.join(rel);
    assert!(
        p.exists(),
        "fixture {} is missing from {}",
        rel,
        p.display()
    );
    Some(p)
}

/// A PostgreSQL registry in a fresh schema, dropped when the returned guard is; `None` (with a
/// message) when `SKILLOPT_TEST_POSTGRES_URL` is unset. Keep the guard alive for the whole test.
pub fn postgres() -> Option<PgSchema> {
    pg::schema()
}

/// A throwaway machine: HOME, XDG dirs, state dir, registry.
pub struct Sandbox {
    pub root: tempfile::TempDir,
    pub registry: String,
    pub env: Vec<(String, String)>,
    /// When set, hooks run from this directory (copies without a `skillopt` beside them).
    pub hook_dir: Option<PathBuf>,
}

impl Default for Sandbox {
    fn default() -> Self {
        Self::new()
    }
}

impl Sandbox {
    /// A sandbox on an embedded SQLite registry.
    pub fn new() -> Self {
        let root = tempfile::tempdir().expect("tempdir");
        let registry = format!(
            "sqlite://{}",
            root.path().join("registry.sqlite3").display()
        );
        let sb = Self {
            root,
            registry,
            env: Vec::new(),
            hook_dir: None,
        };
        std::fs::create_dir_all(sb.home()).unwrap();
        sb
    }

    /// A sandbox on another registry URL.
    pub fn with_registry(url: &str) -> Self {
        let mut sb = Self::new();
        sb.registry = url.to_string();
        sb
    }

    pub fn path(&self) -> &Path {
        self.root.path()
    }
    pub fn home(&self) -> PathBuf {
        self.path().join("home")
    }
    pub fn state(&self) -> PathBuf {
        self.path().join("state")
    }
    pub fn claude_skills(&self) -> PathBuf {
        self.home().join(".claude/skills")
    }
    pub fn codex_skills(&self) -> PathBuf {
        self.home().join(".agents/skills")
    }
    pub fn bin_dir(&self) -> PathBuf {
        self.path().join("bin")
    }

    /// Sets an extra environment variable for every command.
    pub fn set_env(&mut self, k: &str, v: &str) {
        self.env.retain(|(key, _)| key != k);
        self.env.push((k.into(), v.into()));
    }

    /// Makes hooks run from copies with no worker beside them and no worker on PATH, so a
    /// queued job stays queued (a failed spawn) until the test runs the worker itself.
    pub fn hooks_without_worker(&mut self) {
        let dir = self.path().join("hooks-only");
        std::fs::create_dir_all(&dir).unwrap();
        for h in [
            "skillopt-session-start",
            "skillopt-pre-tool-use",
            "skillopt-user-prompt-submit",
        ] {
            std::fs::copy(bin(h), dir.join(h)).unwrap();
        }
        self.hook_dir = Some(dir);
        self.set_env("SKILLOPT_WORKER_BIN", "/nonexistent/skillopt");
    }

    /// A command for a workspace binary with the sandbox's environment (and nothing of the
    /// caller's skillopt/agent configuration).
    pub fn cmd(&self, name: &str) -> Command {
        let program = match &self.hook_dir {
            Some(d) if name != "skillopt" => d.join(name),
            _ => bin(name),
        };
        self.cmd_at(&program)
    }

    /// A command for any program with the sandbox's environment.
    pub fn cmd_at(&self, program: &Path) -> Command {
        let mut c = Command::new(program);
        for (k, _) in std::env::vars() {
            if k.starts_with("SKILLOPT_")
                || k == "CLAUDE_CONFIG_DIR"
                || k == "CODEX_HOME"
                || k.starts_with("XDG_")
            {
                c.env_remove(k);
            }
        }
        let path = format!(
            "{}:{}",
            self.bin_dir().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        c.env("HOME", self.home())
            .env("PATH", path)
            .env("XDG_STATE_HOME", self.path().join("xdg-state"))
            .env("XDG_DATA_HOME", self.path().join("xdg-data"))
            .env("XDG_CONFIG_HOME", self.path().join("xdg-config"))
            .env("SKILLOPT_STATE_DIR", self.state())
            .env("SKILLOPT_REGISTRY", &self.registry)
            .env("SKILLOPT_USER", "tester")
            .current_dir(self.path());
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c
    }

    /// A `skillopt <args>` command, not yet started.
    pub fn skillopt_cmd(&self, args: &[&str]) -> Command {
        let mut c = self.cmd("skillopt");
        c.args(args);
        c
    }

    /// Runs `skillopt <args>`.
    pub fn skillopt(&self, args: &[&str]) -> Output {
        self.cmd("skillopt")
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run skillopt")
    }

    /// Runs `skillopt <args>` and returns stdout, panicking with stderr on failure.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.skillopt(args);
        assert!(
            out.status.success(),
            "skillopt {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs a hook binary with `stdin`.
    pub fn hook(&self, name: &str, stdin: &[u8]) -> Output {
        let mut child = self
            .cmd(name)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn hook");
        let mut input = child.stdin.take().unwrap();
        let data = stdin.to_vec();
        let writer = std::thread::spawn(move || {
            let _ = input.write_all(&data);
        });
        let out = child.wait_with_output().expect("hook output");
        let _ = writer.join();
        out
    }

    /// Marks a sync as just requested, so SessionStart spawns no sync worker during a test (for
    /// the next 24 h; a time in the future would count as long ago).
    pub fn no_auto_sync(&mut self) {
        self.set_env("SKILLOPT_SYNC_INTERVAL", "24h");
        std::fs::create_dir_all(self.state()).unwrap();
        std::fs::write(
            self.state().join("sync.json"),
            format!(r#"{{"last_request_at":"{}"}}"#, utc_now()),
        )
        .unwrap();
    }

    /// Writes JSON lines (a transcript) under the sandbox and returns the path.
    pub fn write_jsonl(&self, name: &str, lines: &[serde_json::Value]) -> PathBuf {
        let p = self.path().join(name);
        let text: String = lines.iter().map(|l| l.to_string() + "\n").collect();
        std::fs::write(&p, text).unwrap();
        p
    }

    /// Writes `<dir>/SKILL.md` under the sandbox and returns the dir.
    pub fn write_skill(&self, dir: &str, text: &str) -> PathBuf {
        let d = self.path().join("src-skills").join(dir);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("SKILL.md"), text).unwrap();
        d
    }

    /// Runs `skillopt <args> --json` and parses its stdout, panicking with stderr on failure.
    pub fn json_out(&self, args: &[&str]) -> serde_json::Value {
        let mut a = args.to_vec();
        a.push("--json");
        let out = self.ok(&a);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("skillopt {a:?}: {e}: {out}"))
    }

    /// `skillopt status --json`.
    pub fn status(&self) -> serde_json::Value {
        self.json_out(&["status"])
    }

    /// The id of the oldest queued job, as `skillopt status --json` lists it (`recent_jobs`).
    pub fn queued_job_id(&self) -> String {
        let s = self.status();
        s["recent_jobs"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|j| j["state"] == "queued")
            .filter_map(|j| j["id"].as_str())
            .min()
            .unwrap_or_else(|| panic!("no queued job in status --json: {s}"))
            .to_string()
    }

    /// How many jobs are in a queue state (`queued`, `running`, `done`, `failed`, `corrupt`),
    /// as `skillopt status --json` reports it.
    pub fn job_count(&self, state: &str) -> u64 {
        let s = self.status();
        s["jobs"][state]
            .as_u64()
            .unwrap_or_else(|| panic!("no jobs.{state} in status --json: {s}"))
    }

    /// Runs `skillopt worker drain --json` and returns its `ran` entries (`{job, result}`).
    pub fn drain(&self) -> Vec<serde_json::Value> {
        let d = self.json_out(&["worker", "drain"]);
        d["ran"].as_array().cloned().unwrap_or_default()
    }

    // Internal surfaces below: for tests that plant hostile files, and for what no command
    // shows yet. Prefer the `--json` output above; say why at each use.

    /// Opens the sandbox's SQLite registry directly (for planting hostile rows).
    pub fn sqlite(&self) -> rusqlite::Connection {
        let p = self
            .registry
            .strip_prefix("sqlite://")
            .expect("sqlite registry");
        rusqlite::Connection::open(p).unwrap()
    }

    /// Reads a JSON file (an installed agent settings file, or internal state).
    pub fn json(&self, path: &Path) -> serde_json::Value {
        serde_json::from_slice(
            &std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
        )
        .unwrap()
    }

    /// The state dir's session directory for a session id (ids in tests are path-safe;
    /// internal state).
    pub fn session_dir(&self, sid: &str) -> PathBuf {
        self.state().join("sessions").join(sid)
    }

    /// Job files in a queue state (internal state: a job's payload and result are not shown by
    /// any command except `worker drain --json`).
    pub fn jobs(&self, state: &str) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(self.state().join("jobs").join(state))
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "json"))
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }

    /// Waits until `cond` holds (polling), up to `secs`.
    pub fn wait_for(&self, secs: u64, mut cond: impl FnMut() -> bool) -> bool {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        while std::time::Instant::now() < deadline {
            if cond() {
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        cond()
    }
}

/// A scripted fake agent CLI (`claude`, `codex`, …) on the sandbox's PATH. Each call records
/// its argv (NUL-separated), env, working directory (and what it held) and stdin under
/// `agent-calls/<n>/`, writes `started`, sleeps
/// `FAKE_AGENT_SLEEP` seconds (optionally leaving a child behind with `FAKE_AGENT_CHILD=1`),
/// then prints `agent-script/reply-verifier` when the prompt is the verifier's (it starts with
/// `VERIFY PROPOSED EDIT`; until a test says otherwise the verifier confirms every proposal),
/// `agent-script/reply-proposer` when it is a proposer's, else `agent-script/reply-judge`, writes `finished`, and exits with `FAKE_AGENT_EXIT` (default 0).
pub struct FakeAgent {
    pub calls_dir: PathBuf,
    pub script_dir: PathBuf,
}

const FAKE_AGENT: &str = r#"#!/usr/bin/env bash
calls="$FAKE_AGENT_HOME/agent-calls"
script="$FAKE_AGENT_HOME/agent-script"
mkdir -p "$calls"
n=$(mktemp -d "$calls/call-XXXXXXXX")
printf '%s\0' "$(basename "$0")" "$@" > "$n/argv"
env > "$n/env"
pwd -P > "$n/cwd"
ls -A > "$n/cwd-listing"
cat > "$n/stdin"
echo $$ > "$n/started"
if [ "${FAKE_AGENT_CHILD:-0}" = 1 ]; then sleep 600 & echo $! > "$n/child"; fi
if [ -n "${FAKE_AGENT_SLEEP:-}" ]; then sleep "$FAKE_AGENT_SLEEP"; fi
if grep -q "VERIFY PROPOSED EDIT" "$n/stdin"; then reply="$script/reply-verifier"
elif grep -q "CONFIRMED FAILURE" "$n/stdin"; then reply="$script/reply-proposer"
else reply="$script/reply-judge"; fi
[ -f "$reply" ] && cat "$reply"
touch "$n/finished"
exit "${FAKE_AGENT_EXIT:-0}"
"#;

/// One recorded call of the fake agent.
#[derive(Debug)]
pub struct AgentCall {
    pub dir: PathBuf,
    pub argv: Vec<String>,
    pub env: String,
    pub stdin: String,
    /// The directory the agent ran in, and the names it held then.
    pub cwd: PathBuf,
    pub cwd_listing: String,
}

impl AgentCall {
    pub fn env_has(&self, kv: &str) -> bool {
        self.env.lines().any(|l| l == kv)
    }
}

impl FakeAgent {
    /// Installs fake `names` (e.g. `claude`, `codex`) into the sandbox's bin dir.
    pub fn install(sb: &mut Sandbox, names: &[&str]) -> Self {
        use std::os::unix::fs::PermissionsExt;
        std::fs::create_dir_all(sb.bin_dir()).unwrap();
        for name in names {
            let p = sb.bin_dir().join(name);
            std::fs::write(&p, FAKE_AGENT).unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let home = sb.path().to_str().unwrap().to_string();
        sb.set_env("FAKE_AGENT_HOME", &home);
        let fa = Self {
            calls_dir: sb.path().join("agent-calls"),
            script_dir: sb.path().join("agent-script"),
        };
        std::fs::create_dir_all(&fa.script_dir).unwrap();
        fa.verifier_replies(&claude_json(
            r#"{"prevents_failure":true,"breaks":[],"reason":"the edit addresses the failure"}"#,
        ));
        fa
    }

    /// Sets the verifier's stdout.
    pub fn verifier_replies(&self, stdout: &str) {
        std::fs::write(self.script_dir.join("reply-verifier"), stdout).unwrap();
    }

    /// Sets the judge's stdout.
    pub fn judge_replies(&self, stdout: &str) {
        std::fs::write(self.script_dir.join("reply-judge"), stdout).unwrap();
    }

    /// Sets the proposer's stdout.
    pub fn proposer_replies(&self, stdout: &str) {
        std::fs::write(self.script_dir.join("reply-proposer"), stdout).unwrap();
    }

    /// Every call so far (order of their start).
    pub fn calls(&self) -> Vec<AgentCall> {
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(&self.calls_dir)
            .map(|rd| rd.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        dirs.sort_by_key(|d| {
            std::fs::metadata(d.join("argv"))
                .and_then(|m| m.modified())
                .ok()
        });
        dirs.into_iter()
            .filter(|d| d.join("started").exists())
            .map(|d| AgentCall {
                argv: std::fs::read_to_string(d.join("argv"))
                    .unwrap_or_default()
                    .split_terminator('\0')
                    .map(str::to_string)
                    .collect(),
                env: std::fs::read_to_string(d.join("env")).unwrap_or_default(),
                stdin: std::fs::read_to_string(d.join("stdin")).unwrap_or_default(),
                cwd: PathBuf::from(
                    std::fs::read_to_string(d.join("cwd"))
                        .unwrap_or_default()
                        .trim_end(),
                ),
                cwd_listing: std::fs::read_to_string(d.join("cwd-listing")).unwrap_or_default(),
                dir: d,
            })
            .collect()
    }
}

/// `claude -p --output-format json` stdout carrying `text` as `.result`.
pub fn claude_json(text: &str) -> String {
    serde_json::json!({"type":"result","subtype":"success","is_error":false,"result":text})
        .to_string()
}

/// [`claude_json`] that also reports the call's cost and tokens, as Claude Code does
/// (`total_cost_usd`, `usage.input_tokens` / `cache_read_input_tokens` / `output_tokens`).
pub fn claude_json_with_usage(
    text: &str,
    cost_usd: f64,
    input_tokens: u64,
    cache_read_input_tokens: u64,
    output_tokens: u64,
) -> String {
    serde_json::json!({"type":"result","subtype":"success","is_error":false,"result":text,
        "total_cost_usd":cost_usd,
        "usage":{"input_tokens":input_tokens,"cache_creation_input_tokens":0,
                 "cache_read_input_tokens":cache_read_input_tokens,"output_tokens":output_tokens}})
    .to_string()
}

/// Starts every command at once (stdout and stderr captured), then waits for all of them.
pub fn run_concurrently(cmds: Vec<Command>) -> Vec<Output> {
    let children: Vec<_> = cmds
        .into_iter()
        .map(|mut c| {
            c.stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    children
        .into_iter()
        .map(|c| c.wait_with_output().expect("wait"))
        .collect()
}

/// A SKILL.md with a name, a description and a body.
pub fn skill_md(name: &str, body: &str) -> String {
    format!("---\nname: {name}\ndescription: Use when deploying {name}.\n---\n{body}")
}

/// The current time as RFC 3339 UTC (`2024-05-01T12:00:00Z`).
pub fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Stdout as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Stderr as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
