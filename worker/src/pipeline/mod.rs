//! Running one job: claim it (atomic rename), keep its heartbeat fresh, dispatch on its kind,
//! and move it to done/failed with a result record (outcome, action, reason, timings).

pub mod improve;
pub mod judge;

use std::sync::mpsc;
use std::time::{Duration, Instant};

use skillopt_state::jobs::{Job, JobKind, JobResult, Queue};
use skillopt_state::{now_rfc3339, Paths};

/// How often a running job's heartbeat is refreshed.
const HEARTBEAT_EVERY: Duration = Duration::from_secs(30);

/// What a job body returns.
pub struct Outcome {
    pub outcome: String,
    pub action: String,
    pub reason: String,
    /// false moves the job to `failed/`.
    pub ok: bool,
}

fn run_sync(paths: &Paths) -> Outcome {
    match crate::sync::run(paths) {
        Ok(r) => Outcome {
            outcome: "synced".into(),
            action: format!(
                "installed:{} uploaded:{}",
                r.installs
                    .iter()
                    .filter(|i| i.action != "up-to-date")
                    .count(),
                r.uploaded
            ),
            reason: format!("{} event(s) left in the outbox", r.left_in_outbox),
            ok: true,
        },
        Err(e) => Outcome {
            outcome: "error".into(),
            action: "none".into(),
            reason: format!("{e:#}"),
            ok: false,
        },
    }
}

fn dispatch(paths: &Paths, job: &Job) -> Outcome {
    match job.kind {
        JobKind::Sync => run_sync(paths),
        JobKind::Judge => judge_job(paths, job),
    }
}

/// The judge job's input from the queued record.
pub fn judge_input(job: &Job) -> Result<judge::JudgeInput, String> {
    let skill_dir = job.skill.as_deref().ok_or("judge job without skill")?;
    let skill = skillopt_shared::SkillRef::parse(skill_dir).map_err(|e| e.to_string())?;
    Ok(judge::JudgeInput {
        job_id: job.id.clone(),
        skill,
        version: job.version.ok_or("judge job without version")?,
        transcript: job
            .transcript_path
            .as_deref()
            .ok_or("judge job without transcript_path")?
            .into(),
        tool_use_id: job.tool_use_id.clone(),
        reaction: job.reaction.clone(),
        agent: job.agent.clone(),
        bucket: job.bucket.unwrap_or_else(|| {
            skillopt_shared::bucket(job.session_id.as_deref().unwrap_or_default())
        }),
    })
}

fn judge_job(paths: &Paths, job: &Job) -> Outcome {
    let input = match judge_input(job) {
        Ok(i) => i,
        Err(e) => {
            return Outcome {
                outcome: "error".into(),
                action: "none".into(),
                reason: e,
                ok: false,
            }
        }
    };
    let mut reg = crate::registry::open(paths)
        .map_err(|e| tracing::warn!("registry unavailable, outcome goes to the outbox: {e}"))
        .ok();
    let judged = judge::judge_job(paths, reg.as_deref_mut(), &input);
    let recorded = match judge::record(paths, reg.as_deref_mut(), &input, &judged) {
        Ok(true) => "recorded".to_string(),
        Ok(false) => "outboxed".to_string(),
        Err(e) => {
            return Outcome {
                outcome: judged.verdict.outcome.as_str().into(),
                action: "none".into(),
                reason: format!("recording the outcome failed: {e:#}"),
                ok: false,
            }
        }
    };
    let (action, reason) = match (improve::wants_edit(&judged), reg.as_deref_mut()) {
        (Err(stop), _) => (
            recorded,
            format!("{} ({})", judged.verdict.reason, stop.detail),
        ),
        (Ok(()), None) => (
            format!("{recorded}; improve deferred"),
            "registry unreachable".into(),
        ),
        (Ok(()), Some(r)) => {
            let i = improve::improve(paths, r, &input, &judged);
            (
                i.action,
                format!("{} ({})", judged.verdict.reason, i.detail),
            )
        }
    };
    Outcome {
        outcome: judged.verdict.outcome.as_str().into(),
        ok: !action.starts_with("error"),
        action,
        reason,
    }
}

/// Claims and runs a job. `None` when it was not queued (another worker has it, or it ended).
pub fn run_job(paths: &Paths, q: &Queue, id: &str) -> anyhow::Result<Option<JobResult>> {
    let Some(job) = q.claim(id)? else {
        return Ok(None);
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
    let out = dispatch(paths, &job);
    drop(stop_tx);
    let _ = beat.join();
    let result = JobResult {
        outcome: out.outcome,
        action: out.action,
        reason: out.reason,
        started_at,
        finished_at: now_rfc3339(),
        duration_ms: t0.elapsed().as_millis() as u64,
    };
    tracing::info!(job = %job.id, outcome = %result.outcome, action = %result.action, "job finished");
    q.finish(&job, result.clone(), out.ok)?;
    Ok(Some(result))
}
