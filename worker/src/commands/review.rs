//! `skillopt review list|show|approve|reject`: the people's side of the `review` policy.
//!
//! A verified automatic edit of a skill under `review` is published as `proposed` and installed
//! nowhere. `list` shows every proposed version of every skill (and every candidate: a version
//! still being decided on); `show` its diff, the judge's reason and evidence, the verifier's
//! result and its events; `approve` makes a proposed version a `candidate` (canary machines
//! install it, and the evidence promotes or reverts it); `reject` reverts a proposed or
//! candidate version and records its edit's fingerprint as rejected, so no machine proposes it
//! again. Each decision is one registry transaction with its event (`approved` / `rejected`,
//! the user as actor, the note cleaned of control characters); a version not in the expected
//! status is refused with nothing changed. Registry text is untrusted: it is printed escaped.
//!
//! Each decision sends a webhook notice (see `crate::webhook`; delivery waits at most
//! `CLI_BUDGET`, then is left to the next sync): `approve` a `published` notice with status
//! `candidate` (the version now reaches canary machines: published, for the channel's
//! purposes), `reject` a `reverted` one.

use std::collections::BTreeSet;
use std::process::ExitCode;

use anyhow::Context;
use serde::Serialize;
use serde_json::{json, Value};
use skillopt_shared::text::for_terminal;
use skillopt_shared::verdict::clean;
use skillopt_shared::SkillRef;
use skillopt_state::Paths;

use super::{one_line, resolve_known_skill};
use crate::registry::{
    Changeset, Event, EventKind, Registry, SkillVersion, Transition, VersionSource, VersionStatus,
};
use crate::settings::Settings;
use crate::webhook::{self, Notice, NoticeKind};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Every proposed version of every skill, and every candidate.
    List {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// One version: its diff, the judge's reason and evidence, the verifier's result, events.
    Show(Target),
    /// Make a proposed version a candidate (canary machines install it; the evidence decides).
    Approve(Decision),
    /// Revert a proposed or candidate version; its edit is never proposed again.
    Reject(Decision),
}

