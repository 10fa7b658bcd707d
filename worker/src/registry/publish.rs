//! Publishing, written once for every backend: inside one transaction, a job publishes at most
//! once, the parent must still be the skill's head (its highest version that is not reverted),
//! the version row (numbered after every earlier one), its changeset and a `published` event are
//! inserted, and the transaction commits. A person's version (push, revert) also withdraws the
//! skill's open candidate or proposed versions: what a person publishes wins.

use serde_json::json;
use skillopt_shared::{sha256_hex, SkillRef};

use super::tx::RegistryTx;
use super::{
    Changeset, Event, EventKind, NewVersion, RegistryError, Result, SkillVersion, VersionSource,
    VersionStatus,
};

/// Publishes `new` (and its changeset) atomically on its parent.
pub(crate) fn publish(
    mut tx: impl RegistryTx,
    new: &NewVersion,
    changeset: Option<&Changeset>,
) -> Result<SkillVersion> {
    tx.lock_skill(&new.skill)?;
    let job = changeset.and_then(|c| c.job_id.as_deref());
    if let Some(job) = job {
        if tx.job_published(job)? {
            return Err(RegistryError::DuplicateJob(job.to_string()));
        }
    }
    let head = tx.head_version(&new.skill)?;
    if head != new.parent_version {
        return Err(RegistryError::Stale {
            skill: new.skill.clone(),
            head,
            parent: new.parent_version,
        });
    }
    let version = tx.max_version(&new.skill)? + 1;
    let row = SkillVersion {
        name: new.skill.name.clone(),
        author: new.skill.author.clone(),
        version,
        body: new.body.clone(),
        sha256: sha256_hex(&new.body),
        status: new.status,
        parent_version: (new.parent_version > 0).then_some(new.parent_version),
        source: new.source,
        created_by: new.created_by.clone(),
        created_at: skillopt_state::now_rfc3339(),
    };
    if new.source != VersionSource::Skillopt {
        withdraw_open(&mut tx, &new.skill, &row)?;
    }
    tx.insert_version(&row)?;
    if let Some(c) = changeset {
        tx.insert_changeset(c, &row).map_err(|e| match (e, job) {
            // The job-id unique key: another publisher of this job committed first.
            (RegistryError::Conflict(_), Some(job)) => RegistryError::DuplicateJob(job.into()),
            (other, _) => other,
        })?;
    }
    let mut figures = json!({
        "status": row.status.as_str(),
        "source": row.source.as_str(),
        "parent_version": new.parent_version,
    });
    if let Some(v) = changeset
        .map(|c| c.verification.as_str())
        .filter(|v| !v.is_empty())
        .and_then(|v| serde_json::from_str::<serde_json::Value>(v).ok())
    {
        figures["verification"] = v;
    }
    tx.insert_event(&Event::new(
        &new.skill,
        version,
        EventKind::Published,
        &new.created_by,
        figures,
    ))?;
    tx.commit()?;
    Ok(row)
}

/// A person's new version withdraws the candidates and proposals it replaces.
fn withdraw_open(tx: &mut impl RegistryTx, skill: &SkillRef, row: &SkillVersion) -> Result<()> {
    for v in tx.open_versions(skill)? {
        for from in [VersionStatus::Candidate, VersionStatus::Proposed] {
            if tx.update_status(skill, v, from, VersionStatus::Reverted)? {
                tx.insert_event(&Event::new(
                    skill,
                    v,
                    EventKind::Reverted,
                    &row.created_by,
                    json!({
                        "reason": format!("superseded by v{} ({})", row.version, row.source),
                        "was": from.as_str(),
                    }),
                ))?;
            }
        }
    }
    Ok(())
}
