//! `skillopt judge --transcript P --skill S [--tool-use-id T] [--reaction R] [--dry-run]`: the
//! worker's judge step by hand. Without `--dry-run` the outcome is recorded like a worker's.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use skillopt_shared::SkillRef;
use skillopt_state::manifest::Manifest;
use skillopt_state::Paths;

use crate::pipeline::judge::{self, JudgeInput};
use crate::pipeline::{improve, with_cli};
use crate::settings::Settings;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Claude Code or Codex transcript.
    #[arg(long)]
    pub transcript: PathBuf,
    /// The org skill, `name--author`.
    #[arg(long)]
    pub skill: String,
    /// Pin one invocation.
    #[arg(long)]
    pub tool_use_id: Option<String>,
    /// The user's reaction.
    #[arg(long)]
    pub reaction: Option<String>,
    /// Skill version (default: the installed one, else the registry's latest).
    #[arg(long, value_name = "N")]
    pub skill_version: Option<u32>,
    /// Ask the judge and print the verdict; record nothing, publish nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

pub fn run(paths: &Paths, settings: &Settings, args: Args) -> anyhow::Result<ExitCode> {
    let skill = SkillRef::parse(&args.skill)?;
    if !args.transcript.is_file() {
        anyhow::bail!("cannot read transcript {}", args.transcript.display());
    }
    let mut reg = settings.open_registry().ok();
    let version = match args.skill_version {
        Some(v) => v,
        None => Manifest::load(paths)?
            .find(&skill)
            .map(|e| e.version)
            .or_else(|| {
                reg.as_mut()
                    .and_then(|r| r.latest(&skill).ok().flatten())
                    .map(|v| v.version)
            })
            .with_context(|| format!("{skill} is neither installed nor in the registry"))?,
    };
    let input = JudgeInput {
        job_id: format!("manual-{}", ulid::Ulid::new()),
        skill,
        version,
        transcript: args.transcript,
        tool_use_id: args.tool_use_id,
        reaction: args.reaction,
        reaction_turn: None,
        agent: None,
        bucket: 0,
    };
    let (judged, recorded, improvement) = with_cli(paths, settings, |ctx| {
        let judged = judge::ask_judge(ctx, reg.as_deref_mut(), &input, false);
        let recorded = if args.dry_run {
            None
        } else {
            Some(judge::record(paths, reg.as_deref_mut(), &input, &judged)?)
        };
        let improvement = match (args.dry_run, reg.as_deref_mut()) {
            (false, Some(r)) => Some(improve::improve(ctx, r, &input, &judged)),
            _ => None,
        };
        anyhow::Ok((judged, recorded, improvement))
    })?;
    if args.json {
        super::print_json(
            &serde_json::json!({"job_id": input.job_id, "judged": judged, "recorded": recorded, "improvement": improvement}),
        )?;
    } else {
        let v = &judged.verdict;
        println!(
            "{} v{}: {} (skill at fault: {}, confidence {:.2}) by {} ({})",
            input.skill,
            version,
            v.outcome.as_str(),
            v.skill_at_fault,
            v.confidence,
            judged.agent,
            judged.model
        );
        println!("  reason:   {}", v.reason);
        if !v.evidence.is_empty() {
            println!("  evidence: {}", v.evidence);
        }
        match recorded {
            None => println!("  (dry run: nothing recorded)"),
            Some(true) => println!("  outcome recorded in the registry"),
            Some(false) => println!("  outcome queued in the outbox (registry unreachable)"),
        }
        if let Some(i) = &improvement {
            println!("  improvement: {} ({})", i.action, i.detail);
        }
    }
    Ok(ExitCode::SUCCESS)
}
