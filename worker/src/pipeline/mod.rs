//! Running one job: claim it (atomic rename), keep its heartbeat fresh, dispatch on its kind,
//! and move it to done/failed with a result record (outcome, action, reason, timings). Every
//! agent call of a job is metered (daily budget, circuit breaker, ledger) and tagged with the
//! job's skill and id; a call the metering refuses ends the job `skipped:<why>`.

pub(crate) mod action;
pub(crate) mod improve;
pub(crate) mod judge;
#[cfg(test)]
mod tests;
mod verify;

use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use skillopt_shared::transcript::claude_code::subagent_transcript;
use skillopt_state::jobs::{Job, JobKind, JobResult, JobState, Queue};
use skillopt_state::{now_rfc3339, Paths, StateError};

use self::action::{Action, JobOutcome, SkipReason};
use crate::agent::metered::Metered;
use crate::agent::{AgentCli, AgentError, CallTag, CliRunner};
use crate::settings::Settings;

/// What the pipeline runs with: the state dir, the settings and the agent CLI to ask.
pub(crate) struct Context<'a> {
    pub(crate) paths: &'a Paths,
    pub(crate) settings: &'a Settings,
    pub(crate) agent: &'a dyn AgentCli,
}

/// Runs `f` with a context that asks the real agent CLIs, metered: the daily budget and the
/// circuit breaker are checked before every call, and every call is written to the ledger
/// (see [`crate::agent::metered`]).
pub(crate) fn with_cli<R>(
    paths: &Paths,
    settings: &Settings,
    f: impl FnOnce(&Context<'_>) -> R,
) -> R {
    let runner = CliRunner { settings };
    let metered = Metered::new(&runner, paths, settings);
    f(&Context {
        paths,
        settings,
        agent: &metered,
    })
}

/// Why no agent call was made, when the metering refused one (`None`: the agent itself failed,
/// or the ledger could not be read).
pub(crate) fn skip_reason(e: &AgentError) -> Option<SkipReason> {
    match e {
        AgentError::OverBudget { .. } => Some(SkipReason::Budget),
        AgentError::CircuitOpen { .. } => Some(SkipReason::CircuitOpen),
        _ => None,
    }
}

/// How often a running job's heartbeat is refreshed.
const HEARTBEAT_EVERY: Duration = Duration::from_secs(30);
/// A job asking to be retried is re-queued at most this many times, then fails.
const MAX_ATTEMPTS: u32 = 5;

/// How a job body ended (written to the job record as strings).
pub struct JobEnd {
    pub outcome: JobOutcome,
    pub action: Action,
    pub reason: String,
    /// false moves the job to `failed/`.
    pub ok: bool,
    /// true puts the job back in `queued/` for a later run (up to [`MAX_ATTEMPTS`]).
    pub retry: bool,
}

impl JobEnd {
    fn error(outcome: JobOutcome, reason: String) -> Self {
        Self {
            outcome,
            action: Action::None,
            reason,
            ok: false,
            retry: false,
        }
    }
}

/// The sync job: pull + upload, then run the judge jobs still queued (deferred while the
/// registry was unreachable, or left behind by a failed spawn).
fn run_sync(ctx: &Context<'_>) -> JobEnd {
    match crate::sync::run(ctx.paths, ctx.settings) {
        Ok(r) => {
            let q = Queue::new(ctx.paths);
            let deferred: Vec<String> = q
                .list(JobState::Queued)
                .unwrap_or_default()
                .into_iter()
                .filter(|j| j.kind == JobKind::Judge)
                .map(|j| j.id)
                .collect();
            let retried = deferred
                .iter()
                .filter(|id| run_job(ctx, &q, id).ok().flatten().is_some())
                .count();
            JobEnd {
                outcome: JobOutcome::Synced,
                action: Action::Synced {
                    installed: r
                        .installs
                        .iter()
                        .filter(|i| i.action != crate::install_skill::InstallAction::UpToDate)
                        .count(),
                    uploaded: r.uploaded,
                    retried,
                },
                reason: format!(
                    "{}{} event(s) left in the outbox{}",
                    if r.unchanged {
                        "nothing new in the registry; "
                    } else {
                        ""
                    },
                    r.left_in_outbox,
                    r.upload_forbidden
                        .as_deref()
                        .map(|why| format!(" (the registry takes none from this machine: {why})"))
                        .unwrap_or_default()
                ),
                ok: true,
                retry: false,
            }
        }
        Err(e) => JobEnd::error(JobOutcome::Error, format!("{e:#}")),
    }
}

fn dispatch(ctx: &Context<'_>, job: &Job) -> JobEnd {
    match job.kind {
        JobKind::Sync => run_sync(ctx),
        JobKind::Judge => judge_job(ctx, job),
    }
}

/// A Codex rollout for a session id under `$CODEX_HOME/sessions/YYYY/MM/DD/` (Codex may send
/// `transcript_path: null`). The newest match wins.
pub fn find_codex_rollout(paths: &Paths, session_id: &str) -> Option<std::path::PathBuf> {
    fn walk(dir: &std::path::Path, depth: u8, suffix: &str, out: &mut Vec<std::path::PathBuf>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() && depth > 0 {
                walk(&p, depth - 1, suffix, out);
            } else if p
                .file_name()
                .and_then(|f| f.to_str())
                .is_some_and(|f| f.starts_with("rollout-") && f.ends_with(suffix))
            {
                out.push(p);
            }
        }
    }
    if session_id.is_empty() || session_id.contains(['/', '\\']) {
        return None;
    }
    let mut found = Vec::new();
    walk(
        &paths.codex_home.join("sessions"),
        3,
        &format!("{session_id}.jsonl"),
        &mut found,
    );
    found.into_iter().max()
}

