//! The HTTP registry's wire format, shared by the client ([`super::HttpRegistry`]) and the
//! server (`crate::serve`).
//!
//! One endpoint per [`super::Registry`] method: `POST /v1/registry/<method>` (the method's
//! name, e.g. `add_outcome`) with its arguments as one JSON object (the argument names as keys;
//! `{}` for none), answered `200` with the method's result as JSON. A failure is answered with
//! the status of its kind and `{"error": {"kind": …, "message": …}}` (a `stale` error also
//! carries `skill`, `head` and `parent`, a `duplicate_job` its `job_id`), and changes nothing.
//! Skill identities travel as `{name, author}` and are validated on arrival like every other
//! untrusted name.

use serde::{Deserialize, Serialize};
use skillopt_shared::SkillRef;

use super::{
    AttributionRow, Changeset, Event, NewVersion, OutcomeRow, Policy, RegistryError, Transition,
    VersionSource, VersionStatus,
};

/// The path prefix of every registry method.
pub const PREFIX: &str = "/v1/registry/";

/// The largest request body the server reads (2 MiB): a publish carries a SKILL.md (at most
/// 256 KiB) and its changeset (diff and edits, each about as large), JSON-escaped.
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// Who a token stands for (`whoami`: `skillopt login` and `doctor` show it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WhoAmI {
    pub user: String,
    pub role: super::tokens::Role,
}

/// A skill identity on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skill {
    pub name: String,
    pub author: String,
}

impl From<&SkillRef> for Skill {
    fn from(s: &SkillRef) -> Self {
        Self {
            name: s.name.clone(),
            author: s.author.clone(),
        }
    }
}

impl Skill {
    /// The validated identity (400 when it is not one).
    pub fn to_ref(&self) -> Result<SkillRef, WireError> {
        SkillRef::new(&self.name, &self.author)
            .map_err(|e| WireError::new(ErrorKind::BadRequest, e.to_string()))
    }
}

/// `{"skill": …}`.
#[derive(Debug, Serialize, Deserialize)]
pub struct SkillArgs {
    pub skill: Skill,
}

/// `{"skill": …, "version": N}`.
#[derive(Debug, Serialize, Deserialize)]
pub struct VersionArgs {
    pub skill: Skill,
    pub version: u32,
}

/// A [`NewVersion`] on the wire.
#[derive(Debug, Serialize, Deserialize)]
pub struct NewVersionWire {
    pub skill: Skill,
    pub parent_version: u32,
    pub body: String,
    pub source: VersionSource,
    pub created_by: String,
    pub status: VersionStatus,
}

impl From<&NewVersion> for NewVersionWire {
    fn from(n: &NewVersion) -> Self {
        Self {
            skill: (&n.skill).into(),
            parent_version: n.parent_version,
            body: n.body.clone(),
            source: n.source,
            created_by: n.created_by.clone(),
            status: n.status,
        }
    }
}

impl NewVersionWire {
    pub fn into_new(self) -> Result<NewVersion, WireError> {
        Ok(NewVersion {
            skill: self.skill.to_ref()?,
            parent_version: self.parent_version,
            body: self.body,
            source: self.source,
            created_by: self.created_by,
            status: self.status,
        })
    }
}

/// `publish`: `{"new": …, "changeset": … | null}`.
#[derive(Debug, Serialize, Deserialize)]
pub struct PublishArgs {
    pub new: NewVersionWire,
    pub changeset: Option<Changeset>,
}

/// `transition`: a [`Transition`] on the wire.
#[derive(Debug, Serialize, Deserialize)]
pub struct TransitionArgs {
    pub skill: Skill,
    pub version: u32,
    pub from: Vec<VersionStatus>,
    pub to: VersionStatus,
    pub event: Event,
    pub reject_fingerprint: bool,
    pub freeze: Option<String>,
}

impl From<&Transition> for TransitionArgs {
    fn from(t: &Transition) -> Self {
        Self {
            skill: (&t.skill).into(),
            version: t.version,
            from: t.from.clone(),
            to: t.to,
            event: t.event.clone(),
            reject_fingerprint: t.reject_fingerprint,
            freeze: t.freeze.clone(),
        }
    }
}

