//! `skillopt install|uninstall claude|codex|all [--project] [--dry-run]`: merge skillopt's hook
//! entries into `~/.claude/settings.json` (`$CLAUDE_CONFIG_DIR`) and `$CODEX_HOME/hooks.json`,
//! keeping everything else.
//!
//! Idempotent: our entries are recognised by their command (`skillopt-*`), removed and added
//! again, and an unchanged file is not rewritten. The original is backed up before any write.
//! A malformed settings file is a clear error and is never written.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use serde_json::{json, Map, Value};
use skillopt_state::fsutil::write_atomic_mode;
use skillopt_state::Paths;

/// Which agents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Target {
    Claude,
    Codex,
    All,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// claude, codex or all.
    #[arg(value_enum)]
    pub target: Target,
    /// Use the project's `.claude/settings.json` / `.codex/hooks.json` in the current directory.
    #[arg(long)]
    pub project: bool,
    /// Print the resulting file; write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// The hook binaries and the events they serve, per agent: (event, matcher, command).
fn entries(agent: Target) -> Vec<(&'static str, Option<&'static str>, &'static str)> {
    match agent {
        Target::Claude => vec![
            (
                "SessionStart",
                Some("startup|resume|clear|compact|fork"),
                "skillopt-session-start",
            ),
            (
                "PreToolUse",
                Some("Skill|Read|Bash"),
                "skillopt-pre-tool-use",
            ),
            ("UserPromptSubmit", None, "skillopt-user-prompt-submit"),
            ("UserPromptExpansion", None, "skillopt-user-prompt-submit"),
        ],
        _ => vec![
            (
                "SessionStart",
                Some("startup|resume|clear|compact"),
                "skillopt-session-start",
            ),
            (
                "PreToolUse",
                Some("Bash|Read|exec_command|shell|shell_command"),
                "skillopt-pre-tool-use",
            ),
            ("UserPromptSubmit", None, "skillopt-user-prompt-submit"),
        ],
    }
}

fn is_ours(handler: &Value) -> bool {
    handler
        .get("command")
        .and_then(Value::as_str)
        .and_then(|c| c.split_whitespace().next())
        .and_then(|c| Path::new(c).file_name())
        .and_then(|f| f.to_str())
        .is_some_and(|f| f.starts_with("skillopt-"))
}

/// Removes every skillopt handler; returns the settings with empty groups/events dropped.
fn strip(settings: &mut Map<String, Value>, file: &Path) -> anyhow::Result<()> {
    let Some(hooks) = settings.get_mut("hooks") else {
        return Ok(());
    };
    let hooks = hooks
        .as_object_mut()
        .with_context(|| format!("{}: `hooks` is not an object", file.display()))?;
    for (event, groups) in hooks.iter_mut() {
        let groups = groups
            .as_array_mut()
            .with_context(|| format!("{}: hooks.{event} is not an array", file.display()))?;
        for g in groups.iter_mut() {
            if let Some(hs) = g.get_mut("hooks").and_then(Value::as_array_mut) {
                hs.retain(|h| !is_ours(h));
            }
        }
        groups.retain(|g| {
            g.get("hooks")
                .and_then(Value::as_array)
                .is_none_or(|hs| !hs.is_empty())
        });
    }
    hooks.retain(|_, groups| groups.as_array().is_some_and(|a| !a.is_empty()));
    if hooks.is_empty() {
        settings.remove("hooks");
    }
    Ok(())
}

fn add(settings: &mut Map<String, Value>, agent: Target) {
    let hooks = settings
        .entry("hooks")
        .or_insert_with(|| Value::Object(Map::new()));
    let Some(hooks) = hooks.as_object_mut() else {
        return;
    };
    for (event, matcher, command) in entries(agent) {
        let mut group = json!({"hooks": [{"type": "command", "command": command, "timeout": 10}]});
        if let Some(m) = matcher {
            group["matcher"] = m.into();
        }
        if let Some(arr) = hooks
            .entry(event)
            .or_insert_with(|| json!([]))
            .as_array_mut()
        {
            arr.push(group);
        }
    }
}

