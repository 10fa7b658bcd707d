//! Secret detection and redaction: API keys, tokens and private keys never leave the machine in
//! a window, and the gate refuses an edit that would publish one.

use std::borrow::Cow;
use std::sync::OnceLock;

use regex::Regex;

/// (rule name, pattern). Order matters: specific token shapes before generic assignments.
const PATTERNS: &[(&str, &str)] = &[
    (
        "private-key",
        r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----(?s:.*?)(-----END [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----|\z)",
    ),
    (
        "aws-access-key",
        r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b",
    ),
    (
        "aws-secret-key",
        r"(?i)aws_?secret_?access_?key\s*[:=]\s*['\x22]?[A-Za-z0-9/+=]{30,}",
    ),
    (
        "github-token",
        r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,})",
    ),
    ("slack-token", r"\bxox[abprse]-[A-Za-z0-9-]{10,}"),
    ("anthropic-key", r"\bsk-ant-[A-Za-z0-9_-]{20,}"),
    ("openai-key", r"\bsk-(?:proj-|svcacct-)?[A-Za-z0-9_-]{20,}"),
    ("google-api-key", r"\bAIza[0-9A-Za-z_-]{35}\b"),
    ("bearer-token", r"(?i)\bbearer\s+[A-Za-z0-9._~+/-]{20,}=*"),
    (
        "assigned-secret",
        r#"(?i)\b(?:api[_-]?key|secret[_-]?key|access[_-]?token|auth[_-]?token|password|passwd|client[_-]?secret)\b\s*[:=]\s*['"]?[^\s'"]{8,}"#,
    ),
];

fn compiled() -> &'static [(&'static str, Regex)] {
    static RES: OnceLock<Vec<(&'static str, Regex)>> = OnceLock::new();
    RES.get_or_init(|| {
        PATTERNS
            .iter()
            .filter_map(|(name, p)| Regex::new(p).ok().map(|r| (*name, r)))
            .collect()
    })
}

/// The first secret rule `text` matches.
pub fn find_secret(text: &str) -> Option<&'static str> {
    compiled()
        .iter()
        .find(|(_, re)| re.is_match(text))
        .map(|(name, _)| *name)
}

/// `text` with every secret replaced by `[REDACTED:<rule>]`.
pub fn redact(text: &str) -> Cow<'_, str> {
    let mut out = Cow::Borrowed(text);
    for (name, re) in compiled() {
        if re.is_match(&out) {
            let replaced = re
                .replace_all(&out, format!("[REDACTED:{name}]").as_str())
                .into_owned();
            out = Cow::Owned(replaced);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_known_shapes() {
        let cases = [
            ("key AKIAIOSFODNN7EXAMPLE here", "aws-access-key"),
            (
                "token ghp_abcdefghijklmnopqrstuvwxyz0123456789",
                "github-token",
            ),
            ("xoxb-1234567890-abcdefghij", "slack-token"),
            ("sk-ant-api03-abcdefghijklmnopqrstuv", "anthropic-key"),
            ("OPENAI=sk-proj-abcdefghijklmnopqrstuvwx", "openai-key"),
            (
                "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----",
                "private-key",
            ),
            (
                "Authorization: Bearer abcdefghijklmnopqrstuvwxyz012345",
                "bearer-token",
            ),
            ("password = hunter2hunter2", "assigned-secret"),
        ];
        for (text, rule) in cases {
            assert_eq!(find_secret(text), Some(rule), "{text}");
            let r = redact(text);
            assert!(r.contains(&format!("[REDACTED:{rule}]")), "{text} -> {r}");
        }
    }

    #[test]
    fn leaves_ordinary_text() {
        let t = "Run `npm test`, then deploy with make deploy ENV=staging. Task: ask-the-user.";
        assert_eq!(find_secret(t), None);
        assert_eq!(redact(t), t);
    }
}
