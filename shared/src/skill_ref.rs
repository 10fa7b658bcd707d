//! The identity of an org skill: `(name, author)`, installed as the directory `<name>--<author>`.
//!
//! A directory name is split on its LAST `--`. A ref that contains `/`, `\`, `..`, `:` (a plugin
//! namespace), NUL or a control character is never an org skill.
//!
//! The rules are the ones both agents load: `name` and `author` are `[a-z0-9-]`, neither starts
//! or ends with `-`, the author holds no `--`, and the whole `<name>--<author>` is at most
//! [`MAX_REF_LEN`] characters. Codex refuses longer names, and `$name` does nothing for names
//! with `.` or `@`, so such a skill would be published but never used.

use std::fmt;

/// Why a string is not a valid org-skill identity.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RefError {
    #[error("skill name {0:?} must be lower-case letters, digits and '-' (not at either end)")]
    BadName(String),
    #[error("author {0:?} must be lower-case letters, digits and single '-' (not at either end)")]
    BadAuthor(String),
    #[error("skill {0:?} is {1} characters; Codex loads at most {MAX_REF_LEN}: shorten the name or the author")]
    TooLong(String, usize),
    #[error("{0:?} is not an org skill ref (expected <name>--<author>)")]
    NotOrgRef(String),
}

/// The longest `<name>--<author>` Codex loads.
pub const MAX_REF_LEN: usize = 64;

/// An org skill identity.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SkillRef {
    pub name: String,
    pub author: String,
}

/// The characters of a part (the length is checked on the whole ref).
fn valid_part(part: &str) -> bool {
    !part.is_empty()
        && part
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !part.starts_with('-')
        && !part.ends_with('-')
}

fn valid_name(name: &str) -> bool {
    valid_part(name)
}

fn valid_author(author: &str) -> bool {
    valid_part(author) && !author.contains("--")
}

/// Turns a login name (`John.Doe`, `ann@corp.io`) into a valid author (`john-doe`,
/// `ann-corp-io`); `None` when nothing usable is left.
pub fn author_from_login(login: &str) -> Option<String> {
    let mut out = String::new();
    for c in login.trim().chars().flat_map(char::to_lowercase) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let out: String = out.trim_end_matches('-').chars().take(32).collect();
    let out = out.trim_end_matches('-').to_string();
    valid_author(&out).then_some(out)
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
        let len = name.len() + 2 + author.len();
        if len > MAX_REF_LEN {
            return Err(RefError::TooLong(format!("{name}--{author}"), len));
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
        let r = SkillRef::parse("posthog-smoke--kamo-aghbalyan").unwrap();
        assert_eq!(r.name, "posthog-smoke");
        assert_eq!(r.author, "kamo-aghbalyan");
        assert_eq!(r.dir_name(), "posthog-smoke--kamo-aghbalyan");
        let r = SkillRef::parse("a--b--c").unwrap();
        assert_eq!((r.name.as_str(), r.author.as_str()), ("a--b", "c"));
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
    fn names_codex_cannot_load_are_refused() {
        for bad in [
            "deploy--ann@corp.io",
            "deploy--kamo.aghbalyan",
            "deploy--a_b",
            "deploy--ann-",
        ] {
            assert!(SkillRef::parse(bad).is_err(), "{bad:?} accepted");
        }
        let at_limit = format!("{}--{}", "n".repeat(40), "a".repeat(22));
        assert_eq!(at_limit.len(), 64);
        assert!(SkillRef::parse(&at_limit).is_ok());
        let over = format!("{}--{}", "n".repeat(40), "a".repeat(23));
        assert!(matches!(
            SkillRef::parse(&over),
            Err(RefError::TooLong(_, 65))
        ));
    }

    #[test]
    fn logins_become_authors() {
        assert_eq!(author_from_login("John.Doe").as_deref(), Some("john-doe"));
        assert_eq!(
            author_from_login("ann@corp.io").as_deref(),
            Some("ann-corp-io")
        );
        assert_eq!(author_from_login("a__b").as_deref(), Some("a-b"));
        assert_eq!(author_from_login("..."), None);
        assert_eq!(author_from_login("Ünï").as_deref(), Some("n"));
        assert_eq!(author_from_login("é"), None);
    }

    proptest::proptest! {
        #[test]
        fn parse_round_trips(name in "[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?", author in "[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?") {
            proptest::prop_assume!(!author.contains("--"));
            let r = SkillRef::new(&name, &author).unwrap();
            proptest::prop_assert_eq!(SkillRef::parse(&r.dir_name()).unwrap(), r);
        }
    }
}

#[cfg(test)]
mod props {
    use super::*;

    proptest::proptest! {
        /// Whatever string comes in, an accepted ref is one both agents load.
        #[test]
        fn accepted_refs_are_loadable(raw in "\\PC{0,80}") {
            if let Ok(r) = SkillRef::parse(&raw) {
                let d = r.dir_name();
                proptest::prop_assert!(d.len() <= MAX_REF_LEN);
                proptest::prop_assert!(d.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
            }
        }
    }
}

#[cfg(test)]
mod hostile {
    use super::*;

    fn hostile() -> impl proptest::strategy::Strategy<Value = String> {
        proptest::prop_oneof![
            "[a-z0-9./\\\\-]{1,20}",
            "([a-zA-Z0-9./\\\\:~ \n\r\t\0-]|\u{202e}|\u{200b}|\u{ff0e}|Ü|é){0,70}",
        ]
    }

    proptest::proptest! {
        /// Registry rows carry any name and author: an accepted pair is always one plain path
        /// component, whatever mix of separators, dots, controls, bidi or upper case came in.
        #[test]
        fn accepted_rows_are_one_plain_component(
            name in hostile(),
            author in hostile(),
        ) {
            if let Ok(r) = SkillRef::new(&name, &author) {
                let d = r.dir_name();
                let mut parts = std::path::Path::new(&d).components();
                proptest::prop_assert!(matches!(parts.next(), Some(std::path::Component::Normal(_))));
                proptest::prop_assert!(parts.next().is_none());
                proptest::prop_assert!(d.len() <= MAX_REF_LEN);
                proptest::prop_assert!(d.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
                proptest::prop_assert_eq!(SkillRef::parse(&d).unwrap(), r);
            }
        }
    }
}
