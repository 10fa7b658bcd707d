//! The judge's verdict and the tolerant JSON extraction shared with the proposer's reply.
//!
//! Model replies are untrusted: the JSON may sit in a code fence or inside prose, fields may
//! have the wrong type. Anything that does not yield a recognisable verdict is `None`, which the
//! worker records as `unclear` — never as a failure.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::redact::redact;
use crate::text::take_chars;

/// Reason and evidence are cut to this many chars (and redacted) before they are stored.
pub const MAX_REASON_CHARS: usize = 240;

/// What the judge decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Success,
    Failure,
    Unclear,
}

impl Outcome {
    /// The stored and shown name (`success`, `failure`, `unclear`).
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Unclear => "unclear",
        }
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored outcome name that is none of `success`, `failure`, `unclear`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown outcome {0:?}")]
pub struct UnknownOutcome(pub String);

impl std::str::FromStr for Outcome {
    type Err = UnknownOutcome;
    fn from_str(s: &str) -> Result<Self, UnknownOutcome> {
        match s {
            "success" => Ok(Outcome::Success),
            "failure" => Ok(Outcome::Failure),
            "unclear" => Ok(Outcome::Unclear),
            _ => Err(UnknownOutcome(s.to_string())),
        }
    }
}

/// A parsed verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub outcome: Outcome,
    pub skill_at_fault: bool,
    pub confidence: f64,
    pub reason: String,
    pub evidence: String,
}

impl Verdict {
    /// The verdict recorded when judging failed.
    pub fn unclear(reason: &str) -> Self {
        Self {
            outcome: Outcome::Unclear,
            skill_at_fault: false,
            confidence: 0.0,
            reason: clean(reason),
            evidence: String::new(),
        }
    }
}

/// Redacts and cuts a model-provided string for storage.
pub fn clean(s: &str) -> String {
    // A model reply is untrusted: control, bidi and zero-width characters (a NUL that
    // PostgreSQL refuses, a terminal escape that `skillopt log` would print) never get stored.
    let visible: String = s
        .chars()
        .filter(|c| c.is_whitespace() || !crate::text::is_unsafe_for_terminal(*c))
        .collect();
    let flat = visible.split_whitespace().collect::<Vec<_>>().join(" ");
    take_chars(&redact(&flat), MAX_REASON_CHARS)
}

/// Every balanced `{…}` / `[…]` span in `text` (strings and escapes respected), in order.
fn balanced_spans(text: &str, open: u8, close: u8) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != open {
            i += 1;
            continue;
        }
        let (mut depth, mut in_str, mut esc) = (0usize, false, false);
        let mut end = None;
        for (j, &b) in bytes.iter().enumerate().skip(i) {
            if in_str {
                match (esc, b) {
                    (true, _) => esc = false,
                    (false, b'\\') => esc = true,
                    (false, b'"') => in_str = false,
                    _ => {}
                }
                continue;
            }
            match b {
                b'"' => in_str = true,
                b if b == open => depth += 1,
                b if b == close => {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(j);
                        break;
                    }
                }
                _ => {}
            }
        }
        match end {
            Some(j) => {
                spans.push(&text[i..=j]);
                i = j + 1;
            }
            None => i += 1,
        }
    }
    spans
}

/// The first JSON value of the wanted shape found in a reply (fenced blocks first).
pub fn extract_json(reply: &str, want_array: bool) -> Option<Value> {
    let (open, close) = if want_array {
        (b'[', b']')
    } else {
        (b'{', b'}')
    };
    let mut candidates: Vec<&str> = Vec::new();
    let mut rest = reply;
    while let Some(start) = rest.find("```") {
        let after = &rest[start + 3..];
        let body_start = after.find('\n').map(|n| n + 1).unwrap_or(0);
        let Some(end) = after[body_start..].find("```") else {
            break;
        };
        candidates.push(&after[body_start..body_start + end]);
        rest = &after[body_start + end + 3..];
    }
    candidates.push(reply);
    for c in candidates {
        if let Ok(v) = serde_json::from_str::<Value>(c.trim()) {
            if v.is_array() == want_array && (v.is_array() || v.is_object()) {
                return Some(v);
            }
        }
        for span in balanced_spans(c, open, close) {
            if let Ok(v) = serde_json::from_str::<Value>(span) {
                return Some(v);
            }
        }
    }
    None
}

