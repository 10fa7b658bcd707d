//! `skillopt revert <skill> --to N`.
use skillopt_state::Paths;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    pub skill: String,
    #[arg(long)]
    pub to: u32,
}

pub fn run(_paths: &Paths, _args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("revert is not available in this build")
}
