//! One registry method per route: the body parsed into the method's arguments (400 when it is
//! not them, or names an invalid skill), the caller's role checked against what the call does
//! (403), who did it taken from the caller's token (`created_by`, `contributor`, `actor`; never
//! from the body), the method run on an opened backend, its result answered as JSON. Runs on a
//! blocking thread: the backends are synchronous.
//!
//! Roles (each may do what the ones before it may): reader — every read; member — attributions,
//! outcomes, automatic versions (`source: skillopt`) of any skill as its policy releases them
//! and their rollout (a candidate promoted or reverted when the evidence rules, run here again,
//! say so; recorded as actor `skillopt` with the member in the figures' `applied_by`; rejected
//! fingerprints), and pushes and reverts of skills
//! whose author is the member's own user name (folded like `push --author`); maintainer —
//! pushes and reverts of any skill, review (approve, reject) and any other status change,
//! freeze, policy; admin — everything.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use skillopt_shared::SkillRef;

use crate::registry::tokens::Role;
use crate::registry::wire::{self, ErrorKind, WireError};
use crate::registry::{EventKind, Registry, VersionSource, VersionStatus};

/// The actor of the automatic rollout rules' events (`rollout::RULES_ACTOR`).
const ROLLOUT_ACTOR: &str = "skillopt";

/// Who is calling: from their token, never from the request body.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: String,
    pub role: Role,
}

impl Caller {
    /// 403 unless the caller has at least `role`.
    fn need(&self, role: Role, what: &str) -> Result<(), WireError> {
        if self.role >= role {
            return Ok(());
        }
        Err(WireError::new(
            ErrorKind::Forbidden,
            format!(
                "{what} needs the {role} role; {} is a {}",
                self.user, self.role
            ),
        ))
    }

    /// 403 unless the caller may push or revert `skill`: a maintainer any skill, a member the
    /// skills under their own author name.
    fn may_change(&self, skill: &SkillRef, what: &str) -> Result<(), WireError> {
        if self.role >= Role::Maintainer {
            return Ok(());
        }
        self.need(Role::Member, what)?;
        let own = skillopt_shared::skill_ref::author_from_login(&self.user);
        if own.as_deref() == Some(skill.author.as_str()) {
            return Ok(());
        }
        Err(WireError::new(
            ErrorKind::Forbidden,
            format!(
                "{what} of {skill}: a member may change only skills whose author is their own \
                 ({}); {} is a member",
                own.as_deref().unwrap_or("none"),
                self.user
            ),
        ))
    }
}

/// The arguments of `method`, or a 400 naming what is wrong with them.
fn args<T: DeserializeOwned>(method: &str, body: &[u8]) -> Result<T, WireError> {
    serde_json::from_slice(body).map_err(|e| {
        WireError::new(
            ErrorKind::BadRequest,
            format!("{method}: malformed arguments: {e}"),
        )
    })
}

fn answer<T: Serialize>(r: crate::registry::Result<T>) -> Result<Value, WireError> {
    let v = r.map_err(|e| WireError::from_registry(&e))?;
    serde_json::to_value(v).map_err(|e| WireError::new(ErrorKind::Backend, e.to_string()))
}

/// Every method the server answers, in the trait's order.
#[cfg(test)]
pub const METHODS: &[&str] = &[
    "latest",
    "head",
    "version",
    "history",
    "all_latest_active",
    "installable",
    "publish",
    "transition",
    "reject_fingerprint",
    "events",
    "changesets",
    "changeset_for_job",
    "fingerprint_exists",
    "versions_since",
    "add_attribution",
    "add_outcome",
    "outcome_for_job",
    "outcomes",
    "stats",
    "attributions",
    "set_frozen",
    "set_policy",
    "flags",
    "all_flags",
    "revision",
    "whoami",
];

