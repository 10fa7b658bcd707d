//! `skillopt-session-start`: the SessionStart hook (attribution + sync request).
#![no_main]
skillopt_hooks::hook_main!("session-start", skillopt_hooks::session_start::handle);
