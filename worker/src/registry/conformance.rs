//! The registry conformance suite: the same cases, unchanged, against SQLite (always) and
//! PostgreSQL (when `SKILLOPT_TEST_POSTGRES_URL` is set; skipped with a message otherwise). Each
//! PostgreSQL run uses its own schema so runs never see each other's rows.

use std::sync::{Arc, Barrier};

use skillopt_shared::verdict::Outcome;
use skillopt_shared::SkillRef;

use super::*;

fn pg_base() -> Option<String> {
    std::env::var("SKILLOPT_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

/// What keeps a backend alive while its case runs (a temp dir, an in-process server).
type Guard = Option<Box<dyn std::any::Any>>;

/// A fresh, isolated registry URL per backend: SQLite, PostgreSQL (when configured), and the
/// HTTP backend — a `skillopt serve` server started in this process on 127.0.0.1:0 — in front
/// of each of them.
fn backends() -> Vec<(&'static str, RegistryUrl, Guard)> {
    let mut v = database_backends();
    for (name, url, guard) in database_backends() {
        let server = crate::serve::Running::start(url);
        let http = server.url(Some(&server.admin_token));
        let name = if name == "sqlite" {
            "http+sqlite"
        } else {
            "http+postgres"
        };
        // A tuple drops in order: the server stops before its database's guard goes.
        v.push((name, http, Some(Box::new((server, guard)))));
    }
    v
}

/// A fresh, isolated database registry per database backend.
fn database_backends() -> Vec<(&'static str, RegistryUrl, Guard)> {
    let dir = tempfile::tempdir().unwrap();
    let mut v: Vec<(&'static str, RegistryUrl, Guard)> = vec![(
        "sqlite",
        RegistryUrl::Sqlite(dir.path().join("r.sqlite3")),
        Some(Box::new(dir)),
    )];
    match pg_base() {
        Some(base) => {
            let schema = format!("t_{}", ulid::Ulid::new().to_string().to_lowercase());
            let sep = if base.contains('?') { '&' } else { '?' };
            v.push((
                "postgres",
                RegistryUrl::Postgres(format!("{base}{sep}schema={schema}")),
                None,
            ));
        }
        None => eprintln!("skipped: PostgreSQL conformance cases (set SKILLOPT_TEST_POSTGRES_URL)"),
    }
    v
}

fn skill() -> SkillRef {
    SkillRef::new("deploy-checklist", "alice").unwrap()
}

/// A SKILL.md of [`skill`] whose body is `text` (a server refuses what would not install).
fn md(text: &str) -> String {
    format!("---\nname: deploy-checklist\ndescription: Checks a deploy.\n---\n{text}\n")
}

fn new_version(parent: u32, body: &str, source: &str) -> NewVersion {
    NewVersion {
        skill: skill(),
        parent_version: parent,
        body: md(body),
        source: source.parse().unwrap(),
        created_by: "alice".into(),
        status: VersionStatus::Active,
    }
}

fn candidate(parent: u32, body: &str) -> NewVersion {
    NewVersion {
        status: VersionStatus::Candidate,
        ..new_version(parent, body, "skillopt")
    }
}

fn changeset(job: &str, fp: &str) -> Changeset {
    Changeset {
        fingerprint: fp.into(),
        edits: "[]".into(),
        diff: "-a\n+b\n".into(),
        reason: "skipped the migration".into(),
        evidence: "deploy failed".into(),
        job_id: Some(job.into()),
        agent: "claude".into(),
        model: "haiku".into(),
        contributor: "skillopt".into(),
        ..Changeset::next(&skill(), 0)
    }
}

fn versions_and_changesets(reg: &mut dyn Registry) {
    let s = skill();
    assert!(reg.latest(&s).unwrap().is_none());
    let v1 = reg
        .publish(&new_version(0, "body one", "push"), None)
        .unwrap();
    assert_eq!((v1.version, v1.parent_version), (1, None));
    assert!(reg
        .publish(&new_version(0, "again", "push"), None)
        .is_err_and(|e| e.is_conflict()));
    let v2 = reg
        .publish(
            &new_version(1, "body two", "skillopt"),
            Some(&changeset("job-1", "fp-1")),
        )
        .unwrap();
    assert_eq!((v2.version, v2.parent_version), (2, Some(1)));
    assert!(matches!(
        reg.publish(
            &new_version(2, "body three", "skillopt"),
            Some(&changeset("job-1", "fp-2"))
        ),
        Err(RegistryError::DuplicateJob(_))
    ));
    assert!(reg
        .publish(&new_version(1, "stale parent", "push"), None)
        .is_err_and(|e| e.is_conflict()));
    assert_eq!(reg.latest(&s).unwrap().unwrap().body, md("body two"));
    assert_eq!(reg.version(&s, 1).unwrap().unwrap().body, md("body one"));
    assert_eq!(reg.history(&s).unwrap().len(), 2);
    let cs = reg.changeset_for_job("job-1").unwrap().unwrap();
    assert_eq!(
        (cs.version, cs.parent_version, cs.name.as_str()),
        (2, 1, "deploy-checklist")
    );
    assert!(reg.fingerprint_exists(&s, "fp-1").unwrap());
    assert!(!reg.fingerprint_exists(&s, "fp-2").unwrap());
    assert_eq!(
        reg.versions_since(&s, VersionSource::Skillopt, "2000-01-01T00:00:00Z")
            .unwrap(),
        1
    );
    assert_eq!(
        reg.versions_since(&s, VersionSource::Skillopt, "2999-01-01T00:00:00Z")
            .unwrap(),
        0
    );
    let latest = reg.all_latest_active().unwrap();
    assert_eq!(latest.len(), 1);
    assert_eq!(latest[0].version, 2);
    assert_eq!(reg.changesets(&s).unwrap().len(), 1);
}

fn events_and_stats(reg: &mut dyn Registry) {
    let s = skill();
    reg.publish(&new_version(0, "b", "push"), None).unwrap();
    let a = AttributionRow {
        session_hash: "h1".into(),
        bucket: 42,
        name: s.name.clone(),
        author: s.author.clone(),
        version: 1,
        agent: "claude-code".into(),
        started_at: "2026-11-21T00:00:00.000Z".into(),
    };
    assert!(reg.add_attribution(&a).unwrap());
    assert!(!reg.add_attribution(&a).unwrap(), "attribution duplicated");
    let mut o = OutcomeRow {
        id: "o1".into(),
        job_id: "j1".into(),
        name: s.name.clone(),
        author: s.author.clone(),
        version: 1,
        bucket: 42,
        outcome: Outcome::Failure,
        skill_at_fault: true,
        confidence: 0.9,
        reason: "r".into(),
        agent: "claude".into(),
        model: "haiku".into(),
        judged_at: "2026-11-21T00:00:01.000Z".into(),
    };
    assert!(reg.add_outcome(&o).unwrap());
    o.id = "o2".into();
    assert!(!reg.add_outcome(&o).unwrap(), "second outcome for one job");
    o.id = "o3".into();
    o.job_id = "j2".into();
    o.outcome = Outcome::Success;
    o.skill_at_fault = false;
    assert!(reg.add_outcome(&o).unwrap());
    assert_eq!(reg.outcome_for_job("j1").unwrap().unwrap().id, "o1");
    assert!(reg.outcome_for_job("nope").unwrap().is_none());
    let outcomes = reg.outcomes(&s).unwrap();
    assert_eq!(outcomes.len(), 2);
    assert!((outcomes[0].confidence - 0.9).abs() < 1e-9 && outcomes[0].skill_at_fault);
    let st = reg.stats().unwrap();
    assert_eq!(st.len(), 1);
    assert_eq!(
        (
            st[0].sessions,
            st[0].judged,
            st[0].failures,
            st[0].skill_failures
        ),
        (1, 2, 1, 1)
    );
    assert_eq!(st[0].failure_rate(), Some(0.5));
    assert_eq!(reg.attributions(&s).unwrap(), vec![a]);
    assert!(!reg.is_frozen(&s).unwrap());
    reg.set_frozen(&s, true, "too many reverts", "bob").unwrap();
    assert!(reg.is_frozen(&s).unwrap());
    assert_eq!(reg.flags(&s).unwrap().frozen_reason, "too many reverts");
    reg.set_frozen(&s, false, "", "bob").unwrap();
    assert!(!reg.is_frozen(&s).unwrap());
    let kinds: Vec<EventKind> = reg.events(&s).unwrap().iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [EventKind::Published, EventKind::Frozen, EventKind::Unfrozen]
    );
}

