//! Building an agent CLI invocation: the argv (no shell), what goes on stdin, the model asked
//! for and the working directory, per agent.
//!
//! Claude Code gets `-p --output-format json` (the reply, cost and usage in one JSON object),
//! no tools, no MCP, no slash commands, one turn, hooks off, and `--bare` when
//! `ANTHROPIC_API_KEY` is set (it then skips user-level `CLAUDE.md`, hooks and plugins; without
//! an API key `--bare` cannot log in, so OAuth users keep their user-level `~/.claude/CLAUDE.md`).
//! Codex gets `exec --json` (JSONL events: the final agent message and the turn's usage),
//! read-only, ephemeral, `-C` the empty working directory, `project_doc_max_bytes=0` and every
//! tool it lets us turn off (shell, web search, multi-agent, goals, image generation); its
//! user-level `$CODEX_HOME/AGENTS.md` has no switch and still loads. The other CLIs are best
//! effort: their plain-text print modes.

use std::path::{Path, PathBuf};

use super::AgentKind;

/// A fully built invocation.
#[derive(Debug, Clone, PartialEq)]
pub struct Invocation {
    pub kind: AgentKind,
    pub args: Vec<String>,
    pub stdin: Option<String>,
    pub model: Option<String>,
    /// The empty directory the child runs in.
    pub workdir: PathBuf,
}

/// What of the environment shapes the argv.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Auth {
    /// `ANTHROPIC_API_KEY` is set: Claude Code can run `--bare`.
    pub anthropic_api_key: bool,
}

impl Auth {
    /// Read from the process environment.
    pub fn from_env() -> Self {
        Self {
            anthropic_api_key: std::env::var_os("ANTHROPIC_API_KEY").is_some_and(|k| !k.is_empty()),
        }
    }
}

/// Codex features turned off for the judge and the proposer: they answer from the prompt alone.
const CODEX_DISABLED_FEATURES: &[&str] = &[
    "hooks",
    "shell_tool",
    "goals",
    "multi_agent",
    "image_generation",
];

