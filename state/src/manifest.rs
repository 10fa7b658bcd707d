//! The manifest: the authoritative list of org skills installed on this machine.
//!
//! `manifest.json` = `{"version":1,"skills":[{name, author, version, paths, sha256,
//! installed_at}]}`. `sha256` is the digest of the installed SKILL.md as skillopt wrote it; a
//! file whose digest differs was edited by hand. Updates go through [`update`], which holds the
//! manifest lock for the whole read-modify-write.
//!
//! A torn or corrupt `manifest.json` never wedges the hooks: it is moved to
//! `manifest.json.corrupt` and rebuilt from the installed copies, whose frontmatter carries the
//! directory name and `metadata.skillopt-version` (see [`rebuild`]).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use skillopt_shared::SkillRef;

use crate::fsutil::{read_json, write_json, FileLock};
use crate::{Paths, Result, StateError};

/// Installed SKILL.md files larger than this are not read back while rebuilding (the registry
/// refuses far smaller bodies, so such a file is not ours).
const MAX_INSTALLED_BYTES: u64 = 4 * 1024 * 1024;

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

/// The manifest file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub version: u32,
    pub skills: Vec<Entry>,
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
            skills: Vec::new(),
        }))
    }

    /// The entry for a directory name (`<name>--<author>`).
    pub fn find_dir(&self, dir_name: &str) -> Option<&Entry> {
        let r = SkillRef::parse(dir_name).ok()?;
        self.find(&r)
    }

    /// The entry for an identity.
    pub fn find(&self, r: &SkillRef) -> Option<&Entry> {
        self.skills
            .iter()
            .find(|e| e.name == r.name && e.author == r.author)
    }

    /// Inserts or replaces the entry of the same identity.
    pub fn upsert(&mut self, entry: Entry) {
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
pub fn rebuild(paths: &Paths) -> Manifest {
    use std::collections::BTreeMap;
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
            let mut at_top = copies.into_iter().filter(|c| c.0 == top);
            let (_, sha256, first) = at_top.next()?;
            let mut paths = vec![first];
            paths.extend(at_top.map(|c| c.2));
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
    Manifest { version: 1, skills }
}

/// Read-modify-write of the manifest under its lock.
pub fn update<T>(paths: &Paths, f: impl FnOnce(&mut Manifest) -> T) -> Result<T> {
    let _lock = FileLock::acquire(&paths.manifest_lock())?;
    let mut m = load_or_rebuild(paths)?;
    m.version = 1;
    let out = f(&mut m);
    write_json(&paths.manifest(), &m)?;
    Ok(out)
}
