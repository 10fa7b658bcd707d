//! `skillopt judge`.
use skillopt_state::Paths;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(long)]
    pub transcript: std::path::PathBuf,
    #[arg(long)]
    pub skill: String,
}

pub fn run(_paths: &Paths, _args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("judge is not available in this build")
}
