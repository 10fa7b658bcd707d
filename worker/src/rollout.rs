//! Promotion, auto-revert and the reversion limit: deterministic rules over the registry's
//! outcomes, evaluated by any worker at every sync. Each decision is one registry transition
//! (changed only from `candidate`, with its event and the figures that decided it), so two
//! machines evaluating at once apply it once.
//!
//! For a skill's candidate (a version published under the `canary` policy, or approved), with
//! the skill's own M and K from the registry (`skillopt policy --min-uses/--min-failures`,
//! default 5 and 2, so every machine applies the same numbers):
//! - **revert** when it has at least K skill-at-fault failures and a higher skill-at-fault
//!   failure rate than its parent;
//! - **promote** when it has at least M judged uses and a failure rate not higher than its
//!   parent's;
//! - otherwise it stays a candidate (`status` says how many judged uses it still needs).
//!
//! The parent's rate leaves out the outcome whose failure produced the candidate (it would make
//! every young skill's parent look broken). It is taken over the same period (its uses judged
//! since the candidate was published) when that period holds at least M of them, else over all
//! its judged uses; a parent with none at all counts as never failing, so a candidate must then
//! not fail to be promoted. A revert records the candidate's edit as rejected; when it is the
//! second automatic version of the skill the rules reverted within 7 days (since the skill was
//! last unfrozen), it also freezes the skill.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::json;
use skillopt_shared::verdict::Outcome;
use skillopt_shared::SkillRef;

use crate::registry::{
    Event, EventKind, OutcomeRow, Policy, Registry, SkillVersion, Transition, VersionSource,
    VersionStatus,
};
use crate::settings::Settings;

/// The actor of the rules' events.
const RULES_ACTOR: &str = "skillopt";
/// The reversion limit's window.
const REVERT_WINDOW_DAYS: i64 = 7;
/// Automatic versions reverted within the window that freeze the skill.
const REVERTS_TO_FREEZE: usize = 2;

/// The evidence about a skill's candidate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct CandidateEvidence {
    pub(crate) version: u32,
    pub(crate) parent_version: u32,
    /// Uses of the candidate judged success or failure.
    pub(crate) judged: u64,
    pub(crate) skill_failures: u64,
    /// The parent's judged uses and failures the comparison uses.
    pub(crate) parent_judged: u64,
    pub(crate) parent_skill_failures: u64,
    /// Whether the parent's figures cover the candidate's period (else all its uses).
    pub(crate) parent_same_period: bool,
    /// Judged uses still needed before promotion.
    pub(crate) needed: u64,
}

impl CandidateEvidence {
    pub(crate) fn rate(&self) -> f64 {
        rate(self.skill_failures, self.judged)
    }

    pub(crate) fn parent_rate(&self) -> f64 {
        rate(self.parent_skill_failures, self.parent_judged)
    }

    fn figures(&self, policy: &Policy) -> serde_json::Value {
        json!({
            "judged": self.judged,
            "skill_failures": self.skill_failures,
            "failure_rate": self.rate(),
            "parent_version": self.parent_version,
            "parent_judged": self.parent_judged,
            "parent_skill_failures": self.parent_skill_failures,
            "parent_failure_rate": self.parent_rate(),
            "parent_same_period": self.parent_same_period,
            "promote_min_uses": policy.promote_min_uses,
            "revert_min_failures": policy.revert_min_failures,
        })
    }
}

fn rate(failures: u64, judged: u64) -> f64 {
    if judged == 0 {
        0.0
    } else {
        failures as f64 / judged as f64
    }
}

/// What the rules say about a candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    Promote,
    Revert,
    Wait,
}

/// Applies the rules to the evidence.
pub(crate) fn decide(e: &CandidateEvidence, policy: &Policy) -> Decision {
    let higher = e.rate() > e.parent_rate();
    if e.skill_failures >= u64::from(policy.revert_min_failures) && higher {
        Decision::Revert
    } else if e.judged >= u64::from(policy.promote_min_uses) && !higher {
        Decision::Promote
    } else {
        Decision::Wait
    }
}

fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// (judged, skill-at-fault failures) of `version` among `outcomes`, judged at or after `since`,
/// leaving out the outcome of job `except`.
fn counts(
    outcomes: &[OutcomeRow],
    version: u32,
    since: Option<DateTime<Utc>>,
    except: Option<&str>,
) -> (u64, u64) {
    let judged: Vec<&OutcomeRow> = outcomes
        .iter()
        .filter(|o| o.version == version && o.outcome != Outcome::Unclear)
        .filter(|o| Some(o.job_id.as_str()) != except)
        .filter(|o| match since {
            None => true,
            Some(t) => parse_time(&o.judged_at).is_some_and(|at| at >= t),
        })
        .collect();
    let failures = judged
        .iter()
        .filter(|o| o.outcome == Outcome::Failure && o.skill_at_fault)
        .count();
    (judged.len() as u64, failures as u64)
}

