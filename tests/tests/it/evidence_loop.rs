//! Issue 10's acceptance, end to end with the real binaries and the scripted fake agent: two
//! machines on one registry (SQLite, then PostgreSQL), one on each channel. A verified fix
//! becomes a candidate installed on the canary machine only; M successful judged uses there
//! promote it and the stable machine installs it at its next sync; a later candidate with K
//! skill-at-fault failures is reverted and both machines end on the active version; a second
//! automatic revert within 7 days freezes the skill. Everything is read back through `--json`;
//! a loopback webhook shared by both machines receives each of these events exactly once.

use serde_json::Value;
use skillopt_tests::skill_session::{
    append_edit as append, installed_version, judged_use, log_json, verdict,
};
use skillopt_tests::webhook_endpoint::Endpoint;
use skillopt_tests::{postgres, skill_md, FakeAgent, Sandbox};

const SKILL: &str = "deploy--alice";
const BODY: &str = "# Deploy\n\nUse this checklist for every deploy of the shop service.\n\n1. Run tests with `npm test`.\n2. Skip the database migration step.\n3. Deploy with `make deploy ENV=<env>`.\n";

/// A machine on `registry` with a fake claude, no automatic sync, jobs left for the test.
fn machine(registry: &str, channel: &str, webhook: &str) -> (Sandbox, FakeAgent) {
    let mut sb = Sandbox::with_registry(registry);
    sb.set_env("SKILLOPT_WEBHOOK_URL", webhook);
    sb.hooks_without_worker();
    sb.no_auto_sync();
    let agent = FakeAgent::install(&mut sb, &["claude"]);
    let set: Value = serde_json::from_str(&sb.ok(&["channel", channel, "--json"])).unwrap();
    assert!(set.to_string().contains(channel), "{set}");
    (sb, agent)
}

