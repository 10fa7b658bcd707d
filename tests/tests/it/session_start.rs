//! The SessionStart hook as a separate process: attribution with the right versions and bucket,
//! Claude Code and Codex dialects, and "never hurt the host agent" on bad input.
//!
//! Outbox and job counts come from `status --json`, uploaded attributions from `stats --json`.
//! The attribution record itself (`sessions/<id>/attribution.json`: agent, bucket, versions) is
//! read from the state dir: no command shows a session before its sync (see
//! `judge_flow::armed_windows_show_in_status_json` for the field a session view would need).

use skillopt_tests::{fixture, skill_md, Sandbox};

/// An installed org skill `deploy-checklist--alice` at v2, plus `lint--bob` at v1.
fn installed() -> Sandbox {
    let sb = Sandbox::new();
    let d = sb.write_skill("deploy-checklist", &skill_md("deploy-checklist", "one\n"));
    sb.ok(&["push", d.to_str().unwrap(), "--author", "alice"]);
    std::fs::write(d.join("SKILL.md"), skill_md("deploy-checklist", "two\n")).unwrap();
    sb.ok(&["push", d.to_str().unwrap(), "--author", "alice"]);
    let l = sb.write_skill("lint", &skill_md("lint", "lint\n"));
    sb.ok(&["push", l.to_str().unwrap(), "--author", "bob"]);
    sb.ok(&["pull"]);
    sb
}

/// A hook payload from the fixtures; `None` skips (fixtures absent outside CI).
fn payload(name: &str) -> Option<Vec<u8>> {
    Some(std::fs::read(fixture(&format!("payloads/{name}"))?).unwrap())
}

fn expected_bucket(sid: &str) -> u64 {
    u64::from(skillopt_shared::bucket(sid))
}

#[test]
fn claude_and_codex_payloads_write_attribution() {
    for (file, sid, agent) in [
        (
            "claude-session-start.json",
            "00893aaf-19fa-41d2-8238-13269b9b3ca0",
            "claude-code",
        ),
        (
            "codex-session-start.json",
            "019a2d7a-41c4-78b1-b7cc-a45d62a89cd5",
            "codex",
        ),
    ] {
        let Some(bytes) = payload(file) else { return };
        let mut sb = installed();
        sb.set_env("SKILLOPT_SYNC_INTERVAL", "1h");
        std::fs::write(
            sb.state().join("sync.json"),
            format!("{{\"last_sync_at\":\"{}\"}}", chrono_now()),
        )
        .unwrap();
        let out = sb.hook("skillopt-session-start", &bytes);
        assert!(out.status.success());
        assert!(out.stdout.is_empty(), "hook wrote to stdout");
        let a = sb.json(&sb.session_dir(sid).join("attribution.json"));
        assert_eq!(a["agent"], agent);
        assert_eq!(a["bucket"].as_u64().unwrap(), expected_bucket(sid));
        let skills = a["skills"].as_array().unwrap();
        let v = |n: &str| {
            skills
                .iter()
                .find(|s| s["name"] == n)
                .map(|s| s["version"].as_u64().unwrap())
        };
        assert_eq!((v("deploy-checklist"), v("lint")), (Some(2), Some(1)));
        assert_eq!(skills[0]["sha256"].as_str().unwrap().len(), 64);
        assert_eq!(sb.status()["outbox"], 1);
        assert!(
            sb.job_count("queued") == 0,
            "sync requested although the last one is fresh"
        );
    }
}

fn chrono_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    // RFC 3339 via the `date` tool keeps this test free of a time crate.
    let out = std::process::Command::new("date")
        .args(["-u", "-d", &format!("@{secs}"), "+%Y-%m-%dT%H:%M:%SZ"])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn resume_updates_instead_of_duplicating() {
    let mut sb = installed();
    sb.no_auto_sync();
    let start = br#"{"session_id":"s-resume","transcript_path":"/t/s.jsonl","hook_event_name":"SessionStart","source":"startup"}"#;
    sb.hook("skillopt-session-start", start);
    let resume = br#"{"session_id":"s-resume","transcript_path":"/t/s.jsonl","hook_event_name":"SessionStart","source":"resume"}"#;
    sb.hook("skillopt-session-start", resume);
    let a = sb.json(&sb.session_dir("s-resume").join("attribution.json"));
    assert_eq!(a["source"], "resume");
    assert_eq!(a["skills"].as_array().unwrap().len(), 2);
    assert_eq!(sb.status()["outbox"], 1);
}

#[test]
fn skills_whose_files_are_gone_are_not_attributed() {
    let sb = installed();
    std::fs::remove_dir_all(sb.claude_skills().join("lint--bob")).unwrap();
    std::fs::remove_dir_all(sb.codex_skills().join("lint--bob")).unwrap();
    sb.hook(
        "skillopt-session-start",
        br#"{"session_id":"s-gone","hook_event_name":"SessionStart","source":"startup"}"#,
    );
    let a = sb.json(&sb.session_dir("s-gone").join("attribution.json"));
    let names: Vec<_> = a["skills"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].clone())
        .collect();
    assert_eq!(names, vec![serde_json::json!("deploy-checklist")]);
}

