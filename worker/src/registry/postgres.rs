//! PostgreSQL backend for teams (`SKILLOPT_REGISTRY=postgres://…`).
//!
//! An optional `schema=<ident>` query parameter (skillopt's own, stripped before connecting)
//! puts every table in that schema, created on first use; tests use it to isolate runs.
//! Migrations run under a transaction-scoped advisory lock so concurrent first connections
//! migrate once.
//!
//! Nothing waits forever: the whole connection handshake (TCP, startup, authentication) must
//! finish within `connect_timeout` (5 s unless the URL sets one), so a server that accepts and
//! never answers is reported as unreachable; every session then runs with
//! `statement_timeout` [`STATEMENT_TIMEOUT`] and `lock_timeout` [`LOCK_TIMEOUT`] (unless the URL's
//! `options` set them), so a held lock or a stuck query ends in a clear error within seconds.
//! Rows PostgreSQL refuses for their content (SQLSTATE classes 22 and 23, e.g. a NUL byte in
//! text) are [`RegistryError::Refused`]: the caller drops that row, not the connection.

use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use postgres::error::SqlState;
use postgres::types::ToSql;
use postgres::{Client, NoTls, Row, Statement};
use skillopt_shared::SkillRef;

use super::queries as q;
use super::tx::{result_fingerprint, RegistryTx};
use super::{publish, transition};
use super::{
    AttributionRow, Cause, Changeset, Event, NewVersion, OutcomeRow, Policy, Registry,
    RegistryError, Result, SkillFlags, SkillVersion, Transition, VersionSource, VersionStats,
    VersionStatus,
};

/// Server-side limit on any one statement. skillopt's queries take milliseconds; this only ends
/// a stuck one.
pub const STATEMENT_TIMEOUT: Duration = Duration::from_secs(15);
/// Server-side limit on waiting for a lock (a row, a table, the migration advisory lock).
/// Migrations and publishes hold locks for milliseconds.
pub const LOCK_TIMEOUT: Duration = Duration::from_secs(5);
/// Handshake limit when the URL sets no `connect_timeout`.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Advisory lock key for schema creation and migrations ("skillopt" in ASCII, truncated).
const MIGRATION_LOCK: i64 = 0x0073_6b69_6c6c_6f70;

/// The PostgreSQL registry.
pub struct PgRegistry {
    client: Client,
    described: String,
    /// Statements prepared on this connection, by their SQL: a query then costs one round trip
    /// instead of two (parse and describe, then bind and execute). The SQL is skillopt's own
    /// constants, so the map stays a few dozen entries.
    statements: HashMap<String, Statement>,
}

fn pg_err(e: postgres::Error) -> RegistryError {
    if let Some(db) = e.as_db_error() {
        let code = db.code().clone();
        let limit = |what, limit| Cause::Limit {
            what,
            limit,
            message: db.message().to_string(),
        };
        if code == SqlState::UNIQUE_VIOLATION {
            return RegistryError::Conflict(e.into());
        }
        if code == SqlState::LOCK_NOT_AVAILABLE {
            return RegistryError::Unreachable(limit("lock wait", LOCK_TIMEOUT));
        }
        if code == SqlState::QUERY_CANCELED {
            return RegistryError::Unreachable(limit("statement", STATEMENT_TIMEOUT));
        }
        let server = Cause::Server {
            message: db.message().to_string(),
            code: code.code().to_string(),
        };
        // Class 22 (data exception: NUL bytes, bad encoding, out-of-range values) and 23
        // (integrity violations): this row can never be stored.
        if code.code().starts_with("22") || code.code().starts_with("23") {
            return RegistryError::Refused(server);
        }
        return RegistryError::Backend(server);
    }
    if e.is_closed() || std::error::Error::source(&e).is_some_and(|s| s.is::<std::io::Error>()) {
        return RegistryError::Unreachable(e.into());
    }
    RegistryError::Backend(e.into())
}

/// Splits skillopt's `schema=` parameter off a URL.
fn split_schema(url: &str) -> Result<(String, Option<String>)> {
    let Some((base, query)) = url.split_once('?') else {
        return Ok((url.to_string(), None));
    };
    let mut schema = None;
    let mut rest = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.strip_prefix("schema=") {
            Some(s) => schema = Some(s.to_string()),
            None => rest.push(pair),
        }
    }
    if let Some(s) = &schema {
        let ok = !s.is_empty()
            && s.len() <= 63
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            && !s.as_bytes()[0].is_ascii_digit();
        if !ok {
            return Err(RegistryError::BadUrl {
                url: format!("schema={s:?}"),
                why: "the schema must be [a-z_][a-z0-9_]*",
            });
        }
    }
    let url = if rest.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", rest.join("&"))
    };
    Ok((url, schema))
}

