//! PreToolUse: when a tool call uses an org skill (per the manifest), arm the session's
//! judgment window. Never blocks or alters the tool call.

use skillopt_shared::{skill_use, HookPayload, SkillRef};
use skillopt_state::manifest::Manifest;
use skillopt_state::now_rfc3339;
use skillopt_state::pending::{self, Pending};

use crate::{HookContext, HookError, HookResult};

/// Arms the window of `p`'s session for `candidate` if it is an installed org skill.
/// Returns whether it armed.
pub fn arm_if_org(
    ctx: &HookContext,
    p: &HookPayload,
    candidate: &str,
    tool_use_id: Option<String>,
) -> HookResult<bool> {
    if SkillRef::parse(candidate).is_err() {
        return Ok(false);
    }
    let manifest = Manifest::load(&ctx.paths)?;
    arm_if_org_in(ctx, &manifest, p, candidate, tool_use_id)
}

/// [`arm_if_org`] against a manifest already loaded (a prompt may name many candidates; the
/// manifest is read once).
pub fn arm_if_org_in(
    ctx: &HookContext,
    manifest: &Manifest,
    p: &HookPayload,
    candidate: &str,
    tool_use_id: Option<String>,
) -> HookResult<bool> {
    let Ok(r) = SkillRef::parse(candidate) else {
        return Ok(false);
    };
    let sid = p.session_id.as_deref().ok_or(HookError::MissingField {
        context: "",
        field: "session_id",
    })?;
    let Some(entry) = manifest.find(&r) else {
        return Ok(false);
    };
    let window = Pending {
        skill: r.dir_name(),
        version: entry.version,
        tool_use_id,
        transcript_path: p.transcript_path.clone(),
        agent: p.agent().as_str().to_string(),
        agent_id: p.agent_id.clone(),
        armed_at: now_rfc3339(),
        budget: ctx.judge_window,
        spent: 0,
        session_id: Some(sid.to_string()),
        last_reaction: None,
    };
    pending::arm(&ctx.paths, sid, &window)?;
    Ok(true)
}

/// The hook body.
pub fn handle(ctx: &HookContext, p: &HookPayload) -> HookResult {
    let (Some(tool), Some(input)) = (p.tool_name.as_deref(), p.tool_input.as_ref()) else {
        return Ok(());
    };
    let Some(candidate) = skill_use::from_tool_call(tool, input) else {
        return Ok(());
    };
    arm_if_org(ctx, p, &candidate, p.tool_use_id.clone()).map(drop)
}
