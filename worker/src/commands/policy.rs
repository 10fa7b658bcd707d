//! `skillopt policy <skill> [auto|canary|review] [--percent N] [--json]`: shows or sets how a
//! skill's verified automatic edits are released, org-wide (in the registry).
//!
//! `auto`: active at once; `canary`: a candidate on the machines whose bucket is below the
//! canary percent until the evidence promotes or reverts it; `review`: proposed, installed
//! nowhere until a person approves it (`skillopt review`). `--min-uses M` and `--min-failures K`
//! set the rollout rules' numbers (a candidate needs M judged uses to be promoted; K
//! skill-at-fault failures can revert it); they live in the registry, so every machine applies
//! the same numbers. Without a mode or an option the policy is shown; with any it is set (what
//! is not given keeps its value), and the change is recorded as a `policy` event with the user
//! as its actor. Setting what is already set records nothing.

use std::process::ExitCode;

use serde::Serialize;

use super::{one_line, resolve_known_skill};
use crate::registry::{Policy, PolicyMode};
use crate::settings::Settings;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// `name--author` (or a unique bare name).
    pub skill: String,
    /// The release policy to set; without it (and without `--percent`) the policy is shown.
    #[arg(value_enum)]
    pub mode: Option<Mode>,
    /// Percent of machines (by bucket) on the skill's canary channel, 0–100 (default 20).
    #[arg(long, value_parser = clap::value_parser!(u8).range(0..=100))]
    pub percent: Option<u8>,
    /// M: judged uses a candidate needs before it can be promoted, 1–10000 (default 5).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub min_uses: Option<u32>,
    /// K: skill-at-fault failures that can revert a candidate, 1–10000 (default 2).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub min_failures: Option<u32>,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

/// The policy argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// A verified edit is the active version at once.
    Auto,
    /// A verified edit is a candidate on canary machines until the evidence decides.
    Canary,
    /// A verified edit waits for a person (`skillopt review`).
    Review,
}

impl From<Mode> for PolicyMode {
    fn from(m: Mode) -> Self {
        match m {
            Mode::Auto => PolicyMode::Auto,
            Mode::Canary => PolicyMode::Canary,
            Mode::Review => PolicyMode::Review,
        }
    }
}

/// What `policy --json` prints.
#[derive(Debug, Serialize)]
struct Shown {
    skill: String,
    policy: PolicyMode,
    canary_percent: u8,
    promote_min_uses: u32,
    revert_min_failures: u32,
    frozen: bool,
    frozen_reason: String,
    /// True when this call changed the policy.
    changed: bool,
}

pub fn run(settings: &Settings, args: Args) -> anyhow::Result<ExitCode> {
    let mut reg = settings.open_existing_registry()?;
    let skill = resolve_known_skill(reg.as_mut(), &args.skill)?;
    let mut flags = reg.flags(&skill)?;
    let mut changed = false;
    let old = flags.release();
    let new = Policy {
        mode: args.mode.map(PolicyMode::from).unwrap_or(old.mode),
        canary_percent: args.percent.unwrap_or(old.canary_percent),
        promote_min_uses: args.min_uses.unwrap_or(old.promote_min_uses),
        revert_min_failures: args.min_failures.unwrap_or(old.revert_min_failures),
    };
    if new != old {
        reg.set_policy(&skill, &new, &settings.user.value)?;
        flags = reg.flags(&skill)?;
        changed = true;
    }
    let shown = Shown {
        skill: skill.dir_name(),
        policy: flags.policy,
        canary_percent: flags.canary_percent,
        promote_min_uses: flags.promote_min_uses,
        revert_min_failures: flags.revert_min_failures,
        frozen: flags.frozen,
        // The registry keeps the last reason given, an unfreeze's included.
        frozen_reason: if flags.frozen {
            flags.frozen_reason
        } else {
            String::new()
        },
        changed,
    };
    if args.json {
        super::print_json(&shown)?;
        return Ok(ExitCode::SUCCESS);
    }
    let what = match shown.policy {
        PolicyMode::Auto => "verified edits are active at once".to_string(),
        PolicyMode::Canary => format!(
            "verified edits go to {} % of machines first",
            shown.canary_percent
        ),
        PolicyMode::Review => format!(
            "verified edits wait for review, then go to {} % of machines first",
            shown.canary_percent
        ),
    };
    println!(
        "{skill}: policy {}{} ({what})",
        shown.policy,
        if changed { " (set)" } else { "" }
    );
    if shown.policy != PolicyMode::Auto {
        println!(
            "  a candidate is promoted after {} judged uses no worse than its parent, reverted after {} skill-at-fault failures",
            shown.promote_min_uses, shown.revert_min_failures
        );
    }
    if shown.frozen {
        println!(
            "  frozen: no automatic edits{}",
            if shown.frozen_reason.is_empty() {
                String::new()
            } else {
                format!(" ({})", one_line(&shown.frozen_reason))
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}
