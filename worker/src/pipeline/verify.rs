//! The verify step: before anything is published, a separate agent call — the verifier, with
//! its own prompt and none of the proposer's reasoning — reads the failing window, the current
//! and the proposed SKILL.md and up to three recent windows of this skill that the judge found
//! a success on this machine. Only "prevents the failure, breaks none of them" publishes.

use serde_json::json;
use skillopt_shared::prompts::{verifier_prompt, SuccessWindow, VERIFIER_SYSTEM};
use skillopt_shared::verification::{parse_verification, Verification};
use skillopt_state::success_windows;

use super::judge::{window_for, JudgeInput, Judged};
use super::Context;
use crate::agent::{AgentError, AgentKind, Role};

/// What the verifier decided.
#[derive(Debug)]
pub(crate) enum Verified {
    /// Publish: the verifier confirmed it.
    Confirmed(Checked),
    /// The verifier refused it (it does not prevent the failure, or breaks a success).
    Refused(Checked),
    /// The verifier could not be asked or gave no answer: nothing is published, nothing is
    /// recorded as rejected.
    NoAnswer(NoAnswer),
}

/// The verifier's answer and what it was shown.
#[derive(Debug)]
pub(crate) struct Checked {
    pub(crate) verification: Verification,
    pub(crate) windows_checked: usize,
}

impl Checked {
    /// The changeset's `verification` JSON.
    pub(crate) fn record(&self) -> String {
        json!({
            "prevents_failure": self.verification.prevents_failure,
            "breaks": self.verification.breaks,
            "windows_checked": self.windows_checked,
            "reason": self.verification.reason,
        })
        .to_string()
    }
}

/// Why there is no answer.
#[derive(Debug)]
pub(crate) enum NoAnswer {
    /// The call failed (or was refused by the budget or the circuit breaker).
    Agent(AgentError),
    /// The reply held no recognisable answer: its start, cleaned and redacted.
    Unparseable(String),
}

/// The failing session as the verifier sees it: the judged window, rebuilt from the
/// transcript, else the judge's reason and evidence.
fn failing_window(input: &JudgeInput, judged: &Judged) -> String {
    window_for(input, false)
        .map(|w| w.text)
        .unwrap_or_else(|_| {
            format!(
                "(the transcript is no longer readable; the judge's finding)\nreason: {}\nevidence: {}",
                judged.verdict.reason, judged.verdict.evidence
            )
        })
}

/// What the job result keeps of a reply without an answer: untrusted model text, so cleaned
/// (no control, bidi or zero-width characters) and redacted like every stored reply, then cut.
fn unparseable(reply: &str) -> String {
    skillopt_shared::text::preview(&skillopt_shared::verdict::clean(reply), 120)
}

/// Asks the verifier about `proposed` (the full new SKILL.md) against `current`.
pub(crate) fn verify(
    ctx: &Context<'_>,
    kind: AgentKind,
    input: &JudgeInput,
    judged: &Judged,
    current: &str,
    proposed: &str,
) -> Verified {
    let dir = input.skill.dir_name();
    let successes: Vec<SuccessWindow> = success_windows::list(ctx.paths, &dir)
        .unwrap_or_default()
        .into_iter()
        .filter(|w| w.id != input.job_id)
        .map(|w| SuccessWindow {
            id: w.id,
            text: w.text,
        })
        .collect();
    let prompt = verifier_prompt(
        &dir,
        input.version,
        current,
        proposed,
        &failing_window(input, judged),
        &successes,
    );
    let reply = match ctx
        .agent
        .ask(kind, Role::Verifier, VERIFIER_SYSTEM, &prompt)
    {
        Ok(r) => r,
        Err(e) => return Verified::NoAnswer(NoAnswer::Agent(e)),
    };
    let Some(verification) = parse_verification(&reply.text) else {
        return Verified::NoAnswer(NoAnswer::Unparseable(unparseable(&reply.text)));
    };
    let checked = Checked {
        verification,
        windows_checked: successes.len(),
    };
    if checked.verification.confirms() {
        Verified::Confirmed(checked)
    } else {
        Verified::Refused(checked)
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use skillopt_shared::verdict::{Outcome, Verdict};
    use skillopt_shared::SkillRef;
    use skillopt_state::Paths;

    use super::*;
    use crate::agent::{AgentCli, Reply, Usage};
    use crate::settings::Settings;

    /// An agent that gives the verifier one reply.
    struct Once(RefCell<Option<String>>);

    impl AgentCli for Once {
        fn ask(&self, kind: AgentKind, role: Role, _: &str, _: &str) -> Result<Reply, AgentError> {
            assert_eq!(role, Role::Verifier);
            let text = self
                .0
                .borrow_mut()
                .take()
                .ok_or(AgentError::Empty(kind.binary()))?;
            Ok(Reply {
                text,
                model: None,
                usage: Usage::default(),
            })
        }
    }

    fn ask(reply: &str) -> Verified {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::under(dir.path());
        let settings = Settings::defaults(&paths);
        let agent = Once(RefCell::new(Some(reply.to_string())));
        let ctx = Context {
            paths: &paths,
            settings: &settings,
            agent: &agent,
        };
        let input = JudgeInput {
            job_id: "job-1".into(),
            skill: SkillRef::new("deploy", "alice").unwrap(),
            version: 1,
            transcript: dir.path().join("gone.jsonl"),
            tool_use_id: None,
            reaction: None,
            reaction_turn: None,
            agent: None,
            bucket: 0,
        };
        let judged = Judged {
            verdict: Verdict {
                outcome: Outcome::Failure,
                skill_at_fault: true,
                confidence: 0.9,
                reason: "skips the migration".into(),
                evidence: String::new(),
            },
            agent: "claude-code".into(),
            model: String::new(),
            fresh: true,
        };
        verify(&ctx, AgentKind::Claude, &input, &judged, "old", "new")
    }

    /// The job result shows what the model said, but never a terminal escape or a secret.
    #[test]
    fn an_unparseable_reply_is_kept_cleaned_and_redacted() {
        let key = "sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789";
        let Verified::NoAnswer(NoAnswer::Unparseable(kept)) = ask(&format!(
            "\u{1b}]0;pwned\u{7}\u{1b}[31mI cannot tell,\u{202e} my key is {key}\u{0}"
        )) else {
            panic!("no answer expected");
        };
        assert!(
            kept.starts_with("]0;pwned[31mI cannot tell, my key is "),
            "{kept:?}"
        );
        assert!(
            !kept
                .chars()
                .any(skillopt_shared::text::is_unsafe_for_terminal),
            "{kept:?}"
        );
        assert!(!kept.contains("abcdefghijklmnopqrstuvwxyz"), "{kept:?}");
        assert!(kept.contains("[REDACTED"), "{kept:?}");
    }

    /// A verifier that says yes, then no, refuses (its final word is not outvoted).
    #[test]
    fn a_verifier_that_changes_its_mind_refuses() {
        let reply = "First thought: {\"prevents_failure\": true, \"breaks\": []}. On reflection the table is still missing. Final answer: {\"prevents_failure\": false, \"breaks\": [\"x\"]}";
        match ask(reply) {
            Verified::Refused(c) => assert_eq!(c.verification.breaks, ["x"]),
            other => panic!("refusal expected: {other:?}"),
        }
        assert!(matches!(
            ask(r#"{"prevents_failure": true, "breaks": []}"#),
            Verified::Confirmed(_)
        ));
    }
}
