//! Reading an agent CLI's stdout (untrusted, already capped by the runner): the reply text and
//! what the call used.
//!
//! * Claude Code (`-p --output-format json`): one JSON object; `.result` is the reply,
//!   `.is_error` / `.subtype` say it failed, `.total_cost_usd` is the cost and `.usage` the
//!   tokens (input = `input_tokens` + `cache_creation_input_tokens` + `cache_read_input_tokens`).
//! * Codex (`exec --json`): JSONL events; the reply is the last `item.completed` whose item is an
//!   `agent_message`, usage is summed over `turn.completed` events (`input_tokens` already counts
//!   cached input; Codex reports no cost); `turn.failed` (or an `error` event with no message)
//!   is a failure. Output holding no event at all is taken as plain text (an older build, or a
//!   wrapper script).
//! * Every other CLI: its stdout is the reply.
//!
//! Nothing here panics on any input; numbers that are negative, fractional or not finite are
//! left out of the usage.

use serde_json::Value;

use super::{AgentError, AgentKind, Usage};

/// The reply text and the call's usage.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub text: String,
    pub usage: Usage,
}

/// Why a reply is unusable.
#[derive(Debug, thiserror::Error)]
pub enum BadReply {
    #[error("not JSON: {0}")]
    NotJson(#[source] serde_json::Error),
    /// The CLI says the call failed (Claude's `subtype`, Codex's error message).
    #[error("the CLI reported an error: {0}")]
    Failed(String),
    #[error("no .result")]
    NoResult,
    #[error("no agent message among the events")]
    NoMessage,
    #[error("more than {0} bytes of output")]
    TooLarge(usize),
}

/// How much of a CLI's own error message is kept.
const MAX_ERROR_CHARS: usize = 200;

fn failed(msg: &str) -> BadReply {
    BadReply::Failed(skillopt_shared::text::preview(msg, MAX_ERROR_CHARS))
}

/// A token count: a non-negative integer.
fn count(v: &Value, key: &str) -> Option<u64> {
    v.get(key).and_then(Value::as_u64)
}

/// The reply text and usage from a CLI's stdout.
pub fn extract_reply(kind: AgentKind, stdout: &str) -> Result<Parsed, AgentError> {
    let name = kind.binary();
    if stdout.trim().is_empty() {
        return Err(AgentError::Empty(name));
    }
    let bad = |why| AgentError::BadReply(name, why);
    match kind {
        AgentKind::Claude => claude(stdout).map_err(bad),
        AgentKind::Codex => codex(stdout).map_err(bad),
        _ => Ok(Parsed {
            text: stdout.to_string(),
            usage: Usage::default(),
        }),
    }
}

fn claude(stdout: &str) -> Result<Parsed, BadReply> {
    let v: Value = serde_json::from_str(stdout.trim()).map_err(BadReply::NotJson)?;
    if v.get("is_error").and_then(Value::as_bool) == Some(true) {
        return Err(failed(
            v.get("subtype").and_then(Value::as_str).unwrap_or("error"),
        ));
    }
    let text = v
        .get("result")
        .and_then(Value::as_str)
        .ok_or(BadReply::NoResult)?
        .to_string();
    let u = v.get("usage").cloned().unwrap_or(Value::Null);
    let parts = [
        count(&u, "input_tokens"),
        count(&u, "cache_creation_input_tokens"),
        count(&u, "cache_read_input_tokens"),
    ];
    let input_tokens = parts.iter().any(Option::is_some).then(|| {
        parts
            .iter()
            .flatten()
            .fold(0u64, |a, b| a.saturating_add(*b))
    });
    Ok(Parsed {
        text,
        usage: Usage {
            input_tokens,
            output_tokens: count(&u, "output_tokens"),
            cost_usd: v
                .get("total_cost_usd")
                .and_then(Value::as_f64)
                .filter(|c| c.is_finite() && *c >= 0.0),
        },
    })
}

fn codex(stdout: &str) -> Result<Parsed, BadReply> {
    let events: Vec<Value> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l.trim()).ok())
        .filter(|v| v.get("type").and_then(Value::as_str).is_some())
        .collect();
    if events.is_empty() {
        return Ok(Parsed {
            text: stdout.to_string(),
            usage: Usage::default(),
        });
    }
    let mut text = None;
    let mut usage = Usage::default();
    let mut turn_failed = None;
    let mut error = None;
    let add = |a: Option<u64>, b: Option<u64>| match (a, b) {
        (Some(a), Some(b)) => Some(a.saturating_add(b)),
        (a, b) => a.or(b),
    };
    for e in &events {
        match e.get("type").and_then(Value::as_str).unwrap_or_default() {
            "item.completed" => {
                let item = e.get("item").cloned().unwrap_or(Value::Null);
                if item.get("type").and_then(Value::as_str) == Some("agent_message") {
                    if let Some(t) = item.get("text").and_then(Value::as_str) {
                        text = Some(t.to_string());
                    }
                }
            }
            "turn.completed" => {
                let u = e.get("usage").cloned().unwrap_or(Value::Null);
                usage.input_tokens = add(usage.input_tokens, count(&u, "input_tokens"));
                usage.output_tokens = add(usage.output_tokens, count(&u, "output_tokens"));
            }
            "turn.failed" => {
                turn_failed = Some(
                    e.pointer("/error/message")
                        .and_then(Value::as_str)
                        .unwrap_or("turn failed")
                        .to_string(),
                );
            }
            "error" => {
                error = Some(
                    e.get("message")
                        .and_then(Value::as_str)
                        .unwrap_or("error")
                        .to_string(),
                );
            }
            _ => {}
        }
    }
    match (turn_failed, text, error) {
        (Some(why), _, _) => Err(failed(&why)),
        (None, Some(text), _) => Ok(Parsed { text, usage }),
        (None, None, Some(why)) => Err(failed(&why)),
        (None, None, None) => Err(BadReply::NoMessage),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(r: Result<Parsed, AgentError>) -> BadReply {
        match r {
            Err(AgentError::BadReply(_, why)) => why,
            other => panic!("not a bad reply: {other:?}"),
        }
    }

    #[test]
    fn claude_reply_is_unwrapped() {
        let p = extract_reply(
            AgentKind::Claude,
            r#"{"type":"result","is_error":false,"result":"hi"}"#,
        )
        .unwrap();
        assert_eq!((p.text.as_str(), p.usage), ("hi", Usage::default()));
        assert!(matches!(
            reason(extract_reply(
                AgentKind::Claude,
                r#"{"is_error":true,"subtype":"error_max_turns"}"#
            )),
            BadReply::Failed(s) if s == "error_max_turns"
        ));
        assert!(matches!(
            reason(extract_reply(AgentKind::Claude, "plain text")),
            BadReply::NotJson(_)
        ));
        assert!(matches!(
            reason(extract_reply(AgentKind::Claude, r#"{"result":7}"#)),
            BadReply::NoResult
        ));
        assert!(extract_reply(AgentKind::Codex, "  ").is_err());
    }

    #[test]
    fn claude_cost_and_tokens() {
        // As printed by Claude Code 2.1.332 (trimmed).
        let out = r#"{"type":"result","subtype":"success","is_error":false,"result":"ok","total_cost_usd":0.000188,
            "usage":{"input_tokens":12,"cache_creation_input_tokens":100,"cache_read_input_tokens":1000,"output_tokens":7,
            "server_tool_use":{"web_search_requests":0}},"modelUsage":{"claude-haiku":{"costUSD":0.000188}}}"#;
        let p = extract_reply(AgentKind::Claude, out).unwrap();
        assert_eq!(
            p.usage,
            Usage {
                input_tokens: Some(1112),
                output_tokens: Some(7),
                cost_usd: Some(0.000188),
            }
        );
        // Nonsense numbers are left out, never a panic.
        let odd = r#"{"is_error":false,"result":"ok","total_cost_usd":-3,"usage":{"input_tokens":-1,"output_tokens":1.5}}"#;
        assert_eq!(
            extract_reply(AgentKind::Claude, odd).unwrap().usage,
            Usage::default()
        );
        let huge = format!(
            r#"{{"result":"ok","usage":{{"input_tokens":{m},"cache_read_input_tokens":{m}}},"total_cost_usd":"1"}}"#,
            m = u64::MAX
        );
        let u = extract_reply(AgentKind::Claude, &huge).unwrap().usage;
        assert_eq!((u.input_tokens, u.cost_usd), (Some(u64::MAX), None));
    }

    #[test]
    fn codex_events_give_the_last_message_and_usage() {
        // As printed by `codex exec --json` 0.171.0.
        let out = r#"{"type":"thread.started","thread_id":"01a2"}
{"type":"item.completed","item":{"id":"item_0","type":"error","message":"Model metadata for `mock-model` not found."}}
{"type":"turn.started"}
{"type":"item.completed","item":{"id":"item_1","type":"reasoning","text":"thinking"}}
{"type":"item.completed","item":{"id":"item_2","type":"agent_message","text":"{\"outcome\":\"success\"}"}}
{"type":"turn.completed","usage":{"input_tokens":12,"cached_input_tokens":4,"cache_write_input_tokens":0,"output_tokens":7,"reasoning_output_tokens":0}}
"#;
        let p = extract_reply(AgentKind::Codex, out).unwrap();
        assert_eq!(p.text, r#"{"outcome":"success"}"#);
        assert_eq!(
            p.usage,
            Usage {
                input_tokens: Some(12),
                output_tokens: Some(7),
                cost_usd: None,
            }
        );
    }

    #[test]
    fn codex_failures_and_plain_text() {
        let failed_turn = r#"{"type":"turn.started"}
{"type":"error","message":"Reconnecting... 1/5"}
{"type":"turn.failed","error":{"message":"stream disconnected"}}"#;
        assert!(matches!(
            reason(extract_reply(AgentKind::Codex, failed_turn)),
            BadReply::Failed(s) if s == "stream disconnected"
        ));
        let only_error = r#"{"type":"error","message":"unauthorized"}"#;
        assert!(matches!(
            reason(extract_reply(AgentKind::Codex, only_error)),
            BadReply::Failed(_)
        ));
        let no_message = r#"{"type":"turn.completed","usage":{"input_tokens":1}}"#;
        assert!(matches!(
            reason(extract_reply(AgentKind::Codex, no_message)),
            BadReply::NoMessage
        ));
        // No event at all: plain text, as without `--json`.
        let p = extract_reply(AgentKind::Codex, "{\"outcome\":\"failure\"}\n").unwrap();
        assert_eq!(p.text, "{\"outcome\":\"failure\"}\n");
        // Hostile shapes never panic.
        for s in [
            r#"{"type":"item.completed","item":7}"#,
            r#"{"type":"turn.completed","usage":"x"}"#,
            r#"{"type":"turn.failed","error":null}"#,
            "{\"type\":\"item.completed\"\n\u{0}\u{fffd}",
        ] {
            let _ = extract_reply(AgentKind::Codex, s);
        }
    }

    #[test]
    fn other_clis_print_plain_text() {
        let p = extract_reply(AgentKind::Pi, "hello").unwrap();
        assert_eq!((p.text.as_str(), p.usage), ("hello", Usage::default()));
    }
}
