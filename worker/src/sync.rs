//! Sync: pull every org skill's latest version, then upload the outbox. Each outbox event is
//! removed only after the registry accepted it, and the registry's unique keys turn a re-upload
//! (after a crash between the two) into a no-op, so each event lands exactly once.

use serde::Serialize;
use skillopt_state::outbox::{self, Event};
use skillopt_state::{sync_marker, Paths};

use crate::install_skill::{self, InstallReport};
use crate::registry::{self, AttributionRow, OutcomeRow, Registry};

/// What a sync did.
#[derive(Debug, Default, Serialize)]
pub struct SyncReport {
    pub installs: Vec<InstallReport>,
    pub uploaded: usize,
    pub already_there: usize,
    pub left_in_outbox: usize,
}

/// Pulls (or plans, with `dry_run`) the latest active version of every org skill.
pub fn pull(
    paths: &Paths,
    reg: &mut dyn Registry,
    dry_run: bool,
) -> anyhow::Result<Vec<InstallReport>> {
    let mut out = Vec::new();
    for sv in reg.all_latest_active()? {
        // One bad row is reported by name; every other skill still installs.
        let report = install_skill::install(paths, &sv, dry_run)
            .unwrap_or_else(|e| install_skill::skipped(&sv, &e));
        out.push(report);
    }
    Ok(out)
}

fn upload_event(reg: &mut dyn Registry, e: &Event) -> anyhow::Result<bool> {
    match e.kind.as_str() {
        "attribution" => {
            let p = &e.payload;
            let s = |k: &str| {
                p.get(k)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string()
            };
            let mut inserted = false;
            for skill in p
                .get("skills")
                .and_then(|v| v.as_array())
                .into_iter()
                .flatten()
            {
                let row = AttributionRow {
                    session_hash: s("session_hash"),
                    bucket: p.get("bucket").and_then(|v| v.as_u64()).unwrap_or(0) as u8,
                    name: skill
                        .get("name")
                        .and_then(|v| v.as_str())
                        .unwrap_or_default()
                        .into(),
                    author: skill
                        .get("author")
                        .and_then(|v| v.as_str())
                        .unwrap_or_default()
                        .into(),
                    version: skill.get("version").and_then(|v| v.as_u64()).unwrap_or(0) as u32,
                    agent: s("agent"),
                    started_at: s("started_at"),
                };
                inserted |= reg.add_attribution(&row)?;
            }
            Ok(inserted)
        }
        "outcome" => {
            let row: OutcomeRow = serde_json::from_value(e.payload.clone())?;
            Ok(reg.add_outcome(&row)?)
        }
        other => anyhow::bail!("unknown outbox event kind {other:?}"),
    }
}

/// Uploads every outbox event; stops at the first registry error (the rest stay queued).
pub fn upload_outbox(
    paths: &Paths,
    reg: &mut dyn Registry,
    report: &mut SyncReport,
) -> anyhow::Result<()> {
    for e in outbox::list(paths)? {
        match upload_event(reg, &e) {
            Ok(true) => report.uploaded += 1,
            Ok(false) => report.already_there += 1,
            Err(err) => {
                if err.downcast_ref::<registry::RegistryError>().is_some() {
                    report.left_in_outbox = outbox::list(paths)?.len();
                    return Err(err);
                }
                tracing::warn!(key = %e.key, "dropping malformed outbox event: {err:#}");
            }
        }
        outbox::remove(paths, &e.key)?;
    }
    report.left_in_outbox = outbox::list(paths)?.len();
    Ok(())
}

/// Queues an event, then tries to deliver the whole outbox right away (best effort).
pub fn record_event(
    paths: &Paths,
    reg: Option<&mut (dyn Registry + '_)>,
    event: Event,
) -> anyhow::Result<bool> {
    outbox::put(paths, &event)?;
    let Some(reg) = reg else { return Ok(false) };
    let mut report = SyncReport::default();
    Ok(upload_outbox(paths, reg, &mut report).is_ok())
}

/// The sync job: pull + upload. The marker records success or the error.
pub fn run(paths: &Paths) -> anyhow::Result<SyncReport> {
    let result = (|| {
        let mut reg = registry::open(paths)?;
        let mut report = SyncReport {
            installs: pull(paths, reg.as_mut(), false)?,
            ..Default::default()
        };
        upload_outbox(paths, reg.as_mut(), &mut report)?;
        Ok::<_, anyhow::Error>(report)
    })();
    let _ = sync_marker::record_sync(paths, result.as_ref().err().map(|e| format!("{e:#}")));
    result
}
