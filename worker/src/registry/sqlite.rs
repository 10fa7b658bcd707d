//! Embedded SQLite backend: one file (WAL mode), writers serialised by `BEGIN IMMEDIATE`, a
//! 30 s busy timeout so concurrent worker processes queue instead of failing.

use std::path::Path;
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use skillopt_shared::SkillRef;

use super::queries as q;
use super::tx::{result_fingerprint, RegistryTx};
use super::{publish, transition};
use super::{
    AttributionRow, Changeset, Event, NewVersion, OutcomeRow, Policy, Registry, RegistryError,
    Result, SkillFlags, SkillVersion, Transition, VersionSource, VersionStats, VersionStatus,
};

/// The SQLite registry.
pub struct SqliteRegistry {
    conn: Connection,
    path: std::path::PathBuf,
}

fn backend(e: rusqlite::Error) -> RegistryError {
    if let rusqlite::Error::SqliteFailure(f, _) = &e {
        if f.code == rusqlite::ErrorCode::ConstraintViolation {
            return RegistryError::Conflict(e.into());
        }
        if matches!(
            f.code,
            rusqlite::ErrorCode::CannotOpen | rusqlite::ErrorCode::DatabaseBusy
        ) {
            return RegistryError::Unreachable(e.into());
        }
    }
    RegistryError::Backend(e.into())
}

/// One write transaction, under `BEGIN IMMEDIATE` (the write lock is taken before anything is
/// read).
struct SqliteTx<'c>(rusqlite::Transaction<'c>);

impl SqliteTx<'_> {
    fn number(&self, sql: &str, p: &[&dyn rusqlite::ToSql]) -> Result<u32> {
        let n: i64 = self.0.query_row(sql, p, |r| r.get(0)).map_err(backend)?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }
}

impl RegistryTx for SqliteTx<'_> {
    fn lock_skill(&mut self, _skill: &SkillRef) -> Result<()> {
        // `BEGIN IMMEDIATE` holds the write lock of the whole database already.
        Ok(())
    }

    fn job_published(&mut self, job_id: &str) -> Result<bool> {
        Ok(self.number(q::JOB_PUBLISHED, params![job_id])? > 0)
    }

    fn max_version(&mut self, skill: &SkillRef) -> Result<u32> {
        self.number(q::MAX_VERSION, params![skill.name, skill.author])
    }

    fn head_version(&mut self, skill: &SkillRef) -> Result<u32> {
        self.number(q::HEAD_VERSION, params![skill.name, skill.author])
    }

    fn open_versions(&mut self, skill: &SkillRef) -> Result<Vec<u32>> {
        let mut st = self.0.prepare_cached(q::OPEN_VERSIONS).map_err(backend)?;
        let rows = st
            .query_map(params![skill.name, skill.author], |r| r.get::<_, i64>(0))
            .map_err(backend)?;
        rows.map(|v| v.map(|v| v as u32))
            .collect::<rusqlite::Result<_>>()
            .map_err(backend)
    }

    fn insert_version(&mut self, row: &SkillVersion) -> Result<()> {
        self.0
            .execute(
                q::INSERT_SKILL,
                params![
                    row.name,
                    row.author,
                    row.version,
                    row.body,
                    row.sha256,
                    row.status.as_str(),
                    row.parent_version,
                    row.source.as_str(),
                    row.created_by,
                    row.created_at
                ],
            )
            .map_err(backend)?;
        Ok(())
    }

    fn insert_changeset(&mut self, c: &Changeset, row: &SkillVersion) -> Result<()> {
        self.0
            .execute(
                q::INSERT_CHANGESET,
                params![
                    c.id,
                    row.name,
                    row.author,
                    row.version,
                    row.parent_version.unwrap_or(0),
                    c.fingerprint,
                    c.edits,
                    c.diff,
                    c.reason,
                    c.evidence,
                    c.job_id,
                    c.agent,
                    c.model,
                    c.contributor,
                    row.created_at,
                    c.verification,
                    c.machine
                ],
            )
            .map_err(backend)?;
        Ok(())
    }

    fn update_status(
        &mut self,
        skill: &SkillRef,
        version: u32,
        from: VersionStatus,
        to: VersionStatus,
    ) -> Result<bool> {
        let n = self
            .0
            .execute(
                q::UPDATE_STATUS,
                params![
                    to.as_str(),
                    skill.name,
                    skill.author,
                    version,
                    from.as_str()
                ],
            )
            .map_err(backend)?;
        Ok(n > 0)
    }

    fn version_fingerprints(&mut self, skill: &SkillRef, version: u32) -> Result<Vec<String>> {
        let row: Option<(Option<String>, String)> = self
            .0
            .query_row(
                q::VERSION_FINGERPRINTS,
                params![skill.name, skill.author, version],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(backend)?;
        Ok(row
            .map(|(edit, sha)| edit.into_iter().chain([result_fingerprint(&sha)]).collect())
            .unwrap_or_default())
    }

    fn insert_event(&mut self, e: &Event) -> Result<()> {
        self.0
            .execute(
                q::INSERT_EVENT,
                params![
                    e.id,
                    e.name,
                    e.author,
                    e.version,
                    e.kind.as_str(),
                    e.actor,
                    e.figures.to_string(),
                    e.created_at
                ],
            )
            .map_err(backend)?;
        Ok(())
    }

    fn insert_rejected(
        &mut self,
        skill: &SkillRef,
        fingerprint: &str,
        version: u32,
        reason: &str,
    ) -> Result<()> {
        self.0
            .execute(
                q::INSERT_REJECTED,
                params![
                    skill.name,
                    skill.author,
                    fingerprint,
                    version,
                    reason,
                    skillopt_state::now_rfc3339()
                ],
            )
            .map_err(backend)?;
        Ok(())
    }

    fn set_frozen(&mut self, skill: &SkillRef, frozen: bool, reason: &str) -> Result<()> {
        self.0
            .execute(
                q::SET_FROZEN,
                params![
                    skill.name,
                    skill.author,
                    frozen,
                    reason,
                    skillopt_state::now_rfc3339()
                ],
            )
            .map_err(backend)?;
        Ok(())
    }

    fn set_policy(&mut self, skill: &SkillRef, p: &Policy) -> Result<()> {
        self.0
            .execute(
                q::SET_POLICY,
                params![
                    skill.name,
                    skill.author,
                    p.mode.as_str(),
                    p.canary_percent,
                    p.promote_min_uses,
                    p.revert_min_failures,
                    skillopt_state::now_rfc3339()
                ],
            )
            .map_err(backend)?;
        Ok(())
    }

    fn commit(self) -> Result<()> {
        self.0.commit().map_err(backend)
    }
}

