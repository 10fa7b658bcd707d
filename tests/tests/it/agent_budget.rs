//! Cost and noise, end to end with the real hook binaries and a scripted fake agent: the daily
//! agent call budget, judge sampling, the circuit breaker after repeated agent errors, and what
//! each call cost in `stats --json`.
//!
//! Each window is one session in which the skill is used and the user reacts; its judge job
//! stays queued (no worker beside the hooks) until `worker drain --json` runs it. Everything is
//! asserted through `worker drain --json`, `status --json`, `stats --json` and the fake agent's
//! record of the calls it got.

use serde_json::{json, Value};
use skillopt_tests::{claude_json, claude_json_with_usage, skill_md, utc_now, FakeAgent, Sandbox};

const SKILL: &str = "deploy--alice";

const SUCCESS: &str =
    r#"{"outcome":"success","skill_at_fault":false,"confidence":0.8,"reason":"deployed fine"}"#;

/// A machine with `deploy--alice` v1 installed, a fake claude judging every use a success, no
/// automatic sync, and hooks that leave judge jobs queued.
fn machine() -> (Sandbox, FakeAgent) {
    let mut sb = Sandbox::new();
    sb.hooks_without_worker();
    sb.no_auto_sync();
    let agent = FakeAgent::install(&mut sb, &["claude"]);
    agent.judge_replies(&claude_json(SUCCESS));
    let d = sb.write_skill(
        "deploy",
        &skill_md(
            "deploy",
            "1. Run tests.\n2. Skip the migration.\n3. Deploy.\n",
        ),
    );
    sb.ok(&["push", d.to_str().unwrap(), "--author", "alice"]);
    sb.ok(&["pull"]);
    (sb, agent)
}

/// One judgment window: session `sid` uses the skill and the user reacts; one judge job is
/// queued.
fn window(sb: &Sandbox, sid: &str) {
    let id = format!("toolu_{sid}");
    let lines = [
        json!({"type":"user","message":{"role":"user","content":"deploy to staging"}}),
        json!({"type":"assistant","message":{"content":[{"type":"tool_use","id":id,"name":"Skill","input":{"skill":SKILL}}]}}),
        json!({"type":"assistant","message":{"content":[{"type":"text","text":"Deployed to staging."}]}}),
    ];
    let t = sb.write_jsonl(&format!("{sid}.jsonl"), &lines);
    let tp = t.to_str().unwrap();
    sb.hook("skillopt-pre-tool-use", json!({"session_id":sid,"transcript_path":tp,"hook_event_name":"PreToolUse","tool_name":"Skill","tool_input":{"skill":SKILL},"tool_use_id":id}).to_string().as_bytes());
    let before = sb.job_count("queued");
    sb.hook("skillopt-user-prompt-submit", json!({"session_id":sid,"transcript_path":tp,"hook_event_name":"UserPromptSubmit","prompt":"thanks, looks good"}).to_string().as_bytes());
    assert_eq!(sb.job_count("queued"), before + 1, "no judge job for {sid}");
}

/// Runs every queued job; their results in the order they ran.
fn drain(sb: &Sandbox) -> Vec<Value> {
    sb.drain()
        .into_iter()
        .map(|r| r["result"].clone())
        .collect()
}

