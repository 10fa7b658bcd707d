//! Issue 12's Claude Code plugin, black-box: its marketplace checked by the pinned real CLI's
//! own validator, then installed from a local copy of the marketplace into a sandbox HOME and
//! run in real sessions against the scripted model server, once with the npm-installed binaries
//! on PATH (the hooks fire) and once with none (no hook error, nothing recorded); its guarded
//! hook commands: silent, exit 0 with no binaries, the binary's own run, argv and stdin when
//! there is one; the plugin's and marketplace's versions.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use skillopt_tests::npm_dist::{npm_installed, BINARIES};
use skillopt_tests::real_clients::{real_clients, RealClients};
use skillopt_tests::real_session::{script, RealSession, AUTHOR, SKILL, SKILL_BODY, SKILL_DIR};
use skillopt_tests::{bin, repo, skill_md, stderr, stdout, Sandbox};

/// `(event, command)` of every hook in the plugin's `hooks/hooks.json`.
fn plugin_hooks() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(repo().join("hooks/hooks.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let mut out = Vec::new();
    for (event, groups) in v["hooks"].as_object().expect("hooks object") {
        for group in groups.as_array().into_iter().flatten() {
            for h in group["hooks"].as_array().into_iter().flatten() {
                out.push((event.clone(), h["command"].as_str().unwrap().to_string()));
            }
        }
    }
    assert_eq!(out.len(), 4, "{text}");
    out
}

/// Runs `command` the way Claude Code runs a hook (`<shell> -c`), with exactly `env` and the
/// payload on stdin.
fn run_hook(shell: &str, command: &str, env: &[(&str, &Path)], payload: &str) -> Output {
    let mut c = Command::new(shell);
    c.arg("-c")
        .arg(command)
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        c.env(k, v);
    }
    let mut child = c.spawn().unwrap_or_else(|e| panic!("{shell}: {e}"));
    // A hook that exits without reading its stdin closes the pipe: ignore EPIPE.
    let _ = child.stdin.take().unwrap().write_all(payload.as_bytes());
    child.wait_with_output().unwrap()
}

/// The shells Claude Code may run hook commands with on this machine.
fn shells() -> Vec<&'static str> {
    ["/bin/sh", "/bin/bash"]
        .into_iter()
        .filter(|s| Path::new(s).exists())
        .collect()
}

fn payload(event: &str) -> String {
    serde_json::json!({"session_id": "plugin-hook-test", "hook_event_name": event,
                       "cwd": "/tmp", "source": "startup"})
    .to_string()
}

#[test]
fn plugin_hooks_are_silent_and_exit_0_without_the_binaries() {
    let tmp = tempfile::tempdir().unwrap();
    let empty = tmp.path().join("empty-bin");
    std::fs::create_dir_all(&empty).unwrap();
    for (event, command) in plugin_hooks() {
        for shell in shells() {
            // No PATH at all (the shell's default path), and a PATH of one empty directory.
            for env in [
                vec![("HOME", tmp.path())],
                vec![("HOME", tmp.path()), ("PATH", empty.as_path())],
            ] {
                let out = run_hook(shell, &command, &env, &payload(&event));
                assert!(
                    out.status.success() && out.stdout.is_empty() && out.stderr.is_empty(),
                    "{event} under {shell} with {env:?}: {:?}\nstdout: {}\nstderr: {}",
                    out.status,
                    stdout(&out),
                    stderr(&out)
                );
            }
        }
    }
}

