//! Recognising a skill use in a hook event: which skill directory a tool call or prompt names.
//!
//! The result is a candidate directory name; whether it is an org skill is the manifest's call
//! (a local skill named `x--y` is not org). Recognised:
//! * Claude Code `Skill` tool: `tool_input.skill`, legacy `tool_input.command`; a leading `/` is
//!   stripped; `plugin:skill` names are returned as-is and never parse as org refs.
//! * A `Read` of `…/skills/<dir>/SKILL.md` (`file_path` or `path`).
//! * A shell tool (`Bash`, `exec_command`, `shell`, `shell_command`, PowerShell…) whose command
//!   reads `…/skills/<dir>/SKILL.md` with a reader (`cat`, `sed`, `head`, `Get-Content`, …);
//!   `cp`/`ln`/`mkdir` naming the file are not uses.
//! * Prompts: Codex `$skill-name` anywhere, Claude Code `/skill-name` at the start.

use serde_json::Value;

/// The skill directory named by a tool call, if any.
pub fn from_tool_call(tool_name: &str, input: &Value) -> Option<String> {
    if tool_name == "Skill" {
        let raw = input
            .get("skill")
            .and_then(Value::as_str)
            .or_else(|| input.get("command").and_then(Value::as_str))?;
        let name = raw.trim().trim_start_matches('/');
        let name = name.split_whitespace().next()?;
        return Some(name.to_string());
    }
    if tool_name.eq_ignore_ascii_case("read") {
        let path = input
            .get("file_path")
            .or_else(|| input.get("path"))
            .and_then(Value::as_str)?;
        return skill_dir_in_text(path);
    }
    let command = command_text(input)?;
    skill_read_by_command(&command)
}

/// The command text of a shell-like tool input: `command`/`cmd` as a string (borrowed, never
/// copied: it may be megabytes) or argv array.
pub fn command_text(input: &Value) -> Option<std::borrow::Cow<'_, str>> {
    for key in ["command", "cmd", "script"] {
        match input.get(key) {
            Some(Value::String(s)) => return Some(s.as_str().into()),
            Some(Value::Array(a)) => {
                let parts: Vec<&str> = a.iter().filter_map(Value::as_str).collect();
                return Some(parts.join(" ").into());
            }
            _ => {}
        }
    }
    None
}

/// Commands that read a file's contents (so naming a SKILL.md means reading it).
const READERS: &[&str] = &[
    "cat",
    "sed",
    "head",
    "tail",
    "less",
    "more",
    "bat",
    "nl",
    "awk",
    "get-content",
    "gc",
    "type",
    "view",
    "batcat",
    "rg",
    "grep",
];

/// The skill directory whose SKILL.md a shell command reads, if any. Only segments whose command
/// is a reader count: `ln -s … skills/x/SKILL.md` or `cp` are not uses.
pub fn skill_read_by_command(command: &str) -> Option<String> {
    let mut found = None;
    for segment in command.split(['\n', ';', '|', '&']) {
        let mut words = segment
            .split_whitespace()
            .map(|w| w.trim_matches(['"', '\'', '(', ')', '`']))
            .skip_while(|w| {
                w.contains('=')
                    || matches!(
                        *w,
                        "sudo"
                            | "env"
                            | "command"
                            | "exec"
                            | "-lc"
                            | "-c"
                            | "bash"
                            | "zsh"
                            | "sh"
                            | "/bin/bash"
                            | "/bin/zsh"
                            | "/bin/sh"
                            | "pwsh"
                            | "powershell"
                            | "-Command"
                    )
            });
        let Some(first) = words.next() else { continue };
        let exe = first
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or(first)
            .to_lowercase();
        if READERS.contains(&exe.as_str()) {
            if let Some(dir) = skill_dir_in_text(segment) {
                found = Some(dir);
            }
        }
    }
    found
}

