//! SessionStart: record which org skills (and versions) the session has, with its bucket, and
//! ask for a sync when the last one is stale.
//!
//! This runs before every session, so it stays cheap: each installed copy's digest comes from
//! the manifest while the copy still carries the stamp recorded at install (no read, no hash),
//! and its writes are not fsynced (see `skillopt_state::fsutil::Durability`).

use skillopt_shared::{bucket, session_hash, HookPayload};
use skillopt_state::attribution::{self, AttributedSkill, Attribution};
use skillopt_state::jobs::{Job, JobKind, Queue};
use skillopt_state::manifest::Manifest;
use skillopt_state::outbox::{self, OutboxEvent};
use skillopt_state::{now_rfc3339, sync_marker};

use crate::{HookContext, HookError, HookResult};

/// The installed org skills whose files exist, with the digest of the installed copy.
pub fn inventory(manifest: &Manifest) -> Vec<AttributedSkill> {
    manifest
        .skills
        .iter()
        .filter_map(|e| {
            let (_, sha256) = manifest.installed_digest(e)?;
            Some(AttributedSkill {
                name: e.name.clone(),
                author: e.author.clone(),
                version: e.version,
                sha256,
            })
        })
        .collect()
}

/// The hook body.
pub fn handle(ctx: &HookContext, p: &HookPayload) -> HookResult {
    let paths = &ctx.paths;
    let sid = p.session_id.as_deref().ok_or(HookError::MissingField {
        context: "SessionStart ",
        field: "session_id",
    })?;
    let manifest = Manifest::load(paths)?;
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
    let stored = attribution::record(paths, fresh)?;
    if !stored.skills.is_empty() {
        outbox::put(paths, &OutboxEvent::attribution(&stored))?;
    }
    if sync_marker::claim_request(paths, ctx.sync_interval)? {
        let job = Job::new(JobKind::Sync);
        Queue::new(paths).enqueue(&job)?;
        crate::spawn::spawn_worker(&job.id)?;
    }
    Ok(())
}
