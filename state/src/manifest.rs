//! The manifest: the authoritative list of org skills installed on this machine.
//!
//! `manifest.json` = `{"version":1,"skills":[{name, author, version, paths, sha256,
//! installed_at}], "stamps":{path: {size, mtime_ns, ctime_ns, ino}}}`. `sha256` is the digest of
//! the installed SKILL.md as skillopt wrote it; a file whose digest differs was edited by hand.
//! Updates go through [`update`], which holds the manifest lock for the whole read-modify-write.
//!
//! `stamps` lets SessionStart name each copy's digest without reading it: [`Manifest::upsert`]
//! records what every copy of the entry looked like (size, mtime, ctime, inode) right after the
//! installer wrote or checked it, and [`Manifest::installed_digest`] trusts `sha256` while the
//! copy still looks the same — any write, rename or chmod changes its ctime, so an edited copy
//! is hashed again. A manifest from before stamps (the field is optional) is simply hashed.
//!
//! A torn or corrupt `manifest.json` never wedges the hooks: it is moved to
//! `manifest.json.corrupt` and rebuilt from the installed copies, whose frontmatter carries the
//! directory name and `metadata.skillopt-version` (see [`rebuild`]).

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use skillopt_shared::SkillRef;

use crate::fsutil::{read_json, write_json, FileLock};
use crate::{Paths, Result, StateError};

/// Installed SKILL.md files larger than this are not read back while rebuilding (the registry
/// refuses far smaller bodies, so such a file is not ours).
pub const MAX_INSTALLED_BYTES: u64 = 4 * 1024 * 1024;

/// One installed org skill.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub name: String,
    pub author: String,
    pub version: u32,
    /// Every installed copy (`<root>/<name>--<author>/SKILL.md`).
    pub paths: Vec<PathBuf>,
    pub sha256: String,
    pub installed_at: String,
}

impl Entry {
    /// `<name>--<author>`.
    pub fn dir_name(&self) -> String {
        format!("{}--{}", self.name, self.author)
    }

    /// The identity.
    pub fn skill_ref(&self) -> Option<SkillRef> {
        SkillRef::new(&self.name, &self.author).ok()
    }

    /// Installed copies that still exist.
    pub fn existing_paths(&self) -> impl Iterator<Item = &PathBuf> {
        self.paths.iter().filter(|p| p.is_file())
    }
}

/// What an installed copy looked like when its digest was recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    pub size: u64,
    pub mtime_ns: i64,
    pub ctime_ns: i64,
    pub ino: u64,
}

impl Stamp {
    /// The stamp of a file's metadata.
    pub fn of(meta: &std::fs::Metadata) -> Self {
        let ns = |s: i64, n: i64| s.saturating_mul(1_000_000_000).saturating_add(n);
        Stamp {
            size: meta.len(),
            mtime_ns: ns(meta.mtime(), meta.mtime_nsec()),
            ctime_ns: ns(meta.ctime(), meta.ctime_nsec()),
            ino: meta.ino(),
        }
    }

    /// The stamp of a regular file (symlinks followed, as the agents do); `None` when it is
    /// missing or not a file.
    pub fn of_file(path: &Path) -> Option<Self> {
        std::fs::metadata(path)
            .ok()
            .filter(|m| m.is_file())
            .map(|m| Self::of(&m))
    }
}

/// The manifest file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub version: u32,
    pub skills: Vec<Entry>,
    /// Installed copies (by path) whose digest is their entry's `sha256`, as long as they still
    /// carry this stamp.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub stamps: BTreeMap<PathBuf, Stamp>,
}

impl Manifest {
    /// Loads the manifest; a missing file is empty, a corrupt one is rebuilt from the installed
    /// copies (under the manifest lock) and written back.
    pub fn load(paths: &Paths) -> Result<Self> {
        match Self::load_from(&paths.manifest()) {
            Err(StateError::Corrupt { .. }) => {
                let _lock = FileLock::acquire(&paths.manifest_lock())?;
                let m = load_or_rebuild(paths)?;
                write_json(&paths.manifest(), &m)?;
                Ok(m)
            }
            other => other,
        }
    }

    /// Loads from an explicit path.
    pub fn load_from(path: &Path) -> Result<Self> {
        Ok(read_json(path)?.unwrap_or(Manifest {
            version: 1,
            ..Manifest::default()
        }))
    }

    /// The entry for a directory name (`<name>--<author>`), compared in place: a hook checks
    /// every `$name` of a prompt against the manifest, and allocates nothing for those that
    /// are not installed.
    pub fn find_dir(&self, dir_name: &str) -> Option<&Entry> {
        self.skills.iter().find(|e| {
            dir_name
                .strip_prefix(e.name.as_str())
                .and_then(|rest| rest.strip_prefix("--"))
                == Some(e.author.as_str())
        })
    }

