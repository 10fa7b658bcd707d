//! Server-sent-event framing: `event: <name>` and `data: <json>` lines, a blank line after each
//! event. Both the Anthropic Messages and the OpenAI Responses streams use this shape.

use serde_json::Value;

/// One SSE event as text.
pub fn event(name: &str, data: &Value) -> String {
    format!("event: {name}\ndata: {data}\n\n")
}

/// A whole stream: each `(name, data)` framed in order.
pub fn stream(events: &[(String, Value)]) -> String {
    events.iter().map(|(n, d)| event(n, d)).collect()
}

/// Parses framed text back into `(name, data)` pairs (for tests and log reading).
pub fn parse(text: &str) -> Vec<(String, Value)> {
    text.split("\n\n")
        .filter(|chunk| !chunk.trim().is_empty())
        .filter_map(|chunk| {
            let mut name = None;
            let mut data = String::new();
            for line in chunk.lines() {
                if let Some(n) = line.strip_prefix("event: ") {
                    name = Some(n.to_string());
                } else if let Some(d) = line.strip_prefix("data: ") {
                    data.push_str(d);
                }
            }
            Some((name?, serde_json::from_str(&data).ok()?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn frames_one_event_per_blank_line() {
        let s = stream(&[
            ("a".into(), json!({"text": "two\nlines"})),
            ("b".into(), json!({"type": "b"})),
        ]);
        assert_eq!(
            s,
            "event: a\ndata: {\"text\":\"two\\nlines\"}\n\nevent: b\ndata: {\"type\":\"b\"}\n\n"
        );
        let back = parse(&s);
        assert_eq!(back.len(), 2);
        assert_eq!(back[0].1["text"], "two\nlines");
    }
}
