//! Claude Code session transcripts: `~/.claude/projects/<project>/<session>.jsonl`
//! (`$CLAUDE_CONFIG_DIR/projects`), subagents in `<session>/subagents/agent-*.jsonl`.
//!
//! One JSON object per line; `type` is `user`, `assistant`, `system`, `summary`, `progress`,
//! `file-history-snapshot`, `attachment`, … (unknown types are skipped). Assistant lines carry one
//! content block each (`text`, `thinking`, `tool_use`); user lines carry a prompt (string or text
//! blocks), `tool_result` blocks, or an `isMeta` body such as "Base directory for this skill: …".
//! `isSidechain: true` marks subagent lines. Skill uses: a `Skill` tool_use (`input.skill`, legacy
//! `input.command`), a user-typed `/name` (`<command-name>/name</command-name>`; built-in commands
//! such as `/compact` are not skills), and a `Read`/`Bash` of `…/skills/<dir>/SKILL.md`.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{flatten_text, Event, Found, Record, UseKind};
use crate::skill_use;

/// The transcript of subagent `agent_id` of the session whose transcript is `parent`
/// (`…/<session>.jsonl` → `…/<session>/subagents/agent-<agent_id>.jsonl`). Hooks inside a
/// subagent report the parent's `transcript_path`; the subagent's own events are only here.
/// `None` when the id could leave that directory (it comes from a payload: untrusted).
pub fn subagent_transcript(parent: &Path, agent_id: &str) -> Option<PathBuf> {
    let safe = !agent_id.is_empty()
        && agent_id.len() <= 128
        && agent_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !safe || parent.extension().is_none_or(|e| e != "jsonl") {
        return None;
    }
    let session_dir = parent.with_extension("");
    Some(
        session_dir
            .join("subagents")
            .join(format!("agent-{agent_id}.jsonl")),
    )
}

/// Claude Code's built-in slash commands: typing them is not a skill use.
const BUILT_IN_COMMANDS: &[&str] = &[
    "add-dir",
    "agents",
    "bashes",
    "bug",
    "clear",
    "compact",
    "config",
    "context",
    "cost",
    "doctor",
    "exit",
    "export",
    "help",
    "hooks",
    "ide",
    "init",
    "install-github-app",
    "login",
    "logout",
    "mcp",
    "memory",
    "migrate-installer",
    "model",
    "output-style",
    "permissions",
    "plugin",
    "plugins",
    "pr-comments",
    "privacy-settings",
    "release-notes",
    "resume",
    "review",
    "rewind",
    "sandbox",
    "security-review",
    "skills",
    "status",
    "statusline",
    "terminal-setup",
    "todos",
    "upgrade",
    "usage",
    "vim",
    "fast",
    "fork",
    "branch",
    "btw",
    "theme",
    "feedback",
];

fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// Text between `<tag>` and `</tag>`.
pub(crate) fn tag<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = text.find(&open)? + open.len();
    let end = start + text[start..].find(&close)?;
    Some(text[start..end].trim())
}

fn typed_command(text: &str) -> Option<String> {
    let name = tag(text, "command-name")?.trim_start_matches('/');
    let name = name.split_whitespace().next()?;
    if name.is_empty() || BUILT_IN_COMMANDS.contains(&name) {
        return None;
    }
    Some(name.to_string())
}

fn user_line(v: &Value, rec: &mut Record) {
    let message = v.get("message").unwrap_or(&Value::Null);
    let content = message.get("content").unwrap_or(&Value::Null);
    let is_meta = v.get("isMeta").and_then(Value::as_bool).unwrap_or(false);
    if let Value::Array(blocks) = content {
        let mut texts = Vec::new();
        for b in blocks {
            match str_of(b, "type") {
                Some("tool_result") => {
                    let id = str_of(b, "tool_use_id").map(str::to_string);
                    let is_error = b.get("is_error").and_then(Value::as_bool).unwrap_or(false);
                    if is_error {
                        if let Some(id) = &id {
                            rec.failed_ids.push(id.clone());
                        }
                    }
                    rec.events.push(Event::ToolResult {
                        id,
                        output: flatten_text(b.get("content").unwrap_or(&Value::Null)),
                        is_error,
                    });
                }
                Some("text") => texts.push(str_of(b, "text").unwrap_or_default().to_string()),
                _ => {}
            }
        }
        if !texts.is_empty() {
            push_user_text(&texts.join("\n"), is_meta, rec);
        }
    } else if let Value::String(s) = content {
        push_user_text(s, is_meta, rec);
    }
}

fn push_user_text(text: &str, is_meta: bool, rec: &mut Record) {
    if let Some(rest) = text.strip_prefix("Base directory for this skill:") {
        let dir = rest.lines().next().unwrap_or("").trim();
        let skill = dir.rsplit(['/', '\\']).next().unwrap_or(dir).to_string();
        rec.events.push(Event::SkillLoaded {
            skill,
            chars: text.len(),
        });
        return;
    }
    if is_meta {
        return;
    }
    if let Some(name) = typed_command(text) {
        rec.uses.push(Found {
            skill: name,
            tool_use_id: None,
            kind: UseKind::Typed,
        });
        let args = tag(text, "command-args").unwrap_or("");
        let shown = tag(text, "command-name").unwrap_or("");
        rec.events
            .push(Event::User(format!("{shown} {args}").trim().to_string()));
        return;
    }
    if text.contains("<command-name>") || text.starts_with("<local-command-stdout>") {
        return; // a built-in command or its output
    }
    rec.events.push(Event::User(text.to_string()));
}

