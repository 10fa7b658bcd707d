//! SessionStart: record which org skills (and versions) the session has, with its bucket, and
//! ask for a sync when the last one is stale.

use skillopt_shared::{bucket, config, session_hash, sha256_hex, HookPayload};
use skillopt_state::attribution::{self, AttributedSkill, Attribution};
use skillopt_state::jobs::{Job, JobKind, Queue};
use skillopt_state::manifest::Manifest;
use skillopt_state::outbox::{self, OutboxEvent};
use skillopt_state::{now_rfc3339, sync_marker, Paths};

use crate::HookResult;

/// The installed org skills whose files exist, with the digest of the installed copy.
pub fn inventory(manifest: &Manifest) -> Vec<AttributedSkill> {
    manifest
        .skills
        .iter()
        .filter_map(|e| {
            let path = e.existing_paths().next()?;
            let bytes = std::fs::read(path).ok()?;
            Some(AttributedSkill {
                name: e.name.clone(),
                author: e.author.clone(),
                version: e.version,
                sha256: sha256_hex(&bytes),
            })
        })
        .collect()
}

/// The hook body.
pub fn handle(paths: &Paths, p: &HookPayload) -> HookResult {
    let sid = p
        .session_id
        .as_deref()
        .ok_or("SessionStart payload without session_id")?;
    let manifest = Manifest::load(paths).map_err(|e| e.to_string())?;
    let now = now_rfc3339();
    let fresh = Attribution {
        session_id: sid.to_string(),
        session_hash: session_hash(sid),
        bucket: bucket(sid),
        agent: p.agent().as_str().to_string(),
        source: p.source.clone().unwrap_or_else(|| "startup".into()),
        started_at: now.clone(),
        updated_at: now.clone(),
        skills: inventory(&manifest),
    };
    let stored = attribution::record(paths, fresh).map_err(|e| e.to_string())?;
    if !stored.skills.is_empty() {
        let event = OutboxEvent::attribution(&stored);
        outbox::put(paths, &event).map_err(|e| e.to_string())?;
    }
    if sync_marker::claim_request(paths, config::sync_interval()).map_err(|e| e.to_string())? {
        let job = Job::new(JobKind::Sync);
        Queue::new(paths).enqueue(&job).map_err(|e| e.to_string())?;
        crate::spawn::spawn_worker(&job.id)?;
    }
    Ok(())
}
