//! `skillopt status [--json]`: installed org skills (and whether a copy was edited by hand),
//! the registry and its latest versions, queued jobs (and job files moved aside as corrupt), the
//! outbox (every waiting event file, unreadable ones included, and the events moved aside as
//! refused), the last sync, this machine's agent calls today against its budget and the circuit
//! breaker (a line only when agent calls are stopped), and (`--json`) the settings in effect.
//!
//! Also this machine (id, bucket, channel choice) and, per installed skill, its release policy,
//! canary percent, this machine's channel for it, whether it is frozen (and why), and its
//! candidate's evidence (judged uses so far and still needed); the human output gives a line to
//! each skill that is frozen or has a candidate.

use std::process::ExitCode;

use serde::Serialize;
use skillopt_shared::sha256_hex;
use skillopt_shared::SkillRef;
use skillopt_state::fsutil::read_regular;
use skillopt_state::jobs::{JobState, Queue};
use skillopt_state::machine::{self, Channel, Machine};
use skillopt_state::manifest::{Manifest, MAX_INSTALLED_BYTES};
use skillopt_state::{outbox, pending, sync_marker, Paths};

use super::channel::MachineView;
use crate::agent::metered;
use crate::registry::{PolicyMode, Registry};
use crate::rollout::{candidate_evidence, CandidateEvidence};
use crate::settings::{Settings, Shown};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Serialize)]
struct Installed {
    skill: String,
    version: u32,
    latest: Option<u32>,
    paths: Vec<String>,
    missing: Vec<String>,
    hand_edited: Vec<String>,
    /// Policy, channel, freeze and candidate (absent when the registry could not be read).
    #[serde(flatten)]
    release: Option<Release>,
}

/// How a skill is released, and to this machine.
#[derive(Debug, Serialize)]
struct Release {
    policy: PolicyMode,
    canary_percent: u8,
    /// This machine's channel for the skill (`None` when the machine file is unusable).
    channel: Option<Channel>,
    frozen: bool,
    frozen_reason: String,
    /// The skill's candidate and its evidence so far, if it has one.
    candidate: Option<CandidateEvidence>,
}

/// A skill's [`Release`], or `None` when the registry does not answer.
fn release(reg: &mut dyn Registry, skill: &SkillRef, machine: Option<&Machine>) -> Option<Release> {
    let flags = reg.flags(skill).ok()?;
    Some(Release {
        policy: flags.policy,
        canary_percent: flags.canary_percent,
        channel: machine.map(|m| m.channel_for(flags.canary_percent)),
        frozen: flags.frozen,
        // The registry keeps the last reason given, an unfreeze's included.
        frozen_reason: if flags.frozen {
            flags.frozen_reason
        } else {
            String::new()
        },
        candidate: candidate_evidence(reg, skill).ok().flatten(),
    })
}

/// The human lines about a skill's freeze and candidate.
fn release_lines(r: &Release) -> Vec<String> {
    let mut lines = Vec::new();
    if r.frozen {
        lines.push(if r.frozen_reason.is_empty() {
            "frozen: no automatic edits".to_string()
        } else {
            format!(
                "frozen: no automatic edits ({})",
                super::one_line(&r.frozen_reason)
            )
        });
    }
    if let Some(c) = &r.candidate {
        lines.push(format!(
            "v{} candidate: {} of {} judged uses",
            c.version,
            c.judged,
            c.judged + c.needed
        ));
    }
    lines
}

