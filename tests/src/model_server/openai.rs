//! The OpenAI Responses API as Codex uses it: the request (`instructions`, `input` items,
//! `tools`) reduced to a [`Conversation`], and the reply as an SSE stream (`response.created`,
//! `response.output_item.added`, text deltas, `response.output_item.done`,
//! `response.completed` with usage). A tool call is a `function_call` item.

use serde_json::{json, Value};

use super::script::{Action, Conversation, Speaker, Tool, Turn};
use super::sse;

fn text_of(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p["text"].as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

/// The request as a conversation (developer messages count as system text).
pub fn conversation(body: &Value) -> Conversation {
    let mut system = body["instructions"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let mut turns = Vec::new();
    for item in body["input"].as_array().into_iter().flatten() {
        let (speaker, text) = match (item["type"].as_str(), item["role"].as_str()) {
            (Some("message") | None, Some("user")) => (Speaker::User, text_of(&item["content"])),
            (Some("message") | None, Some("assistant")) => {
                (Speaker::Assistant, text_of(&item["content"]))
            }
            (Some("message") | None, Some("developer" | "system")) => {
                system.push('\n');
                system.push_str(&text_of(&item["content"]));
                continue;
            }
            (Some("function_call" | "custom_tool_call" | "local_shell_call"), _) => {
                (Speaker::Assistant, item.to_string())
            }
            (Some(t), _) if t.ends_with("_output") => (
                Speaker::User,
                match &item["output"] {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                },
            ),
            _ => continue,
        };
        turns.push(Turn { speaker, text });
    }
    let tools = body["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| {
            let name = t["name"].as_str().or(t["type"].as_str())?;
            Some(Tool {
                name: name.to_string(),
                schema: t["parameters"].clone(),
            })
        })
        .collect();
    Conversation {
        system,
        turns,
        tools,
    }
}

fn item(action: &Action, id: &str) -> Value {
    match action {
        Action::Text(t) => json!({
            "type": "message", "id": format!("msg_{id}"), "role": "assistant",
            "status": "completed",
            "content": [{"type": "output_text", "text": t, "annotations": []}],
        }),
        Action::Tool { name, input } => json!({
            "type": "function_call", "id": format!("fc_{id}"), "call_id": format!("call_{id}"),
            "name": name, "arguments": input.to_string(), "status": "completed",
        }),
    }
}

/// The reply as SSE events.
pub fn events(action: &Action, model: &str, id: &str) -> Vec<(String, Value)> {
    let rid = format!("resp_{id}");
    let done = item(action, id);
    let response = |status: &str, output: Value| {
        json!({"id": rid, "object": "response", "status": status, "model": model,
               "output": output})
    };
    let mut ev = vec![(
        "response.created",
        json!({"type": "response.created", "response": response("in_progress", json!([]))}),
    )];
    let mut added = done.clone();
    if let Action::Text(t) = action {
        added["content"] = json!([]);
        added["status"] = "in_progress".into();
        ev.push((
            "response.output_item.added",
            json!({"type": "response.output_item.added", "output_index": 0, "item": added}),
        ));
        let part = json!({"type": "output_text", "text": "", "annotations": []});
        let item_id = format!("msg_{id}");
        ev.push((
            "response.content_part.added",
            json!({"type": "response.content_part.added", "item_id": item_id, "output_index": 0,
                   "content_index": 0, "part": part}),
        ));
        ev.push((
            "response.output_text.delta",
            json!({"type": "response.output_text.delta", "item_id": item_id, "output_index": 0,
                   "content_index": 0, "delta": t}),
        ));
        ev.push((
            "response.output_text.done",
            json!({"type": "response.output_text.done", "item_id": item_id, "output_index": 0,
                   "content_index": 0, "text": t}),
        ));
    } else {
        ev.push((
            "response.output_item.added",
            json!({"type": "response.output_item.added", "output_index": 0, "item": added}),
        ));
    }
    ev.push((
        "response.output_item.done",
        json!({"type": "response.output_item.done", "output_index": 0, "item": done}),
    ));
    let mut completed = response("completed", json!([done]));
    completed["usage"] = json!({
        "input_tokens": 12, "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": 7, "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": 19
    });
    ev.push((
        "response.completed",
        json!({"type": "response.completed", "response": completed}),
    ));
    ev.into_iter().map(|(n, v)| (n.to_string(), v)).collect()
}

/// The reply as SSE text.
pub fn stream(action: &Action, model: &str, id: &str) -> String {
    sse::stream(&events(action, model, id))
}

/// `GET /v1/models`: both the OpenAI list shape and Codex's `models` key.
pub fn models(model: &str) -> Value {
    json!({"object": "list", "data": [{"id": model, "object": "model", "owned_by": "skillopt-tests"}],
           "models": []})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_input_items_and_tools() {
        let body = json!({
            "instructions": "base",
            "input": [
                {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "dev"}]},
                {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "[[codex-read a--b]]"}]},
                {"type": "function_call", "name": "exec_command", "arguments": "{}", "call_id": "c"},
                {"type": "function_call_output", "call_id": "c", "output": "body"}
            ],
            "tools": [{"type": "function", "name": "exec_command", "parameters": {"properties": {}}},
                      {"type": "web_search"}]
        });
        let c = conversation(&body);
        assert_eq!(c.system, "base\ndev");
        let speakers: Vec<Speaker> = c.turns.iter().map(|t| t.speaker).collect();
        assert_eq!(speakers, [Speaker::User, Speaker::Assistant, Speaker::User]);
        assert_eq!(c.turns[2].text, "body");
        let names: Vec<&str> = c.tools.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["exec_command", "web_search"]);
    }

    #[test]
    fn a_function_call_ends_with_completed_and_usage() {
        let a = Action::Tool {
            name: "exec_command".into(),
            input: json!({"cmd": "cat x"}),
        };
        let ev = sse::parse(&stream(&a, "m", "1"));
        assert_eq!(ev.first().unwrap().0, "response.created");
        let (last, data) = ev.last().unwrap();
        assert_eq!(last, "response.completed");
        assert_eq!(data["response"]["usage"]["total_tokens"], 19);
        let done = &ev[ev.len() - 2].1["item"];
        assert_eq!(done["type"], "function_call");
        assert_eq!(
            serde_json::from_str::<Value>(done["arguments"].as_str().unwrap()).unwrap(),
            json!({"cmd": "cat x"})
        );
        let text = sse::parse(&stream(&Action::Text("hi".into()), "m", "2"));
        assert!(text
            .iter()
            .any(|(n, d)| n == "response.output_text.delta" && d["delta"] == "hi"));
    }
}
