//! Defects a hostile review found in the evidence loop, through the real binaries: a verifier
//! that changes its mind half-way is not taken at its first word; a reply without an answer is
//! kept cleaned and redacted in the job result; every manual freeze is announced (not only the
//! first at a version); `review approve` and `review reject` are announced; and a webhook that
//! accepts and never answers holds `skillopt freeze` a couple of seconds, not the worker's
//! 10 s request timeout (the notice goes at the next sync).

use std::time::{Duration, Instant};

use skillopt_tests::skill_session::{deploy_machine, failing_use};
use skillopt_tests::webhook_endpoint::Endpoint;
use skillopt_tests::{claude_json, FakeAgent, Sandbox};

const SKILL: &str = "deploy--alice";

/// A [`deploy_machine`] with the webhook URL (if any).
fn machine(webhook: Option<&str>) -> (Sandbox, FakeAgent) {
    let mut sb = Sandbox::new();
    if let Some(url) = webhook {
        sb.set_env("SKILLOPT_WEBHOOK_URL", url);
    }
    deploy_machine(sb)
}

/// A sync, as the worker runs it (a stale marker makes SessionStart queue one).
fn sync(sb: &Sandbox, session: &str) {
    skillopt_tests::skill_session::request_sync(sb, session);
    let ran = sb.drain();
    assert_eq!(ran.len(), 1, "one sync job: {ran:?}");
}

