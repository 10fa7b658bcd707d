//! `skillopt-user-prompt-submit`: the UserPromptSubmit / UserPromptExpansion hook (queues a
//! judge job for a reaction inside an open window).
fn main() {
    skillopt_hooks::run("user-prompt-submit", skillopt_hooks::prompt_submit::handle)
}
