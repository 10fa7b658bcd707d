//! The org registry: versions, changesets, attribution and outcomes behind one trait, with an
//! embedded SQLite backend (default) and a PostgreSQL backend for teams.
//!
//! Selected by the `registry` setting (`SKILLOPT_REGISTRY`: `sqlite:///path` | `postgres://…`);
//! the default is `<data dir>/registry.sqlite3`. The schema is created and migrated on open; there is never an
//! in-memory fallback. Publishing is atomic on the parent version: it succeeds only while the
//! parent is the latest version, so of N concurrent publishers exactly one wins and the others
//! get [`RegistryError::Conflict`].

#[cfg(test)]
mod conformance;
mod postgres;
pub(crate) mod queries;
mod sqlite;

use serde::Serialize;
use skillopt_shared::SkillRef;

/// Registry failures callers tell apart.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// The parent is no longer the latest version (someone published first).
    #[error("conflict: {0}")]
    Conflict(String),
    /// This job already published a version.
    #[error("job {0} already published a version")]
    DuplicateJob(String),
    /// The registry cannot be reached now (or did not answer in time); try again later.
    #[error("registry unreachable: {0}")]
    Unreachable(String),
    /// The registry refused this row for its content (PostgreSQL: a data exception or an
    /// integrity violation, e.g. a NUL byte in text). Retrying the same row cannot succeed.
    #[error("registry refused the row: {0}")]
    Refused(String),
    #[error("registry error: {0}")]
    Backend(String),
    #[error("bad registry URL {0:?}: expected sqlite:///path or postgres://…")]
    BadUrl(String),
}

/// Result alias.
pub type Result<T, E = RegistryError> = std::result::Result<T, E>;

/// One stored version of a skill.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SkillVersion {
    pub name: String,
    pub author: String,
    pub version: u32,
    pub body: String,
    pub sha256: String,
    pub status: String,
    pub parent_version: Option<u32>,
    pub source: String,
    pub created_by: String,
    pub created_at: String,
}

impl SkillVersion {
    /// The identity, validated: a registry row is untrusted, and a name an agent cannot load
    /// (or that could leave the skill roots) never becomes a directory.
    pub fn skill_ref(&self) -> Result<SkillRef, skillopt_shared::skill_ref::RefError> {
        SkillRef::new(&self.name, &self.author)
    }
}

/// A version to publish on top of `parent_version` (0 = a new skill).
#[derive(Debug, Clone)]
pub struct NewVersion {
    pub skill: SkillRef,
    pub parent_version: u32,
    pub body: String,
    /// `push` | `skillopt` | `revert`.
    pub source: String,
    pub created_by: String,
}

/// Why a version exists (skillopt edits and reverts carry one).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Changeset {
    pub id: String,
    pub name: String,
    pub author: String,
    pub version: u32,
    pub parent_version: u32,
    pub fingerprint: String,
    /// JSON array of edits.
    pub edits: String,
    pub diff: String,
    pub reason: String,
    pub evidence: String,
    pub job_id: Option<String>,
    pub agent: String,
    pub model: String,
    pub contributor: String,
    pub created_at: String,
}

impl Changeset {
    /// A changeset for the version after `parent`, details empty for the caller to fill in.
    pub fn next(skill: &SkillRef, parent: u32) -> Self {
        Self {
            id: ulid::Ulid::new().to_string(),
            name: skill.name.clone(),
            author: skill.author.clone(),
            version: parent + 1,
            parent_version: parent,
            fingerprint: String::new(),
            edits: "[]".into(),
            diff: String::new(),
            reason: String::new(),
            evidence: String::new(),
            job_id: None,
            agent: "-".into(),
            model: "-".into(),
            contributor: String::new(),
            created_at: String::new(),
        }
    }
}

/// One session that had one skill version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AttributionRow {
    pub session_hash: String,
    pub bucket: u8,
    pub name: String,
    pub author: String,
    pub version: u32,
    pub agent: String,
    pub started_at: String,
}

/// One judged use of a skill version.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct OutcomeRow {
    pub id: String,
    pub job_id: String,
    pub name: String,
    pub author: String,
    pub version: u32,
    pub bucket: u8,
    pub outcome: String,
    pub skill_at_fault: bool,
    pub confidence: f64,
    pub reason: String,
    pub agent: String,
    pub model: String,
    pub judged_at: String,
}

/// Measured value of one skill version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VersionStats {
    pub name: String,
    pub author: String,
    pub version: u32,
    pub sessions: u64,
    pub judged: u64,
    pub failures: u64,
    pub skill_failures: u64,
}

