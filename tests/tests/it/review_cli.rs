//! Policies, channels and review through the real binaries (`--json` outputs only): `policy`
//! round trips and refusals, `channel` with the machine's bucket, `freeze`/`unfreeze` in `log`,
//! and the `review` policy end to end with the scripted fake agent: a verified edit is
//! `proposed` and installed nowhere, `review approve` makes it a candidate, `review reject`
//! reverts it, remembers its edit, and nothing can be approved after that.

use serde_json::{json, Value};
use skillopt_tests::skill_session::failing_use;
use skillopt_tests::{claude_json, postgres, skill_md, stderr, FakeAgent, Sandbox};

const SKILL: &str = "deploy--alice";

const BODY: &str = "# Deploy\n\nUse this checklist for every deploy of the shop service to staging or production.\n\n1. Run tests with `npm test` and stop if anything fails.\n2. Skip the database migration step.\n3. Build the image with `make image` and tag it with the commit.\n4. Deploy with `make deploy ENV=<env>`.\n";

/// A machine with `deploy--alice` v1 pushed and installed, a fake claude that judges every use
/// a skill-at-fault failure and proposes one edit, and hooks that leave jobs queued.
fn machine(registry: Option<&str>) -> (Sandbox, FakeAgent) {
    let mut sb = match registry {
        Some(url) => Sandbox::with_registry(url),
        None => Sandbox::new(),
    };
    sb.hooks_without_worker();
    sb.no_auto_sync();
    let agent = FakeAgent::install(&mut sb, &["claude"]);
    agent.judge_replies(&claude_json(
        r#"{"outcome":"failure","skill_at_fault":true,"confidence":0.9,"reason":"The skill says to skip the migration.","evidence":"relation orders_v2 does not exist"}"#,
    ));
    agent.proposer_replies(&claude_json(&format!(
        "```json\n{}\n```",
        json!([{"op":"replace","target":"2. Skip the database migration step.","content":"2. Run the database migration with `make migrate`."}])
    )));
    let d = sb.write_skill("deploy", &skill_md("deploy", BODY));
    sb.ok(&["push", d.to_str().unwrap(), "--author", "alice"]);
    sb.ok(&["pull"]);
    (sb, agent)
}

fn log(sb: &Sandbox) -> Value {
    sb.json_out(&["log", SKILL])
}

