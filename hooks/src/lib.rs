//! The three skillopt hook binaries share this library: read the payload, do the smallest
//! durable write, hand off to the detached worker, exit 0 with nothing on stdout.
//!
//! Rules every hook keeps (SPEC §3): stdin capped at 16 MiB, exit code always 0, stdout never
//! written (it would become model context), errors go to `log/hooks.log`, no network, no
//! database, no waiting for the worker. `SKILLOPT_DISABLED=1` or `SKILLOPT_WORKER=1` make every
//! hook a no-op.
//!
//! The installed commands name their agent (`skillopt-session-start --agent codex`), so the
//! payload's dialect is never guessed where it can be known.
//!
//! `main` resolves a [`HookContext`] once (paths and knobs) and hands it to the hook body with
//! the parsed payload. A body fails with a typed [`HookError`]; a body that panics is caught,
//! and the panic's location and message are written to `hooks.log` too. Either way the hook
//! exits 0.

pub mod context;
pub mod error;
pub mod prompt_submit;
pub mod session_start;
pub mod spawn;
pub mod tool_use;

use std::any::Any;
use std::io::Read;
use std::panic::Location;

use skillopt_shared::config::MAX_STDIN_BYTES;
use skillopt_shared::HookPayload;
use skillopt_state::Paths;

pub use context::HookContext;
pub use error::{HookError, HookResult};

/// A hook body.
pub type Body = fn(&HookContext, &HookPayload) -> HookResult;

/// Reads up to the cap. `None` when the payload was over the cap: reading stops there (never
/// to EOF, which may never come), so an agent still writing more than 16 MiB may see EPIPE. No
/// real payload comes near the cap.
fn read_capped(input: impl Read) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    let mut limited = input.take(MAX_STDIN_BYTES as u64 + 1);
    if limited.read_to_end(&mut buf).is_err() {
        return Some(buf);
    }
    (buf.len() <= MAX_STDIN_BYTES).then_some(buf)
}

/// `panicked at FILE:LINE:COL: MESSAGE`, the line a panic leaves in `hooks.log` (from the
/// panic hook's location and payload).
pub fn panic_line(location: Option<&Location<'_>>, payload: &(dyn Any + Send)) -> String {
    let message = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)");
    match location {
        Some(l) => format!(
            "panicked at {}:{}:{}: {message}",
            l.file(),
            l.line(),
            l.column()
        ),
        None => format!("panicked: {message}"),
    }
}

/// Replaces the panic hook with one that writes the panic (location and message) to
/// `hooks.log` and prints nothing: stdout and stderr stay clean for the agent.
pub fn log_panics_to(paths: Paths, hook: &'static str) {
    std::panic::set_hook(Box::new(move |info| {
        let line = panic_line(info.location(), info.payload());
        skillopt_state::log::hook_error(&paths, hook, &line);
    }));
}

/// Runs a hook body with every guarantee: no-op when disabled, payload parsed, panics caught
/// and logged, errors logged, exit 0.
pub fn run(hook: &'static str, body: Body) -> ! {
    // Silent until the log's place is known; a panic before that has nowhere to go.
    std::panic::set_hook(Box::new(|_| {}));
    if HookContext::disabled() {
        // Still consume the payload (up to the cap) so the agent's write never hits a closed
        // pipe.
        let _ = std::io::copy(
            &mut std::io::stdin().lock().take(MAX_STDIN_BYTES as u64 + 1),
            &mut std::io::sink(),
        );
    } else {
        let input = read_capped(std::io::stdin().lock());
        let outcome = std::panic::catch_unwind(|| {
            let (ctx, warning) = HookContext::from_env(hook, std::env::args().skip(1))?;
            log_panics_to(ctx.paths.clone(), hook);
            if let Some(w) = warning {
                skillopt_state::log::hook_error(&ctx.paths, hook, &w.log_line());
            }
            execute(&ctx, input, body);
            Ok::<(), HookError>(())
        });
        drop(outcome);
    }
    std::process::exit(0)
}

