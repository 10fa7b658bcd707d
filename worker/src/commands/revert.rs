//! `skillopt revert <skill> --to N`: publish version N's body as a new version (source
//! `revert`, with a changeset saying so) and install it on this machine.

use std::process::ExitCode;

use anyhow::Context;
use skillopt_state::Paths;

use super::resolve_skill;
use crate::registry::{Changeset, NewVersion, VersionSource, VersionStatus};
use crate::settings::Settings;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// `name--author` (or a unique bare name).
    pub skill: String,
    /// The version whose body to restore.
    #[arg(long)]
    pub to: u32,
}

pub fn run(paths: &Paths, settings: &Settings, args: Args) -> anyhow::Result<ExitCode> {
    let mut reg = settings.open_existing_registry()?;
    let skill = resolve_skill(reg.as_mut(), &args.skill)?;
    let latest = reg
        .head(&skill)?
        .with_context(|| format!("{skill} is not in the registry"))?;
    let target = reg.version(&skill, args.to)?.with_context(|| {
        format!(
            "{skill} has no v{} (latest is v{})",
            args.to, latest.version
        )
    })?;
    if target.body == latest.body {
        println!(
            "{skill}: v{} already has v{}'s body; nothing to revert",
            latest.version, args.to
        );
        return Ok(ExitCode::SUCCESS);
    }
    let user = settings.user.value.clone();
    let changeset = Changeset {
        fingerprint: format!("revert:v{}:{}", args.to, ulid::Ulid::new()),
        edits: "[]".into(),
        diff: crate::unified_diff::between_versions(
            &skill,
            latest.version,
            &latest.body,
            latest.version + 1,
            &target.body,
        ),
        reason: format!("revert to v{} by {user}", args.to),
        contributor: user.clone(),
        ..Changeset::next(&skill, latest.version)
    };
    let new = NewVersion {
        skill: skill.clone(),
        parent_version: latest.version,
        body: target.body,
        source: VersionSource::Revert,
        created_by: user,
        status: VersionStatus::Active,
    };
    let published = match reg.publish(&new, Some(&changeset)) {
        Ok(v) => v,
        Err(e) if e.is_conflict() => {
            anyhow::bail!("{skill}: {e}; someone published first, try again")
        }
        Err(e) => return Err(e.into()),
    };
    println!(
        "{skill}: published v{} with v{}'s body",
        published.version, args.to
    );
    let report = crate::install_skill::install(paths, &published, false)?;
    println!("{}", crate::install_skill::describe(&report));
    Ok(ExitCode::SUCCESS)
}