/// One write transaction. Two publishers on one parent both insert the same primary key: one
/// commits, the other's insert fails with a unique violation (a conflict). A status change
/// updates only from the expected status, so the row lock lets one of two racing machines
/// change it and the other finds nothing to do.
struct PgTx<'c>(postgres::Transaction<'c>);

impl PgTx<'_> {
    fn number(&mut self, sql: &str, p: &[&(dyn ToSql + Sync)]) -> Result<u32> {
        let row = self.0.query_one(sql, p).map_err(pg_err)?;
        // COUNT is BIGINT, MAX(version) INTEGER.
        let n = row
            .try_get::<_, i64>(0)
            .or_else(|_| row.try_get::<_, i32>(0).map(i64::from))
            .map_err(pg_err)?;
        Ok(u32::try_from(n).unwrap_or(0))
    }
}

impl RegistryTx for PgTx<'_> {
    fn lock_skill(&mut self, skill: &SkillRef) -> Result<()> {
        // Held until commit or rollback. Without it, a publisher could read the highest version
        // after another one committed and number its own version past it on a stale head.
        self.0
            .execute(
                "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
                &[&format!("skillopt-skill:{}", skill.dir_name())],
            )
            .map_err(pg_err)?;
        Ok(())
    }

    fn job_published(&mut self, job_id: &str) -> Result<bool> {
        Ok(self.number(q::JOB_PUBLISHED, &[&job_id])? > 0)
    }

    fn max_version(&mut self, skill: &SkillRef) -> Result<u32> {
        self.number(q::MAX_VERSION, &[&skill.name, &skill.author])
    }

    fn head_version(&mut self, skill: &SkillRef) -> Result<u32> {
        self.number(q::HEAD_VERSION, &[&skill.name, &skill.author])
    }

    fn open_versions(&mut self, skill: &SkillRef) -> Result<Vec<u32>> {
        Ok(self
            .0
            .query(q::OPEN_VERSIONS, &[&skill.name, &skill.author])
            .map_err(pg_err)?
            .iter()
            .map(|r| r.get::<_, i32>(0) as u32)
            .collect())
    }

    fn insert_version(&mut self, row: &SkillVersion) -> Result<()> {
        let parent: Option<i32> = row.parent_version.map(v32);
        self.0
            .execute(
                q::INSERT_SKILL,
                &[
                    &row.name,
                    &row.author,
                    &v32(row.version),
                    &row.body,
                    &row.sha256,
                    &row.status.as_str(),
                    &parent,
                    &row.source.as_str(),
                    &row.created_by,
                    &row.created_at,
                ],
            )
            .map_err(pg_err)?;
        Ok(())
    }

    fn insert_changeset(&mut self, c: &Changeset, row: &SkillVersion) -> Result<()> {
        self.0
            .execute(
                q::INSERT_CHANGESET,
                &[
                    &c.id,
                    &row.name,
                    &row.author,
                    &v32(row.version),
                    &v32(row.parent_version.unwrap_or(0)),
                    &c.fingerprint,
                    &c.edits,
                    &c.diff,
                    &c.reason,
                    &c.evidence,
                    &c.job_id,
                    &c.agent,
                    &c.model,
                    &c.contributor,
                    &row.created_at,
                    &c.verification,
                    &c.machine,
                ],
            )
            .map_err(pg_err)?;
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
                &[
                    &to.as_str(),
                    &skill.name,
                    &skill.author,
                    &v32(version),
                    &from.as_str(),
                ],
            )
            .map_err(pg_err)?;
        Ok(n > 0)
    }

    fn version_fingerprints(&mut self, skill: &SkillRef, version: u32) -> Result<Vec<String>> {
        Ok(self
            .0
            .query_opt(
                q::VERSION_FINGERPRINTS,
                &[&skill.name, &skill.author, &v32(version)],
            )
            .map_err(pg_err)?
            .map(|r| {
                let edit: Option<String> = r.get(0);
                let sha: String = r.get(1);
                edit.into_iter().chain([result_fingerprint(&sha)]).collect()
            })
            .unwrap_or_default())
    }

    fn insert_event(&mut self, e: &Event) -> Result<()> {
        self.0
            .execute(
                q::INSERT_EVENT,
                &[
                    &e.id,
                    &e.name,
                    &e.author,
                    &v32(e.version),
                    &e.kind.as_str(),
                    &e.actor,
                    &e.figures.to_string(),
                    &e.created_at,
                ],
            )
            .map_err(pg_err)?;
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
                &[
                    &skill.name,
                    &skill.author,
                    &fingerprint,
                    &v32(version),
                    &reason,
                    &skillopt_state::now_rfc3339(),
                ],
            )
            .map_err(pg_err)?;
        Ok(())
    }

    fn set_frozen(&mut self, skill: &SkillRef, frozen: bool, reason: &str) -> Result<()> {
        self.0
            .execute(
                q::SET_FROZEN,
                &[
                    &skill.name,
                    &skill.author,
                    &frozen,
                    &reason,
                    &skillopt_state::now_rfc3339(),
                ],
            )
            .map_err(pg_err)?;
        Ok(())
    }

    fn set_policy(&mut self, skill: &SkillRef, p: &Policy) -> Result<()> {
        self.0
            .execute(
                q::SET_POLICY,
                &[
                    &skill.name,
                    &skill.author,
                    &p.mode.as_str(),
                    &i32::from(p.canary_percent),
                    &i32::try_from(p.promote_min_uses).unwrap_or(i32::MAX),
                    &i32::try_from(p.revert_min_failures).unwrap_or(i32::MAX),
                    &skillopt_state::now_rfc3339(),
                ],
            )
            .map_err(pg_err)?;
        Ok(())
    }

    fn commit(self) -> Result<()> {
        self.0.commit().map_err(pg_err)
    }
}

