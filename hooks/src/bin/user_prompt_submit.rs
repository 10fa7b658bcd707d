//! `skillopt-user-prompt-submit`: the UserPromptSubmit / UserPromptExpansion hook (queues a
//! judge job for a reaction inside an open window).
#![no_main]
skillopt_hooks::hook_main!("user-prompt-submit", skillopt_hooks::prompt_submit::handle);