/// Runs `method` with the arguments in `body` on `reg`, as `caller` may.
pub fn call(
    reg: &mut dyn Registry,
    caller: &Caller,
    method: &str,
    body: &[u8],
) -> Result<Value, WireError> {
    match method {
        "whoami" => {
            let _: wire::NoArgs = args(method, body)?;
            answer(Ok(wire::WhoAmI {
                user: caller.user.clone(),
                role: caller.role,
            }))
        }
        "latest" | "head" | "history" | "events" | "changesets" | "outcomes" | "attributions"
        | "flags" => {
            let a: wire::SkillArgs = args(method, body)?;
            let s = a.skill.to_ref()?;
            match method {
                "latest" => answer(reg.latest(&s)),
                "head" => answer(reg.head(&s)),
                "history" => answer(reg.history(&s)),
                "events" => answer(reg.events(&s)),
                "changesets" => answer(reg.changesets(&s)),
                "outcomes" => answer(reg.outcomes(&s)),
                "attributions" => answer(reg.attributions(&s)),
                _ => answer(reg.flags(&s)),
            }
        }
        "all_latest_active" | "installable" | "stats" | "all_flags" | "revision" => {
            let _: wire::NoArgs = args(method, body)?;
            match method {
                "all_latest_active" => answer(reg.all_latest_active()),
                "installable" => answer(reg.installable()),
                "stats" => answer(reg.stats()),
                "revision" => answer(reg.revision()),
                _ => answer(reg.all_flags()),
            }
        }
        "version" => {
            let a: wire::VersionArgs = args(method, body)?;
            answer(reg.version(&a.skill.to_ref()?, a.version))
        }
        "publish" => {
            let a: wire::PublishArgs = args(method, body)?;
            let mut new = a.new.into_new()?;
            let mut changeset = a.changeset;
            match new.source {
                VersionSource::Skillopt => {
                    caller.need(Role::Member, "an automatic version")?;
                    if caller.role < Role::Maintainer {
                        automatic_as_the_policy_says(reg, &new)?;
                    }
                }
                VersionSource::Push => caller.may_change(&new.skill, "a push")?,
                VersionSource::Revert => caller.may_change(&new.skill, "a revert")?,
            }
            new.created_by = caller.user.clone();
            if let Some(cs) = &mut changeset {
                cs.contributor = caller.user.clone();
            }
            if let Some(cs) = &changeset {
                if (cs.name.as_str(), cs.author.as_str())
                    != (new.skill.name.as_str(), new.skill.author.as_str())
                {
                    return Err(WireError::new(
                        ErrorKind::BadRequest,
                        "publish: the changeset is for another skill",
                    ));
                }
            }
            answer(reg.publish(&new, changeset.as_ref()))
        }
        "transition" => {
            let a: wire::TransitionArgs = args(method, body)?;
            let mut t = a.into_transition()?;
            if (
                t.event.name.as_str(),
                t.event.author.as_str(),
                t.event.version,
            ) != (t.skill.name.as_str(), t.skill.author.as_str(), t.version)
            {
                return Err(WireError::new(
                    ErrorKind::BadRequest,
                    "transition: the event is about another version",
                ));
            }
            let rollout = matches!(t.event.kind, EventKind::Promoted | EventKind::Reverted)
                && t.from == [VersionStatus::Candidate];
            if rollout {
                // The evidence rules any member's worker applies to a candidate: recorded as
                // the rules' doing (`skillopt`, which the reversion limit counts), with the
                // member whose machine applied them in the figures.
                caller.need(Role::Member, "a rollout decision")?;
                if caller.role < Role::Maintainer {
                    rollout_as_the_rules_say(reg, &t)?;
                }
                t.event.actor = ROLLOUT_ACTOR.to_string();
                if let Some(figures) = t.event.figures.as_object_mut() {
                    figures.insert("applied_by".into(), caller.user.clone().into());
                }
            } else {
                caller.need(Role::Maintainer, "a review or status change")?;
                t.event.actor = caller.user.clone();
            }
            answer(reg.transition(&t))
        }
        "reject_fingerprint" => {
            let a: wire::RejectArgs = args(method, body)?;
            caller.need(Role::Member, "rejecting an edit")?;
            answer(reg.reject_fingerprint(&a.skill.to_ref()?, &a.fingerprint, &a.reason))
        }
        "changeset_for_job" => {
            let a: wire::JobArgs = args(method, body)?;
            answer(reg.changeset_for_job(&a.job_id))
        }
        "outcome_for_job" => {
            let a: wire::JobArgs = args(method, body)?;
            answer(reg.outcome_for_job(&a.job_id))
        }
        "fingerprint_exists" => {
            let a: wire::FingerprintArgs = args(method, body)?;
            answer(reg.fingerprint_exists(&a.skill.to_ref()?, &a.fingerprint))
        }
        "versions_since" => {
            let a: wire::SinceArgs = args(method, body)?;
            answer(reg.versions_since(&a.skill.to_ref()?, a.source, &a.since))
        }
        "add_attribution" => {
            let a: wire::AttributionArgs = args(method, body)?;
            caller.need(Role::Member, "recording an attribution")?;
            valid_ref(&a.row.name, &a.row.author)?;
            answer(reg.add_attribution(&a.row))
        }
        "add_outcome" => {
            let a: wire::OutcomeArgs = args(method, body)?;
            caller.need(Role::Member, "recording an outcome")?;
            valid_ref(&a.row.name, &a.row.author)?;
            answer(reg.add_outcome(&a.row))
        }
        "set_frozen" => {
            let a: wire::FrozenArgs = args(method, body)?;
            let skill = a.skill.to_ref()?;
            caller.need(Role::Maintainer, "freezing or unfreezing a skill")?;
            answer(reg.set_frozen(&skill, a.frozen, &a.reason, &caller.user))
        }
        "set_policy" => {
            let a: wire::PolicyArgs = args(method, body)?;
            let skill = a.skill.to_ref()?;
            caller.need(Role::Maintainer, "setting a policy")?;
            answer(reg.set_policy(&skill, &a.policy, &caller.user))
        }
        _ => Err(WireError::new(
            ErrorKind::NotFound,
            format!("no registry method {method:?}"),
        )),
    }
}

