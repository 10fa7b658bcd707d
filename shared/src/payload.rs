//! Hook stdin payloads of Claude Code and Codex (and, best-effort, Cursor).
//!
//! All three send one JSON object. Claude Code and Codex use snake_case fields and a PascalCase
//! `hook_event_name`; Codex adds `turn_id` and `model`, and its `transcript_path` is a
//! `rollout-*.jsonl`. Cursor sends camelCase event names and `conversation_id`. Every field is
//! optional here: a field of the wrong type reads as absent, only malformed JSON is an error.

use serde::Deserialize;
use serde_json::Value;

/// The agent that ran a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Agent {
    ClaudeCode,
    Codex,
    Cursor,
}

impl Agent {
    /// Wire name used in jobs, attribution and outcomes.
    pub fn as_str(self) -> &'static str {
        match self {
            Agent::ClaudeCode => "claude-code",
            Agent::Codex => "codex",
            Agent::Cursor => "cursor",
        }
    }

    /// Parses a wire name (also accepts the CLI names).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "claude-code" | "claude" | "claude_code" => Some(Agent::ClaudeCode),
            "codex" => Some(Agent::Codex),
            "cursor" | "cursor-agent" => Some(Agent::Cursor),
            _ => None,
        }
    }
}

/// Why a payload could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PayloadError {
    #[error("hook payload is empty")]
    Empty,
    #[error("hook payload is not a JSON object: {0}")]
    Json(String),
}

/// One hook invocation's stdin.
#[derive(Debug, Clone, Default)]
pub struct HookPayload {
    pub session_id: Option<String>,
    pub transcript_path: Option<String>,
    pub cwd: Option<String>,
    pub hook_event_name: Option<String>,
    pub source: Option<String>,
    pub model: Option<String>,
    pub turn_id: Option<String>,
    pub tool_name: Option<String>,
    pub tool_input: Option<Value>,
    pub tool_use_id: Option<String>,
    pub prompt: Option<String>,
    pub command_name: Option<String>,
    pub command_source: Option<String>,
    pub conversation_id: Option<String>,
    pub agent_id: Option<String>,
    /// The agent named by the hook command (`--agent codex`); wins over any guess.
    pub declared_agent: Option<Agent>,
}

/// Any JSON value; a non-empty string is kept, anything else is as good as absent (an agent's
/// payload is untrusted: a number where a string belongs must not cost the whole payload).
fn text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) if !s.is_empty() => Some(s),
        _ => None,
    })
}

/// Like [`text`], but an empty string is kept (an empty prompt is still a prompt).
fn any_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => Some(s),
        _ => None,
    })
}

/// Any JSON value but `null`.
fn non_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Ok(Some(Value::deserialize(d)?).filter(|v| !v.is_null()))
}

/// The fields skillopt reads, taken straight from the bytes (no intermediate JSON tree, so a
/// 2 MB prompt is held once, not three times). Unknown fields are skipped.
#[derive(Deserialize)]
struct Raw {
    #[serde(default, deserialize_with = "text")]
    session_id: Option<String>,
    #[serde(default, deserialize_with = "text")]
    transcript_path: Option<String>,
    #[serde(default, deserialize_with = "text")]
    cwd: Option<String>,
    #[serde(default, deserialize_with = "text")]
    hook_event_name: Option<String>,
    #[serde(default, deserialize_with = "text")]
    source: Option<String>,
    #[serde(default, deserialize_with = "text")]
    model: Option<String>,
    #[serde(default, deserialize_with = "text")]
    turn_id: Option<String>,
    #[serde(default, deserialize_with = "text")]
    tool_name: Option<String>,
    #[serde(default, deserialize_with = "non_null")]
    tool_input: Option<Value>,
    #[serde(default, deserialize_with = "text")]
    tool_use_id: Option<String>,
    #[serde(default, deserialize_with = "any_text")]
    prompt: Option<String>,
    #[serde(default, deserialize_with = "text")]
    command_name: Option<String>,
    #[serde(default, deserialize_with = "text")]
    command_source: Option<String>,
    #[serde(default, deserialize_with = "text")]
    conversation_id: Option<String>,
    #[serde(default, deserialize_with = "text")]
    agent_id: Option<String>,
}

/// The first JSON value in `bytes` (what follows it, e.g. a NUL a wrapper appended, is ignored)
/// read into [`Raw`]. A payload that repeats a key is legal JSON: it is read again through a
/// JSON tree, where the last value wins, as everywhere else.
fn read_fields(bytes: &[u8]) -> Result<Raw, PayloadError> {
    let first = |b: &[u8]| {
        serde_json::Deserializer::from_slice(b)
            .into_iter::<Raw>()
            .next()
            .unwrap_or_else(|| Err(serde::de::Error::custom("no JSON value")))
    };
    match first(bytes) {
        Ok(r) => Ok(r),
        Err(e) if e.to_string().starts_with("duplicate field") => {
            let v = serde_json::Deserializer::from_slice(bytes)
                .into_iter::<Value>()
                .next()
                .unwrap_or(Ok(Value::Null))
                .map_err(|e| PayloadError::Json(e.to_string()))?;
            serde_json::from_value(v).map_err(|e| PayloadError::Json(e.to_string()))
        }
        Err(e) => Err(PayloadError::Json(e.to_string())),
    }
}

