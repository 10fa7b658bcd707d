//! SQL shared by both backends. Placeholders are `$N` and first appear in numeric order, which
//! PostgreSQL reads natively and SQLite binds positionally.

pub const LATEST: &str = "SELECT name, author, version, body, sha256, status, parent_version, source, created_by, created_at FROM skills WHERE name = $1 AND author = $2 ORDER BY version DESC LIMIT 1";

pub const VERSION: &str = "SELECT name, author, version, body, sha256, status, parent_version, source, created_by, created_at FROM skills WHERE name = $1 AND author = $2 AND version = $3";

pub const HISTORY: &str = "SELECT name, author, version, body, sha256, status, parent_version, source, created_by, created_at FROM skills WHERE name = $1 AND author = $2 ORDER BY version";

pub const ALL_LATEST_ACTIVE: &str = "SELECT s.name, s.author, s.version, s.body, s.sha256, s.status, s.parent_version, s.source, s.created_by, s.created_at FROM skills s WHERE s.status = 'active' AND s.version = (SELECT MAX(t.version) FROM skills t WHERE t.name = s.name AND t.author = s.author AND t.status = 'active') ORDER BY s.name, s.author";

pub const MAX_VERSION: &str =
    "SELECT COALESCE(MAX(version), 0) FROM skills WHERE name = $1 AND author = $2";

/// The head: the highest version that is not reverted (what the next version is built on).
pub const HEAD: &str = "SELECT name, author, version, body, sha256, status, parent_version, source, created_by, created_at FROM skills WHERE name = $1 AND author = $2 AND status <> 'reverted' ORDER BY version DESC LIMIT 1";

pub const HEAD_VERSION: &str = "SELECT COALESCE(MAX(version), 0) FROM skills WHERE name = $1 AND author = $2 AND status <> 'reverted'";

/// Every version a machine may install: each skill's latest active version and any candidate
/// above it.
pub const INSTALLABLE: &str = "SELECT s.name, s.author, s.version, s.body, s.sha256, s.status, s.parent_version, s.source, s.created_by, s.created_at FROM skills s WHERE (s.status = 'active' AND s.version = (SELECT MAX(t.version) FROM skills t WHERE t.name = s.name AND t.author = s.author AND t.status = 'active')) OR (s.status = 'candidate' AND s.version > COALESCE((SELECT MAX(t.version) FROM skills t WHERE t.name = s.name AND t.author = s.author AND t.status = 'active'), 0)) ORDER BY s.name, s.author, s.version";

/// The versions of a skill still being decided on (candidate or proposed).
pub const OPEN_VERSIONS: &str = "SELECT version FROM skills WHERE name = $1 AND author = $2 AND status IN ('candidate', 'proposed') ORDER BY version";

pub const INSERT_SKILL: &str = "INSERT INTO skills (name, author, version, body, sha256, status, parent_version, source, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";

pub const UPDATE_STATUS: &str = "UPDATE skills SET status = $1 WHERE name = $2 AND author = $3 AND version = $4 AND status = $5";

/// A version's edit fingerprint (NULL without a changeset) and its body's sha256.
pub const VERSION_FINGERPRINTS: &str = "SELECT c.fingerprint, s.sha256 FROM skills s LEFT JOIN changesets c ON c.name = s.name AND c.author = s.author AND c.version = s.version WHERE s.name = $1 AND s.author = $2 AND s.version = $3";

pub const INSERT_EVENT: &str = "INSERT INTO events (id, name, author, version, kind, actor, figures, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING";

/// In the order they were recorded.
pub const EVENTS: &str = "SELECT id, name, author, version, kind, actor, figures, created_at FROM events WHERE name = $1 AND author = $2 ORDER BY seq";

pub const INSERT_REJECTED: &str = "INSERT INTO rejected_fingerprints (name, author, fingerprint, version, reason, created_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING";

pub const FLAGS: &str = "SELECT name, author, policy, canary_percent, frozen, frozen_reason, promote_min_uses, revert_min_failures FROM skill_flags WHERE name = $1 AND author = $2";

pub const ALL_FLAGS: &str = "SELECT name, author, policy, canary_percent, frozen, frozen_reason, promote_min_uses, revert_min_failures FROM skill_flags ORDER BY name, author";

pub const SET_POLICY: &str = "INSERT INTO skill_flags (name, author, policy, canary_percent, promote_min_uses, revert_min_failures, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (name, author) DO UPDATE SET policy = excluded.policy, canary_percent = excluded.canary_percent, promote_min_uses = excluded.promote_min_uses, revert_min_failures = excluded.revert_min_failures, updated_at = excluded.updated_at";

