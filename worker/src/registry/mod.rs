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
pub(crate) mod http;
mod postgres;
mod publish;
pub(crate) mod queries;
mod rows;
mod sqlite;
pub(crate) mod tokens;
mod transition;
mod tx;
mod url;
pub(crate) mod wire;

use skillopt_shared::SkillRef;

pub(crate) use rows::{
    AttributionRow, Changeset, Event, EventKind, NewVersion, OutcomeRow, Policy, PolicyMode,
    SkillFlags, SkillVersion, Transition, VersionSource, VersionStats, VersionStatus,
    DEFAULT_CANARY_PERCENT,
};
pub(crate) use tx::result_fingerprint;
pub(crate) use url::{redact_password, RegistryUrl};

/// What a backend said, kept typed (the driver's own error where there is one) as the cause
/// of a [`RegistryError`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Cause {
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error("{}", postgres_message(.0))]
    Postgres(#[from] ::postgres::Error),
    /// A PostgreSQL error the server reported, with its SQLSTATE.
    #[error("{message} ({code})")]
    Server { message: String, code: String },
    #[error(transparent)]
    State(#[from] skillopt_state::StateError),
    /// A server-side limit ended the wait (`lock_timeout`, `statement_timeout`).
    #[error("PostgreSQL {what} exceeded {}s: {message}", .limit.as_secs())]
    Limit {
        what: &'static str,
        limit: std::time::Duration,
        message: String,
    },
    /// The connection handshake did not finish in time.
    #[error("{target}: no answer from PostgreSQL within {}s", .limit.as_secs_f32())]
    NoAnswer {
        target: String,
        limit: std::time::Duration,
    },
    #[error("cannot start a thread: {0}")]
    Thread(#[source] std::io::Error),
    /// A stored value skillopt cannot read (an unknown status, say).
    #[error(transparent)]
    Value(#[from] rows::UnknownValue),
    #[error(transparent)]
    Outcome(#[from] skillopt_shared::verdict::UnknownOutcome),
    /// The HTTP registry could not be reached or its answer could not be read.
    #[error("{}", http_message(.0))]
    Http(#[from] reqwest::Error),
    /// What an HTTP registry server answered with an error (its status, kind and message).
    #[error("server answered {status} {kind}: {message}")]
    Remote {
        status: u16,
        kind: String,
        message: String,
    },
    /// Injected by tests.
    #[cfg(test)]
    #[error("{0}")]
    Test(&'static str),
}

/// A PostgreSQL client error with what lies beneath it (its own text is often only "db error"
/// or "error connecting to server").
fn postgres_message(e: &::postgres::Error) -> String {
    match std::error::Error::source(e) {
        Some(inner) => format!("{e}: {inner}"),
        None => e.to_string(),
    }
}

/// An HTTP client error with its causes (reqwest's own text is often only "error sending
/// request"), and what to do about a certificate the client does not trust.
fn http_message(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        let part = inner.to_string();
        if !text.contains(&part) {
            text = format!("{text}: {part}");
        }
        source = inner.source();
    }
    if text.contains("CaUsedAsEndEntity") {
        text.push_str(
            " (the server presents a CA certificate as its own, as `openssl req -x509` makes by \
             default: serve a certificate signed by that CA, or one made with \
             -addext basicConstraints=critical,CA:FALSE)",
        );
    } else if text.contains("certificate") {
        text.push_str(
            " (a server with your team's own certificate authority: SKILLOPT_CA_CERT=<its PEM file>)",
        );
    }
    text
}

/// Registry failures callers tell apart. Each keeps its cause typed ([`Cause`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// The parent is no longer the head (someone published first).
    #[error("conflict: {skill} is at v{head}, not v{parent}")]
    Stale {
        skill: SkillRef,
        head: u32,
        parent: u32,
    },
    /// A unique key refused the row (a concurrent publisher won).
    #[error("conflict: {0}")]
    Conflict(Cause),
    /// This job already published a version.
    #[error("job {0} already published a version")]
    DuplicateJob(String),
    /// The registry cannot be reached now (or did not answer in time); try again later.
    #[error("registry unreachable: {0}")]
    Unreachable(Cause),
    /// The registry refused this row for its content (PostgreSQL: a data exception or an
    /// integrity violation, e.g. a NUL byte in text). Retrying the same row cannot succeed.
    #[error("registry refused the row: {0}")]
    Refused(Cause),
    #[error("registry error: {0}")]
    Backend(Cause),
    /// The URL (shown with its password redacted) is not a registry skillopt knows.
    #[error("bad registry URL {url:?}: {why}")]
    BadUrl { url: String, why: &'static str },
    /// The URL parsed as a registry but its parameters do not (shown redacted).
    #[error("bad registry URL {url}: {source}")]
    BadConfig {
        url: String,
        #[source]
        source: ::postgres::Error,
    },
}

impl RegistryError {
    /// A conflict of either kind: someone else's write won; re-reading and retrying may work.
    pub fn is_conflict(&self) -> bool {
        matches!(
            self,
            RegistryError::Stale { .. } | RegistryError::Conflict(_)
        )
    }

    /// A server's 403: this token may not do this (a reader's upload, say).
    pub fn is_forbidden(&self) -> bool {
        matches!(
            self,
            RegistryError::Backend(Cause::Remote { status: 403, .. })
        )
    }
}

/// Result alias.
pub type Result<T, E = RegistryError> = std::result::Result<T, E>;

/// The registry operations skillopt needs. Both backends pass the same conformance suite.
pub trait Registry: Send {
    /// Human description with secrets redacted.
    fn describe(&self) -> String;
    /// The highest version of a skill, whatever its status.
    fn latest(&mut self, skill: &SkillRef) -> Result<Option<SkillVersion>>;
    /// The head: the highest version that is not reverted (the next version's parent).
    fn head(&mut self, skill: &SkillRef) -> Result<Option<SkillVersion>>;
    /// One version.
    fn version(&mut self, skill: &SkillRef, version: u32) -> Result<Option<SkillVersion>>;
    /// Every version, oldest first.
    fn history(&mut self, skill: &SkillRef) -> Result<Vec<SkillVersion>>;
    /// The latest active version of every skill, by name.
    fn all_latest_active(&mut self) -> Result<Vec<SkillVersion>>;
    /// What machines may install: each skill's latest active version and any candidate above
    /// it, by name then version.
    fn installable(&mut self) -> Result<Vec<SkillVersion>>;
    /// Publishes `new` (and its changeset) atomically on its head.
    fn publish(&mut self, new: &NewVersion, changeset: Option<&Changeset>) -> Result<SkillVersion>;
    /// Applies a status change with its event; false when the version was not in a `from`
    /// status (another machine applied it first, or it was decided otherwise).
    fn transition(&mut self, t: &Transition) -> Result<bool>;
    /// Records an edit fingerprint as rejected: no machine publishes it for this skill again.
    fn reject_fingerprint(
        &mut self,
        skill: &SkillRef,
        fingerprint: &str,
        reason: &str,
    ) -> Result<()>;
    /// A skill's events, oldest first.
    fn events(&mut self, skill: &SkillRef) -> Result<Vec<Event>>;
    /// Changesets of a skill, oldest first.
    fn changesets(&mut self, skill: &SkillRef) -> Result<Vec<Changeset>>;
    /// The changeset a job published, if any.
    fn changeset_for_job(&mut self, job_id: &str) -> Result<Option<Changeset>>;
    /// True when this skill already has a changeset with `fingerprint`, or it was rejected.
    fn fingerprint_exists(&mut self, skill: &SkillRef, fingerprint: &str) -> Result<bool>;
    /// Versions of `source` created at or after `since` (RFC 3339).
    fn versions_since(
        &mut self,
        skill: &SkillRef,
        source: VersionSource,
        since: &str,
    ) -> Result<u32>;
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
    /// Freezes (with a reason) or unfreezes automatic edits, recording who did it.
    fn set_frozen(
        &mut self,
        skill: &SkillRef,
        frozen: bool,
        reason: &str,
        actor: &str,
    ) -> Result<()>;
    /// Sets the release policy of a skill's automatic edits, recording who did it.
    fn set_policy(&mut self, skill: &SkillRef, policy: &Policy, actor: &str) -> Result<()>;
    /// A skill's flags (the defaults when it has none).
    fn flags(&mut self, skill: &SkillRef) -> Result<SkillFlags>;
    /// Every skill's flags that were ever set, by (name, author).
    fn all_flags(&mut self) -> Result<Vec<(String, String, SkillFlags)>>;
    /// A number that goes up whenever what a pull installs may have changed (a version, its
    /// status, a skill's flags or policy), read in one cheap query; `None` when the backend
    /// cannot tell, and the caller then pulls in full. A client that read N before a full pull
    /// and reads N again has nothing new to install.
    fn revision(&mut self) -> Result<Option<u64>> {
        Ok(None)
    }
    /// True when automatic edits are frozen.
    fn is_frozen(&mut self, skill: &SkillRef) -> Result<bool> {
        Ok(self.flags(skill)?.frozen)
    }
}
