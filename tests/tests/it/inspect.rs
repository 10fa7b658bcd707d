//! `skillopt inspect transcript --json` on the real-world fixtures (every use found, nothing in
//! the negatives) and `inspect window` on a small transcript of our own.

use serde_json::{json, Value};
use skillopt_tests::{fixture, skill_md, Sandbox};

fn inspect(sb: &Sandbox, path: &std::path::Path) -> Vec<Value> {
    let out = sb.ok(&["inspect", "transcript", path.to_str().unwrap(), "--json"]);
    serde_json::from_str::<Value>(&out)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// (skill, kind, tool_use_id, failed)
type Expected = (&'static str, &'static str, Option<&'static str>, bool);

#[test]
fn fixtures_every_use_and_no_false_positives() {
    let (Some(claude), Some(codex)) = (fixture("claude"), fixture("codex")) else {
        return;
    };
    let sb = Sandbox::new();
    // (file prefix, expected [(skill, kind, tool_use_id, failed)])
    let expected: Vec<(&str, Vec<Expected>)> = vec![
        (
            "claude/HillviewCap-Personal_AI_Infrastructure__155715ec",
            vec![(
                "Observability",
                "tool",
                Some("toolu_0182h9Gz1Kxs5e1aDmNAnnx2"),
                false,
            )],
        ),
        (
            "claude/HillviewCap-Personal_AI_Infrastructure__agent-af374ee",
            vec![],
        ),
        (
            "claude/marot-spotter__8463c716",
            vec![(
                "handgemacht:commit",
                "tool",
                Some("toolu_01WD7R52g4Tq4muwnGEgs9nD"),
                true,
            )],
        ),
        (
            "claude/marot-spotter__ae4a77f8-aedd",
            vec![(
                "elixir:hex-docs-search",
                "tool",
                Some("toolu_01WY1KAUdfMedBJrV6KAtck5"),
                false,
            )],
        ),
        ("claude/marot-spotter__ae4a77f8__subagents", vec![]),
        ("claude/marot-spotter__short", vec![]),
        (
            "codex/EdouardZemb-test-framework",
            vec![("skill-installer", "injected", None, false)],
        ),
        (
            "codex/MythologIQ-Zo-Qore__rollout-2026-01-22",
            vec![(
                "frontend-bridge-integration",
                "file-read",
                Some("call_e8q3FLygWqqEyxsckVx52IUY"),
                false,
            )],
        ),
        (
            "codex/MythologIQ-Zo-Qore__rollout-2026-01-31",
            vec![("skill-installer", "file-read", None, false)],
        ),
        (
            "codex/MythologIQ-Zo-Qore__rollout-2026-02-19",
            vec![("rust-skills", "file-read", None, false)],
        ),
        // A skill under development read from the project's own tree: not a skill use.
        ("codex/hawkli-1994-dazi-skill", vec![]),
        ("codex/pichi-vm-devmap", vec![]),
    ];
    for (prefix, want) in expected {
        let (dir, stem) = prefix.split_once('/').unwrap();
        let dir = if dir == "claude" { &claude } else { &codex };
        let file = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .find(|p| p.file_name().unwrap().to_string_lossy().starts_with(stem))
            .unwrap_or_else(|| panic!("fixture {prefix} missing"));
        let got = inspect(&sb, &file);
        assert_eq!(got.len(), want.len(), "{prefix}: {got:#?}");
        for (g, (skill, kind, id, failed)) in got.iter().zip(&want) {
            assert_eq!(g["skill"], *skill, "{prefix}");
            assert_eq!(g["kind"], *kind, "{prefix}");
            if let Some(id) = id {
                assert_eq!(g["tool_use_id"], *id, "{prefix}");
            }
            assert_eq!(g["failed"], *failed, "{prefix}");
            assert_eq!(g["sidechain"], false);
            assert_eq!(
                g["org"], false,
                "fixture skills are not in this machine's manifest"
            );
            assert!(g["timestamp"].is_string());
        }
    }
}

#[test]
fn org_flag_sidechain_and_window() {
    let sb = Sandbox::new();
    let d = sb.write_skill("deploy", &skill_md("deploy", "Deploy carefully.\n"));
    sb.ok(&["push", d.to_str().unwrap(), "--author", "alice"]);
    sb.ok(&["pull"]);
    let lines = [
        json!({"type":"user","timestamp":"a","message":{"role":"user","content":"hello"}}),
        json!({"type":"assistant","timestamp":"b","message":{"content":[{"type":"tool_use","id":"toolu_1","name":"Skill","input":{"skill":"deploy--alice"}}]}}),
        json!({"type":"assistant","isSidechain":true,"timestamp":"c","message":{"content":[{"type":"tool_use","id":"toolu_2","name":"Skill","input":{"skill":"other--bob"}}]}}),
        json!({"type":"assistant","isSidechain":true,"timestamp":"c2","message":{"content":[{"type":"text","text":"SUBAGENT CHATTER"}]}}),
        json!({"type":"assistant","timestamp":"d","message":{"content":[{"type":"text","text":"done, token ghp_abcdefghijklmnopqrstuvwxyz0123456789"}]}}),
    ];
    let p = sb.path().join("t.jsonl");
    let mut text: String = lines.iter().map(|l| l.to_string() + "\n").collect();
    text.push_str("{\"type\":\"user\",\"message\":{\"content\":\"torn");
    std::fs::write(&p, text).unwrap();
    let got = inspect(&sb, &p);
    assert_eq!(got.len(), 2);
    assert_eq!(
        (got[0]["org"].clone(), got[0]["sidechain"].clone()),
        (json!(true), json!(false))
    );
    assert_eq!(
        (got[1]["org"].clone(), got[1]["sidechain"].clone()),
        (json!(false), json!(true))
    );
    let w = sb.ok(&[
        "inspect",
        "window",
        p.to_str().unwrap(),
        "--tool-use-id",
        "toolu_1",
        "--reaction",
        "wrong",
    ]);
    assert!(w.contains(">>> SKILL USE: deploy--alice"));
    assert!(
        !w.contains("SUBAGENT CHATTER"),
        "sidechain lines stay apart: {w}"
    );
    assert!(w.contains("[REDACTED:github-token]") && !w.contains("ghp_abc"));
    assert!(w.trim_end().ends_with("[user reaction] wrong"));
    let none = sb.skillopt(&[
        "inspect",
        "window",
        p.to_str().unwrap(),
        "--skill",
        "nope--x",
    ]);
    assert!(!none.status.success());
    assert!(String::from_utf8_lossy(&none.stderr).contains("no use of nope--x"));
    let missing = sb.skillopt(&["inspect", "transcript", "/nonexistent.jsonl"]);
    assert!(!missing.status.success());
    assert_eq!(String::from_utf8_lossy(&missing.stderr).lines().count(), 1);
}
