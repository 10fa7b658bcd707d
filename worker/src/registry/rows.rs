//! The registry's rows as skillopt's types: versions (with their status and source),
//! changesets, attributions, outcomes and per-version stats. The enums are stored and shown as
//! the same lower-case strings as always (`active`, `skillopt`, `failure`, …).

use serde::{Deserialize, Serialize};
use skillopt_shared::SkillRef;
use skillopt_state::outbox::AttributionPayload;

/// A string that names none of an enum's values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {value:?}")]
pub struct UnknownValue {
    pub what: &'static str,
    pub value: String,
}

macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident, $what:literal, { $($(#[$vdoc:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(rename_all = "lowercase")]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// The stored name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = UnknownValue;
            fn from_str(s: &str) -> Result<Self, UnknownValue> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(UnknownValue { what: $what, value: s.to_string() }),
                }
            }
        }
    };
}

wire_enum!(
    /// Whether and where a version is served: `active` everywhere, `candidate` on canary
    /// machines (and the one that published it), `proposed` and `reverted` nowhere.
    VersionStatus, "version status", {
        Active => "active",
        /// Published under the `canary` policy (or approved): waits for evidence.
        Candidate => "candidate",
        /// Published under the `review` policy: waits for a person.
        Proposed => "proposed",
        /// Withdrawn (by the evidence, a person, or a newer human version).
        Reverted => "reverted",
    }
);

impl VersionStatus {
    /// Candidate or proposed: a version that is still being decided on.
    pub fn is_open(self) -> bool {
        matches!(self, VersionStatus::Candidate | VersionStatus::Proposed)
    }
}

wire_enum!(
    /// How a skill's verified automatic edits are released (org-wide, per skill).
    PolicyMode, "policy", {
        /// Active at once.
        Auto => "auto",
        /// A candidate on canary machines until the evidence promotes or reverts it.
        Canary => "canary",
        /// Proposed: nothing installs it until a person approves it.
        Review => "review",
    }
);

wire_enum!(
    /// What happened to a skill or one of its versions.
    EventKind, "event", {
        Published => "published",
        Verified => "verified",
        Promoted => "promoted",
        Reverted => "reverted",
        Approved => "approved",
        Rejected => "rejected",
        Frozen => "frozen",
        Unfrozen => "unfrozen",
        Policy => "policy",
    }
);

wire_enum!(
    /// Who made a version.
    VersionSource, "version source", {
        /// `skillopt push`.
        Push => "push",
        /// An automatic edit by the pipeline.
        Skillopt => "skillopt",
        /// `skillopt revert`.
        Revert => "revert",
    }
);

/// One stored version of a skill.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkillVersion {
    pub name: String,
    pub author: String,
    pub version: u32,
    pub body: String,
    pub sha256: String,
    pub status: VersionStatus,
    pub parent_version: Option<u32>,
    pub source: VersionSource,
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

/// A version to publish on top of `parent_version` (0 = a new skill), which must be the skill's
/// head (its highest version that is not reverted).
#[derive(Debug, Clone)]
pub struct NewVersion {
    pub skill: SkillRef,
    pub parent_version: u32,
    pub body: String,
    pub source: VersionSource,
    pub created_by: String,
    /// `active` for people's versions; per policy for automatic ones.
    pub status: VersionStatus,
}

/// Why a version exists (skillopt edits and reverts carry one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// The verifier's result as JSON (`{"prevents_failure":…,"windows_checked":…,"reason":…}`),
    /// empty when none ran.
    pub verification: String,
    /// The stable id of the machine that published it.
    pub machine: String,
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
            verification: String::new(),
            machine: String::new(),
        }
    }
}

/// How a skill's verified automatic edits are released, org-wide: the mode, the canary share
/// and the numbers the rollout rules use. Kept in the registry, so every machine applies the
/// same numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    pub mode: PolicyMode,
    /// Machines whose bucket (0–99) is below this are on the canary channel.
    pub canary_percent: u8,
    /// M: judged uses a candidate needs before it can be promoted.
    pub promote_min_uses: u32,
    /// K: skill-at-fault failures that can revert a candidate.
    pub revert_min_failures: u32,
}

/// The default canary share.
pub const DEFAULT_CANARY_PERCENT: u8 = 20;
/// The default M.
pub const DEFAULT_PROMOTE_MIN_USES: u32 = 5;
/// The default K.
pub const DEFAULT_REVERT_MIN_FAILURES: u32 = 2;

