//! Installing one registry version on this machine: every agent's skill dir gets
//! `<name>--<author>/SKILL.md` (frontmatter `name` = directory, version in metadata), written
//! atomically; the manifest records it. A copy that was edited by hand (its digest differs from
//! what skillopt wrote) is backed up and reported, never silently overwritten; an unmodified
//! older copy is kept as `SKILL.md.prev`.
//!
//! A registry row is untrusted. Its name and author must be a valid [`skillopt_shared::SkillRef`]
//! (so the directory is one plain `[a-z0-9-]` component inside a skill root), and its body must
//! pass [`skill_md::render_installed`] (at most [`skill_md::MAX_SKILL_MD_BYTES`], a frontmatter
//! that is one YAML mapping whose `name` ends up exactly the directory name). A row that fails
//! is refused before anything is written.
//!
//! Links inside the skill roots are never followed: if `<root>/<skill>`, its `SKILL.md` or its
//! `SKILL.md.prev` is a symbolic link (or not a directory / regular file), the skill is refused
//! with a reason naming the path, for every root, before any root is written. A link there is
//! either the user's own arrangement (a skill folder linked to a working copy) or a trap; in
//! both cases the user decides, so skillopt neither writes through it nor removes it. New files
//! are renamed into place, which replaces a directory entry and never writes through one.
//!
//! Backups keep the permissions of the file they copy, and a new copy is never readable by more
//! people than the copy it replaces (a 0600 SKILL.md stays 0600).
//!
//! Versions only move forward: under the per-skill lock, a version older than the one installed
//! now (per the manifest, else the installed copies) is not written. Two racing pulls, or a pull
//! racing the install after a publish, therefore never leave the older version installed. The
//! one exception is a rollback the caller asks for ([`Downgrade::FromWithdrawn`]): the version
//! installed now was reverted in the registry, so the active one comes back.

use std::fs;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::Serialize;
use skillopt_shared::sha256_hex;
use skillopt_shared::skill_md::{self, SkillMd};
use skillopt_state::fsutil::{ensure_dir, read_regular, write_atomic_mode, FileLock, Unreadable};
use skillopt_state::manifest::{self, Entry, Manifest};
use skillopt_state::{now_rfc3339, Paths};

use crate::registry::SkillVersion;

/// The largest existing local SKILL.md that is read to compare and back up.
pub const LOCAL_READ_CAP: u64 = 16 * 1024 * 1024;

/// Why a skill was not installed in a root.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InstallError {
    #[error("{0} is a symbolic link; skillopt does not write through links (remove the link to let skillopt install this skill)")]
    Symlink(PathBuf),
    #[error("{0} is not a {1}; move it away to let skillopt install this skill")]
    NotA(PathBuf, &'static str),
    #[error("{0} is larger than {LOCAL_READ_CAP} bytes; move it away to let skillopt install this skill")]
    LocalTooLarge(PathBuf),
    #[error(transparent)]
    State(#[from] skillopt_state::StateError),
    #[error("cannot {0} {1}: {2}")]
    Io(&'static str, PathBuf, #[source] std::io::Error),
}

/// What an install did to one skill (shown as `installed`, `upgraded`, `rolled-back`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum InstallAction {
    /// It was not installed before.
    Installed,
    /// A newer version replaced an older one.
    Upgraded,
    /// A reverted version was replaced by the older active one.
    RolledBack,
    /// Nothing to do (or an older version was listed: not downgrading).
    UpToDate,
    /// The same version was rewritten (a copy was missing or changed) or re-recorded.
    Repaired,
    /// The registry row was refused; nothing was written.
    Skipped,
}

impl InstallAction {
    pub fn as_str(self) -> &'static str {
        match self {
            InstallAction::Installed => "installed",
            InstallAction::Upgraded => "upgraded",
            InstallAction::RolledBack => "rolled-back",
            InstallAction::UpToDate => "up-to-date",
            InstallAction::Repaired => "repaired",
            InstallAction::Skipped => "skipped",
        }
    }
}

impl std::fmt::Display for InstallAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether an install may replace a newer installed version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Downgrade {
    /// Never (the default: versions only move forward).
    Refused,
    /// Only this installed version, which the registry has withdrawn.
    FromWithdrawn(u32),
}

