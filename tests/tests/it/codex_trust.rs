//! Codex hook trust against the real, pinned Codex CLI: `skillopt install codex --trust` trusts
//! skillopt's hooks (and only those), a re-install keeps every trust (skillopt's and the user's
//! own, whose positional keys must not shift), and `skillopt doctor` reports each hook's status.
//!
//! The evidence is Codex's own `hooks/list` (through `codex app-server`, spoken here by a tiny
//! independent client) — the same status Codex's `/hooks` screen shows and uses to decide
//! whether a hook runs.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{json, Value};
use skillopt_tests::real_clients::real_clients;
use skillopt_tests::{bin, Sandbox};

/// A sandbox with the real `codex` and skillopt's hook binaries on its PATH, and CODEX_HOME
/// inside its HOME.
fn sandbox() -> Option<Sandbox> {
    let clients = real_clients()?;
    let mut sb = Sandbox::new();
    std::fs::create_dir_all(sb.bin_dir()).unwrap();
    std::os::unix::fs::symlink(&clients.codex, sb.bin_dir().join("codex")).unwrap();
    for h in [
        "skillopt",
        "skillopt-session-start",
        "skillopt-pre-tool-use",
        "skillopt-user-prompt-submit",
    ] {
        std::os::unix::fs::symlink(bin(h), sb.bin_dir().join(h)).unwrap();
    }
    let codex_home = sb.home().join(".codex");
    std::fs::create_dir_all(&codex_home).unwrap();
    sb.set_env("CODEX_HOME", codex_home.to_str().unwrap());
    Some(sb)
}

fn hooks_file(sb: &Sandbox) -> PathBuf {
    sb.home().join(".codex/hooks.json")
}

/// One `codex app-server` conversation: initialize, then `requests` in order; their results.
fn app_server(sb: &Sandbox, requests: &[(&str, Value)]) -> Vec<Value> {
    let mut child: Child = sb
        .cmd_at(&sb.bin_dir().join("codex"))
        .arg("app-server")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn codex app-server");
    let mut stdin = child.stdin.take().unwrap();
    let (tx, rx) = mpsc::channel::<Value>();
    let out = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if let Ok(v) = serde_json::from_str::<Value>(&line) {
                let _ = tx.send(v);
            }
        }
    });
    // A request (with an id: waits for its result) or a notification (no id).
    let mut call = |id: Option<u64>, method: &str, params: Value| -> Value {
        let Some(id) = id else {
            writeln!(stdin, "{}", json!({"jsonrpc": "2.0", "method": method})).unwrap();
            return Value::Null;
        };
        let msg = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        writeln!(stdin, "{msg}").unwrap();
        loop {
            let v = rx
                .recv_timeout(Duration::from_secs(30))
                .unwrap_or_else(|e| panic!("codex app-server, {method}: {e}"));
            if v.get("id").and_then(Value::as_u64) == Some(id) && v.get("method").is_none() {
                assert!(v.get("error").is_none(), "{method}: {v}");
                return v["result"].clone();
            }
        }
    };
    let hello = json!({"clientInfo": {"name": "skillopt-tests", "version": "0"}});
    call(Some(0), "initialize", hello);
    call(None, "initialized", Value::Null);
    let results = requests
        .iter()
        .enumerate()
        .map(|(i, (m, p))| call(Some(i as u64 + 1), m, p.clone()))
        .collect();
    drop(stdin);
    let _ = child.wait();
    results
}

/// Every hook Codex loads from the sandbox's hooks.json: command -> (key, trustStatus, hash).
fn hooks(sb: &Sandbox) -> Vec<(String, String, String, String)> {
    let r = app_server(sb, &[("hooks/list", json!({"cwds": [sb.path()]}))]);
    let file = std::fs::canonicalize(hooks_file(sb)).unwrap();
    r[0]["data"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| e["hooks"].as_array().unwrap().clone())
        .filter(|h| {
            std::fs::canonicalize(h["sourcePath"].as_str().unwrap_or("")).ok() == Some(file.clone())
        })
        .map(|h| {
            let s = |k: &str| h[k].as_str().unwrap_or("").to_string();
            (s("command"), s("key"), s("trustStatus"), s("currentHash"))
        })
        .collect()
}

fn status_of(sb: &Sandbox, command: &str) -> String {
    let all = hooks(sb);
    all.iter()
        .find(|h| h.0 == command)
        .unwrap_or_else(|| panic!("{command} not loaded by codex: {all:?}"))
        .2
        .clone()
}

/// Trusts the user's hook the way Codex's `/hooks` screen does.
fn user_trusts(sb: &Sandbox, command: &str) {
    let (_, key, _, hash) = hooks(sb).into_iter().find(|h| h.0 == command).unwrap();
    let edit = json!({"edits": [{"keyPath": format!("hooks.state.\"{key}\".trusted_hash"),
                                  "value": hash, "mergeStrategy": "upsert"}]});
    app_server(sb, &[("config/batchWrite", edit)]);
    assert_eq!(status_of(sb, command), "trusted");
}

