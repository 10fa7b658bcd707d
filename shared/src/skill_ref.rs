//! The identity of an org skill: `(name, author)`, installed as the directory `<name>--<author>`.
//!
//! A directory name is split on its LAST `--`. A ref that contains `/`, `\`, `..`, `:` (a plugin
//! namespace), NUL or a control character is never an org skill. `name` is 1–64 chars of
//! `[a-z0-9-]`; `author` is 1–64 chars of `[a-z0-9._@-]`.

use std::fmt;

/// Why a string is not a valid org-skill identity.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RefError {
    #[error("skill name {0:?} must be 1-64 chars of [a-z0-9-], not starting or ending with '-'")]
    BadName(String),
    #[error("author {0:?} must be 1-64 chars of [a-z0-9._@-]")]
    BadAuthor(String),
    #[error("{0:?} is not an org skill ref (expected <name>--<author>)")]
    NotOrgRef(String),
}

/// An org skill identity.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SkillRef {
    pub name: String,
    pub author: String,
}

fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

fn valid_author(author: &str) -> bool {
    (1..=64).contains(&author.len())
        && author.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'@' | b'-')
        })
        && author != "."
        && !author.starts_with('-')
        && !author.contains("--")
        && !author.contains("..")
}

/// True when `s` holds something that can never appear in an org ref.
fn has_forbidden(s: &str) -> bool {
    s.contains('/')
        || s.contains('\\')
        || s.contains("..")
        || s.contains(':')
        || s.chars().any(|c| c == '\0' || c.is_control())
}

impl SkillRef {
    /// Validates both parts.
    pub fn new(name: &str, author: &str) -> Result<Self, RefError> {
        if !valid_name(name) {
            return Err(RefError::BadName(name.to_string()));
        }
        if !valid_author(author) {
            return Err(RefError::BadAuthor(author.to_string()));
        }
        Ok(Self {
            name: name.to_string(),
            author: author.to_string(),
        })
    }

    /// Parses `<name>--<author>` (split on the last `--`).
    pub fn parse(dir_name: &str) -> Result<Self, RefError> {
        let not_org = || RefError::NotOrgRef(dir_name.to_string());
        if has_forbidden(dir_name) {
            return Err(not_org());
        }
        let idx = dir_name.rfind("--").ok_or_else(not_org)?;
        let (name, author) = (&dir_name[..idx], &dir_name[idx + 2..]);
        if name.is_empty() || author.is_empty() {
            return Err(not_org());
        }
        Self::new(name, author)
    }

    /// Like [`SkillRef::parse`], for callers that only ask "could this be org?".
    pub fn from_dir_name(dir_name: &str) -> Option<Self> {
        Self::parse(dir_name).ok()
    }

    /// The installed directory name, `<name>--<author>`.
    pub fn dir_name(&self) -> String {
        format!("{}--{}", self.name, self.author)
    }
}

impl fmt::Display for SkillRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}--{}", self.name, self.author)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_last_double_dash() {
        let r = SkillRef::parse("posthog-smoke--kamo.aghbalyan").unwrap();
        assert_eq!(r.name, "posthog-smoke");
        assert_eq!(r.author, "kamo.aghbalyan");
        assert_eq!(r.dir_name(), "posthog-smoke--kamo.aghbalyan");
    }

    #[test]
    fn rejects_non_org_shapes() {
        for bad in [
            "baz--",
            "--alice",
            "a/b--c",
            "a\\b--c",
            "plugin:x--y",
            "a..b--c",
            "nodash",
            "a--b\u{0}",
            "a--b\n",
            "Upper--alice",
            "",
        ] {
            assert!(SkillRef::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn author_may_hold_dots_and_at() {
        let r = SkillRef::parse("deploy--ann@corp.io").unwrap();
        assert_eq!(r.author, "ann@corp.io");
    }

    proptest::proptest! {
        #[test]
        fn parse_round_trips(name in "[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?", author in "[a-z0-9._@][a-z0-9._@-]{0,20}") {
            proptest::prop_assume!(!author.contains("..") && author != "." && !author.contains("--"));
            let r = SkillRef::new(&name, &author).unwrap();
            proptest::prop_assert_eq!(SkillRef::parse(&r.dir_name()).unwrap(), r);
        }
    }
}
