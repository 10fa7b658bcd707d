//! Fast unit tests of judge → propose → gate → publish: a real SQLite registry in a temp dir, a
//! scripted agent instead of an agent CLI, and the settings set directly.

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
use crate::agent::{AgentCli, AgentError, AgentKind, Reply, Role};
use crate::registry::{NewVersion, Registry, VersionSource};
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
        let judged = judge::judge_job(&ctx, Some(self.reg.as_mut()), input);
        assert!(judge::record(&self.paths, Some(self.reg.as_mut()), input, &judged).unwrap());
        let improvement = improve::improve(&ctx, self.reg.as_mut(), input, &judged);
        (judged, improvement)
    }
}

#[test]
fn a_failure_publishes_v2_and_installs_it() {
    let mut m = Machine::new();
    let agent = Scripted::new(&[FAILURE, FIX]);
    let (judged, i) = m.run(&agent, &m.input("job-1", 1));
    assert_eq!(judged.verdict.outcome, Outcome::Failure);
    assert_eq!(i.action, Action::Published(2), "{}", i.detail);
    assert_eq!(*agent.asked.borrow(), [Role::Judge, Role::Proposer]);
    let v2 = m.reg.latest(&m.skill).unwrap().unwrap();
    assert_eq!((v2.version, v2.source), (2, VersionSource::Skillopt));
    assert!(v2.body.contains("make migrate"), "{}", v2.body);
    let cs = m.reg.changeset_for_job("job-1").unwrap().unwrap();
    assert_eq!(
        (cs.contributor.as_str(), cs.model.as_str()),
        ("tester", "scripted")
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
    assert_eq!(m.reg.latest(&m.skill).unwrap().unwrap().version, 1);
}

#[test]
fn the_same_proposal_twice_is_a_duplicate() {
    let mut m = Machine::new();
    let (_, first) = m.run(&Scripted::new(&[FAILURE, FIX]), &m.input("job-1", 1));
    assert_eq!(first.action, Action::Published(2));
    // v2 fails too, and the proposer offers the very same edit again.
    let (_, again) = m.run(&Scripted::new(&[FAILURE, FIX]), &m.input("job-2", 2));
    assert_eq!(again.action, Action::Duplicate, "{}", again.detail);
    assert_eq!(m.reg.latest(&m.skill).unwrap().unwrap().version, 2);
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
    m.run(&Scripted::new(&[FAILURE, FIX]), &input);
    // After a crash the job runs again: no question is asked, the publish is not repeated.
    let agent = Scripted::new(&[]);
    let (judged, i) = m.run(&agent, &input);
    assert!(!judged.fresh);
    assert_eq!(i.action, Action::Published(2));
    assert!(agent.asked.borrow().is_empty());
}