/// A text column holding one of an enum's stored names.
fn parsed<T>(r: &rusqlite::Row<'_>, idx: usize) -> rusqlite::Result<T>
where
    T: std::str::FromStr,
    T::Err: std::error::Error + Send + Sync + 'static,
{
    r.get::<_, String>(idx)?.parse().map_err(|e: T::Err| {
        rusqlite::Error::FromSqlConversionFailure(idx, rusqlite::types::Type::Text, Box::new(e))
    })
}

fn skill_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SkillVersion> {
    Ok(SkillVersion {
        name: r.get(0)?,
        author: r.get(1)?,
        version: r.get::<_, i64>(2)? as u32,
        body: r.get(3)?,
        sha256: r.get(4)?,
        status: parsed(r, 5)?,
        parent_version: r.get::<_, Option<i64>>(6)?.map(|v| v as u32),
        source: parsed(r, 7)?,
        created_by: r.get(8)?,
        created_at: r.get(9)?,
    })
}

fn changeset_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Changeset> {
    Ok(Changeset {
        id: r.get(0)?,
        name: r.get(1)?,
        author: r.get(2)?,
        version: r.get::<_, i64>(3)? as u32,
        parent_version: r.get::<_, i64>(4)? as u32,
        fingerprint: r.get(5)?,
        edits: r.get(6)?,
        diff: r.get(7)?,
        reason: r.get(8)?,
        evidence: r.get(9)?,
        job_id: r.get(10)?,
        agent: r.get(11)?,
        model: r.get(12)?,
        contributor: r.get(13)?,
        created_at: r.get(14)?,
        verification: r.get(15)?,
        machine: r.get(16)?,
    })
}

fn event_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Event> {
    Ok(Event {
        id: r.get(0)?,
        name: r.get(1)?,
        author: r.get(2)?,
        version: r.get::<_, i64>(3)? as u32,
        kind: parsed(r, 4)?,
        actor: r.get(5)?,
        figures: serde_json::from_str(&r.get::<_, String>(6)?).unwrap_or_default(),
        created_at: r.get(7)?,
    })
}

fn flags_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(String, String, SkillFlags)> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        SkillFlags {
            policy: parsed(r, 2)?,
            canary_percent: r.get::<_, i64>(3)?.clamp(0, 100) as u8,
            frozen: r.get(4)?,
            frozen_reason: r.get(5)?,
            promote_min_uses: r.get::<_, i64>(6)?.clamp(1, 10_000) as u32,
            revert_min_failures: r.get::<_, i64>(7)?.clamp(1, 10_000) as u32,
        },
    ))
}