fn version(log: &Value, n: u64) -> Value {
    log["versions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["version"] == n)
        .unwrap_or_else(|| panic!("no v{n} in {log}"))
        .clone()
}

fn event_kinds(events: &Value) -> Vec<String> {
    events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect()
}

fn installed_texts(sb: &Sandbox) -> Vec<String> {
    [sb.claude_skills(), sb.codex_skills()]
        .iter()
        .map(|r| std::fs::read_to_string(r.join(SKILL).join("SKILL.md")).unwrap())
        .collect()
}

/// Runs `skillopt <args>` expecting a refusal: non-zero exit and a one-line error.
fn refused(sb: &Sandbox, args: &[&str]) -> String {
    let out = sb.skillopt(args);
    assert!(!out.status.success(), "skillopt {args:?} should fail");
    let err = stderr(&out);
    assert!(
        !err.trim().is_empty(),
        "skillopt {args:?}: no error message"
    );
    err
}

#[test]
fn policy_round_trip_and_refusals() {
    let sb = Sandbox::new();
    let d = sb.write_skill("deploy", &skill_md("deploy", BODY));
    sb.ok(&["push", d.to_str().unwrap(), "--author", "alice"]);

    let p = sb.json_out(&["policy", "deploy"]);
    assert_eq!(
        (&p["skill"], &p["policy"], &p["canary_percent"]),
        (&json!(SKILL), &json!("canary"), &json!(20)),
        "{p}"
    );
    let p = sb.json_out(&["policy", SKILL, "review", "--percent", "50"]);
    assert_eq!(
        (&p["policy"], &p["canary_percent"]),
        (&json!("review"), &json!(50))
    );
    assert_eq!(p["changed"], true);
    // A mode alone keeps the percent.
    let p = sb.json_out(&["policy", "deploy", "auto"]);
    assert_eq!(
        (&p["policy"], &p["canary_percent"]),
        (&json!("auto"), &json!(50))
    );
    // Setting it again changes (and records) nothing.
    assert_eq!(sb.json_out(&["policy", "deploy", "auto"])["changed"], false);

    for bad in [
        vec!["policy", SKILL, "bogus"],
        vec!["policy", SKILL, "canary", "--percent", "101"],
        vec!["policy", SKILL, "canary", "--percent", "-1"],
    ] {
        refused(&sb, &bad);
    }
    for unknown in ["nosuch", "nosuch--bob"] {
        let err = refused(&sb, &["policy", unknown, "review"]);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains("nosuch"), "{err}");
    }
    let p = sb.json_out(&["policy", SKILL]);
    assert_eq!(
        (&p["policy"], &p["canary_percent"]),
        (&json!("auto"), &json!(50)),
        "refusals change nothing: {p}"
    );

    let l = log(&sb);
    assert_eq!(
        (&l["policy"], &l["canary_percent"]),
        (&json!("auto"), &json!(50))
    );
    let policy_events: Vec<&Value> = l["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "policy")
        .collect();
    assert_eq!(policy_events.len(), 2, "{l}");
    assert_eq!(policy_events[0]["actor"], "tester");
    assert_eq!(
        policy_events[0]["figures"],
        json!({"policy":"review","canary_percent":50,"promote_min_uses":5,"revert_min_failures":2})
    );
    assert_eq!(policy_events[1]["figures"]["policy"], "auto");
    // The per-version fields the older tests rely on are still there.
    let v1 = version(&l, 1);
    assert!(v1["outcomes"].is_array() && v1["sessions_by_agent"].is_object());
    assert_eq!(
        (&v1["status"], &v1["source"]),
        (&json!("active"), &json!("push"))
    );
    assert!(event_kinds(&v1["events"]).contains(&"published".to_string()));
}

#[test]
fn channel_set_show_with_bucket() {
    let sb = Sandbox::new();
    let d = sb.write_skill("deploy", &skill_md("deploy", BODY));
    sb.ok(&["push", d.to_str().unwrap(), "--author", "alice"]);
    sb.ok(&["pull"]);
    sb.ok(&["policy", SKILL, "canary", "--percent", "0"]);

    let c = sb.json_out(&["channel"]);
    let id = c["machine"]["id"].as_str().unwrap().to_string();
    let bucket = c["machine"]["bucket"].as_u64().unwrap();
    assert!(bucket < 100, "{c}");
    assert_eq!(c["machine"]["channel_choice"], "auto");
    let skill = &c["skills"][0];
    assert_eq!(
        (
            &skill["skill"],
            &skill["canary_percent"],
            &skill["installed"]
        ),
        (&json!(SKILL), &json!(0), &json!(1)),
        "{c}"
    );
    assert_eq!(skill["channel"], "stable", "no bucket is below 0 %: {c}");

    let c = sb.json_out(&["channel", "canary"]);
    assert_eq!(c["machine"]["channel_choice"], "canary");
    assert_eq!(c["changed"], true);
    assert_eq!(c["skills"][0]["channel"], "canary", "{c}");
    let c = sb.json_out(&["channel"]);
    assert_eq!(
        c["machine"]["channel_choice"], "canary",
        "the choice is kept"
    );
    assert_eq!(c["machine"]["id"], id.as_str(), "the id is stable");
    assert_eq!(c["machine"]["bucket"], bucket);

    assert_eq!(
        sb.json_out(&["channel", "stable"])["skills"][0]["channel"],
        "stable"
    );
    sb.ok(&["policy", SKILL, "--percent", "100"]);
    let c = sb.json_out(&["channel", "auto"]);
    assert_eq!(c["machine"]["channel_choice"], "auto");
    assert_eq!(
        c["skills"][0]["channel"], "canary",
        "every bucket is below 100 %: {c}"
    );

    refused(&sb, &["channel", "beta"]);
    assert_eq!(
        sb.json_out(&["channel"])["machine"]["channel_choice"],
        "auto"
    );

    let s = sb.status();
    assert_eq!(s["machine"]["id"], id.as_str(), "{s}");
    assert_eq!(s["machine"]["bucket"], bucket);
    assert_eq!(s["machine"]["channel_choice"], "auto");
    let row = &s["installed"][0];
    assert_eq!(
        (&row["policy"], &row["canary_percent"], &row["channel"]),
        (&json!("canary"), &json!(100), &json!("canary")),
        "{s}"
    );
}

#[test]
fn freeze_and_unfreeze_show_in_log_and_status() {
    let sb = Sandbox::new();
    let d = sb.write_skill("deploy", &skill_md("deploy", BODY));
    sb.ok(&["push", d.to_str().unwrap(), "--author", "alice"]);
    sb.ok(&["pull"]);
    sb.ok(&["freeze", "deploy", "--reason", "audit\u{1b}[31m week"]);
    let l = log(&sb);
    assert_eq!(l["frozen"], true);
    let reason = l["frozen_reason"].as_str().unwrap();
    assert!(
        reason.contains("audit") && !reason.contains('\u{1b}'),
        "{l}"
    );
    let s = sb.status();
    assert_eq!(s["installed"][0]["frozen"], true, "{s}");
    assert_eq!(s["installed"][0]["frozen_reason"], reason);

    sb.ok(&["unfreeze", SKILL]);
    let l = log(&sb);
    assert_eq!(
        (&l["frozen"], &l["frozen_reason"]),
        (&json!(false), &json!(""))
    );
    assert_eq!(event_kinds(&l["events"]), ["frozen", "unfrozen"], "{l}");
    assert_eq!(l["events"][0]["actor"], "tester");
    assert_eq!(sb.status()["installed"][0]["frozen"], false);
}

/// The `review` policy up to a proposed v2, checked: listed, not installed, shown.
fn proposed_v2(sb: &Sandbox) {
    sb.ok(&["policy", SKILL, "review"]);
    let r = failing_use(sb, SKILL, "s1");
    assert_eq!(r["action"], "published:v2", "{r}");

    let list = sb.json_out(&["review", "list"]);
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    let row = &list[0];
    assert_eq!(
        (&row["skill"], &row["version"], &row["status"]),
        (&json!(SKILL), &json!(2), &json!("proposed")),
        "{list}"
    );
    assert_eq!(row["reason"], "The skill says to skip the migration.");
    assert!(row["created_at"].as_str().is_some_and(|t| !t.is_empty()));

    for text in installed_texts(sb) {
        assert!(text.contains("skillopt-version: \"1\""), "{text}");
        assert!(text.contains("2. Skip the database migration step."));
    }
    assert_eq!(sb.status()["installed"][0]["version"], 1);

    let show = sb.json_out(&["review", "show", "deploy", "2"]);
    assert_eq!(show["status"], "proposed");
    assert!(
        show["diff"]
            .as_str()
            .unwrap()
            .contains("+2. Run the database migration with `make migrate`."),
        "{show}"
    );
    assert_eq!(show["reason"], "The skill says to skip the migration.");
    assert_eq!(show["evidence"], "relation orders_v2 does not exist");
    assert_eq!(show["verification"]["prevents_failure"], true, "{show}");
    assert_eq!(
        show["verification"]["reason"],
        "the edit addresses the failure"
    );
    assert!(event_kinds(&show["events"]).contains(&"published".to_string()));
    assert_eq!(version(&log(sb), 2)["status"], "proposed");
}

fn approve_flow(registry: Option<&str>) {
    let (sb, _agent) = machine(registry);
    proposed_v2(&sb);
    let out = sb.ok(&["review", "approve", "deploy", "2", "--note", "looks right"]);
    assert!(out.contains("approved"), "{out}");

    let v2 = version(&log(&sb), 2);
    assert_eq!(v2["status"], "candidate", "{v2}");
    let approved: Vec<&Value> = v2["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "approved")
        .collect();
    assert_eq!(approved.len(), 1, "{v2}");
    assert_eq!(approved[0]["actor"], "tester");
    assert_eq!(approved[0]["figures"]["note"], "looks right");
    let list = sb.json_out(&["review", "list"]);
    assert_eq!(list[0]["status"], "candidate", "{list}");

    // Only a proposed version can be approved; nothing changes.
    let err = refused(&sb, &["review", "approve", SKILL, "2"]);
    assert!(err.contains("candidate"), "{err}");
    let err = refused(&sb, &["review", "approve", SKILL, "1"]);
    assert!(err.contains("active"), "{err}");
    refused(&sb, &["review", "approve", SKILL, "9"]);
    let v2 = version(&log(&sb), 2);
    assert_eq!(v2["status"], "candidate");
    assert_eq!(
        event_kinds(&v2["events"])
            .iter()
            .filter(|k| *k == "approved")
            .count(),
        1
    );
    assert_eq!(version(&log(&sb), 1)["status"], "active");
}

#[test]
fn review_approve_makes_a_candidate() {
    approve_flow(None);
}

#[test]
fn review_approve_makes_a_candidate_postgres() {
    let Some(pg) = postgres() else { return };
    approve_flow(Some(pg.url()));
}

fn reject_flow(registry: Option<&str>) {
    let (sb, _agent) = machine(registry);
    proposed_v2(&sb);
    sb.ok(&[
        "review",
        "reject",
        SKILL,
        "2",
        "--note",
        "no\u{1b}]0;x\u{7} thanks",
    ]);

    let l = log(&sb);
    let v2 = version(&l, 2);
    assert_eq!(v2["status"], "reverted", "{v2}");
    let rejected: Vec<&Value> = v2["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "rejected")
        .collect();
    assert_eq!(rejected.len(), 1, "{v2}");
    assert_eq!(rejected[0]["actor"], "tester");
    let note = rejected[0]["figures"]["note"].as_str().unwrap();
    assert!(
        note.starts_with("no") && note.ends_with("thanks") && !note.chars().any(char::is_control),
        "{note:?}"
    );
    assert_eq!(
        sb.json_out(&["review", "list"]),
        json!([]),
        "nothing left to review"
    );

    // A rejected version cannot be approved (or rejected again); nothing changes.
    let err = refused(&sb, &["review", "approve", SKILL, "2"]);
    assert!(err.contains("reverted"), "{err}");
    refused(&sb, &["review", "reject", SKILL, "2"]);
    refused(&sb, &["review", "reject", SKILL, "1"]);
    let v2 = version(&log(&sb), 2);
    assert_eq!(v2["status"], "reverted");
    assert!(!event_kinds(&v2["events"]).contains(&"approved".to_string()));
    assert_eq!(version(&log(&sb), 1)["status"], "active");

    // The rejection is remembered: the same edit is not published again.
    let r = failing_use(&sb, SKILL, "s2");
    assert_eq!(r["action"], "duplicate", "{r}");
    assert_eq!(log(&sb)["versions"].as_array().unwrap().len(), 2);
    for text in installed_texts(&sb) {
        assert!(text.contains("skillopt-version: \"1\""), "{text}");
    }
}

#[test]
fn review_reject_reverts_and_is_remembered() {
    reject_flow(None);
}

#[test]
fn review_reject_reverts_and_is_remembered_postgres() {
    let Some(pg) = postgres() else { return };
    reject_flow(Some(pg.url()));
}
