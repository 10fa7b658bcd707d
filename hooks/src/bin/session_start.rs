//! `skillopt-session-start`: the SessionStart hook (attribution + sync request).
fn main() {
    skillopt_hooks::run("session-start", skillopt_hooks::session_start::handle)
}