fn outcome_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<OutcomeRow> {
    Ok(OutcomeRow {
        id: r.get(0)?,
        job_id: r.get(1)?,
        name: r.get(2)?,
        author: r.get(3)?,
        version: r.get::<_, i64>(4)? as u32,
        bucket: r.get::<_, i64>(5)? as u8,
        outcome: parsed(r, 6)?,
        skill_at_fault: r.get(7)?,
        confidence: r.get(8)?,
        reason: r.get(9)?,
        agent: r.get(10)?,
        model: r.get(11)?,
        judged_at: r.get(12)?,
    })
}

impl SqliteRegistry {
    /// Opens (creating the file and its directory) and migrates.
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            skillopt_state::fsutil::ensure_dir(dir)
                .map_err(|e| RegistryError::Unreachable(e.into()))?;
        }
        let conn = Connection::open(path).map_err(|e| RegistryError::Unreachable(e.into()))?;
        conn.busy_timeout(Duration::from_secs(30))
            .map_err(backend)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(backend)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(backend)?;
        let mut reg = Self {
            conn,
            path: path.to_path_buf(),
        };
        reg.migrate()?;
        Ok(reg)
    }

    fn migrate(&mut self) -> Result<()> {
        self.conn
            .execute_batch(
                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)",
            )
            .map_err(backend)?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(backend)?;
        for (version, sql) in q::SQLITE_MIGRATIONS {
            let done: Option<i64> = tx
                .query_row(
                    "SELECT version FROM schema_version WHERE version = $1",
                    params![version],
                    |r| r.get(0),
                )
                .optional()
                .map_err(backend)?;
            if done.is_none() {
                tx.execute_batch(sql).map_err(backend)?;
                tx.execute(
                    "INSERT INTO schema_version (version, applied_at) VALUES ($1, $2)",
                    params![version, skillopt_state::now_rfc3339()],
                )
                .map_err(backend)?;
            }
        }
        tx.commit().map_err(backend)
    }

    fn skills(&self, sql: &str, p: &[&dyn rusqlite::ToSql]) -> Result<Vec<SkillVersion>> {
        let mut st = self.conn.prepare_cached(sql).map_err(backend)?;
        let rows = st.query_map(p, skill_row).map_err(backend)?;
        rows.collect::<rusqlite::Result<_>>().map_err(backend)
    }

    fn count(&self, sql: &str, p: &[&dyn rusqlite::ToSql]) -> Result<i64> {
        self.conn.query_row(sql, p, |r| r.get(0)).map_err(backend)
    }

    fn tx(&mut self) -> Result<SqliteTx<'_>> {
        self.conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map(SqliteTx)
            .map_err(backend)
    }
}

impl Registry for SqliteRegistry {
    fn describe(&self) -> String {
        format!("sqlite://{}", self.path.display())
    }

    fn latest(&mut self, s: &SkillRef) -> Result<Option<SkillVersion>> {
        Ok(self.skills(q::LATEST, params![s.name, s.author])?.pop())
    }

    fn head(&mut self, s: &SkillRef) -> Result<Option<SkillVersion>> {
        Ok(self.skills(q::HEAD, params![s.name, s.author])?.pop())
    }

    fn version(&mut self, s: &SkillRef, version: u32) -> Result<Option<SkillVersion>> {
        Ok(self
            .skills(q::VERSION, params![s.name, s.author, version])?
            .pop())
    }

    fn history(&mut self, s: &SkillRef) -> Result<Vec<SkillVersion>> {
        self.skills(q::HISTORY, params![s.name, s.author])
    }

