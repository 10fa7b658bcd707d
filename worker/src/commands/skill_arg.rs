//! The `<skill>` argument of `log`, `diff`, `revert`, `freeze`: `name--author`, or a bare name
//! that is unique in the registry.

use skillopt_shared::SkillRef;

use crate::registry::Registry;

/// Resolves a CLI skill argument: `name--author`, or a bare name that is unique in the registry.
pub(crate) fn resolve_skill(reg: &mut dyn Registry, arg: &str) -> anyhow::Result<SkillRef> {
    if let Ok(r) = SkillRef::parse(arg) {
        return Ok(r);
    }
    let matches: Vec<SkillRef> = reg
        .all_latest_active()?
        .into_iter()
        .filter(|v| v.name == arg)
        .filter_map(|v| v.skill_ref().ok())
        .collect();
    match matches.as_slice() {
        [one] => Ok(one.clone()),
        [] => anyhow::bail!("no org skill named {arg:?} in the registry"),
        many => anyhow::bail!(
            "{arg:?} is ambiguous: {}",
            many.iter()
                .map(|r| r.dir_name())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}
