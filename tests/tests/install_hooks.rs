//! `skillopt install/uninstall` against sandboxed agent settings, and the hooks crate's
//! dependency rule.

use skillopt_tests::{stderr, Sandbox};

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
        "skillopt-session-start"
    );
    assert_eq!(
        v["hooks"]["UserPromptExpansion"][0]["hooks"][0]["command"],
        "skillopt-user-prompt-submit"
    );
    let codex = sb.json(&sb.home().join(".codex/hooks.json"));
    assert_eq!(
        codex["hooks"]["PreToolUse"][0]["hooks"][0]["command"],
        "skillopt-pre-tool-use"
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
        assert_eq!(
            hooks["hooks"][event][0]["hooks"][0]["command"], bin,
            "{event}"
        );
    }
}