    fn all_latest_active(&mut self) -> Result<Vec<SkillVersion>> {
        self.skills(q::ALL_LATEST_ACTIVE, params![])
    }

    fn installable(&mut self) -> Result<Vec<SkillVersion>> {
        self.skills(q::INSTALLABLE, params![])
    }

    fn publish(&mut self, new: &NewVersion, cs: Option<&Changeset>) -> Result<SkillVersion> {
        publish::publish(self.tx()?, new, cs)
    }

    fn transition(&mut self, t: &Transition) -> Result<bool> {
        transition::transition(self.tx()?, t)
    }

    fn reject_fingerprint(&mut self, s: &SkillRef, fp: &str, reason: &str) -> Result<()> {
        transition::reject_fingerprint(self.tx()?, s, fp, reason)
    }

    fn events(&mut self, s: &SkillRef) -> Result<Vec<Event>> {
        let mut st = self.conn.prepare_cached(q::EVENTS).map_err(backend)?;
        let rows = st
            .query_map(params![s.name, s.author], event_row)
            .map_err(backend)?;
        rows.collect::<rusqlite::Result<_>>().map_err(backend)
    }

    fn changesets(&mut self, s: &SkillRef) -> Result<Vec<Changeset>> {
        let mut st = self.conn.prepare_cached(q::CHANGESETS).map_err(backend)?;
        let rows = st
            .query_map(params![s.name, s.author], changeset_row)
            .map_err(backend)?;
        rows.collect::<rusqlite::Result<_>>().map_err(backend)
    }

    fn changeset_for_job(&mut self, job_id: &str) -> Result<Option<Changeset>> {
        self.conn
            .query_row(q::CHANGESET_FOR_JOB, params![job_id], changeset_row)
            .optional()
            .map_err(backend)
    }

    fn fingerprint_exists(&mut self, s: &SkillRef, fp: &str) -> Result<bool> {
        Ok(self.count(q::FINGERPRINT_EXISTS, params![s.name, s.author, fp])? > 0)
    }

    fn versions_since(&mut self, s: &SkillRef, source: VersionSource, since: &str) -> Result<u32> {
        Ok(self.count(
            q::VERSIONS_SINCE,
            params![s.name, s.author, source.as_str(), since],
        )? as u32)
    }

    fn add_attribution(&mut self, a: &AttributionRow) -> Result<bool> {
        let n = self
            .conn
            .execute(
                q::INSERT_ATTRIBUTION,
                params![
                    a.session_hash,
                    a.bucket,
                    a.name,
                    a.author,
                    a.version,
                    a.agent,
                    a.started_at
                ],
            )
            .map_err(backend)?;
        Ok(n > 0)
    }

    fn add_outcome(&mut self, o: &OutcomeRow) -> Result<bool> {
        let n = self
            .conn
            .execute(
                q::INSERT_OUTCOME,
                params![
                    o.id,
                    o.job_id,
                    o.name,
                    o.author,
                    o.version,
                    o.bucket,
                    o.outcome.as_str(),
                    o.skill_at_fault,
                    o.confidence,
                    o.reason,
                    o.agent,
                    o.model,
                    o.judged_at
                ],
            )
            .map_err(backend)?;
        Ok(n > 0)
    }

    fn outcome_for_job(&mut self, job_id: &str) -> Result<Option<OutcomeRow>> {
        self.conn
            .query_row(q::OUTCOME_FOR_JOB, params![job_id], outcome_row)
            .optional()
            .map_err(backend)
    }

    fn outcomes(&mut self, s: &SkillRef) -> Result<Vec<OutcomeRow>> {
        let mut st = self.conn.prepare_cached(q::OUTCOMES).map_err(backend)?;
        let rows = st
            .query_map(params![s.name, s.author], outcome_row)
            .map_err(backend)?;
        // A row that does not read (an unknown outcome someone wrote) is left out, not fatal.
        Ok(rows
            .filter_map(|r| {
                r.map_err(|e| tracing::warn!(skill = %s, "outcome row skipped: {e}"))
                    .ok()
            })
            .collect())
    }

