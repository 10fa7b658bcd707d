//! `skillopt freeze|unfreeze <skill> [--reason TEXT]`: stop or allow automatic edits of a skill
//! (org-wide, in the registry). Each change is recorded as a `frozen` / `unfrozen` event with
//! the user as its actor and the reason (cleaned of control characters), which `log` shows;
//! unfreezing a skill that is not frozen changes and records nothing. `unfreeze` also lifts a
//! freeze made by the reversion limit. Each freeze sends a `frozen` webhook notice (see
//! `crate::webhook`; delivery waits at most `CLI_BUDGET`, then is left to the next sync).

use std::process::ExitCode;

use skillopt_state::Paths;

use super::{one_line, resolve_known_skill};
use crate::settings::Settings;
use crate::webhook::{self, Notice, NoticeKind};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// `name--author` (or a unique bare name).
    pub skill: String,
    /// Why (shown by `status` and `log`).
    #[arg(long, default_value = "")]
    pub reason: String,
}

pub fn run(
    paths: &Paths,
    settings: &Settings,
    args: Args,
    frozen: bool,
) -> anyhow::Result<ExitCode> {
    let mut reg = settings.open_existing_registry()?;
    let skill = resolve_known_skill(reg.as_mut(), &args.skill)?;
    let reason = skillopt_shared::verdict::clean(&args.reason);
    if !frozen && !reg.flags(&skill)?.frozen {
        println!("{skill}: not frozen (automatic edits allowed)");
        return Ok(ExitCode::SUCCESS);
    }
    reg.set_frozen(&skill, frozen, &reason, &settings.user.value)?;
    if frozen {
        // The notice names the version the skill is frozen at.
        let version = reg.head(&skill)?.map_or(0, |v| v.version);
        let why = format!(
            "frozen by {}{}",
            settings.user.value,
            if reason.is_empty() {
                String::new()
            } else {
                format!(": {reason}")
            }
        );
        // Unique: a skill frozen, unfrozen and frozen again at the same version is two
        // freezes, two notices. Delivery is brief (a person waits), the rest goes at sync.
        webhook::notify_briefly(
            paths,
            settings,
            Notice::new(
                NoticeKind::Frozen,
                &skill,
                version,
                "",
                &why,
                serde_json::json!({}),
            )
            .unique(),
        );
    }
    let why = if reason.is_empty() {
        String::new()
    } else {
        format!(": {}", one_line(&reason))
    };
    println!(
        "{skill}: {}{why}",
        if frozen {
            "frozen (no automatic edits)"
        } else {
            "unfrozen (automatic edits allowed)"
        }
    );
    Ok(ExitCode::SUCCESS)
}