#[derive(Debug, Serialize)]
struct Status {
    state_dir: String,
    /// This machine: its id, bucket (0–99) and channel choice.
    machine: Option<MachineView>,
    registry: String,
    registry_reachable: bool,
    registry_error: Option<String>,
    installed: Vec<Installed>,
    jobs: serde_json::Value,
    /// Event files waiting in the outbox (unreadable ones and webhook notices included).
    outbox: usize,
    /// Of those, files that do not parse (the next sync moves them aside).
    outbox_unreadable: usize,
    /// Of those, webhook notices (waiting for `SKILLOPT_WEBHOOK_URL`, not the registry).
    outbox_notices: usize,
    /// Events moved to `outbox/refused/`: the registry will never take them.
    outbox_refused: usize,
    last_sync_at: Option<String>,
    last_sync_error: Option<String>,
    /// The settings in effect: name, value (secrets redacted), source (variable or default).
    settings: Vec<Shown>,
    /// Open judgment windows: the next prompts of these sessions are judged.
    pending: Vec<PendingView>,
    /// The most recent jobs (newest first), with how each ended.
    recent_jobs: Vec<JobView>,
    /// This machine's agent calls today against its daily budget, and the circuit breaker.
    agent_calls: metered::Snapshot,
}

/// How many jobs `status` shows.
const RECENT_JOBS: usize = 20;

#[derive(Debug, Serialize)]
struct PendingView {
    session_id: Option<String>,
    skill: String,
    version: u32,
    tool_use_id: Option<String>,
    agent: String,
    armed_at: String,
    budget: u32,
}

#[derive(Debug, Serialize)]
struct JobView {
    id: String,
    kind: serde_json::Value,
    state: &'static str,
    skill: Option<String>,
    version: Option<u32>,
    reaction: Option<String>,
    reaction_turn: Option<u32>,
    result: Option<skillopt_state::jobs::JobResult>,
}

fn recent_jobs(q: &Queue) -> anyhow::Result<Vec<JobView>> {
    let mut all = Vec::new();
    for s in JobState::ALL {
        for j in q.list(s)? {
            all.push(JobView {
                kind: serde_json::to_value(j.kind)?,
                state: s.as_str(),
                skill: j.skill,
                version: j.version,
                reaction: j.reaction,
                reaction_turn: j.reaction_turn,
                result: j.result,
                id: j.id,
            });
        }
    }
    // ULIDs sort by creation time.
    all.sort_by(|a, b| b.id.cmp(&a.id));
    all.truncate(RECENT_JOBS);
    Ok(all)
}

