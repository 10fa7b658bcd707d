//! `skillopt channel [canary|stable|auto] [--json]`: shows or sets this machine's release
//! channel choice (`<state>/machine.json`).
//!
//! `auto` puts the machine on a skill's canary channel when its bucket (0–99, from its stable
//! random id) is below the skill's canary percent; `canary` volunteers it for every skill's
//! early versions; `stable` pins it to active versions (plus the candidates it published
//! itself). The output names the bucket and, per installed or registry skill, the channel
//! that results. Without a reachable registry the skills' percents are unknown: the machine is
//! still shown and set, and the registry error is reported.

use std::collections::BTreeMap;
use std::process::ExitCode;

use serde::Serialize;
use skillopt_state::machine::{self, Channel, ChannelChoice};
use skillopt_state::manifest::Manifest;
use skillopt_state::Paths;

use super::one_line;
use crate::registry::{Registry, DEFAULT_CANARY_PERCENT};
use crate::settings::Settings;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The choice to set; without it the channel is shown.
    #[arg(value_enum)]
    pub choice: Option<Choice>,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

/// The channel argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Choice {
    /// Early (candidate) versions of every skill.
    Canary,
    /// Only active versions (and candidates this machine published).
    Stable,
    /// By this machine's bucket and each skill's canary percent.
    Auto,
}

impl From<Choice> for ChannelChoice {
    fn from(c: Choice) -> Self {
        match c {
            Choice::Canary => ChannelChoice::Canary,
            Choice::Stable => ChannelChoice::Stable,
            Choice::Auto => ChannelChoice::Auto,
        }
    }
}

/// This machine, as `channel --json` and `status --json` show it.
#[derive(Debug, Serialize)]
pub(crate) struct MachineView {
    pub id: String,
    /// 0–99: below a skill's canary percent puts the machine on its canary channel (`auto`).
    pub bucket: u8,
    pub channel_choice: ChannelChoice,
}

impl From<&machine::Machine> for MachineView {
    fn from(m: &machine::Machine) -> Self {
        Self {
            id: m.id.clone(),
            bucket: m.bucket(),
            channel_choice: m.channel,
        }
    }
}

/// The choice as `channel` takes it.
pub(crate) fn choice_name(c: ChannelChoice) -> &'static str {
    match c {
        ChannelChoice::Auto => "auto",
        ChannelChoice::Canary => "canary",
        ChannelChoice::Stable => "stable",
    }
}

/// One skill's channel on this machine.
#[derive(Debug, Serialize)]
struct SkillChannel {
    skill: String,
    /// The version installed here, if any.
    installed: Option<u32>,
    /// `None` when the registry could not be read.
    canary_percent: Option<u8>,
    channel: Option<Channel>,
}

#[derive(Debug, Serialize)]
struct Shown {
    machine: MachineView,
    /// True when this call changed the choice.
    changed: bool,
    skills: Vec<SkillChannel>,
    registry_error: Option<String>,
}

/// Every skill the registry knows, with its canary percent, by `name--author`.
fn registry_percents(reg: &mut dyn Registry) -> anyhow::Result<BTreeMap<String, u8>> {
    let mut out = BTreeMap::new();
    for (name, author, flags) in reg.all_flags()? {
        if let Ok(skill) = skillopt_shared::SkillRef::new(&name, &author) {
            out.insert(skill.dir_name(), flags.canary_percent);
        }
    }
    for v in reg.all_latest_active()? {
        if let Ok(skill) = v.skill_ref() {
            // A skill whose flags were never set has the defaults.
            out.entry(skill.dir_name())
                .or_insert(DEFAULT_CANARY_PERCENT);
        }
    }
    Ok(out)
}

pub fn run(paths: &Paths, settings: &Settings, args: Args) -> anyhow::Result<ExitCode> {
    let before = machine::load(paths)?;
    let m = match args.choice {
        Some(c) => machine::set_channel(paths, c.into())?,
        None => before.clone(),
    };
    let changed = m.channel != before.channel;
    let (percents, registry_error) = match settings
        .open_registry()
        .map_err(anyhow::Error::from)
        .and_then(|mut reg| registry_percents(reg.as_mut()))
    {
        Ok(p) => (p, None),
        Err(e) => (BTreeMap::new(), Some(format!("{e:#}"))),
    };
    let manifest = Manifest::load(paths)?;
    let mut skills: BTreeMap<String, SkillChannel> = percents
        .iter()
        .map(|(name, &p)| {
            let row = SkillChannel {
                skill: name.clone(),
                installed: None,
                canary_percent: Some(p),
                channel: Some(m.channel_for(p)),
            };
            (name.clone(), row)
        })
        .collect();
    for e in &manifest.skills {
        skills
            .entry(e.dir_name())
            .or_insert_with(|| SkillChannel {
                skill: e.dir_name(),
                installed: None,
                canary_percent: None,
                channel: None,
            })
            .installed = Some(e.version);
    }
    let shown = Shown {
        machine: MachineView::from(&m),
        changed,
        skills: skills.into_values().collect(),
        registry_error,
    };
    if args.json {
        super::print_json(&shown)?;
        return Ok(ExitCode::SUCCESS);
    }
    let choice = match m.channel {
        ChannelChoice::Auto => "auto (by bucket and each skill's canary percent)",
        ChannelChoice::Canary => "canary (early versions of every skill)",
        ChannelChoice::Stable => "stable (active versions only)",
    };
    println!(
        "machine {}: bucket {}, channel {choice}{}",
        shown.machine.id,
        shown.machine.bucket,
        if changed { " (set)" } else { "" }
    );
    if let Some(e) = &shown.registry_error {
        println!("registry: unreachable ({})", one_line(e));
    }
    for s in &shown.skills {
        let channel = match (s.channel, s.canary_percent) {
            (Some(c), Some(p)) => format!("{} (canary percent {p})", c.as_str()),
            _ => "unknown (registry not read)".to_string(),
        };
        let installed = s
            .installed
            .map(|v| format!(", v{v} installed"))
            .unwrap_or_default();
        println!("  {}: {channel}{installed}", one_line(&s.skill));
    }
    Ok(ExitCode::SUCCESS)
}
