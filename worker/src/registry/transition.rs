//! Status changes and flag changes, written once over [`RegistryTx`]: each is one transaction
//! that changes the row only from the expected state and records its event, so two machines
//! applying the same rule at once change it once and log it once.

use serde_json::json;
use skillopt_shared::SkillRef;

use super::tx::RegistryTx;
use super::{Event, EventKind, Policy, Result, Transition};

/// Applies `t`; false when the version was not in any of `t.from` (nothing changed).
pub(crate) fn transition(mut tx: impl RegistryTx, t: &Transition) -> Result<bool> {
    tx.lock_skill(&t.skill)?;
    let mut changed = false;
    for from in &t.from {
        if tx.update_status(&t.skill, t.version, *from, t.to)? {
            changed = true;
            break;
        }
    }
    if !changed {
        return Ok(false);
    }
    tx.insert_event(&t.event)?;
    if t.reject_fingerprint {
        for fp in tx.version_fingerprints(&t.skill, t.version)? {
            tx.insert_rejected(&t.skill, &fp, t.version, t.event.kind.as_str())?;
        }
    }
    if let Some(reason) = &t.freeze {
        tx.set_frozen(&t.skill, true, reason)?;
        tx.insert_event(&Event::new(
            &t.skill,
            t.version,
            EventKind::Frozen,
            &t.event.actor,
            json!({ "reason": reason }),
        ))?;
    }
    tx.commit()?;
    Ok(true)
}

/// Freezes or unfreezes a skill's automatic edits, with its event.
pub(crate) fn set_frozen(
    mut tx: impl RegistryTx,
    skill: &SkillRef,
    frozen: bool,
    reason: &str,
    actor: &str,
) -> Result<()> {
    tx.lock_skill(skill)?;
    tx.set_frozen(skill, frozen, reason)?;
    let kind = if frozen {
        EventKind::Frozen
    } else {
        EventKind::Unfrozen
    };
    tx.insert_event(&Event::new(
        skill,
        0,
        kind,
        actor,
        json!({ "reason": reason }),
    ))?;
    tx.commit()
}

/// Sets a skill's release policy, with its event.
pub(crate) fn set_policy(
    mut tx: impl RegistryTx,
    skill: &SkillRef,
    policy: &Policy,
    actor: &str,
) -> Result<()> {
    tx.lock_skill(skill)?;
    tx.set_policy(skill, policy)?;
    tx.insert_event(&Event::new(
        skill,
        0,
        EventKind::Policy,
        actor,
        json!({
            "policy": policy.mode.as_str(),
            "canary_percent": policy.canary_percent,
            "promote_min_uses": policy.promote_min_uses,
            "revert_min_failures": policy.revert_min_failures,
        }),
    ))?;
    tx.commit()
}

/// Records an edit fingerprint as rejected, outside any version (a proposal the verifier
/// refused never became one).
pub(crate) fn reject_fingerprint(
    mut tx: impl RegistryTx,
    skill: &SkillRef,
    fingerprint: &str,
    reason: &str,
) -> Result<()> {
    tx.lock_skill(skill)?;
    tx.insert_rejected(skill, fingerprint, 0, reason)?;
    tx.commit()
}