/// What happened to one skill.
#[derive(Debug, Clone, Serialize)]
pub struct InstallReport {
    pub skill: String,
    pub version: u32,
    pub previous: Option<u32>,
    pub action: InstallAction,
    /// Why a row was skipped, or why an older version was not installed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub paths: Vec<PathBuf>,
    /// Hand-edited copies that were backed up before being replaced: (file, backup).
    pub hand_edited: Vec<(PathBuf, PathBuf)>,
}

/// An existing local copy.
struct Current {
    bytes: Vec<u8>,
    mode: u32,
}

/// One root's install slot, inspected without following links.
struct Slot {
    root: PathBuf,
    dir: PathBuf,
    target: PathBuf,
    current: Option<Current>,
}

/// `lstat`, with "missing" as `None`.
fn lstat(path: &Path) -> Result<Option<fs::Metadata>, InstallError> {
    match fs::symlink_metadata(path) {
        Ok(m) => Ok(Some(m)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(InstallError::Io("inspect", path.to_path_buf(), e)),
    }
}

/// Checks that `path` is absent or a regular file (never a link).
fn plain_file_or_absent(path: &Path) -> Result<Option<fs::Metadata>, InstallError> {
    match lstat(path)? {
        Some(m) if m.file_type().is_symlink() => Err(InstallError::Symlink(path.to_path_buf())),
        Some(m) if !m.is_file() => Err(InstallError::NotA(path.to_path_buf(), "regular file")),
        other => Ok(other),
    }
}

/// Checks that the skill dir is absent or a real directory (never a link).
fn plain_dir_or_absent(path: &Path) -> Result<bool, InstallError> {
    match lstat(path)? {
        Some(m) if m.file_type().is_symlink() => Err(InstallError::Symlink(path.to_path_buf())),
        Some(m) if !m.is_dir() => Err(InstallError::NotA(path.to_path_buf(), "directory")),
        Some(_) => Ok(true),
        None => Ok(false),
    }
}

/// Reads a regular file without following a link, at most [`LOCAL_READ_CAP`] bytes.
fn read_no_follow(path: &Path) -> Result<Vec<u8>, InstallError> {
    let p = || path.to_path_buf();
    match read_regular(path, LOCAL_READ_CAP) {
        Ok(Some(bytes)) => Ok(bytes),
        Ok(None) => Err(InstallError::Io(
            "read",
            p(),
            std::io::ErrorKind::NotFound.into(),
        )),
        Err(e) => Err(match Unreadable::of(&e) {
            Some(Unreadable::Link) => InstallError::Symlink(p()),
            Some(Unreadable::NotRegular) => InstallError::NotA(p(), "regular file"),
            Some(Unreadable::TooLarge(_)) => InstallError::LocalTooLarge(p()),
            None => InstallError::Io("read", p(), e),
        }),
    }
}

/// Looks at `<root>/<dir_name>` without changing anything.
fn inspect(root: &Path, dir_name: &str) -> Result<Slot, InstallError> {
    if let Ok(m) = fs::metadata(root) {
        // The root itself may be a link (dotfiles setups do that); it must lead to a directory.
        if !m.is_dir() {
            return Err(InstallError::NotA(root.to_path_buf(), "directory"));
        }
    }
    let dir = root.join(dir_name);
    let target = dir.join("SKILL.md");
    let mut current = None;
    if plain_dir_or_absent(&dir)? {
        if let Some(m) = plain_file_or_absent(&target)? {
            current = Some(Current {
                bytes: read_no_follow(&target)?,
                mode: m.permissions().mode() & 0o777,
            });
        }
        plain_file_or_absent(&dir.join("SKILL.md.prev"))?;
    }
    Ok(Slot {
        root: root.to_path_buf(),
        dir,
        target,
        current,
    })
}

/// Creates the skill dir (0700, like every dir skillopt creates) if needed; refuses a link.
fn make_skill_dir(slot: &Slot) -> Result<(), InstallError> {
    ensure_dir(&slot.root)?;
    match fs::DirBuilder::new().mode(0o700).create(&slot.dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(InstallError::Io("create", slot.dir.clone(), e)),
    }
    // Checked again right before writing: the folder must still be a real directory.
    if !plain_dir_or_absent(&slot.dir)? {
        return Err(InstallError::NotA(slot.dir.clone(), "directory"));
    }
    Ok(())
}

/// Installs `sv` into every agent skill dir. With `dry_run` nothing is written.
pub fn install(paths: &Paths, sv: &SkillVersion, dry_run: bool) -> anyhow::Result<InstallReport> {
    install_with(paths, sv, dry_run, Downgrade::Refused)
}

/// [`install`], allowing the rollback `downgrade` names.
pub fn install_with(
    paths: &Paths,
    sv: &SkillVersion,
    dry_run: bool,
    downgrade: Downgrade,
) -> anyhow::Result<InstallReport> {
    let skill = sv.skill_ref()?;
    let dir_name = skill.dir_name();
    let text = skill_md::render_installed(&sv.body, &dir_name, sv.version)?;
    let sha = sha256_hex(&text);
    let _lock = if dry_run {
        None
    } else {
        Some(FileLock::acquire(&paths.skill_lock(&dir_name))?)
    };
    // Everything below reads what is installed now, under the lock.
    let old = Manifest::load(paths)?.find(&skill).cloned();
    let slots = paths
        .skill_roots()
        .into_iter()
        .map(|(_, root)| inspect(root, &dir_name))
        .collect::<Result<Vec<_>, _>>()?;
    let mut report = InstallReport {
        skill: dir_name.clone(),
        version: sv.version,
        previous: old.as_ref().map(|e| e.version),
        action: InstallAction::UpToDate,
        reason: None,
        paths: slots.iter().map(|s| s.target.clone()).collect(),
        hand_edited: Vec::new(),
    };
    let installed_now = old.as_ref().map(|e| e.version).or_else(|| {
        slots
            .iter()
            .filter_map(|s| s.current.as_ref())
            .filter_map(|c| SkillMd::parse(&String::from_utf8_lossy(&c.bytes)).ok())
            .filter_map(|d| d.version())
            .max()
    });
    let rollback = installed_now
        .is_some_and(|now| now > sv.version && downgrade == Downgrade::FromWithdrawn(now));
    if rollback {
        report.previous = installed_now;
    }
    if let Some(now) = installed_now.filter(|&now| now > sv.version && !rollback) {
        report.previous = Some(now);
        report.reason = Some(format!(
            "v{now} is installed, newer than v{}; not downgrading",
            sv.version
        ));
        return Ok(report);
    }
    let mut wrote = false;
    for slot in &slots {
        let current_sha = slot.current.as_ref().map(|c| sha256_hex(&c.bytes));
        if current_sha.as_deref() == Some(sha.as_str()) {
            continue;
        }
        wrote = true;
        if dry_run {
            continue;
        }
        make_skill_dir(slot)?;
        let mut mode = 0o644;
        if let (Some(cur), Some(cur_sha)) = (&slot.current, &current_sha) {
            let skillopt_wrote_it = old.as_ref().is_some_and(|e| &e.sha256 == cur_sha);
            let backup = if skillopt_wrote_it {
                slot.dir.join("SKILL.md.prev")
            } else {
                let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
                let b = slot.dir.join(format!("SKILL.md.local-{stamp}.bak"));
                report.hand_edited.push((slot.target.clone(), b.clone()));
                b
            };
            // The backup keeps the copy's own permissions; the new copy is never readable by
            // more people than the one it replaces.
            write_atomic_mode(&backup, &cur.bytes, cur.mode)?;
            mode = 0o600 | (cur.mode & 0o044);
        }
        write_atomic_mode(&slot.target, text.as_bytes(), mode)?;
    }
    let manifest_current = old
        .as_ref()
        .is_some_and(|e| e.version == sv.version && e.sha256 == sha && e.paths == report.paths);
    report.action = match (&old, wrote) {
        _ if rollback => InstallAction::RolledBack,
        (None, _) => InstallAction::Installed,
        (Some(e), _) if e.version < sv.version => InstallAction::Upgraded,
        (Some(_), true) => InstallAction::Repaired,
        (Some(_), false) if !manifest_current => InstallAction::Repaired,
        (Some(_), false) => InstallAction::UpToDate,
    };
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
        skill: clip(
            &format!("{}--{}", sv.name, sv.author)
                .escape_debug()
                .to_string(),
        ),
        version: sv.version,
        previous: None,
        action: InstallAction::Skipped,
        reason: Some(clip(&printable(&format!("{why:#}")))),
        paths: Vec::new(),
        hand_edited: Vec::new(),
    }
}