/// A text column holding one of an enum's stored names.
fn parsed<T>(r: &Row, idx: usize) -> Result<T>
where
    T: std::str::FromStr,
    T::Err: Into<Cause>,
{
    r.get::<_, String>(idx)
        .parse()
        .map_err(|e: T::Err| RegistryError::Backend(e.into()))
}

fn skill_row(r: &Row) -> Result<SkillVersion> {
    Ok(SkillVersion {
        name: r.get(0),
        author: r.get(1),
        version: r.get::<_, i32>(2) as u32,
        body: r.get(3),
        sha256: r.get(4),
        status: parsed(r, 5)?,
        parent_version: r.get::<_, Option<i32>>(6).map(|v| v as u32),
        source: parsed(r, 7)?,
        created_by: r.get(8),
        created_at: r.get(9),
    })
}

fn changeset_row(r: &Row) -> Changeset {
    Changeset {
        id: r.get(0),
        name: r.get(1),
        author: r.get(2),
        version: r.get::<_, i32>(3) as u32,
        parent_version: r.get::<_, i32>(4) as u32,
        fingerprint: r.get(5),
        edits: r.get(6),
        diff: r.get(7),
        reason: r.get(8),
        evidence: r.get(9),
        job_id: r.get(10),
        agent: r.get(11),
        model: r.get(12),
        contributor: r.get(13),
        created_at: r.get(14),
        verification: r.get(15),
        machine: r.get(16),
    }
}

fn event_row(r: &Row) -> Result<Event> {
    Ok(Event {
        id: r.get(0),
        name: r.get(1),
        author: r.get(2),
        version: r.get::<_, i32>(3) as u32,
        kind: parsed(r, 4)?,
        actor: r.get(5),
        figures: serde_json::from_str(r.get::<_, &str>(6)).unwrap_or_default(),
        created_at: r.get(7),
    })
}

fn flags_row(r: &Row) -> Result<(String, String, SkillFlags)> {
    Ok((
        r.get(0),
        r.get(1),
        SkillFlags {
            policy: parsed(r, 2)?,
            canary_percent: r.get::<_, i32>(3).clamp(0, 100) as u8,
            frozen: r.get(4),
            frozen_reason: r.get(5),
            promote_min_uses: r.get::<_, i32>(6).clamp(1, 10_000) as u32,
            revert_min_failures: r.get::<_, i32>(7).clamp(1, 10_000) as u32,
        },
    ))
}