impl Default for Policy {
    fn default() -> Self {
        Self {
            mode: PolicyMode::Canary,
            canary_percent: DEFAULT_CANARY_PERCENT,
            promote_min_uses: DEFAULT_PROMOTE_MIN_USES,
            revert_min_failures: DEFAULT_REVERT_MIN_FAILURES,
        }
    }
}

/// A skill's org-wide flags: its release policy and whether automatic edits are frozen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkillFlags {
    pub policy: PolicyMode,
    /// Machines whose bucket (0–99) is below this are on the canary channel.
    pub canary_percent: u8,
    /// M: judged uses a candidate needs before it can be promoted.
    pub promote_min_uses: u32,
    /// K: skill-at-fault failures that can revert a candidate.
    pub revert_min_failures: u32,
    pub frozen: bool,
    /// Why it was frozen (empty when a person froze it without a reason).
    pub frozen_reason: String,
}

impl SkillFlags {
    /// The release policy part.
    pub fn release(&self) -> Policy {
        Policy {
            mode: self.policy,
            canary_percent: self.canary_percent,
            promote_min_uses: self.promote_min_uses,
            revert_min_failures: self.revert_min_failures,
        }
    }
}

impl Default for SkillFlags {
    fn default() -> Self {
        let p = Policy::default();
        Self {
            policy: p.mode,
            canary_percent: p.canary_percent,
            promote_min_uses: p.promote_min_uses,
            revert_min_failures: p.revert_min_failures,
            frozen: false,
            frozen_reason: String::new(),
        }
    }
}

/// One entry of a skill's event log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: String,
    pub name: String,
    pub author: String,
    /// 0 for events of the skill as a whole (policy, freeze).
    pub version: u32,
    pub kind: EventKind,
    /// Who did it: a user name, or `skillopt` for the automatic rules.
    pub actor: String,
    /// The numbers that decided it, as a JSON object.
    pub figures: serde_json::Value,
    pub created_at: String,
}

impl Event {
    /// An event about `version` of `skill`. Its id is derived from what it says, so the same
    /// transition recorded twice (two machines at once) is stored once.
    pub fn new(
        skill: &SkillRef,
        version: u32,
        kind: EventKind,
        actor: &str,
        figures: serde_json::Value,
    ) -> Self {
        let id = if version > 0 {
            format!("{}:{}:v{version}", kind.as_str(), skill.dir_name())
        } else {
            format!(
                "{}:{}:{}",
                kind.as_str(),
                skill.dir_name(),
                ulid::Ulid::new()
            )
        };
        Self {
            id,
            name: skill.name.clone(),
            author: skill.author.clone(),
            version,
            kind,
            actor: actor.to_string(),
            figures,
            created_at: skillopt_state::now_rfc3339(),
        }
    }
}

/// A status change of one version, applied in one transaction with its event: nothing happens
/// (and `false` is returned) unless the version's status is one of `from`, so two machines
/// applying the same rule at once change it once.
#[derive(Debug, Clone)]
pub struct Transition {
    pub skill: SkillRef,
    pub version: u32,
    pub from: Vec<VersionStatus>,
    pub to: VersionStatus,
    pub event: Event,
    /// Record the version's edit fingerprint as rejected (never proposed again).
    pub reject_fingerprint: bool,
    /// Also freeze the skill's automatic edits, for this reason (the reversion limit).
    pub freeze: Option<String>,
}

/// One session that had one skill version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttributionRow {
    pub session_hash: String,
    pub bucket: u8,
    pub name: String,
    pub author: String,
    pub version: u32,
    pub agent: String,
    pub started_at: String,
}

/// One judged use of a skill version: the same type the outbox queues it as, so an outcome
/// goes from the judge to the outbox to the registry without being copied field by field.
pub use skillopt_state::outbox::OutcomePayload as OutcomeRow;

/// Measured value of one skill version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

impl AttributionRow {
    /// One row per skill of a session's attribution event.
    pub fn from_event(p: &AttributionPayload) -> Vec<Self> {
        p.skills
            .iter()
            .map(|s| Self {
                session_hash: p.session_hash.clone(),
                bucket: p.bucket,
                name: s.name.clone(),
                author: s.author.clone(),
                version: s.version,
                agent: p.agent.clone(),
                started_at: p.started_at.clone(),
            })
            .collect()
    }
}