pub const JOB_PUBLISHED: &str = "SELECT COUNT(*) FROM changesets WHERE job_id = $1";

pub const INSERT_CHANGESET: &str = "INSERT INTO changesets (id, name, author, version, parent_version, fingerprint, edits, diff, reason, evidence, job_id, agent, model, contributor, created_at, verification, machine) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)";

pub const CHANGESETS: &str = "SELECT id, name, author, version, parent_version, fingerprint, edits, diff, reason, evidence, job_id, agent, model, contributor, created_at, verification, machine FROM changesets WHERE name = $1 AND author = $2 ORDER BY version";

pub const CHANGESET_FOR_JOB: &str = "SELECT id, name, author, version, parent_version, fingerprint, edits, diff, reason, evidence, job_id, agent, model, contributor, created_at, verification, machine FROM changesets WHERE job_id = $1";

/// A fingerprint already published (whatever became of it) or rejected.
pub const FINGERPRINT_EXISTS: &str = "SELECT (SELECT COUNT(*) FROM changesets WHERE name = $1 AND author = $2 AND fingerprint = $3) + (SELECT COUNT(*) FROM rejected_fingerprints WHERE name = $1 AND author = $2 AND fingerprint = $3)";

pub const VERSIONS_SINCE: &str = "SELECT COUNT(*) FROM skills WHERE name = $1 AND author = $2 AND source = $3 AND created_at >= $4";

pub const INSERT_ATTRIBUTION: &str = "INSERT INTO attributions (session_hash, bucket, name, author, version, agent, started_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING";

pub const ATTRIBUTIONS: &str = "SELECT session_hash, bucket, name, author, version, agent, started_at FROM attributions WHERE name = $1 AND author = $2 ORDER BY started_at, session_hash";

pub const INSERT_OUTCOME: &str = "INSERT INTO outcomes (id, job_id, name, author, version, bucket, outcome, skill_at_fault, confidence, reason, agent, model, judged_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT DO NOTHING";

pub const OUTCOMES: &str = "SELECT id, job_id, name, author, version, bucket, outcome, skill_at_fault, confidence, reason, agent, model, judged_at FROM outcomes WHERE name = $1 AND author = $2 ORDER BY judged_at, id";

pub const OUTCOME_FOR_JOB: &str = "SELECT id, job_id, name, author, version, bucket, outcome, skill_at_fault, confidence, reason, agent, model, judged_at FROM outcomes WHERE job_id = $1";

/// Per version: sessions attributed, uses judged, failures, skill-at-fault failures.
pub const STATS: &str = "SELECT s.name, s.author, s.version, \
 (SELECT COUNT(*) FROM attributions a WHERE a.name = s.name AND a.author = s.author AND a.version = s.version), \
 (SELECT COUNT(*) FROM outcomes o WHERE o.name = s.name AND o.author = s.author AND o.version = s.version AND o.outcome <> 'unclear'), \
 (SELECT COUNT(*) FROM outcomes o WHERE o.name = s.name AND o.author = s.author AND o.version = s.version AND o.outcome = 'failure'), \
 (SELECT COUNT(*) FROM outcomes o WHERE o.name = s.name AND o.author = s.author AND o.version = s.version AND o.outcome = 'failure' AND o.skill_at_fault) \
 FROM skills s ORDER BY s.name, s.author, s.version";

pub const SET_FROZEN: &str = "INSERT INTO skill_flags (name, author, frozen, frozen_reason, updated_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name, author) DO UPDATE SET frozen = excluded.frozen, frozen_reason = excluded.frozen_reason, updated_at = excluded.updated_at";

/// Migrations: (version, SQL) per backend, applied in order, recorded in `schema_version`.
pub const SQLITE_MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../migrations/sqlite/0001_init.sql")),
    (2, include_str!("../../migrations/sqlite/0002_evidence.sql")),
    (3, include_str!("../../migrations/sqlite/0003_tokens.sql")),
    (4, include_str!("../../migrations/sqlite/0004_revision.sql")),
];
pub const POSTGRES_MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../migrations/postgres/0001_init.sql")),
    (
        2,
        include_str!("../../migrations/postgres/0002_evidence.sql"),
    ),
    (3, include_str!("../../migrations/postgres/0003_tokens.sql")),
    (
        4,
        include_str!("../../migrations/postgres/0004_revision.sql"),
    ),
];

/// The registry's revision (migration 0004).
pub const REVISION: &str = "SELECT revision FROM registry_revision WHERE id = 1";
