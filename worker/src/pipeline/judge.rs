//! The judge step: window → judge prompt → the agent CLI → verdict → an outcome record for the
//! skill's version and the session's bucket (to the registry, or the outbox while it is down).
//!
//! Any error, timeout or unparseable reply becomes `unclear`: the worker never invents a
//! failure. One outcome per job id: a re-run job (after a crash) reuses the outcome it already
//! recorded instead of asking again.
//!
//! A job's window may also not be judged at all ([`Skip`]; no outcome is recorded, since no
//! judgment happened): it was not drawn by `SKILLOPT_JUDGE_SAMPLE` (a draw fixed by the job id,
//! so a re-run decides the same), or the metering refused the call (daily budget spent, circuit
//! breaker open).

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;
use skillopt_shared::prompts::{judge_prompt, JUDGE_SYSTEM};
use skillopt_shared::verdict::{parse_verdict, Verdict};
use skillopt_shared::window::{self, Target, WindowError};
use skillopt_shared::SkillRef;
use skillopt_state::manifest::Manifest;
use skillopt_state::outbox::{self, OutboxEvent};
use skillopt_state::{now_rfc3339, Paths};

use super::action::SkipReason;
use super::{skip_reason, Context};
use crate::agent::Role;
use crate::registry::{OutcomeRow, Registry};

/// What to judge.
#[derive(Debug, Clone)]
pub struct JudgeInput {
    pub job_id: String,
    pub skill: SkillRef,
    pub version: u32,
    pub transcript: PathBuf,
    pub tool_use_id: Option<String>,
    pub reaction: Option<String>,
    /// The reaction is the Nth user prompt after the use (from the hook), when known.
    pub reaction_turn: Option<u32>,
    /// The session's agent (`claude-code`, `codex`); the `agent` setting overrides.
    pub agent: Option<String>,
    pub bucket: u8,
}

/// The judge's result.
#[derive(Debug, Clone, Serialize)]
pub struct Judged {
    pub verdict: Verdict,
    pub agent: String,
    pub model: String,
    /// False when the outcome came from an earlier run of the same job.
    pub fresh: bool,
}

/// A window not judged: why, and the detail for the job record.
#[derive(Debug, Clone, PartialEq)]
pub struct Skip {
    pub reason: SkipReason,
    pub detail: String,
}

/// Whether a job's window is judged at sampling rate `rate` (0–1): a draw in [0, 1) from the
/// job id's hash, so the same job always decides the same.
pub fn sampled(rate: f64, job_id: &str) -> bool {
    use sha2::{Digest, Sha256};
    let h = Sha256::digest(job_id.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&h[..8]);
    // 53 bits: every value is exact as an f64.
    let draw = (u64::from_be_bytes(first) >> 11) as f64 / (1u64 << 53) as f64;
    draw < rate
}

