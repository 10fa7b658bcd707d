//! The three skillopt hook binaries share this library: read the payload, do the smallest
//! durable write, hand off to the detached worker, exit 0 with nothing on stdout.
//!
//! Rules every hook keeps (SPEC §3): stdin capped at 16 MiB, exit code always 0, stdout never
//! written (it would become model context), errors go to `log/hooks.log`, no network, no
//! database, no waiting for the worker. `SKILLOPT_DISABLED=1` or `SKILLOPT_WORKER=1` make every
//! hook a no-op. The one exception to the silent stdout is an explicit `--version`, the sole
//! argument (no agent passes it): it prints the version and commit and exits.
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

/// Non-object input kept for its error message (a JSON parse of this much names the defect).
const KEPT_PREFIX: usize = 64 * 1024;

/// Reads the payload, up to the cap. `None` when stdin held more: reading stops there (never
/// to EOF, which may never come), so an agent still writing more than 16 MiB may see EPIPE. No
/// real payload comes near the cap.
///
/// Memory stays near the payload's size, not the cap's: leading whitespace is counted but not
/// kept, and input whose first byte is not `{` (a payload is a JSON object; `/dev/zero` is not)
/// is counted to the cap but only its first [`KEPT_PREFIX`] bytes are kept, enough for
/// [`HookPayload::parse`] to say what is wrong with it. A read error ends the input.
fn read_capped(mut input: impl Read) -> Option<Vec<u8>> {
    let cap = MAX_STDIN_BYTES;
    const CHUNK: usize = 8192;
    let mut chunk = [0u8; CHUNK];
    let mut total = 0usize;
    // Never past the cap's first extra byte.
    let room = |total: usize| CHUNK.min(cap + 1 - total);
    // Up to the first byte that is not whitespace.
    let (first, mut buf) = loop {
        let n = match input.read(&mut chunk[..room(total)]) {
            Ok(0) => return Some(Vec::new()),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return Some(Vec::new()),
        };
        total += n;
        if total > cap {
            return None;
        }
        if let Some(i) = chunk[..n].iter().position(|b| !b.is_ascii_whitespace()) {
            break (chunk[i], chunk[i..n].to_vec());
        }
    };
    if first == b'{' {
        // One copy, read straight into place, as large as the payload.
        let (kept, limit) = (buf.len(), (cap - total + 1) as u64);
        // An error keeps what was read before it.
        let _ = input.take(limit).read_to_end(&mut buf);
        return (total + buf.len() - kept <= cap).then_some(buf);
    }
    buf.truncate(KEPT_PREFIX);
    loop {
        let n = match input.read(&mut chunk[..room(total)]) {
            Ok(0) => return Some(buf),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return Some(buf),
        };
        total += n;
        if total > cap {
            return None;
        }
        let room = KEPT_PREFIX.saturating_sub(buf.len()).min(n);
        buf.extend_from_slice(&chunk[..room]);
    }
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

/// `skillopt-<hook> --version` prints `skillopt-<hook> VERSION (COMMIT)`, the form of
/// `skillopt --version` (the commit comes from `build.rs`), so `skillopt doctor` can tell a hook
/// of another build. The one time a hook writes to stdout: only for that explicit, sole flag,
/// which no agent passes.
pub fn print_version_if_asked(hook: &str) -> bool {
    let mut args = std::env::args_os().skip(1);
    match (args.next(), args.next()) {
        (Some(a), None) if a == "--version" => {}
        _ => return false,
    }
    use std::io::Write;
    let _ = writeln!(
        std::io::stdout(),
        "skillopt-{hook} {} ({})",
        env!("CARGO_PKG_VERSION"),
        env!("SKILLOPT_COMMIT")
    );
    true
}

/// Runs a hook body with every guarantee: no-op when disabled, payload parsed, panics caught
/// and logged, errors logged, exit 0. (`--version` alone prints the version instead.)
pub fn run(hook: &'static str, body: Body) -> ! {
    if print_version_if_asked(hook) {
        std::process::exit(0)
    }
    // Silent until the log's place is known; a panic before that has nowhere to go.
    std::panic::set_hook(Box::new(|_| {}));
    // Everything runs inside `catch_unwind`: a panic must not reach the C `main` of
    // [`hook_main!`] (it would abort, and the hook would not exit 0).
    let _ = std::panic::catch_unwind(|| {
        if HookContext::disabled() {
            // Still consume the payload (up to the cap) so the agent's write never hits a
            // closed pipe.
            let _ = std::io::copy(
                &mut std::io::stdin().lock().take(MAX_STDIN_BYTES as u64 + 1),
                &mut std::io::sink(),
            );
            return Ok(());
        }
        let input = read_capped(std::io::stdin().lock());
        let (ctx, warning) = HookContext::from_env(hook, std::env::args().skip(1))?;
        log_panics_to(ctx.paths.clone(), hook);
        if let Some(w) = warning {
            skillopt_state::log::hook_error(&ctx.paths, hook, &w.log_line());
        }
        execute(&ctx, input, body);
        Ok::<(), HookError>(())
    });
    std::process::exit(0)
}

/// Defines the C `main` of a hook binary (which starts with `#![no_main]`) that calls
/// [`run`].
///
/// The hooks skip std's `main` wrapper on purpose: it spends a good part of a hook's short life
/// on things a hook does not need — reading `/proc/self/maps` and mapping an alternate signal
/// stack to report a stack overflow, reopening a closed fd 0–2 on /dev/null, ignoring SIGPIPE.
/// Without it a stack overflow is a plain SIGSEGV, and SIGPIPE keeps its default; neither
/// matters to a hook, which writes to no pipe and never to fds 1 and 2 (the worker's stdio is
/// /dev/null). Arguments and environment are read through std as usual (glibc hands them to
/// std before `main`).
#[macro_export]
macro_rules! hook_main {
    ($hook:literal, $body:path) => {
        /// The process entry point: runs the hook and exits 0.
        // `no_mangle` counts as unsafe code: this is the one symbol named `main`, with the C
        // signature the C runtime calls, and it never returns.
        #[allow(unsafe_code)]
        #[no_mangle]
        pub extern "C" fn main(
            _argc: ::std::os::raw::c_int,
            _argv: *const *const ::std::os::raw::c_char,
        ) -> ::std::os::raw::c_int {
            $crate::run($hook, $body)
        }
    };
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
        Some(bytes) => {
            let parsed = HookPayload::parse(&bytes);
            // The payload holds what the body needs: the raw bytes (as large as a 2 MB
            // prompt) are not kept beside it.
            drop(bytes);
            parsed.map_err(HookError::from).and_then(|mut payload| {
                payload.declared_agent = ctx.declared_agent;
                body(ctx, &payload)
            })
        }
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

    /// A reader that yields `data` in small pieces, then `tail` forever (or EOF when `None`).
    struct Feed {
        data: Vec<u8>,
        at: usize,
        tail: Option<u8>,
        served: usize,
    }

    impl Read for Feed {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = buf.len().min(1000);
            let mut i = 0;
            while i < n {
                if self.at < self.data.len() {
                    buf[i] = self.data[self.at];
                    self.at += 1;
                } else if let Some(b) = self.tail {
                    buf[i] = b;
                } else {
                    break;
                }
                i += 1;
            }
            self.served += i;
            Ok(i)
        }
    }

    fn feed(data: &[u8], tail: Option<u8>) -> Feed {
        Feed {
            data: data.to_vec(),
            at: 0,
            tail,
            served: 0,
        }
    }

    #[test]
    fn stdin_is_read_to_the_cap_and_kept_only_as_needed() {
        let cap = MAX_STDIN_BYTES;
        // An object: all of it, leading whitespace dropped (JSON ignores it).
        let obj = br#"  {"session_id":"s","prompt":"hi"}"#;
        assert_eq!(read_capped(feed(obj, None)).unwrap(), &obj[2..]);
        assert_eq!(read_capped(feed(b"", None)).unwrap(), b"");
        assert_eq!(read_capped(feed(b" \n\t ", None)).unwrap(), b"");
        // Exactly the cap is read; one byte more is too large, and reading stops there.
        let mut at_cap = vec![b' '; cap - 2];
        at_cap.extend_from_slice(b"{}");
        assert_eq!(read_capped(feed(&at_cap, None)).unwrap(), b"{}");
        let mut f = feed(b"{\"prompt\":\"", Some(b'x'));
        assert!(read_capped(&mut f).is_none());
        assert_eq!(f.served, cap + 1);
        let mut spaces = feed(b"", Some(b' '));
        assert!(read_capped(&mut spaces).is_none());
        // Not an object (`/dev/zero`, garbage): counted to the cap, only a prefix kept.
        let mut zero = feed(b"", Some(0));
        assert!(read_capped(&mut zero).is_none());
        assert_eq!(zero.served, cap + 1);
        let big = vec![b'x'; 3 * KEPT_PREFIX];
        let kept = read_capped(feed(&big, None)).unwrap();
        assert_eq!(kept.len(), KEPT_PREFIX);
        assert!(HookPayload::parse(&kept).is_err());
        assert_eq!(read_capped(feed(b"[1,2,3]", None)).unwrap(), b"[1,2,3]");
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
