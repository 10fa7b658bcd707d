//! What a job did, as types: the job's outcome ([`JobOutcome`]) and its action ([`Action`]).
//! Job records, `worker drain` and `judge --json` carry them as the same strings as always
//! (`failure`, `published:v2`, `gated:new-url`, …): [`std::fmt::Display`] writes them and
//! [`std::str::FromStr`] reads them back.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};
use skillopt_shared::gate::Rule;
use skillopt_shared::verdict::Outcome;

/// Why a job made no agent call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SkipReason {
    /// This machine used its agent calls for the day (`SKILLOPT_DAILY_AGENT_CALLS`).
    Budget,
    /// The window was not drawn by the judge sampling rate (`SKILLOPT_JUDGE_SAMPLE`).
    NotSampled,
    /// Agent calls are paused after repeated agent errors.
    CircuitOpen,
}

impl SkipReason {
    pub(crate) const ALL: [SkipReason; 3] = [
        SkipReason::Budget,
        SkipReason::NotSampled,
        SkipReason::CircuitOpen,
    ];

    /// The wire name (`budget`, `not-sampled`, `circuit-open`).
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            SkipReason::Budget => "budget",
            SkipReason::NotSampled => "not-sampled",
            SkipReason::CircuitOpen => "circuit-open",
        }
    }
}

/// What a job's action was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// A new version was published (and installed here).
    Published(u32),
    /// The gate refused the proposal.
    Gated(Rule),
    /// The same proposal was tried before, or this job already published.
    Duplicate,
    /// The judged version is no longer the latest.
    Superseded,
    /// Another publisher won the race on the parent version.
    Conflict,
    /// Automatic edits of the skill are frozen.
    Frozen,
    /// The skill had its automatic versions for the day.
    RateLimited,
    /// The proposer gave no applicable edit.
    NoEdit,
    /// The verdict asks for no edit.
    NotNeeded,
    /// The improve step failed.
    Error,
    /// The outcome is in the registry.
    Recorded,
    /// The outcome waits in the outbox.
    Outboxed,
    /// The registry is down: the improvement runs at the next sync.
    Deferred,
    /// Nothing was done (the job failed before acting).
    None,
    /// The verifier did not confirm the proposal (or could not be asked): nothing published.
    Unverified,
    /// The skill already has this candidate or proposed version: no new proposal until it is
    /// promoted, reverted, approved or rejected.
    CandidateOpen(u32),
    /// No agent call was made.
    Skipped(SkipReason),
    /// A sync: versions installed, events uploaded, deferred judge jobs run.
    Synced {
        installed: usize,
        uploaded: usize,
        retried: usize,
    },
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Published(v) => write!(f, "published:v{v}"),
            Action::Gated(rule) => write!(f, "gated:{}", rule.as_str()),
            Action::Duplicate => f.write_str("duplicate"),
            Action::Superseded => f.write_str("superseded"),
            Action::Conflict => f.write_str("conflict"),
            Action::Frozen => f.write_str("frozen"),
            Action::RateLimited => f.write_str("rate-limited"),
            Action::NoEdit => f.write_str("no-edit"),
            Action::NotNeeded => f.write_str("not-needed"),
            Action::Error => f.write_str("error"),
            Action::Recorded => f.write_str("recorded"),
            Action::Outboxed => f.write_str("outboxed"),
            Action::Deferred => f.write_str("deferred"),
            Action::None => f.write_str("none"),
            Action::Unverified => f.write_str("unverified"),
            Action::CandidateOpen(v) => write!(f, "candidate-open:v{v}"),
            Action::Skipped(why) => write!(f, "skipped:{}", why.as_str()),
            Action::Synced {
                installed,
                uploaded,
                retried,
            } => write!(
                f,
                "installed:{installed} uploaded:{uploaded} retried:{retried}"
            ),
        }
    }
}

/// A string that is no action or job outcome.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown job {what} {value:?}")]
pub(crate) struct UnknownJobValue {
    what: &'static str,
    value: String,
}