/// A message with every control, bidi or invisible character shown as `\u{..}` (newlines too),
/// so a reason stays one harmless line on a terminal.
fn printable(s: &str) -> String {
    s.chars()
        .map(|c| {
            let invisible = c.is_control()
                || matches!(c, '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{206f}' | '\u{feff}');
            if invisible {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Cuts an escaped, untrusted string to a length that fits on a line.
fn clip(s: &str) -> String {
    const MAX: usize = 300;
    if s.chars().count() <= MAX {
        return s.to_string();
    }
    let mut out: String = s.chars().take(MAX).collect();
    out.push('…');
    out
}

/// One human line for a report.
pub fn describe(r: &InstallReport) -> String {
    let mut line = match (r.action, r.previous) {
        (InstallAction::Skipped, _) => format!(
            "{}: skipped (v{}): {}",
            r.skill,
            r.version,
            r.reason.as_deref().unwrap_or("")
        ),
        (InstallAction::Upgraded, Some(p)) => {
            format!("{}: upgraded v{p} -> v{}", r.skill, r.version)
        }
        (InstallAction::RolledBack, Some(p)) => format!(
            "{}: rolled back v{p} -> v{} (v{p} was reverted)",
            r.skill, r.version
        ),
        (InstallAction::Installed, _) => format!("{}: installed v{}", r.skill, r.version),
        (InstallAction::UpToDate, Some(p)) if p > r.version => {
            format!(
                "{}: up-to-date (v{p}; the registry listed v{})",
                r.skill, r.version
            )
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn sandbox() -> (tempfile::TempDir, Paths) {
        let t = tempfile::tempdir().unwrap();
        let home = t.path().join("home");
        let paths = Paths {
            state_dir: t.path().join("state"),
            data_dir: t.path().join("data"),
            claude_dir: home.join(".claude"),
            codex_home: home.join(".codex"),
            claude_skills: home.join(".claude/skills"),
            codex_skills: home.join(".agents/skills"),
            home,
        };
        (t, paths)
    }

    fn row(name: &str, author: &str, version: u32, body: &str) -> SkillVersion {
        SkillVersion {
            name: name.into(),
            author: author.into(),
            version,
            body: body.into(),
            sha256: String::new(),
            status: crate::registry::VersionStatus::Active,
            parent_version: None,
            source: crate::registry::VersionSource::Push,
            created_by: "mallory".into(),
            created_at: String::new(),
        }
    }

    fn md(desc: &str) -> String {
        format!("---\nname: x\ndescription: {desc}\n---\nDo {desc}.\n")
    }

    fn installed_version(path: &Path) -> Option<u32> {
        SkillMd::parse(&fs::read_to_string(path).ok()?)
            .ok()?
            .version()
    }

    #[test]
    fn an_older_version_never_replaces_a_newer_one() {
        let (_t, paths) = sandbox();
        let v2 = row("deploy", "alice", 2, &md("two"));
        let v1 = row("deploy", "alice", 1, &md("one"));
        assert_eq!(
            install(&paths, &v2, false).unwrap().action,
            InstallAction::Installed
        );
        // A pull that read v1 before v2 was published gets the lock afterwards.
        let r = install(&paths, &v1, false).unwrap();
        assert_eq!(r.action, InstallAction::UpToDate);
        assert!(r.reason.unwrap().contains("not downgrading"));
        for (_, root) in paths.skill_roots() {
            let f = root.join("deploy--alice/SKILL.md");
            assert_eq!(installed_version(&f), Some(2));
            assert!(!root.join("deploy--alice/SKILL.md.prev").exists());
        }
        let m = Manifest::load(&paths).unwrap();
        assert_eq!(m.find_dir("deploy--alice").unwrap().version, 2);
        // Without a manifest entry, the installed copies say what is installed.
        fs::remove_file(paths.manifest()).unwrap();
        assert_eq!(
            install(&paths, &v1, false).unwrap().action,
            InstallAction::UpToDate
        );
        assert_eq!(
            installed_version(&paths.claude_skills.join("deploy--alice/SKILL.md")),
            Some(2)
        );
        // Unless v2 was withdrawn: then v1 comes back (and only a rollback from v2 is allowed).
        let r = install_with(&paths, &v1, false, Downgrade::FromWithdrawn(3)).unwrap();
        assert_eq!(r.action, InstallAction::UpToDate);
        let r = install_with(&paths, &v1, false, Downgrade::FromWithdrawn(2)).unwrap();
        assert_eq!((r.action, r.previous), (InstallAction::RolledBack, Some(2)));
        assert_eq!(installed_version(&r.paths[0]), Some(1));
    }

    #[test]
    fn links_in_the_roots_are_never_written_through() {
        let sv = row("deploy", "alice", 1, &md("one"));
        let sv2 = row("deploy", "alice", 2, &md("two"));
        for case in ["dir", "skill-md", "prev"] {
            let (t, paths) = sandbox();
            let outside = t.path().join("outside");
            fs::create_dir_all(&outside).unwrap();
            let secret = outside.join("secret");
            fs::write(&secret, "keep me\n").unwrap();
            let dir = paths.claude_skills.join("deploy--alice");
            if case == "prev" {
                install(&paths, &sv, false).unwrap();
            }
            fs::create_dir_all(&paths.claude_skills).unwrap();
            match case {
                "dir" => symlink(&outside, &dir).unwrap(),
                "skill-md" => {
                    fs::create_dir_all(&dir).unwrap();
                    symlink(&secret, dir.join("SKILL.md")).unwrap();
                }
                _ => symlink(&secret, dir.join("SKILL.md.prev")).unwrap(),
            }
            let err = install(&paths, &sv2, false).unwrap_err();
            assert!(
                format!("{err:#}").contains("is a symbolic link"),
                "{case}: {err:#}"
            );
            assert_eq!(fs::read_to_string(&secret).unwrap(), "keep me\n", "{case}");
            let names: Vec<_> = fs::read_dir(&outside).unwrap().flatten().collect();
            assert_eq!(names.len(), 1, "{case}: wrote into the link target");
            // Nothing was written in the other root either: the skill is refused as a whole.
            let codex = paths.codex_skills.join("deploy--alice/SKILL.md");
            let expect = if case == "prev" { Some(1) } else { None };
            assert_eq!(installed_version(&codex), expect, "{case}");
        }
    }

    #[test]
    fn backups_keep_permissions() {
        let (_t, paths) = sandbox();
        install(&paths, &row("deploy", "alice", 1, &md("one")), false).unwrap();
        let f = paths.claude_skills.join("deploy--alice/SKILL.md");
        fs::write(
            &f,
            "---\nname: deploy--alice\ndescription: mine\n---\nsecret notes\n",
        )
        .unwrap();
        fs::set_permissions(&f, fs::Permissions::from_mode(0o600)).unwrap();
        let r = install(&paths, &row("deploy", "alice", 2, &md("two")), false).unwrap();
        assert_eq!(r.hand_edited.len(), 1);
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&r.hand_edited[0].1), 0o600, "backup widened");
        assert_eq!(mode(&f), 0o600, "new copy widened");
        // An unmodified copy's .prev keeps its mode too.
        install(&paths, &row("deploy", "alice", 3, &md("three")), false).unwrap();
        assert_eq!(mode(&f.with_file_name("SKILL.md.prev")), 0o600);
        let codex = paths.codex_skills.join("deploy--alice/SKILL.md");
        assert_eq!(mode(&codex), 0o644);
    }

    #[test]
    fn non_regular_entries_are_refused_quickly() {
        let (_t, paths) = sandbox();
        let dir = paths.claude_skills.join("deploy--alice");
        fs::create_dir_all(&dir).unwrap();
        // A socket (like a FIFO) would block or fail a read: it is refused before any read.
        let _sock = std::os::unix::net::UnixListener::bind(dir.join("SKILL.md")).unwrap();
        let err = install(&paths, &row("deploy", "alice", 1, &md("one")), false).unwrap_err();
        assert!(format!("{err:#}").contains("not a regular file"), "{err:#}");
        let (_t, paths) = sandbox();
        fs::create_dir_all(&paths.codex_skills).unwrap();
        fs::write(paths.codex_skills.join("deploy--alice"), "a file").unwrap();
        let err = install(&paths, &row("deploy", "alice", 1, &md("one")), false).unwrap_err();
        assert!(format!("{err:#}").contains("not a directory"), "{err:#}");
    }

    /// Every file under `dir`, without following links.
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            out.push(p.clone());
            if e.file_type().unwrap().is_dir() {
                walk(&p, out);
            }
        }
    }

    fn hostile() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let frag = proptest::sample::select(vec![
            "a",
            "deploy",
            "-",
            "--",
            "..",
            ".",
            "/",
            "/etc",
            "\\",
            "\n",
            "\0",
            "A",
            "Ü",
            "é",
            "\u{202e}",
            "\u{2066}",
            "\u{200b}",
            " ",
            ":",
            "~",
            "$HOME",
            "x".repeat(40).leak(),
        ]);
        prop_oneof![
            "[a-z0-9][a-z0-9-]{0,20}[a-z0-9]",
            proptest::collection::vec(frag, 1..6).prop_map(|v| v.concat()),
        ]
    }

    fn hostile_body() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let frag = proptest::sample::select(vec![
            "---\n",
            "name: ../../evil\n",
            "name: /etc/passwd\n",
            "description: d\n",
            "name: a\n",
            "\"name\": x\n",
            "name: evil\rx: y\n",
            "metadata:\n",
            "  skillopt-version: \"99\"\n",
            "...\n",
            "\0",
            "\u{1b}[31m",
            "\u{202e}",
            "body\n",
            "NAME: Up\n",
            "\n",
        ]);
        proptest::collection::vec(frag, 0..12).prop_map(|v| {
            format!(
                "---\nname: a\ndescription: d\n{}---\n{}",
                v.concat(),
                v.concat()
            )
        })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        /// Random registry rows never write outside the skill roots (and the state dir), and an
        /// installed SKILL.md's `name` is exactly its directory.
        #[test]
        fn random_rows_stay_inside_the_roots(
            rows in proptest::collection::vec(
                (hostile(), hostile(), 1u32..5, proptest::prop_oneof![
                    hostile_body(),
                    proptest::strategy::Just(md("ok")),
                ]),
                1..6,
            ),
        ) {
            let (t, paths) = sandbox();
            for (name, author, version, body) in &rows {
                let _ = install(&paths, &row(name, author, *version, body), false);
            }
            let mut files = Vec::new();
            walk(t.path(), &mut files);
            let roots = [&paths.claude_skills, &paths.codex_skills];
            for f in &files {
                let inside_root = roots.iter().any(|r| f.starts_with(r) && f != *r);
                let allowed = inside_root
                    || f.starts_with(&paths.state_dir)
                    || roots.iter().any(|r| r.starts_with(f));
                proptest::prop_assert!(allowed, "write outside the roots: {}", f.display());
                if !inside_root || f.parent().is_some_and(|p| roots.iter().any(|r| r.as_path() == p)) {
                    continue;
                }
                let dir = f.parent().unwrap();
                let dir_name = dir.file_name().unwrap().to_str().unwrap();
                proptest::prop_assert!(skillopt_shared::SkillRef::parse(dir_name).is_ok());
                if f.file_name().unwrap() == "SKILL.md" {
                    let text = fs::read_to_string(f).unwrap();
                    let d = SkillMd::parse(&text).unwrap();
                    let fm = d.frontmatter.join("\n");
                    proptest::prop_assert!(skill_md::check_frontmatter_yaml(&fm).is_ok());
                    let yname = skill_md::yaml_name(&fm);
                    proptest::prop_assert_eq!(yname.as_deref(), Some(dir_name));
                    let name = d.field("name");
                    proptest::prop_assert_eq!(name.as_deref(), Some(dir_name));
                }
            }
        }
    }
}
