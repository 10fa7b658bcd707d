//! Unified diffs of skill bodies: what `skillopt diff` prints and what a changeset stores.

use skillopt_shared::SkillRef;

/// Unified diff of two texts with `--- a` / `+++ b` headers.
pub(crate) fn unified(a: &str, b: &str, a_name: &str, b_name: &str) -> String {
    similar::TextDiff::from_lines(a, b)
        .unified_diff()
        .context_radius(3)
        .header(a_name, b_name)
        .to_string()
}

/// Unified diff between two versions' bodies, headed `<skill>@v<from>` / `<skill>@v<to>`.
pub(crate) fn between_versions(
    skill: &SkillRef,
    from: u32,
    old: &str,
    to: u32,
    new: &str,
) -> String {
    unified(
        old,
        new,
        &format!("{skill}@v{from}"),
        &format!("{skill}@v{to}"),
    )
}