fn outcome_row(r: &Row) -> Result<OutcomeRow> {
    Ok(OutcomeRow {
        id: r.get(0),
        job_id: r.get(1),
        name: r.get(2),
        author: r.get(3),
        version: r.get::<_, i32>(4) as u32,
        bucket: r.get::<_, i32>(5) as u8,
        outcome: parsed(r, 6)?,
        skill_at_fault: r.get(7),
        confidence: r.get(8),
        reason: r.get(9),
        agent: r.get(10),
        model: r.get(11),
        judged_at: r.get(12),
    })
}

fn v32(v: u32) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

impl PgRegistry {
    /// Connects (the whole handshake within `connect_timeout`, 5 s unless the URL sets one),
    /// sets the session's timeouts, selects the schema, migrates.
    pub fn connect(url: &str) -> Result<Self> {
        let (conn_url, schema) = split_schema(url)?;
        let described = super::redact_password(url);
        let mut config =
            postgres::Config::from_str(&conn_url).map_err(|source| RegistryError::BadConfig {
                url: described.clone(),
                source,
            })?;
        let handshake = *config.get_connect_timeout().unwrap_or(&CONNECT_TIMEOUT);
        config.connect_timeout(handshake);
        let options = config.get_options().unwrap_or_default().to_string();
        let mut set = String::new();
        if !options.contains("statement_timeout") {
            set += &format!("SET statement_timeout = {};", STATEMENT_TIMEOUT.as_millis());
        }
        if !options.contains("lock_timeout") {
            set += &format!("SET lock_timeout = {};", LOCK_TIMEOUT.as_millis());
        }
        // postgres' own connect_timeout covers the TCP connect only: a server that accepts and
        // never answers the startup message would hang here forever. The handshake runs on a
        // thread and is abandoned (the process is short-lived) when it overruns.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("pg-connect".into())
            .spawn(move || {
                let r = config.connect(NoTls).and_then(|mut c| {
                    if !set.is_empty() {
                        c.batch_execute(&set)?;
                    }
                    Ok(c)
                });
                let _ = tx.send(r);
            })
            .map_err(|e| RegistryError::Unreachable(Cause::Thread(e)))?;
        let client = match rx.recv_timeout(handshake + Duration::from_millis(500)) {
            Ok(Ok(c)) => c,
            // A refused login or a missing database is the server's answer, with its message,
            // not "unreachable" (which would only defer work for ever).
            Ok(Err(e)) => return Err(pg_err(e)),
            Err(_) => {
                return Err(RegistryError::Unreachable(Cause::NoAnswer {
                    target: described,
                    limit: handshake,
                }))
            }
        };
        let mut reg = Self {
            client,
            described,
            statements: HashMap::new(),
        };
        reg.migrate(schema.as_deref())?;
        Ok(reg)
    }

    fn migrate(&mut self, schema: Option<&str>) -> Result<()> {
        let mut tx = self.client.transaction().map_err(pg_err)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .map_err(pg_err)?;
        if let Some(s) = schema {
            tx.batch_execute(&format!(
                "CREATE SCHEMA IF NOT EXISTS {s}; SET search_path TO {s}"
            ))
            .map_err(pg_err)?;
        }
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT PRIMARY KEY, applied_at TEXT NOT NULL)",
        )
        .map_err(pg_err)?;
        for (version, sql) in q::POSTGRES_MIGRATIONS {
            let done = tx
                .query_opt(
                    "SELECT version FROM schema_version WHERE version = $1",
                    &[version],
                )
                .map_err(pg_err)?;
            if done.is_none() {
                tx.batch_execute(sql).map_err(pg_err)?;
                tx.execute(
                    "INSERT INTO schema_version (version, applied_at) VALUES ($1, $2)",
                    &[version, &skillopt_state::now_rfc3339()],
                )
                .map_err(pg_err)?;
            }
        }
        tx.commit().map_err(pg_err)?;
        if let Some(s) = schema {
            // `SET` inside the committed transaction persists for the session; repeat it for
            // clarity should the transaction semantics ever change.
            self.client
                .batch_execute(&format!("SET search_path TO {s}"))
                .map_err(pg_err)?;
        }
        Ok(())
    }

    /// `sql` prepared on this connection (once).
    fn prepared(&mut self, sql: &str) -> Result<Statement> {
        if let Some(st) = self.statements.get(sql) {
            return Ok(st.clone());
        }
        let st = self.client.prepare(sql).map_err(pg_err)?;
        self.statements.insert(sql.to_string(), st.clone());
        Ok(st)
    }

    fn rows(&mut self, sql: &str, p: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>> {
        let st = self.prepared(sql)?;
        self.client.query(&st, p).map_err(pg_err)
    }

    fn count(&mut self, sql: &str, p: &[&(dyn ToSql + Sync)]) -> Result<i64> {
        let st = self.prepared(sql)?;
        Ok(self.client.query_one(&st, p).map_err(pg_err)?.get(0))
    }

    fn tx(&mut self) -> Result<PgTx<'_>> {
        self.client.transaction().map(PgTx).map_err(pg_err)
    }
}

