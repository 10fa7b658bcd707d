//! `skillopt install|uninstall claude|codex|all [--project] [--dry-run] [--trust]`: merge
//! skillopt's hook entries into `~/.claude/settings.json` (`$CLAUDE_CONFIG_DIR`) and
//! `$CODEX_HOME/hooks.json`, keeping everything else.
//!
//! Our entries are recognised by their program (`skillopt-*`). Install merges **in place**,
//! because Codex's hook trust is keyed by position (`hooks.json:<event>:<group>:<handler>`): an
//! existing skillopt handler is updated where it stands (command, timeout, and the matcher of a
//! group holding only our handlers), a missing one is appended at the end of its event, and the
//! user's entries never move. A re-install with nothing changed writes nothing (the file stays
//! byte-identical). The commands name their agent (`skillopt-session-start --agent codex`).
//! The original is backed up before any write; a malformed settings file is a clear error and
//! is never written. `--trust` (install only) then trusts skillopt's Codex hooks through
//! `codex app-server` ([`crate::codex_trust`]).

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
    /// install only: also trust skillopt's Codex hooks (and only those), as Codex's `/hooks`
    /// screen does; needs `codex` on PATH.
    #[arg(long)]
    pub trust: bool,
}

/// The hook binaries and the events they serve, per agent: (event, matcher, command).
fn entries(agent: Target) -> Vec<(&'static str, Option<&'static str>, &'static str)> {
    match agent {
        Target::Claude => vec![
            (
                "SessionStart",
                Some("startup|resume|clear|compact|fork"),
                "skillopt-session-start --agent claude-code",
            ),
            (
                "PreToolUse",
                Some("Skill|Read|Bash"),
                "skillopt-pre-tool-use --agent claude-code",
            ),
            (
                "UserPromptSubmit",
                None,
                "skillopt-user-prompt-submit --agent claude-code",
            ),
            (
                "UserPromptExpansion",
                None,
                "skillopt-user-prompt-submit --agent claude-code",
            ),
        ],
        _ => vec![
            (
                "SessionStart",
                Some("startup|resume|clear|compact"),
                "skillopt-session-start --agent codex",
            ),
            (
                "PreToolUse",
                Some("Bash|Read|exec_command|shell|shell_command"),
                "skillopt-pre-tool-use --agent codex",
            ),
            (
                "UserPromptSubmit",
                None,
                "skillopt-user-prompt-submit --agent codex",
            ),
        ],
    }
}

/// The file name of a command's program (its first word).
fn program(command: &str) -> Option<&str> {
    command
        .split_whitespace()
        .next()
        .and_then(|c| Path::new(c).file_name())
        .and_then(|f| f.to_str())
}

/// skillopt's hook programs: only these are ever ours (a user's `skillopt-notify.sh` is not).
pub const HOOK_PROGRAMS: [&str; 3] = [
    "skillopt-session-start",
    "skillopt-pre-tool-use",
    "skillopt-user-prompt-submit",
];

/// True for a skillopt hook command (one of [`HOOK_PROGRAMS`], with or without a directory or
/// arguments).
pub fn is_skillopt_command(command: &str) -> bool {
    program(command).is_some_and(|f| HOOK_PROGRAMS.contains(&f))
}

fn command_of(handler: &Value) -> &str {
    handler.get("command").and_then(Value::as_str).unwrap_or("")
}

fn is_ours(handler: &Value) -> bool {
    is_skillopt_command(command_of(handler))
}

/// The `hooks` object, checked: an object of arrays of groups.
fn hooks_mut<'a>(
    settings: &'a mut Map<String, Value>,
    file: &Path,
) -> anyhow::Result<Option<&'a mut Map<String, Value>>> {
    let Some(hooks) = settings.get_mut("hooks") else {
        return Ok(None);
    };
    let hooks = hooks
        .as_object_mut()
        .with_context(|| format!("{}: `hooks` is not an object", file.display()))?;
    for (event, groups) in hooks.iter() {
        let groups = groups
            .as_array()
            .with_context(|| format!("{}: hooks.{event} is not an array", file.display()))?;
        for g in groups {
            if !g.is_object() || g.get("hooks").is_some_and(|h| !h.is_array()) {
                bail!("{}: a hooks.{event} entry is malformed", file.display());
            }
        }
    }
    Ok(Some(hooks))
}