    /// The entry for an identity.
    pub fn find(&self, r: &SkillRef) -> Option<&Entry> {
        self.skills
            .iter()
            .find(|e| e.name == r.name && e.author == r.author)
    }

    /// Inserts or replaces the entry of the same identity, and stamps its copies.
    ///
    /// The caller vouches that every copy in `entry.paths` that exists now has the digest
    /// `entry.sha256` (the installer calls this right after writing or checking them, under the
    /// skill's lock).
    pub fn upsert(&mut self, entry: Entry) {
        for path in &entry.paths {
            match Stamp::of_file(path) {
                Some(stamp) => self.stamps.insert(path.clone(), stamp),
                None => self.stamps.remove(path),
            };
        }
        match self
            .skills
            .iter_mut()
            .find(|e| e.name == entry.name && e.author == entry.author)
        {
            Some(e) => *e = entry,
            None => self.skills.push(entry),
        }
        self.skills
            .sort_by(|a, b| (&a.name, &a.author).cmp(&(&b.name, &b.author)));
    }

    /// The digest of an entry's first existing copy and that copy's path: the recorded
    /// `sha256` while the copy still carries its stamp, else the file hashed. `None` when no
    /// copy exists (or none can be read).
    pub fn installed_digest<'e>(&self, entry: &'e Entry) -> Option<(&'e Path, String)> {
        entry.paths.iter().find_map(|path| {
            let stamp = Stamp::of_file(path)?;
            if self.stamps.get(path) == Some(&stamp) {
                return Some((path.as_path(), entry.sha256.clone()));
            }
            // Never blocks on a FIFO or reads /dev/zero planted as SKILL.md (this runs in the
            // SessionStart hook).
            let bytes = crate::fsutil::read_regular(path, MAX_INSTALLED_BYTES).ok()??;
            Some((path.as_path(), skillopt_shared::sha256_hex(&bytes)))
        })
    }

    /// Drops the stamps of paths no entry lists any more.
    fn prune_stamps(&mut self) {
        let skills = &self.skills;
        self.stamps
            .retain(|path, _| skills.iter().any(|e| e.paths.contains(path)));
    }
}

/// Loads the manifest with the lock already held; a corrupt file is moved aside and rebuilt.
fn load_or_rebuild(paths: &Paths) -> Result<Manifest> {
    match Manifest::load_from(&paths.manifest()) {
        Err(StateError::Corrupt { .. }) => {
            let torn = paths.manifest();
            let aside = torn.with_extension("json.corrupt");
            std::fs::rename(&torn, &aside).map_err(crate::io_err(&torn))?;
            Ok(rebuild(paths))
        }
        other => other,
    }
}

/// Reads the installed org skills back from the skill roots: every `<name>--<author>/SKILL.md`
/// (no symlinks followed) whose frontmatter `name` is its directory and that carries
/// `metadata.skillopt-version`. Copies at the highest version of a skill become its entry.
/// The rebuilt manifest has no stamps (copies at one version may differ), so SessionStart
/// hashes the copies until the next install stamps them.
pub fn rebuild(paths: &Paths) -> Manifest {
    let mut found: BTreeMap<String, Vec<(u32, String, PathBuf)>> = BTreeMap::new();
    for (_, root) in paths.skill_roots() {
        let Ok(rd) = std::fs::read_dir(root) else {
            continue;
        };
        for dir in rd.flatten() {
            let Some(dir_name) = dir.file_name().to_str().map(str::to_string) else {
                continue;
            };
            if SkillRef::parse(&dir_name).is_err() || !dir.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            let file = dir.path().join("SKILL.md");
            let Ok(meta) = std::fs::symlink_metadata(&file) else {
                continue;
            };
            if !meta.is_file() || meta.len() > MAX_INSTALLED_BYTES {
                continue;
            }
            let Ok(bytes) = std::fs::read(&file) else {
                continue;
            };
            let Ok(doc) = std::str::from_utf8(&bytes)
                .map_err(drop)
                .and_then(|t| skillopt_shared::skill_md::SkillMd::parse(t).map_err(drop))
            else {
                continue;
            };
            let (Some(version), Some(name)) = (doc.version(), doc.field("name")) else {
                continue;
            };
            if name == dir_name {
                let sha = skillopt_shared::sha256_hex(&bytes);
                found
                    .entry(dir_name)
                    .or_default()
                    .push((version, sha, file));
            }
        }
    }
    let now = crate::now_rfc3339();
    let skills = found
        .into_iter()
        .filter_map(|(dir_name, copies)| {
            let r = SkillRef::parse(&dir_name).ok()?;
            let top = copies.iter().map(|c| c.0).max()?;
            let at_top: Vec<(u32, String, PathBuf)> =
                copies.into_iter().filter(|c| c.0 == top).collect();
            // The digest skillopt wrote is known only when every copy still agrees; if one was
            // edited by hand, neither may be taken for skillopt's (the next install then backs
            // up each differing copy as a hand edit instead of overwriting it as `.prev`).
            let sha256 = if at_top.iter().all(|c| c.1 == at_top[0].1) {
                at_top[0].1.clone()
            } else {
                String::new()
            };
            let paths: Vec<PathBuf> = at_top.into_iter().map(|c| c.2).collect();
            Some(Entry {
                name: r.name,
                author: r.author,
                version: top,
                paths,
                sha256,
                installed_at: now.clone(),
            })
        })
        .collect();
    Manifest {
        version: 1,
        skills,
        ..Manifest::default()
    }
}

