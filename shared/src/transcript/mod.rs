//! Transcript readers: Claude Code session JSONL and Codex rollout JSONL, streamed line by line.
//!
//! Both formats are internal to their CLIs and change often, so every reader is tolerant: an
//! unknown line type is skipped, a torn last line (a session still being written) is skipped, and
//! a line longer than [`MAX_LINE_BYTES`] is skipped without ever being held in memory whole.
//! Each line is turned into [`Record`]s: normalised [`Event`]s for windows and [`Found`] skill
//! uses. Memory is bounded by one line plus what the caller keeps.

pub mod claude_code;
pub mod codex;
mod reader;

use std::io::BufRead;

use serde::Serialize;

pub use reader::LineReader;

/// Lines longer than this are skipped (a 16 MiB JSON line is a pasted binary, not a turn).
pub const MAX_LINE_BYTES: usize = 16 * 1024 * 1024;

/// How a skill was used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum UseKind {
    /// Claude Code `Skill` tool call.
    Tool,
    /// A user-typed `/name` (Claude Code `<command-name>`).
    Typed,
    /// Codex injected the skill (`<skill><name>…`), e.g. after `$name`.
    Injected,
    /// A tool call read `…/skills/<dir>/SKILL.md`.
    FileRead,
}

/// One skill use found in a transcript.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SkillUse {
    /// The name as invoked (`elixir:hex-docs-search`, `custom-git`, `deploy--alice`).
    pub skill: String,
    pub tool_use_id: Option<String>,
    pub kind: UseKind,
    pub timestamp: Option<String>,
    pub sidechain: bool,
    pub failed: bool,
    /// 1-based line number.
    pub line: usize,
}

/// A normalised transcript event.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    User(String),
    Assistant(String),
    ToolCall {
        name: String,
        input: String,
        id: Option<String>,
    },
    ToolResult {
        id: Option<String>,
        output: String,
        is_error: bool,
    },
    /// A skill's body was loaded into the context (its text is not repeated in windows).
    SkillLoaded {
        skill: String,
        chars: usize,
    },
}

/// A skill use as a line reports it; the reader fills in the line number.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub skill: String,
    pub tool_use_id: Option<String>,
    pub kind: UseKind,
}

/// What one line holds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Record {
    pub timestamp: Option<String>,
    pub sidechain: bool,
    pub events: Vec<Event>,
    pub uses: Vec<Found>,
    /// Tool results that report an error, by tool_use_id (marks a Skill call as failed).
    pub failed_ids: Vec<String>,
}

impl Record {
    /// True when this line is a user turn (a real prompt, not a tool result or meta body).
    pub fn is_user_turn(&self) -> bool {
        self.events.iter().any(|e| matches!(e, Event::User(_)))
    }
}

/// Parses one line of either format. `None` for blank, unparseable or uninteresting lines.
pub fn parse_line(line: &str) -> Option<Record> {
    let trimmed = line.trim();
    if !trimmed.starts_with('{') {
        return None;
    }
    let v: serde_json::Value = serde_json::from_str(trimmed).ok()?;
    if codex::is_codex_line(&v) {
        codex::parse(&v)
    } else {
        claude_code::parse(&v)
    }
}

/// Every skill use in a transcript, in order, with failures marked.
pub fn skill_uses<R: BufRead>(input: R) -> std::io::Result<Vec<SkillUse>> {
    let mut uses: Vec<SkillUse> = Vec::new();
    let mut reader = LineReader::new(input, MAX_LINE_BYTES);
    while let Some((lineno, line)) = reader.next_line()? {
        let Some(rec) = line.and_then(|l| parse_line(&l)) else {
            continue;
        };
        for id in &rec.failed_ids {
            for u in uses
                .iter_mut()
                .filter(|u| u.tool_use_id.as_deref() == Some(id))
            {
                u.failed = true;
            }
        }
        for f in rec.uses {
            uses.push(SkillUse {
                skill: f.skill,
                tool_use_id: f.tool_use_id,
                kind: f.kind,
                timestamp: rec.timestamp.clone(),
                sidechain: rec.sidechain,
                failed: false,
                line: lineno,
            });
        }
    }
    Ok(uses)
}

/// Text of a JSON value that is either a string or an array of `{text}` / string blocks.
pub(crate) fn flatten_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(items) => items
            .iter()
            .filter_map(|i| match i {
                serde_json::Value::String(s) => Some(s.clone()),
                other => other
                    .get("text")
                    .and_then(|t| t.as_str())
                    .map(str::to_string),
            })
            .collect::<Vec<_>>()
            .join("\n"),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn any_line_parses_or_is_skipped(line in ".{0,300}") {
            let _ = parse_line(&line);
        }

        #[test]
        fn json_shaped_garbage_never_panics(
            kind in "(user|assistant|response_item|event_msg|x)",
            content in proptest::collection::vec(".{0,40}", 0..4),
        ) {
            let line = serde_json::json!({
                "type": kind,
                "payload": {"type": "message", "role": "user", "content": content},
                "message": {"content": [{"type": "tool_use", "name": "Skill", "input": content}]},
            })
            .to_string();
            let _ = parse_line(&line);
            let _ = skill_uses(std::io::Cursor::new(format!("{line}\n{line}")));
        }
    }
}
