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
    /// The reply held no recognisable answer.
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
        return Verified::NoAnswer(NoAnswer::Unparseable(skillopt_shared::text::preview(
            &reply.text,
            120,
        )));
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