fn is_dir_char(c: char) -> bool {
    !(c.is_whitespace()
        || matches!(
            c,
            '"' | '\'' | '`' | '/' | '\\' | '$' | '(' | ')' | ';' | '|' | '&' | '<' | '>'
        ))
}

/// Agent config roots that hold skill directories (`~/.claude/skills`, `~/.agents/skills`,
/// `$CODEX_HOME/skills`, `/etc/codex/skills`, plugin caches under them). A `skills/` folder
/// elsewhere (a project's own sources) is a skill under development, not a skill in use.
const SKILL_ROOTS: &[&str] = &[
    ".claude", ".agents", ".codex", "codex", ".cursor", ".hermes", ".pi",
];

fn through_known_skills_dir(path: &str) -> bool {
    let segs: Vec<&str> = path.split(['/', '\\']).collect();
    segs.iter()
        .enumerate()
        .any(|(i, seg)| *seg == "skills" && segs[..i].iter().any(|s| SKILL_ROOTS.contains(s)))
}

/// A path longer than this (Linux `PATH_MAX`) is not a file anyone reads.
const MAX_PATH_BYTES: usize = 4096;
/// Only the last this many `SKILL.md` mentions of a text are examined (the last valid one wins
/// anyway): with the path cap, the work stays linear in the text whatever it holds.
const MAX_MENTIONS: usize = 64;

/// Finds `<root>/…skills/…/<dir>/SKILL.md` in free text and returns `<dir>` (the last such
/// mention among the final [`MAX_MENTIONS`]).
pub fn skill_dir_in_text(text: &str) -> Option<String> {
    let mentions: Vec<usize> = text.match_indices("SKILL.md").map(|(i, _)| i).collect();
    mentions
        .iter()
        .rev()
        .take(MAX_MENTIONS)
        .find_map(|&at| skill_dir_at(text, at))
}

/// The skill directory of the `SKILL.md` mention at byte `at`, if it is a skill path.
fn skill_dir_at(text: &str, at: usize) -> Option<String> {
    let before = &text[..at];
    let sep = before.chars().last()?;
    if sep != '/' && sep != '\\' {
        return None;
    }
    let dir_part = &before[..before.len() - 1];
    let start = dir_part
        .char_indices()
        .rev()
        .find(|&(_, c)| !is_dir_char(c))
        .map(|(i, c)| i + c.len_utf8())
        .unwrap_or(0);
    let dir = &dir_part[start..];
    // The path runs back to a delimiter, at most MAX_PATH_BYTES before the directory.
    let mut lo = start.saturating_sub(MAX_PATH_BYTES);
    while !before.is_char_boundary(lo) {
        lo += 1;
    }
    let path_start =
        match before[lo..start].char_indices().rev().find(|&(_, c)| {
            c.is_whitespace() || matches!(c, '"' | '\'' | '`' | '(' | '=' | '<' | '>')
        }) {
            Some((i, c)) => lo + i + c.len_utf8(),
            None if lo == 0 => 0,
            None => return None,
        };
    let path = &before[path_start..];
    (!dir.is_empty() && through_known_skills_dir(path)).then(|| dir.to_string())
}

/// Turns the agent itself submits as prompts: Claude Code fires UserPromptSubmit with a
/// `<task-notification>` when a background subagent or task finishes. The user typed none of
/// them, so they are never a reaction.
const SYNTHETIC_PROMPT_TAGS: &[&str] = &["<task-notification>"];

/// True for a prompt the agent submitted on its own (not the user's words).
pub fn is_synthetic_prompt(prompt: &str) -> bool {
    let p = prompt.trim_start();
    SYNTHETIC_PROMPT_TAGS.iter().any(|tag| p.starts_with(tag))
}

/// Skill references a prompt invokes (`/name` at its start, `$name` anywhere), in order, each
/// once. See [`prompt_refs`] for the lazy form.
pub fn refs_in_prompt(prompt: &str) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    prompt_refs(prompt)
        .filter(|r| seen.insert(*r))
        .map(str::to_string)
        .collect()
}