    fn stats(&mut self) -> Result<Vec<VersionStats>> {
        let mut st = self.conn.prepare_cached(q::STATS).map_err(backend)?;
        let rows = st
            .query_map([], |r| {
                Ok(VersionStats {
                    name: r.get(0)?,
                    author: r.get(1)?,
                    version: r.get::<_, i64>(2)? as u32,
                    sessions: r.get::<_, i64>(3)? as u64,
                    judged: r.get::<_, i64>(4)? as u64,
                    failures: r.get::<_, i64>(5)? as u64,
                    skill_failures: r.get::<_, i64>(6)? as u64,
                })
            })
            .map_err(backend)?;
        rows.collect::<rusqlite::Result<_>>().map_err(backend)
    }

    fn attributions(&mut self, s: &SkillRef) -> Result<Vec<AttributionRow>> {
        let mut st = self.conn.prepare_cached(q::ATTRIBUTIONS).map_err(backend)?;
        let rows = st
            .query_map(params![s.name, s.author], |r| {
                Ok(AttributionRow {
                    session_hash: r.get(0)?,
                    bucket: r.get::<_, i64>(1)? as u8,
                    name: r.get(2)?,
                    author: r.get(3)?,
                    version: r.get::<_, i64>(4)? as u32,
                    agent: r.get(5)?,
                    started_at: r.get(6)?,
                })
            })
            .map_err(backend)?;
        rows.collect::<rusqlite::Result<_>>().map_err(backend)
    }

    fn set_frozen(&mut self, s: &SkillRef, frozen: bool, reason: &str, actor: &str) -> Result<()> {
        transition::set_frozen(self.tx()?, s, frozen, reason, actor)
    }

    fn set_policy(&mut self, s: &SkillRef, policy: &Policy, actor: &str) -> Result<()> {
        transition::set_policy(self.tx()?, s, policy, actor)
    }

    fn flags(&mut self, s: &SkillRef) -> Result<SkillFlags> {
        Ok(self
            .conn
            .query_row(q::FLAGS, params![s.name, s.author], flags_row)
            .optional()
            .map_err(backend)?
            .map(|(_, _, f)| f)
            .unwrap_or_default())
    }

    fn all_flags(&mut self) -> Result<Vec<(String, String, SkillFlags)>> {
        let mut st = self.conn.prepare_cached(q::ALL_FLAGS).map_err(backend)?;
        let rows = st.query_map([], flags_row).map_err(backend)?;
        rows.collect::<rusqlite::Result<_>>().map_err(backend)
    }

    fn revision(&mut self) -> Result<Option<u64>> {
        let n = self.count(q::REVISION, &[])?;
        Ok(u64::try_from(n).ok())
    }
}

fn token_row(
    r: &rusqlite::Row<'_>,
) -> rusqlite::Result<(String, String, String, String, Option<String>)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

fn parse_token_row(
    (id, user, role, created_at, revoked_at): (String, String, String, String, Option<String>),
) -> Result<super::tokens::TokenRow> {
    Ok(super::tokens::TokenRow {
        id,
        user,
        role: role
            .parse()
            .map_err(|e: super::rows::UnknownValue| RegistryError::Backend(e.into()))?,
        created_at,
        revoked_at,
    })
}

impl super::tokens::Tokens for SqliteRegistry {
    fn add_token(&mut self, row: &super::tokens::TokenRow, sha256: &str) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO tokens (id, user_name, role, sha256, created_at) VALUES ($1, $2, $3, $4, $5)",
                params![row.id, row.user, row.role.as_str(), sha256, row.created_at],
            )
            .map(drop)
            .map_err(backend)
    }

    fn tokens(&mut self) -> Result<Vec<super::tokens::TokenRow>> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT id, user_name, role, created_at, revoked_at FROM tokens ORDER BY created_at, id",
            )
            .map_err(backend)?;
        let rows = st
            .query_map([], token_row)
            .map_err(backend)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(backend)?;
        rows.into_iter().map(parse_token_row).collect()
    }

    fn revoke_token(&mut self, id: &str, at: &str) -> Result<bool> {
        self.conn
            .execute(
                "UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
                params![at, id],
            )
            .map(|n| n == 1)
            .map_err(backend)
    }

    fn token_by_hash(&mut self, sha256: &str) -> Result<Option<super::tokens::TokenRow>> {
        self.conn
            .query_row(
                "SELECT id, user_name, role, created_at, revoked_at FROM tokens WHERE sha256 = $1",
                params![sha256],
                token_row,
            )
            .optional()
            .map_err(backend)?
            .map(parse_token_row)
            .transpose()
    }
}