/// Why a queued judge job cannot be judged.
#[derive(Debug, thiserror::Error)]
pub(crate) enum JobInputError {
    #[error("judge job without {0}")]
    Missing(&'static str),
    #[error(transparent)]
    Skill(#[from] skillopt_shared::skill_ref::RefError),
    #[error("no transcript for subagent {agent_id:?} beside {transcript}")]
    NoSubagentTranscript {
        agent_id: String,
        transcript: String,
    },
    #[error("judge job without transcript_path (and no Codex rollout for its session)")]
    NoTranscript,
}

/// The judge job's input from the queued record.
pub fn judge_input(paths: &Paths, job: &Job) -> Result<judge::JudgeInput, JobInputError> {
    let skill_dir = job
        .skill
        .as_deref()
        .ok_or(JobInputError::Missing("skill"))?;
    let skill = skillopt_shared::SkillRef::parse(skill_dir)?;
    Ok(judge::JudgeInput {
        job_id: job.id.clone(),
        skill,
        version: job.version.ok_or(JobInputError::Missing("version"))?,
        transcript: match (job.transcript_path.as_deref(), job.agent_id.as_deref()) {
            // A use inside a subagent is only in the subagent's file: judging the parent would
            // judge some other use of the skill.
            (Some(t), Some(id)) => subagent_transcript(Path::new(t), id)
                .filter(|sub| sub.is_file())
                .ok_or_else(|| JobInputError::NoSubagentTranscript {
                    agent_id: id.escape_debug().to_string(),
                    transcript: t.to_string(),
                })?,
            (Some(t), None) => t.into(),
            (None, _) => job
                .session_id
                .as_deref()
                .and_then(|sid| find_codex_rollout(paths, sid))
                .ok_or(JobInputError::NoTranscript)?,
        },
        tool_use_id: job.tool_use_id.clone(),
        reaction: job.reaction.clone(),
        reaction_turn: job.reaction_turn,
        agent: job.agent.clone(),
        bucket: job.bucket.unwrap_or_else(|| {
            skillopt_shared::bucket(job.session_id.as_deref().unwrap_or_default())
        }),
    })
}

fn judge_job(ctx: &Context<'_>, job: &Job) -> JobEnd {
    let input = match judge_input(ctx.paths, job) {
        Ok(i) => i,
        Err(e) => return JobEnd::error(JobOutcome::Error, e.to_string()),
    };
    // Every agent call of the job (judge, proposer, verifier) is recorded against it.
    let tagged = ctx.agent.for_job(&CallTag {
        skill: Some(input.skill.dir_name()),
        job_id: Some(job.id.clone()),
    });
    let job_ctx = Context {
        paths: ctx.paths,
        settings: ctx.settings,
        agent: tagged.as_deref().unwrap_or(ctx.agent),
    };
    let ctx = &job_ctx;
    let mut reg = ctx
        .settings
        .open_registry()
        .map_err(|e| tracing::warn!("registry unavailable, outcome goes to the outbox: {e}"))
        .ok();
    let judged = match judge::judge_job(ctx, reg.as_deref_mut(), &input) {
        Ok(j) => j,
        // Not judged (not sampled, over budget, circuit open): nothing is recorded.
        Err(skip) => {
            return JobEnd {
                outcome: JobOutcome::Skipped,
                action: Action::Skipped(skip.reason),
                reason: skip.detail,
                ok: true,
                retry: false,
            }
        }
    };
    let outcome = JobOutcome::Judged(judged.verdict.outcome);
    let recorded = match judge::record(ctx.paths, reg.as_deref_mut(), &input, &judged) {
        Ok(true) => Action::Recorded,
        Ok(false) => Action::Outboxed,
        Err(e) => return JobEnd::error(outcome, format!("recording the outcome failed: {e:#}")),
    };
    if judged.fresh && judged.verdict.outcome == skillopt_shared::verdict::Outcome::Success {
        keep_success_window(ctx.paths, &input);
    }
    let (action, reason) = match (
        improve::wants_edit(ctx.settings, &judged),
        reg.as_deref_mut(),
    ) {
        (Err(stop), _) => (
            recorded,
            format!("{} ({})", judged.verdict.reason, stop.detail),
        ),
        (Ok(()), None) => {
            // The outcome is safe in the outbox; the job goes back to the queue so the next
            // sync (or `worker drain`) improves the skill once the registry answers. The
            // verdict is reused then, not asked again.
            return JobEnd {
                outcome,
                action: Action::Deferred,
                reason: "registry unreachable: improvement deferred to the next sync".into(),
                ok: false,
                retry: true,
            };
        }
        (Ok(()), Some(r)) => {
            let i = improve::improve(ctx, r, &input, &judged);
            (
                i.action,
                format!("{} ({})", judged.verdict.reason, i.detail),
            )
        }
    };
    JobEnd {
        outcome,
        ok: action != Action::Error,
        action,
        reason,
        retry: false,
    }
}

/// Keeps the window of a use the judge found a success, for the verifier of later proposals
/// (best effort: a window that cannot be rebuilt or kept is only logged).
fn keep_success_window(paths: &Paths, input: &judge::JudgeInput) {
    let kept = judge::window_for(input, false)
        .map_err(anyhow::Error::from)
        .and_then(|w| {
            skillopt_state::success_windows::keep(
                paths,
                &input.skill.dir_name(),
                &input.job_id,
                &w.text,
            )
            .map_err(anyhow::Error::from)
        });
    if let Err(e) = kept {
        tracing::warn!(job = %input.job_id, "success window not kept: {e:#}");
    }
}

/// Claims and runs a job. `None` when it was not queued (another worker has it, or it ended).
/// A job file that does not parse is moved to `jobs/corrupt/` (logged) and is an error here;
/// `worker drain` reports it and goes on with the other jobs.
pub fn run_job(ctx: &Context<'_>, q: &Queue, id: &str) -> anyhow::Result<Option<JobResult>> {
    let job = match q.claim(id) {
        Ok(Some(job)) => job,
        Ok(None) => return Ok(None),
        Err(e @ StateError::CorruptJob { .. }) => {
            tracing::warn!(job = %id, "{e}");
            return Err(e.into());
        }
        Err(e) => return Err(e.into()),
    };
    let started_at = now_rfc3339();
    let t0 = Instant::now();
    let (stop_tx, stop_rx) = mpsc::channel::<()>();
    let beat_q = q.clone();
    let beat_id = job.id.clone();
    let beat = std::thread::spawn(move || {
        while let Err(mpsc::RecvTimeoutError::Timeout) = stop_rx.recv_timeout(HEARTBEAT_EVERY) {
            let _ = beat_q.heartbeat(&beat_id);
        }
    });
    tracing::info!(job = %job.id, kind = ?job.kind, "job started");
    let out = dispatch(ctx, &job);
    drop(stop_tx);
    let _ = beat.join();
    // The job record keeps the strings it always had.
    let result = JobResult {
        outcome: out.outcome.to_string(),
        action: out.action.to_string(),
        reason: out.reason,
        started_at,
        finished_at: now_rfc3339(),
        duration_ms: t0.elapsed().as_millis() as u64,
    };
    tracing::info!(job = %job.id, outcome = %result.outcome, action = %result.action, "job finished");
    let ended = if out.retry && job.attempts < MAX_ATTEMPTS {
        q.requeue(&job, result.clone())
    } else {
        q.finish(&job, result.clone(), out.ok)
    };
    if let Err(e @ StateError::LostJob(_)) = &ended {
        // A stale-job sweep gave the job to another worker while this one ran it: that
        // worker's run is the one recorded (every effect is keyed by the job id).
        tracing::warn!(job = %job.id, "{e}");
    }
    ended?;
    Ok(Some(result))
}
