//! Codex rollout files: `$CODEX_HOME/sessions/YYYY/MM/DD/rollout-<time>-<uuid>.jsonl`.
//!
//! Each line is `{"timestamp", "type", "payload"}` with `type` one of `session_meta`,
//! `response_item`, `turn_context`, `event_msg`, `compacted`, … (unknown types skipped). The
//! conversation is in `response_item`s: `message` (role `user`/`assistant`/`developer`),
//! `function_call` (`exec_command`, `shell`, `shell_command`, … with JSON `arguments`),
//! `custom_tool_call` (`input` text) and their `*_output`. Codex has no Skill tool: an explicit
//! `$name` makes Codex inject a user message `<skill><name>…</name><path>…/SKILL.md</path>…`,
//! and an implicit use is a shell command that reads `…/skills/<dir>/SKILL.md`.

use serde_json::Value;

use super::{flatten_text, Event, Found, Record, UseKind};
use crate::skill_use;

const CODEX_TYPES: &[&str] = &[
    "session_meta",
    "response_item",
    "turn_context",
    "event_msg",
    "compacted",
];

/// True for a rollout line (`type` + `payload`).
pub fn is_codex_line(v: &Value) -> bool {
    v.get("payload").is_some()
        && v.get("type")
            .and_then(Value::as_str)
            .is_some_and(|t| CODEX_TYPES.contains(&t) || !matches!(t, "user" | "assistant"))
}

fn tool_output_failed(output: &str) -> bool {
    let code_after = |marker: &str| {
        output.find(marker).and_then(|i| {
            output[i + marker.len()..]
                .trim_start()
                .split(|c: char| !c.is_ascii_digit() && c != '-')
                .next()
                .and_then(|n| n.parse::<i64>().ok())
        })
    };
    if let Some(code) = code_after("Exit code:").or_else(|| code_after("Process exited with code"))
    {
        return code != 0;
    }
    serde_json::from_str::<Value>(output)
        .ok()
        .and_then(|v| v.get("metadata")?.get("exit_code")?.as_i64())
        .is_some_and(|c| c != 0)
}

fn is_context_injection(text: &str) -> bool {
    let t = text.trim_start();
    t.starts_with("# AGENTS.md")
        || t.starts_with("<environment_context>")
        || t.starts_with("<user_instructions>")
        || t.starts_with("<permissions")
        || t.starts_with("<INSTRUCTIONS>")
        || t.starts_with("<turn_aborted>")
}

fn message(p: &Value, rec: &mut Record) {
    let text = flatten_text(p.get("content").unwrap_or(&Value::Null));
    match p.get("role").and_then(Value::as_str) {
        Some("user") => {
            if text.trim_start().starts_with("<skill>") {
                let name = super::claude_code::tag(&text, "name")
                    .unwrap_or("")
                    .to_string();
                if !name.is_empty() {
                    rec.uses.push(Found {
                        skill: name.clone(),
                        tool_use_id: None,
                        kind: UseKind::Injected,
                    });
                    rec.events.push(Event::SkillLoaded {
                        skill: name,
                        chars: text.len(),
                    });
                }
            } else if !is_context_injection(&text) && !text.trim().is_empty() {
                rec.events.push(Event::User(text));
            }
        }
        Some("assistant") if !text.trim().is_empty() => rec.events.push(Event::Assistant(text)),
        _ => {}
    }
}

