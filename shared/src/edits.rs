//! Bounded edits proposed for a SKILL.md: parsing the proposer's reply, applying edits
//! deterministically, and the fingerprint used for dedup.
//!
//! Edits apply to the markdown body only (never the frontmatter), one after another. An edit
//! whose target does not occur exactly once in the current body is skipped and reported.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::skill_md::SkillMd;
use crate::verdict::extract_json;

/// What an edit does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// Replace `target` with `content`.
    Replace,
    /// Insert `content` on new line(s) after the line holding the end of `target`.
    InsertAfter,
    /// Append `content` at the end of the body (above a trailing protected region).
    Append,
    /// Remove `target`.
    Delete,
}

/// One edit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edit {
    pub op: Op,
    #[serde(default)]
    pub target: String,
    #[serde(default)]
    pub content: String,
}

impl Edit {
    /// A one-line summary for history prompts and logs.
    pub fn summary(&self) -> String {
        let t = crate::text::preview(&self.target, 60);
        let c = crate::text::preview(&self.content, 80);
        match self.op {
            Op::Replace => format!("replace {t:?} with {c:?}"),
            Op::InsertAfter => format!("insert after {t:?}: {c:?}"),
            Op::Append => format!("append {c:?}"),
            Op::Delete => format!("delete {t:?}"),
        }
    }
}

/// Parses the proposer's reply: a JSON array of edits (fences and prose tolerated). Entries
/// with an unknown op or missing fields are dropped.
pub fn parse_edits(reply: &str) -> Vec<Edit> {
    let Some(Value::Array(items)) = extract_json(reply, true) else {
        return Vec::new();
    };
    items
        .into_iter()
        .filter_map(|v| {
            let op = match v
                .get("op")?
                .as_str()?
                .trim()
                .to_lowercase()
                .replace('-', "_")
                .as_str()
            {
                "replace" => Op::Replace,
                "insert_after" | "insert" => Op::InsertAfter,
                "append" => Op::Append,
                "delete" | "remove" => Op::Delete,
                _ => return None,
            };
            let s = |k: &str| {
                v.get(k)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            let e = Edit {
                op,
                target: s("target"),
                content: s("content"),
            };
            let needs_target = op != Op::Append;
            let needs_content = op != Op::Delete;
            ((!needs_target || !e.target.is_empty()) && (!needs_content || !e.content.is_empty()))
                .then_some(e)
        })
        .collect()
}

/// Why an edit was skipped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub edit: Edit,
    pub reason: String,
}

/// The outcome of applying edits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub text: String,
    pub applied: Vec<Edit>,
    pub skipped: Vec<Skipped>,
}

const PROTECTED_OPEN: &str = "<!-- skillopt:protected -->";

fn apply_one(body: &str, e: &Edit) -> Result<String, String> {
    if e.op == Op::Append {
        let content = e.content.trim_end_matches('\n');
        // Land above a protected region at the end of the body.
        let (before, after) = match body.rfind(PROTECTED_OPEN) {
            Some(i)
                if body[i..]
                    .trim_end()
                    .ends_with("<!-- /skillopt:protected -->") =>
            {
                body.split_at(i)
            }
            _ => (body, ""),
        };
        let mut out = before.trim_end_matches('\n').to_string();
        out.push_str("\n\n");
        out.push_str(content);
        out.push('\n');
        if !after.is_empty() {
            out.push('\n');
            out.push_str(after);
        }
        return Ok(out);
    }
    let count = body.matches(e.target.as_str()).count();
    if count != 1 {
        return Err(format!(
            "target occurs {count} times (must be exactly once)"
        ));
    }
    let at = body.find(e.target.as_str()).unwrap_or(0);
    let end = at + e.target.len();
    Ok(match e.op {
        Op::Replace => format!("{}{}{}", &body[..at], e.content, &body[end..]),
        Op::Delete => {
            let mut out = format!("{}{}", &body[..at], &body[end..]);
            // Drop the line if the deletion left it empty.
            let line_start = out[..at].rfind('\n').map(|i| i + 1).unwrap_or(0);
            let line_end = out[at..]
                .find('\n')
                .map(|i| at + i + 1)
                .unwrap_or(out.len());
            if out[line_start..line_end].trim().is_empty() && line_end > line_start {
                out.replace_range(line_start..line_end, "");
            }
            out
        }
        Op::InsertAfter => {
            let line_end = body[end..]
                .find('\n')
                .map(|i| end + i + 1)
                .unwrap_or(body.len());
            let mut out = body[..line_end].to_string();
            if !out.ends_with('\n') {
                out.push('\n');
            }
            out.push_str(e.content.trim_end_matches('\n'));
            out.push('\n');
            out.push_str(&body[line_end..]);
            out
        }
        Op::Append => unreachable!("handled above"),
    })
}

