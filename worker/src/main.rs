//! `skillopt`: the CLI and the detached worker.
//!
//! A binary with private modules: the commands (`commands/`, the only layer that parses
//! arguments), the registry backends (`registry/`), the agent CLI runner (`agent`), the
//! judge → propose → gate → publish pipeline (`pipeline/`), sync and installs. Dependencies point
//! down: `commands` → `pipeline` → `registry`/`agent`/`install_skill`; nothing below reaches up.
//!
//! Human output by default, `--json` where a machine reads it; bad input gets a one-line error
//! naming the problem and exit code 1 (2 for usage errors, from clap), never a panic.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod agent;
mod codex_trust;
mod commands;
mod credentials;
mod install_skill;
mod logging;
mod npm_launchers;
mod pipeline;
mod registry;
mod rollout;
mod serve;
mod settings;
mod sync;
mod unified_diff;
mod webhook;

/// `skillopt --version`: the version and the commit built from (`worker/build.rs`), e.g.
/// `0.1.0 (1a2b3c4)`. The hooks print theirs in the same form; `doctor` compares them.
pub(crate) const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("SKILLOPT_COMMIT"),
    ")"
);

/// Self-improving, org-shared Agent Skills for Claude Code and Codex.
#[derive(Debug, Parser)]
#[command(name = "skillopt", version = VERSION, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Publish a skill directory (with a SKILL.md) to the registry as a new version.
    Push(commands::push::Args),
    /// Install or upgrade the latest version of every org skill for Claude Code and Codex.
    Pull(commands::pull::Args),
    /// List a skill's versions, where each came from and how it did.
    Log(commands::history::Args),
    /// Unified diff between two versions of a skill.
    Diff(commands::diff::Args),
    /// What is installed, queued and waiting to upload.
    Status(commands::status::Args),
    /// Per skill version: sessions, judged uses, failures, failure rate.
    Stats(commands::stats::Args),
    /// Add skillopt's hooks to Claude Code and/or Codex settings.
    Install(commands::hooks_config::Args),
    /// Remove skillopt's hooks from Claude Code and/or Codex settings.
    Uninstall(commands::hooks_config::Args),
    /// Publish an earlier version's body as a new version.
    Revert(commands::revert::Args),
    /// Stop automatic edits of a skill.
    Freeze(commands::freeze::Args),
    /// Allow automatic edits of a skill again.
    Unfreeze(commands::freeze::Args),
    /// Show or set how a skill's automatic edits are released (auto|canary|review), org-wide.
    Policy(commands::policy::Args),
    /// Show or set this machine's release channel (canary|stable|auto) and its bucket.
    Channel(commands::channel::Args),
    /// Proposed and candidate versions: list, show, approve, reject.
    #[command(subcommand)]
    Review(commands::review::Command),
    /// Judge one skill use by hand (the same pipeline the worker runs).
    Judge(commands::judge::Args),
    /// Look inside transcripts: skill uses and judgment windows.
    #[command(subcommand)]
    Inspect(commands::inspect::Command),
    /// Run queued jobs (what the hooks spawn).
    #[command(subcommand)]
    Worker(commands::worker::Command),
    /// Check a token with a skillopt server and store it for that server (read from stdin).
    Login(commands::login::Args),
    /// Serve the registry over HTTP for a team (`SKILLOPT_REGISTRY=http(s)://…` on clients).
    Serve(commands::serve::Args),
    /// Check the installation.
    Doctor,
    /// Show the whole loop in a throwaway sandbox on the embedded registry.
    Demo(commands::demo::Args),
    /// The demo's scripted stand-in for an agent CLI (canned replies on stdout).
    #[command(hide = true)]
    DemoAgent {
        /// Ignored: the agent CLI flags the runner passes.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let paths = skillopt_state::Paths::from_env()?;
    let settings = settings::Settings::from_env(&paths);
    let s = &settings;
    match cli.command {
        Command::Push(a) => commands::push::run(s, a),
        Command::Pull(a) => commands::pull::run(&paths, s, a),
        Command::Log(a) => commands::history::run(s, a),
        Command::Diff(a) => commands::diff::run(s, a),
        Command::Status(a) => commands::status::run(&paths, s, a),
        Command::Stats(a) => commands::stats::run(&paths, s, a),
        Command::Install(a) => commands::hooks_config::install(&paths, a),
        Command::Uninstall(a) => commands::hooks_config::uninstall(&paths, a),
        Command::Revert(a) => commands::revert::run(&paths, s, a),
        Command::Freeze(a) => commands::freeze::run(&paths, s, a, true),
        Command::Unfreeze(a) => commands::freeze::run(&paths, s, a, false),
        Command::Policy(a) => commands::policy::run(s, a),
        Command::Channel(a) => commands::channel::run(&paths, s, a),
        Command::Review(c) => commands::review::run(&paths, s, c),
        Command::Judge(a) => commands::judge::run(&paths, s, a),
        Command::Inspect(c) => commands::inspect::run(&paths, c),
        Command::Worker(c) => commands::worker::run(&paths, s, c),
        Command::Serve(a) => commands::serve::run(s, a),
        Command::Login(a) => commands::login::run(&paths, s, a),
        Command::Doctor => commands::doctor::run(&paths, s),
        Command::Demo(a) => commands::demo::run(a),
        Command::DemoAgent { .. } => {
            let mut prompt = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut prompt)?;
            println!("{}", commands::demo::demo_agent_reply(&prompt));
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            let msg = format!("{e:#}").replace('\n', " ");
            eprintln!("skillopt: error: {msg}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