fn load(file: &Path) -> anyhow::Result<(Option<String>, Map<String, Value>)> {
    match std::fs::read_to_string(file) {
        Ok(text) if text.trim().is_empty() => Ok((Some(text), Map::new())),
        Ok(text) => {
            let v: Value = serde_json::from_str(&text).with_context(|| {
                format!(
                    "{} is not valid JSON; fix it first (nothing was written)",
                    file.display()
                )
            })?;
            let Value::Object(m) = v else {
                bail!(
                    "{} is not a JSON object; nothing was written",
                    file.display()
                );
            };
            Ok((Some(text), m))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok((None, Map::new())),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", file.display())),
    }
}

fn apply(file: &Path, agent: Target, install: bool, dry_run: bool) -> anyhow::Result<String> {
    let (original, mut settings) = load(file)?;
    strip(&mut settings, file)?;
    if install {
        add(&mut settings, agent);
    }
    let mut text = serde_json::to_string_pretty(&Value::Object(settings))?;
    text.push('\n');
    let unchanged = original.as_deref().map(|o| o.trim_end()) == Some(text.trim_end())
        || (original.is_none() && !install);
    if dry_run {
        return Ok(format!("{} would be:\n{text}", file.display()));
    }
    if unchanged {
        return Ok(format!(
            "{}: already {}",
            file.display(),
            if install { "installed" } else { "clean" }
        ));
    }
    let mode = std::fs::metadata(file)
        .map(|m| m.permissions().mode() & 0o777)
        .unwrap_or(0o644);
    if let Some(orig) = &original {
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
        let backup = PathBuf::from(format!("{}.skillopt-backup-{stamp}", file.display()));
        write_atomic_mode(&backup, orig.as_bytes(), mode)?;
    }
    write_atomic_mode(file, text.as_bytes(), mode)?;
    Ok(format!(
        "{}: {}",
        file.display(),
        if install {
            "hooks installed"
        } else {
            "hooks removed"
        }
    ))
}

fn targets(paths: &Paths, args: &Args) -> anyhow::Result<Vec<(Target, PathBuf)>> {
    let cwd = std::env::current_dir()?;
    let claude = if args.project {
        cwd.join(".claude/settings.json")
    } else {
        paths.claude_settings()
    };
    let codex = if args.project {
        cwd.join(".codex/hooks.json")
    } else {
        paths.codex_hooks()
    };
    Ok(match args.target {
        Target::Claude => vec![(Target::Claude, claude)],
        Target::Codex => vec![(Target::Codex, codex)],
        Target::All => vec![(Target::Claude, claude), (Target::Codex, codex)],
    })
}

fn run(paths: &Paths, args: Args, install: bool) -> anyhow::Result<ExitCode> {
    // Validate every file before writing any, so a malformed one leaves all untouched.
    let targets = targets(paths, &args)?;
    for (_, file) in &targets {
        let (_, mut m) = load(file)?;
        strip(&mut m, file)?;
    }
    for (agent, file) in targets {
        println!("{}", apply(&file, agent, install, args.dry_run)?);
    }
    if install && !args.dry_run {
        println!("the hook commands (skillopt-session-start, skillopt-pre-tool-use, skillopt-user-prompt-submit) are found on PATH: `cargo install --path hooks` puts them there");
    }
    Ok(ExitCode::SUCCESS)
}

pub fn install(paths: &Paths, args: Args) -> anyhow::Result<ExitCode> {
    run(paths, args, true)
}

pub fn uninstall(paths: &Paths, args: Args) -> anyhow::Result<ExitCode> {
    run(paths, args, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_keeps_foreign_hooks_and_is_idempotent() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("settings.json");
        std::fs::write(&f, r#"{"model":"opus","hooks":{"PreToolUse":[{"matcher":"Bash","hooks":[{"type":"command","command":"mine.sh"}]}]}}"#).unwrap();
        apply(&f, Target::Claude, true, false).unwrap();
        let once = std::fs::read_to_string(&f).unwrap();
        apply(&f, Target::Claude, true, false).unwrap();
        assert_eq!(std::fs::read_to_string(&f).unwrap(), once);
        let v: Value = serde_json::from_str(&once).unwrap();
        assert_eq!(v["model"], "opus");
        assert_eq!(v["hooks"]["PreToolUse"].as_array().unwrap().len(), 2);
        apply(&f, Target::Claude, false, false).unwrap();
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
        assert_eq!(
            v["hooks"]["PreToolUse"][0]["hooks"][0]["command"],
            "mine.sh"
        );
        assert!(v["hooks"].get("SessionStart").is_none());
    }

    #[test]
    fn malformed_is_refused() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("settings.json");
        std::fs::write(&f, "{ not json").unwrap();
        assert!(apply(&f, Target::Claude, true, false).is_err());
        assert_eq!(std::fs::read_to_string(&f).unwrap(), "{ not json");
    }
}