/// Applies edits in order to the body of `skill_md` (frontmatter untouched).
pub fn apply(skill_md: &str, edits: &[Edit]) -> Result<Applied, crate::skill_md::SkillMdError> {
    let mut doc = SkillMd::parse(skill_md)?;
    let mut applied = Vec::new();
    let mut skipped = Vec::new();
    for e in edits {
        match apply_one(&doc.body, e) {
            Ok(body) => {
                doc.body = body;
                applied.push(e.clone());
            }
            Err(reason) => skipped.push(Skipped {
                edit: e.clone(),
                reason,
            }),
        }
    }
    Ok(Applied {
        text: doc.render(),
        applied,
        skipped,
    })
}

fn normalise(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// sha256 of the normalised edit list (whitespace collapsed, order-independent).
pub fn fingerprint(edits: &[Edit]) -> String {
    let mut items: Vec<String> = edits
        .iter()
        .map(|e| serde_json::json!([e.op, normalise(&e.target), normalise(&e.content)]).to_string())
        .collect();
    items.sort();
    crate::sha256_hex(items.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str =
        "---\nname: d\ndescription: x\n---\n# D\n\n1. Test.\n2. Skip the migration.\n3. Deploy.\n";

    fn e(op: Op, t: &str, c: &str) -> Edit {
        Edit {
            op,
            target: t.into(),
            content: c.into(),
        }
    }

    #[test]
    fn four_ops() {
        let r = apply(
            DOC,
            &[e(
                Op::Replace,
                "2. Skip the migration.",
                "2. Run the migration.",
            )],
        )
        .unwrap();
        assert!(r.text.contains("2. Run the migration.") && !r.text.contains("Skip"));
        let r = apply(DOC, &[e(Op::InsertAfter, "1. Test", "1b. Lint.")]).unwrap();
        assert!(
            r.text.contains("1. Test.\n1b. Lint.\n2. Skip"),
            "{}",
            r.text
        );
        let r = apply(DOC, &[e(Op::Append, "", "Always check logs.")]).unwrap();
        assert!(
            r.text.ends_with("3. Deploy.\n\nAlways check logs.\n"),
            "{}",
            r.text
        );
        let r = apply(DOC, &[e(Op::Delete, "2. Skip the migration.", "")]).unwrap();
        assert!(r.text.contains("1. Test.\n3. Deploy."), "{}", r.text);
    }

    #[test]
    fn missing_or_ambiguous_targets_are_skipped() {
        let r = apply(
            DOC,
            &[
                e(Op::Replace, "nope", "x"),
                e(Op::Replace, ". ", "x"),
                e(Op::Replace, "Deploy.", "Ship."),
            ],
        )
        .unwrap();
        assert_eq!(r.applied.len(), 1);
        assert_eq!(r.skipped.len(), 2);
        assert!(r.skipped[1].reason.contains("3 times"), "{:?}", r.skipped);
        // Frontmatter is not part of the body: its text is never a target.
        let r = apply(DOC, &[e(Op::Replace, "name: d", "name: evil")]).unwrap();
        assert!(r.applied.is_empty());
    }

    #[test]
    fn append_lands_above_a_trailing_protected_region() {
        let doc = "---\nname: d\ndescription: x\n---\nBody.\n\n<!-- skillopt:protected -->\nKeep.\n<!-- /skillopt:protected -->\n";
        let r = apply(doc, &[e(Op::Append, "", "New rule.")]).unwrap();
        assert!(r.text.contains("Body.\n\nNew rule.\n\n<!-- skillopt:protected -->\nKeep.\n<!-- /skillopt:protected -->"), "{}", r.text);
    }

    #[test]
    fn parse_tolerates_fences_and_drops_bad_entries() {
        let reply = "Sure:\n```json\n[{\"op\":\"replace\",\"target\":\"a\",\"content\":\"b\"},{\"op\":\"explode\",\"target\":\"x\"},{\"op\":\"append\",\"content\":\"c\"},{\"op\":\"replace\",\"target\":\"\",\"content\":\"d\"}]\n```";
        let edits = parse_edits(reply);
        assert_eq!(edits.len(), 2);
        assert_eq!(edits[1].op, Op::Append);
        assert!(parse_edits("no edits").is_empty());
        assert!(parse_edits("{\"op\":\"replace\"}").is_empty());
    }

    #[test]
    fn fingerprint_is_order_and_whitespace_independent() {
        let a = vec![e(Op::Replace, "x  y", "z"), e(Op::Append, "", "w")];
        let b = vec![e(Op::Append, "", " w "), e(Op::Replace, "x y", "z")];
        assert_eq!(fingerprint(&a), fingerprint(&b));
        assert_ne!(fingerprint(&a), fingerprint(&a[..1]));
    }
}