impl VersionStats {
    /// Skill-at-fault failures per judged use.
    pub fn failure_rate(&self) -> Option<f64> {
        (self.judged > 0).then(|| self.skill_failures as f64 / self.judged as f64)
    }
}

/// The registry operations skillopt needs. Both backends pass the same conformance suite.
pub trait Registry {
    /// Human description with secrets redacted.
    fn describe(&self) -> String;
    /// The highest version of a skill, whatever its status.
    fn latest(&mut self, skill: &SkillRef) -> Result<Option<SkillVersion>>;
    /// One version.
    fn version(&mut self, skill: &SkillRef, version: u32) -> Result<Option<SkillVersion>>;
    /// Every version, oldest first.
    fn history(&mut self, skill: &SkillRef) -> Result<Vec<SkillVersion>>;
    /// The latest active version of every skill, by name.
    fn all_latest_active(&mut self) -> Result<Vec<SkillVersion>>;
    /// Publishes `new` (and its changeset) atomically on its parent.
    fn publish(&mut self, new: &NewVersion, changeset: Option<&Changeset>) -> Result<SkillVersion>;
    /// Changesets of a skill, oldest first.
    fn changesets(&mut self, skill: &SkillRef) -> Result<Vec<Changeset>>;
    /// The changeset a job published, if any.
    fn changeset_for_job(&mut self, job_id: &str) -> Result<Option<Changeset>>;
    /// True when this skill already has a changeset with `fingerprint`.
    fn fingerprint_exists(&mut self, skill: &SkillRef, fingerprint: &str) -> Result<bool>;
    /// Versions of `source` created at or after `since` (RFC 3339).
    fn versions_since(&mut self, skill: &SkillRef, source: &str, since: &str) -> Result<u32>;
    /// Records an attribution; false when it was already there.
    fn add_attribution(&mut self, row: &AttributionRow) -> Result<bool>;
    /// Records an outcome; false when its job already has one.
    fn add_outcome(&mut self, row: &OutcomeRow) -> Result<bool>;
    /// The outcome a job recorded, if any.
    fn outcome_for_job(&mut self, job_id: &str) -> Result<Option<OutcomeRow>>;
    /// Outcomes of a skill, oldest first.
    fn outcomes(&mut self, skill: &SkillRef) -> Result<Vec<OutcomeRow>>;
    /// Per-version attribution and outcome counts of every skill.
    fn stats(&mut self) -> Result<Vec<VersionStats>>;
    /// Attribution rows of a skill.
    fn attributions(&mut self, skill: &SkillRef) -> Result<Vec<AttributionRow>>;
    /// Freezes or unfreezes automatic edits.
    fn set_frozen(&mut self, skill: &SkillRef, frozen: bool) -> Result<()>;
    /// True when automatic edits are frozen.
    fn is_frozen(&mut self, skill: &SkillRef) -> Result<bool>;
}

/// Where the registry is.
#[derive(Clone, PartialEq, Eq)]
pub enum RegistryUrl {
    Sqlite(std::path::PathBuf),
    Postgres(String),
}

impl std::fmt::Debug for RegistryUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl RegistryUrl {
    /// Parses `sqlite:///abs/path`, `sqlite:relative`, `postgres://…` / `postgresql://…`.
    pub fn parse(raw: &str) -> Result<Self> {
        let raw = raw.trim();
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Ok(Self::Postgres(raw.to_string()));
        }
        if let Some(rest) = raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("sqlite:"))
        {
            if rest.is_empty() || rest == ":memory:" {
                return Err(RegistryError::BadUrl(redact_password(raw)));
            }
            return Ok(Self::Sqlite(rest.into()));
        }
        Err(RegistryError::BadUrl(redact_password(raw)))
    }

    /// The URL with any password replaced by `***`.
    pub fn redacted(&self) -> String {
        match self {
            Self::Sqlite(p) => format!("sqlite://{}", p.display()),
            Self::Postgres(u) => redact_password(u),
        }
    }

    /// Opens (creating and migrating the schema).
    pub fn open(&self) -> Result<Box<dyn Registry>> {
        match self {
            Self::Sqlite(p) => Ok(Box::new(sqlite::SqliteRegistry::open(p)?)),
            Self::Postgres(u) => Ok(Box::new(postgres::PgRegistry::connect(u)?)),
        }
    }
}

/// Query parameters whose values are secrets.
const SECRET_PARAMS: &[&str] = &["password", "sslpassword"];

