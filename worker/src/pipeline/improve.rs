//! The improve step: a confirmed skill-at-fault failure becomes a screened, bounded edit
//! published as the next version, then installed on this machine.
//!
//! decide (failure, at fault, confidence, not frozen, under the rate limit) → an open candidate
//! or proposal waits for its evidence → superseded? → propose (agent CLI) → apply
//! deterministically → gate → dedup (fingerprint, rejected ones included) → verify (a separate
//! agent call; a refusal records the fingerprint as rejected) → publish atomically on the head
//! with the status the skill's policy gives (`auto`: active, `canary`: candidate, `review`:
//! proposed; one transaction with the changeset; a job id publishes at most once) → install
//! every local copy (previous kept as a backup) unless it waits for review.
//! A per-skill lock serialises pipelines for one skill on one machine.

use std::time::Duration;

use serde::Serialize;
use skillopt_shared::edits::{self, Edit};
use skillopt_shared::gate;
use skillopt_shared::prompts::{proposer_prompt, PriorChange, PROPOSER_SYSTEM};
use skillopt_shared::sha256_hex;
use skillopt_shared::verdict::{clean, Outcome};
use skillopt_state::fsutil::FileLock;

use super::action::Action;
use super::judge::{JudgeInput, Judged};
use super::verify::{self, NoAnswer, Verified};
use super::Context;
use crate::agent::Role;
use crate::registry::{
    result_fingerprint, Changeset, NewVersion, PolicyMode, Registry, RegistryError, VersionSource,
    VersionStatus,
};
use crate::settings::Settings;

/// How long a pipeline waits for another pipeline of the same skill on this machine.
const SKILL_LOCK_WAIT: Duration = Duration::from_secs(15 * 60);

/// What the improve step did (the job's `action`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Improvement {
    /// `Published`, `Gated`, `Duplicate`, `Superseded`, `Conflict`, `Frozen`, `RateLimited`,
    /// `NoEdit`, `NotNeeded` or `Error`.
    pub action: Action,
    pub detail: String,
}

fn done(action: Action, detail: impl Into<String>) -> Improvement {
    Improvement {
        action,
        detail: detail.into(),
    }
}

/// Whether a verdict asks for an edit at all (before touching the registry).
pub fn wants_edit(settings: &Settings, judged: &Judged) -> Result<(), Improvement> {
    let v = &judged.verdict;
    if v.outcome != Outcome::Failure {
        return Err(done(
            Action::NotNeeded,
            format!("outcome {}", v.outcome.as_str()),
        ));
    }
    if !v.skill_at_fault {
        return Err(done(Action::NotNeeded, "the skill was not at fault"));
    }
    let min = settings.min_confidence.value;
    if v.confidence < min {
        return Err(done(
            Action::NotNeeded,
            format!("confidence {:.2} < {min:.2}", v.confidence),
        ));
    }
    Ok(())
}