#[test]
fn plugin_hooks_run_their_binary_from_path_with_the_payload() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let bin_dir = tmp.path().join("bin");
    std::fs::create_dir_all(&bin_dir).unwrap();
    // Stand-ins that record their argv and stdin, then exit 0 like the real hooks.
    for name in &BINARIES[1..] {
        let p = bin_dir.join(name);
        std::fs::write(
            &p,
            format!(
                "#!/bin/sh\nprintf '%s\\n' \"$@\" > \"$HOME/{name}.argv\"\ncat > \"$HOME/{name}.stdin\"\n"
            ),
        )
        .unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    for (event, command) in plugin_hooks() {
        let name = BINARIES[1..]
            .iter()
            .find(|b| command.contains(&format!("exec {b} ")))
            .unwrap_or_else(|| panic!("{event}'s command runs none of the hooks: {command}"));
        for shell in shells() {
            let _ = std::fs::remove_file(tmp.path().join(format!("{name}.argv")));
            let path = format!("{}:/usr/bin:/bin", bin_dir.display());
            let env = [("HOME", tmp.path()), ("PATH", Path::new(&path))];
            let out = run_hook(shell, &command, &env, &payload(&event));
            assert!(out.status.success(), "{event} under {shell}: {out:?}");
            let argv = std::fs::read_to_string(tmp.path().join(format!("{name}.argv")))
                .unwrap_or_else(|_| panic!("{event} under {shell} did not run {name}"));
            assert_eq!(argv, "--agent\nclaude-code\n", "{event} under {shell}");
            let stdin = std::fs::read_to_string(tmp.path().join(format!("{name}.stdin"))).unwrap();
            assert_eq!(stdin, payload(&event), "{event} under {shell}");
        }
    }

    // And the real SessionStart binary, through the plugin's command, records the session.
    let mut sb = Sandbox::new();
    sb.no_auto_sync();
    let (_, command) = plugin_hooks()
        .into_iter()
        .find(|(e, _)| e == "SessionStart")
        .unwrap();
    let mut c = sb.cmd_at(Path::new("/bin/sh"));
    c.arg("-c")
        .arg(&command)
        .env("PATH", bin("skillopt-session-start").parent().unwrap())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let _ = child
        .stdin
        .take()
        .unwrap()
        .write_all(payload("SessionStart").as_bytes());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success() && out.stdout.is_empty(), "{out:?}");
    // Internal state: the attribution SessionStart writes (no command lists a session that
    // used no org skill).
    let attribution = sb.session_dir("plugin-hook-test").join("attribution.json");
    let a = sb.json(&attribution);
    assert_eq!(a["agent"], "claude-code", "{a}");
}

#[test]
fn plugin_and_marketplace_versions_are_the_workspace_version() {
    // Claude Code updates an installed plugin when its version changes; the release workflow
    // refuses a tag whose version the manifests do not carry.
    let root = repo();
    let cargo = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let version = cargo
        .split("[workspace.package]")
        .nth(1)
        .and_then(|t| t.lines().find_map(|l| l.trim().strip_prefix("version = ")))
        .map(|v| v.trim_matches('"').to_string())
        .expect("[workspace.package] version");
    let read = |p: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(root.join(p)).unwrap()).unwrap()
    };
    let plugin = read(".claude-plugin/plugin.json");
    let market = read(".claude-plugin/marketplace.json");
    assert_eq!(plugin["version"], version.as_str());
    assert_eq!(market["name"], "skillopt");
    let entries = market["plugins"].as_array().expect("plugins");
    assert_eq!(entries.len(), 1, "{market}");
    assert_eq!(entries[0]["name"], "skillopt");
    assert_eq!(entries[0]["source"], "./");
    assert_eq!(entries[0]["version"], version.as_str());
}

/// `claude <args>` from the pinned CLI with a throwaway HOME and none of the caller's agent
/// environment.
fn claude(clients: &RealClients, home: &Path, args: &[&str]) -> Output {
    let mut c = Command::new(&clients.claude);
    c.args(args)
        .env_clear()
        .env("HOME", home)
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("DISABLE_AUTOUPDATER", "1")
        .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
        .env("DISABLE_TELEMETRY", "1")
        .env("DISABLE_ERROR_REPORTING", "1")
        .stdin(Stdio::null());
    c.output().unwrap()
}

