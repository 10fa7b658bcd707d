//! The verifier's answer: does the proposed SKILL.md prevent the recorded failure, and which
//! earlier success windows would it have broken. A model reply is untrusted: only a literal
//! `true` (or `"true"`) confirms, every answer in the reply must confirm (a model that changes
//! its mind half-way is not taken at its first word), every text is cleaned and bounded, and a
//! reply without a recognisable answer is `None` (the caller treats it as unverified).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::verdict::{clean, json_objects, MAX_JSON_OBJECTS};

/// At most this many window ids are kept from `breaks`.
const MAX_BREAKS: usize = 16;
/// A window id longer than this is cut.
const MAX_ID_CHARS: usize = 64;

/// What the verifier said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    pub prevents_failure: bool,
    /// Ids of success windows the new text would have broken.
    pub breaks: Vec<String>,
    pub reason: String,
}

impl Verification {
    /// Publishable: it prevents the failure and breaks nothing.
    pub fn confirms(&self) -> bool {
        self.prevents_failure && self.breaks.is_empty()
    }
}

fn strict_true(v: Option<&Value>) -> Option<bool> {
    match v? {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// One answer's `breaks`, cleaned and bounded.
fn breaks_of(v: &serde_json::Map<String, Value>) -> Vec<String> {
    let id = |s: &str| -> String { clean(s).chars().take(MAX_ID_CHARS).collect() };
    match v.get("breaks") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .take(MAX_BREAKS)
            .map(|i| match i {
                Value::String(s) => id(s),
                other => id(&other.to_string()),
            })
            .collect(),
        // Anything else is not a list of ids: take it as "something breaks" (fail closed).
        Some(other) => vec![id(&other.to_string())],
    }
}

/// Every object at or below `o` (to a bounded depth) that carries `prevents_failure`.
fn collect_answers<'a>(
    o: &'a serde_json::Map<String, Value>,
    depth: usize,
    out: &mut Vec<&'a serde_json::Map<String, Value>>,
) {
    if depth > 8 || out.len() >= MAX_JSON_OBJECTS {
        return;
    }
    if o.contains_key("prevents_failure") {
        out.push(o);
    }
    for v in o.values() {
        let nested: Box<dyn Iterator<Item = &Value>> = match v {
            Value::Array(items) => Box::new(items.iter()),
            other => Box::new(std::iter::once(other)),
        };
        for n in nested {
            if let Value::Object(inner) = n {
                collect_answers(inner, depth + 1, out);
            }
        }
    }
}

