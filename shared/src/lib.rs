//! skillopt's pure domain: no network, no async runtime, no process spawning.
//!
//! * [`skill_ref`]: the `<name>--<author>` identity of an org skill.
//! * [`skill_md`]: SKILL.md frontmatter parsing and the installed rendering.
//! * [`bucket`]: the deterministic A/B bucket and hashing helpers.
//! * [`payload`]: Claude Code / Codex hook stdin dialects.
//! * [`skill_use`]: recognising a skill use in a tool call or a prompt.
//! * [`transcript`], [`window`], [`redact`]: transcript readers and judgment windows.
//! * [`verdict`], [`edits`], [`gate`], [`prompts`]: judge/proposer I/O and the safety gate.
//! * [`config`]: environment knobs with their defaults.

pub mod bucket;
pub mod config;
pub mod edits;
pub mod gate;
pub mod payload;
pub mod prompts;
pub mod redact;
pub mod skill_md;
pub mod skill_ref;
pub mod skill_use;
pub mod text;
pub mod transcript;
pub mod verdict;
pub mod verification;
pub mod window;

pub use bucket::{bucket, session_hash, sha256_hex};
pub use payload::{Agent, HookPayload};
pub use skill_ref::SkillRef;
