//! The agent child's working directory: fresh, empty, and with no agent instruction file in it
//! or above it.
//!
//! The CLIs read `CLAUDE.md` / `AGENTS.md` from their working directory and every parent, so a
//! child started in the user's project would get that project's instructions. The directory is
//! made under a temp base with none above it (`$TMPDIR` may sit inside a project, and anyone may
//! write `/tmp/CLAUDE.md`), and removed (with anything the CLI left in it) when dropped.

use std::path::{Path, PathBuf};

use super::AgentError;

/// Files an agent CLI reads as instructions from its working directory and every parent.
const INSTRUCTION_FILES: &[&str] = &[
    "CLAUDE.md",
    "CLAUDE.local.md",
    "AGENTS.md",
    "AGENTS.override.md",
];

/// The first instruction file in `dir` or above it.
fn instructions_above(dir: &Path) -> Option<PathBuf> {
    dir.ancestors().find_map(|a| {
        INSTRUCTION_FILES
            .iter()
            .map(|f| a.join(f))
            .find(|p| p.symlink_metadata().is_ok())
    })
}

/// A fresh empty directory with no instruction file in it or above it: under `$TMPDIR`, else
/// `/tmp`, `/var/tmp` or `/dev/shm`. Removed when dropped.
pub(super) fn isolated_workdir(name: &'static str) -> Result<tempfile::TempDir, AgentError> {
    let mut refused = Vec::new();
    let bases = [
        std::env::temp_dir(),
        PathBuf::from("/tmp"),
        PathBuf::from("/var/tmp"),
        PathBuf::from("/dev/shm"),
    ];
    for base in bases {
        let Ok(base) = base.canonicalize() else {
            continue;
        };
        if let Some(found) = instructions_above(&base) {
            refused.push(found.display().to_string());
            continue;
        }
        if let Ok(dir) = tempfile::Builder::new()
            .prefix("skillopt-agent-")
            .tempdir_in(&base)
        {
            return Ok(dir);
        }
    }
    Err(AgentError::Workdir(
        name,
        std::io::Error::other(format!(
            "every temp directory has an agent instruction file above it ({}); remove it or set TMPDIR",
            refused.join(", ")
        )),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instruction_files_above_a_directory_are_found() {
        let d = tempfile::tempdir().unwrap();
        let deep = d.path().join("a/b");
        std::fs::create_dir_all(&deep).unwrap();
        assert_eq!(instructions_above(&deep), None);
        std::fs::write(d.path().join("a/CLAUDE.md"), "x").unwrap();
        assert_eq!(
            instructions_above(&deep),
            Some(d.path().join("a/CLAUDE.md"))
        );
    }
}
