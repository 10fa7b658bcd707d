//! The manifest: the authoritative list of org skills installed on this machine.
//!
//! `manifest.json` = `{"version":1,"skills":[{name, author, version, paths, sha256,
//! installed_at}]}`. `sha256` is the digest of the installed SKILL.md as skillopt wrote it; a
//! file whose digest differs was edited by hand. Updates go through [`update`], which holds the
//! manifest lock for the whole read-modify-write.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use skillopt_shared::SkillRef;

use crate::fsutil::{read_json, write_json, FileLock};
use crate::{Paths, Result};

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
    /// Loads the manifest; a missing file is empty.
    pub fn load(paths: &Paths) -> Result<Self> {
        Self::load_from(&paths.manifest())
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

/// Read-modify-write of the manifest under its lock.
pub fn update<T>(paths: &Paths, f: impl FnOnce(&mut Manifest) -> T) -> Result<T> {
    let _lock = FileLock::acquire(&paths.manifest_lock())?;
    let mut m = Manifest::load(paths)?;
    m.version = 1;
    let out = f(&mut m);
    write_json(&paths.manifest(), &m)?;
    Ok(out)
}
