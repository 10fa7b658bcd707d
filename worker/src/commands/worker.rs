//! `skillopt worker run --job <id>` (what hooks spawn) and `skillopt worker drain` (every queued
//! job, after re-queuing running jobs whose heartbeat is stale or whose worker died). One job
//! that fails to run (a torn job file, moved aside to `jobs/corrupt/`) is reported and the drain
//! goes on with the others.

use std::process::ExitCode;

use skillopt_shared::config::STALE_JOB;
use skillopt_state::jobs::{JobState, Queue};
use skillopt_state::Paths;

use crate::pipeline::{self, with_cli};
use crate::settings::Settings;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Run one queued job.
    Run {
        /// The job id (a ULID).
        #[arg(long)]
        job: String,
    },
    /// Run every queued job (and re-queue stale running ones first).
    Drain {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(paths: &Paths, settings: &Settings, cmd: Command) -> anyhow::Result<ExitCode> {
    let q = Queue::new(paths);
    match cmd {
        Command::Run { job } => {
            if !skillopt_state::jobs::valid_id(&job) {
                anyhow::bail!("{job:?} is not a job id (expected a ULID)");
            }
            match with_cli(paths, settings, |ctx| pipeline::run_job(ctx, &q, &job))? {
                Some(r) => println!("{job}: {} ({}) {}", r.outcome, r.action, r.reason),
                None => match q.find(&job)? {
                    Some((state, _)) => println!("{job}: not queued (it is {state:?})"),
                    None => anyhow::bail!("no job {job}"),
                },
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Drain { json } => {
            let requeued = q.requeue_stale(STALE_JOB)?;
            let mut results = Vec::new();
            let mut errors = Vec::new();
            for id in q.ids(JobState::Queued)? {
                match with_cli(paths, settings, |ctx| pipeline::run_job(ctx, &q, &id)) {
                    Ok(Some(r)) => {
                        if !json {
                            println!("{id}: {} ({}) {}", r.outcome, r.action, r.reason);
                        }
                        results.push(serde_json::json!({"job": id, "result": r}));
                    }
                    Ok(None) => {}
                    Err(e) => {
                        if !json {
                            println!("{id}: not run: {e:#}");
                        }
                        errors.push(serde_json::json!({"job": id, "error": format!("{e:#}")}));
                    }
                }
            }
            if json {
                super::print_json(&serde_json::json!({
                    "requeued": requeued,
                    "ran": results,
                    "errors": errors,
                }))?;
            } else if results.is_empty() && errors.is_empty() {
                println!("no queued jobs");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
