//! Webhook notices end to end: a loopback HTTP endpoint (axum on 127.0.0.1:0, recording every
//! POST and answering from a script) stands for Slack; the real binaries publish an improvement
//! with the fake agent, and the endpoint must receive the `published` notice exactly once —
//! at once when it answers, at the next sync when it answered 500 — and nothing at all when no
//! `SKILLOPT_WEBHOOK_URL` is set.

use serde_json::{json, Value};
use skillopt_tests::skill_session::deploy_machine;
use skillopt_tests::webhook_endpoint::{Endpoint, SECRET};
use skillopt_tests::Sandbox;

/// A [`deploy_machine`] with the webhook URL (if any); deliveries are logged at info (to
/// stderr outside a detached worker), which the tests check for the URL's secret.
fn machine(webhook: Option<&str>) -> Sandbox {
    let mut sb = Sandbox::new();
    if let Some(url) = webhook {
        sb.set_env("SKILLOPT_WEBHOOK_URL", url);
    }
    sb.set_env("SKILLOPT_LOG", "info");
    deploy_machine(sb).0
}

/// `worker drain --json`: the jobs it ran, and what it logged.
fn drain(sb: &Sandbox) -> (Vec<Value>, String) {
    let out = sb.skillopt(&["worker", "drain", "--json"]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    let d: Value = serde_json::from_slice(&out.stdout).unwrap();
    (d["ran"].as_array().cloned().unwrap_or_default(), stderr)
}

/// A failing use of the skill, judged and improved by `worker drain`: v2 is published. Returns
/// what the worker logged.
fn publish_v2(sb: &Sandbox) -> String {
    let id = "toolu_w1";
    let t = sb.write_jsonl(
        "w1.jsonl",
        &[
            json!({"type":"user","message":{"role":"user","content":"deploy to staging"}}),
            json!({"type":"assistant","message":{"content":[{"type":"tool_use","id":id,"name":"Skill","input":{"skill":"deploy--alice"}}]}}),
            json!({"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"t2","is_error":true,"content":"relation orders_v2 does not exist"}]}}),
        ],
    );
    let tp = t.to_str().unwrap();
    sb.hook("skillopt-pre-tool-use", json!({"session_id":"w1","transcript_path":tp,"hook_event_name":"PreToolUse","tool_name":"Skill","tool_input":{"skill":"deploy--alice"},"tool_use_id":id}).to_string().as_bytes());
    sb.hook("skillopt-user-prompt-submit", json!({"session_id":"w1","transcript_path":tp,"hook_event_name":"UserPromptSubmit","prompt":"the deploy failed, you skipped the migration"}).to_string().as_bytes());
    let (ran, log) = drain(sb);
    assert_eq!(ran.len(), 1, "{ran:?}");
    assert_eq!(ran[0]["result"]["action"], "published:v2", "{ran:?}");
    log
}

/// A sync, as the worker runs it: a stale marker makes SessionStart queue a sync job, and
/// `worker drain` runs it. Returns what the worker logged.
fn sync(sb: &Sandbox, session: &str) -> String {
    skillopt_tests::skill_session::request_sync(sb, session);
    let (ran, log) = drain(sb);
    assert_eq!(ran.len(), 1, "one sync job: {ran:?}");
    assert_eq!(ran[0]["result"]["outcome"], "synced", "{ran:?}");
    log
}

/// The webhook URL's secret must not be in what the worker logged.
fn assert_secret_not_logged(log: &str) {
    assert!(log.contains("webhook"), "the delivery is logged: {log}");
    assert!(
        !log.contains(SECRET),
        "the URL's secret is in the log: {log}"
    );
}

fn assert_published_notice(body: &Value) {
    assert_eq!(body["event"], "published", "{body}");
    assert_eq!(body["skill"], "deploy--alice", "{body}");
    assert_eq!(body["version"], 2, "{body}");
    let text = body["text"].as_str().unwrap_or_default();
    assert!(
        text.starts_with("skillopt published deploy--alice v2")
            && text.contains("The skill says to skip the migration."),
        "{body}"
    );
    assert_eq!(
        body["reason"], "The skill says to skip the migration.",
        "{body}"
    );
    assert!(
        body["status"].is_string() && body["at"].is_string(),
        "{body}"
    );
    assert_eq!(body["figures"]["parent_version"], 1, "{body}");
}

#[test]
fn a_published_improvement_is_posted_once() {
    let hook = Endpoint::start(&[]);
    let sb = machine(Some(&hook.url));
    assert!(hook.posts().is_empty(), "a push is no notice");
    let log = publish_v2(&sb);
    assert_secret_not_logged(&log);
    let posts = hook.posts();
    assert_eq!(posts.len(), 1, "{posts:?}");
    let p = &posts[0];
    assert_eq!(
        (p.method.as_str(), p.path.as_str()),
        ("POST", format!("/services/T0001/B0001/{SECRET}").as_str())
    );
    assert!(p.user_agent.starts_with("skillopt/"), "{p:?}");
    assert_published_notice(&p.body);
    let status = sb.status();
    assert_eq!(
        (status["outbox"].as_u64(), status["outbox_notices"].as_u64()),
        (Some(0), Some(0)),
        "{status}"
    );

    // Later syncs send nothing again.
    sync(&sb, "later1");
    sync(&sb, "later2");
    assert_eq!(hook.posts().len(), 1, "{:?}", hook.posts());
}

#[test]
fn a_failing_webhook_gets_the_notice_at_the_next_sync() {
    let hook = Endpoint::start(&[500]);
    let sb = machine(Some(&hook.url));
    let log = publish_v2(&sb);
    assert!(log.contains("HTTP 500"), "{log}");
    assert_secret_not_logged(&log);
    // The endpoint answered 500: the job still published, the notice waits in the outbox.
    assert_eq!(hook.posts().len(), 1);
    assert!(hook.delivered().is_empty());
    let status = sb.status();
    assert_eq!(
        (status["outbox"].as_u64(), status["outbox_notices"].as_u64()),
        (Some(1), Some(1)),
        "{status}"
    );
    let human = sb.ok(&["status"]);
    assert!(human.contains("1 webhook notice(s)"), "{human}");

    assert_secret_not_logged(&sync(&sb, "later1"));
    let delivered = hook.delivered();
    assert_eq!(delivered.len(), 1, "{:?}", hook.posts());
    assert_published_notice(&delivered[0]);
    assert_eq!(
        hook.posts()[0].body,
        delivered[0],
        "the retry sends the notice as queued"
    );
    assert_eq!(sb.status()["outbox"], 0);

    sync(&sb, "later2");
    assert_eq!(hook.posts().len(), 2, "{:?}", hook.posts());
}

#[test]
fn without_a_webhook_url_no_notice_is_queued() {
    let hook = Endpoint::start(&[]);
    let sb = machine(None);
    let log = publish_v2(&sb) + &sync(&sb, "later1");
    assert!(hook.posts().is_empty());
    assert!(!log.contains("webhook"), "{log}");
    // Internal: no notice file anywhere under the outbox (status counts only waiting ones).
    let mut files = Vec::new();
    let mut dirs = vec![sb.state().join("outbox")];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            if e.file_type().unwrap().is_dir() {
                dirs.push(e.path());
            } else {
                files.push(e.file_name().to_string_lossy().into_owned());
            }
        }
    }
    assert!(files.iter().all(|f| !f.starts_with("notice-")), "{files:?}");
    assert_eq!(sb.status()["outbox_notices"], 0);
}