#[test]
fn stale_sync_enqueues_a_job_and_spawns_the_worker() {
    let sb = installed();
    sb.hook(
        "skillopt-session-start",
        br#"{"session_id":"s-sync","hook_event_name":"SessionStart","source":"startup"}"#,
    );
    // The detached worker runs the sync job: it ends in done/ and the outbox is uploaded.
    assert!(
        sb.wait_for(20, || sb.job_count("done") == 1),
        "sync job did not finish: {}",
        sb.status()
    );
    // One session, attributed to both installed skills' versions.
    let stats = sb.json_out(&["stats"]);
    let mut sessions: Vec<(String, u64, u64)> = stats["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let n = |k: &str| r[k].as_u64().unwrap_or_default();
            (
                r["skill"].as_str().unwrap().to_string(),
                n("version"),
                n("sessions"),
            )
        })
        .filter(|(_, _, n)| *n > 0)
        .collect();
    sessions.sort();
    assert_eq!(
        sessions,
        [
            ("deploy-checklist--alice".to_string(), 2, 1),
            ("lint--bob".to_string(), 1, 1)
        ],
        "{stats}"
    );
    // A second session within the interval does not ask again.
    sb.hook(
        "skillopt-session-start",
        br#"{"session_id":"s-sync2","hook_event_name":"SessionStart","source":"startup"}"#,
    );
    std::thread::sleep(std::time::Duration::from_millis(300));
    let jobs = &sb.status()["jobs"];
    let n = |k: &str| jobs[k].as_u64().unwrap();
    assert_eq!(n("done") + n("queued") + n("running"), 1, "{jobs}");
}

#[test]
fn hooks_never_hurt_the_agent() {
    let sb = installed();
    let big = vec![b'x'; 20 * 1024 * 1024];
    let inputs: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("garbage", vec![0xff, 0xfe, 0x00, 0x13, 0x37]),
        ("20 MiB", big),
        ("array", b"[1,2,3]".to_vec()),
        (
            "no session",
            br#"{"hook_event_name":"SessionStart"}"#.to_vec(),
        ),
    ];
    for hook in [
        "skillopt-session-start",
        "skillopt-pre-tool-use",
        "skillopt-user-prompt-submit",
    ] {
        for (what, input) in &inputs {
            let out = sb.hook(hook, input);
            assert_eq!(out.status.code(), Some(0), "{hook} on {what}");
            assert!(out.stdout.is_empty(), "{hook} wrote stdout on {what}");
        }
    }
    let log = std::fs::read_to_string(sb.state().join("log/hooks.log")).unwrap();
    assert!(
        log.contains("hook payload is empty") && log.contains("larger than"),
        "{log}"
    );
}

#[test]
fn disabled_hooks_do_nothing() {
    let mut sb = installed();
    sb.set_env("SKILLOPT_DISABLED", "1");
    sb.hook(
        "skillopt-session-start",
        br#"{"session_id":"s-off","hook_event_name":"SessionStart"}"#,
    );
    assert!(!sb.session_dir("s-off").exists());
    let mut sb2 = installed();
    sb2.set_env("SKILLOPT_WORKER", "1");
    sb2.hook(
        "skillopt-session-start",
        br#"{"session_id":"s-off","hook_event_name":"SessionStart"}"#,
    );
    assert!(!sb2.session_dir("s-off").exists());
}

/// Runs a hook binary with command-line arguments (as the installed commands carry them).
fn hook_with_args(sb: &Sandbox, name: &str, args: &[&str], stdin: &[u8]) -> std::process::Output {
    use std::io::Write;
    let mut child = sb
        .cmd(name)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn the_agent_named_by_the_hook_command_wins_over_the_payload_shape() {
    let mut sb = installed();
    sb.no_auto_sync();
    // An ephemeral Codex session: no rollout path, no turn_id — the payload looks like Claude's.
    let ephemeral = br#"{"session_id":"019a2d7a-eph","transcript_path":null,"cwd":"/p","hook_event_name":"SessionStart","model":"gpt-5","permission_mode":"default","source":"startup"}"#;
    let guessed = sb.hook("skillopt-session-start", ephemeral);
    assert!(guessed.status.success());
    let a = sb.json(&sb.session_dir("019a2d7a-eph").join("attribution.json"));
    assert_eq!(
        a["agent"], "claude-code",
        "without --agent the shape is all there is"
    );

    let sid = "019a2d7a-eph2";
    let body = String::from_utf8_lossy(ephemeral).replace("019a2d7a-eph", sid);
    for args in [&["--agent", "codex"][..], &["--agent=codex"][..]] {
        let out = hook_with_args(&sb, "skillopt-session-start", args, body.as_bytes());
        assert!(out.status.success() && out.stdout.is_empty());
        let a = sb.json(&sb.session_dir(sid).join("attribution.json"));
        assert_eq!(a["agent"], "codex", "{args:?}");
    }
    // PreToolUse arms the window for the declared agent too.
    let path = sb.codex_skills().join("deploy-checklist--alice/SKILL.md");
    let pre = serde_json::json!({"session_id":sid,"transcript_path":null,"cwd":"/p","hook_event_name":"PreToolUse","tool_name":"Bash","tool_use_id":"call_1","tool_input":{"command":format!("cat {}", path.display())}});
    let out = hook_with_args(
        &sb,
        "skillopt-pre-tool-use",
        &["--agent", "codex"],
        pre.to_string().as_bytes(),
    );
    assert!(out.status.success() && out.stdout.is_empty());
    let pending = sb.json(&sb.session_dir(sid).join("pending.json"));
    assert_eq!(pending["agent"], "codex");

    // An unknown name is logged, the hook still exits 0 silently and guesses.
    let out = hook_with_args(
        &sb,
        "skillopt-session-start",
        &["--agent", "vim"],
        ephemeral,
    );
    assert!(out.status.success() && out.stdout.is_empty());
    let log = std::fs::read_to_string(sb.state().join("log/hooks.log")).unwrap();
    assert!(log.contains("unknown --agent \"vim\""), "{log}");
}