impl Registry for PgRegistry {
    fn describe(&self) -> String {
        self.described.clone()
    }

    fn latest(&mut self, s: &SkillRef) -> Result<Option<SkillVersion>> {
        self.rows(q::LATEST, &[&s.name, &s.author])?
            .first()
            .map(skill_row)
            .transpose()
    }

    fn head(&mut self, s: &SkillRef) -> Result<Option<SkillVersion>> {
        self.rows(q::HEAD, &[&s.name, &s.author])?
            .first()
            .map(skill_row)
            .transpose()
    }

    fn version(&mut self, s: &SkillRef, version: u32) -> Result<Option<SkillVersion>> {
        self.rows(q::VERSION, &[&s.name, &s.author, &v32(version)])?
            .first()
            .map(skill_row)
            .transpose()
    }

    fn history(&mut self, s: &SkillRef) -> Result<Vec<SkillVersion>> {
        self.rows(q::HISTORY, &[&s.name, &s.author])?
            .iter()
            .map(skill_row)
            .collect()
    }

    fn all_latest_active(&mut self) -> Result<Vec<SkillVersion>> {
        self.rows(q::ALL_LATEST_ACTIVE, &[])?
            .iter()
            .map(skill_row)
            .collect()
    }

    fn installable(&mut self) -> Result<Vec<SkillVersion>> {
        self.rows(q::INSTALLABLE, &[])?
            .iter()
            .map(skill_row)
            .collect()
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
        self.rows(q::EVENTS, &[&s.name, &s.author])?
            .iter()
            .map(event_row)
            .collect()
    }

    fn changesets(&mut self, s: &SkillRef) -> Result<Vec<Changeset>> {
        Ok(self
            .rows(q::CHANGESETS, &[&s.name, &s.author])?
            .iter()
            .map(changeset_row)
            .collect())
    }

    fn changeset_for_job(&mut self, job_id: &str) -> Result<Option<Changeset>> {
        Ok(self
            .rows(q::CHANGESET_FOR_JOB, &[&job_id])?
            .first()
            .map(changeset_row))
    }

    fn fingerprint_exists(&mut self, s: &SkillRef, fp: &str) -> Result<bool> {
        Ok(self.count(q::FINGERPRINT_EXISTS, &[&s.name, &s.author, &fp])? > 0)
    }

    fn versions_since(&mut self, s: &SkillRef, source: VersionSource, since: &str) -> Result<u32> {
        Ok(self.count(
            q::VERSIONS_SINCE,
            &[&s.name, &s.author, &source.as_str(), &since],
        )? as u32)
    }

    fn add_attribution(&mut self, a: &AttributionRow) -> Result<bool> {
        let n = self
            .client
            .execute(
                q::INSERT_ATTRIBUTION,
                &[
                    &a.session_hash,
                    &i32::from(a.bucket),
                    &a.name,
                    &a.author,
                    &v32(a.version),
                    &a.agent,
                    &a.started_at,
                ],
            )
            .map_err(pg_err)?;
        Ok(n > 0)
    }

    fn add_outcome(&mut self, o: &OutcomeRow) -> Result<bool> {
        let n = self
            .client
            .execute(
                q::INSERT_OUTCOME,
                &[
                    &o.id,
                    &o.job_id,
                    &o.name,
                    &o.author,
                    &v32(o.version),
                    &i32::from(o.bucket),
                    &o.outcome.as_str(),
                    &o.skill_at_fault,
                    &o.confidence,
                    &o.reason,
                    &o.agent,
                    &o.model,
                    &o.judged_at,
                ],
            )
            .map_err(pg_err)?;
        Ok(n > 0)
    }

    fn outcome_for_job(&mut self, job_id: &str) -> Result<Option<OutcomeRow>> {
        self.rows(q::OUTCOME_FOR_JOB, &[&job_id])?
            .first()
            .map(outcome_row)
            .transpose()
    }