/// `stats --json`'s judged uses of v1 (what the registry holds for it).
fn judged(sb: &Sandbox) -> Value {
    let stats = sb.json_out(&["stats"]);
    stats["versions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["skill"] == SKILL && r["version"] == 1)
        .map(|r| r["judged"].clone())
        .unwrap_or_else(|| panic!("no stats row for v1: {stats}"))
}

#[test]
fn a_spent_budget_skips_the_next_window_without_an_agent_call() {
    let (mut sb, agent) = machine();
    sb.set_env("SKILLOPT_DAILY_AGENT_CALLS", "1");
    window(&sb, "s1");
    window(&sb, "s2");
    let ran = drain(&sb);
    assert_eq!(ran.len(), 2, "{ran:?}");
    assert_eq!(
        (&ran[0]["outcome"], &ran[0]["action"]),
        (&json!("success"), &json!("recorded")),
        "{ran:?}"
    );
    assert_eq!(
        (&ran[1]["outcome"], &ran[1]["action"]),
        (&json!("skipped"), &json!("skipped:budget")),
        "{ran:?}"
    );
    assert_eq!(agent.calls().len(), 1, "the second window asked no agent");
    // The skipped window left no outcome: one judged use, nothing waiting in the outbox.
    assert_eq!(judged(&sb), 1);
    let status = sb.status();
    assert_eq!(status["outbox"], 0, "{status}");
    let calls = &status["agent_calls"];
    assert_eq!(
        (&calls["today"], &calls["budget"]),
        (&json!(1), &json!(1)),
        "{status}"
    );
    assert_eq!(calls["circuit"]["open"], false, "{status}");
    let jobs = status["recent_jobs"].as_array().unwrap();
    assert!(
        jobs.iter()
            .any(|j| j["result"]["action"] == "skipped:budget"),
        "{status}"
    );
    // The human status says why nothing more is judged today.
    let human = sb.ok(&["status"]);
    assert!(human.contains("1 of 1 agent calls made today"), "{human}");
}

#[test]
fn a_window_not_sampled_is_closed_without_an_agent_call() {
    let (mut sb, agent) = machine();
    sb.set_env("SKILLOPT_JUDGE_SAMPLE", "0");
    window(&sb, "s1");
    window(&sb, "s2");
    let ran = drain(&sb);
    assert_eq!(ran.len(), 2, "{ran:?}");
    for r in &ran {
        assert_eq!(r["outcome"], "skipped", "{r}");
        assert_eq!(r["action"], "skipped:not-sampled", "{r}");
    }
    assert!(
        agent.calls().is_empty(),
        "no agent call for an unsampled window"
    );
    assert_eq!(judged(&sb), 0, "not `unclear`: no judgment happened");
    let status = sb.status();
    assert_eq!(status["outbox"], 0, "{status}");
    assert_eq!(status["agent_calls"]["today"], 0, "{status}");
    assert_eq!(status["jobs"]["done"], 2, "{status}");
}

#[test]
fn five_agent_errors_in_a_row_open_the_circuit() {
    let (mut sb, agent) = machine();
    sb.set_env("FAKE_AGENT_EXIT", "1");
    for i in 1..=6 {
        window(&sb, &format!("s{i}"));
    }
    let ran = drain(&sb);
    assert_eq!(ran.len(), 6, "{ran:?}");
    for r in &ran[..5] {
        // An agent error is `unclear`, never a failure.
        assert_eq!(r["outcome"], "unclear", "{r}");
    }
    assert_eq!(ran[5]["outcome"], "skipped", "{ran:?}");
    assert_eq!(ran[5]["action"], "skipped:circuit-open", "{ran:?}");
    assert_eq!(agent.calls().len(), 5, "the sixth window asked no agent");
    let status = sb.status();
    let circuit = &status["agent_calls"]["circuit"];
    assert_eq!(circuit["open"], true, "{status}");
    assert_eq!(circuit["consecutive_errors"], 5, "{status}");
    assert!(
        circuit["until"]
            .as_str()
            .is_some_and(|u| u > utc_now().as_str()),
        "{status}"
    );
    let human = sb.ok(&["status"]);
    assert!(human.contains("agent calls paused until"), "{human}");
    // The errors are on the record: five calls, five errors.
    let stats = sb.json_out(&["stats"]);
    let total = &stats["agent_calls"]["total"];
    assert_eq!(
        (&total["calls"], &total["errors"]),
        (&json!(5), &json!(5)),
        "{stats}"
    );
}

#[test]
fn cost_and_tokens_show_in_stats_per_skill_and_day() {
    let (sb, agent) = machine();
    agent.judge_replies(&claude_json_with_usage(SUCCESS, 0.0125, 1200, 800, 45));
    window(&sb, "s1");
    window(&sb, "s2");
    let ran = drain(&sb);
    assert!(ran.iter().all(|r| r["action"] == "recorded"), "{ran:?}");
    let stats = sb.json_out(&["stats"]);
    let calls = &stats["agent_calls"];
    let expected = |key: &str, v: &str| {
        json!({key: v, "calls": 2, "errors": 0, "input_tokens": 4000, "output_tokens": 90,
               "cost_usd": 0.025})
    };
    assert_eq!(
        calls["by_skill"],
        json!([expected("skill", SKILL)]),
        "{stats}"
    );
    let today = &utc_now()[..10];
    assert_eq!(calls["by_day"], json!([expected("day", today)]), "{stats}");
    assert_eq!(calls["total"]["cost_usd"], 0.025, "{stats}");
    // Both uses were judged.
    assert_eq!(judged(&sb), 2);
}