fn as_bool(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        Some(Value::String(s)) => matches!(s.trim().to_lowercase().as_str(), "true" | "yes" | "1"),
        _ => false,
    }
}

fn as_f64(v: Option<&Value>) -> f64 {
    let f = match v {
        Some(Value::Number(n)) => n.as_f64().unwrap_or(0.0),
        Some(Value::String(s)) => s.trim().trim_end_matches('%').parse().unwrap_or(0.0),
        _ => 0.0,
    };
    let f = if f > 1.0 && f <= 100.0 { f / 100.0 } else { f };
    if f.is_finite() {
        f.clamp(0.0, 1.0)
    } else {
        0.0
    }
}

/// Parses a judge reply; `None` when it holds no recognisable verdict.
pub fn parse_verdict(reply: &str) -> Option<Verdict> {
    let v = extract_json(reply, false)?;
    let outcome = match v.get("outcome")?.as_str()?.trim().to_lowercase().as_str() {
        "success" | "succeeded" | "pass" => Outcome::Success,
        "failure" | "failed" | "fail" => Outcome::Failure,
        "unclear" | "unknown" => Outcome::Unclear,
        _ => return None,
    };
    let text = |k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .map(clean)
            .unwrap_or_default()
    };
    Some(Verdict {
        outcome,
        skill_at_fault: outcome == Outcome::Failure && as_bool(v.get("skill_at_fault")),
        confidence: as_f64(v.get("confidence")),
        reason: text("reason"),
        evidence: text("evidence"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_never_reach_the_record() {
        let v = parse_verdict("{\"outcome\":\"failure\",\"reason\":\"bad\\u0000 step\\u001b[31m red \\u202e rtl\",\"evidence\":\"a\\u200bb\"}").unwrap();
        assert_eq!(v.reason, "bad step[31m red rtl");
        assert_eq!(v.evidence, "ab");
    }

    #[test]
    fn clean_json() {
        let v = parse_verdict(r#"{"outcome":"failure","skill_at_fault":true,"confidence":0.8,"reason":"skipped migration","evidence":"deploy failed"}"#).unwrap();
        assert_eq!(v.outcome, Outcome::Failure);
        assert!(v.skill_at_fault);
        assert!((v.confidence - 0.8).abs() < 1e-9);
    }

    #[test]
    fn fenced_and_prose() {
        let reply = "Here is my verdict:\n```json\n{\"outcome\": \"success\", \"skill_at_fault\": false, \"confidence\": \"0.9\"}\n```\nThanks.";
        let v = parse_verdict(reply).unwrap();
        assert_eq!(v.outcome, Outcome::Success);
        assert!((v.confidence - 0.9).abs() < 1e-9);
        let prose = "I think {\"outcome\":\"failure\",\"skill_at_fault\":\"yes\",\"confidence\":85} overall.";
        let v = parse_verdict(prose).unwrap();
        assert!(v.skill_at_fault && (v.confidence - 0.85).abs() < 1e-9);
    }

    #[test]
    fn garbage_is_none() {
        for reply in [
            "",
            "no json here",
            "{\"outcome\":\"maybe\"}",
            "[1,2]",
            "{broken",
        ] {
            assert!(parse_verdict(reply).is_none(), "{reply}");
        }
    }

    #[test]
    fn success_is_never_skill_at_fault_and_fields_are_bounded() {
        let long = "x".repeat(1000);
        let v = parse_verdict(&format!(
            r#"{{"outcome":"success","skill_at_fault":true,"confidence":700,"reason":"{long}"}}"#
        ))
        .unwrap();
        assert!(!v.skill_at_fault);
        assert_eq!(v.confidence, 1.0);
        assert_eq!(v.reason.chars().count(), MAX_REASON_CHARS);
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in ".{0,400}") {
            let _ = parse_verdict(&s);
            let _ = extract_json(&s, true);
        }
    }
}