impl TransitionArgs {
    pub fn into_transition(self) -> Result<Transition, WireError> {
        Ok(Transition {
            skill: self.skill.to_ref()?,
            version: self.version,
            from: self.from,
            to: self.to,
            event: self.event,
            reject_fingerprint: self.reject_fingerprint,
            freeze: self.freeze,
        })
    }
}

/// `reject_fingerprint`.
#[derive(Debug, Serialize, Deserialize)]
pub struct RejectArgs {
    pub skill: Skill,
    pub fingerprint: String,
    pub reason: String,
}

/// `changeset_for_job`, `outcome_for_job`.
#[derive(Debug, Serialize, Deserialize)]
pub struct JobArgs {
    pub job_id: String,
}

/// `fingerprint_exists`.
#[derive(Debug, Serialize, Deserialize)]
pub struct FingerprintArgs {
    pub skill: Skill,
    pub fingerprint: String,
}

/// `versions_since`.
#[derive(Debug, Serialize, Deserialize)]
pub struct SinceArgs {
    pub skill: Skill,
    pub source: VersionSource,
    pub since: String,
}

/// `add_attribution`.
#[derive(Debug, Serialize, Deserialize)]
pub struct AttributionArgs {
    pub row: AttributionRow,
}

/// `add_outcome`.
#[derive(Debug, Serialize, Deserialize)]
pub struct OutcomeArgs {
    pub row: OutcomeRow,
}

/// `set_frozen`.
#[derive(Debug, Serialize, Deserialize)]
pub struct FrozenArgs {
    pub skill: Skill,
    pub frozen: bool,
    pub reason: String,
    pub actor: String,
}

/// `set_policy`.
#[derive(Debug, Serialize, Deserialize)]
pub struct PolicyArgs {
    pub skill: Skill,
    pub policy: Policy,
    pub actor: String,
}

/// Methods without arguments take `{}`.
#[derive(Debug, Serialize, Deserialize)]
pub struct NoArgs {}

/// What kind of failure an error answer reports; each has one HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    Stale,
    Conflict,
    DuplicateJob,
    Refused,
    Unreachable,
    Backend,
    BadRequest,
    NotFound,
    TooLarge,
    Unauthorized,
    Forbidden,
}

impl ErrorKind {
    /// The HTTP status it is answered with.
    pub fn status(self) -> u16 {
        match self {
            ErrorKind::Stale | ErrorKind::Conflict | ErrorKind::DuplicateJob => 409,
            ErrorKind::Refused => 422,
            ErrorKind::Unreachable => 503,
            ErrorKind::Backend => 500,
            ErrorKind::BadRequest => 400,
            ErrorKind::NotFound => 404,
            ErrorKind::TooLarge => 413,
            ErrorKind::Unauthorized => 401,
            ErrorKind::Forbidden => 403,
        }
    }

    /// The name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Stale => "stale",
            ErrorKind::Conflict => "conflict",
            ErrorKind::DuplicateJob => "duplicate_job",
            ErrorKind::Refused => "refused",
            ErrorKind::Unreachable => "unreachable",
            ErrorKind::Backend => "backend",
            ErrorKind::BadRequest => "bad_request",
            ErrorKind::NotFound => "not_found",
            ErrorKind::TooLarge => "too_large",
            ErrorKind::Unauthorized => "unauthorized",
            ErrorKind::Forbidden => "forbidden",
        }
    }
}

/// The `error` object of an error answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireError {
    pub kind: ErrorKind,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skill: Option<Skill>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
}

/// An error answer's body.
#[derive(Debug, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: WireError,
}

