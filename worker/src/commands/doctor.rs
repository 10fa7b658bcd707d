//! `skillopt doctor`: shows the settings in effect (and where each came from), then checks that
//! the hooks can run and the registry answers.
//!
//! For Codex it also asks `codex app-server` whether each installed skillopt hook is trusted
//! (Codex skips untrusted hooks silently): one line per hook with its key and `trusted`,
//! `untrusted` or `modified`; any skillopt Codex hook that will not run is a failure. When no
//! `codex` is on PATH the trust cannot be checked: that is a warning, not a failure (Codex is
//! not used from this shell, and a Claude-only user who ran `install all` must still get a clean
//! doctor). With no skillopt Codex hooks installed there is nothing to check.
//!
//! One agent's hooks missing is a warning when the other's are there (a user of only Claude Code
//! or only Codex installs only its hooks); neither installed is a failure.
//!
//! A binary missing from PATH is a failure that says how to get it (npm or cargo). Each one
//! found is asked its `--version`: one of another version or commit than this CLI (an upgrade
//! of one but not the other, or two installs on PATH) is a warning, as is a hook too old to
//! answer (asked with hooks disabled, so an old build only reads the empty stdin and exits), and
//! so is npm's `sh` launcher in a binary's place (npm ran without the package's install script:
//! each hook then starts a `sh` before the binary).

use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use skillopt_state::Paths;

use crate::codex_trust;
use crate::commands::hooks_config::{self, install_state, InstallState, Target};
use crate::registry::wire::WhoAmI;
use crate::registry::RegistryUrl;
use crate::settings::Settings;

/// One read that proves the registry answers: a database is asked for its flags; a server is
/// asked whom the token stands for (which also proves the token), and that is returned.
fn registry_answers(url: &RegistryUrl) -> crate::registry::Result<Option<WhoAmI>> {
    match url {
        RegistryUrl::Http {
            base,
            token,
            ca_cert,
        } => crate::registry::http::HttpRegistry::new(base, token.as_deref(), ca_cert.as_deref())?
            .whoami()
            .map(Some),
        _ => url.open()?.all_flags().map(|_| None),
    }
}

/// How to get the binaries, for a doctor that finds one missing.
const GET_BINARIES: &str =
    "npm install -g skillopt (or, with Rust: cargo install --path hooks and --path worker in a clone)";