fn candidates_and_transitions(reg: &mut dyn Registry) {
    let s = skill();
    assert_eq!(reg.flags(&s).unwrap(), SkillFlags::default());
    let policy = Policy {
        mode: PolicyMode::Review,
        canary_percent: 50,
        promote_min_uses: 9,
        revert_min_failures: 3,
    };
    reg.set_policy(&s, &policy, "lead").unwrap();
    let f = reg.flags(&s).unwrap();
    assert_eq!(f.release(), policy);
    assert_eq!(reg.all_flags().unwrap().len(), 1);
    reg.publish(&new_version(0, "v1", "push"), None).unwrap();
    let mut cs = changeset("job-c", "fp-c");
    cs.verification = r#"{"prevents_failure":true,"windows_checked":2}"#.into();
    cs.machine = "M1".into();
    let v2 = reg.publish(&candidate(1, "v2"), Some(&cs)).unwrap();
    assert_eq!(v2.status, VersionStatus::Candidate);
    assert_eq!(
        reg.changeset_for_job("job-c").unwrap().unwrap().machine,
        "M1"
    );
    // Machines may install v1 (active) and v2 (candidate above it); the head is v2.
    let inst: Vec<(u32, VersionStatus)> = reg
        .installable()
        .unwrap()
        .iter()
        .map(|v| (v.version, v.status))
        .collect();
    assert_eq!(
        inst,
        [(1, VersionStatus::Active), (2, VersionStatus::Candidate)]
    );
    assert_eq!(reg.all_latest_active().unwrap()[0].version, 1);
    assert_eq!(reg.head(&s).unwrap().unwrap().version, 2);
    // Publishing on v1 now conflicts: v2 is the head.
    assert!(reg
        .publish(&candidate(1, "other"), None)
        .is_err_and(|e| e.is_conflict()));
    let revert = |from: Vec<VersionStatus>| Transition {
        skill: s.clone(),
        version: 2,
        from,
        to: VersionStatus::Reverted,
        event: Event::new(
            &s,
            2,
            EventKind::Reverted,
            "skillopt",
            serde_json::json!({"failures": 2}),
        ),
        reject_fingerprint: true,
        freeze: Some("2 reverts in 7 days".into()),
    };
    assert!(!reg
        .transition(&revert(vec![VersionStatus::Proposed]))
        .unwrap());
    assert!(reg
        .transition(&revert(vec![VersionStatus::Candidate]))
        .unwrap());
    // Applied once: a second machine evaluating the same rule changes nothing.
    assert!(!reg
        .transition(&revert(vec![VersionStatus::Candidate]))
        .unwrap());
    assert_eq!(
        reg.version(&s, 2).unwrap().unwrap().status,
        VersionStatus::Reverted
    );
    assert!(reg.fingerprint_exists(&s, "fp-c").unwrap());
    let f = reg.flags(&s).unwrap();
    assert!(
        f.frozen && f.frozen_reason == "2 reverts in 7 days",
        "{f:?}"
    );
    let events = reg.events(&s).unwrap();
    let kinds: Vec<(EventKind, u32)> = events.iter().map(|e| (e.kind, e.version)).collect();
    assert_eq!(
        kinds,
        [
            (EventKind::Policy, 0),
            (EventKind::Published, 1),
            (EventKind::Published, 2),
            (EventKind::Reverted, 2),
            (EventKind::Frozen, 2),
        ]
    );
    assert_eq!(events[3].figures["failures"], 2);
    assert_eq!(events[2].figures["verification"]["windows_checked"], 2);
    // The head is v1 again; the next version is v3 on parent v1.
    assert_eq!(reg.head(&s).unwrap().unwrap().version, 1);
    let v3 = reg.publish(&candidate(1, "v3"), None).unwrap();
    assert_eq!((v3.version, v3.parent_version), (3, Some(1)));
    // A person's push withdraws the open candidate.
    let v4 = reg.publish(&new_version(3, "v4", "push"), None).unwrap();
    assert_eq!(v4.status, VersionStatus::Active);
    assert_eq!(
        reg.version(&s, 3).unwrap().unwrap().status,
        VersionStatus::Reverted
    );
    let inst: Vec<u32> = reg
        .installable()
        .unwrap()
        .iter()
        .map(|v| v.version)
        .collect();
    assert_eq!(inst, [4]);
    // A rejected fingerprint outside any version.
    assert!(!reg.fingerprint_exists(&s, "fp-x").unwrap());
    reg.reject_fingerprint(&s, "fp-x", "unverified").unwrap();
    reg.reject_fingerprint(&s, "fp-x", "unverified").unwrap();
    assert!(reg.fingerprint_exists(&s, "fp-x").unwrap());
}

