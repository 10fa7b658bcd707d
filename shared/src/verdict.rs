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
        match span_end(bytes, i, (open, close), usize::MAX) {
            Ok((Some(j), _)) => {
                spans.push(&text[i..=j]);
                i = j + 1;
            }
            _ => i += 1,
        }
    }
    spans
}

/// How many JSON objects a model reply may hold for [`json_objects`]. A model answers with
/// one object (two or three when it thinks aloud); a reply with more is noise or a trick.
pub const MAX_JSON_OBJECTS: usize = 32;

/// Bytes [`json_objects`] may look at (each `{` scanned to its match, each span parsed):
/// about 16 times a long reply, a few tens of milliseconds. A reply of unclosed braces would
/// otherwise cost time quadratic in its length (the runner keeps up to 4 MiB of stdout).
const SCAN_BUDGET: usize = 16 * 1024 * 1024;

/// The bodies of the ```` ``` ```` fenced blocks of a reply, with their byte offset.
fn fenced_blocks(reply: &str) -> Vec<(usize, &str)> {
    let mut blocks = Vec::new();
    let mut rest = reply;
    while let Some(start) = rest.find("```") {
        let after = &rest[start + 3..];
        let body_start = after.find('\n').map(|n| n + 1).unwrap_or(0);
        let Some(end) = after[body_start..].find("```") else {
            break;
        };
        let body = &after[body_start..body_start + end];
        blocks.push((reply.len() - after.len() + body_start, body));
        rest = &after[body_start + end + 3..];
    }
    blocks
}

/// Where the balanced span opening at `bytes[start]` (with `brackets`, `{}` or `[]`) ends
/// (inclusive; strings and escapes respected), looking at no more than `budget` bytes:
/// `Ok(None)` when it never closes, `Err(())` when the budget ran out first. `Ok` carries the
/// bytes looked at.
fn span_end(
    bytes: &[u8],
    start: usize,
    (open, close): (u8, u8),
    budget: usize,
) -> Result<(Option<usize>, usize), ()> {
    let (mut depth, mut in_str, mut esc) = (0usize, false, false);
    for (j, &b) in bytes.iter().enumerate().skip(start) {
        if j - start >= budget {
            return Err(());
        }
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
                    return Ok((Some(j), j + 1 - start));
                }
            }
            _ => {}
        }
    }
    Ok((None, bytes.len() - start))
}

/// Every JSON object in a model reply, in the order they appear: each fenced block that is
/// one object, and each balanced `{…}` span that parses (an object nested in one already
/// taken is part of it; a span that does not parse is searched for objects inside it). The
/// same text found both ways counts once.
///
/// `None` when the reply holds more than `max` objects (see [`MAX_JSON_OBJECTS`]) or is too
/// tangled to scan in full: a caller that must weigh every answer in a reply cannot trust
/// part of them.
pub fn json_objects(reply: &str, max: usize) -> Option<Vec<serde_json::Map<String, Value>>> {
    // Keyed by where the object starts in the reply: order of appearance, and one entry for
    // a fenced object that the span scan finds too.
    let mut found = std::collections::BTreeMap::new();
    let mut budget = SCAN_BUDGET;
    for (offset, body) in fenced_blocks(reply) {
        let trimmed = body.trim_start();
        budget = budget.checked_sub(body.len())?;
        if let Ok(Value::Object(o)) = serde_json::from_str::<Value>(trimmed.trim_end()) {
            found.insert(offset + body.len() - trimmed.len(), o);
        }
    }
    let bytes = reply.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if found.len() > max {
            return None;
        }
        if bytes[i] != b'{' {
            i += 1;
            continue;
        }
        let (end, looked) = span_end(bytes, i, (b'{', b'}'), budget).ok()?;
        budget -= looked;
        let Some(j) = end else {
            // Never closes; a later `{` may still close before the end.
            i += 1;
            continue;
        };
        budget = budget.checked_sub(j + 1 - i)?;
        match serde_json::from_str::<Value>(&reply[i..=j]) {
            Ok(Value::Object(o)) => {
                found.entry(i).or_insert(o);
                i = j + 1;
            }
            _ => i += 1,
        }
    }
    (found.len() <= max).then(|| found.into_values().collect())
}

/// The first JSON value of the wanted shape found in a reply (fenced blocks first).
pub fn extract_json(reply: &str, want_array: bool) -> Option<Value> {
    let (open, close) = if want_array {
        (b'[', b']')
    } else {
        (b'{', b'}')
    };
    let mut candidates: Vec<&str> = fenced_blocks(reply).into_iter().map(|(_, b)| b).collect();
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

    fn keys(objects: &[serde_json::Map<String, Value>]) -> Vec<Vec<&str>> {
        objects
            .iter()
            .map(|o| o.keys().map(String::as_str).collect())
            .collect()
    }

    #[test]
    fn every_object_of_a_reply_in_order() {
        let reply = "First {\"a\": 1}, then\n```json\n{\"b\": {\"nested\": true}}\n```\nnot {json} but {\"c\": \"}\"} and {broken {\"d\": 2}";
        let all = json_objects(reply, MAX_JSON_OBJECTS).unwrap();
        // The fenced object counts once, its nested object is part of it; `{json}` and the
        // unclosed `{broken` are skipped, the object inside the latter is found.
        assert_eq!(keys(&all), [vec!["a"], vec!["b"], vec!["c"], vec!["d"]]);
        assert_eq!(all[2]["c"], "}");
        assert_eq!(json_objects("no json [1, 2]", 4), Some(Vec::new()));
        // A fence holding an object with prose around it inside the block.
        let fenced = "```\nnote {\"e\": 5} end\n```";
        assert_eq!(keys(&json_objects(fenced, 4).unwrap()), [vec!["e"]]);
    }

    #[test]
    fn too_many_objects_or_too_much_to_scan_is_none() {
        let three = "{\"a\":1} {\"a\":2} {\"a\":3}";
        assert_eq!(json_objects(three, 3).unwrap().len(), 3);
        assert!(json_objects(three, 2).is_none());
        // Unclosed braces cost quadratic time to scan: the budget stops it (quickly).
        let tangled = format!("{}{{\"a\":1}}", "{".repeat(64 * 1024));
        let t = std::time::Instant::now();
        assert!(json_objects(&tangled, MAX_JSON_OBJECTS).is_none());
        assert!(t.elapsed() < std::time::Duration::from_secs(10));
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in ".{0,400}") {
            let _ = parse_verdict(&s);
            let _ = extract_json(&s, true);
            let _ = json_objects(&s, 4);
        }
    }
}
