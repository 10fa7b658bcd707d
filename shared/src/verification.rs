//! The verifier's answer: does the proposed SKILL.md prevent the recorded failure, and which
//! earlier success windows would it have broken. A model reply is untrusted: only a literal
//! `true` (or `"true"`) confirms, every text is cleaned and bounded, and a reply without a
//! recognisable answer is `None` (the caller treats it as unverified).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::verdict::{clean, extract_json};

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

/// Parses a verifier reply; `None` when it holds no `prevents_failure` answer.
pub fn parse_verification(reply: &str) -> Option<Verification> {
    let v = extract_json(reply, false)?;
    let prevents_failure = strict_true(v.get("prevents_failure"))?;
    let breaks = match v.get("breaks") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .take(MAX_BREAKS)
            .map(|i| match i {
                Value::String(s) => clean(s).chars().take(MAX_ID_CHARS).collect(),
                other => clean(&other.to_string())
                    .chars()
                    .take(MAX_ID_CHARS)
                    .collect(),
            })
            .collect(),
        // Anything else is not a list of ids: take it as "something breaks" (fail closed).
        Some(other) => vec![clean(&other.to_string())
            .chars()
            .take(MAX_ID_CHARS)
            .collect()],
    };
    Some(Verification {
        prevents_failure,
        breaks,
        reason: v
            .get("reason")
            .and_then(Value::as_str)
            .map(clean)
            .unwrap_or_default(),
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

    proptest::proptest! {
        #[test]
        fn never_panics(s in ".{0,400}") {
            let _ = parse_verification(&s);
        }
    }
}
