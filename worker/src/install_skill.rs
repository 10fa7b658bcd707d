//! Installing one registry version on this machine: every agent's skill dir gets
//! `<name>--<author>/SKILL.md` (frontmatter `name` = directory, version in metadata), written
//! atomically; the manifest records it. A copy that was edited by hand (its digest differs from
//! what skillopt wrote) is backed up and reported, never silently overwritten; an unmodified
//! older copy is kept as `SKILL.md.prev`.

use std::path::PathBuf;

use serde::Serialize;
use skillopt_shared::{sha256_hex, skill_md};
use skillopt_state::fsutil::{write_atomic_mode, FileLock};
use skillopt_state::manifest::{self, Entry, Manifest};
use skillopt_state::{now_rfc3339, Paths};

use crate::registry::SkillVersion;

/// What happened to one skill.
#[derive(Debug, Clone, Serialize)]
pub struct InstallReport {
    pub skill: String,
    pub version: u32,
    pub previous: Option<u32>,
    /// `installed` | `upgraded` | `up-to-date` | `repaired` | `skipped`.
    pub action: String,
    /// Why a row was skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub paths: Vec<PathBuf>,
    /// Hand-edited copies that were backed up before being replaced: (file, backup).
    pub hand_edited: Vec<(PathBuf, PathBuf)>,
}

/// Installs `sv` into every agent skill dir. With `dry_run` nothing is written.
pub fn install(paths: &Paths, sv: &SkillVersion, dry_run: bool) -> anyhow::Result<InstallReport> {
    let skill = sv.skill_ref()?;
    let dir_name = skill.dir_name();
    let text = skill_md::render_installed(&sv.body, &dir_name, sv.version)?;
    let sha = sha256_hex(&text);
    let _lock = if dry_run {
        None
    } else {
        Some(FileLock::acquire(&paths.skill_lock(&dir_name))?)
    };
    let old = Manifest::load(paths)?.find(&skill).cloned();
    let mut report = InstallReport {
        skill: dir_name.clone(),
        version: sv.version,
        previous: old.as_ref().map(|e| e.version),
        action: "up-to-date".into(),
        reason: None,
        paths: Vec::new(),
        hand_edited: Vec::new(),
    };
    let mut wrote = false;
    for (_, root) in paths.skill_roots() {
        let target = root.join(&dir_name).join("SKILL.md");
        report.paths.push(target.clone());
        let current = std::fs::read(&target).ok();
        let current_sha = current.as_ref().map(sha256_hex);
        if current_sha.as_deref() == Some(sha.as_str()) {
            continue;
        }
        wrote = true;
        if dry_run {
            continue;
        }
        if let (Some(bytes), Some(cur)) = (&current, &current_sha) {
            let skillopt_wrote_it = old.as_ref().is_some_and(|e| &e.sha256 == cur);
            let backup = if skillopt_wrote_it {
                target.with_file_name("SKILL.md.prev")
            } else {
                let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
                let b = target.with_file_name(format!("SKILL.md.local-{stamp}.bak"));
                report.hand_edited.push((target.clone(), b.clone()));
                b
            };
            write_atomic_mode(&backup, bytes, 0o644)?;
        }
        write_atomic_mode(&target, text.as_bytes(), 0o644)?;
    }
    let manifest_current = old
        .as_ref()
        .is_some_and(|e| e.version == sv.version && e.sha256 == sha && e.paths == report.paths);
    report.action = match (&old, wrote) {
        (None, _) => "installed",
        (Some(e), _) if e.version < sv.version => "upgraded",
        (Some(e), _) if e.version > sv.version => "downgraded",
        (Some(_), true) => "repaired",
        (Some(_), false) if !manifest_current => "repaired",
        (Some(_), false) => "up-to-date",
    }
    .to_string();
    if !dry_run && (wrote || !manifest_current) {
        let entry = Entry {
            name: sv.name.clone(),
            author: sv.author.clone(),
            version: sv.version,
            paths: report.paths.clone(),
            sha256: sha,
            installed_at: now_rfc3339(),
        };
        manifest::update(paths, |m| m.upsert(entry))?;
    }
    Ok(report)
}

/// The report for a registry row that could not be installed: the row is named as the
/// registry has it (escaped, it is untrusted) and nothing was written.
pub fn skipped(sv: &SkillVersion, why: &anyhow::Error) -> InstallReport {
    InstallReport {
        skill: format!("{}--{}", sv.name, sv.author)
            .escape_debug()
            .to_string(),
        version: sv.version,
        previous: None,
        action: "skipped".into(),
        reason: Some(format!("{why:#}").replace('\n', " ")),
        paths: Vec::new(),
        hand_edited: Vec::new(),
    }
}

/// One human line for a report.
pub fn describe(r: &InstallReport) -> String {
    let mut line = match (r.action.as_str(), r.previous) {
        ("skipped", _) => format!(
            "{}: skipped (v{}): {}",
            r.skill,
            r.version,
            r.reason.as_deref().unwrap_or("")
        ),
        ("upgraded", Some(p)) => format!("{}: upgraded v{p} -> v{}", r.skill, r.version),
        ("installed", _) => format!("{}: installed v{}", r.skill, r.version),
        (a, _) => format!("{}: {a} (v{})", r.skill, r.version),
    };
    for (file, backup) in &r.hand_edited {
        line.push_str(&format!(
            "\n  {} was edited by hand; your copy is saved as {}",
            file.display(),
            backup.display()
        ));
    }
    line
}
