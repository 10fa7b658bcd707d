//! `skillopt pull [--dry-run] [--json]`: apply the rollout rules (promote, revert: see
//! [`crate::rollout`]), then install what this machine's channel gets of every org skill.
//!
//! Registry rows are untrusted (see [`crate::install_skill`]): a row with a bad name, a body
//! over 256 KiB or a frontmatter that is not one valid YAML mapping, or a skill whose folder in
//! a skill root is a link, is skipped and reported by name with the reason; the others install.

use std::process::ExitCode;

use skillopt_state::Paths;

use crate::install_skill::{describe, InstallAction};
use crate::settings::Settings;
use crate::sync;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Show what would change; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

pub fn run(paths: &Paths, settings: &Settings, args: Args) -> anyhow::Result<ExitCode> {
    let mut reg = settings.open_existing_registry()?;
    // A pull is a sync of the skills: the rollout rules run first (not on a dry run).
    let applied = if args.dry_run {
        Vec::new()
    } else {
        // Rules that cannot run (the registry half answers) must not stop the install.
        crate::rollout::evaluate(reg.as_mut()).unwrap_or_else(|e| {
            eprintln!("warning: rollout rules not applied: {e:#}");
            Vec::new()
        })
    };
    crate::rollout::notify(paths, settings, &applied, true);
    let reports = sync::pull(paths, reg.as_mut(), args.dry_run)?;
    if !args.json {
        for a in &applied {
            println!("{}: v{} {}", a.skill, a.version, a.event);
            if let Some(why) = &a.frozen {
                println!("{}: frozen: {why}", a.skill);
            }
        }
    }
    if args.json {
        super::print_json(&reports)?;
        return Ok(ExitCode::SUCCESS);
    }
    if reports.is_empty() {
        println!("no org skills in {}", reg.describe());
    }
    for r in &reports {
        let prefix = if args.dry_run
            && !matches!(r.action, InstallAction::UpToDate | InstallAction::Skipped)
        {
            "would be "
        } else {
            ""
        };
        let line = describe(r);
        if prefix.is_empty() {
            println!("{line}");
        } else {
            println!("{}: {prefix}{} (v{})", r.skill, r.action, r.version);
        }
    }
    Ok(ExitCode::SUCCESS)
}
