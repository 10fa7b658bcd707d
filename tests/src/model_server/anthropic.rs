//! The Anthropic Messages API as Claude Code uses it: the request reduced to a
//! [`Conversation`], and the reply as an SSE stream (`message_start`, `content_block_*`,
//! `message_delta`, `message_stop`) or, when `stream` is false, one JSON message.

use serde_json::{json, Value};

use super::script::{Action, Conversation, Speaker, Tool, Turn};
use super::sse;

/// Text of a `content` (a string or an array of blocks; tool results included).
fn content_text(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(blocks) => blocks
            .iter()
            .map(|b| match b["type"].as_str() {
                Some("text") => b["text"].as_str().unwrap_or_default().to_string(),
                Some("tool_result") => content_text(&b["content"]),
                Some("tool_use") => b["input"].to_string(),
                _ => String::new(),
            })
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

/// The request as a conversation.
pub fn conversation(body: &Value) -> Conversation {
    let turns = body["messages"]
        .as_array()
        .map(|m| {
            m.iter()
                .map(|msg| Turn {
                    speaker: if msg["role"] == "assistant" {
                        Speaker::Assistant
                    } else {
                        Speaker::User
                    },
                    text: content_text(&msg["content"]),
                })
                .collect()
        })
        .unwrap_or_default();
    let tools = body["tools"]
        .as_array()
        .map(|t| {
            t.iter()
                .filter_map(|t| {
                    Some(Tool {
                        name: t["name"].as_str()?.to_string(),
                        schema: t["input_schema"].clone(),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    Conversation {
        system: content_text(&body["system"]),
        turns,
        tools,
    }
}

fn usage() -> Value {
    json!({"input_tokens": 12, "output_tokens": 7, "cache_creation_input_tokens": 0,
           "cache_read_input_tokens": 0})
}

fn block_and_stop(action: &Action, id: &str) -> (Value, &'static str) {
    match action {
        Action::Text(t) => (json!({"type": "text", "text": t}), "end_turn"),
        Action::Tool { name, input } => (
            json!({"type": "tool_use", "id": format!("toolu_{id}"), "name": name, "input": input}),
            "tool_use",
        ),
    }
}

/// The whole reply as one JSON message (`stream: false`).
pub fn message(action: &Action, model: &str, id: &str) -> Value {
    let (block, stop) = block_and_stop(action, id);
    json!({
        "id": format!("msg_{id}"), "type": "message", "role": "assistant", "model": model,
        "content": [block], "stop_reason": stop, "stop_sequence": null, "usage": usage(),
    })
}

/// The reply as SSE events.
pub fn events(action: &Action, model: &str, id: &str) -> Vec<(String, Value)> {
    let (block, stop) = block_and_stop(action, id);
    let mut start = message(action, model, id);
    start["content"] = json!([]);
    start["stop_reason"] = Value::Null;
    let (empty, delta) = match action {
        Action::Text(t) => (
            json!({"type": "text", "text": ""}),
            json!({"type": "text_delta", "text": t}),
        ),
        Action::Tool { input, .. } => {
            let mut b = block.clone();
            b["input"] = json!({});
            (
                b,
                json!({"type": "input_json_delta", "partial_json": input.to_string()}),
            )
        }
    };
    let ev = |n: &str, v: Value| (n.to_string(), v);
    vec![
        ev(
            "message_start",
            json!({"type": "message_start", "message": start}),
        ),
        ev(
            "content_block_start",
            json!({"type": "content_block_start", "index": 0, "content_block": empty}),
        ),
        ev(
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 0, "delta": delta}),
        ),
        ev(
            "content_block_stop",
            json!({"type": "content_block_stop", "index": 0}),
        ),
        ev(
            "message_delta",
            json!({"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": null},
                   "usage": {"output_tokens": 7}}),
        ),
        ev("message_stop", json!({"type": "message_stop"})),
    ]
}

/// The reply as SSE text.
pub fn stream(action: &Action, model: &str, id: &str) -> String {
    sse::stream(&events(action, model, id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_messages_system_and_tools() {
        let body = json!({
            "system": [{"type": "text", "text": "sys"}],
            "messages": [
                {"role": "user", "content": [{"type": "text", "text": "[[skill-tool a--b]]"}]},
                {"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "Skill",
                                                    "input": {"skill": "a--b"}}]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t",
                                               "content": "loaded"}]}
            ],
            "tools": [{"name": "Skill", "input_schema": {"type": "object"}}]
        });
        let c = conversation(&body);
        assert_eq!(c.system, "sys");
        assert_eq!(c.turns.len(), 3);
        assert_eq!(c.turns[2].text, "loaded");
        assert_eq!(c.tools[0].name, "Skill");
    }

    #[test]
    fn a_tool_use_streams_its_input_as_json_delta() {
        let a = Action::Tool {
            name: "Skill".into(),
            input: json!({"skill": "a--b"}),
        };
        let ev = sse::parse(&stream(&a, "m", "1"));
        let names: Vec<&str> = ev.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "message_start",
                "content_block_start",
                "content_block_delta",
                "content_block_stop",
                "message_delta",
                "message_stop"
            ]
        );
        assert_eq!(ev[1].1["content_block"]["name"], "Skill");
        let partial = ev[2].1["delta"]["partial_json"].as_str().unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(partial).unwrap(),
            json!({"skill": "a--b"})
        );
        assert_eq!(ev[4].1["delta"]["stop_reason"], "tool_use");
        let m = message(&Action::Text("hi".into()), "m", "2");
        assert_eq!(m["content"][0]["text"], "hi");
        assert_eq!(m["stop_reason"], "end_turn");
    }
}