/// The evidence for the skill's candidate, when its head is one.
pub(crate) fn candidate_evidence(
    reg: &mut dyn Registry,
    skill: &SkillRef,
) -> anyhow::Result<Option<CandidateEvidence>> {
    let Some(head) = reg.head(skill)? else {
        return Ok(None);
    };
    if head.status != VersionStatus::Candidate {
        return Ok(None);
    }
    let policy = reg.flags(skill)?.release();
    let trigger = trigger_job(reg, skill, head.version)?;
    Ok(Some(evidence_for(
        &head,
        &reg.outcomes(skill)?,
        trigger.as_deref(),
        &policy,
    )))
}

/// The job whose judged failure produced `version` (its changeset's job), if any.
fn trigger_job(
    reg: &mut dyn Registry,
    skill: &SkillRef,
    version: u32,
) -> anyhow::Result<Option<String>> {
    Ok(reg
        .changesets(skill)?
        .into_iter()
        .find(|c| c.version == version)
        .and_then(|c| c.job_id))
}

fn evidence_for(
    candidate: &SkillVersion,
    outcomes: &[OutcomeRow],
    trigger: Option<&str>,
    policy: &Policy,
) -> CandidateEvidence {
    let parent_version = candidate.parent_version.unwrap_or(0);
    let (judged, skill_failures) = counts(outcomes, candidate.version, None, None);
    let since = parse_time(&candidate.created_at);
    let m = u64::from(policy.promote_min_uses);
    let (mut pj, mut pf) = counts(outcomes, parent_version, since, trigger);
    let parent_same_period = pj >= m;
    if !parent_same_period {
        (pj, pf) = counts(outcomes, parent_version, None, trigger);
    }
    CandidateEvidence {
        version: candidate.version,
        parent_version,
        judged,
        skill_failures,
        parent_judged: pj,
        parent_skill_failures: pf,
        parent_same_period,
        needed: m.saturating_sub(judged),
    }
}

/// Automatic versions of the skill that the rules reverted within the last 7 days and since
/// the skill was last unfrozen, other than `except`. A person's withdrawal or rejection does not
/// count: the limit is about the loop misbehaving.
fn recent_automatic_reverts(history: &[SkillVersion], events: &[Event], except: u32) -> Vec<u32> {
    let week_ago = Utc::now() - Duration::days(REVERT_WINDOW_DAYS);
    let unfrozen = events
        .iter()
        .filter(|e| e.kind == EventKind::Unfrozen)
        .filter_map(|e| parse_time(&e.created_at))
        .max();
    let since = unfrozen.map_or(week_ago, |u| u.max(week_ago));
    let mut out: Vec<u32> = events
        .iter()
        .filter(|e| e.kind == EventKind::Reverted && e.actor == RULES_ACTOR)
        .filter(|e| e.version != except)
        .filter(|e| parse_time(&e.created_at).is_some_and(|t| t >= since))
        .filter(|e| {
            history
                .iter()
                .any(|v| v.version == e.version && v.source == VersionSource::Skillopt)
        })
        .map(|e| e.version)
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// One decision that was applied.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Applied {
    pub(crate) skill: String,
    pub(crate) version: u32,
    pub(crate) event: EventKind,
    pub(crate) figures: serde_json::Value,
    /// Set when the revert also froze the skill.
    pub(crate) frozen: Option<String>,
}

/// Evaluates every skill's candidate and applies what the rules decide. Returns what this
/// machine applied (another machine may have applied the same decision first).
pub(crate) fn evaluate(reg: &mut dyn Registry) -> anyhow::Result<Vec<Applied>> {
    let mut applied = Vec::new();
    let candidates: Vec<SkillVersion> = reg
        .installable()?
        .into_iter()
        .filter(|v| v.status == VersionStatus::Candidate)
        .collect();
    for cand in candidates {
        // A registry row is untrusted: a name that is not a skill is skipped.
        let Ok(skill) = cand.skill_ref() else {
            continue;
        };
        // One skill whose rows do not read (an untrusted registry) must not stop the others.
        match evaluate_one(reg, &skill, &cand) {
            Ok(Some(a)) => applied.push(a),
            Ok(None) => {}
            Err(e) => tracing::warn!(skill = %skill, "rollout rules skipped: {e:#}"),
        }
    }
    Ok(applied)
}

