//! What a member's writes must be, checked before they reach the registry: a member may publish
//! automatic versions of anyone's skill and apply the rollout rules to candidates (issue 11),
//! but only as a worker does them, so a member token cannot put arbitrary text into someone
//! else's skill or promote, revert or freeze at will (403 otherwise). Maintainers and admins
//! are not held to these.

use serde_json::Value;

use crate::registry::wire::{ErrorKind, WireError};
use crate::registry::{Registry, VersionStatus};

use super::routes::{answer, Caller};

/// A member's automatic version must be what the pipeline publishes: the status the skill's
/// policy gives (`auto`: active, `canary`: candidate, `review`: proposed), and nothing while
/// automatic edits are frozen (403 otherwise).
pub(super) fn automatic_as_the_policy_says(
    reg: &mut dyn Registry,
    new: &crate::registry::NewVersion,
) -> Result<(), WireError> {
    use crate::registry::PolicyMode;
    let flags = reg
        .flags(&new.skill)
        .map_err(|e| WireError::from_registry(&e))?;
    let forbidden = |why: String| Err(WireError::new(ErrorKind::Forbidden, why));
    if flags.frozen {
        return forbidden(format!("automatic edits of {} are frozen", new.skill));
    }
    let expected = match flags.policy {
        PolicyMode::Auto => VersionStatus::Active,
        PolicyMode::Canary => VersionStatus::Candidate,
        PolicyMode::Review => VersionStatus::Proposed,
    };
    if new.status != expected {
        return forbidden(format!(
            "an automatic version of {} is published {expected} under its {} policy, not {}",
            new.skill, flags.policy, new.status
        ));
    }
    Ok(())
}

/// A member's automatic version must be what a worker publishes: an edit of the parent version
/// (never a new skill) whose body is exactly the parent with the changeset's edits applied, and
/// that the deterministic safety gate lets through, with a changeset from a judged job. The
/// diff shown for it is made here (its time is the version's, set by `publish`). Anything else is 403: a member token cannot
/// put arbitrary text into someone else's skill.
pub(super) fn automatic_as_the_gate_says(
    reg: &mut dyn Registry,
    new: &crate::registry::NewVersion,
    changeset: Option<&mut crate::registry::Changeset>,
) -> Result<(), WireError> {
    use skillopt_shared::{edits, gate};
    let forbidden = |why: String| WireError::new(ErrorKind::Forbidden, why);
    let Some(cs) = changeset.filter(|c| c.job_id.is_some()) else {
        return Err(forbidden(format!(
            "an automatic version of {} comes with the changeset of the job that judged it",
            new.skill
        )));
    };
    let parent = match new.parent_version {
        0 => None,
        v => reg
            .version(&new.skill, v)
            .map_err(|e| WireError::from_registry(&e))?,
    };
    let Some(parent) = parent else {
        return Err(forbidden(format!(
            "an automatic version edits an existing version of {}; v{} is not one",
            new.skill, new.parent_version
        )));
    };
    let declared: Vec<edits::Edit> = serde_json::from_str(&cs.edits).map_err(|e| {
        WireError::new(
            ErrorKind::BadRequest,
            format!("publish: the changeset's edits do not read: {e}"),
        )
    })?;
    let applied = edits::apply(&parent.body, &declared).map_err(|e| {
        forbidden(format!(
            "the changeset's edits do not apply to v{}: {e}",
            parent.version
        ))
    })?;
    if applied.text != new.body || applied.applied.len() != declared.len() {
        return Err(forbidden(format!(
            "the body of an automatic version of {} is not v{} with its changeset's edits",
            new.skill, parent.version
        )));
    }
    gate::check(&parent.body, &new.body, &applied.applied).map_err(|r| {
        forbidden(format!(
            "the safety gate refuses this version of {} ({}): {}",
            new.skill,
            r.rule.as_str(),
            r.detail
        ))
    })?;
    cs.diff = crate::unified_diff::between_versions(
        &new.skill,
        parent.version,
        &parent.body,
        parent.version + 1,
        &new.body,
    );
    Ok(())
}

/// A member's rollout decision: applied only as the rules make it on the registry's evidence
/// now (the same `rollout::decided_transition` every worker runs, built here: nothing of the
/// request but the decision asked for is used), so a member token cannot promote, revert or
/// freeze at will (403). A version that is no longer a candidate changes nothing (another
/// machine applied the decision first): `false`.
pub(super) fn answer_rollout(
    reg: &mut dyn Registry,
    caller: &Caller,
    asked: &crate::registry::Transition,
) -> Result<Value, WireError> {
    let backend = |e: anyhow::Error| WireError::new(ErrorKind::Backend, format!("{e:#}"));
    let candidate = reg
        .version(&asked.skill, asked.version)
        .map_err(|e| WireError::from_registry(&e))?
        .filter(|v| v.status == VersionStatus::Candidate);
    let Some(candidate) = candidate else {
        return answer(Ok(false));
    };
    let decided =
        crate::rollout::decided_transition(reg, &asked.skill, &candidate).map_err(backend)?;
    match decided {
        Some(mut t) if t.event.kind == asked.event.kind => {
            if let Some(f) = t.event.figures.as_object_mut() {
                f.insert("applied_by".into(), caller.user.clone().into());
            }
            answer(reg.transition(&t))
        }
        _ => Err(WireError::new(
            ErrorKind::Forbidden,
            format!(
                "the rollout rules do not decide {} for {} v{} on the evidence now",
                asked.event.kind, asked.skill, asked.version
            ),
        )),
    }
}