fn prior_changes(reg: &mut dyn Registry, input: &JudgeInput) -> Vec<PriorChange> {
    let outcomes = reg.outcomes(&input.skill).unwrap_or_default();
    reg.changesets(&input.skill)
        .unwrap_or_default()
        .into_iter()
        .rev()
        .take(5)
        .map(|c| {
            let edits: Vec<Edit> = serde_json::from_str(&c.edits).unwrap_or_default();
            let summary = if edits.is_empty() {
                c.reason.clone()
            } else {
                edits
                    .iter()
                    .map(Edit::summary)
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            let judged: Vec<_> = outcomes
                .iter()
                .filter(|o| o.version == c.version && o.outcome != Outcome::Unclear)
                .collect();
            let failures = judged
                .iter()
                .filter(|o| o.outcome == Outcome::Failure && o.skill_at_fault)
                .count();
            PriorChange {
                version: c.version,
                summary,
                later_outcomes: format!(
                    "{} judged, {failures} skill-at-fault failures",
                    judged.len()
                ),
            }
        })
        .collect()
}

/// Runs the improve step for a judged failure. Never panics; every stop is an action.
pub fn improve(
    ctx: &Context<'_>,
    reg: &mut dyn Registry,
    input: &JudgeInput,
    judged: &Judged,
) -> Improvement {
    if let Err(stop) = wants_edit(ctx.settings, judged) {
        return stop;
    }
    let lock_path = ctx
        .paths
        .state_dir
        .join("locks")
        .join(format!("pipeline-{}.lock", input.skill.dir_name()));
    let _lock = match FileLock::acquire_within(&lock_path, SKILL_LOCK_WAIT) {
        Ok(l) => l,
        Err(e) => return done(Action::Error, e.to_string()),
    };
    match run_locked(ctx, reg, input, judged) {
        Ok(i) => i,
        Err(e) => done(Action::Error, format!("{e:#}")),
    }
}

fn run_locked(
    ctx: &Context<'_>,
    reg: &mut dyn Registry,
    input: &JudgeInput,
    judged: &Judged,
) -> anyhow::Result<Improvement> {
    let (paths, settings) = (ctx.paths, ctx.settings);
    let skill = &input.skill;
    // A job publishes at most once: after a crash between publish and finish, just reinstall.
    if let Some(cs) = reg.changeset_for_job(&input.job_id)? {
        if let Some(v) = reg.version(skill, cs.version)? {
            if matches!(v.status, VersionStatus::Active | VersionStatus::Candidate) {
                crate::install_skill::install(paths, &v, false)?;
            }
        }
        return Ok(done(
            Action::Published(cs.version),
            "already published by this job",
        ));
    }
    if reg.is_frozen(skill)? {
        return Ok(done(Action::Frozen, format!("{skill} is frozen")));
    }
    let since = (chrono::Utc::now() - chrono::Duration::hours(24))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let recent = reg.versions_since(skill, VersionSource::Skillopt, &since)?;
    let limit = settings.rate_limit.value;
    if recent >= limit {
        return Ok(done(
            Action::RateLimited,
            format!("{recent} automatic versions in 24 h (limit {limit})"),
        ));
    }
    let Some(latest) = reg.head(skill)? else {
        return Ok(done(
            Action::Error,
            format!("{skill} is not in the registry"),
        ));
    };
    if latest.status.is_open() {
        // The outcome counts towards that version's evidence; no new proposal until it is
        // decided.
        return Ok(done(
            Action::CandidateOpen(latest.version),
            format!(
                "v{} is {}: no new proposal until it is decided",
                latest.version, latest.status
            ),
        ));
    }
    if latest.version != input.version {
        return Ok(done(
            Action::Superseded,
            format!(
                "judged v{}, registry has v{}",
                input.version, latest.version
            ),
        ));
    }
    let kind = settings.choose_agent(input.agent.as_deref())?;
    let prior = prior_changes(reg, input);
    let prompt = proposer_prompt(
        &skill.dir_name(),
        latest.version,
        &latest.body,
        &judged.verdict.reason,
        &judged.verdict.evidence,
        &prior,
    );
    let reply = match ctx
        .agent
        .ask(kind, Role::Proposer, PROPOSER_SYSTEM, &prompt)
    {
        Ok(r) => r,
        Err(e) => {
            return Ok(match super::skip_reason(&e) {
                // Refused before the call (budget, circuit breaker): no proposal was asked.
                Some(why) => done(Action::Skipped(why), e.to_string()),
                None => done(Action::NoEdit, format!("proposer error: {e}")),
            });
        }
    };
    let proposed = edits::parse_edits(&reply.text);
    if proposed.is_empty() {
        return Ok(done(Action::NoEdit, "the proposer returned no usable edit"));
    }
    if proposed.len() > gate::MAX_EDITS {
        return Ok(done(
            Action::Gated(gate::Rule::TooManyEdits),
            format!("{} edits proposed", proposed.len()),
        ));
    }
    // Dedup before anything else: an identical proposal (same normalised edit list) was
    // already tried for this skill, whatever it would apply to now.
    let fingerprint = edits::fingerprint(&proposed);
    if reg.fingerprint_exists(skill, &fingerprint)? {
        return Ok(done(
            Action::Duplicate,
            format!("proposal fingerprint {}", &fingerprint[..12]),
        ));
    }
    let applied = edits::apply(&latest.body, &proposed)?;
    let skipped: Vec<String> = applied
        .skipped
        .iter()
        .map(|s| format!("{} ({})", s.edit.summary(), s.reason))
        .collect();
    if applied.applied.is_empty() {
        return Ok(done(
            Action::NoEdit,
            format!("no edit applied: {}", skipped.join("; ")),
        ));
    }
    if let Err(r) = gate::check(&latest.body, &applied.text, &applied.applied) {
        tracing::warn!(skill = %skill, rule = r.rule.as_str(), "proposal gated: {}", r.detail);
        return Ok(done(Action::Gated(r.rule), r.detail));
    }
    let applied_fp = edits::fingerprint(&applied.applied);
    if applied_fp != fingerprint && reg.fingerprint_exists(skill, &applied_fp)? {
        return Ok(done(
            Action::Duplicate,
            format!("applied-edits fingerprint {}", &applied_fp[..12]),
        ));
    }
    // However the edits are worded, a SKILL.md that was rejected or reverted stays so.
    let result_fp = result_fingerprint(&sha256_hex(&applied.text));
    if reg.fingerprint_exists(skill, &result_fp)? {
        return Ok(done(
            Action::Duplicate,
            "this SKILL.md was rejected or reverted before",
        ));
    }
    let checked = match verify::verify(ctx, kind, input, judged, &latest.body, &applied.text) {
        Verified::Confirmed(c) => c,
        Verified::Refused(c) => {
            reg.reject_fingerprint(skill, &fingerprint, "unverified")?;
            reg.reject_fingerprint(skill, &result_fp, "unverified")?;
            if applied_fp != fingerprint {
                reg.reject_fingerprint(skill, &applied_fp, "unverified")?;
            }
            let why = if c.verification.prevents_failure {
                format!(
                    "breaks earlier successes {}",
                    c.verification.breaks.join(", ")
                )
            } else {
                "does not prevent the failure".to_string()
            };
            return Ok(done(
                Action::Unverified,
                format!(
                    "verifier: {why} ({}); proposal {} rejected",
                    c.verification.reason,
                    &fingerprint[..12]
                ),
            ));
        }
        Verified::NoAnswer(NoAnswer::Agent(e)) => {
            return Ok(match super::skip_reason(&e) {
                Some(why) => done(Action::Skipped(why), format!("verifier not asked: {e}")),
                None => done(Action::Unverified, format!("verifier error: {e}")),
            })
        }
        Verified::NoAnswer(NoAnswer::Unparseable(reply)) => {
            return Ok(done(
                Action::Unverified,
                format!("unparseable verifier reply: {reply}"),
            ))
        }
    };
    let flags = reg.flags(skill)?;
    let status = match flags.policy {
        PolicyMode::Auto => VersionStatus::Active,
        PolicyMode::Canary => VersionStatus::Candidate,
        PolicyMode::Review => VersionStatus::Proposed,
    };
    let machine = skillopt_state::machine::load(paths)?;
    let diff = crate::unified_diff::between_versions(
        skill,
        latest.version,
        &latest.body,
        latest.version + 1,
        &applied.text,
    );
    let changeset = Changeset {
        fingerprint,
        edits: serde_json::to_string(&applied.applied)?,
        diff,
        reason: clean(&judged.verdict.reason),
        evidence: clean(&judged.verdict.evidence),
        job_id: Some(input.job_id.clone()),
        agent: kind.binary().into(),
        model: reply.model.unwrap_or_else(|| "default".into()),
        contributor: settings.user.value.clone(),
        verification: checked.record(),
        machine: machine.id,
        ..Changeset::next(skill, latest.version)
    };
    let new = NewVersion {
        skill: skill.clone(),
        parent_version: latest.version,
        body: applied.text,
        source: VersionSource::Skillopt,
        created_by: "skillopt".into(),
        status,
    };
    let published = match reg.publish(&new, Some(&changeset)) {
        Ok(v) => v,
        Err(e) if e.is_conflict() => return Ok(done(Action::Conflict, e.to_string())),
        Err(RegistryError::DuplicateJob(_)) => {
            return Ok(done(Action::Duplicate, "this job already published"))
        }
        Err(e) => return Err(e.into()),
    };
    // Webhook notice (nothing without SKILLOPT_WEBHOOK_URL; never fails). A version that
    // waits for a person is announced as a review request.
    crate::webhook::notify(
        paths,
        settings,
        crate::webhook::Notice::new(
            if published.status == VersionStatus::Proposed {
                crate::webhook::NoticeKind::ReviewRequested
            } else {
                crate::webhook::NoticeKind::Published
            },
            skill,
            published.version,
            published.status.as_str(),
            &changeset.reason,
            serde_json::json!({
                "parent_version": latest.version,
                "edits": changeset_edit_count(&changeset),
                "confidence": judged.verdict.confidence,
                "verified_against": checked.windows_checked,
                "job_id": input.job_id,
            }),
        ),
    );
    let mut detail = format!(
        "{} edit(s) applied, verified against {} earlier success(es), published as {}",
        changeset_edit_count(&changeset),
        checked.windows_checked,
        published.status
    );
    if published.status == VersionStatus::Proposed {
        detail.push_str(" (waits for review; not installed)");
        return Ok(done(Action::Published(published.version), detail));
    }
    let report = crate::install_skill::install(paths, &published, false)?;
    if !skipped.is_empty() {
        detail.push_str(&format!("; skipped: {}", skipped.join("; ")));
    }
    if !report.hand_edited.is_empty() {
        detail.push_str("; a hand-edited local copy was backed up");
    }
    Ok(done(Action::Published(published.version), detail))
}

fn changeset_edit_count(c: &Changeset) -> usize {
    serde_json::from_str::<Vec<Edit>>(&c.edits)
        .map(|v| v.len())
        .unwrap_or(0)
}
