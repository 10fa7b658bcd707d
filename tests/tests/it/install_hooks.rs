//! `skillopt install/uninstall` against sandboxed agent settings, and the hooks crate's
//! dependency rule.

use skillopt_tests::{stderr, stdout, Sandbox};

#[test]
fn install_merges_backs_up_and_is_idempotent() {
    let sb = Sandbox::new();
    let claude = sb.home().join(".claude/settings.json");
    std::fs::create_dir_all(claude.parent().unwrap()).unwrap();
    std::fs::write(&claude, r#"{"theme":"dark","hooks":{"Stop":[{"hooks":[{"type":"command","command":"notify.sh"}]}]}}"#).unwrap();
    sb.ok(&["install", "all"]);
    let v = sb.json(&claude);
    assert_eq!(v["theme"], "dark");
    assert_eq!(v["hooks"]["Stop"][0]["hooks"][0]["command"], "notify.sh");
    assert_eq!(
        v["hooks"]["SessionStart"][0]["hooks"][0]["command"],
        "skillopt-session-start --agent claude-code"
    );
    assert_eq!(
        v["hooks"]["UserPromptExpansion"][0]["hooks"][0]["command"],
        "skillopt-user-prompt-submit --agent claude-code"
    );
    let codex = sb.json(&sb.home().join(".codex/hooks.json"));
    assert_eq!(
        codex["hooks"]["PreToolUse"][0]["hooks"][0]["command"],
        "skillopt-pre-tool-use --agent codex"
    );
    let backups = || {
        std::fs::read_dir(claude.parent().unwrap())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().contains("skillopt-backup"))
            .count()
    };
    assert_eq!(backups(), 1);
    let first = std::fs::read_to_string(&claude).unwrap();
    assert!(sb.ok(&["install", "claude"]).contains("already installed"));
    assert_eq!(std::fs::read_to_string(&claude).unwrap(), first);
    assert_eq!(backups(), 1, "an idempotent install must not write");
    sb.ok(&["uninstall", "all"]);
    let v = sb.json(&claude);
    assert!(v["hooks"].get("SessionStart").is_none());
    assert_eq!(v["hooks"]["Stop"][0]["hooks"][0]["command"], "notify.sh");
}

