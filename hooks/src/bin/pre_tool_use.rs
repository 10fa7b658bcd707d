//! `skillopt-pre-tool-use`: the PreToolUse hook (arms a judgment window on an org-skill use).
fn main() {
    skillopt_hooks::run("pre-tool-use", skillopt_hooks::tool_use::handle)
}
