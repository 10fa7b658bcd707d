//! One registry method per route: the body parsed into the method's arguments (400 when it is
//! not them, or names an invalid skill), the method run on an opened backend, its result
//! answered as JSON. Runs on a blocking thread: the backends are synchronous.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::registry::wire::{self, ErrorKind, WireError};
use crate::registry::Registry;

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
];

/// Runs `method` with the arguments in `body` on `reg`.
pub fn call(reg: &mut dyn Registry, method: &str, body: &[u8]) -> Result<Value, WireError> {
    match method {
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
        "all_latest_active" | "installable" | "stats" | "all_flags" => {
            let _: wire::NoArgs = args(method, body)?;
            match method {
                "all_latest_active" => answer(reg.all_latest_active()),
                "installable" => answer(reg.installable()),
                "stats" => answer(reg.stats()),
                _ => answer(reg.all_flags()),
            }
        }
        "version" => {
            let a: wire::VersionArgs = args(method, body)?;
            answer(reg.version(&a.skill.to_ref()?, a.version))
        }
        "publish" => {
            let a: wire::PublishArgs = args(method, body)?;
            let new = a.new.into_new()?;
            if let Some(cs) = &a.changeset {
                if (cs.name.as_str(), cs.author.as_str())
                    != (new.skill.name.as_str(), new.skill.author.as_str())
                {
                    return Err(WireError::new(
                        ErrorKind::BadRequest,
                        "publish: the changeset is for another skill",
                    ));
                }
            }
            answer(reg.publish(&new, a.changeset.as_ref()))
        }
        "transition" => {
            let a: wire::TransitionArgs = args(method, body)?;
            answer(reg.transition(&a.into_transition()?))
        }
        "reject_fingerprint" => {
            let a: wire::RejectArgs = args(method, body)?;
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
            valid_ref(&a.row.name, &a.row.author)?;
            answer(reg.add_attribution(&a.row))
        }
        "add_outcome" => {
            let a: wire::OutcomeArgs = args(method, body)?;
            valid_ref(&a.row.name, &a.row.author)?;
            answer(reg.add_outcome(&a.row))
        }
        "set_frozen" => {
            let a: wire::FrozenArgs = args(method, body)?;
            answer(reg.set_frozen(&a.skill.to_ref()?, a.frozen, &a.reason, &a.actor))
        }
        "set_policy" => {
            let a: wire::PolicyArgs = args(method, body)?;
            answer(reg.set_policy(&a.skill.to_ref()?, &a.policy, &a.actor))
        }
        _ => Err(WireError::new(
            ErrorKind::NotFound,
            format!("no registry method {method:?}"),
        )),
    }
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
            let e = call(&mut *reg, method, body).unwrap_err();
            assert_eq!(e.kind, ErrorKind::BadRequest, "{method} {e:?}");
        }
        assert!(reg.all_latest_active().unwrap().is_empty());
        assert_eq!(
            call(&mut *reg, "stats", b"{}").unwrap(),
            serde_json::json!([])
        );
        assert_eq!(
            call(&mut *reg, "drop_tables", b"{}").unwrap_err().kind,
            ErrorKind::NotFound
        );
    }

    #[test]
    fn every_method_is_routed() {
        let (_dir, mut reg) = sqlite();
        for m in METHODS {
            // `{}` lacks the arguments of most methods: routed means "not 404".
            let r = call(&mut *reg, m, b"{}");
            assert!(
                r.as_ref().err().map(|e| e.kind) != Some(ErrorKind::NotFound),
                "{m}: {r:?}"
            );
        }
    }
}