pub fn run(paths: &Paths, settings: &Settings, args: Args) -> anyhow::Result<ExitCode> {
    let url = settings.registry_url()?;
    let (mut reg, reg_err) = match url.open() {
        Ok(r) => (Some(r), None),
        Err(e) => (None, Some(e.to_string())),
    };
    let manifest = Manifest::load(paths)?;
    // Status shows what it can: an unusable machine file is no reason to fail.
    let this_machine = machine::load(paths).ok();
    let installed = manifest
        .skills
        .iter()
        .map(|e| {
            let latest = reg
                .as_mut()
                .and_then(|r| e.skill_ref().and_then(|s| r.latest(&s).ok().flatten()))
                .map(|v| v.version);
            let mut missing = Vec::new();
            let mut edited = Vec::new();
            for p in &e.paths {
                // Never blocks on a FIFO or reads a device planted as SKILL.md.
                match read_regular(p, MAX_INSTALLED_BYTES) {
                    Ok(Some(b)) if sha256_hex(&b) != e.sha256 => {
                        edited.push(p.display().to_string())
                    }
                    Ok(Some(_)) => {}
                    Ok(None) => missing.push(p.display().to_string()),
                    Err(_) => edited.push(p.display().to_string()),
                }
            }
            Installed {
                skill: e.dir_name(),
                version: e.version,
                latest,
                paths: e.paths.iter().map(|p| p.display().to_string()).collect(),
                missing,
                hand_edited: edited,
                release: reg
                    .as_mut()
                    .zip(e.skill_ref())
                    .and_then(|(r, s)| release(r.as_mut(), &s, this_machine.as_ref())),
            }
        })
        .collect();
    let q = Queue::new(paths);
    let mut jobs = serde_json::Map::new();
    for s in JobState::ALL {
        let key = serde_json::to_value(s)?
            .as_str()
            .unwrap_or_default()
            .to_string();
        jobs.insert(key, q.ids(s)?.len().into());
    }
    jobs.insert("corrupt".into(), q.corrupt_count()?.into());
    let outbox_scan = outbox::events(paths)?;
    let marker = sync_marker::load(paths);
    let status = Status {
        state_dir: paths.state_dir.display().to_string(),
        machine: this_machine.as_ref().map(MachineView::from),
        registry: url.redacted(),
        registry_reachable: reg.is_some(),
        registry_error: reg_err,
        installed,
        jobs: jobs.into(),
        outbox: outbox_scan.events.len() + outbox_scan.unreadable.len(),
        outbox_unreadable: outbox_scan.unreadable.len(),
        outbox_notices: outbox_scan
            .events
            .iter()
            .filter(|e| !e.is_for_registry())
            .count(),
        outbox_refused: outbox::refused(paths)?,
        last_sync_at: marker.last_sync_at.map(|t| t.to_rfc3339()),
        last_sync_error: marker.last_error,
        settings: settings.shown(),
        pending: pending::open_windows(paths)
            .into_iter()
            .map(|w| PendingView {
                session_id: w.session_id,
                skill: w.skill,
                version: w.version,
                tool_use_id: w.tool_use_id,
                agent: w.agent,
                armed_at: w.armed_at,
                budget: w.budget,
            })
            .collect(),
        recent_jobs: recent_jobs(&q)?,
        agent_calls: metered::snapshot(paths, settings),
    };
    if args.json {
        super::print_json(&status)?;
        return Ok(ExitCode::SUCCESS);
    }
    println!("state:    {}", status.state_dir);
    match &status.registry_error {
        None => println!("registry: {}", status.registry),
        Some(e) => println!("registry: {} (unreachable: {e})", status.registry),
    }
    if let Some(m) = &status.machine {
        println!(
            "machine:  {} (bucket {}, channel {})",
            m.id,
            m.bucket,
            super::channel::choice_name(m.channel_choice)
        );
    }
    println!(
        "sync:     last {}{}",
        status.last_sync_at.as_deref().unwrap_or("never"),
        status
            .last_sync_error
            .as_deref()
            .map(|e| format!(" (last error: {e})"))
            .unwrap_or_default()
    );
    println!("jobs:     {}", status.jobs);
    if let Some(line) = status.agent_calls.warning() {
        println!("agent:    {line}");
    }
    println!(
        "outbox:   {} event(s) waiting for the registry{}{}",
        status.outbox - status.outbox_notices,
        if status.outbox_unreadable > 0 {
            format!(" ({} unreadable)", status.outbox_unreadable)
        } else {
            String::new()
        },
        if status.outbox_notices > 0 {
            format!(", {} webhook notice(s)", status.outbox_notices)
        } else {
            String::new()
        }
    );
    if status.outbox_refused > 0 {
        println!(
            "          {} event(s) refused by the registry, kept in {}",
            status.outbox_refused,
            outbox::refused_dir(paths).display()
        );
    }
    if let Some(n) = status.jobs.get("corrupt").and_then(|v| v.as_u64()) {
        if n > 0 {
            println!(
                "          {n} corrupt job file(s) moved aside, kept in {}",
                q.corrupt_dir().display()
            );
        }
    }
    if status.installed.is_empty() {
        println!("installed org skills: none (run `skillopt pull`)");
    } else {
        println!("installed org skills:");
        for i in &status.installed {
            let latest = match i.latest {
                Some(l) if l > i.version => format!(" (v{l} available: skillopt pull)"),
                _ => String::new(),
            };
            println!("  {} v{}{latest}", i.skill, i.version);
            for line in i.release.iter().flat_map(release_lines) {
                println!("    {line}");
            }
            for p in &i.hand_edited {
                println!("    edited by hand: {p}");
            }
            for p in &i.missing {
                println!("    missing: {p}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