/// Parses the payload (`None`: over the cap) and runs the body on it, logging an error. A panic
/// is left to the caller's `catch_unwind` (and the panic hook's log line).
pub fn execute(ctx: &HookContext, input: Option<Vec<u8>>, body: Body) {
    #[cfg(debug_assertions)]
    if std::env::var_os("SKILLOPT_TEST_HOOK_PANIC").is_some_and(|v| v == ctx.hook) {
        // Debug builds only: lets a test check that a panicking hook is logged and exits 0.
        panic!("SKILLOPT_TEST_HOOK_PANIC={}", ctx.hook);
    }
    let result = match input {
        None => Err(HookError::PayloadTooLarge),
        Some(bytes) => HookPayload::parse(&bytes)
            .map_err(HookError::from)
            .and_then(|mut payload| {
                payload.declared_agent = ctx.declared_agent;
                body(ctx, &payload)
            }),
    };
    if let Err(e) = result {
        skillopt_state::log::hook_error(&ctx.paths, ctx.hook, &e.log_line());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(d: &std::path::Path, hook: &'static str) -> HookContext {
        HookContext::with_paths(hook, Paths::under(d))
    }

    fn log(c: &HookContext) -> String {
        std::fs::read_to_string(c.paths.log_dir().join("hooks.log")).unwrap_or_default()
    }

    fn boom(_: &HookContext, _: &HookPayload) -> HookResult {
        panic!("boom in the body")
    }

    /// A panicking body is caught, and the panic hook logs where and why. (The only test in
    /// this crate that panics on purpose: the panic hook is process-wide.)
    #[test]
    fn a_panic_is_logged_with_its_location() {
        let d = tempfile::tempdir().unwrap();
        let c = ctx(d.path(), "panicky");
        let previous = std::panic::take_hook();
        log_panics_to(c.paths.clone(), c.hook);
        // The line of the `panic!` in `boom`.
        let line = include_str!("lib.rs")
            .lines()
            .position(|l| l.trim() == "panic!(\"boom in the body\")")
            .unwrap()
            + 1;
        let caught =
            std::panic::catch_unwind(|| execute(&c, Some(br#"{"session_id":"s"}"#.to_vec()), boom));
        std::panic::set_hook(previous);
        assert!(caught.is_err());
        let log = log(&c);
        assert!(log.contains(" panicky: panicked at "), "{log}");
        assert!(
            log.contains(&format!("hooks/src/lib.rs:{line}:")) && log.contains("boom in the body"),
            "{log}"
        );
    }

    #[test]
    fn errors_are_logged_with_their_cause() {
        let d = tempfile::tempdir().unwrap();
        let c = ctx(d.path(), "session-start");
        execute(&c, None, session_start::handle);
        execute(&c, Some(b"  ".to_vec()), session_start::handle);
        execute(&c, Some(b"{}".to_vec()), session_start::handle);
        // `sessions` is a file: the write fails, and the line names the path and the cause.
        std::fs::create_dir_all(c.paths.log_dir()).unwrap();
        std::fs::write(c.paths.state_dir.join("sessions"), b"").unwrap();
        execute(
            &c,
            Some(br#"{"session_id":"s1","hook_event_name":"SessionStart"}"#.to_vec()),
            session_start::handle,
        );
        let log = log(&c);
        let lines: Vec<&str> = log.lines().collect();
        assert_eq!(lines.len(), 4, "{log}");
        assert!(lines[0].ends_with("payload larger than 16777216 bytes ignored"));
        assert!(lines[1].ends_with("session-start: hook payload is empty"));
        assert!(lines[2].ends_with("SessionStart payload without session_id"));
        assert!(
            lines[3].contains("state/sessions/s1") && lines[3].contains("directory"),
            "{log}"
        );
    }
}