/// Read-modify-write of the manifest under its lock.
pub fn update<T>(paths: &Paths, f: impl FnOnce(&mut Manifest) -> T) -> Result<T> {
    let _lock = FileLock::acquire(&paths.manifest_lock())?;
    let mut m = load_or_rebuild(paths)?;
    m.version = 1;
    let out = f(&mut m);
    m.prune_stamps();
    write_json(&paths.manifest(), &m)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(paths: Vec<PathBuf>, sha256: &str) -> Entry {
        Entry {
            name: "lint".into(),
            author: "bob".into(),
            version: 1,
            paths,
            sha256: sha256.into(),
            installed_at: "t".into(),
        }
    }

    #[test]
    fn a_rebuild_never_takes_a_hand_edited_copy_for_skillopts() {
        let d = tempfile::tempdir().unwrap();
        let paths = Paths::under(d.path());
        let text = "---\nname: deploy--alice\ndescription: d\nmetadata:\n  skillopt-version: \"1\"\n---\nbody\n";
        for root in [&paths.claude_skills, &paths.codex_skills] {
            std::fs::create_dir_all(root.join("deploy--alice")).unwrap();
            std::fs::write(root.join("deploy--alice/SKILL.md"), text).unwrap();
        }
        let same = rebuild(&paths);
        assert_eq!(
            same.skills[0].sha256,
            skillopt_shared::sha256_hex(text.as_bytes())
        );
        // One copy edited by hand (the one a rebuild happens to read first, say).
        for root in [&paths.claude_skills, &paths.codex_skills] {
            let f = root.join("deploy--alice/SKILL.md");
            std::fs::write(&f, format!("{text}MY LOCAL NOTE\n")).unwrap();
            let m = rebuild(&paths);
            assert_eq!(
                m.skills[0].sha256, "",
                "a differing copy was taken as skillopt's"
            );
            assert_eq!(m.skills[0].paths.len(), 2);
            std::fs::write(&f, text).unwrap();
        }
    }

    #[test]
    fn a_stamped_copy_is_trusted_until_it_changes() {
        let d = tempfile::tempdir().unwrap();
        let (a, b) = (d.path().join("a.md"), d.path().join("b.md"));
        std::fs::write(&a, b"v1").unwrap();
        std::fs::write(&b, b"v1").unwrap();
        let real = skillopt_shared::sha256_hex(b"v1");
        let mut m = Manifest::default();
        // A recorded digest the bytes do not have shows when it is trusted without a read.
        m.upsert(entry(vec![a.clone(), b.clone()], "recorded"));
        assert_eq!(m.stamps.len(), 2);
        let e = m.skills[0].clone();
        assert_eq!(
            m.installed_digest(&e),
            Some((a.as_path(), "recorded".to_string()))
        );
        // Edited (even to the same size): hashed again. The mtime is moved on explicitly, as
        // the clock tick that stamps a write may not have passed yet in a test.
        std::fs::write(&a, b"v2").unwrap();
        std::fs::File::options()
            .write(true)
            .open(&a)
            .unwrap()
            .set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(1))
            .unwrap();
        let (path, sha) = m.installed_digest(&e).unwrap();
        assert_eq!(
            (path, sha),
            (a.as_path(), skillopt_shared::sha256_hex(b"v2"))
        );
        // Gone: the next copy, still stamped.
        std::fs::remove_file(&a).unwrap();
        assert_eq!(
            m.installed_digest(&e),
            Some((b.as_path(), "recorded".to_string()))
        );
        // A manifest without stamps (an older one) hashes.
        let old: Manifest = serde_json::from_str(
            &serde_json::to_string(&Manifest {
                version: 1,
                skills: vec![e.clone()],
                ..Manifest::default()
            })
            .unwrap(),
        )
        .unwrap();
        assert_eq!(old.installed_digest(&e), Some((b.as_path(), real)));
        // Stamps of paths no entry lists are dropped.
        m.skills.clear();
        m.prune_stamps();
        assert!(m.stamps.is_empty());
    }
}