/// Eight machines apply the same promotion at once: it happens once, with one event.
fn concurrent_transitions(url: &RegistryUrl) {
    let s = skill();
    let mut reg = url.open().unwrap();
    reg.publish(&new_version(0, "v1", "push"), None).unwrap();
    reg.publish(&candidate(1, "v2"), None).unwrap();
    let n = 8;
    let barrier = Arc::new(Barrier::new(n));
    let handles: Vec<_> = (0..n)
        .map(|_| {
            let (url, barrier, s) = (url.clone(), barrier.clone(), s.clone());
            std::thread::spawn(move || {
                let mut reg = url.open().unwrap();
                barrier.wait();
                reg.transition(&promote_v2(&s))
            })
        })
        .collect();
    let applied = handles
        .into_iter()
        .map(|h| h.join().unwrap().unwrap())
        .filter(|changed| *changed)
        .count();
    assert_eq!(applied, 1);
    let promoted = reg
        .events(&s)
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == EventKind::Promoted)
        .count();
    assert_eq!(promoted, 1);
    assert_eq!(reg.all_latest_active().unwrap()[0].version, 2);
}

/// Rounds of eight publishers racing on one parent: each round exactly one wins (numbered right
/// after the parent), the others get a conflict. A later round races on a parent whose child
/// was reverted, so the next number is not simply parent + 1.
fn concurrent_publishers(url: &RegistryUrl) {
    let s = skill();
    url.open()
        .unwrap()
        .publish(&new_version(0, "v1", "push"), None)
        .unwrap();
    let mut parent = 1;
    for round in 0..4 {
        if round == 3 {
            // v4's fate: reverted, so the head is v3 again and the next version is v5.
            let mut reg = url.open().unwrap();
            let v = reg.publish(&candidate(parent, "doomed"), None).unwrap();
            assert!(reg
                .transition(&Transition {
                    skill: s.clone(),
                    version: v.version,
                    from: vec![VersionStatus::Candidate],
                    to: VersionStatus::Reverted,
                    event: Event::new(
                        &s,
                        v.version,
                        EventKind::Reverted,
                        "t",
                        serde_json::json!({})
                    ),
                    reject_fingerprint: false,
                    freeze: None,
                })
                .unwrap());
        }
        let n = 8;
        let barrier = Arc::new(Barrier::new(n));
        let handles: Vec<_> = (0..n)
            .map(|i| {
                let url = url.clone();
                let barrier = barrier.clone();
                std::thread::spawn(move || {
                    let mut reg = url.open().unwrap();
                    barrier.wait();
                    reg.publish(
                        &new_version(parent, &format!("round {round} from {i}"), "skillopt"),
                        None,
                    )
                })
            })
            .collect();
        let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let won: Vec<&SkillVersion> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        let conflicts = results
            .iter()
            .filter(|r| r.as_ref().is_err_and(|e| e.is_conflict()))
            .count();
        assert_eq!(
            (won.len(), conflicts),
            (1, n - 1),
            "round {round}: {results:?}"
        );
        assert_eq!(won[0].parent_version, Some(parent), "round {round}");
        parent = won[0].version;
    }
    let history = url.open().unwrap().history(&s).unwrap();
    let numbers: Vec<(u32, Option<u32>)> = history
        .iter()
        .map(|v| (v.version, v.parent_version))
        .collect();
    assert_eq!(
        numbers,
        [
            (1, None),
            (2, Some(1)),
            (3, Some(2)),
            (4, Some(3)),
            (5, Some(4)),
            (6, Some(4))
        ]
    );
}