#[derive(Debug, clap::Args)]
pub struct Target {
    /// `name--author` (or a unique bare name).
    pub skill: String,
    /// The version number.
    #[arg(value_name = "VERSION")]
    pub number: u32,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct Decision {
    /// `name--author` (or a unique bare name).
    pub skill: String,
    /// The version number.
    #[arg(value_name = "VERSION")]
    pub number: u32,
    /// Why (recorded with the event).
    #[arg(long, default_value = "")]
    pub note: String,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

/// One open version, as `review list` shows it.
#[derive(Debug, Serialize)]
struct Open {
    skill: String,
    version: u32,
    status: VersionStatus,
    parent_version: Option<u32>,
    created_at: String,
    created_by: String,
    /// The judge's reason from the version's changeset (empty without one).
    reason: String,
}

/// One event, as `review show` and `log` show it.
#[derive(Debug, Serialize)]
pub(crate) struct EventView {
    pub kind: EventKind,
    pub actor: String,
    pub figures: Value,
    pub created_at: String,
}

impl From<&Event> for EventView {
    fn from(e: &Event) -> Self {
        Self {
            kind: e.kind,
            actor: e.actor.clone(),
            figures: e.figures.clone(),
            created_at: e.created_at.clone(),
        }
    }
}

/// One version, as `review show` shows it.
#[derive(Debug, Serialize)]
struct Shown {
    skill: String,
    version: u32,
    status: VersionStatus,
    source: VersionSource,
    parent_version: Option<u32>,
    created_at: String,
    created_by: String,
    diff: String,
    reason: String,
    evidence: String,
    /// The verifier's result (`{"prevents_failure", "breaks", "windows_checked", "reason"}`),
    /// `null` when none ran, the raw text when it is not JSON.
    verification: Value,
    changeset: Option<Changeset>,
    events: Vec<EventView>,
}

/// What `approve`/`reject --json` prints.
#[derive(Debug, Serialize)]
struct Decided {
    skill: String,
    version: u32,
    from: VersionStatus,
    to: VersionStatus,
    event: EventKind,
}

pub fn run(paths: &Paths, settings: &Settings, command: Command) -> anyhow::Result<ExitCode> {
    let mut reg = settings.open_existing_registry()?;
    match command {
        Command::List { json } => list(reg.as_mut(), json),
        Command::Show(t) => show(reg.as_mut(), t),
        Command::Approve(d) => decide(reg.as_mut(), paths, settings, d, true),
        Command::Reject(d) => decide(reg.as_mut(), paths, settings, d, false),
    }
}

/// Every skill the registry knows (with a valid name), sorted.
fn all_skills(reg: &mut dyn Registry) -> anyhow::Result<Vec<SkillRef>> {
    let mut names = BTreeSet::new();
    for v in reg
        .all_latest_active()?
        .into_iter()
        .chain(reg.installable()?)
    {
        if let Ok(r) = v.skill_ref() {
            names.insert(r.dir_name());
        }
    }
    for (name, author, _) in reg.all_flags()? {
        if let Ok(r) = SkillRef::new(&name, &author) {
            names.insert(r.dir_name());
        }
    }
    Ok(names
        .iter()
        .filter_map(|n| SkillRef::parse(n).ok())
        .collect())
}

fn list(reg: &mut dyn Registry, json: bool) -> anyhow::Result<ExitCode> {
    let mut open = Vec::new();
    for skill in all_skills(reg)? {
        let versions: Vec<SkillVersion> = reg
            .history(&skill)?
            .into_iter()
            .filter(|v| v.status.is_open())
            .collect();
        if versions.is_empty() {
            continue;
        }
        let changesets = reg.changesets(&skill)?;
        for v in versions {
            open.push(Open {
                skill: skill.dir_name(),
                version: v.version,
                status: v.status,
                parent_version: v.parent_version,
                reason: changesets
                    .iter()
                    .find(|c| c.version == v.version)
                    .map(|c| c.reason.clone())
                    .unwrap_or_default(),
                created_at: v.created_at,
                created_by: v.created_by,
            });
        }
    }
    if json {
        super::print_json(&open)?;
        return Ok(ExitCode::SUCCESS);
    }
    if open.is_empty() {
        println!("nothing to review: no proposed or candidate versions");
        return Ok(ExitCode::SUCCESS);
    }
    for o in &open {
        println!(
            "{} v{:<3} {:<9} {}  {}",
            one_line(&o.skill),
            o.version,
            o.status.as_str(),
            one_line(&o.created_at),
            one_line(&o.reason)
        );
    }
    if open.iter().any(|o| o.status == VersionStatus::Proposed) {
        println!("(skillopt review show|approve|reject <skill> <version>)");
    }
    Ok(ExitCode::SUCCESS)
}

/// The version, or a one-line error naming the skill's versions.
fn version_of(reg: &mut dyn Registry, skill: &SkillRef, n: u32) -> anyhow::Result<SkillVersion> {
    let latest = reg.latest(skill)?.map(|v| v.version).unwrap_or(0);
    reg.version(skill, n)?
        .with_context(|| format!("{skill} has no v{n} (latest is v{latest})"))
}

fn show(reg: &mut dyn Registry, t: Target) -> anyhow::Result<ExitCode> {
    let skill = resolve_known_skill(reg, &t.skill)?;
    let v = version_of(reg, &skill, t.number)?;
    let changeset = reg
        .changesets(&skill)?
        .into_iter()
        .find(|c| c.version == v.version);
    let diff = match (&changeset, v.parent_version) {
        (Some(c), _) if !c.diff.is_empty() => c.diff.clone(),
        (_, Some(p)) if p > 0 => match reg.version(&skill, p)? {
            Some(parent) => {
                crate::unified_diff::between_versions(&skill, p, &parent.body, v.version, &v.body)
            }
            None => String::new(),
        },
        _ => String::new(),
    };
    let verification = match changeset.as_ref().map(|c| c.verification.trim()) {
        None | Some("") => Value::Null,
        Some(text) => serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.into())),
    };
    let events = reg
        .events(&skill)?
        .iter()
        .filter(|e| e.version == v.version)
        .map(EventView::from)
        .collect();
    let shown = Shown {
        skill: skill.dir_name(),
        version: v.version,
        status: v.status,
        source: v.source,
        parent_version: v.parent_version,
        created_at: v.created_at,
        created_by: v.created_by,
        diff,
        reason: changeset
            .as_ref()
            .map(|c| c.reason.clone())
            .unwrap_or_default(),
        evidence: changeset
            .as_ref()
            .map(|c| c.evidence.clone())
            .unwrap_or_default(),
        verification,
        changeset,
        events,
    };
    if t.json {
        super::print_json(&shown)?;
        return Ok(ExitCode::SUCCESS);
    }
    print_shown(&shown);
    Ok(ExitCode::SUCCESS)
}

