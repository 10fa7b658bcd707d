//! UserPromptSubmit (and Claude Code's UserPromptExpansion): a prompt that invokes an org skill
//! (`/name`, `$name`) arms a window; any other non-empty prompt while a window is open spends
//! one unit, queues a durable judge job and spawns the worker (once per prompt, even when the
//! hook is installed twice: see [`pending`]). Prompts the agent submits itself
//! (a finished background subagent's `<task-notification>`) are not reactions and spend nothing.

use skillopt_shared::config::MAX_REACTION_CHARS;
use skillopt_shared::text::take_chars;
use skillopt_shared::{bucket, skill_use, HookPayload};
use skillopt_state::jobs::{Job, JobKind, Queue};
use skillopt_state::manifest::Manifest;
use skillopt_state::pending;

use crate::tool_use::{arm_if_org, arm_if_org_in};
use crate::{HookContext, HookError, HookResult};

/// The hook body.
pub fn handle(ctx: &HookContext, p: &HookPayload) -> HookResult {
    let paths = &ctx.paths;
    let sid = p.session_id.as_deref().ok_or(HookError::MissingField {
        context: "",
        field: "session_id",
    })?;
    if p.hook_event_name.as_deref() == Some("UserPromptExpansion") {
        if p.command_source.as_deref() == Some("plugin") {
            return Ok(());
        }
        if let Some(name) = p.command_name.as_deref() {
            arm_if_org(ctx, p, name.trim_start_matches('/'), None)?;
        }
        return Ok(());
    }
    let prompt = p.prompt.as_deref().unwrap_or("");
    if prompt.trim().is_empty() || skill_use::is_synthetic_prompt(prompt) {
        return Ok(());
    }
    let mut armed = false;
    // References that could be org skills, taken lazily: the manifest is read once, and only
    // when there is one (a 2 MB prompt of `$x--y` tokens costs one read, not one per token),
    // and only the references that name installed org skills are kept (memory stays bounded
    // by the manifest, not by the prompt).
    let mut manifest: Option<Manifest> = None;
    let mut done: Vec<&str> = Vec::new();
    for candidate in skill_use::prompt_refs(prompt) {
        // Every org skill is `<name>--<author>`: anything else never costs a manifest read.
        // A reference that matches an installed entry is parsed once, by `arm_if_org_in`.
        if !candidate.contains("--") || done.contains(&candidate) {
            continue;
        }
        let m = match &manifest {
            Some(m) => m,
            None => manifest.insert(Manifest::load(paths)?),
        };
        if m.find_dir(candidate).is_some() {
            done.push(candidate);
            armed |= arm_if_org_in(ctx, m, p, candidate, None)?;
        }
    }
    if armed {
        // This prompt invokes the skill; the reaction comes in the next prompts.
        return Ok(());
    }
    let queue = Queue::new(paths);
    let fired = pending::spend(paths, sid, prompt, |w| {
        let mut job = Job::new(JobKind::Judge);
        job.session_id = Some(sid.to_string());
        job.agent = Some(w.agent.clone());
        job.skill = Some(w.skill.clone());
        job.version = Some(w.version);
        job.tool_use_id = w.tool_use_id.clone();
        job.transcript_path = p
            .transcript_path
            .clone()
            .or_else(|| w.transcript_path.clone());
        job.cwd = p.cwd.clone();
        job.agent_id = w.agent_id.clone();
        job.reaction = Some(take_chars(prompt, MAX_REACTION_CHARS));
        job.reaction_turn = Some(w.spent + 1);
        job.bucket = Some(bucket(sid));
        queue.enqueue(&job)?;
        Ok(job.id)
    })?;
    if let Some(job_id) = fired {
        crate::spawn::spawn_worker(&job_id)?;
    }
    Ok(())
}