/// Parses a verifier reply; `None` when it holds no usable `prevents_failure` answer.
///
/// Every JSON object in the reply that has `prevents_failure` is an answer (a model that
/// thinks aloud may answer twice and change its mind): the reply confirms only if every
/// answer does. `prevents_failure` is true only when every answer says a literal true, and
/// `breaks` is every answer's, merged (first seen first, no repeats, at most 16). An answer
/// whose `prevents_failure` is not a boolean counts for nothing, but a reply whose readable
/// answers all say yes next to one that does not read is no usable answer (`None`: nothing
/// confirmed, nothing refused). So is a reply with more than
/// [`MAX_JSON_OBJECTS`](crate::verdict::MAX_JSON_OBJECTS) objects. The reason is the last
/// refusing answer's (else the last answer's).
pub fn parse_verification(reply: &str) -> Option<Verification> {
    let objects = json_objects(reply, MAX_JSON_OBJECTS)?;
    // An answer nested inside another object (`{"analysis": {"prevents_failure": false}}`)
    // is an answer too.
    let mut answers: Vec<&serde_json::Map<String, Value>> = Vec::new();
    for o in &objects {
        collect_answers(o, 0, &mut answers);
    }
    let mut readable = Vec::new();
    let mut unreadable = false;
    for a in &answers {
        match strict_true(a.get("prevents_failure")) {
            Some(prevents) => readable.push((prevents, breaks_of(a), *a)),
            None => unreadable = true,
        }
    }
    let prevents_failure = readable.iter().all(|(p, _, _)| *p);
    if readable.is_empty() || (unreadable && prevents_failure) {
        return None;
    }
    let mut breaks: Vec<String> = Vec::new();
    for id in readable.iter().flat_map(|(_, b, _)| b) {
        if breaks.len() < MAX_BREAKS && !breaks.contains(id) {
            breaks.push(id.clone());
        }
    }
    let reason_of = |a: &serde_json::Map<String, Value>| {
        a.get("reason")
            .and_then(Value::as_str)
            .map(clean)
            .unwrap_or_default()
    };
    let decisive = readable
        .iter()
        .rev()
        .find(|(p, b, _)| !*p || !b.is_empty())
        .or(readable.last())
        .map(|(_, _, a)| reason_of(a))
        .unwrap_or_default();
    Some(Verification {
        prevents_failure,
        breaks,
        reason: decisive,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_real_yes_with_nothing_broken_confirms() {
        let ok = parse_verification(
            "```json\n{\"prevents_failure\": true, \"breaks\": [], \"reason\": \"adds the step\"}\n```",
        )
        .unwrap();
        assert!(ok.confirms());
        assert_eq!(ok.reason, "adds the step");
        let breaks =
            parse_verification(r#"{"prevents_failure":true,"breaks":["01J2"],"reason":"x"}"#)
                .unwrap();
        assert!(!breaks.confirms());
        assert_eq!(breaks.breaks, ["01J2"]);
        let no = parse_verification(r#"{"prevents_failure":"false"}"#).unwrap();
        assert!(!no.confirms());
        // A truthy number or a word is no answer; an odd `breaks` fails closed.
        assert!(parse_verification(r#"{"prevents_failure":1}"#).is_none());
        assert!(parse_verification(r#"{"prevents_failure":"yes"}"#).is_none());
        assert!(parse_verification("I think it is fine").is_none());
        let odd = parse_verification(r#"{"prevents_failure":true,"breaks":"all"}"#).unwrap();
        assert!(!odd.confirms());
    }

    /// The model's first thought must not outvote its final answer (nor the other way round).
    #[test]
    fn every_answer_in_the_reply_must_confirm() {
        let changed_mind = "First thought: {\"prevents_failure\": true, \"breaks\": []}. On reflection the deploy would still fail on the missing table. Final answer: {\"prevents_failure\": false, \"breaks\": [\"x\"], \"reason\": \"still fails\"}";
        let v = parse_verification(changed_mind).unwrap();
        assert!(!v.confirms());
        assert!(!v.prevents_failure);
        assert_eq!(v.breaks, ["x"]);
        assert_eq!(v.reason, "still fails");
        // Fenced, the other order, and a yes that breaks something.
        let fenced = "```json\n{\"prevents_failure\": false}\n```\nActually:\n```json\n{\"prevents_failure\": true, \"breaks\": [], \"reason\": \"ok\"}\n```";
        assert!(!parse_verification(fenced).unwrap().confirms());
        let two_yes = r#"{"prevents_failure":true,"breaks":["a","b"]} {"prevents_failure":true,"breaks":["b","c"],"reason":"r"}"#;
        let v = parse_verification(two_yes).unwrap();
        assert!(v.prevents_failure && !v.confirms());
        assert_eq!(v.breaks, ["a", "b", "c"], "merged, no repeats");
        // Two agreeing yeses confirm; objects without the key are not answers.
        let agree = r#"{"note":"thinking"} {"prevents_failure":true,"breaks":[]} ```{"prevents_failure":"true","reason":"same"}```"#;
        let v = parse_verification(agree).unwrap();
        assert!(v.confirms());
        assert_eq!(v.reason, "same");
        // A yes next to an answer that does not read is no answer; a no next to one is a no.
        assert!(
            parse_verification(r#"{"prevents_failure":true} {"prevents_failure":"maybe"}"#)
                .is_none()
        );
        assert!(
            !parse_verification(r#"{"prevents_failure":false} {"prevents_failure":1}"#)
                .unwrap()
                .confirms()
        );
    }

    #[test]
    fn merged_breaks_are_bounded_and_too_many_objects_is_no_answer() {
        let many: String = (0..10)
            .map(|i| {
                format!("{{\"prevents_failure\":true,\"breaks\":[\"a{i}\",\"b{i}\",\"a0\"]}} ")
            })
            .collect();
        let v = parse_verification(&many).unwrap();
        assert_eq!(v.breaks.len(), MAX_BREAKS);
        assert_eq!(v.breaks[..3], ["a0", "b0", "a1"]);
        let flood = "{\"prevents_failure\":true} ".repeat(MAX_JSON_OBJECTS + 1);
        assert!(parse_verification(&flood).is_none());
    }

    #[test]
    fn a_nested_refusal_counts() {
        let v = parse_verification(
            r#"{"analysis":{"prevents_failure":false,"breaks":["w1"]}} {"prevents_failure":true,"breaks":[]}"#,
        )
        .unwrap();
        assert!(!v.confirms(), "{v:?}");
        assert_eq!(v.breaks, ["w1"]);
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in ".{0,400}") {
            let _ = parse_verification(&s);
        }
    }
}
