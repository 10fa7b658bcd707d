//! Edge cases of the evidence loop found by a hostile review, each a regression test through
//! the real binaries and the scripted fake agent: the promotion math on a young skill, M and K
//! living in the registry (not in one machine's environment), rejected results coming back
//! under other words, a stable pin taking a candidate away, an unchanged push, what counts
//! towards the reversion limit, and one bad registry row.

use serde_json::{json, Value};
use skillopt_tests::skill_session::{
    append_edit as append, installed_version, judged_use, log_json, verdict,
};
use skillopt_tests::{claude_json, skill_md, FakeAgent, Sandbox};

const SKILL: &str = "deploy--alice";
const BODY: &str = "# Deploy\n\nUse this checklist for every deploy of the shop service.\n\n1. Run tests with `npm test`.\n2. Skip the database migration step.\n3. Deploy with `make deploy ENV=<env>`.\n";

fn edits(v: Value) -> String {
    claude_json(&v.to_string())
}

/// A machine on `registry` (on `channel`), a fake claude, no automatic sync, jobs left for the
/// test, no rate limit in the way.
fn machine(registry: &str, channel: &str) -> (Sandbox, FakeAgent) {
    let mut sb = Sandbox::with_registry(registry);
    sb.set_env("SKILLOPT_RATE_LIMIT", "100");
    sb.hooks_without_worker();
    sb.no_auto_sync();
    let agent = FakeAgent::install(&mut sb, &["claude"]);
    sb.ok(&["channel", channel, "--json"]);
    (sb, agent)
}