impl WireError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            skill: None,
            head: None,
            parent: None,
            job_id: None,
        }
    }

    /// The server side: a backend failure as its error answer.
    pub fn from_registry(e: &RegistryError) -> Self {
        let message = e.to_string();
        match e {
            RegistryError::Stale {
                skill,
                head,
                parent,
            } => Self {
                skill: Some(skill.into()),
                head: Some(*head),
                parent: Some(*parent),
                ..Self::new(ErrorKind::Stale, message)
            },
            RegistryError::Conflict(_) => Self::new(ErrorKind::Conflict, message),
            RegistryError::DuplicateJob(job) => Self {
                job_id: Some(job.clone()),
                ..Self::new(ErrorKind::DuplicateJob, message)
            },
            RegistryError::Unreachable(_) => Self::new(ErrorKind::Unreachable, message),
            RegistryError::Refused(_) => Self::new(ErrorKind::Refused, message),
            _ => Self::new(ErrorKind::Backend, message),
        }
    }

    /// The client side: an error answer as the [`RegistryError`] the backend raised, so
    /// callers (the outbox, the publisher) decide exactly as they do on a local registry.
    /// 401 and 403 are kept retryable ([`RegistryError::Backend`]): a token can be fixed, and
    /// the events waiting on it must not be dropped meanwhile.
    pub fn into_registry(self, status: u16) -> RegistryError {
        use super::Cause;
        let stale = match (&self.skill, self.head, self.parent) {
            (Some(s), Some(head), Some(parent)) if self.kind == ErrorKind::Stale => {
                s.to_ref().ok().map(|skill| RegistryError::Stale {
                    skill,
                    head,
                    parent,
                })
            }
            _ => None,
        };
        if let Some(e) = stale {
            return e;
        }
        if self.kind == ErrorKind::DuplicateJob {
            if let Some(job) = self.job_id {
                return RegistryError::DuplicateJob(job);
            }
        }
        let cause = Cause::Remote {
            status,
            kind: self.kind.as_str().to_string(),
            message: self.message,
        };
        match self.kind {
            ErrorKind::Stale | ErrorKind::Conflict | ErrorKind::DuplicateJob => {
                RegistryError::Conflict(cause)
            }
            ErrorKind::Unreachable => RegistryError::Unreachable(cause),
            ErrorKind::Refused | ErrorKind::BadRequest | ErrorKind::TooLarge => {
                RegistryError::Refused(cause)
            }
            ErrorKind::Backend
            | ErrorKind::NotFound
            | ErrorKind::Unauthorized
            | ErrorKind::Forbidden => RegistryError::Backend(cause),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_and_duplicate_job_survive_the_round_trip() {
        let skill = SkillRef::new("deploy", "alice").unwrap();
        let e = RegistryError::Stale {
            skill: skill.clone(),
            head: 3,
            parent: 2,
        };
        let w = WireError::from_registry(&e);
        let json = serde_json::to_string(&ErrorBody { error: w }).unwrap();
        assert!(json.contains(r#""kind":"stale""#), "{json}");
        let back: ErrorBody = serde_json::from_str(&json).unwrap();
        assert!(matches!(
            back.error.into_registry(409),
            RegistryError::Stale { skill: s, head: 3, parent: 2 } if s == skill
        ));
        let w = WireError::from_registry(&RegistryError::DuplicateJob("j1".into()));
        assert!(matches!(w.into_registry(409), RegistryError::DuplicateJob(j) if j == "j1"));
    }

    #[test]
    fn every_kind_maps_to_its_status_and_a_typed_error() {
        for (kind, status) in [
            (ErrorKind::Conflict, 409),
            (ErrorKind::Refused, 422),
            (ErrorKind::Unreachable, 503),
            (ErrorKind::Backend, 500),
            (ErrorKind::BadRequest, 400),
            (ErrorKind::TooLarge, 413),
            (ErrorKind::Unauthorized, 401),
            (ErrorKind::Forbidden, 403),
        ] {
            assert_eq!(kind.status(), status);
            let json = serde_json::to_value(kind).unwrap();
            assert_eq!(json, kind.as_str());
            let e = WireError::new(kind, "m").into_registry(status);
            let expected = match kind {
                ErrorKind::Conflict => e.is_conflict(),
                ErrorKind::Unreachable => matches!(e, RegistryError::Unreachable(_)),
                ErrorKind::Refused | ErrorKind::BadRequest | ErrorKind::TooLarge => {
                    matches!(e, RegistryError::Refused(_))
                }
                _ => matches!(e, RegistryError::Backend(_)),
            };
            assert!(expected, "{kind:?} → {e:?}");
        }
    }

    #[test]
    fn an_invalid_skill_is_a_bad_request() {
        let s = Skill {
            name: "../etc".into(),
            author: "alice".into(),
        };
        assert_eq!(s.to_ref().unwrap_err().kind, ErrorKind::BadRequest);
    }
}