/// With the skillopt Claude Code plugin enabled, the plugin runs the hooks: `install all` adds
/// them to Codex only (both sets in Claude Code would fire every hook twice).
#[test]
fn install_leaves_claude_to_an_enabled_skillopt_plugin() {
    let sb = Sandbox::new();
    let claude = sb.home().join(".claude/settings.json");
    std::fs::create_dir_all(claude.parent().unwrap()).unwrap();
    let text = r#"{"enabledPlugins":{"skillopt@skillopt":true}}"#;
    std::fs::write(&claude, text).unwrap();
    let said = sb.ok(&["install", "all"]);
    assert!(
        said.contains("skillopt@skillopt plugin is enabled"),
        "{said}"
    );
    assert_eq!(std::fs::read_to_string(&claude).unwrap(), text);
    let codex = sb.json(&sb.home().join(".codex/hooks.json"));
    assert_eq!(
        codex["hooks"]["SessionStart"][0]["hooks"][0]["command"],
        "skillopt-session-start --agent codex"
    );
    let doctor = stdout(&sb.skillopt(&["doctor"]));
    assert!(
        doctor.contains("[ ok ] Claude Code hooks from the skillopt@skillopt plugin"),
        "{doctor}"
    );
    assert!(!doctor.contains("twice"), "{doctor}");
    // Disabled, it is no plugin of ours at work: the hooks go into settings.json.
    std::fs::write(&claude, r#"{"enabledPlugins":{"skillopt@skillopt":false}}"#).unwrap();
    sb.ok(&["install", "claude"]);
    assert_eq!(
        sb.json(&claude)["hooks"]["SessionStart"][0]["hooks"][0]["command"],
        "skillopt-session-start --agent claude-code"
    );
    // Enabled again with those hooks still there: doctor says they run twice.
    let mut v = sb.json(&claude);
    v["enabledPlugins"]["skillopt@skillopt"] = true.into();
    std::fs::write(&claude, v.to_string()).unwrap();
    let doctor = stdout(&sb.skillopt(&["doctor"]));
    assert!(doctor.contains("runs skillopt's hooks twice"), "{doctor}");
}

#[test]
fn malformed_settings_is_an_error_and_untouched() {
    let sb = Sandbox::new();
    let claude = sb.home().join(".claude/settings.json");
    std::fs::create_dir_all(claude.parent().unwrap()).unwrap();
    std::fs::write(&claude, "{\"hooks\": [").unwrap();
    let o = sb.skillopt(&["install", "all"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("not valid JSON"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&claude).unwrap(), "{\"hooks\": [");
    assert!(
        !sb.home().join(".codex/hooks.json").exists(),
        "nothing may be written"
    );
    let dry = sb.skillopt(&["install", "codex", "--dry-run"]);
    assert!(dry.status.success());
    assert!(!sb.home().join(".codex/hooks.json").exists());
}

#[test]
fn hooks_crate_links_no_runtime_or_database() {
    let out = std::process::Command::new(env!("CARGO"))
        .args([
            "tree",
            "-p",
            "skillopt-hooks",
            "-e",
            "normal",
            "--prefix",
            "none",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = String::from_utf8_lossy(&out.stdout);
    for banned in [
        "tokio ",
        "reqwest",
        "rusqlite",
        "postgres",
        "sqlx",
        "libsqlite3",
    ] {
        assert!(
            !tree
                .lines()
                .any(|l| l.starts_with(banned) || l.starts_with(banned.trim())),
            "hooks link {banned}:\n{tree}"
        );
    }
    assert!(tree.contains("skillopt-state"));
}

#[test]
fn plugin_manifest_and_hooks_json_agree() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let read = |p: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(root.join(p)).unwrap()).unwrap()
    };
    let plugin = read("plugin.json");
    assert_eq!(plugin, read(".claude-plugin/plugin.json"));
    assert_eq!(plugin["name"], "skillopt");
    // Claude Code loads hooks/hooks.json by itself; naming it again is a duplicate-load error.
    assert!(plugin.get("hooks").is_none());
    let hooks = read("hooks/hooks.json");
    for (event, bin) in [
        ("SessionStart", "skillopt-session-start"),
        ("PreToolUse", "skillopt-pre-tool-use"),
        ("UserPromptSubmit", "skillopt-user-prompt-submit"),
        ("UserPromptExpansion", "skillopt-user-prompt-submit"),
    ] {
        // The plugin is Claude Code's: its commands say so (no dialect guessing in the hooks),
        // behind a guard that keeps them silent when the binary is not installed
        // (`plugin::plugin_hooks_*`).
        let command = hooks["hooks"][event][0]["hooks"][0]["command"]
            .as_str()
            .unwrap_or_default();
        assert!(
            command.contains(&format!("exec {bin} --agent claude-code;")),
            "{event}: {command}"
        );
    }
}

#[test]
fn install_codex_prints_the_trust_step_and_trust_is_install_only() {
    let sb = Sandbox::new();
    let out = sb.ok(&["install", "codex"]);
    assert!(
        out.contains("/hooks") && out.contains("skillopt install codex --trust"),
        "{out}"
    );
    let claude_only = sb.ok(&["install", "claude"]);
    assert!(!claude_only.contains("--trust"), "{claude_only}");
    let o = sb.skillopt(&["uninstall", "codex", "--trust"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--trust"), "{}", stderr(&o));
}

#[test]
fn trust_without_codex_on_path_is_a_clear_error_after_installing() {
    let mut sb = Sandbox::new();
    // Only the sandbox's own bin dir: no codex anywhere on PATH.
    std::fs::create_dir_all(sb.bin_dir()).unwrap();
    let only = sb.bin_dir().display().to_string();
    sb.set_env("PATH", &only);
    let o = sb.skillopt(&["install", "all", "--trust"]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains("codex is not installed"), "{err}");
    assert!(err.contains("/hooks"), "{err}");
    // The hooks themselves are installed; doctor says trust could not be checked.
    let codex = sb.json(&sb.home().join(".codex/hooks.json"));
    assert_eq!(
        codex["hooks"]["SessionStart"][0]["hooks"][0]["command"],
        "skillopt-session-start --agent codex"
    );
    let doctor = sb.skillopt(&["doctor"]);
    let text = String::from_utf8_lossy(&doctor.stdout);
    assert!(
        text.contains("[warn] Codex hook trust could not be checked"),
        "{text}"
    );
}

#[test]
fn reinstall_updates_an_older_install_in_place_and_then_is_byte_identical() {
    let sb = Sandbox::new();
    let file = sb.home().join(".codex/hooks.json");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    // An older skillopt's bare commands, with the user's own hooks around them.
    let old = serde_json::json!({"hooks": {
        "PreToolUse": [
            {"matcher": "Bash", "hooks": [{"type": "command", "command": "mine-first.sh"}]},
            {"matcher": "Bash|Read|exec_command|shell|shell_command",
             "hooks": [{"type": "command", "command": "skillopt-pre-tool-use", "timeout": 10}]},
            {"matcher": "Bash", "hooks": [{"type": "command", "command": "mine-after.sh"}]}
        ],
        "SessionStart": [
            {"matcher": "startup|resume|clear|compact",
             "hooks": [{"type": "command", "command": "skillopt-session-start", "timeout": 10}]}
        ]
    }});
    std::fs::write(&file, serde_json::to_string_pretty(&old).unwrap()).unwrap();
    sb.ok(&["install", "codex"]);
    let v = sb.json(&file);
    let pre = v["hooks"]["PreToolUse"].as_array().unwrap();
    assert_eq!(pre.len(), 3, "{v:#}");
    assert_eq!(pre[0]["hooks"][0]["command"], "mine-first.sh");
    assert_eq!(
        pre[1]["hooks"][0]["command"],
        "skillopt-pre-tool-use --agent codex"
    );
    assert_eq!(pre[2]["hooks"][0]["command"], "mine-after.sh");
    assert_eq!(
        v["hooks"]["SessionStart"][0]["hooks"][0]["command"],
        "skillopt-session-start --agent codex"
    );
    // The missing one is appended, at the end of its own event.
    assert_eq!(
        v["hooks"]["UserPromptSubmit"][0]["hooks"][0]["command"],
        "skillopt-user-prompt-submit --agent codex"
    );
    let once = std::fs::read(&file).unwrap();
    assert!(sb.ok(&["install", "codex"]).contains("already installed"));
    assert_eq!(
        std::fs::read(&file).unwrap(),
        once,
        "must stay byte-identical"
    );
}

#[test]
fn doctor_is_clean_for_a_user_of_one_agent_and_fails_with_none() {
    let mut sb = Sandbox::new();
    let bins = skillopt_tests::bin("skillopt");
    let path = format!(
        "{}:{}",
        bins.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    sb.set_env("PATH", &path);
    let none = sb.skillopt(&["doctor"]);
    assert!(!none.status.success(), "{}", stdout(&none));
    sb.ok(&["install", "claude"]);
    let one = sb.skillopt(&["doctor"]);
    let text = stdout(&one);
    assert!(one.status.success(), "{text}");
    assert!(
        text.contains("[warn] Codex hooks in") && text.contains("fine if you do not use it"),
        "{text}"
    );
    assert!(text.contains("[ ok ] Claude Code hooks in"), "{text}");
}

/// The agents run the hook commands from PATH: `install` says when they are not there (each
/// would otherwise fail in every session), and is quiet when they are.
#[test]
fn install_warns_when_the_hooks_are_not_on_path() {
    let sb = Sandbox::new();
    // Only the sandbox's own bin folder (and the system's), whatever this machine installed.
    let path = format!("{}:/usr/bin:/bin", sb.bin_dir().display());
    let install = || {
        sb.skillopt_cmd(&["install", "all"])
            .env("PATH", &path)
            .output()
            .unwrap()
    };
    let out = install();
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("skillopt-session-start, skillopt-pre-tool-use, skillopt-user-prompt-submit not on PATH"),
        "{err}"
    );
    assert!(err.contains("skillopt uninstall all"), "{err}");
    std::fs::create_dir_all(sb.bin_dir()).unwrap();
    for h in [
        "skillopt-session-start",
        "skillopt-pre-tool-use",
        "skillopt-user-prompt-submit",
    ] {
        std::fs::copy(skillopt_tests::bin(h), sb.bin_dir().join(h)).unwrap();
    }
    let out = install();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("not on PATH"), "{}", stderr(&out));
}

/// The plugin enabled for one project only (`/plugin install --scope project`, or `local`):
/// the user-wide hooks still serve every other project, so `install all` adds them and says
/// they run twice in this one; doctor, run there, says so too; `install --project` leaves the
/// project's settings to the plugin.
#[test]
fn a_plugin_enabled_for_one_project_is_seen_there() {
    let sb = Sandbox::new();
    let project = sb.path().join("work/app");
    std::fs::create_dir_all(project.join(".claude")).unwrap();
    let project_settings = project.join(".claude/settings.json");
    let text = r#"{"enabledPlugins":{"skillopt@skillopt":true}}"#;
    std::fs::write(&project_settings, text).unwrap();
    let run = |args: &[&str]| {
        sb.skillopt_cmd(args)
            .current_dir(&project)
            .output()
            .unwrap()
    };
    let out = run(&["install", "all"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("this project also enables the skillopt@skillopt plugin"),
        "{}",
        stderr(&out)
    );
    let user = sb.json(&sb.home().join(".claude/settings.json"));
    assert_eq!(
        user["hooks"]["SessionStart"][0]["hooks"][0]["command"],
        "skillopt-session-start --agent claude-code"
    );
    let doctor = stdout(&run(&["doctor"]));
    assert!(doctor.contains("runs skillopt's hooks twice"), "{doctor}");
    let out = run(&["install", "claude", "--project"]);
    assert!(
        stdout(&out).contains("plugin is enabled"),
        "{}",
        stdout(&out)
    );
    assert_eq!(std::fs::read_to_string(&project_settings).unwrap(), text);
}
