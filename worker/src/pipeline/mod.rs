//! Running one job: claim it (atomic rename), keep its heartbeat fresh, dispatch on its kind,
//! and move it to done/failed with a result record (outcome, action, reason, timings).

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

fn judge_job(_paths: &Paths, _job: &Job) -> Outcome {
    Outcome {
        outcome: "unclear".into(),
        action: "none".into(),
        reason: "judging is not available in this build".into(),
        ok: false,
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
