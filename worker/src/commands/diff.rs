//! `skillopt diff <skill> [A] [B]`: unified diff between two versions (default: the latest and
//! the one before it; with only A: A against the latest). Control, bidi and zero-width
//! characters in a version are printed as `\u{XXXX}`, never raw.

use std::process::ExitCode;

use anyhow::{bail, Context};

use super::resolve_skill;
use crate::registry;
use crate::settings::Settings;
use crate::unified_diff::between_versions;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// `name--author` (or a unique bare name).
    pub skill: String,
    /// Older version.
    pub a: Option<u32>,
    /// Newer version.
    pub b: Option<u32>,
}

pub fn run(settings: &Settings, args: Args) -> anyhow::Result<ExitCode> {
    let mut reg = settings.open_existing_registry()?;
    let skill = resolve_skill(reg.as_mut(), &args.skill)?;
    let latest = reg
        .latest(&skill)?
        .with_context(|| format!("{skill} is not in the registry"))?
        .version;
    let (a, b) = match (args.a, args.b) {
        (Some(a), Some(b)) => (a, b),
        (Some(a), None) => (a, latest),
        (None, _) => (latest.saturating_sub(1).max(1), latest),
    };
    let get = |reg: &mut dyn registry::Registry, v: u32| -> anyhow::Result<String> {
        Ok(reg
            .version(&skill, v)?
            .with_context(|| format!("{skill} has no v{v} (latest is v{latest})"))?
            .body)
    };
    let (ta, tb) = (get(reg.as_mut(), a)?, get(reg.as_mut(), b)?);
    if a == b {
        bail!("nothing to compare: both sides are v{a}");
    }
    let d = between_versions(&skill, a, &ta, b, &tb);
    if d.is_empty() {
        println!("{skill}: v{a} and v{b} are identical");
    } else {
        print!("{}", skillopt_shared::text::for_terminal(&d, true));
    }
    Ok(ExitCode::SUCCESS)
}