fn status_of(sb: &Sandbox, version: u64) -> String {
    log_json(sb, SKILL)["versions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["version"] == version)
        .map(|v| v["status"].as_str().unwrap().to_string())
        .unwrap_or_default()
}

/// A registry (kept alive by the returned sandbox) with `deploy--alice` v1, a canary machine
/// that installed it, and `seeds` successful judged uses of v1.
fn setup(seeds: usize) -> (Sandbox, Sandbox, FakeAgent) {
    let registry = Sandbox::new();
    let (sb, ag) = machine(&registry.registry, "canary");
    let d = sb.write_skill("deploy", &skill_md("deploy", BODY));
    sb.ok(&["push", d.to_str().unwrap(), "--author", "alice"]);
    sb.ok(&["pull"]);
    for i in 0..seeds {
        judged_use(
            &sb,
            &ag,
            SKILL,
            &format!("seed{i}"),
            &verdict("success", false),
        );
    }
    (registry, sb, ag)
}

fn fail_twice(sb: &Sandbox, ag: &FakeAgent, tag: &str) {
    for i in 0..2 {
        judged_use(
            sb,
            ag,
            SKILL,
            &format!("{tag}{i}"),
            &verdict("failure", true),
        );
    }
    sb.ok(&["pull"]);
}

#[test]
fn a_candidate_that_always_fails_is_reverted_not_promoted() {
    // A new skill whose only judged use is the failure that asked for the edit: that failure
    // must not make the parent look as bad as a candidate failing every time.
    let (_r, sb, ag) = setup(0);
    ag.proposer_replies(&append("Deploy on Fridays only."));
    assert_eq!(
        judged_use(&sb, &ag, SKILL, "a", &verdict("failure", true))["action"],
        "published:v2"
    );
    for i in 0..5 {
        judged_use(&sb, &ag, SKILL, &format!("f{i}"), &verdict("failure", true));
    }
    sb.ok(&["pull"]);
    assert_eq!(status_of(&sb, 2), "reverted");
    let reverted = log_json(&sb, SKILL)["versions"][1]["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "reverted")
        .cloned()
        .unwrap();
    assert_eq!(reverted["figures"]["parent_judged"], 0, "{reverted}");
    assert_eq!(installed_version(&sb, SKILL), 1);
}

#[test]
fn m_and_k_come_from_the_registry_not_from_one_machine() {
    let (r, sb, ag) = setup(4);
    ag.proposer_replies(&append("Run `make migrate` first."));
    assert_eq!(
        judged_use(&sb, &ag, SKILL, "a", &verdict("failure", true))["action"],
        "published:v2"
    );
    judged_use(&sb, &ag, SKILL, "b", &verdict("success", false));
    // A machine with a lax variable changes nothing.
    let mut other = Sandbox::with_registry(&r.registry);
    other.set_env("SKILLOPT_PROMOTE_MIN_USES", "1");
    other.no_auto_sync();
    other.ok(&["pull"]);
    assert_eq!(status_of(&sb, 2), "candidate");
    // The team sets M for the skill: every machine applies it.
    let p: Value =
        serde_json::from_str(&sb.ok(&["policy", SKILL, "--min-uses", "1", "--json"])).unwrap();
    assert_eq!(
        (p["promote_min_uses"].as_u64(), p["changed"].as_bool()),
        (Some(1), Some(true))
    );
    other.ok(&["pull"]);
    assert_eq!(status_of(&sb, 2), "active");
    let promoted = log_json(&sb, SKILL)["versions"][1]["events"].to_string();
    assert!(promoted.contains("\"promote_min_uses\":1"), "{promoted}");
    assert!(!sb
        .skillopt(&["policy", SKILL, "--min-failures", "0"])
        .status
        .success());
}

#[test]
fn a_rejected_result_stays_rejected_under_other_words() {
    let (_r, sb, ag) = setup(4);
    ag.proposer_replies(&edits(json!([{"op":"replace","target":"2. Skip the database migration step.","content":"2. Run `make migrate` first."}])));
    assert_eq!(
        judged_use(&sb, &ag, SKILL, "a", &verdict("failure", true))["action"],
        "published:v2"
    );
    sb.ok(&["review", "reject", SKILL, "2", "--note", "no"]);
    sb.ok(&["pull"]);
    // The same change through another target.
    ag.proposer_replies(&edits(json!([{"op":"replace","target":"Skip the database migration step.","content":"Run `make migrate` first."}])));
    let r = judged_use(&sb, &ag, SKILL, "b", &verdict("failure", true));
    assert_eq!(r["action"], "duplicate", "{r}");
    // A reverted candidate whose proposal had an edit that did not apply: proposing the edit
    // alone produces the same SKILL.md.
    ag.proposer_replies(&edits(json!([
        {"op":"append","content":"Deploy on Fridays only."},
        {"op":"replace","target":"this text is not in the skill","content":"whatever"}])));
    assert_eq!(
        judged_use(&sb, &ag, SKILL, "c", &verdict("failure", true))["action"],
        "published:v3"
    );
    fail_twice(&sb, &ag, "cf");
    assert_eq!(status_of(&sb, 3), "reverted");
    ag.proposer_replies(&append("Deploy on Fridays only."));
    let r = judged_use(&sb, &ag, SKILL, "d", &verdict("failure", true));
    assert_eq!(r["action"], "duplicate", "{r}");
}

#[test]
fn a_stable_pin_takes_a_candidate_away_but_not_from_its_publisher() {
    let (r, sb, ag) = setup(4);
    ag.proposer_replies(&append("Run `make migrate` first."));
    assert_eq!(
        judged_use(&sb, &ag, SKILL, "a", &verdict("failure", true))["action"],
        "published:v2"
    );
    let (m2, _a2) = machine(&r.registry, "canary");
    m2.ok(&["pull"]);
    assert_eq!(installed_version(&m2, SKILL), 2);
    m2.ok(&["channel", "stable"]);
    let out = m2.ok(&["pull"]);
    assert!(out.contains("rolled back"), "{out}");
    assert_eq!(installed_version(&m2, SKILL), 1);
    // The machine that published it keeps it, whatever its channel.
    sb.ok(&["channel", "stable"]);
    sb.ok(&["pull"]);
    assert_eq!(installed_version(&sb, SKILL), 2);
}

#[test]
fn an_unchanged_push_leaves_the_candidate_alone() {
    let (_r, sb, ag) = setup(4);
    ag.proposer_replies(&append("Run `make migrate` first."));
    assert_eq!(
        judged_use(&sb, &ag, SKILL, "a", &verdict("failure", true))["action"],
        "published:v2"
    );
    let d = sb.write_skill("deploy", &skill_md("deploy", BODY));
    let out = sb.ok(&["push", d.to_str().unwrap(), "--author", "alice"]);
    assert!(out.contains("unchanged"), "{out}");
    assert_eq!(status_of(&sb, 2), "candidate");
}

#[test]
fn only_the_rules_reverts_since_the_last_unfreeze_count_towards_the_limit() {
    let (_r, sb, ag) = setup(4);
    // A person's push withdraws candidate v2: not an automatic revert.
    ag.proposer_replies(&append("Run `make migrate` first."));
    assert_eq!(
        judged_use(&sb, &ag, SKILL, "a", &verdict("failure", true))["action"],
        "published:v2"
    );
    let d = sb.write_skill(
        "deploy",
        &skill_md("deploy", &format!("{BODY}4. Tell the team.\n")),
    );
    sb.ok(&["push", d.to_str().unwrap(), "--author", "alice"]);
    sb.ok(&["pull"]);
    assert_eq!(status_of(&sb, 2), "reverted");
    for i in 0..4 {
        judged_use(
            &sb,
            &ag,
            SKILL,
            &format!("s{i}"),
            &verdict("success", false),
        );
    }
    ag.proposer_replies(&append("Deploy on Fridays only."));
    assert_eq!(
        judged_use(&sb, &ag, SKILL, "b", &verdict("failure", true))["action"],
        "published:v4"
    );
    fail_twice(&sb, &ag, "bf");
    assert_eq!(status_of(&sb, 4), "reverted");
    assert_ne!(
        log_json(&sb, SKILL)["frozen"],
        true,
        "one automatic revert froze it"
    );
    // A second one freezes; after unfreeze, one more does not.
    ag.proposer_replies(&append("Deploy at night only."));
    assert_eq!(
        judged_use(&sb, &ag, SKILL, "c", &verdict("failure", true))["action"],
        "published:v5"
    );
    fail_twice(&sb, &ag, "cf");
    let l = log_json(&sb, SKILL);
    assert_eq!(l["frozen"], true, "{l}");
    assert!(
        l["frozen_reason"].as_str().unwrap().contains("v4, v5"),
        "{l}"
    );
    sb.ok(&["unfreeze", SKILL]);
    ag.proposer_replies(&append("Deploy at noon only."));
    assert_eq!(
        judged_use(&sb, &ag, SKILL, "d", &verdict("failure", true))["action"],
        "published:v6"
    );
    fail_twice(&sb, &ag, "df");
    assert_eq!(status_of(&sb, 6), "reverted");
    assert_ne!(
        log_json(&sb, SKILL)["frozen"],
        true,
        "frozen again after one revert"
    );
}

#[test]
fn one_bad_outcome_row_does_not_stop_the_pull() {
    let (_r, sb, ag) = setup(0);
    let d = sb.write_skill("lint", &skill_md("lint", "# Lint\n\nRun the linter.\n"));
    sb.ok(&["push", d.to_str().unwrap(), "--author", "bob"]);
    ag.proposer_replies(&append("Run `make migrate` first."));
    assert_eq!(
        judged_use(&sb, &ag, SKILL, "a", &verdict("failure", true))["action"],
        "published:v2"
    );
    // Someone with database access writes an outcome no version of skillopt knows.
    sb.sqlite()
        .execute(
            "INSERT INTO outcomes (id, job_id, name, author, version, bucket, outcome, skill_at_fault, confidence, reason, agent, model, judged_at) VALUES ('x', 'jx', 'deploy', 'alice', 2, 1, 'weird', 1, 0.9, 'r', 'a', 'm', '2026-01-01T00:00:00Z')",
            [],
        )
        .unwrap();
    let out = sb.skillopt(&["pull"]);
    assert!(out.status.success(), "{out:?}");
    assert!(sb.claude_skills().join("lint--bob/SKILL.md").exists());
    assert!(sb.skillopt(&["log", SKILL, "--json"]).status.success());
}

#[test]
fn an_edit_the_verifier_refused_is_not_proposed_again_by_another_machine() {
    let (r, a, a_agent) = setup(0);
    let (b, b_agent) = machine(&r.registry, "canary");
    b.ok(&["pull"]);
    let fix = append("Deploy on Fridays only.");
    a_agent.proposer_replies(&fix);
    a_agent.verifier_replies(&claude_json(
        r#"{"prevents_failure":false,"breaks":[],"reason":"the deploy would still fail"}"#,
    ));
    let r1 = judged_use(&a, &a_agent, SKILL, "a", &verdict("failure", true));
    assert_eq!(r1["action"], "unverified", "{r1}");
    assert_eq!(
        log_json(&a, SKILL)["versions"].as_array().unwrap().len(),
        1,
        "nothing published"
    );
    // Machine B's proposer comes up with the same edit: refused before B's verifier is asked.
    b_agent.proposer_replies(&fix);
    let r2 = judged_use(&b, &b_agent, SKILL, "b", &verdict("failure", true));
    assert_eq!(r2["action"], "duplicate", "{r2}");
    assert!(b_agent
        .calls()
        .iter()
        .all(|c| !c.stdin.contains("VERIFY PROPOSED EDIT")));
    assert_eq!(log_json(&b, SKILL)["versions"].as_array().unwrap().len(), 1);
}
