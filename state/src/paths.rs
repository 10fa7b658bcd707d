//! Where everything lives, resolved once from the environment.
//!
//! * state dir: `SKILLOPT_STATE_DIR`, else `$XDG_STATE_HOME/skillopt` (via `directories`), else
//!   `~/.local/state/skillopt`.
//! * data dir (embedded registry): `$XDG_DATA_HOME/skillopt`.
//! * Claude Code: `$CLAUDE_CONFIG_DIR` or `~/.claude` (skills in `skills/`, hooks in
//!   `settings.json`).
//! * Codex: `$CODEX_HOME` or `~/.codex` (`hooks.json`); skills in `SKILLOPT_CODEX_SKILLS_DIR` or
//!   `~/.agents/skills`.
//!
//! Empty or relative values count as unset, so a stray `FOO=` never points at the cwd.

use std::path::{Path, PathBuf};

use crate::{Result, StateError};

/// All paths skillopt touches.
#[derive(Debug, Clone)]
pub struct Paths {
    pub home: PathBuf,
    pub state_dir: PathBuf,
    pub data_dir: PathBuf,
    pub claude_dir: PathBuf,
    pub codex_home: PathBuf,
    pub claude_skills: PathBuf,
    pub codex_skills: PathBuf,
}

fn env_path(key: &str) -> Option<PathBuf> {
    let v = std::env::var_os(key)?;
    let p = PathBuf::from(v);
    p.is_absolute().then_some(p)
}

impl Paths {
    /// Every path under one directory, laid out as under a home (`<dir>/state`,
    /// `<dir>/.claude/skills`, `<dir>/.agents/skills`, …): for tests and sandboxes.
    pub fn under(dir: &Path) -> Self {
        Self {
            home: dir.into(),
            state_dir: dir.join("state"),
            data_dir: dir.join("data"),
            claude_dir: dir.join(".claude"),
            codex_home: dir.join(".codex"),
            claude_skills: dir.join(".claude/skills"),
            codex_skills: dir.join(".agents/skills"),
        }
    }

    /// Resolves every path from the environment.
    pub fn from_env() -> Result<Self> {
        let base = directories::BaseDirs::new();
        let home = env_path("HOME")
            .or_else(|| base.as_ref().map(|b| b.home_dir().to_path_buf()))
            .ok_or(StateError::NoHome)?;
        let state_dir = env_path("SKILLOPT_STATE_DIR").unwrap_or_else(|| {
            env_path("XDG_STATE_HOME")
                .or_else(|| {
                    base.as_ref()
                        .and_then(|b| b.state_dir().map(Path::to_path_buf))
                })
                .unwrap_or_else(|| home.join(".local/state"))
                .join("skillopt")
        });
        let data_dir = env_path("XDG_DATA_HOME")
            .or_else(|| base.as_ref().map(|b| b.data_dir().to_path_buf()))
            .unwrap_or_else(|| home.join(".local/share"))
            .join("skillopt");
        let claude_dir = env_path("CLAUDE_CONFIG_DIR").unwrap_or_else(|| home.join(".claude"));
        let codex_home = env_path("CODEX_HOME").unwrap_or_else(|| home.join(".codex"));
        let codex_skills =
            env_path("SKILLOPT_CODEX_SKILLS_DIR").unwrap_or_else(|| home.join(".agents/skills"));
        Ok(Self {
            claude_skills: claude_dir.join("skills"),
            home,
            state_dir,
            data_dir,
            claude_dir,
            codex_home,
            codex_skills,
        })
    }

    /// Install roots, one per agent, as (agent label, dir).
    pub fn skill_roots(&self) -> [(&'static str, &Path); 2] {
        [
            ("claude", &self.claude_skills),
            ("codex", &self.codex_skills),
        ]
    }

    pub fn manifest(&self) -> PathBuf {
        self.state_dir.join("manifest.json")
    }
    pub fn manifest_lock(&self) -> PathBuf {
        self.state_dir.join(".manifest.lock")
    }
    pub fn session_dir(&self, session_id: &str) -> PathBuf {
        self.state_dir
            .join("sessions")
            .join(crate::fsutil::safe_component(session_id))
    }
    pub fn jobs_dir(&self) -> PathBuf {
        self.state_dir.join("jobs")
    }
    pub fn outbox_dir(&self) -> PathBuf {
        self.state_dir.join("outbox")
    }
    pub fn sync_marker(&self) -> PathBuf {
        self.state_dir.join("sync.json")
    }
    pub fn log_dir(&self) -> PathBuf {
        self.state_dir.join("log")
    }
    /// Registry-independent local settings (`skillopt freeze` works on the registry; this file
    /// holds only machine-local choices).
    pub fn skill_lock(&self, dir_name: &str) -> PathBuf {
        self.state_dir
            .join("locks")
            .join(format!("{}.lock", crate::fsutil::safe_component(dir_name)))
    }
    /// Default embedded registry file.
    pub fn default_registry(&self) -> PathBuf {
        self.data_dir.join("registry.sqlite3")
    }
    pub fn claude_settings(&self) -> PathBuf {
        self.claude_dir.join("settings.json")
    }
    pub fn codex_hooks(&self) -> PathBuf {
        self.codex_home.join("hooks.json")
    }
}
