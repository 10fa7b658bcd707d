//! `skillopt policy <skill> [auto|canary|review] [--percent N] [--json]`: shows or sets how a
//! skill's verified automatic edits are released, org-wide (in the registry).
//!
//! `auto`: active at once; `canary`: a candidate on the machines whose bucket is below the
//! canary percent until the evidence promotes or reverts it; `review`: proposed, installed
//! nowhere until a person approves it (`skillopt review`). Without a mode or `--percent` the
//! policy is shown; with either it is set (what is not given keeps its value), and the change
//! is recorded as a `policy` event with the user as its actor. Setting what is already set
//! records nothing.

use std::process::ExitCode;

use serde::Serialize;

use super::{one_line, resolve_known_skill};
use crate::registry::PolicyMode;
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
    frozen: bool,
    frozen_reason: String,
    /// True when this call changed the policy.
    changed: bool,
}

pub fn run(settings: &Settings, args: Args) -> anyhow::Result<ExitCode> {
    let mut reg = settings.open_registry()?;
    let skill = resolve_known_skill(reg.as_mut(), &args.skill)?;
    let mut flags = reg.flags(&skill)?;
    let mut changed = false;
    if args.mode.is_some() || args.percent.is_some() {
        let mode = args.mode.map(PolicyMode::from).unwrap_or(flags.policy);
        let percent = args.percent.unwrap_or(flags.canary_percent);
        if (mode, percent) != (flags.policy, flags.canary_percent) {
            reg.set_policy(&skill, mode, percent, &settings.user.value)?;
            flags = reg.flags(&skill)?;
            changed = true;
        }
    }
    let shown = Shown {
        skill: skill.dir_name(),
        policy: flags.policy,
        canary_percent: flags.canary_percent,
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
