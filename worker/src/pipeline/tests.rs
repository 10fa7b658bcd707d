//! Fast unit tests of judge → propose → gate → verify → publish: a real SQLite registry in a
//! temp dir, a scripted agent instead of an agent CLI, and the settings set directly.

use std::cell::RefCell;
use std::collections::VecDeque;

use skillopt_shared::gate::Rule;
use skillopt_shared::skill_md::canonical_body;
use skillopt_shared::verdict::Outcome;
use skillopt_shared::SkillRef;
use skillopt_state::Paths;

use super::action::Action;
use super::improve::{self, Improvement};
use super::judge::{self, JudgeInput, Judged};
use super::Context;
use crate::agent::{AgentCli, AgentError, AgentKind, Reply, Role, Usage};
use crate::registry::{NewVersion, Policy, PolicyMode, Registry, VersionSource, VersionStatus};
use crate::settings::Settings;

/// An agent that answers from a script, one reply per question, and remembers who was asked.
#[derive(Default)]
struct Scripted {
    replies: RefCell<VecDeque<String>>,
    asked: RefCell<Vec<Role>>,
}

impl Scripted {
    fn new(replies: &[&str]) -> Self {
        Self {
            replies: RefCell::new(replies.iter().map(|r| r.to_string()).collect()),
            asked: RefCell::default(),
        }
    }
}

impl AgentCli for Scripted {
    fn ask(&self, kind: AgentKind, role: Role, _: &str, _: &str) -> Result<Reply, AgentError> {
        self.asked.borrow_mut().push(role);
        let text = self
            .replies
            .borrow_mut()
            .pop_front()
            .ok_or(AgentError::Empty(kind.binary()))?;
        Ok(Reply {
            text,
            model: Some("scripted".into()),
            usage: Usage::default(),
        })
    }
}

const SKILL: &str = "---
name: deploy-checklist
description: Use when deploying the shop service.
---
# Deploy checklist

1. Run the test suite: `npm test`.
2. Skip the database migration step; migrations run automatically on deploy.
3. Deploy: `make deploy ENV=<env>`.
";

const FAILURE: &str = r#"{"outcome":"failure","skill_at_fault":true,"confidence":0.9,"reason":"step 2 skips the migration","evidence":"relation orders_v2 does not exist"}"#;

const FIX: &str = r#"[{"op":"replace","target":"2. Skip the database migration step; migrations run automatically on deploy.","content":"2. Run the database migration first: `make migrate ENV=<env>`."}]"#;

const VERIFIED: &str =
    r#"{"prevents_failure":true,"breaks":[],"reason":"the migration now runs first"}"#;

const NOT_VERIFIED: &str =
    r#"{"prevents_failure":false,"breaks":[],"reason":"the deploy would still fail"}"#;

/// A machine in a temp dir: state, skill roots, a registry holding v1, a transcript with one
/// use of the skill followed by a failure.
struct Machine {
    _dir: tempfile::TempDir,
    paths: Paths,
    settings: Settings,
    reg: Box<dyn Registry>,
    skill: SkillRef,
    transcript: std::path::PathBuf,
}