/// The revision moves with every change to what a pull installs (a version, its status, a
/// skill's flags or policy) and stays put for everything else (attributions, outcomes, reads).
fn revision_moves_with_what_a_pull_installs(reg: &mut dyn Registry) {
    let s = skill();
    let r0 = reg_revision(reg);
    let v1 = reg.publish(&new_version(0, "v1", "push"), None).unwrap();
    let r1 = reg_revision(reg);
    assert!(r1 > r0, "a publish moves it: {r0} -> {r1}");
    reg.add_attribution(&AttributionRow {
        session_hash: "h1".into(),
        bucket: 1,
        name: s.name.clone(),
        author: s.author.clone(),
        version: v1.version,
        agent: "codex".into(),
        started_at: "2026-11-21T00:00:00.000Z".into(),
    })
    .unwrap();
    reg.add_outcome(&OutcomeRow {
        id: "o1".into(),
        job_id: "j1".into(),
        name: s.name.clone(),
        author: s.author.clone(),
        version: 1,
        bucket: 1,
        outcome: Outcome::Success,
        skill_at_fault: false,
        confidence: 0.9,
        reason: "r".into(),
        agent: "codex".into(),
        model: "m".into(),
        judged_at: "2026-11-21T00:00:01.000Z".into(),
    })
    .unwrap();
    reg.installable().unwrap();
    reg.stats().unwrap();
    assert_eq!(reg_revision(reg), r1, "uploads and reads leave it");
    reg.publish(&candidate(1, "v2"), None).unwrap();
    let r2 = reg_revision(reg);
    assert!(r2 > r1, "a candidate moves it");
    assert!(reg.transition(&promote_v2(&s)).unwrap());
    let r3 = reg_revision(reg);
    assert!(r3 > r2, "a status change moves it");
    let policy = Policy {
        canary_percent: 70,
        ..Policy::default()
    };
    reg.set_policy(&s, &policy, "lead").unwrap();
    let r4 = reg_revision(reg);
    assert!(r4 > r3, "a policy moves it");
    reg.set_frozen(&s, true, "hold", "lead").unwrap();
    assert!(reg_revision(reg) > r4, "a freeze moves it");
}

