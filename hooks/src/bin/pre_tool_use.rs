//! `skillopt-pre-tool-use`: the PreToolUse hook (arms a judgment window on an org-skill use).
#![no_main]
skillopt_hooks::hook_main!("pre-tool-use", skillopt_hooks::tool_use::handle);
