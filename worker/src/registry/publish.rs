//! Publishing, written once for every backend: inside one transaction, a job publishes at most
//! once, the parent must still be the latest version, then the version row and its changeset
//! are inserted and the transaction commits. A backend only provides the transaction
//! ([`PublishTx`]); an HTTP-backed registry can implement the same steps server-side.

use skillopt_shared::{sha256_hex, SkillRef};

use super::{Changeset, NewVersion, RegistryError, Result, SkillVersion, VersionStatus};

/// The steps of one publish transaction. Dropping it without [`PublishTx::commit`] rolls back.
pub(crate) trait PublishTx {
    /// True when a changeset of this job exists.
    fn job_published(&mut self, job_id: &str) -> Result<bool>;
    /// The highest version of the skill (0 when it has none).
    fn latest_version(&mut self, skill: &SkillRef) -> Result<u32>;
    /// Inserts a version row.
    fn insert_version(&mut self, row: &SkillVersion) -> Result<()>;
    /// Inserts the changeset of `row` (its name, author, versions and time come from `row`).
    fn insert_changeset(&mut self, changeset: &Changeset, row: &SkillVersion) -> Result<()>;
    /// Makes it all visible at once.
    fn commit(self) -> Result<()>;
}

/// Publishes `new` (and its changeset) atomically on its parent.
pub(crate) fn publish(
    mut tx: impl PublishTx,
    new: &NewVersion,
    changeset: Option<&Changeset>,
) -> Result<SkillVersion> {
    let job = changeset.and_then(|c| c.job_id.as_deref());
    if let Some(job) = job {
        if tx.job_published(job)? {
            return Err(RegistryError::DuplicateJob(job.to_string()));
        }
    }
    let latest = tx.latest_version(&new.skill)?;
    if latest != new.parent_version {
        return Err(RegistryError::Conflict(format!(
            "{} is at v{latest}, not v{}",
            new.skill, new.parent_version
        )));
    }
    let row = SkillVersion {
        name: new.skill.name.clone(),
        author: new.skill.author.clone(),
        version: new.parent_version + 1,
        body: new.body.clone(),
        sha256: sha256_hex(&new.body),
        status: VersionStatus::Active,
        parent_version: (new.parent_version > 0).then_some(new.parent_version),
        source: new.source,
        created_by: new.created_by.clone(),
        created_at: skillopt_state::now_rfc3339(),
    };
    tx.insert_version(&row)?;
    if let Some(c) = changeset {
        tx.insert_changeset(c, &row).map_err(|e| match (e, job) {
            // The job-id unique key: another publisher of this job committed first.
            (RegistryError::Conflict(_), Some(job)) => RegistryError::DuplicateJob(job.into()),
            (other, _) => other,
        })?;
    }
    tx.commit()?;
    Ok(row)
}
