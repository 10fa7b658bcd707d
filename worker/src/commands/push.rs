//! `skillopt push <skill-dir> [--author A]`: publish a SKILL.md as a new version.
//!
//! A new skill becomes v1; a changed body becomes v+1; an identical body is "unchanged" and
//! publishes nothing. Pushing an installed copy (`<name>--<author>`, with version metadata)
//! compares equal to the version it came from.
//!
//! What is published is what every machine will install, so the file is held to the same rules
//! as a registry row on pull ([`SkillMd::parse_untrusted`]): at most
//! [`skill_md::MAX_SKILL_MD_BYTES`] (256 KiB), a frontmatter that is valid YAML (one mapping,
//! unique keys, no anchors or aliases), no control or bidi characters.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use std::io::Read;

use skillopt_shared::skill_md::{self, canonical_body, SkillMd};
use skillopt_shared::skill_ref::author_from_login;
use skillopt_shared::SkillRef;

use crate::registry::{NewVersion, VersionSource, VersionStatus};
use crate::settings::Settings;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Directory holding SKILL.md (or the SKILL.md itself).
    pub dir: PathBuf,
    /// Author part of the skill identity (default: the installed name's author,
    /// `metadata.author`, then $USER).
    #[arg(long)]
    pub author: Option<String>,
    /// Publish only if the registry's latest version is still N (0 = a new skill); otherwise
    /// fail with a conflict. For scripts that must not race each other.
    #[arg(long, value_name = "N")]
    pub expect_parent: Option<u32>,
}

/// Reads a skill directory into (identity, canonical body).
pub fn read_skill(
    dir: &std::path::Path,
    author: Option<&str>,
    login: &str,
) -> anyhow::Result<(SkillRef, String)> {
    let file = if dir.is_dir() {
        dir.join("SKILL.md")
    } else {
        dir.to_path_buf()
    };
    let text = read_capped(&file)?;
    let doc = SkillMd::parse_untrusted(&text).with_context(|| file.display().to_string())?;
    let name_field = doc.field("name").unwrap_or_default();
    let skill = match (SkillRef::parse(&name_field), author) {
        (Ok(r), None) => r,
        (Ok(r), Some(a)) if r.author == a => r,
        (_, explicit) => {
            let author = match explicit
                .map(str::to_string)
                .or_else(|| doc.metadata("author"))
            {
                Some(a) => a.to_lowercase(),
                None => author_from_login(login).with_context(|| {
                    format!("cannot make an author from the login {login:?}; pass --author")
                })?,
            };
            let bare = SkillRef::parse(&name_field)
                .map(|r| r.name)
                .unwrap_or(name_field);
            SkillRef::new(&bare, &author).with_context(|| file.display().to_string())?
        }
    };
    let body = canonical_body(&text, &skill.name)?;
    SkillMd::parse_untrusted(&body).with_context(|| file.display().to_string())?;
    Ok((skill, body))
}

/// Reads a regular file of at most [`skill_md::MAX_SKILL_MD_BYTES`] (a FIFO or a huge file is
/// refused without reading it all).
fn read_capped(file: &std::path::Path) -> anyhow::Result<String> {
    let cannot = || format!("cannot read {}", file.display());
    let f = std::fs::File::open(file).with_context(cannot)?;
    let meta = f.metadata().with_context(cannot)?;
    if !meta.is_file() {
        bail!("{} is not a regular file", file.display());
    }
    let too_large = |n: u64| {
        anyhow::anyhow!(
            "{}: {}",
            file.display(),
            skill_md::SkillMdError::TooLarge(usize::try_from(n).unwrap_or(usize::MAX))
        )
    };
    let max = skill_md::MAX_SKILL_MD_BYTES as u64;
    if meta.len() > max {
        return Err(too_large(meta.len()));
    }
    let mut bytes = Vec::new();
    f.take(max + 1)
        .read_to_end(&mut bytes)
        .with_context(cannot)?;
    if bytes.len() as u64 > max {
        return Err(too_large(bytes.len() as u64));
    }
    String::from_utf8(bytes).with_context(|| format!("{} is not UTF-8", file.display()))
}

pub fn run(settings: &Settings, args: Args) -> anyhow::Result<ExitCode> {
    let (skill, body) = read_skill(&args.dir, args.author.as_deref(), &settings.user.value)?;
    let mut reg = settings.open_registry()?;
    let latest = reg.head(&skill)?;
    // Unchanged means "what machines run": the head, or the active version beneath an open
    // candidate (re-pushing the same source must not withdraw the candidate).
    let active = reg
        .history(&skill)?
        .into_iter()
        .rev()
        .find(|v| v.status == VersionStatus::Active);
    if let Some(same) = [latest.as_ref(), active.as_ref()]
        .into_iter()
        .flatten()
        .find(|v| v.body == body)
    {
        println!("{skill}: unchanged (v{})", same.version);
        return Ok(ExitCode::SUCCESS);
    }
    let new = NewVersion {
        skill: skill.clone(),
        parent_version: args
            .expect_parent
            .unwrap_or_else(|| latest.map(|l| l.version).unwrap_or(0)),
        body,
        source: VersionSource::Push,
        created_by: settings.user.value.clone(),
        status: VersionStatus::Active,
    };
    match reg.publish(&new, None) {
        Ok(v) => {
            println!("{skill}: published v{}", v.version);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) if e.is_conflict() => {
            bail!("{skill}: {e}; someone published first, pull and push again")
        }
        Err(e) => Err(e.into()),
    }
}