/// The rules' promotion of candidate v2 of `s`.
fn promote_v2(s: &SkillRef) -> Transition {
    Transition {
        skill: s.clone(),
        version: 2,
        from: vec![VersionStatus::Candidate],
        to: VersionStatus::Active,
        event: Event::new(s, 2, EventKind::Promoted, "skillopt", serde_json::json!({})),
        reject_fingerprint: false,
        freeze: None,
    }
}

fn reg_revision(reg: &mut dyn Registry) -> u64 {
    reg.revision()
        .unwrap()
        .expect("every backend tells its revision")
}

/// Runs `case` against a fresh registry of every backend.
fn each_backend(case: fn(&mut dyn Registry)) {
    for (name, url, _guard) in backends() {
        eprintln!("conformance on {name}");
        let mut reg = url.open().unwrap_or_else(|e| panic!("{name}: {e}"));
        case(reg.as_mut());
    }
}

#[test]
fn conformance_versions_and_changesets() {
    each_backend(versions_and_changesets);
}

#[test]
fn conformance_events_and_stats() {
    each_backend(events_and_stats);
}

#[test]
fn conformance_candidates_and_transitions() {
    each_backend(candidates_and_transitions);
}

#[test]
fn conformance_revision() {
    each_backend(revision_moves_with_what_a_pull_installs);
}

#[test]
fn conformance_concurrent_transitions() {
    for (name, url, _guard) in backends() {
        eprintln!("conformance on {name}");
        concurrent_transitions(&url);
    }
}

#[test]
fn conformance_concurrent_publishers() {
    for (name, url, _guard) in backends() {
        eprintln!("conformance on {name}");
        concurrent_publishers(&url);
    }
}

#[test]
fn reopening_does_not_remigrate() {
    for (_, url, _guard) in backends() {
        url.open()
            .unwrap()
            .publish(&new_version(0, "x", "push"), None)
            .unwrap();
        assert_eq!(url.open().unwrap().history(&skill()).unwrap().len(), 1);
    }
}

#[test]
fn unreachable_postgres_is_reported_as_such() {
    let url = RegistryUrl::Postgres("postgres://nobody@127.0.0.1:1/none?connect_timeout=2".into());
    assert!(matches!(
        url.open().err(),
        Some(RegistryError::Unreachable(_))
    ));
}

#[test]
fn a_refused_login_or_missing_database_is_the_servers_answer_not_unreachable() {
    let Some(base) = pg_base() else {
        eprintln!("skipped: set SKILLOPT_TEST_POSTGRES_URL");
        return;
    };
    // The same server, a database that does not exist.
    let Some((server, _db)) = base.split('?').next().and_then(|b| b.rsplit_once('/')) else {
        panic!("unexpected URL {base}");
    };
    let url = RegistryUrl::Postgres(format!(
        "{server}/skillopt_no_such_db_{}",
        std::process::id()
    ));
    let err = url.open().err().expect("no such database");
    assert!(!matches!(err, RegistryError::Unreachable(_)), "{err:?}");
    assert!(err.to_string().contains("does not exist"), "{err}");
}