fn handlers_mut(group: &mut Value) -> Option<&mut Vec<Value>> {
    group.get_mut("hooks").and_then(Value::as_array_mut)
}

/// Removes our handlers except those at `keep` (group, handler) positions. A group this empties
/// is dropped only when no group follows it; otherwise it stays as an empty placeholder, because
/// Codex keys trust by position and every group after it would shift and silently lose trust.
fn remove_ours(groups: &mut Vec<Value>, keep: &[(usize, usize)]) {
    let mut emptied = Vec::new();
    for (gi, g) in groups.iter_mut().enumerate() {
        let Some(hs) = handlers_mut(g) else { continue };
        let before = hs.len();
        let mut hi = 0;
        hs.retain(|h| {
            let stay = !is_ours(h) || keep.contains(&(gi, hi));
            hi += 1;
            stay
        });
        if hs.is_empty() && before > 0 {
            emptied.push(gi);
        }
    }
    while groups
        .len()
        .checked_sub(1)
        .is_some_and(|last| emptied.contains(&last))
    {
        groups.pop();
    }
}

/// Removes every skillopt handler (uninstall); events and the `hooks` object this empties go.
fn strip(settings: &mut Map<String, Value>, file: &Path) -> anyhow::Result<()> {
    let Some(hooks) = hooks_mut(settings, file)? else {
        return Ok(());
    };
    let had = !hooks.is_empty();
    strip_events(hooks, |_| true);
    if had && hooks.is_empty() {
        settings.remove("hooks");
    }
    Ok(())
}

fn strip_events(hooks: &mut Map<String, Value>, which: impl Fn(&str) -> bool) {
    let mut emptied = Vec::new();
    for (event, groups) in hooks.iter_mut() {
        let Some(groups) = groups.as_array_mut().filter(|_| which(event)) else {
            continue;
        };
        let had = !groups.is_empty();
        remove_ours(groups, &[]);
        if had && groups.is_empty() {
            emptied.push(event.clone());
        }
    }
    for e in emptied {
        hooks.remove(&e);
    }
}

/// Updates one of our handlers in place to `command`, and its group's matcher when the group
/// holds only our handlers (a matcher shared with the user's handlers is theirs too: kept).
fn update_in_place(group: &mut Value, hi: usize, matcher: Option<&str>, command: &str) {
    let only_ours = group
        .get("hooks")
        .and_then(Value::as_array)
        .is_some_and(|hs| hs.iter().all(is_ours));
    if let Some(h) = handlers_mut(group).and_then(|hs| hs.get_mut(hi)) {
        if let Some(h) = h.as_object_mut() {
            h.insert("type".into(), "command".into());
            h.insert("command".into(), command.into());
            h.insert("timeout".into(), 10.into());
        }
    }
    if let (true, Some(g)) = (only_ours, group.as_object_mut()) {
        match matcher {
            Some(m) => {
                g.insert("matcher".into(), m.into());
            }
            None => {
                g.remove("matcher");
            }
        }
    }
}