fn versions(sb: &Sandbox) -> Vec<u64> {
    sb.json_out(&["log", SKILL])["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_u64().unwrap())
        .collect()
}

/// "Yes … on reflection, no" is a no: nothing is published and the edit is rejected.
#[test]
fn a_verifier_that_changes_its_mind_publishes_nothing() {
    let (sb, agent) = machine(None);
    agent.verifier_replies(&claude_json(
        "First thought: {\"prevents_failure\": true, \"breaks\": []}. On reflection the deploy still fails on the missing table. Final answer: {\"prevents_failure\": false, \"breaks\": [\"x\"], \"reason\": \"still fails\"}",
    ));
    let r = failing_use(&sb, SKILL, "s1");
    assert_eq!(r["action"], "unverified", "{r}");
    assert_eq!(versions(&sb), [1], "nothing published");
}

/// A reply with no answer is quoted in the job result without its terminal escapes or secrets.
#[test]
fn an_unparseable_verifier_reply_is_stored_clean() {
    let (sb, agent) = machine(None);
    let key = "sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789";
    agent.verifier_replies(&claude_json(&format!(
        "\u{1b}]0;pwned\u{7}\u{1b}[2J I cannot tell.\u{202e} Key: {key}"
    )));
    let r = failing_use(&sb, SKILL, "s1");
    assert_eq!(r["action"], "unverified", "{r}");
    let all = r.to_string();
    assert!(all.contains("unparseable verifier reply"), "{all}");
    assert!(all.contains("I cannot tell."), "{all}");
    for bad in [
        "\\u001b",
        "\\u0007",
        "\u{1b}",
        "\u{202e}",
        "abcdefghijklmnopqrstuvwxyz",
    ] {
        assert!(!all.contains(bad), "{bad:?} in {all}");
    }
    // What the worker stored on disk (done/) says the same.
    for job in sb.jobs("done") {
        let text = std::fs::read_to_string(job).unwrap();
        assert!(!text.contains("abcdefghijklmnopqrstuvwxyz") && !text.contains("\\u001b"));
    }
    assert_eq!(versions(&sb), [1]);
}

fn events(hook: &Endpoint) -> Vec<(String, u64, String)> {
    hook.delivered()
        .iter()
        .map(|b| {
            (
                b["event"].as_str().unwrap_or_default().to_string(),
                b["version"].as_u64().unwrap_or_default(),
                b["status"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// Freeze, unfreeze, freeze at the same head: two freezes, two notices.
#[test]
fn every_manual_freeze_is_announced() {
    let hook = Endpoint::start(&[]);
    let (sb, _agent) = machine(Some(&hook.url));
    sb.ok(&["freeze", SKILL, "--reason", "audit week"]);
    sb.ok(&["unfreeze", SKILL]);
    sb.ok(&["freeze", SKILL, "--reason", "audit again"]);
    let got = events(&hook);
    assert_eq!(
        got,
        [
            ("frozen".to_string(), 1, String::new()),
            ("frozen".to_string(), 1, String::new())
        ],
        "{:?}",
        hook.posts()
    );
    let texts: Vec<String> = hook
        .delivered()
        .iter()
        .map(|b| b["text"].as_str().unwrap().to_string())
        .collect();
    assert!(
        texts[0].contains("audit week") && texts[1].contains("audit again"),
        "{texts:?}"
    );
    // A sync sends neither again.
    sync(&sb, "later");
    assert_eq!(hook.posts().len(), 2);
    assert_eq!(sb.status()["outbox_notices"], 0);
}

/// The review policy: the proposal asks for a review; `approve` announces it published as a
/// candidate; `reject` announces it reverted.
#[test]
fn review_decisions_are_announced() {
    let hook = Endpoint::start(&[]);
    let (sb, _agent) = machine(Some(&hook.url));
    sb.ok(&["policy", SKILL, "review"]);
    let r = failing_use(&sb, SKILL, "s1");
    assert_eq!(r["action"], "published:v2", "{r}");
    sb.ok(&["review", "approve", SKILL, "2", "--note", "looks right"]);
    sb.ok(&["review", "reject", SKILL, "2", "--note", "changed my mind"]);
    assert_eq!(
        events(&hook),
        [
            ("review_requested".to_string(), 2, "proposed".to_string()),
            ("published".to_string(), 2, "candidate".to_string()),
            ("reverted".to_string(), 2, "reverted".to_string()),
        ],
        "{:?}",
        hook.posts()
    );
    let bodies = hook.delivered();
    let approved = bodies[1]["text"].as_str().unwrap();
    assert!(
        approved.starts_with("skillopt published deploy--alice v2 (candidate): approved by ")
            && approved.ends_with(": looks right"),
        "{approved}"
    );
    let rejected = bodies[2]["text"].as_str().unwrap();
    assert!(
        rejected.contains("rejected by ") && rejected.ends_with(": changed my mind"),
        "{rejected}"
    );
    assert_eq!(bodies[2]["figures"]["from"], "candidate", "{}", bodies[2]);
}

/// An endpoint that accepts connections (the kernel's backlog does) and never answers must
/// not hold a person's `skillopt freeze` for the worker's 10 s request timeout. The wall time
/// is measured loosely (< 8 s; the budget is 2 s) so a loaded machine does not fail it;
/// timing goals proper live in bench/. The notice waits and the next sync delivers it.
#[test]
fn a_hanging_webhook_does_not_hold_freeze() {
    let hanging = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://{}/services/T0/B0/hang",
        hanging.local_addr().unwrap()
    );
    let (mut sb, _agent) = machine(Some(&url));
    let t = Instant::now();
    sb.ok(&["freeze", SKILL, "--reason", "audit"]);
    let took = t.elapsed();
    assert!(took < Duration::from_secs(8), "freeze took {took:?}");
    assert_eq!(sb.status()["outbox_notices"], 1, "kept for the next sync");

    let t = Instant::now();
    sb.ok(&["unfreeze", SKILL]);
    sb.ok(&["policy", SKILL, "review"]);
    assert!(t.elapsed() < Duration::from_secs(8));

    // The endpoint is back: the next sync delivers the freeze.
    drop(hanging);
    let hook = Endpoint::start(&[]);
    sb.set_env("SKILLOPT_WEBHOOK_URL", &hook.url);
    sync(&sb, "later");
    assert_eq!(events(&hook), [("frozen".to_string(), 1, String::new())]);
    assert_eq!(sb.status()["outbox_notices"], 0);
}