fn tool_call(p: &Value, rec: &mut Record, custom: bool) {
    let name = p
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let id = p.get("call_id").and_then(Value::as_str).map(str::to_string);
    let input = if custom {
        p.get("input")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    } else {
        p.get("arguments")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let command = if custom {
        Some(input.clone())
    } else {
        serde_json::from_str::<Value>(&input).ok().and_then(|args| {
            skill_use::command_text(&args)
                .map(|c| c.into_owned())
                .or_else(|| {
                    args.get("path")
                        .or_else(|| args.get("file_path"))
                        .and_then(Value::as_str)
                        .map(|p| format!("cat {p}"))
                })
        })
    };
    if let Some(skill) = command
        .as_deref()
        .and_then(skill_use::skill_read_by_command)
    {
        rec.uses.push(Found {
            skill,
            tool_use_id: id.clone(),
            kind: UseKind::FileRead,
        });
    }
    rec.events.push(Event::ToolCall { name, input, id });
}

/// Parses one rollout line.
pub fn parse(v: &Value) -> Option<Record> {
    if v.get("type").and_then(Value::as_str) != Some("response_item") {
        return None;
    }
    let p = v.get("payload")?;
    let mut rec = Record {
        timestamp: v
            .get("timestamp")
            .and_then(Value::as_str)
            .map(str::to_string),
        ..Default::default()
    };
    match p.get("type").and_then(Value::as_str)? {
        "message" => message(p, &mut rec),
        "function_call" => tool_call(p, &mut rec, false),
        "custom_tool_call" => tool_call(p, &mut rec, true),
        "function_call_output" | "custom_tool_call_output" => {
            let output = match p.get("output") {
                Some(Value::String(s)) => s.clone(),
                Some(o) => flatten_text(o),
                None => String::new(),
            };
            let is_error = tool_output_failed(&output);
            let id = p.get("call_id").and_then(Value::as_str).map(str::to_string);
            if is_error {
                if let Some(id) = &id {
                    rec.failed_ids.push(id.clone());
                }
            }
            rec.events.push(Event::ToolResult {
                id,
                output,
                is_error,
            });
        }
        _ => return None,
    }
    Some(rec)
}

#[cfg(test)]
mod tests {
    use super::super::{skill_uses, UseKind};

    const FIXTURE: &str = r##"{"timestamp":"t0","type":"session_meta","payload":{"id":"x","cwd":"/r"}}
{"timestamp":"t1","type":"response_item","payload":{"type":"message","role":"user","content":[{"type":"input_text","text":"# AGENTS.md instructions\n<INSTRUCTIONS>skills/x/SKILL.md</INSTRUCTIONS>"}]}}
{"timestamp":"t2","type":"response_item","payload":{"type":"message","role":"user","content":[{"type":"input_text","text":"<skill>\n<name>deploy--alice</name>\n<path>/h/.agents/skills/deploy--alice/SKILL.md</path>\n---\nname: deploy--alice\n---\nbody\n</skill>"}]}}
{"timestamp":"t3","type":"response_item","payload":{"type":"function_call","name":"exec_command","arguments":"{\"cmd\":\"sed -n '1,200p' /h/.agents/skills/lint--bob/SKILL.md\"}","call_id":"call_1"}}
{"timestamp":"t4","type":"response_item","payload":{"type":"function_call_output","call_id":"call_1","output":"Exit code: 1\nOutput:\nno such file"}}
{"timestamp":"t5","type":"response_item","payload":{"type":"function_call","name":"exec_command","arguments":"{\"cmd\":\"ln -s ../SKILL.md .dazi/skills/dazi/SKILL.md\"}","call_id":"call_2"}}
{"timestamp":"t6","type":"response_item","payload":{"type":"function_call","name":"shell","arguments":"{\"command\":[\"bash\",\"-lc\",\"cat ~/.codex/skills/.system/skill-installer/SKILL.md\"]}","call_id":"call_3"}}
{"timestamp":"t7","type":"event_msg","payload":{"type":"exec_command_end","command":["cat","/h/.agents/skills/lint--bob/SKILL.md"]}}
{"timestamp":"t8","type":"future_kind","payload":{}}"##;

    #[test]
    fn finds_injected_and_read_uses() {
        let uses = skill_uses(std::io::Cursor::new(FIXTURE)).unwrap();
        let got: Vec<_> = uses
            .iter()
            .map(|u| (u.skill.as_str(), u.kind, u.failed))
            .collect();
        assert_eq!(
            got,
            vec![
                ("deploy--alice", UseKind::Injected, false),
                ("lint--bob", UseKind::FileRead, true),
                ("skill-installer", UseKind::FileRead, false),
            ]
        );
    }

    #[test]
    fn readers_only() {
        use crate::skill_use::skill_read_by_command;
        assert_eq!(
            skill_read_by_command(
                "Get-Content -Path C:/U/.codex/skills/rust-skills/SKILL.md -TotalCount 220"
            )
            .as_deref(),
            Some("rust-skills")
        );
        assert!(skill_read_by_command(
            "mkdir -p .dazi/skills/dazi && cp -R SKILL.md .dazi/skills/dazi/"
        )
        .is_none());
        assert!(skill_read_by_command("sed -n '1,220p' SKILL.md").is_none());
        assert_eq!(
            skill_read_by_command("cd /x && cat /h/.agents/skills/a--b/SKILL.md | head").as_deref(),
            Some("a--b")
        );
    }
}
