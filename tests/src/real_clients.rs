//! The pinned real agent CLIs (Claude Code and Codex), installed from npm into a cache directory
//! that is reused between runs.
//!
//! `SKILLOPT_TEST_CLIENTS_DIR` overrides the cache (default `$XDG_CACHE_HOME/skillopt/test-clients`
//! or `~/.cache/skillopt/test-clients`). When npm or the registry cannot be reached, the
//! real-client tests skip with a one-line reason, unless real clients are required (`CI` or
//! `SKILLOPT_TEST_REQUIRE_REAL_CLIENTS` set), where they fail.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Claude Code's pinned version (later versions need node >= 22).
pub const CLAUDE_CODE_VERSION: &str = "2.1.332";
/// Codex's pinned version.
pub const CODEX_VERSION: &str = "0.171.0";

/// Where the pinned CLIs live.
#[derive(Debug, Clone)]
pub struct RealClients {
    pub dir: PathBuf,
    pub claude: PathBuf,
    pub codex: PathBuf,
}

impl RealClients {
    /// A directory holding only `claude` and `codex` links, to put on a sandbox's PATH.
    pub fn bin_dir(&self) -> PathBuf {
        self.dir.join("node_modules/.bin")
    }
}

/// True when the real-client tests must run (CI): they fail instead of skipping.
pub fn required() -> bool {
    ["CI", "SKILLOPT_TEST_REQUIRE_REAL_CLIENTS"]
        .iter()
        .any(|k| {
            std::env::var(k)
                .ok()
                .is_some_and(|v| !v.is_empty() && v != "0" && v != "false")
        })
}

fn cache_root() -> PathBuf {
    if let Some(d) = std::env::var_os("SKILLOPT_TEST_CLIENTS_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("skillopt/test-clients")
}

fn works(bin: &Path) -> bool {
    Command::new(bin)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn locate(dir: &Path) -> Option<RealClients> {
    let claude = dir.join("node_modules/.bin/claude");
    let codex = dir.join("node_modules/.bin/codex");
    (works(&claude) && works(&codex)).then(|| RealClients {
        dir: dir.to_path_buf(),
        claude,
        codex,
    })
}

fn install(dir: &Path) -> Result<RealClients, String> {
    if let Some(found) = locate(dir) {
        return Ok(found);
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    // Install into a fresh sibling and rename, so a killed install never leaves a half cache.
    let staging = dir.with_extension(format!("partial-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging).map_err(|e| e.to_string())?;
    let out = Command::new("npm")
        .args([
            "install",
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
            // An unreachable registry fails within about a minute instead of retrying for long.
            "--fetch-timeout=30000",
            "--fetch-retries=1",
            "--prefix",
        ])
        .arg(&staging)
        .arg(format!("@anthropic-ai/claude-code@{CLAUDE_CODE_VERSION}"))
        .arg(format!("@openai/codex@{CODEX_VERSION}"))
        .output()
        .map_err(|e| format!("npm cannot be run: {e}"))?;
    if !out.status.success() {
        let _ = std::fs::remove_dir_all(&staging);
        let err = String::from_utf8_lossy(&out.stderr);
        // The most telling line: npm's error code, else its first error line.
        let lines: Vec<&str> = err
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        let line = lines
            .iter()
            .find(|l| l.starts_with("npm error code"))
            .or_else(|| lines.first())
            .copied()
            .unwrap_or("no output");
        return Err(format!("npm install failed: {line}"));
    }
    let _ = std::fs::remove_dir_all(dir);
    std::fs::rename(&staging, dir).map_err(|e| format!("cannot move the install: {e}"))?;
    locate(dir).ok_or_else(|| "installed CLIs do not run `--version`".into())
}

/// The pinned CLIs, installed on first use (once per test process). `None` (after printing why)
/// when they cannot be had and are not required; panics when they are required.
pub fn real_clients() -> Option<RealClients> {
    static CLIENTS: OnceLock<Result<RealClients, String>> = OnceLock::new();
    let dir = cache_root().join(format!(
        "claude-{CLAUDE_CODE_VERSION}_codex-{CODEX_VERSION}"
    ));
    let got = CLIENTS.get_or_init(|| {
        // Several test binaries may install at once: one lock for the cache.
        let _ = std::fs::create_dir_all(cache_root());
        let lock = std::fs::File::create(cache_root().join(".install.lock"));
        if let Ok(f) = &lock {
            use fs4::fs_std::FileExt;
            let _ = f.lock_exclusive();
        }
        // The lock is released when `lock` is dropped, after the install.
        install(&dir)
    });
    match got {
        Ok(c) => Some(c.clone()),
        Err(why) if required() => panic!("real clients are required here but {why}"),
        Err(why) => {
            eprintln!("skipped: real Claude Code / Codex CLIs unavailable ({why})");
            None
        }
    }
}
