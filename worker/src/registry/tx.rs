//! The registry's write transaction as a small trait: the steps every multi-row change is made
//! of. Each backend implements it once (SQLite under `BEGIN IMMEDIATE`, PostgreSQL in a
//! transaction whose unique keys and row locks settle races); the changes themselves
//! ([`super::publish`], [`super::transition`]) are written once over it, so an HTTP-backed
//! registry can run the same steps server-side.

use skillopt_shared::SkillRef;

use super::{Changeset, Event, Policy, Result, SkillVersion, VersionStatus};

/// The fingerprint of a SKILL.md body an edit produces: a rejected result stays rejected
/// whatever edit list (target, op, case) would produce it again.
pub(crate) fn result_fingerprint(body_sha256: &str) -> String {
    format!("result:{body_sha256}")
}

/// The steps of one write transaction. Dropping it without [`RegistryTx::commit`] rolls back.
pub(crate) trait RegistryTx {
    /// Serialises writers of one skill until the transaction ends: what is read next (the head,
    /// the highest version) stays true until commit. SQLite's `BEGIN IMMEDIATE` already holds
    /// the database's write lock; PostgreSQL takes a transaction-scoped advisory lock.
    fn lock_skill(&mut self, skill: &SkillRef) -> Result<()>;
    /// True when a changeset of this job exists.
    fn job_published(&mut self, job_id: &str) -> Result<bool>;
    /// The highest version of the skill, whatever its status (0 when it has none).
    fn max_version(&mut self, skill: &SkillRef) -> Result<u32>;
    /// The highest version that is not reverted (0 when none).
    fn head_version(&mut self, skill: &SkillRef) -> Result<u32>;
    /// Versions that are candidate or proposed, oldest first.
    fn open_versions(&mut self, skill: &SkillRef) -> Result<Vec<u32>>;
    /// Inserts a version row.
    fn insert_version(&mut self, row: &SkillVersion) -> Result<()>;
    /// Inserts the changeset of `row` (its name, author, versions and time come from `row`).
    fn insert_changeset(&mut self, changeset: &Changeset, row: &SkillVersion) -> Result<()>;
    /// Sets a version's status if it is `from` now; true when it changed.
    fn update_status(
        &mut self,
        skill: &SkillRef,
        version: u32,
        from: VersionStatus,
        to: VersionStatus,
    ) -> Result<bool>;
    /// What identifies `version`'s change for the rejected list: the edit fingerprint of the
    /// changeset that made it (if any) and [`result_fingerprint`] of its body.
    fn version_fingerprints(&mut self, skill: &SkillRef, version: u32) -> Result<Vec<String>>;
    /// Appends an event (an event with the same id is already there: nothing happens).
    fn insert_event(&mut self, event: &Event) -> Result<()>;
    /// Records a fingerprint as rejected (idempotent).
    fn insert_rejected(
        &mut self,
        skill: &SkillRef,
        fingerprint: &str,
        version: u32,
        reason: &str,
    ) -> Result<()>;
    /// Freezes (with a reason) or unfreezes automatic edits.
    fn set_frozen(&mut self, skill: &SkillRef, frozen: bool, reason: &str) -> Result<()>;
    /// Sets the release policy.
    fn set_policy(&mut self, skill: &SkillRef, policy: &Policy) -> Result<()>;
    /// Makes it all visible at once.
    fn commit(self) -> Result<()>;
}
