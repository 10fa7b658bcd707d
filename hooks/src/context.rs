//! What a hook needs besides its payload, resolved once in `main`: the state paths and the few
//! knobs the hooks read (judge window, sync interval, the agent named by `--agent`).
//!
//! The values come from the environment through `skillopt_shared::config`'s parsers, so a hook
//! and the worker read the same variable the same way; the hook bodies never read the
//! environment themselves. Tests build a context directly.

use std::time::Duration;

use skillopt_shared::{config, Agent};
use skillopt_state::Paths;

use crate::HookError;

/// The hook's settings.
#[derive(Debug, Clone)]
pub struct HookContext {
    /// The hook's name in `hooks.log` (`session-start`, …).
    pub hook: &'static str,
    pub paths: Paths,
    /// Prompts judged after a use of an org skill (`SKILLOPT_JUDGE_WINDOW`).
    pub judge_window: u32,
    /// How often SessionStart asks for a sync (`SKILLOPT_SYNC_INTERVAL`).
    pub sync_interval: Duration,
    /// The agent named on the command line (`--agent codex`); `None` guesses from the payload.
    pub declared_agent: Option<Agent>,
}

impl HookContext {
    /// Whether hooks are off (`SKILLOPT_DISABLED=1`, or `SKILLOPT_WORKER=1` inside the
    /// worker). Checked before anything else is resolved: a disabled hook needs no paths.
    pub fn disabled() -> bool {
        config::hooks_disabled()
    }

    /// Resolves the context from the environment and the hook's arguments. An unknown
    /// `--agent` is not fatal: it comes back as the second value, to be logged, and the agent
    /// is guessed from the payload.
    pub fn from_env(
        hook: &'static str,
        args: impl IntoIterator<Item = String>,
    ) -> Result<(Self, Option<HookError>), HookError> {
        let paths = Paths::from_env()?;
        let (declared_agent, warning) = match declared_agent(args) {
            Ok(a) => (a, None),
            Err(e) => (None, Some(e)),
        };
        let ctx = HookContext {
            hook,
            paths,
            judge_window: config::judge_window(),
            sync_interval: config::sync_interval(),
            declared_agent,
        };
        Ok((ctx, warning))
    }

    /// A context over `paths` with the default knobs (for tests and tools).
    pub fn with_paths(hook: &'static str, paths: Paths) -> Self {
        HookContext {
            hook,
            paths,
            judge_window: config::DEFAULT_JUDGE_WINDOW,
            sync_interval: config::DEFAULT_SYNC_INTERVAL,
            declared_agent: None,
        }
    }
}

/// The agent named on the command line: `--agent NAME` or `--agent=NAME`. `Err` for a name
/// skillopt does not know (the hook then guesses, and logs why).
pub fn declared_agent(args: impl IntoIterator<Item = String>) -> Result<Option<Agent>, HookError> {
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
            .ok_or(HookError::UnknownAgent(value));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_agent_comes_from_the_command_line() {
        let ok = |a: &[&str]| declared_agent(args(a)).ok();
        assert_eq!(ok(&[]), Some(None));
        assert_eq!(ok(&["--agent", "codex"]), Some(Some(Agent::Codex)));
        assert_eq!(ok(&["--agent=claude-code"]), Some(Some(Agent::ClaudeCode)));
        let err = declared_agent(args(&["--agent", "vim"])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown --agent \"vim\"; guessing from the payload"
        );
        assert!(declared_agent(args(&["--agent"])).is_err());
        assert_eq!(ok(&["--agents", "x"]), Some(None));
    }
}