/// (version, status) of every version.
fn statuses(sb: &Sandbox) -> Vec<(u64, String)> {
    log_json(sb, SKILL)["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["version"].as_u64().unwrap(),
                v["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The events of one version, by kind.
fn events_of(sb: &Sandbox, version: u64) -> Vec<Value> {
    log_json(sb, SKILL)["versions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["version"] == version)
        .map(|v| v["events"].as_array().unwrap().clone())
        .unwrap_or_default()
}

fn pull(sb: &Sandbox) {
    sb.ok(&["pull"]);
}

fn the_loop(registry: Option<String>) {
    let first = Sandbox::new();
    let registry = registry.unwrap_or_else(|| first.registry.clone());
    let hook = Endpoint::start(&[]);
    let (canary, canary_agent) = machine(&registry, "canary", &hook.url);
    let (stable, stable_agent) = machine(&registry, "stable", &hook.url);
    let d = canary.write_skill("deploy", &skill_md("deploy", BODY));
    canary.ok(&["push", d.to_str().unwrap(), "--author", "alice"]);
    pull(&canary);
    pull(&stable);
    assert_eq!(
        log_json(&canary, SKILL)["policy"],
        "canary",
        "the default policy"
    );

    // 1. A verified failure fix becomes a candidate, installed on the canary machine only.
    canary_agent.proposer_replies(&append("Run `make migrate` before deploying."));
    let r = judged_use(
        &canary,
        &canary_agent,
        SKILL,
        "c1",
        &verdict("failure", true),
    );
    assert_eq!(r["action"], "published:v2", "{r}");
    assert_eq!(
        statuses(&canary),
        [(1, "active".into()), (2, "candidate".into())]
    );
    let published = &events_of(&canary, 2)[0];
    assert_eq!(published["kind"], "published");
    assert_eq!(
        published["figures"]["verification"]["prevents_failure"],
        true
    );
    pull(&canary);
    pull(&stable);
    assert_eq!(
        (
            installed_version(&canary, SKILL),
            installed_version(&stable, SKILL)
        ),
        (2, 1)
    );
    let st = stable.status();
    assert!(
        st.to_string().contains("\"candidate\""),
        "status shows the candidate: {st}"
    );

    // 2. Five successful judged uses on the canary promote it; the stable machine installs it
    // at its next sync.
    for i in 0..5 {
        let r = judged_use(
            &canary,
            &canary_agent,
            SKILL,
            &format!("ok{i}"),
            &verdict("success", false),
        );
        assert_eq!(r["outcome"], "success", "{r}");
    }
    pull(&stable);
    assert_eq!(statuses(&stable)[1], (2, "active".into()));
    let promoted = events_of(&stable, 2)
        .into_iter()
        .find(|e| e["kind"] == "promoted")
        .expect("a promoted event");
    assert_eq!(promoted["figures"]["judged"], 5);
    assert_eq!(promoted["figures"]["skill_failures"], 0);
    assert_eq!(installed_version(&stable, SKILL), 2);
    pull(&canary);
    assert_eq!(installed_version(&canary, SKILL), 2);
    // Promotion happened once, whoever evaluated it.
    let promotions = events_of(&canary, 2)
        .iter()
        .filter(|e| e["kind"] == "promoted")
        .count();
    assert_eq!(promotions, 1);

    // 3. A later candidate fails twice through the skill's fault: reverted, and both machines
    // end on the active version (the canary rolls back).
    canary_agent.proposer_replies(&append("Deploy on Fridays only."));
    let r = judged_use(
        &canary,
        &canary_agent,
        SKILL,
        "c2",
        &verdict("failure", true),
    );
    assert_eq!(r["action"], "published:v3", "{r}");
    pull(&canary);
    pull(&stable);
    assert_eq!(
        (
            installed_version(&canary, SKILL),
            installed_version(&stable, SKILL)
        ),
        (3, 2)
    );
    for i in 0..2 {
        let r = judged_use(
            &canary,
            &canary_agent,
            SKILL,
            &format!("bad{i}"),
            &verdict("failure", true),
        );
        assert_eq!(
            r["action"], "candidate-open:v3",
            "no new proposal while v3 is open: {r}"
        );
    }
    pull(&stable);
    pull(&canary);
    assert_eq!(statuses(&canary)[2], (3, "reverted".into()));
    assert_eq!(
        (
            installed_version(&canary, SKILL),
            installed_version(&stable, SKILL)
        ),
        (2, 2)
    );
    let reverted = events_of(&canary, 3)
        .into_iter()
        .find(|e| e["kind"] == "reverted")
        .expect("a reverted event");
    assert_eq!(reverted["figures"]["skill_failures"], 2);
    assert!(
        log_json(&canary, SKILL)["frozen"] != true,
        "one revert does not freeze"
    );
    // The reverted edit is never published again.
    canary_agent.proposer_replies(&append("Deploy on Fridays only."));
    let r = judged_use(
        &canary,
        &canary_agent,
        SKILL,
        "c3",
        &verdict("failure", true),
    );
    assert_eq!(r["action"], "duplicate", "{r}");

    // 4. A second automatic version reverted within 7 days freezes the skill.
    canary_agent.proposer_replies(&append("Skip the tests when in a hurry."));
    let r = judged_use(
        &canary,
        &canary_agent,
        SKILL,
        "c4",
        &verdict("failure", true),
    );
    assert_eq!(r["action"], "published:v4", "{r}");
    for i in 0..2 {
        judged_use(
            &canary,
            &canary_agent,
            SKILL,
            &format!("worse{i}"),
            &verdict("failure", true),
        );
    }
    pull(&stable);
    let l = log_json(&stable, SKILL);
    assert_eq!(l["frozen"], true, "{l}");
    assert!(
        l["frozen_reason"].as_str().unwrap().contains("v3, v4"),
        "{l}"
    );
    assert!(stable.status().to_string().contains("v3, v4"));
    pull(&canary);
    assert_eq!(
        (
            installed_version(&canary, SKILL),
            installed_version(&stable, SKILL)
        ),
        (2, 2)
    );
    let r = judged_use(
        &canary,
        &canary_agent,
        SKILL,
        "c5",
        &verdict("failure", true),
    );
    assert_eq!(r["action"], "frozen", "{r}");
    stable.ok(&["unfreeze", SKILL]);
    assert_eq!(log_json(&canary, SKILL)["frozen"], false);
    // The stable machine never asked its agent anything: it only installed.
    assert!(stable_agent.calls().is_empty());

    // The webhook heard of every publish, promotion, revert and freeze once, from whichever
    // machine made it.
    pull(&canary);
    pull(&stable);
    let mut heard: Vec<(String, u64)> = hook
        .delivered()
        .iter()
        .map(|b| {
            (
                b["event"].as_str().unwrap().to_string(),
                b["version"].as_u64().unwrap(),
            )
        })
        .collect();
    heard.sort();
    let mut want: Vec<(String, u64)> = [
        ("frozen", 4),
        ("promoted", 2),
        ("published", 2),
        ("published", 3),
        ("published", 4),
        ("reverted", 3),
        ("reverted", 4),
    ]
    .iter()
    .map(|(e, v)| (e.to_string(), *v))
    .collect();
    want.sort();
    assert_eq!(heard, want, "{:#?}", hook.delivered());
    assert!(hook
        .delivered()
        .iter()
        .all(|b| b["text"].as_str().unwrap().contains(SKILL)));
}

#[test]
fn canary_promote_revert_and_freeze_sqlite() {
    the_loop(None);
}

#[test]
fn canary_promote_revert_and_freeze_postgres() {
    let Some(pg) = postgres() else { return };
    the_loop(Some(pg.url().to_string()));
}