fn print_shown(s: &Shown) {
    println!(
        "{} v{} ({}, {} by {}, {})",
        s.skill,
        s.version,
        s.status,
        s.source,
        one_line(&s.created_by),
        one_line(&s.created_at)
    );
    if !s.reason.is_empty() {
        println!("reason:    {}", one_line(&s.reason));
    }
    if !s.evidence.is_empty() {
        println!("evidence:  {}", one_line(&s.evidence));
    }
    match &s.verification {
        Value::Null => println!("verifier:  none ran"),
        Value::Object(o) => {
            let prevents = match o.get("prevents_failure").and_then(Value::as_bool) {
                Some(true) => "prevents the failure",
                Some(false) => "does not prevent the failure",
                None => "no answer on the failure",
            };
            let checked = o
                .get("windows_checked")
                .and_then(Value::as_u64)
                .unwrap_or(0);
            let breaks = o
                .get("breaks")
                .and_then(Value::as_array)
                .map(|a| a.len())
                .unwrap_or(0);
            println!(
                "verifier:  {prevents}; {checked} earlier success(es) checked, {breaks} broken"
            );
            if let Some(r) = o.get("reason").and_then(Value::as_str) {
                if !r.is_empty() {
                    println!("           {}", one_line(r));
                }
            }
        }
        other => println!("verifier:  {}", one_line(&other.to_string())),
    }
    for e in &s.events {
        println!(
            "event:     {} {} by {} {}",
            one_line(&e.created_at),
            e.kind,
            one_line(&e.actor),
            one_line(&e.figures.to_string())
        );
    }
    if s.diff.is_empty() {
        println!("(no diff)");
    } else {
        println!();
        print!("{}", for_terminal(&s.diff, true));
        if !s.diff.ends_with('\n') {
            println!();
        }
    }
}

fn decide(
    reg: &mut dyn Registry,
    paths: &Paths,
    settings: &Settings,
    d: Decision,
    approve: bool,
) -> anyhow::Result<ExitCode> {
    let skill = resolve_known_skill(reg, &d.skill)?;
    let v = version_of(reg, &skill, d.number)?;
    let (from, to, kind, expected) = if approve {
        (
            vec![VersionStatus::Proposed],
            VersionStatus::Candidate,
            EventKind::Approved,
            "proposed",
        )
    } else {
        (
            vec![VersionStatus::Proposed, VersionStatus::Candidate],
            VersionStatus::Reverted,
            EventKind::Rejected,
            "proposed or candidate",
        )
    };
    if !from.contains(&v.status) {
        anyhow::bail!(
            "{skill} v{} is {}, not {expected}: nothing changed",
            v.version,
            v.status
        );
    }
    let note = clean(&d.note);
    let t = Transition {
        skill: skill.clone(),
        version: v.version,
        from,
        to,
        event: Event::new(
            &skill,
            v.version,
            kind,
            &settings.user.value,
            json!({ "note": note, "from": v.status.as_str() }),
        ),
        reject_fingerprint: !approve,
        freeze: None,
    };
    if !reg.transition(&t)? {
        let now = reg
            .version(&skill, v.version)?
            .map(|v| v.status.as_str())
            .unwrap_or("gone");
        anyhow::bail!(
            "{skill} v{} became {now} meanwhile, not {expected}: nothing changed",
            v.version
        );
    }
    // Once per version (a version is approved or rejected once): the notice's key is the
    // event's. An approved version now reaches canary machines, which is what `published`
    // announces for an automatic edit; a rejected one is withdrawn.
    let (notice, verb) = if approve {
        (NoticeKind::Published, "approved")
    } else {
        (NoticeKind::Reverted, "rejected")
    };
    let why = format!(
        "{verb} by {}{}",
        settings.user.value,
        if note.is_empty() {
            String::new()
        } else {
            format!(": {note}")
        }
    );
    webhook::notify_briefly(
        paths,
        settings,
        Notice::new(
            notice,
            &skill,
            v.version,
            to.as_str(),
            &why,
            json!({ "from": v.status.as_str(), "decision": verb }),
        ),
    );
    if d.json {
        super::print_json(&Decided {
            skill: skill.dir_name(),
            version: v.version,
            from: v.status,
            to,
            event: kind,
        })?;
        return Ok(ExitCode::SUCCESS);
    }
    if approve {
        println!(
            "{skill} v{}: approved; now a candidate (canary machines install it at their next sync, the evidence promotes or reverts it)",
            v.version
        );
    } else {
        println!(
            "{skill} v{}: rejected; reverted, and its edit will not be proposed again",
            v.version
        );
    }
    Ok(ExitCode::SUCCESS)
}
