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

pub mod prompt_submit;
pub mod session_start;
pub mod spawn;
pub mod tool_use;

use std::io::Read;

use skillopt_shared::config::{self, MAX_STDIN_BYTES};
use skillopt_shared::{Agent, HookPayload};
use skillopt_state::Paths;

/// What a hook body returns: `Err` is logged, never shown.
pub type HookResult = Result<(), String>;

/// Reads stdin up to the cap. `None` when the payload was over the cap: reading stops there
/// (never to EOF, which may never come), so an agent still writing more than 16 MiB may see
/// EPIPE. No real payload comes near the cap.
fn read_stdin() -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    let mut limited = std::io::stdin().lock().take(MAX_STDIN_BYTES as u64 + 1);
    if limited.read_to_end(&mut buf).is_err() {
        return Some(buf);
    }
    (buf.len() <= MAX_STDIN_BYTES).then_some(buf)
}

/// The agent named on the command line: `--agent NAME` or `--agent=NAME`. `Err` for a name
/// skillopt does not know (the hook then guesses, and logs why).
pub fn declared_agent(args: impl IntoIterator<Item = String>) -> Result<Option<Agent>, String> {
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let value = match arg.strip_prefix("--agent") {
            Some("") => args.next(),
            Some(rest) if rest.starts_with('=') => Some(rest[1..].to_string()),
            _ => continue,
        };
        let value = value.unwrap_or_default();
        return Agent::parse(&value)
            .map(Some)
            .ok_or_else(|| format!("unknown --agent {value:?}; guessing from the payload"));
    }
    Ok(None)
}

/// Runs a hook body with every guarantee: no-op when disabled, payload parsed, panics caught,
/// errors logged, exit 0.
pub fn run(hook: &str, body: fn(&Paths, &HookPayload) -> HookResult) -> ! {
    std::panic::set_hook(Box::new(|_| {}));
    if config::hooks_disabled() {
        // Still consume the payload (up to the cap) so the agent's write never hits a closed
        // pipe.
        let _ = std::io::copy(
            &mut std::io::stdin().lock().take(MAX_STDIN_BYTES as u64 + 1),
            &mut std::io::sink(),
        );
    } else {
        let input = read_stdin();
        let outcome = std::panic::catch_unwind(|| {
            let paths = Paths::from_env().map_err(|e| e.to_string())?;
            let declared = declared_agent(std::env::args().skip(1)).unwrap_or_else(|why| {
                skillopt_state::log::hook_error(&paths, hook, &why);
                None
            });
            let result = match input {
                None => Err(format!(
                    "payload larger than {MAX_STDIN_BYTES} bytes ignored"
                )),
                Some(bytes) => match HookPayload::parse(&bytes) {
                    Ok(mut payload) => {
                        payload.declared_agent = declared;
                        body(&paths, &payload)
                    }
                    Err(e) => Err(e.to_string()),
                },
            };
            if let Err(msg) = &result {
                skillopt_state::log::hook_error(&paths, hook, msg);
            }
            Ok::<(), String>(())
        });
        drop(outcome);
    }
    std::process::exit(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_agent_comes_from_the_command_line() {
        assert_eq!(declared_agent(args(&[])), Ok(None));
        assert_eq!(
            declared_agent(args(&["--agent", "codex"])),
            Ok(Some(Agent::Codex))
        );
        assert_eq!(
            declared_agent(args(&["--agent=claude-code"])),
            Ok(Some(Agent::ClaudeCode))
        );
        assert!(declared_agent(args(&["--agent", "vim"])).is_err());
        assert!(declared_agent(args(&["--agent"])).is_err());
        assert_eq!(declared_agent(args(&["--agents", "x"])), Ok(None));
    }
}