/// A URL with every password replaced by `***`: the one in the userinfo (`user:pw@host`; it
/// runs to the last `@` before the query, so a password holding `@`, `:`, `/` or `?` is covered
/// whole) and the value of any `password=` / `sslpassword=` query parameter (any case). When the
/// URL is ambiguous it hides too much rather than too little. Used wherever a registry URL is
/// printed, errors included.
pub fn redact_password(url: &str) -> String {
    let (scheme, rest) = match url.find("://") {
        Some(i) => (&url[..i + 3], &url[i + 3..]),
        None => ("", url),
    };
    let mut out = String::with_capacity(url.len());
    out.push_str(scheme);
    // The userinfo ends at the last `@` before the first `?` that follows the first `@`.
    let mut query_from = 0;
    if let Some(first_at) = rest.find('@') {
        let end = rest[first_at..]
            .find('?')
            .map_or(rest.len(), |q| first_at + q);
        let at = rest[..end].rfind('@').unwrap_or(first_at);
        match rest[..at].find(':') {
            Some(colon) => {
                out.push_str(&rest[..colon]);
                out.push_str(":***");
            }
            None => out.push_str(&rest[..at]),
        }
        query_from = at;
    }
    let (before_query, query) = match rest[query_from..].find('?') {
        Some(q) => (
            &rest[query_from..query_from + q],
            Some(&rest[query_from + q + 1..]),
        ),
        None => (&rest[query_from..], None),
    };
    out.push_str(before_query);
    if let Some(query) = query {
        out.push('?');
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, _)) if SECRET_PARAMS.iter().any(|s| k.eq_ignore_ascii_case(s)) => {
                    format!("{k}=***")
                }
                _ => pair.to_string(),
            })
            .collect();
        out.push_str(&pairs.join("&"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            RegistryUrl::parse("sqlite:///tmp/r.db").unwrap(),
            RegistryUrl::Sqlite("/tmp/r.db".into())
        );
        assert!(matches!(
            RegistryUrl::parse("postgres://u:pw@h/db").unwrap(),
            RegistryUrl::Postgres(_)
        ));
        assert!(RegistryUrl::parse("mysql://x").is_err());
        assert!(RegistryUrl::parse("sqlite::memory:").is_err());
        assert_eq!(
            RegistryUrl::parse("postgres://u:secret@h:5432/db")
                .unwrap()
                .redacted(),
            "postgres://u:***@h:5432/db"
        );
    }

    #[test]
    fn passwords_never_survive_redaction() {
        use proptest::prelude::*;
        // Secrets with the characters that break naive parsing: `@ : / ? & = %` and more.
        // (An unencoded `&` in a query value, or both `@` and `?` in a password, is ambiguous
        // to every URL parser and left out.)
        let secret = "[A-Za-z0-9@:/?&=%#!$ ]{0,12}[A-Z][a-z0-9@:/?&=%#]{4,16}[0-9]";
        let mut runner = proptest::test_runner::TestRunner::default();
        runner
            .run(
                &(secret, secret, "(PASSWORD|password|Password|sslpassword)"),
                |(pw, qpw, key)| {
                    prop_assume!((!pw.contains('@') || !pw.contains('?')) && !qpw.contains('&'));
                    for url in [
                        format!("postgres://skill:{pw}@db.example:5432/reg"),
                        format!("postgres://skill@db.example/reg?{key}={qpw}&schema=s"),
                        format!("postgresql://skill:{pw}@h/reg?sslmode=disable&{key}={qpw}"),
                        format!("mysql://skill:{pw}@h/reg?{key}={qpw}"),
                    ] {
                        let shown = RegistryUrl::parse(&url)
                            .map(|u| u.redacted())
                            .unwrap_or_else(|e| e.to_string());
                        for secret in [&pw, &qpw] {
                            if url.contains(secret.as_str()) {
                                prop_assert!(
                                    !shown.contains(secret.as_str()),
                                    "{secret:?} shown in {shown:?}"
                                );
                            }
                        }
                    }
                    Ok(())
                },
            )
            .unwrap();
        assert_eq!(
            redact_password("postgres://u@h/db?password=s3cret&connect_timeout=2"),
            "postgres://u@h/db?password=***&connect_timeout=2"
        );
        assert_eq!(
            redact_password("postgres://u:p@ss@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(
            redact_password("postgres://u@h/db?user=me@corp&PASSWORD=x"),
            "postgres://u@h/db?user=me@corp&PASSWORD=***"
        );
        assert_eq!(redact_password("postgres://h/db"), "postgres://h/db");
    }
}
