//! One file per `skillopt` subcommand.

pub mod demo;
pub mod diff;
pub mod doctor;
pub mod freeze;
pub mod history;
pub mod hooks_config;
pub mod inspect;
pub mod judge;
pub mod pull;
pub mod push;
pub mod revert;
pub mod stats;
pub mod status;
pub mod worker;

use std::io::Write;

/// Prints a value as pretty JSON on stdout.
pub fn print_json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

/// The user name recorded as `created_by`/`contributor`: `SKILLOPT_USER`, else `USER`.
pub fn current_user() -> String {
    ["SKILLOPT_USER", "USER", "LOGNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()))
        .unwrap_or_else(|| "unknown".into())
}