/// A member's automatic version must be what the pipeline publishes: the status the skill's
/// policy gives (`auto`: active, `canary`: candidate, `review`: proposed), and nothing while
/// automatic edits are frozen (403 otherwise).
fn automatic_as_the_policy_says(
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

/// A member's rollout decision must be the one the rules make on the registry's evidence now
/// (the same `rollout::decide` every worker runs), so a member token cannot promote or revert a
/// candidate at will (403). A version that is no longer a candidate passes: the transition then
/// changes nothing (another machine applied it first).
fn rollout_as_the_rules_say(
    reg: &mut dyn Registry,
    t: &crate::registry::Transition,
) -> Result<(), WireError> {
    let backend = |e: anyhow::Error| WireError::new(ErrorKind::Backend, format!("{e:#}"));
    let still_candidate = reg
        .version(&t.skill, t.version)
        .map_err(|e| WireError::from_registry(&e))?
        .is_some_and(|v| v.status == VersionStatus::Candidate);
    if !still_candidate {
        return Ok(());
    }
    let policy = reg
        .flags(&t.skill)
        .map_err(|e| WireError::from_registry(&e))?
        .release();
    let decided = crate::rollout::candidate_evidence(reg, &t.skill)
        .map_err(backend)?
        .filter(|e| e.version == t.version)
        .map(|e| crate::rollout::decide(&e, &policy));
    let agrees = matches!(
        (decided, t.event.kind),
        (Some(crate::rollout::Decision::Promote), EventKind::Promoted)
            | (Some(crate::rollout::Decision::Revert), EventKind::Reverted)
    );
    if agrees {
        return Ok(());
    }
    Err(WireError::new(
        ErrorKind::Forbidden,
        format!(
            "the rollout rules do not decide {} for {} v{} on the evidence now",
            t.event.kind, t.skill, t.version
        ),
    ))
}

fn valid_ref(name: &str, author: &str) -> Result<(), WireError> {
    wire::Skill {
        name: name.into(),
        author: author.into(),
    }
    .to_ref()
    .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admin() -> Caller {
        Caller {
            user: "root".into(),
            role: Role::Admin,
        }
    }

    fn sqlite() -> (tempfile::TempDir, Box<dyn Registry>) {
        let dir = tempfile::tempdir().unwrap();
        let reg = crate::registry::RegistryUrl::Sqlite(dir.path().join("r.sqlite3"))
            .open()
            .unwrap();
        (dir, reg)
    }

    #[test]
    fn malformed_and_invalid_arguments_are_bad_requests_that_change_nothing() {
        let (_dir, mut reg) = sqlite();
        for (method, body) in [
            ("publish", &b"{not json"[..]),
            ("publish", br#"{"new": {"skill": {"name": "x"}}}"#),
            (
                "publish",
                br#"{"new": {"skill": {"name": "../x", "author": "alice"}, "parent_version": 0,
                   "body": "b", "source": "push", "created_by": "a", "status": "active"},
                   "changeset": null}"#,
            ),
            (
                "latest",
                br#"{"skill": {"name": "Deploy", "author": "alice"}}"#,
            ),
            ("stats", b"42"),
        ] {
            let e = call(&mut *reg, &admin(), method, body).unwrap_err();
            assert_eq!(e.kind, ErrorKind::BadRequest, "{method} {e:?}");
        }
        assert!(reg.all_latest_active().unwrap().is_empty());
        assert_eq!(
            call(&mut *reg, &admin(), "stats", b"{}").unwrap(),
            serde_json::json!([])
        );
        assert_eq!(
            call(&mut *reg, &admin(), "drop_tables", b"{}")
                .unwrap_err()
                .kind,
            ErrorKind::NotFound
        );
    }

    #[test]
    fn every_method_is_routed() {
        let (_dir, mut reg) = sqlite();
        for m in METHODS {
            // `{}` lacks the arguments of most methods: routed means "not 404".
            let r = call(&mut *reg, &admin(), m, b"{}");
            assert!(
                r.as_ref().err().map(|e| e.kind) != Some(ErrorKind::NotFound),
                "{m}: {r:?}"
            );
        }
    }

    fn who(user: &str, role: Role) -> Caller {
        Caller {
            user: user.into(),
            role,
        }
    }

    fn push_body(author: &str, parent: u32, source: &str) -> Vec<u8> {
        publish_body(author, parent, source, "active")
    }

    fn publish_body(author: &str, parent: u32, source: &str, status: &str) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "new": {"skill": {"name": "deploy", "author": author}, "parent_version": parent,
                    "body": format!("body {parent} {source}"), "source": source,
                    "created_by": "mallory", "status": status},
            "changeset": null,
        }))
        .unwrap()
    }

    #[test]
    fn roles_decide_what_a_call_may_do_and_the_token_decides_who_did_it() {
        let (_dir, mut reg) = sqlite();
        let r = &mut *reg;
        let forbidden = |r: Result<Value, WireError>| {
            assert_eq!(r.map(drop).unwrap_err().kind, ErrorKind::Forbidden)
        };
        let reader = who("rita", Role::Reader);
        let alice = who("Alice", Role::Member);
        let carol = who("carol", Role::Maintainer);
        // Reader: reads only.
        call(r, &reader, "stats", b"{}").unwrap();
        forbidden(call(r, &reader, "publish", &push_body("rita", 0, "push")));
        // Member: own author only for pushes (the user name folded like --author) …
        forbidden(call(r, &alice, "publish", &push_body("bob", 0, "push")));
        let v = call(r, &alice, "publish", &push_body("alice", 0, "push")).unwrap();
        assert_eq!(
            v["created_by"], "Alice",
            "created_by from the token, not the body"
        );
        // … automatic versions of anyone's skill, but no freeze, policy or review.
        call(r, &carol, "publish", &push_body("bob", 0, "push")).unwrap();
        // (as the skill's policy says: a candidate under the default canary policy)
        forbidden(call(r, &alice, "publish", &push_body("bob", 1, "skillopt")));
        call(
            r,
            &alice,
            "publish",
            &publish_body("bob", 1, "skillopt", "candidate"),
        )
        .unwrap();
        forbidden(call(r, &alice, "publish", &push_body("bob", 2, "revert")));
        let freeze = br#"{"skill": {"name": "deploy", "author": "bob"}, "frozen": true,
                          "reason": "r", "actor": "mallory"}"#;
        forbidden(call(r, &alice, "set_frozen", freeze));
        let skill = SkillRef::new("deploy", "bob").unwrap();
        let review = wire::TransitionArgs::from(&crate::registry::Transition {
            skill: skill.clone(),
            version: 2,
            from: vec![crate::registry::VersionStatus::Candidate],
            to: crate::registry::VersionStatus::Reverted,
            event: crate::registry::Event::new(
                &skill,
                2,
                EventKind::Rejected,
                "mallory",
                serde_json::json!({}),
            ),
            reject_fingerprint: false,
            freeze: None,
        });
        let review = serde_json::to_vec(&review).unwrap();
        forbidden(call(r, &alice, "transition", &review));
        // Maintainer: all of it, recorded under their name.
        call(r, &carol, "set_frozen", freeze).unwrap();
        assert_eq!(call(r, &carol, "transition", &review).unwrap(), true);
        let actors: Vec<String> = r
            .events(&skill)
            .unwrap()
            .into_iter()
            .map(|e| format!("{}:{}", e.kind, e.actor))
            .collect();
        assert!(actors.contains(&"frozen:carol".to_string()), "{actors:?}");
        assert!(actors.contains(&"rejected:carol".to_string()), "{actors:?}");
        assert!(!actors.iter().any(|a| a.contains("mallory")), "{actors:?}");
        // A member's worker applies the rollout rules to a candidate: recorded as the rules'.
        let cand = serde_json::to_vec(&serde_json::json!({
            "new": {"skill": {"name": "deploy", "author": "bob"}, "parent_version": 1,
                    "body": "candidate", "source": "skillopt", "created_by": "x",
                    "status": "candidate"},
            "changeset": null,
        }))
        .unwrap();
        // Not while automatic edits are frozen.
        forbidden(call(r, &alice, "publish", &cand));
        let unfreeze = br#"{"skill": {"name": "deploy", "author": "bob"}, "frozen": false,
                            "reason": "", "actor": "mallory"}"#;
        call(r, &carol, "set_frozen", unfreeze).unwrap();
        let v = call(r, &alice, "publish", &cand).unwrap();
        let rollout = |version: u32, from: crate::registry::VersionStatus| {
            serde_json::to_vec(&wire::TransitionArgs::from(&crate::registry::Transition {
                skill: skill.clone(),
                version,
                from: vec![from],
                to: crate::registry::VersionStatus::Active,
                event: crate::registry::Event::new(
                    &skill,
                    version,
                    EventKind::Promoted,
                    "mallory",
                    serde_json::json!({"judged": 5}),
                ),
                reject_fingerprint: false,
                freeze: None,
            }))
            .unwrap()
        };
        let version = v["version"].as_u64().unwrap() as u32;
        // Not on no evidence: the rules would wait.
        forbidden(call(
            r,
            &alice,
            "transition",
            &rollout(version, crate::registry::VersionStatus::Candidate),
        ));
        for i in 0..crate::registry::Policy::default().promote_min_uses {
            let outcome = serde_json::json!({"row": {
                "id": format!("o{i}"), "job_id": format!("j{i}"), "name": "deploy",
                "author": "bob", "version": version, "bucket": 1, "outcome": "success",
                "skill_at_fault": false, "confidence": 0.9, "reason": "fine",
                "agent": "claude", "model": "haiku", "judged_at": "2026-11-27T00:00:00.000Z",
            }});
            call(
                r,
                &alice,
                "add_outcome",
                &serde_json::to_vec(&outcome).unwrap(),
            )
            .unwrap();
        }
        forbidden(call(
            r,
            &alice,
            "transition",
            &rollout(version, crate::registry::VersionStatus::Proposed),
        ));
        assert_eq!(
            call(
                r,
                &alice,
                "transition",
                &rollout(version, crate::registry::VersionStatus::Candidate)
            )
            .unwrap(),
            true
        );
        let promoted = r
            .events(&skill)
            .unwrap()
            .into_iter()
            .find(|e| e.kind == EventKind::Promoted)
            .unwrap();
        assert_eq!(promoted.actor, "skillopt");
        assert_eq!(promoted.figures["applied_by"], "Alice");
        // What was refused changed nothing.
        assert_eq!(r.history(&skill).unwrap().len(), 3);
    }
}