/// Merges our entries for `agent` into `settings` in place (see the module doc).
fn merge(settings: &mut Map<String, Value>, agent: Target, file: &Path) -> anyhow::Result<()> {
    hooks_mut(settings, file)?;
    let wanted = entries(agent);
    let hooks = settings
        .entry("hooks")
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
        .with_context(|| format!("{}: `hooks` is not an object", file.display()))?;
    strip_events(hooks, |e| !wanted.iter().any(|(w, _, _)| *w == e));
    let mut events: Vec<&str> = wanted.iter().map(|(e, _, _)| *e).collect();
    events.dedup();
    for event in events {
        let groups = hooks
            .entry(event)
            .or_insert_with(|| json!([]))
            .as_array_mut()
            .with_context(|| format!("{}: hooks.{event} is not an array", file.display()))?;
        let mut claimed: Vec<(usize, usize)> = Vec::new();
        for (_, matcher, command) in wanted.iter().filter(|(e, _, _)| *e == event) {
            let found = groups.iter().enumerate().find_map(|(gi, g)| {
                g.get("hooks")
                    .and_then(Value::as_array)?
                    .iter()
                    .enumerate()
                    .find(|(hi, h)| {
                        !claimed.contains(&(gi, *hi))
                            && is_ours(h)
                            && program(command_of(h)) == program(command)
                    })
                    .map(|(hi, _)| (gi, hi))
            });
            let at = match found {
                Some((gi, hi)) => {
                    update_in_place(&mut groups[gi], hi, *matcher, command);
                    (gi, hi)
                }
                None => {
                    let mut group =
                        json!({"hooks": [{"type": "command", "command": command, "timeout": 10}]});
                    if let Some(m) = matcher {
                        group["matcher"] = (*m).into();
                    }
                    groups.push(group);
                    (groups.len() - 1, 0)
                }
            };
            claimed.push(at);
        }
        // Stale or duplicate handlers of ours in this event go.
        remove_ours(groups, &claimed);
    }
    Ok(())
}