/// Builds the argv (no shell) for asking `kind` (`model`, else its default) with `system` and
/// `prompt`, run in `workdir`.
pub fn build(
    kind: AgentKind,
    model: Option<String>,
    system: &str,
    prompt: &str,
    workdir: &Path,
    auth: Auth,
) -> Invocation {
    let s = |x: &str| x.to_string();
    let (args, stdin) = match kind {
        AgentKind::Claude => {
            let mut a = vec![s("-p"), s("--output-format"), s("json")];
            if let Some(m) = &model {
                a.extend([s("--model"), m.clone()]);
            }
            if auth.anthropic_api_key {
                a.push(s("--bare"));
            }
            a.extend([
                s("--no-session-persistence"),
                s("--tools"),
                s(""),
                s("--strict-mcp-config"),
                s("--disable-slash-commands"),
                s("--max-turns"),
                s("1"),
                s("--settings"),
                s(r#"{"disableAllHooks":true}"#),
                s("--system-prompt"),
                s(system),
            ]);
            (a, Some(prompt.to_string()))
        }
        AgentKind::Codex => {
            let mut a = vec![
                s("exec"),
                s("--skip-git-repo-check"),
                s("-s"),
                s("read-only"),
                s("--ephemeral"),
                s("--json"),
                s("-C"),
                workdir.display().to_string(),
            ];
            for feature in CODEX_DISABLED_FEATURES {
                a.extend([s("--disable"), s(feature)]);
            }
            a.extend([
                s("-c"),
                s(r#"web_search="disabled""#),
                s("-c"),
                s("project_doc_max_bytes=0"),
            ]);
            if let Some(m) = &model {
                a.extend([s("-m"), m.clone()]);
            }
            a.push(s("-"));
            (a, Some(format!("{system}\n\n{prompt}")))
        }
        AgentKind::CursorAgent => {
            let mut a = vec![
                s("--print"),
                s("--mode"),
                s("ask"),
                s("--output-format"),
                s("text"),
            ];
            if let Some(m) = &model {
                a.extend([s("--model"), m.clone()]);
            }
            a.push(format!("{system}\n\n{prompt}"));
            (a, None)
        }
        AgentKind::Hermes => {
            let mut a = vec![s("chat"), s("--quiet")];
            if let Some(m) = &model {
                a.extend([s("--model"), m.clone()]);
            }
            a.extend([s("-q"), format!("{system}\n\n{prompt}")]);
            (a, None)
        }
        AgentKind::Pi => {
            let mut a = vec![s("--print"), s("--no-session"), s("--no-tools")];
            if let Some(m) = &model {
                a.extend([s("--model"), m.clone()]);
            }
            a.push(format!("{system}\n\n{prompt}"));
            (a, None)
        }
    };
    Invocation {
        kind,
        args,
        stdin,
        model,
        workdir: workdir.to_path_buf(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::Role;

    fn at(kind: AgentKind, role: Role, system: &str, prompt: &str) -> Invocation {
        build(
            kind,
            kind.default_model(role).map(str::to_string),
            system,
            prompt,
            Path::new("/tmp/w"),
            Auth::default(),
        )
    }

    #[test]
    fn claude_argv() {
        let inv = at(AgentKind::Claude, Role::Judge, "SYS", "PROMPT");
        assert_eq!(
            inv.args,
            [
                "-p",
                "--output-format",
                "json",
                "--model",
                "haiku",
                "--no-session-persistence",
                "--tools",
                "",
                "--strict-mcp-config",
                "--disable-slash-commands",
                "--max-turns",
                "1",
                "--settings",
                r#"{"disableAllHooks":true}"#,
                "--system-prompt",
                "SYS"
            ]
        );
        assert_eq!(inv.stdin.as_deref(), Some("PROMPT"));
        assert_eq!(
            at(AgentKind::Claude, Role::Proposer, "", "")
                .model
                .as_deref(),
            Some("sonnet")
        );
    }

    #[test]
    fn claude_is_bare_with_an_api_key() {
        let auth = Auth {
            anthropic_api_key: true,
        };
        let inv = build(
            AgentKind::Claude,
            Some("haiku".into()),
            "S",
            "P",
            Path::new("/w"),
            auth,
        );
        assert_eq!(inv.args[5], "--bare");
        assert_eq!(inv.workdir, Path::new("/w"));
    }

    #[test]
    fn codex_argv() {
        let inv = at(AgentKind::Codex, Role::Judge, "SYS", "PROMPT");
        assert_eq!(
            inv.args,
            [
                "exec",
                "--skip-git-repo-check",
                "-s",
                "read-only",
                "--ephemeral",
                "--json",
                "-C",
                "/tmp/w",
                "--disable",
                "hooks",
                "--disable",
                "shell_tool",
                "--disable",
                "goals",
                "--disable",
                "multi_agent",
                "--disable",
                "image_generation",
                "-c",
                "web_search=\"disabled\"",
                "-c",
                "project_doc_max_bytes=0",
                "-"
            ]
        );
        assert_eq!(inv.stdin.as_deref(), Some("SYS\n\nPROMPT"));
    }

    #[test]
    fn best_effort_argv() {
        let c = at(AgentKind::CursorAgent, Role::Judge, "S", "P");
        assert_eq!(
            c.args,
            [
                "--print",
                "--mode",
                "ask",
                "--output-format",
                "text",
                "S\n\nP"
            ]
        );
        assert!(c.stdin.is_none());
        let h = at(AgentKind::Hermes, Role::Judge, "S", "P");
        assert_eq!(h.args, ["chat", "--quiet", "-q", "S\n\nP"]);
        let p = at(AgentKind::Pi, Role::Proposer, "S", "P");
        assert_eq!(p.args, ["--print", "--no-session", "--no-tools", "S\n\nP"]);
    }
}