/// What `<bin> --version` prints after the binary's name (`0.1.0 (1a2b3c4)`); `None` when it
/// prints no such line within 5 s (killed then). Run with hooks disabled: a hook built before
/// `--version` existed then exits without touching the state.
fn reported_version(bin: &Path) -> Option<String> {
    let mut child = Command::new(bin)
        .arg("--version")
        .env("SKILLOPT_DISABLED", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let deadline = Instant::now() + Duration::from_secs(5);
    while child.try_wait().ok()?.is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let out = child.wait_with_output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let (_, version) = text.lines().next()?.trim().split_once(' ')?;
    Some(version.to_string())
}

/// A warning when the binary at `path` is not of this CLI's version and commit.
fn version_warning(bin: &str, path: &Path) -> Option<String> {
    let fix =
        "reinstall both from one release (npm install -g skillopt, or cargo install both again)";
    match reported_version(path) {
        Some(v) if v == crate::VERSION => None,
        Some(v) => Some(format!(
            "{bin} ({}) is version {v}, this skillopt is {}: {fix}",
            path.display(),
            crate::VERSION
        )),
        None => Some(format!(
            "{bin} ({}) does not report its version (older than this skillopt, {}): {fix}",
            path.display(),
            crate::VERSION
        )),
    }
}

fn hooks_line(state: anyhow::Result<InstallState>, agent: &str, file: &Path) -> (bool, String) {
    let (cmd, name) = match agent {
        "codex" => ("codex", "Codex"),
        _ => ("claude", "Claude Code"),
    };
    match state {
        Ok(InstallState::Current) => (true, format!("{name} hooks in {}", file.display())),
        Ok(InstallState::Missing) => (
            false,
            format!(
                "{name} hooks in {} (skillopt install {cmd})",
                file.display()
            ),
        ),
        Ok(InstallState::Outdated) => (
            false,
            format!(
                "{name} hooks in {} are out of date (re-run skillopt install {cmd})",
                file.display()
            ),
        ),
        Err(e) => (false, format!("{name} hooks: {e:#}")),
    }
}

/// One line per skillopt Codex hook with its trust status; false when one will not run.
fn codex_trust(file: &Path, check: &mut impl FnMut(bool, String)) {
    if hooks_config::count_ours(file).unwrap_or(0) == 0 {
        return; // nothing installed: nothing to trust
    }
    let Some(codex) = codex_trust::find_codex() else {
        println!("[warn] Codex hook trust could not be checked: no `codex` on PATH");
        return;
    };
    let cwd = std::env::current_dir().unwrap_or_else(|_| "/".into());
    let listing = match codex_trust::status(&codex, &cwd, file) {
        Ok(l) => l,
        Err(e) => {
            check(false, format!("Codex hook trust could not be checked: {e}"));
            return;
        }
    };
    if listing.ours.is_empty() {
        for p in &listing.problems {
            println!("       codex: {p}");
        }
        check(
            false,
            format!("Codex loads none of skillopt's hooks in {} (hooks disabled? older builds need `[features] hooks = true`)", file.display()),
        );
    }
    for h in &listing.ours {
        let state = if h.enabled {
            h.status.clone()
        } else {
            format!("{} but disabled", h.status)
        };
        let fix = if h.runs() {
            ""
        } else {
            " (trust it in Codex with /hooks, or run skillopt install codex --trust)"
        };
        check(
            h.runs(),
            format!("Codex hook {} ({}): {state}{fix}", h.key, h.command),
        );
    }
}

/// The settings in effect, one line each with where the value came from.
fn print_settings(settings: &Settings) {
    println!("settings:");
    for s in settings.shown() {
        let value = match &s.value {
            serde_json::Value::String(v) => v.clone(),
            serde_json::Value::Null => "(the CLI's default)".into(),
            other => other.to_string(),
        };
        println!("  {:<28} {value}  [{}]", s.name, s.source);
    }
}

pub fn run(paths: &Paths, settings: &Settings) -> anyhow::Result<ExitCode> {
    print_settings(settings);
    let mut ok = true;
    let mut check = |good: bool, what: String| {
        println!("[{}] {what}", if good { " ok " } else { "FAIL" });
        ok &= good;
    };
    println!("skillopt {}", crate::VERSION);
    let mut missing = false;
    for bin in [
        "skillopt-session-start",
        "skillopt-pre-tool-use",
        "skillopt-user-prompt-submit",
        "skillopt",
    ] {
        let Some(found) = crate::agent::find_on_path(bin) else {
            check(false, format!("{bin} is not on PATH"));
            missing = true;
            continue;
        };
        check(true, format!("{bin} on PATH ({})", found.display()));
        if let Some(warning) = version_warning(bin, &found) {
            println!("[warn] {warning}");
        }
        if crate::npm_launchers::is_npm_launcher(&found) {
            println!("[warn] {bin} ({}) is the npm package's sh launcher, not the native binary (npm did not run the package's install script): `npm rebuild -g skillopt` (npm 12 and later: add --allow-scripts=skillopt) puts the binary in its place", found.display());
        }
    }
    if missing {
        println!("       to get them: {GET_BINARIES}");
    }
    let url = settings.registry_url()?;
    match registry_answers(&url) {
        Ok(who) => {
            let shown = who
                .as_ref()
                .map(|w| format!(" (token of {}, {})", super::one_line(&w.user), w.role))
                .unwrap_or_default();
            check(true, format!("registry {} answers{shown}", url.redacted()));
            if who.is_some_and(|w| w.role < crate::registry::tokens::Role::Member) {
                println!(
                    "[warn] a reader's token: this machine's sessions and judgments are not \
                     recorded (they wait in the outbox); ask for a member token"
                );
            }
        }
        Err(e) => check(false, format!("registry {}: {e}", url.redacted())),
    }
    let claude = paths.claude_settings();
    let codex = paths.codex_hooks();
    // The plugin enabled in any scope a session here sees.
    let plugin = std::env::current_dir().ok().and_then(|cwd| {
        hooks_config::claude_plugin_settings(paths, &cwd)
            .iter()
            .find_map(|f| hooks_config::enabled_claude_plugin(f))
    });
    let claude_state = install_state(&claude, Target::Claude);
    let codex_state = install_state(&codex, Target::Codex);
    let missing = |s: &anyhow::Result<InstallState>| matches!(s, Ok(InstallState::Missing));
    // The plugin brings Claude Code's hooks itself; settings.json should then have none.
    let by_plugin = plugin.is_some() && missing(&claude_state);
    if let Some(plugin) = &plugin {
        if by_plugin {
            check(true, format!("Claude Code hooks from the {plugin} plugin"));
        } else {
            println!(
                "[warn] Claude Code runs skillopt's hooks twice: from the {plugin} plugin and \
                 from {}; `skillopt uninstall claude` keeps the plugin's",
                claude.display()
            );
        }
    }
    let only_one_missing = (missing(&claude_state) && !by_plugin) != missing(&codex_state);
    for (state, agent, file) in [
        (claude_state, "claude", &claude),
        (codex_state, "codex", &codex),
    ] {
        if agent == "claude" && by_plugin {
            continue;
        }
        let is_missing = missing(&state);
        let (good, line) = hooks_line(state, agent, file);
        if is_missing && only_one_missing {
            println!("[warn] {line}: not installed, fine if you do not use it");
        } else {
            check(good, line);
        }
    }
    codex_trust(&codex, &mut check);
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