fn add_user_hook(sb: &Sandbox, event: &str, command: &str) {
    let mut v = sb.json(&hooks_file(sb));
    v["hooks"][event]
        .as_array_mut()
        .unwrap()
        .push(json!({"matcher": "Bash", "hooks": [{"type": "command", "command": command}]}));
    std::fs::write(hooks_file(sb), serde_json::to_string_pretty(&v).unwrap()).unwrap();
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

const OURS: [&str; 3] = [
    "skillopt-session-start --agent codex",
    "skillopt-pre-tool-use --agent codex",
    "skillopt-user-prompt-submit --agent codex",
];

#[test]
fn install_trust_trusts_only_skillopts_hooks_and_doctor_agrees() {
    let Some(sb) = sandbox() else { return };
    let file = hooks_file(&sb);
    std::fs::write(
        &file,
        r#"{"hooks":{"PreToolUse":[{"matcher":"Bash","hooks":[{"type":"command","command":"mine.sh"}]}]}}"#,
    )
    .unwrap();
    sb.ok(&["install", "all"]);
    for c in OURS {
        assert_eq!(status_of(&sb, c), "untrusted", "{c}");
    }
    // Untrusted hooks never run: doctor names each one and fails.
    let doctor = sb.skillopt(&["doctor"]);
    let text = stdout(&doctor);
    assert!(!doctor.status.success(), "{text}");
    assert!(
        text.contains("[FAIL] Codex hook ")
            && text
                .contains(":session_start:0:0 (skillopt-session-start --agent codex): untrusted"),
        "{text}"
    );

    let out = sb.ok(&["install", "all", "--trust"]);
    assert!(out.contains("Codex hook trusted:"), "{out}");
    for c in OURS {
        assert_eq!(status_of(&sb, c), "trusted", "{c}");
    }
    assert_eq!(
        status_of(&sb, "mine.sh"),
        "untrusted",
        "only ours are trusted"
    );
    let doctor = sb.skillopt(&["doctor"]);
    let text = stdout(&doctor);
    assert!(doctor.status.success(), "{text}");
    assert_eq!(text.matches("): trusted").count(), 3, "{text}");
}

#[test]
fn reinstall_keeps_trust_and_a_user_hook_after_ours_stays_trusted() {
    let Some(sb) = sandbox() else { return };
    let file = hooks_file(&sb);
    sb.ok(&["install", "codex", "--trust"]);
    // The user adds a hook of their own after ours and trusts it in /hooks.
    add_user_hook(&sb, "PreToolUse", "mine-after.sh");
    user_trusts(&sb, "mine-after.sh");
    let before = std::fs::read(&file).unwrap();
    let out = sb.ok(&["install", "codex"]);
    assert!(out.contains("already installed"), "{out}");
    assert_eq!(std::fs::read(&file).unwrap(), before, "byte-identical");
    for c in OURS.iter().copied().chain(["mine-after.sh"]) {
        assert_eq!(status_of(&sb, c), "trusted", "{c}");
    }
    // --trust again has nothing to change and says all is trusted.
    sb.ok(&["install", "codex", "--trust"]);
    // (Claude Code is not installed here, so only the Codex lines must be ok.)
    let text = stdout(&sb.skillopt(&["doctor"]));
    let codex_lines: Vec<&str> = text.lines().filter(|l| l.contains("Codex")).collect();
    assert_eq!(codex_lines.len(), 4, "{text}");
    assert!(
        codex_lines.iter().all(|l| l.starts_with("[ ok ]")),
        "{text}"
    );
}

#[test]
fn upgrading_an_older_install_keeps_the_users_trust_and_doctor_reports_modified() {
    let Some(sb) = sandbox() else { return };
    let file = hooks_file(&sb);
    // An older skillopt's bare commands, the user's own hook following ours, all trusted.
    let old = json!({"hooks": {
        "PreToolUse": [
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
    for c in [
        "skillopt-pre-tool-use",
        "skillopt-session-start",
        "mine-after.sh",
    ] {
        user_trusts(&sb, c);
    }
    sb.ok(&["install", "codex"]);
    // Updated in place: the user's hook kept its key, so its trust.
    assert_eq!(status_of(&sb, "mine-after.sh"), "trusted");
    assert_eq!(status_of(&sb, OURS[0]), "modified");
    assert_eq!(status_of(&sb, OURS[1]), "modified");
    assert_eq!(status_of(&sb, OURS[2]), "untrusted");
    let doctor = sb.skillopt(&["doctor"]);
    let text = stdout(&doctor);
    assert!(!doctor.status.success(), "{text}");
    assert!(
        text.contains(":pre_tool_use:0:0 (skillopt-pre-tool-use --agent codex): modified"),
        "{text}"
    );
    sb.ok(&["install", "codex", "--trust"]);
    for c in OURS.iter().copied().chain(["mine-after.sh"]) {
        assert_eq!(status_of(&sb, c), "trusted", "{c}");
    }
    let backups = std::fs::read_dir(sb.home().join(".codex"))
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("config.toml.skillopt-backup-")
        })
        .count();
    assert_eq!(
        backups, 1,
        "config.toml is backed up before --trust writes it"
    );
}

#[test]
fn uninstall_keeps_the_users_later_hooks_trusted() {
    let Some(sb) = sandbox() else { return };
    sb.ok(&["install", "codex", "--trust"]);
    // The usual order: ours first (a fresh hooks.json), the user's own added later and trusted.
    add_user_hook(&sb, "PreToolUse", "mine-after.sh");
    user_trusts(&sb, "mine-after.sh");
    sb.ok(&["uninstall", "codex"]);
    let all = hooks(&sb);
    assert_eq!(all.len(), 1, "only the user's hook is left: {all:?}");
    assert_eq!(
        status_of(&sb, "mine-after.sh"),
        "trusted",
        "removing ours shifted the user's hook: {all:?}"
    );
    // Re-installing appends ours after it; the user's hook keeps its key and trust.
    sb.ok(&["install", "codex", "--trust"]);
    assert_eq!(status_of(&sb, "mine-after.sh"), "trusted");
    for c in OURS {
        assert_eq!(status_of(&sb, c), "trusted", "{c}");
    }
}