fn is_ref_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'@' | b':')
}

/// The skill references in a prompt, lazily and borrowed (repeats included): a caller that
/// keeps only the few that name installed skills holds nothing per token, however long the
/// prompt.
pub fn prompt_refs(prompt: &str) -> impl Iterator<Item = &str> {
    let trimmed = prompt.trim_start();
    let slash = trimmed.strip_prefix('/').and_then(|rest| {
        let len = rest.bytes().take_while(|&b| is_ref_byte(b)).count();
        (len > 0).then(|| &rest[..len])
    });
    let bytes = prompt.as_bytes();
    let mut i = 0;
    let dollars = std::iter::from_fn(move || {
        while i < bytes.len() {
            if bytes[i] != b'$' || (i > 0 && is_ref_byte(bytes[i - 1])) {
                i += 1;
                continue;
            }
            let start = i + 1;
            let len = bytes[start..]
                .iter()
                .take_while(|&&b| is_ref_byte(b))
                .count();
            i = start + len;
            // The run ends at a non-ASCII or non-name byte: a char boundary.
            let name = prompt[start..start + len].trim_end_matches(['.', ':']);
            if !name.is_empty() {
                return Some(name);
            }
        }
        None
    });
    slash.into_iter().chain(dollars)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn skill_tool_both_keys() {
        assert_eq!(
            from_tool_call("Skill", &json!({"skill":"deploy--alice","args":"x"})).unwrap(),
            "deploy--alice"
        );
        assert_eq!(
            from_tool_call("Skill", &json!({"command":"/deploy--alice"})).unwrap(),
            "deploy--alice"
        );
        assert_eq!(
            from_tool_call("Skill", &json!({"skill":"elixir:hex-docs-search"})).unwrap(),
            "elixir:hex-docs-search"
        );
    }

    #[test]
    fn reads_and_shell_reads() {
        let r = json!({"file_path":"/home/dev/.claude/skills/deploy-checklist--alice/SKILL.md"});
        assert_eq!(
            from_tool_call("Read", &r).unwrap(),
            "deploy-checklist--alice"
        );
        let b = json!({"command":"sed -n '1,200p' /home/dev/.agents/skills/deploy-checklist--alice/SKILL.md"});
        assert_eq!(
            from_tool_call("Bash", &b).unwrap(),
            "deploy-checklist--alice"
        );
        let w = json!({"command":"Get-Content -Path C:/Users/k/.codex/skills/.system/skill-installer/SKILL.md"});
        assert_eq!(
            from_tool_call("shell_command", &w).unwrap(),
            "skill-installer"
        );
        let a = json!({"command":["bash","-lc","cat ~/.agents/skills/x--y/SKILL.md"]});
        assert_eq!(from_tool_call("shell", &a).unwrap(), "x--y");
        let e = json!({"cmd":"cat \"/h/.agents/skills/x--y/SKILL.md\" | head"});
        assert_eq!(from_tool_call("exec_command", &e).unwrap(), "x--y");
    }

    #[test]
    fn non_skill_calls() {
        assert!(from_tool_call("Bash", &json!({"command":"npm test"})).is_none());
        assert!(from_tool_call("Read", &json!({"file_path":"/repo/README.md"})).is_none());
        assert!(from_tool_call("Bash", &json!({"command":"sed -n 1,20p SKILL.md"})).is_none());
        assert!(from_tool_call("Read", &json!({"file_path":"/repo/docs/SKILL.md"})).is_none());
        let dev = json!({"command":"sed -n '1,8p' .dazi/skills/dazi/SKILL.md"});
        assert!(
            from_tool_call("Bash", &dev).is_none(),
            "a project's own skills/ is not a use"
        );
        assert!(from_tool_call("Edit", &json!({"old_string":"x"})).is_none());
    }

    #[test]
    fn prompt_refs() {
        assert_eq!(
            refs_in_prompt("$deploy-checklist--alice ship it"),
            vec!["deploy-checklist--alice"]
        );
        assert_eq!(
            refs_in_prompt("/deploy--alice staging"),
            vec!["deploy--alice"]
        );
        assert!(refs_in_prompt("costs $5 and a/b").iter().all(|r| r == "5"));
        assert!(refs_in_prompt("echo a$b").is_empty());
        assert_eq!(
            refs_in_prompt("/a--b then $a--b, $c--d. é$e--f $$g--h"),
            vec!["a--b", "c--d", "e--f", "g--h"]
        );
    }

    #[test]
    fn prompt_refs_match_a_char_by_char_reading() {
        use proptest::prelude::*;
        fn slow(prompt: &str) -> Vec<String> {
            let is_ref = |c: char| c.is_ascii_alphanumeric() || "-_.@:".contains(c);
            let mut out: Vec<String> = Vec::new();
            if let Some(rest) = prompt.trim_start().strip_prefix('/') {
                let name: String = rest.chars().take_while(|&c| is_ref(c)).collect();
                if !name.is_empty() {
                    out.push(name);
                }
            }
            let chars: Vec<(usize, char)> = prompt.char_indices().collect();
            for (i, &(pos, c)) in chars.iter().enumerate() {
                if c != '$' || (i > 0 && is_ref(chars[i - 1].1)) {
                    continue;
                }
                let name: String = prompt[pos + 1..]
                    .chars()
                    .take_while(|&c| is_ref(c))
                    .collect();
                let name = name.trim_end_matches(['.', ':']).to_string();
                if !name.is_empty() && !out.contains(&name) {
                    out.push(name);
                }
            }
            out
        }
        proptest!(|(p in "[ /$a-c:.é-]{0,40}")| {
            prop_assert_eq!(refs_in_prompt(&p), slow(&p));
        });
    }

    #[test]
    fn a_two_megabyte_command_of_skill_paths_is_linear() {
        // Every shape that made the path scan quadratic: one long path with no delimiter,
        // delimiters every few KiB, many short valid paths.
        let cases = [
            format!("cat {}", "a/SKILL.md".repeat(200_000)),
            format!(
                "cat {}",
                format!("{} x/SKILL.md", "b/".repeat(1900)).repeat(500)
            ),
            format!("cat {}", " ~/.claude/skills/d--e/SKILL.md".repeat(60_000)),
        ];
        let t = std::time::Instant::now();
        assert_eq!(skill_read_by_command(&cases[0]), None);
        assert_eq!(skill_read_by_command(&cases[1]), None);
        assert_eq!(skill_read_by_command(&cases[2]).as_deref(), Some("d--e"));
        assert!(
            t.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            t.elapsed()
        );
        // Many mentions before it: the last skill path is still found.
        let tail = format!(
            "cat {}; cat ~/.agents/skills/x--y/SKILL.md",
            "z/SKILL.md ".repeat(100)
        );
        assert_eq!(skill_read_by_command(&tail).as_deref(), Some("x--y"));
    }

    #[test]
    fn a_two_megabyte_prompt_of_names_is_one_pass() {
        // 2 MB of distinct `$name--author` tokens. A quadratic scan (a list searched for every
        // token) takes minutes here; one pass takes milliseconds even unoptimised. The bound is
        // generous on purpose: bench/hooks.sh times the real hook.
        let mut prompt = String::new();
        let mut n = 0;
        while prompt.len() < 2_000_000 {
            prompt.push_str(&format!("$skill-{n:06}--bench "));
            n += 1;
        }
        let t = std::time::Instant::now();
        let refs = refs_in_prompt(&prompt);
        assert_eq!(refs.len(), n);
        assert!(
            t.elapsed() < std::time::Duration::from_secs(5),
            "{:?} for {n} names",
            t.elapsed()
        );
    }
}
