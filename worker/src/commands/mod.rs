//! One file per `skillopt` subcommand.

pub(crate) mod demo;
pub(crate) mod diff;
pub(crate) mod doctor;
pub(crate) mod freeze;
pub(crate) mod history;
pub(crate) mod hooks_config;
pub(crate) mod inspect;
pub(crate) mod judge;
pub(crate) mod pull;
pub(crate) mod push;
pub(crate) mod revert;
pub(crate) mod stats;
pub(crate) mod status;
pub(crate) mod worker;

mod skill_arg;

pub(crate) use skill_arg::resolve_skill;

use std::io::Write;

/// Prints a value as pretty JSON on stdout.
pub fn print_json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}
