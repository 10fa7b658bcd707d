//! `skillopt freeze|unfreeze <skill>`: stop or allow automatic edits of a skill (org-wide, in
//! the registry).

use std::process::ExitCode;

use super::resolve_skill;
use crate::settings::Settings;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// `name--author` (or a unique bare name).
    pub skill: String,
    /// Why (shown by `status` and `log`).
    #[arg(long, default_value = "")]
    pub reason: String,
}

pub fn run(settings: &Settings, args: Args, frozen: bool) -> anyhow::Result<ExitCode> {
    let mut reg = settings.open_registry()?;
    let skill = resolve_skill(reg.as_mut(), &args.skill)?;
    if reg.latest(&skill)?.is_none() {
        anyhow::bail!("{skill} is not in the registry");
    }
    let reason = skillopt_shared::verdict::clean(&args.reason);
    reg.set_frozen(&skill, frozen, &reason, &settings.user.value)?;
    println!(
        "{skill}: {}",
        if frozen {
            "frozen (no automatic edits)"
        } else {
            "unfrozen (automatic edits allowed)"
        }
    );
    Ok(ExitCode::SUCCESS)
}
