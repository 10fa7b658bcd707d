//! `skillopt inspect`.
use skillopt_state::Paths;
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    Transcript { path: std::path::PathBuf },
}

pub fn run(_paths: &Paths, _c: Command) -> anyhow::Result<ExitCode> {
    anyhow::bail!("inspect is not available in this build")
}