impl HookPayload {
    /// Parses stdin bytes.
    pub fn parse(bytes: &[u8]) -> Result<Self, PayloadError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(PayloadError::Empty);
        }
        // A struct also deserializes from a JSON array: only an object is a payload.
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(PayloadError::Json("top level is not an object".into()));
        }
        let r = read_fields(bytes)?;
        Ok(Self {
            session_id: r.session_id.or_else(|| r.conversation_id.clone()),
            transcript_path: r.transcript_path,
            cwd: r.cwd,
            hook_event_name: r.hook_event_name,
            source: r.source,
            model: r.model,
            turn_id: r.turn_id,
            tool_name: r.tool_name,
            tool_input: r.tool_input,
            tool_use_id: r.tool_use_id,
            prompt: r.prompt,
            command_name: r.command_name,
            command_source: r.command_source,
            conversation_id: r.conversation_id,
            agent_id: r.agent_id,
            declared_agent: None,
        })
    }

    /// Which agent sent this payload: the one the hook command declares, else a guess from the
    /// payload's shape (an ephemeral Codex session has no rollout path and no `turn_id` at
    /// SessionStart, so only the declaration is certain).
    pub fn agent(&self) -> Agent {
        if let Some(agent) = self.declared_agent {
            return agent;
        }
        let event_camel = self
            .hook_event_name
            .as_deref()
            .and_then(|e| e.chars().next())
            .is_some_and(|c| c.is_ascii_lowercase());
        if self.conversation_id.is_some() || event_camel {
            return Agent::Cursor;
        }
        let rollout = self.transcript_path.as_deref().is_some_and(|p| {
            p.rsplit(['/', '\\'])
                .next()
                .is_some_and(|f| f.starts_with("rollout-"))
                || p.contains("/.codex/")
        });
        if self.turn_id.is_some() || rollout {
            Agent::Codex
        } else {
            Agent::ClaudeCode
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_field_types_cost_only_that_field_and_only_objects_are_payloads() {
        let p = HookPayload::parse(
            br#"{"session_id":"s1","cwd":42,"tool_input":null,"prompt":"","model":["x"],"extra":{"deep":[1,2]}}"#,
        )
        .unwrap();
        assert_eq!(p.session_id.as_deref(), Some("s1"));
        assert_eq!((p.cwd, p.model, p.tool_input), (None, None, None));
        assert_eq!(
            p.prompt.as_deref(),
            Some(""),
            "an empty prompt is still a prompt"
        );
        assert!(HookPayload::parse(br#" ["s1", "t"]"#).is_err());
        // A repeated key: the last wins. Bytes after the object are not the payload's.
        let p = HookPayload::parse(b"{\"session_id\":\"a\",\"session_id\":\"b\"}\0\0").unwrap();
        assert_eq!(p.session_id.as_deref(), Some("b"));
        assert!(HookPayload::parse(b"  \n").is_err());
        let p = HookPayload::parse(
            br#"{"conversation_id":"c9","hook_event_name":"beforeSubmitPrompt"}"#,
        )
        .unwrap();
        assert_eq!(p.session_id.as_deref(), Some("c9"));
    }

    #[test]
    fn claude_and_codex_are_told_apart() {
        let c = HookPayload::parse(br#"{"session_id":"a","transcript_path":"/h/.claude/projects/p/a.jsonl","hook_event_name":"SessionStart","source":"startup","model":"claude-sonnet-4-5"}"#).unwrap();
        assert_eq!(c.agent(), Agent::ClaudeCode);
        let x = HookPayload::parse(br#"{"session_id":"b","transcript_path":"/h/.codex/sessions/2026/08/20/rollout-2026-08-20T10-00-00-b.jsonl","hook_event_name":"SessionStart","model":"gpt-5","permission_mode":"default","source":"startup"}"#).unwrap();
        assert_eq!(x.agent(), Agent::Codex);
        let u = HookPayload::parse(br#"{"session_id":"b","transcript_path":null,"hook_event_name":"UserPromptSubmit","turn_id":"t","prompt":"hi"}"#).unwrap();
        assert_eq!(u.agent(), Agent::Codex);
        assert_eq!(u.transcript_path, None);
    }

    #[test]
    fn a_declared_agent_wins() {
        // Ephemeral Codex SessionStart: no transcript_path, no turn_id: looks like Claude Code.
        let mut p = HookPayload::parse(br#"{"session_id":"b","transcript_path":null,"hook_event_name":"SessionStart","model":"gpt-5","source":"startup"}"#).unwrap();
        assert_eq!(p.agent(), Agent::ClaudeCode);
        p.declared_agent = Some(Agent::Codex);
        assert_eq!(p.agent(), Agent::Codex);
    }

    #[test]
    fn wrong_types_read_as_absent() {
        let p =
            HookPayload::parse(br#"{"session_id":5,"prompt":["x"],"tool_input":null}"#).unwrap();
        assert!(p.session_id.is_none() && p.prompt.is_none() && p.tool_input.is_none());
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(HookPayload::parse(b"").is_err());
        assert!(HookPayload::parse(b"\xff\xfe garbage").is_err());
        assert!(HookPayload::parse(b"[1,2]").is_err());
    }
}
