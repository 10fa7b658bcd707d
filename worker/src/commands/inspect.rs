//! `skillopt inspect transcript <path> [--json]` (every skill use found) and
//! `skillopt inspect window <path> (--tool-use-id T | --skill S) [--reaction R]` (the exact text
//! a judge would see).

use std::io::BufReader;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use serde::Serialize;
use skillopt_shared::transcript::{skill_uses, SkillUse};
use skillopt_shared::window::{self, Target};
use skillopt_shared::SkillRef;
use skillopt_state::manifest::Manifest;
use skillopt_state::Paths;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// List every skill use in a Claude Code or Codex transcript.
    Transcript {
        path: PathBuf,
        /// A JSON array, one object per use, in transcript order.
        #[arg(long)]
        json: bool,
    },
    /// Print the judgment window for one skill use.
    #[command(group(clap::ArgGroup::new("which").required(true).multiple(true).args(["tool_use_id", "skill"])))]
    Window {
        path: PathBuf,
        /// The pinned invocation.
        #[arg(long)]
        tool_use_id: Option<String>,
        /// The skill (the latest use is taken when no tool_use_id matches).
        #[arg(long)]
        skill: Option<String>,
        /// The user's reaction, appended as the judge would see it.
        #[arg(long)]
        reaction: Option<String>,
    },
}

#[derive(Serialize)]
struct UseOut<'a> {
    #[serde(flatten)]
    found: &'a SkillUse,
    org: bool,
}

pub fn run(paths: &Paths, cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Transcript { path, json } => {
            let file = std::fs::File::open(&path)
                .with_context(|| format!("cannot read transcript {}", path.display()))?;
            let uses = skill_uses(BufReader::new(file))
                .with_context(|| format!("reading {}", path.display()))?;
            let manifest = Manifest::load(paths)?;
            let is_org = |u: &SkillUse| {
                SkillRef::parse(&u.skill)
                    .ok()
                    .is_some_and(|r| manifest.find(&r).is_some())
            };
            let out: Vec<UseOut> = uses
                .iter()
                .map(|u| UseOut {
                    found: u,
                    org: is_org(u),
                })
                .collect();
            if json {
                super::print_json(&out)?;
            } else if out.is_empty() {
                println!("no skill uses in {}", path.display());
            } else {
                for u in &out {
                    let f = u.found;
                    println!(
                        "line {:<6} {:<10} {:<40} {}{}{}{}",
                        f.line,
                        serde_json::to_value(f.kind)?.as_str().unwrap_or_default(),
                        f.skill,
                        f.tool_use_id.as_deref().unwrap_or("-"),
                        if f.sidechain { "  [sidechain]" } else { "" },
                        if f.failed { "  [failed]" } else { "" },
                        if u.org { "  [org]" } else { "" },
                    );
                }
            }
        }
        Command::Window {
            path,
            tool_use_id,
            skill,
            reaction,
        } => {
            let target = Target {
                tool_use_id,
                skill,
                reaction_turn: None,
            };
            let w = window::build(&path, &target, reaction.as_deref())?;
            print!("{}", w.text);
        }
    }
    Ok(ExitCode::SUCCESS)
}
