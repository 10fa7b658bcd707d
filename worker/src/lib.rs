//! The skillopt worker: the `skillopt` CLI's commands, the registry backends, the agent CLI
//! runner, the judge -> propose -> gate -> publish pipeline and sync. `main.rs` is only argument
//! parsing; everything lives here so tests can reach it.

pub mod agent;
pub mod codex_trust;
pub mod commands;
pub mod install_skill;
pub mod logging;
pub mod pipeline;
pub mod registry;
pub mod sync;