/// The installed copy's body (what the agent actually followed), else the registry's.
pub fn skill_body(
    paths: &Paths,
    reg: Option<&mut (dyn Registry + '_)>,
    skill: &SkillRef,
    version: u32,
) -> String {
    let installed = Manifest::load(paths).ok().and_then(|m| {
        let e = m.find(skill)?;
        (e.version == version).then(|| {
            e.existing_paths()
                .next()
                .and_then(|p| {
                    let cap = skillopt_state::manifest::MAX_INSTALLED_BYTES;
                    skillopt_state::fsutil::read_regular(p, cap).ok()?
                })
                .and_then(|b| String::from_utf8(b).ok())
        })?
    });
    installed
        .or_else(|| reg.and_then(|r| r.version(skill, version).ok().flatten().map(|v| v.body)))
        .unwrap_or_default()
}

/// Builds the window, waiting briefly when the transcript is still being written (the agent
/// writes it asynchronously, so a just-armed use may lag).
pub fn window_for(input: &JudgeInput, wait_for_lag: bool) -> Result<window::Window, WindowError> {
    let target = Target {
        tool_use_id: input.tool_use_id.clone(),
        skill: Some(input.skill.dir_name()),
        reaction_turn: input.reaction_turn,
    };
    let mut pauses = if wait_for_lag {
        vec![500u64, 1000, 2000]
    } else {
        Vec::new()
    }
    .into_iter();
    loop {
        match window::build(&input.transcript, &target, input.reaction.as_deref()) {
            Err(WindowError::NotFound(_)) if wait_for_lag => match pauses.next() {
                Some(ms) => std::thread::sleep(Duration::from_millis(ms)),
                None => {
                    return window::build(&input.transcript, &target, input.reaction.as_deref())
                }
            },
            other => return other,
        }
    }
}

fn earlier_outcome(
    paths: &Paths,
    reg: Option<&mut (dyn Registry + '_)>,
    job_id: &str,
) -> Option<OutcomeRow> {
    if let Some(row) = reg.and_then(|r| r.outcome_for_job(job_id).ok().flatten()) {
        return Some(row);
    }
    match outbox::get(paths, &OutboxEvent::outcome_key(job_id)).ok()?? {
        OutboxEvent::Outcome(e) => Some(e.payload),
        OutboxEvent::Attribution(_) | OutboxEvent::Notice(_) => None,
    }
}

/// Asks the agent. Never fails: problems become an `unclear` verdict with the reason (a call
/// the metering refused too).
pub fn ask_judge(
    ctx: &Context<'_>,
    reg: Option<&mut (dyn Registry + '_)>,
    input: &JudgeInput,
    wait_for_lag: bool,
) -> Judged {
    ask(ctx, reg, input, wait_for_lag).unwrap_or_else(|skip| {
        let kind = ctx.settings.choose_agent(input.agent.as_deref()).ok();
        Judged {
            verdict: Verdict::unclear(&format!("judge error: {}", skip.detail)),
            agent: kind.map_or("-", |k| k.binary()).into(),
            model: kind
                .and_then(|k| ctx.settings.model(k, Role::Judge))
                .unwrap_or_else(|| "default".into()),
            fresh: true,
        }
    })
}

/// Asks the agent: problems become an `unclear` verdict; a call the metering refused is a
/// [`Skip`].
fn ask(
    ctx: &Context<'_>,
    reg: Option<&mut (dyn Registry + '_)>,
    input: &JudgeInput,
    wait_for_lag: bool,
) -> Result<Judged, Skip> {
    let kind = match ctx.settings.choose_agent(input.agent.as_deref()) {
        Ok(k) => k,
        Err(e) => {
            return Ok(Judged {
                verdict: Verdict::unclear(&e.to_string()),
                agent: "-".into(),
                model: "-".into(),
                fresh: true,
            })
        }
    };
    let agent_name = kind.binary().to_string();
    let unclear = |why: String, model: Option<String>| Judged {
        verdict: Verdict::unclear(&why),
        agent: agent_name.clone(),
        model: model.unwrap_or_else(|| "default".into()),
        fresh: true,
    };
    let window = match window_for(input, wait_for_lag) {
        Ok(w) => w,
        Err(e) => return Ok(unclear(format!("no window: {e}"), None)),
    };
    let body = skill_body(ctx.paths, reg, &input.skill, input.version);
    let prompt = judge_prompt(&input.skill.dir_name(), input.version, &body, &window.text);
    Ok(
        match ctx.agent.ask(kind, Role::Judge, JUDGE_SYSTEM, &prompt) {
            Err(e) => match skip_reason(&e) {
                Some(reason) => {
                    return Err(Skip {
                        reason,
                        detail: e.to_string(),
                    })
                }
                None => unclear(
                    format!("judge error: {e}"),
                    ctx.settings.model(kind, Role::Judge),
                ),
            },
            Ok(reply) => match parse_verdict(&reply.text) {
                Some(verdict) => Judged {
                    verdict,
                    agent: agent_name.clone(),
                    model: reply.model.unwrap_or_else(|| "default".into()),
                    fresh: true,
                },
                None => unclear(
                    format!(
                        "unparseable judge reply: {}",
                        skillopt_shared::text::preview(&reply.text, 120)
                    ),
                    reply.model,
                ),
            },
        },
    )
}

/// Judges once per job: an outcome already recorded for this job id is returned as is.
/// Otherwise a window not drawn by the sampling rate, or a judge call the metering refused, is
/// a [`Skip`].
pub fn judge_job(
    ctx: &Context<'_>,
    mut reg: Option<&mut (dyn Registry + '_)>,
    input: &JudgeInput,
) -> Result<Judged, Skip> {
    if let Some(row) = earlier_outcome(ctx.paths, reg.as_deref_mut(), &input.job_id) {
        return Ok(Judged {
            verdict: Verdict {
                outcome: row.outcome,
                skill_at_fault: row.skill_at_fault,
                confidence: row.confidence,
                reason: row.reason,
                evidence: String::new(),
            },
            agent: row.agent,
            model: row.model,
            fresh: false,
        });
    }
    let rate = ctx.settings.judge_sample.value;
    if !sampled(rate, &input.job_id) {
        return Err(Skip {
            reason: SkipReason::NotSampled,
            detail: format!("window not sampled (judge sample rate {rate})"),
        });
    }
    ask(ctx, reg, input, true)
}

/// Records the outcome: queued in the outbox, then delivered right away when the registry is
/// up. Returns true when the registry has it.
pub fn record(
    paths: &Paths,
    reg: Option<&mut (dyn Registry + '_)>,
    input: &JudgeInput,
    judged: &Judged,
) -> anyhow::Result<bool> {
    let row = OutcomeRow {
        id: ulid::Ulid::new().to_string(),
        job_id: input.job_id.clone(),
        name: input.skill.name.clone(),
        author: input.skill.author.clone(),
        version: input.version,
        bucket: input.bucket,
        outcome: judged.verdict.outcome,
        skill_at_fault: judged.verdict.skill_at_fault,
        confidence: judged.verdict.confidence,
        reason: judged.verdict.reason.clone(),
        agent: judged.agent.clone(),
        model: judged.model.clone(),
        judged_at: now_rfc3339(),
    };
    let event = OutboxEvent::outcome(row);
    if !judged.fresh {
        // Already recorded by an earlier run: make sure it is delivered, nothing more.
        return match reg {
            Some(r) => Ok(r.outcome_for_job(&input.job_id)?.is_some()
                || crate::sync::record_event(paths, Some(r), event)?),
            None => Ok(false),
        };
    }
    crate::sync::record_event(paths, reg, event)
}

#[cfg(test)]
mod tests {
    use super::sampled;

    #[test]
    fn sampling_is_fixed_per_job_and_follows_the_rate() {
        let ids: Vec<String> = (0..2000).map(|i| format!("01JOB{i:05}")).collect();
        assert!(ids.iter().all(|id| sampled(1.0, id)));
        assert!(!ids.iter().any(|id| sampled(0.0, id)));
        let half = ids.iter().filter(|id| sampled(0.5, id)).count();
        assert!((900..1100).contains(&half), "{half} of 2000 at 0.5");
        // The same job decides the same every time, and a drawn job stays drawn at a higher rate.
        for id in &ids[..50] {
            assert_eq!(sampled(0.3, id), sampled(0.3, id));
            assert!(!sampled(0.3, id) || sampled(0.6, id));
        }
    }
}