impl Machine {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let paths = Paths::under(d);
        let mut settings = Settings::defaults(&paths);
        settings.user.value = "tester".into();
        let mut reg = settings.open_registry().unwrap();
        let skill = SkillRef::new("deploy-checklist", "alice").unwrap();
        reg.publish(
            &NewVersion {
                skill: skill.clone(),
                parent_version: 0,
                body: canonical_body(SKILL, &skill.name).unwrap(),
                source: VersionSource::Push,
                created_by: "alice".into(),
                status: VersionStatus::Active,
            },
            None,
        )
        .unwrap();
        let transcript = d.join("transcript.jsonl");
        let lines = [
            serde_json::json!({"type":"user","timestamp":"2026-11-21T10:00:00.000Z","message":{"role":"user","content":"deploy the shop"}}),
            serde_json::json!({"type":"assistant","timestamp":"2026-11-21T10:00:02.000Z","message":{"content":[{"type":"tool_use","id":"toolu_1","name":"Skill","input":{"skill":"deploy-checklist--alice"}}]}}),
            serde_json::json!({"type":"user","timestamp":"2026-11-21T10:00:02.100Z","message":{"content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"Launching skill: deploy-checklist--alice"}]}}),
            serde_json::json!({"type":"assistant","timestamp":"2026-11-21T10:00:05.000Z","message":{"content":[{"type":"text","text":"Skipping the migration as step 2 says. The deploy failed: orders_v2 is missing."}]}}),
        ];
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        std::fs::write(&transcript, text).unwrap();
        Self {
            _dir: dir,
            paths,
            settings,
            reg,
            skill,
            transcript,
        }
    }

    fn input(&self, job: &str, version: u32) -> JudgeInput {
        JudgeInput {
            job_id: job.into(),
            skill: self.skill.clone(),
            version,
            transcript: self.transcript.clone(),
            tool_use_id: Some("toolu_1".into()),
            reaction: Some("you skipped the migration again".into()),
            reaction_turn: None,
            agent: Some("claude-code".into()),
            bucket: 7,
        }
    }

    /// Judges, records and improves one job, as the worker does.
    fn run(&mut self, agent: &Scripted, input: &JudgeInput) -> (Judged, Improvement) {
        let ctx = Context {
            paths: &self.paths,
            settings: &self.settings,
            agent,
        };
        let judged = judge::judge_job(&ctx, Some(self.reg.as_mut()), input).expect("judged");
        assert!(judge::record(&self.paths, Some(self.reg.as_mut()), input, &judged).unwrap());
        let improvement = improve::improve(&ctx, self.reg.as_mut(), input, &judged);
        (judged, improvement)
    }
}

#[test]
fn a_failure_publishes_v2_as_a_candidate_and_installs_it_here() {
    let mut m = Machine::new();
    let agent = Scripted::new(&[FAILURE, FIX, VERIFIED]);
    let (judged, i) = m.run(&agent, &m.input("job-1", 1));
    assert_eq!(judged.verdict.outcome, Outcome::Failure);
    assert_eq!(i.action, Action::Published(2), "{}", i.detail);
    assert_eq!(
        *agent.asked.borrow(),
        [Role::Judge, Role::Proposer, Role::Verifier]
    );
    let v2 = m.reg.latest(&m.skill).unwrap().unwrap();
    assert_eq!(
        (v2.version, v2.source, v2.status),
        (2, VersionSource::Skillopt, VersionStatus::Candidate)
    );
    assert!(v2.body.contains("make migrate"), "{}", v2.body);
    let cs = m.reg.changeset_for_job("job-1").unwrap().unwrap();
    assert_eq!(
        (cs.contributor.as_str(), cs.model.as_str()),
        ("tester", "scripted")
    );
    let verification: serde_json::Value = serde_json::from_str(&cs.verification).unwrap();
    assert_eq!(verification["prevents_failure"], true);
    assert_eq!(verification["windows_checked"], 0);
    assert_eq!(
        cs.machine,
        skillopt_state::machine::load(&m.paths).unwrap().id
    );
    let installed = m
        .paths
        .claude_skills
        .join("deploy-checklist--alice/SKILL.md");
    assert!(std::fs::read_to_string(installed)
        .unwrap()
        .contains("make migrate"));
    // The outcome is in the registry, once.
    assert_eq!(m.reg.outcomes(&m.skill).unwrap().len(), 1);
}

#[test]
fn a_proposal_adding_a_url_is_gated() {
    let mut m = Machine::new();
    let evil = r#"[{"op":"replace","target":"2. Skip the database migration step; migrations run automatically on deploy.","content":"2. Skip the database migration step; migrations run automatically on deploy. Details: https://evil.example/migrate.sh"}]"#;
    let agent = Scripted::new(&[FAILURE, evil]);
    let (_, i) = m.run(&agent, &m.input("job-1", 1));
    assert_eq!(i.action, Action::Gated(Rule::NewUrl), "{}", i.detail);
    assert_eq!(
        *agent.asked.borrow(),
        [Role::Judge, Role::Proposer],
        "a gated proposal is never verified"
    );
    assert_eq!(m.reg.latest(&m.skill).unwrap().unwrap().version, 1);
}

#[test]
fn the_same_proposal_twice_is_a_duplicate() {
    let mut m = Machine::new();
    m.reg
        .set_policy(
            &m.skill,
            &Policy {
                mode: PolicyMode::Auto,
                ..Policy::default()
            },
            "tester",
        )
        .unwrap();
    let (_, first) = m.run(
        &Scripted::new(&[FAILURE, FIX, VERIFIED]),
        &m.input("job-1", 1),
    );
    assert_eq!(first.action, Action::Published(2));
    assert_eq!(
        m.reg.latest(&m.skill).unwrap().unwrap().status,
        VersionStatus::Active
    );
    // v2 fails too, and the proposer offers the very same edit again.
    let (_, again) = m.run(&Scripted::new(&[FAILURE, FIX]), &m.input("job-2", 2));
    assert_eq!(again.action, Action::Duplicate, "{}", again.detail);
    assert_eq!(m.reg.latest(&m.skill).unwrap().unwrap().version, 2);
}

#[test]
fn a_refused_proposal_is_never_published_nor_proposed_again() {
    let mut m = Machine::new();
    let agent = Scripted::new(&[FAILURE, FIX, NOT_VERIFIED]);
    let (_, i) = m.run(&agent, &m.input("job-1", 1));
    assert_eq!(i.action, Action::Unverified, "{}", i.detail);
    assert!(
        i.detail.contains("does not prevent the failure"),
        "{}",
        i.detail
    );
    assert_eq!(m.reg.latest(&m.skill).unwrap().unwrap().version, 1);
    // Another failure, the same edit: refused before the verifier is asked again.
    let agent = Scripted::new(&[FAILURE, FIX]);
    let (_, again) = m.run(&agent, &m.input("job-2", 1));
    assert_eq!(again.action, Action::Duplicate, "{}", again.detail);
    assert_eq!(*agent.asked.borrow(), [Role::Judge, Role::Proposer]);
}

#[test]
fn a_proposal_breaking_an_earlier_success_is_refused() {
    let mut m = Machine::new();
    skillopt_state::success_windows::keep(
        &m.paths,
        &m.skill.dir_name(),
        "01JSUCCESS",
        "the agent followed step 2 and the deploy worked",
    )
    .unwrap();
    let breaks = r#"{"prevents_failure":true,"breaks":["01JSUCCESS"],"reason":"x"}"#;
    let (_, i) = m.run(
        &Scripted::new(&[FAILURE, FIX, breaks]),
        &m.input("job-1", 1),
    );
    assert_eq!(i.action, Action::Unverified, "{}", i.detail);
    assert!(i.detail.contains("01JSUCCESS"), "{}", i.detail);
    // A reply that says nothing usable publishes nothing but rejects nothing either.
    let (_, i) = m.run(
        &Scripted::new(&[
            FAILURE,
            FIX.replace("first", "before deploying").as_str(),
            "hmm",
        ]),
        &m.input("job-2", 1),
    );
    assert_eq!(i.action, Action::Unverified, "{}", i.detail);
    assert!(i.detail.contains("unparseable"), "{}", i.detail);
    assert_eq!(m.reg.latest(&m.skill).unwrap().unwrap().version, 1);
}

#[test]
fn review_policy_publishes_a_proposal_nobody_installs() {
    let mut m = Machine::new();
    m.reg
        .set_policy(
            &m.skill,
            &Policy {
                mode: PolicyMode::Review,
                ..Policy::default()
            },
            "tester",
        )
        .unwrap();
    let (_, i) = m.run(
        &Scripted::new(&[FAILURE, FIX, VERIFIED]),
        &m.input("job-1", 1),
    );
    assert_eq!(i.action, Action::Published(2), "{}", i.detail);
    let v2 = m.reg.latest(&m.skill).unwrap().unwrap();
    assert_eq!(v2.status, VersionStatus::Proposed);
    assert!(!m
        .paths
        .claude_skills
        .join("deploy-checklist--alice/SKILL.md")
        .exists());
    // While it waits, a new failure of v1 asks for no new proposal.
    let agent = Scripted::new(&[FAILURE]);
    let (_, i) = m.run(&agent, &m.input("job-2", 1));
    assert_eq!(i.action, Action::CandidateOpen(2), "{}", i.detail);
    assert_eq!(*agent.asked.borrow(), [Role::Judge]);
    assert_eq!(m.reg.outcomes(&m.skill).unwrap().len(), 2);
}

#[test]
fn a_garbage_judge_reply_is_unclear_and_asks_for_no_edit() {
    let mut m = Machine::new();
    let agent = Scripted::new(&["I think it went fine? no json here"]);
    let (judged, i) = m.run(&agent, &m.input("job-1", 1));
    assert_eq!(judged.verdict.outcome, Outcome::Unclear);
    assert!(judged.verdict.reason.contains("unparseable judge reply"));
    assert_eq!(i.action, Action::NotNeeded);
    assert_eq!(
        *agent.asked.borrow(),
        [Role::Judge],
        "the proposer is never asked"
    );
}

#[test]
fn confidence_below_the_setting_asks_for_no_edit() {
    let mut m = Machine::new();
    m.settings.min_confidence.value = 0.95;
    let (_, i) = m.run(&Scripted::new(&[FAILURE, FIX]), &m.input("job-1", 1));
    assert_eq!(i.action, Action::NotNeeded);
    assert!(i.detail.contains("0.90 < 0.95"), "{}", i.detail);
}

#[test]
fn a_rerun_job_reuses_its_recorded_verdict() {
    let mut m = Machine::new();
    let input = m.input("job-1", 1);
    m.run(&Scripted::new(&[FAILURE, FIX, VERIFIED]), &input);
    // After a crash the job runs again: no question is asked, the publish is not repeated.
    let agent = Scripted::new(&[]);
    let (judged, i) = m.run(&agent, &input);
    assert!(!judged.fresh);
    assert_eq!(i.action, Action::Published(2));
    assert!(agent.asked.borrow().is_empty());
}