/// The transition the rules make of `cand` now (`None`: wait): its status change, its event
/// (actor `skillopt`, the figures that decided it), the fingerprint rejected on a revert, and a
/// freeze when this revert reaches the reversion limit. The worker applies it; the server
/// builds it again to check (and apply) a member's rollout decision.
pub(crate) fn decided_transition(
    reg: &mut dyn Registry,
    skill: &SkillRef,
    cand: &SkillVersion,
) -> anyhow::Result<Option<Transition>> {
    let flags = reg.flags(skill)?;
    let policy = flags.release();
    let trigger = trigger_job(reg, skill, cand.version)?;
    let e = evidence_for(cand, &reg.outcomes(skill)?, trigger.as_deref(), &policy);
    let decision = decide(&e, &policy);
    let (to, kind) = match decision {
        Decision::Wait => return Ok(None),
        Decision::Promote => (VersionStatus::Active, EventKind::Promoted),
        Decision::Revert => (VersionStatus::Reverted, EventKind::Reverted),
    };
    let figures = e.figures(&policy);
    let freeze = if decision == Decision::Revert
        && cand.source == VersionSource::Skillopt
        && !flags.frozen
    {
        let earlier =
            recent_automatic_reverts(&reg.history(skill)?, &reg.events(skill)?, e.version);
        (earlier.len() + 1 >= REVERTS_TO_FREEZE).then(|| {
            let all: Vec<String> = earlier
                .iter()
                .chain(std::iter::once(&e.version))
                .map(|v| format!("v{v}"))
                .collect();
            format!(
                "{} automatic versions reverted within {REVERT_WINDOW_DAYS} days ({})",
                all.len(),
                all.join(", ")
            )
        })
    } else {
        None
    };
    Ok(Some(Transition {
        skill: skill.clone(),
        version: e.version,
        from: vec![VersionStatus::Candidate],
        to,
        event: Event::new(skill, e.version, kind, RULES_ACTOR, figures),
        reject_fingerprint: decision == Decision::Revert,
        freeze,
    }))
}

fn evaluate_one(
    reg: &mut dyn Registry,
    skill: &SkillRef,
    cand: &SkillVersion,
) -> anyhow::Result<Option<Applied>> {
    let Some(t) = decided_transition(reg, skill, cand)? else {
        return Ok(None);
    };
    if !reg.transition(&t)? {
        return Ok(None);
    }
    let kind = t.event.kind;
    tracing::info!(skill = %skill, version = t.version, event = kind.as_str(), "rollout rule applied");
    Ok(Some(Applied {
        skill: skill.dir_name(),
        version: t.version,
        event: kind,
        figures: t.event.figures,
        frozen: t.freeze,
    }))
}

/// Sends the webhook notices of what this machine applied (each notice once: its outbox key
/// is the event, the skill and the version). `briefly`: a person waits (a CLI command), so
/// delivery gets a short budget and what is left goes at the next sync.
pub(crate) fn notify(
    paths: &skillopt_state::Paths,
    settings: &Settings,
    applied: &[Applied],
    briefly: bool,
) {
    use crate::webhook::{Notice, NoticeKind};
    let send = |n: Notice| {
        if briefly {
            crate::webhook::notify_briefly(paths, settings, n)
        } else {
            crate::webhook::notify(paths, settings, n)
        }
    };
    for a in applied {
        let Ok(skill) = SkillRef::parse(&a.skill) else {
            continue;
        };
        let (kind, status, reason) = match a.event {
            EventKind::Promoted => (
                NoticeKind::Promoted,
                "active",
                "its judged uses fail no more often than its parent's",
            ),
            _ => (
                NoticeKind::Reverted,
                "reverted",
                "its skill-at-fault failures outnumber its parent's",
            ),
        };
        send(Notice::new(
            kind,
            &skill,
            a.version,
            status,
            reason,
            a.figures.clone(),
        ));
        if let Some(why) = &a.frozen {
            send(Notice::new(
                NoticeKind::Frozen,
                &skill,
                a.version,
                "",
                why,
                a.figures.clone(),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        Policy::default()
    }

    fn ev(judged: u64, sf: u64, pj: u64, pf: u64) -> CandidateEvidence {
        CandidateEvidence {
            version: 2,
            parent_version: 1,
            judged,
            skill_failures: sf,
            parent_judged: pj,
            parent_skill_failures: pf,
            parent_same_period: true,
            needed: 0,
        }
    }

    #[test]
    fn the_rules() {
        let s = policy();
        // Five clean uses against a parent that failed: promote.
        assert_eq!(decide(&ev(5, 0, 1, 1), &s), Decision::Promote);
        // Four are not enough.
        assert_eq!(decide(&ev(4, 0, 0, 0), &s), Decision::Wait);
        // Equal rates promote ("not higher").
        assert_eq!(decide(&ev(5, 1, 5, 1), &s), Decision::Promote);
        // Two skill-at-fault failures and a higher rate: revert, even before M uses.
        assert_eq!(decide(&ev(2, 2, 4, 1), &s), Decision::Revert);
        // One failure is not enough to revert; with M uses and a higher rate it is no promote.
        assert_eq!(decide(&ev(5, 1, 5, 0), &s), Decision::Wait);
        // Two failures but a lower rate than the parent's: not reverted.
        assert_eq!(decide(&ev(10, 2, 4, 2), &s), Decision::Promote);
    }
}