    fn outcomes(&mut self, s: &SkillRef) -> Result<Vec<OutcomeRow>> {
        // A row that does not read (an unknown outcome someone wrote) is left out, not fatal.
        Ok(self
            .rows(q::OUTCOMES, &[&s.name, &s.author])?
            .iter()
            .filter_map(|r| {
                outcome_row(r)
                    .map_err(|e| tracing::warn!(skill = %s, "outcome row skipped: {e}"))
                    .ok()
            })
            .collect())
    }

    fn stats(&mut self) -> Result<Vec<VersionStats>> {
        Ok(self
            .rows(q::STATS, &[])?
            .iter()
            .map(|r| VersionStats {
                name: r.get(0),
                author: r.get(1),
                version: r.get::<_, i32>(2) as u32,
                sessions: r.get::<_, i64>(3) as u64,
                judged: r.get::<_, i64>(4) as u64,
                failures: r.get::<_, i64>(5) as u64,
                skill_failures: r.get::<_, i64>(6) as u64,
            })
            .collect())
    }

    fn attributions(&mut self, s: &SkillRef) -> Result<Vec<AttributionRow>> {
        Ok(self
            .rows(q::ATTRIBUTIONS, &[&s.name, &s.author])?
            .iter()
            .map(|r| AttributionRow {
                session_hash: r.get(0),
                bucket: r.get::<_, i32>(1) as u8,
                name: r.get(2),
                author: r.get(3),
                version: r.get::<_, i32>(4) as u32,
                agent: r.get(5),
                started_at: r.get(6),
            })
            .collect())
    }

    fn set_frozen(&mut self, s: &SkillRef, frozen: bool, reason: &str, actor: &str) -> Result<()> {
        transition::set_frozen(self.tx()?, s, frozen, reason, actor)
    }

    fn set_policy(&mut self, s: &SkillRef, policy: &Policy, actor: &str) -> Result<()> {
        transition::set_policy(self.tx()?, s, policy, actor)
    }

    fn flags(&mut self, s: &SkillRef) -> Result<SkillFlags> {
        Ok(self
            .rows(q::FLAGS, &[&s.name, &s.author])?
            .first()
            .map(flags_row)
            .transpose()?
            .map(|(_, _, f)| f)
            .unwrap_or_default())
    }

    fn all_flags(&mut self) -> Result<Vec<(String, String, SkillFlags)>> {
        self.rows(q::ALL_FLAGS, &[])?
            .iter()
            .map(flags_row)
            .collect()
    }

    fn revision(&mut self) -> Result<Option<u64>> {
        let n = self.count(q::REVISION, &[])?;
        Ok(u64::try_from(n).ok())
    }
}

fn token_row(r: &Row) -> Result<super::tokens::TokenRow> {
    Ok(super::tokens::TokenRow {
        id: r.get(0),
        user: r.get(1),
        role: parsed(r, 2)?,
        created_at: r.get(3),
        revoked_at: r.get(4),
    })
}

impl super::tokens::Tokens for PgRegistry {
    fn add_token(&mut self, row: &super::tokens::TokenRow, sha256: &str) -> Result<()> {
        self.client
            .execute(
                "INSERT INTO tokens (id, user_name, role, sha256, created_at) VALUES ($1, $2, $3, $4, $5)",
                &[&row.id, &row.user, &row.role.as_str(), &sha256, &row.created_at],
            )
            .map(drop)
            .map_err(pg_err)
    }

    fn tokens(&mut self) -> Result<Vec<super::tokens::TokenRow>> {
        self.rows(
            "SELECT id, user_name, role, created_at, revoked_at FROM tokens ORDER BY created_at, id",
            &[],
        )?
        .iter()
        .map(token_row)
        .collect()
    }

    fn revoke_token(&mut self, id: &str, at: &str) -> Result<bool> {
        self.client
            .execute(
                "UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
                &[&at, &id],
            )
            .map(|n| n == 1)
            .map_err(pg_err)
    }

    fn token_by_hash(&mut self, sha256: &str) -> Result<Option<super::tokens::TokenRow>> {
        self.rows(
            "SELECT id, user_name, role, created_at, revoked_at FROM tokens WHERE sha256 = $1",
            &[&sha256],
        )?
        .first()
        .map(token_row)
        .transpose()
    }
}