#[test]
fn claude_code_validates_the_plugin_and_its_marketplace() {
    let Some(clients) = real_clients() else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let root = repo();
    let root_s = root.to_str().unwrap();
    let out = claude(
        &clients,
        home.path(),
        &[
            "plugin",
            "validate",
            "--json",
            "--strict",
            "--profile",
            "directory",
            root_s,
        ],
    );
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("validate printed no JSON ({e}): {out:?}"));
    assert!(out.status.success(), "{report:#}");
    assert_eq!(report["success"], true, "{report:#}");
    assert_eq!(report["manifest"]["type"], "marketplace", "{report:#}");
    assert_eq!(report["manifest"]["errors"], serde_json::json!([]));
    assert_eq!(report["manifest"]["warnings"], serde_json::json!([]));
    // The plugin directory's checks (icon, license, …) find nothing.
    assert_eq!(
        report["directory"]["findings"],
        serde_json::json!([]),
        "{report:#}"
    );
    // No advice either: the README carries the install line the validator looks for.
    let advice = report["advice"].as_array().cloned().unwrap_or_default();
    assert_eq!(advice, Vec::<Value>::new(), "{report:#}");
    // The hooks it sees are the plugin's, one per event.
    let mut seen: Vec<(String, String)> = report["provides"]["hooks"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|h| {
            (
                h["event"].as_str().unwrap_or_default().to_string(),
                h["command"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let mut want = plugin_hooks();
    seen.sort();
    want.sort();
    assert_eq!(seen, want, "{report:#}");

    // The plugin manifest on its own, strictly.
    let manifest = root.join(".claude-plugin/plugin.json");
    let out = claude(
        &clients,
        home.path(),
        &[
            "plugin",
            "validate",
            "--json",
            "--strict",
            manifest.to_str().unwrap(),
        ],
    );
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("validate printed no JSON ({e}): {out:?}"));
    assert!(out.status.success(), "{report:#}");
    assert_eq!(report["manifest"]["type"], "plugin", "{report:#}");
    assert_eq!(report["manifest"]["errors"], serde_json::json!([]));
    assert_eq!(report["manifest"]["warnings"], serde_json::json!([]));
}

/// A copy of what a clone of the repository holds for Claude Code (the marketplace, the plugin
/// manifest, its hooks, icon, README and LICENSE), without the build's target directory, which
/// an install from the repository root itself would copy into the plugin cache.
fn marketplace_copy(dest: &Path) -> PathBuf {
    let root = repo();
    let dir = dest.join("skillopt-repo");
    for f in [
        ".claude-plugin/marketplace.json",
        ".claude-plugin/plugin.json",
        ".claude-plugin/icon.png",
        "plugin.json",
        "hooks/hooks.json",
        "README.md",
        "LICENSE",
    ] {
        let to = dir.join(f);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(root.join(f), &to).unwrap_or_else(|e| panic!("{f}: {e}"));
    }
    dir
}

/// A real session's machine with the plugin installed from the local marketplace (and no hooks
/// of `skillopt install`) and the org skill pushed and pulled, whose CLIs run on `path`.
fn session_with_plugin(clients: RealClients, path: &str) -> RealSession {
    let mut rs = RealSession::new(clients, script());
    rs.sb.set_env("PATH", path);
    let dir = rs.sb.write_skill(SKILL, &skill_md(SKILL, SKILL_BODY));
    rs.sb
        .ok(&["push", dir.to_str().unwrap(), "--author", AUTHOR]);
    rs.sb.ok(&["pull"]);
    let market = marketplace_copy(rs.sb.path());
    for args in [
        vec!["plugin", "marketplace", "add", market.to_str().unwrap()],
        vec!["plugin", "install", "skillopt@skillopt"],
    ] {
        let out = rs.cli(&rs.clients.claude).args(&args).output().unwrap();
        assert!(
            out.status.success(),
            "claude {args:?}: {}{}",
            stdout(&out),
            stderr(&out)
        );
    }
    // Only the plugin can fire skillopt's hooks: the user's settings hold none.
    let settings = rs.sb.home().join(".claude/settings.json");
    let text = std::fs::read_to_string(&settings).unwrap_or_default();
    assert!(!text.contains("skillopt-session-start"), "{text}");
    rs
}

/// The session's transcript (`~/.claude/projects/<cwd with / as ->/<session id>.jsonl`).
fn transcript(rs: &RealSession, sid: &str) -> String {
    let project = rs.project.canonicalize().unwrap();
    let slug = project.to_str().unwrap().replace(['/', '.'], "-");
    let p = rs
        .sb
        .home()
        .join(".claude/projects")
        .join(slug)
        .join(format!("{sid}.jsonl"));
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn the_plugin_from_the_local_marketplace_fires_the_npm_installed_hooks_in_a_real_session() {
    let Some(clients) = real_clients() else {
        return;
    };
    let Some(npm) = npm_installed() else {
        return;
    };
    // The hooks and the worker come from the npm install only: no cargo build dir on PATH.
    let path = format!("{}:{}", npm.path(), clients.bin_dir().display());
    let rs = session_with_plugin(clients, &path);
    let first = rs.claude(&[], &format!("[[skill-tool {SKILL_DIR}]] deploy the shop"));
    let sid = first["session_id"]
        .as_str()
        .expect("session_id")
        .to_string();
    // SessionStart ran, as Claude Code's: the session is attributed to the installed version
    // (uploaded by the worker that SessionStart started, from the npm install too).
    let attributed = rs.sb.wait_for(30, || {
        rs.json(&["log", SKILL_DIR])["versions"][0]["sessions"] == 1
    });
    let log = rs.json(&["log", SKILL_DIR]);
    assert!(
        attributed,
        "the plugin's SessionStart did not attribute the session: {log}{}",
        rs.diagnostics()
    );
    assert_eq!(
        log["versions"][0]["sessions_by_agent"],
        serde_json::json!({"claude-code": 1}),
        "{log}"
    );
    // PreToolUse ran on the Skill call: the session's judgment window is armed (internal
    // state: no command shows an open window).
    let window = rs.sb.session_dir(&sid).join("pending.json");
    assert!(
        window.is_file(),
        "the plugin's PreToolUse armed no window{}",
        rs.diagnostics()
    );
    assert_eq!(rs.sb.json(&window)["skill"], SKILL_DIR);
}

#[test]
fn the_plugin_without_the_binaries_leaves_a_real_session_untouched() {
    let Some(clients) = real_clients() else {
        return;
    };
    // No skillopt binary anywhere on PATH.
    let path = format!("{}:/usr/bin:/bin", clients.bin_dir().display());
    let rs = session_with_plugin(clients, &path);
    let first = rs.claude(&[], &format!("[[skill-tool {SKILL_DIR}]] deploy the shop"));
    let sid = first["session_id"]
        .as_str()
        .expect("session_id")
        .to_string();
    let second = rs.claude(&["--resume", &sid], "thanks");
    assert_eq!(second["is_error"], false, "{second}");
    // Claude Code records a hook that failed (e.g. `sh: 1: skillopt-session-start: not found`,
    // exit 127) as a `hook_non_blocking_error` attachment in the transcript, and shows it.
    let t = transcript(&rs, &sid);
    let hook_records: Vec<Value> = t
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|v| v.get("attachment").cloned())
        .filter(|a| a["hookEvent"].is_string())
        .collect();
    let failed: Vec<&Value> = hook_records
        .iter()
        .filter(|a| {
            a["type"].as_str().is_some_and(|t| t.contains("error"))
                || a["exitCode"].as_i64().is_some_and(|c| c != 0)
        })
        .collect();
    assert!(failed.is_empty(), "hooks failed: {failed:#?}");
    // Nothing was recorded: no attribution, no window.
    assert!(!rs.sb.session_dir(&sid).exists(), "{}", rs.diagnostics());
}
