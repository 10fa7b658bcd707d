//! `skillopt log <skill> [--json]`: every version with its status
//! (`active|candidate|proposed|reverted`), its source (push/skillopt/revert), who made it, its
//! changeset's reason, its measured outcomes and its events (published, verified, promoted,
//! reverted, approved, rejected, with the figures that decided them); then the skill's own
//! events (policy, frozen, unfrozen), its release policy and canary percent, and whether it is
//! frozen and why. Registry text is untrusted: control, bidi and zero-width characters are
//! printed as `\u{XXXX}` (in `--json`, as JSON `\uXXXX` escapes), never raw.

use std::collections::BTreeMap;
use std::process::ExitCode;

use serde::Serialize;
use skillopt_shared::text::for_terminal;
use skillopt_shared::verdict::Outcome;

use super::resolve_skill;
use super::review::EventView;
use crate::registry::{Changeset, Event, OutcomeRow, PolicyMode, VersionSource, VersionStatus};
use crate::settings::Settings;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// `name--author` (or a unique bare name).
    pub skill: String,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Serialize)]
struct Entry {
    version: u32,
    source: VersionSource,
    status: VersionStatus,
    created_by: String,
    created_at: String,
    parent_version: Option<u32>,
    changeset: Option<Changeset>,
    sessions: usize,
    /// Sessions per agent (`claude-code`, `codex`, …).
    sessions_by_agent: BTreeMap<String, usize>,
    judged: usize,
    failures: usize,
    skill_failures: usize,
    /// Every judged use of this version (`unclear` ones included), oldest first.
    outcomes: Vec<OutcomeView>,
    /// This version's events, oldest first.
    events: Vec<EventView>,
}

/// The whole of `log --json`.
#[derive(Debug, Serialize)]
struct Log {
    skill: String,
    policy: PolicyMode,
    canary_percent: u8,
    frozen: bool,
    frozen_reason: String,
    versions: Vec<Entry>,
    /// Events of the skill as a whole (version 0: policy, frozen, unfrozen), oldest first.
    events: Vec<EventView>,
}

/// The events of `version` (0: the skill's own).
fn events_of(events: &[Event], version: u32) -> Vec<EventView> {
    events
        .iter()
        .filter(|e| e.version == version)
        .map(EventView::from)
        .collect()
}

/// One judged use, as `log --json` shows it.
#[derive(Debug, Serialize)]
struct OutcomeView {
    job_id: String,
    outcome: Outcome,
    skill_at_fault: bool,
    confidence: f64,
    bucket: u8,
    reason: String,
    agent: String,
    model: String,
    judged_at: String,
}

fn count(outcomes: &[OutcomeRow], version: u32, pred: impl Fn(&OutcomeRow) -> bool) -> usize {
    outcomes
        .iter()
        .filter(|o| o.version == version && pred(o))
        .count()
}

pub fn run(settings: &Settings, args: Args) -> anyhow::Result<ExitCode> {
    let mut reg = settings.open_existing_registry()?;
    let skill = resolve_skill(reg.as_mut(), &args.skill)?;
    let versions = reg.history(&skill)?;
    if versions.is_empty() {
        anyhow::bail!("{skill} is not in the registry");
    }
    let changesets = reg.changesets(&skill)?;
    let outcomes = reg.outcomes(&skill)?;
    let attributions = reg.attributions(&skill)?;
    let flags = reg.flags(&skill)?;
    let events = reg.events(&skill)?;
    let entries: Vec<Entry> = versions
        .iter()
        .map(|v| Entry {
            version: v.version,
            source: v.source,
            status: v.status,
            created_by: v.created_by.clone(),
            created_at: v.created_at.clone(),
            parent_version: v.parent_version,
            changeset: changesets.iter().find(|c| c.version == v.version).cloned(),
            sessions: attributions
                .iter()
                .filter(|a| a.version == v.version)
                .count(),
            sessions_by_agent: attributions.iter().filter(|a| a.version == v.version).fold(
                BTreeMap::new(),
                |mut m, a| {
                    *m.entry(a.agent.clone()).or_insert(0) += 1;
                    m
                },
            ),
            judged: count(&outcomes, v.version, |o| o.outcome != Outcome::Unclear),
            failures: count(&outcomes, v.version, |o| o.outcome == Outcome::Failure),
            skill_failures: count(&outcomes, v.version, |o| {
                o.outcome == Outcome::Failure && o.skill_at_fault
            }),
            outcomes: outcomes
                .iter()
                .filter(|o| o.version == v.version)
                .map(|o| OutcomeView {
                    job_id: o.job_id.clone(),
                    outcome: o.outcome,
                    skill_at_fault: o.skill_at_fault,
                    confidence: o.confidence,
                    bucket: o.bucket,
                    reason: o.reason.clone(),
                    agent: o.agent.clone(),
                    model: o.model.clone(),
                    judged_at: o.judged_at.clone(),
                })
                .collect(),
            events: events_of(&events, v.version),
        })
        .collect();
    let log = Log {
        skill: skill.dir_name(),
        policy: flags.policy,
        canary_percent: flags.canary_percent,
        frozen: flags.frozen,
        // The registry keeps the last reason given, an unfreeze's included.
        frozen_reason: if flags.frozen {
            flags.frozen_reason
        } else {
            String::new()
        },
        versions: entries,
        events: events_of(&events, 0),
    };
    if args.json {
        super::print_json(&log)?;
        return Ok(ExitCode::SUCCESS);
    }
    print_log(&skill, &log);
    Ok(ExitCode::SUCCESS)
}

fn print_log(skill: &skillopt_shared::SkillRef, log: &Log) {
    let t = |s: &str| for_terminal(s, false).into_owned();
    println!(
        "{skill}  policy {}{}",
        log.policy,
        if log.policy == PolicyMode::Auto {
            String::new()
        } else {
            format!(" (canary {} %)", log.canary_percent)
        }
    );
    if log.frozen {
        println!(
            "  frozen: no automatic edits{}",
            if log.frozen_reason.is_empty() {
                String::new()
            } else {
                format!(" ({})", t(&log.frozen_reason))
            }
        );
    }
    let print_event = |e: &EventView| {
        println!(
            "      {} {} by {} {}",
            t(&e.created_at),
            e.kind,
            t(&e.actor),
            t(&e.figures.to_string())
        );
    };
    for e in log.versions.iter().rev() {
        println!(
            "v{:<3} {:<9} {:<8} {}  by {}  sessions {}  judged {}  failures {} (skill at fault {})",
            e.version,
            e.status.as_str(),
            t(e.source.as_str()),
            t(&e.created_at),
            t(&e.created_by),
            e.sessions,
            e.judged,
            e.failures,
            e.skill_failures
        );
        if let Some(c) = &e.changeset {
            println!("      reason:   {}", t(&c.reason));
            if !c.evidence.is_empty() {
                println!("      evidence: {}", t(&c.evidence));
            }
            if c.agent != "-" {
                println!(
                    "      by agent {} (model {}), job {}",
                    t(&c.agent),
                    t(&c.model),
                    t(c.job_id.as_deref().unwrap_or("-"))
                );
            }
        }
        e.events.iter().for_each(print_event);
    }
    if !log.events.is_empty() {
        println!("skill events:");
        log.events.iter().for_each(print_event);
    }
}