fn assistant_line(v: &Value, rec: &mut Record) {
    let content = v
        .get("message")
        .and_then(|m| m.get("content"))
        .unwrap_or(&Value::Null);
    let Value::Array(blocks) = content else {
        if let Value::String(s) = content {
            rec.events.push(Event::Assistant(s.clone()));
        }
        return;
    };
    for b in blocks {
        match str_of(b, "type") {
            Some("text") => rec.events.push(Event::Assistant(
                str_of(b, "text").unwrap_or_default().to_string(),
            )),
            Some("tool_use") => {
                let name = str_of(b, "name").unwrap_or_default().to_string();
                let id = str_of(b, "id").map(str::to_string);
                let input = b.get("input").cloned().unwrap_or(Value::Null);
                if let Some(skill) = skill_use::from_tool_call(&name, &input) {
                    let kind = if name == "Skill" {
                        UseKind::Tool
                    } else {
                        UseKind::FileRead
                    };
                    rec.uses.push(Found {
                        skill,
                        tool_use_id: id.clone(),
                        kind,
                    });
                }
                rec.events.push(Event::ToolCall {
                    name,
                    input: input.to_string(),
                    id,
                });
            }
            _ => {}
        }
    }
}

/// Parses one Claude Code line.
pub fn parse(v: &Value) -> Option<Record> {
    let mut rec = Record {
        timestamp: str_of(v, "timestamp").map(str::to_string),
        sidechain: v
            .get("isSidechain")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        ..Default::default()
    };
    match str_of(v, "type")? {
        "user" => user_line(v, &mut rec),
        "assistant" => assistant_line(v, &mut rec),
        _ => return None,
    }
    Some(rec)
}

#[cfg(test)]
mod tests {
    use super::super::{parse_line, skill_uses, UseKind};
    use super::subagent_transcript;
    use std::path::{Path, PathBuf};

    #[test]
    fn subagent_transcripts_sit_beside_the_session() {
        assert_eq!(
            subagent_transcript(Path::new("/h/.claude/projects/-p/abc.jsonl"), "a1b2"),
            Some(PathBuf::from(
                "/h/.claude/projects/-p/abc/subagents/agent-a1b2.jsonl"
            ))
        );
        for bad in ["", "../x", "a/b", "a.b", "a\n"] {
            assert_eq!(
                subagent_transcript(Path::new("/p/abc.jsonl"), bad),
                None,
                "{bad:?}"
            );
        }
        assert_eq!(subagent_transcript(Path::new("/p/abc.txt"), "a1"), None);
    }

    const FIXTURE: &str = r#"{"type":"user","isSidechain":false,"timestamp":"t1","message":{"role":"user","content":"deploy staging please"}}
{"type":"assistant","isSidechain":false,"timestamp":"t2","message":{"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"Skill","input":{"skill":"deploy--alice"}}]}}
{"type":"user","timestamp":"t3","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"Launching skill: deploy--alice"}]}}
{"type":"user","isMeta":true,"sourceToolUseID":"toolu_1","timestamp":"t3","message":{"role":"user","content":[{"type":"text","text":"Base directory for this skill: /h/.claude/skills/deploy--alice\n\n# Deploy"}]}}
{"type":"assistant","isSidechain":true,"timestamp":"t4","message":{"content":[{"type":"tool_use","id":"toolu_2","name":"Skill","input":{"command":"/lint--bob"}}]}}
{"type":"user","isSidechain":true,"timestamp":"t5","message":{"content":[{"type":"tool_result","tool_use_id":"toolu_2","is_error":true,"content":"Unknown skill"}]}}
{"type":"user","timestamp":"t6","message":{"role":"user","content":"<command-message>custom-git</command-message>\n<command-name>/custom-git</command-name>\n<command-args>push</command-args>"}}
{"type":"user","timestamp":"t7","message":{"role":"user","content":"<command-name>/compact</command-name>"}}
{"type":"assistant","timestamp":"t8","message":{"content":[{"type":"tool_use","id":"toolu_3","name":"Read","input":{"file_path":"/h/.claude/skills/x--y/SKILL.md"}}]}}
{"type":"mystery","payload":1}
{"type":"user","message":{"content":"torn"#;

    #[test]
    fn finds_every_kind_of_use() {
        let uses = skill_uses(std::io::Cursor::new(FIXTURE)).unwrap();
        let got: Vec<_> = uses
            .iter()
            .map(|u| (u.skill.as_str(), u.kind, u.sidechain, u.failed))
            .collect();
        assert_eq!(
            got,
            vec![
                ("deploy--alice", UseKind::Tool, false, false),
                ("lint--bob", UseKind::Tool, true, true),
                ("custom-git", UseKind::Typed, false, false),
                ("x--y", UseKind::FileRead, false, false),
            ]
        );
        assert_eq!(uses[0].tool_use_id.as_deref(), Some("toolu_1"));
        assert_eq!(uses[0].line, 2);
        assert_eq!(uses[0].timestamp.as_deref(), Some("t2"));
    }

    #[test]
    fn meta_bodies_are_not_user_turns() {
        let line = FIXTURE.lines().nth(3).unwrap();
        assert!(!parse_line(line).unwrap().is_user_turn());
        assert!(parse_line(FIXTURE.lines().next().unwrap())
            .unwrap()
            .is_user_turn());
    }
}