impl FromStr for Action {
    type Err = UnknownJobValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || UnknownJobValue {
            what: "action",
            value: s.to_string(),
        };
        if let Some(v) = s.strip_prefix("published:v") {
            return v.parse().map(Action::Published).map_err(|_| bad());
        }
        if let Some(rule) = s.strip_prefix("gated:") {
            return Rule::ALL
                .iter()
                .find(|r| r.as_str() == rule)
                .map(|r| Action::Gated(*r))
                .ok_or_else(bad);
        }
        if let Some(v) = s.strip_prefix("candidate-open:v") {
            return v.parse().map(Action::CandidateOpen).map_err(|_| bad());
        }
        if let Some(why) = s.strip_prefix("skipped:") {
            return SkipReason::ALL
                .iter()
                .find(|r| r.as_str() == why)
                .map(|r| Action::Skipped(*r))
                .ok_or_else(bad);
        }
        if s.starts_with("installed:") {
            let mut n = s.split(' ').map(|part| {
                part.split_once(':')
                    .and_then(|(_, n)| n.parse::<usize>().ok())
            });
            return match (n.next(), n.next(), n.next(), n.next()) {
                (Some(Some(installed)), Some(Some(uploaded)), Some(Some(retried)), None) => {
                    Ok(Action::Synced {
                        installed,
                        uploaded,
                        retried,
                    })
                }
                _ => Err(bad()),
            };
        }
        Ok(match s {
            "duplicate" => Action::Duplicate,
            "superseded" => Action::Superseded,
            "conflict" => Action::Conflict,
            "frozen" => Action::Frozen,
            "rate-limited" => Action::RateLimited,
            "no-edit" => Action::NoEdit,
            "not-needed" => Action::NotNeeded,
            "error" => Action::Error,
            "recorded" => Action::Recorded,
            "outboxed" => Action::Outboxed,
            "deferred" => Action::Deferred,
            "none" => Action::None,
            "unverified" => Action::Unverified,
            _ => return Err(bad()),
        })
    }
}

impl Serialize for Action {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// How a job came out: a judge job's verdict, a sync, a window closed without judging, or an
/// error before either.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JobOutcome {
    Judged(Outcome),
    Synced,
    /// No agent was asked (the action says why).
    Skipped,
    Error,
}

impl fmt::Display for JobOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JobOutcome::Judged(o) => f.write_str(o.as_str()),
            JobOutcome::Synced => f.write_str("synced"),
            JobOutcome::Skipped => f.write_str("skipped"),
            JobOutcome::Error => f.write_str("error"),
        }
    }
}

impl FromStr for JobOutcome {
    type Err = UnknownJobValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "synced" => Ok(JobOutcome::Synced),
            "skipped" => Ok(JobOutcome::Skipped),
            "error" => Ok(JobOutcome::Error),
            other => other
                .parse()
                .map(JobOutcome::Judged)
                .map_err(|_| UnknownJobValue {
                    what: "outcome",
                    value: s.to_string(),
                }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wire_strings_round_trip() {
        let mut all = vec![
            Action::Published(2),
            Action::Duplicate,
            Action::Superseded,
            Action::Conflict,
            Action::Frozen,
            Action::RateLimited,
            Action::NoEdit,
            Action::NotNeeded,
            Action::Error,
            Action::Recorded,
            Action::Outboxed,
            Action::Deferred,
            Action::None,
            Action::Unverified,
            Action::CandidateOpen(3),
            Action::Synced {
                installed: 1,
                uploaded: 2,
                retried: 0,
            },
        ];
        all.extend(Rule::ALL.iter().map(|r| Action::Gated(*r)));
        all.extend(SkipReason::ALL.iter().map(|r| Action::Skipped(*r)));
        for a in all {
            assert_eq!(a.to_string().parse::<Action>(), Ok(a), "{a}");
        }
        assert_eq!(Action::Published(12).to_string(), "published:v12");
        assert_eq!(Action::Gated(Rule::NewUrl).to_string(), "gated:new-url");
        assert_eq!(
            serde_json::to_value(Action::RateLimited).unwrap(),
            "rate-limited"
        );
        assert!("gated:nope".parse::<Action>().is_err());
        assert!("published:vX".parse::<Action>().is_err());
        for o in [
            "success", "failure", "unclear", "synced", "skipped", "error",
        ] {
            assert_eq!(o.parse::<JobOutcome>().unwrap().to_string(), o);
        }
    }
}