fn load(file: &Path) -> anyhow::Result<(Option<String>, Map<String, Value>)> {
    match std::fs::read_to_string(file) {
        Ok(text) if text.trim().is_empty() => Ok((Some(text), Map::new())),
        Ok(text) => {
            // Editors on some systems save a byte-order mark; JSON parsers refuse it.
            let json = text.strip_prefix('\u{feff}').unwrap_or(&text);
            let v: Value = serde_json::from_str(json).with_context(|| {
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

/// Whether `file` holds skillopt's hooks for `agent`, as the current `install` writes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstallState {
    /// No skillopt entries.
    Missing,
    /// skillopt entries, but `install` would change them (e.g. an older version's commands).
    Outdated,
    Current,
}

/// What `install` would do to `file` for `agent`, without writing (errors on a malformed file).
pub fn install_state(file: &Path, agent: Target) -> anyhow::Result<InstallState> {
    let (_, settings) = load(file)?;
    let mut merged = settings.clone();
    merge(&mut merged, agent, file)?;
    if merged == settings {
        return Ok(InstallState::Current);
    }
    Ok(if count_ours(file)? > 0 {
        InstallState::Outdated
    } else {
        InstallState::Missing
    })
}

fn apply(file: &Path, agent: Target, install: bool, dry_run: bool) -> anyhow::Result<String> {
    let (original, before) = load(file)?;
    let mut settings = before.clone();
    if install {
        merge(&mut settings, agent, file)?;
    } else {
        strip(&mut settings, file)?;
    }
    let mut text = serde_json::to_string_pretty(&Value::Object(settings.clone()))?;
    text.push('\n');
    // Compared as JSON, so an unchanged file is left byte-for-byte as the user wrote it.
    let unchanged = settings == before && (original.is_some() || !install);
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
    // A settings file linked from a dotfiles repository: update the file it points to, keep the
    // link.
    let written = if file.is_symlink() {
        std::fs::canonicalize(file)
            .with_context(|| format!("{} is a dangling link", file.display()))?
    } else {
        file.to_path_buf()
    };
    if let Some(orig) = &original {
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
        let backup = PathBuf::from(format!("{}.skillopt-backup-{stamp}", file.display()));
        write_atomic_mode(&backup, orig.as_bytes(), mode)?;
    }
    write_atomic_mode(&written, text.as_bytes(), mode)?;
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

/// What to do so Codex runs the hooks (printed after `install codex` without `--trust`).
pub const CODEX_TRUST_HINT: &str = "Codex skips untrusted hooks without a word: trust skillopt's hooks once in Codex (type /hooks), or run `skillopt install codex --trust`; `skillopt doctor` shows their trust status";

fn run(paths: &Paths, args: Args, install: bool) -> anyhow::Result<ExitCode> {
    if args.trust && !install {
        bail!("--trust applies to `skillopt install` only");
    }
    // Validate every file before writing any, so a malformed one leaves all untouched.
    let mut targets = targets(paths, &args)?;
    if install {
        let cwd = std::env::current_dir()?;
        let [user, project, local] = claude_plugin_settings(paths, &cwd);
        // Where the plugin is on, Claude Code would run both sets of hooks for every event.
        // Enabled for every project (user scope), or for this one when installing for it:
        // skillopt's settings.json hooks are left out. Enabled for this project only: the
        // user-wide hooks still serve every other project, so they go in, with a word.
        let covering = if args.project {
            [&user, &project, &local]
                .into_iter()
                .find_map(|f| enabled_claude_plugin(f))
        } else {
            enabled_claude_plugin(&user)
        };
        if let Some(plugin) = covering {
            targets.retain(|(agent, _)| *agent != Target::Claude);
            println!(
                "Claude Code: the {plugin} plugin is enabled and runs skillopt's hooks; \
                 settings.json left as it is"
            );
        } else if targets.iter().any(|(a, _)| *a == Target::Claude) {
            if let Some(plugin) = [&project, &local]
                .into_iter()
                .find_map(|f| enabled_claude_plugin(f))
            {
                eprintln!(
                    "warning: this project also enables the {plugin} plugin: in it Claude Code \
                     runs skillopt's hooks twice (a prompt is still judged once)"
                );
            }
        }
    }
    for (agent, file) in &targets {
        let (_, mut m) = load(file)?;
        merge(&mut m, *agent, file)?;
    }
    for (agent, file) in &targets {
        println!("{}", apply(file, *agent, install, args.dry_run)?);
    }
    if !install || args.dry_run {
        if args.trust {
            println!("--dry-run: Codex hook trust left unchanged");
        }
        return Ok(ExitCode::SUCCESS);
    }
    // The agents find the hook commands on PATH: say so now if they would not.
    let missing: Vec<&str> = HOOK_PROGRAMS
        .into_iter()
        .filter(|h| crate::agent::find_on_path(h).is_none())
        .collect();
    if !missing.is_empty() {
        eprintln!(
            "warning: {} not on PATH, so the agents cannot run these hooks (each would fail in \
             every session): install the binaries (npm install -g skillopt, or cargo install \
             --path hooks), and run `skillopt uninstall all` before removing them",
            missing.join(", ")
        );
    }
    let from_npx =
        std::env::current_exe().is_ok_and(|e| e.components().any(|c| c.as_os_str() == "_npx"));
    if from_npx {
        eprintln!(
            "warning: this skillopt runs from npx's cache, which does not last: npm install -g \
             skillopt keeps the hooks on PATH"
        );
    }
    // npm without its install script leaves sh launchers where the binaries belong.
    for r in crate::npm_launchers::make_native() {
        match r {
            Ok(r) => println!(
                "{}: npm's sh launcher replaced by the native binary ({}; npm did not run the package's install script)",
                r.name,
                r.file.display()
            ),
            Err(why) => eprintln!("warning: {why}"),
        }
    }
    let Some((_, codex_file)) = targets.iter().find(|(a, _)| *a == Target::Codex) else {
        if args.trust {
            println!("--trust: nothing to do, Claude Code runs hooks without a trust step");
        }
        return Ok(ExitCode::SUCCESS);
    };
    if !args.trust {
        println!("{CODEX_TRUST_HINT}");
        return Ok(ExitCode::SUCCESS);
    }
    trust_codex(codex_file)
}

/// Where Claude Code enables plugins for a session in `cwd`: the user's settings, the project's
/// (`.claude/settings.json`) and the user's own for the project (`.claude/settings.local.json`).
pub fn claude_plugin_settings(paths: &Paths, cwd: &Path) -> [PathBuf; 3] {
    [
        paths.claude_settings(),
        cwd.join(".claude/settings.json"),
        cwd.join(".claude/settings.local.json"),
    ]
}

/// The skillopt Claude Code plugin (`skillopt@<marketplace>`) when the Claude settings file
/// `settings` enables it: it brings the hooks itself.
pub fn enabled_claude_plugin(settings: &Path) -> Option<String> {
    let (_, v) = load(settings).ok()?;
    v.get("enabledPlugins")?
        .as_object()?
        .iter()
        .find(|(id, on)| id.starts_with("skillopt@") && on.as_bool() == Some(true))
        .map(|(id, _)| id.clone())
}

/// `--trust`: trusts skillopt's hooks in `file` through `codex app-server` and prints each.
fn trust_codex(file: &Path) -> anyhow::Result<ExitCode> {
    let hint = "the hooks are installed but not trusted: trust them in Codex (type /hooks)";
    let codex = crate::codex_trust::find_codex()
        .ok_or(crate::codex_trust::AppServerError::NotInstalled)
        .context(hint)?;
    let cwd = std::env::current_dir()?;
    let listing = crate::codex_trust::trust(&codex, &cwd, file).context(hint)?;
    let installed = count_ours(file)?;
    for h in &listing.ours {
        println!("Codex hook trusted: {} ({})", h.key, h.command);
    }
    if listing.ours.len() < installed {
        for p in &listing.problems {
            eprintln!("codex: {p}");
        }
        bail!(
            "Codex lists {} of the {installed} skillopt hooks in {} (are hooks enabled? older Codex builds need `[features] hooks = true`; project hooks need a trusted project)",
            listing.ours.len(),
            file.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// How many skillopt handlers `file` holds.
pub fn count_ours(file: &Path) -> anyhow::Result<usize> {
    let (_, settings) = load(file)?;
    Ok(settings
        .get("hooks")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|h| h.values())
        .filter_map(Value::as_array)
        .flatten()
        .filter_map(|g| g.get("hooks").and_then(Value::as_array))
        .flatten()
        .filter(|h| is_ours(h))
        .count())
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
        assert_eq!(
            v["hooks"]["PreToolUse"][1]["hooks"][0]["command"],
            "skillopt-pre-tool-use --agent claude-code"
        );
        apply(&f, Target::Claude, false, false).unwrap();
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
        assert_eq!(
            v["hooks"]["PreToolUse"][0]["hooks"][0]["command"],
            "mine.sh"
        );
        assert!(v["hooks"].get("SessionStart").is_none());
    }

    #[test]
    fn legacy_entries_are_updated_in_place_and_foreign_ones_never_move() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("hooks.json");
        let legacy = json!({"hooks": {
            "PreToolUse": [
                {"matcher": "Bash", "hooks": [{"type": "command", "command": "skillopt-pre-tool-use", "timeout": 10}]},
                {"matcher": "Bash", "hooks": [{"type": "command", "command": "mine.sh"}]},
                {"hooks": [{"type": "command", "command": "/usr/bin/skillopt-pre-tool-use"}]}
            ],
            "SessionStart": [{"hooks": [
                {"type": "command", "command": "theirs.sh"},
                {"type": "command", "command": "skillopt-session-start", "timeout": 10}
            ]}],
            "Stop": [{"hooks": [{"type": "command", "command": "skillopt-old-thing"}]}]
        }});
        std::fs::write(&f, legacy.to_string()).unwrap();
        assert_eq!(
            install_state(&f, Target::Codex).unwrap(),
            InstallState::Outdated
        );
        apply(&f, Target::Codex, true, false).unwrap();
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
        let pre = v["hooks"]["PreToolUse"].as_array().unwrap();
        // Updated where it stood, the duplicate after the user's entry dropped.
        assert_eq!(pre.len(), 2, "{v:#}");
        assert_eq!(
            pre[0]["hooks"][0]["command"],
            "skillopt-pre-tool-use --agent codex"
        );
        assert_eq!(
            pre[0]["matcher"],
            "Bash|Read|exec_command|shell|shell_command"
        );
        assert_eq!(pre[1]["hooks"][0]["command"], "mine.sh");
        // A group shared with the user's handler: same position, their matcher (none) kept.
        let ss = &v["hooks"]["SessionStart"][0];
        assert_eq!(ss["hooks"][0]["command"], "theirs.sh");
        assert_eq!(
            ss["hooks"][1]["command"],
            "skillopt-session-start --agent codex"
        );
        assert!(ss.get("matcher").is_none());
        // Not one of skillopt's hook programs: the user's, kept.
        assert_eq!(
            v["hooks"]["Stop"][0]["hooks"][0]["command"],
            "skillopt-old-thing"
        );
        assert_eq!(
            v["hooks"]["UserPromptSubmit"][0]["hooks"][0]["command"],
            "skillopt-user-prompt-submit --agent codex"
        );
        assert_eq!(
            install_state(&f, Target::Codex).unwrap(),
            InstallState::Current
        );
        assert_eq!(
            install_state(&f, Target::Claude).unwrap(),
            InstallState::Outdated
        );
    }

    #[test]
    fn an_unchanged_file_keeps_its_bytes() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("hooks.json");
        apply(&f, Target::Codex, true, false).unwrap();
        // The user reformats the file by hand: an install with nothing to change leaves it.
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
        let compact = v.to_string();
        std::fs::write(&f, &compact).unwrap();
        assert!(apply(&f, Target::Codex, true, false)
            .unwrap()
            .contains("already installed"));
        assert_eq!(std::fs::read_to_string(&f).unwrap(), compact);
    }

    #[test]
    fn a_users_skillopt_named_hook_is_not_ours() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("settings.json");
        std::fs::write(&f, r#"{"hooks":{"Stop":[{"hooks":[{"type":"command","command":"skillopt-notify.sh --done"}]}],"PreToolUse":[{"matcher":"Bash","hooks":[{"type":"command","command":"/home/me/bin/skillopt-audit"}]}]}}"#).unwrap();
        for install in [true, false] {
            apply(&f, Target::Claude, install, false).unwrap();
            let v: Value = serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
            assert_eq!(
                v["hooks"]["Stop"][0]["hooks"][0]["command"],
                "skillopt-notify.sh --done"
            );
            assert_eq!(
                v["hooks"]["PreToolUse"][0]["hooks"][0]["command"],
                "/home/me/bin/skillopt-audit"
            );
        }
        assert!(is_skillopt_command(
            "/usr/local/bin/skillopt-pre-tool-use --agent codex"
        ));
        assert!(!is_skillopt_command("skillopt-pre-tool-use-wrapper"));
    }

    #[test]
    fn removing_ours_never_shifts_the_groups_after_them() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("hooks.json");
        apply(&f, Target::Codex, true, false).unwrap();
        let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
        v["hooks"]["PreToolUse"]
            .as_array_mut()
            .unwrap()
            .push(json!({"matcher": "Bash", "hooks": [{"type": "command", "command": "mine.sh"}]}));
        std::fs::write(&f, v.to_string()).unwrap();
        apply(&f, Target::Codex, false, false).unwrap();
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
        let groups = v["hooks"]["PreToolUse"].as_array().unwrap();
        assert_eq!(groups.len(), 2, "{v}");
        assert_eq!(
            groups[0]["hooks"],
            json!([]),
            "a placeholder keeps the position"
        );
        assert_eq!(groups[1]["hooks"][0]["command"], "mine.sh");
        // Trailing groups of ours go entirely, and so do events left with nothing.
        assert!(v["hooks"].get("SessionStart").is_none(), "{v}");
    }

    #[test]
    fn the_users_key_order_and_a_linked_file_are_kept() {
        let d = tempfile::tempdir().unwrap();
        let real = d.path().join("dotfiles-settings.json");
        std::fs::write(&real, r#"{"zeta":1,"model":"opus","alpha":{"y":1,"b":2}}"#).unwrap();
        let link = d.path().join("settings.json");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        apply(&link, Target::Claude, true, false).unwrap();
        assert!(link.is_symlink(), "the link was replaced by a file");
        let text = std::fs::read_to_string(&real).unwrap();
        let order: Vec<usize> = [
            "\"zeta\"",
            "\"model\"",
            "\"alpha\"",
            "\"y\"",
            "\"b\"",
            "\"hooks\"",
        ]
        .iter()
        .map(|k| text.find(k).unwrap())
        .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{text}");
    }

    #[test]
    fn a_byte_order_mark_is_accepted() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("settings.json");
        std::fs::write(&f, "\u{feff}{\"model\":\"opus\"}").unwrap();
        apply(&f, Target::Claude, true, false).unwrap();
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
        assert_eq!(v["model"], "opus");
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
