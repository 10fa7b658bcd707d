//! Invisible and control characters, and the Unicode normalisation every other rule sees.
//!
//! A proposal may not add any character of the Unicode categories Cc (controls: NUL, ESC and
//! so terminal escape sequences, C1 controls, DEL), Cf (format: zero-width space/joiner/non-joiner,
//! word joiner, bidi embeddings/overrides/isolates, soft hyphen, tag characters, BOM), Zl/Zp
//! (line and paragraph separators) or Co (private use), nor variation selectors used to smuggle
//! bytes, nor the few invisible letters and marks (Hangul fillers, braille blank, combining
//! grapheme joiner, Khmer inherent vowels). Allowed: `\n`, `\t`, `\r`
//! directly before `\n`, a BOM at offset 0, one emoji variation selector (U+FE0E/U+FE0F) right
//! after a visible character, and a zero-width joiner between two pictographs (emoji sequences).
//! "Add" is counted per character: the result may hold each such character at most as often as
//! the parent did, so a parent that already has one can still be improved.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use regex::Regex;
use unicode_normalization::UnicodeNormalization;

fn forbidden_class() -> &'static Regex {
    static C: OnceLock<Regex> = OnceLock::new();
    C.get_or_init(|| {
        super::compile(
            r"[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Co}\x{FE00}-\x{FE0F}\x{E0100}-\x{E01EF}\x{115F}\x{1160}\x{3164}\x{FFA0}\x{2800}\x{180E}\x{034F}\x{17B4}\x{17B5}\x{FFF9}-\x{FFFB}]",
        )
    })
}

fn pictograph() -> &'static Regex {
    static C: OnceLock<Regex> = OnceLock::new();
    C.get_or_init(|| super::compile(r"^[\p{Extended_Pictographic}\p{Emoji_Modifier}]$"))
}

fn is_pictograph(c: Option<char>) -> bool {
    c.is_some_and(|c| {
        let mut b = [0u8; 4];
        pictograph().is_match(c.encode_utf8(&mut b))
    })
}

/// Every forbidden character of `text` with how often it occurs (exceptions left out).
pub(super) fn forbidden(text: &str) -> BTreeMap<char, usize> {
    let mut out = BTreeMap::new();
    for m in forbidden_class().find_iter(text) {
        let c = m.as_str().chars().next().unwrap_or('\0');
        let prev = text[..m.start()].chars().next_back();
        let next = text[m.end()..].chars().next();
        let allowed = match c {
            '\n' | '\t' => true,
            '\r' => next == Some('\n'),
            '\u{FEFF}' => m.start() == 0,
            '\u{FE0E}' | '\u{FE0F}' => prev.is_some_and(|p| {
                !p.is_whitespace() && !forbidden_class().is_match(p.encode_utf8(&mut [0u8; 4]))
            }),
            '\u{200D}' => {
                let before = text[..m.start()]
                    .trim_end_matches('\u{FE0F}')
                    .chars()
                    .next_back();
                is_pictograph(before) && is_pictograph(next)
            }
            _ => false,
        };
        if !allowed {
            *out.entry(c).or_insert(0) += 1;
        }
    }
    out
}

/// The first forbidden character `new` holds more often than `old`.
pub(super) fn first_added(old: &str, new: &str) -> Option<char> {
    let before = forbidden(old);
    forbidden(new)
        .into_iter()
        .find(|(c, n)| *n > before.get(c).copied().unwrap_or(0))
        .map(|(c, _)| c)
}

/// NFKC: full-width letters and dots, ligatures, super/subscripts and the like become their
/// plain forms before any other rule looks at the text.
pub(super) fn normalise(text: &str) -> String {
    text.nfkc().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_and_allowed_exceptions_are_clean() {
        for t in [
            "a\tb\nc\r\n",
            "\u{FEFF}---\nname: x",
            "Warning ⚠\u{FE0F} here",
            "family 👨\u{200D}👩\u{200D}👧 ok",
            "heart ❤\u{FE0F}\u{200D}🔥",
            "Ne déployez pas — vérifiez.",
        ] {
            assert_eq!(forbidden(t), BTreeMap::new(), "{t:?}");
        }
    }

    #[test]
    fn every_class_is_found() {
        for c in [
            '\0',
            '\u{1b}',
            '\u{7f}',
            '\u{9b}',
            '\r',
            '\u{200B}',
            '\u{200C}',
            '\u{200D}',
            '\u{2060}',
            '\u{202E}',
            '\u{2066}',
            '\u{00AD}',
            '\u{E0041}',
            '\u{2028}',
            '\u{2029}',
            '\u{E000}',
            '\u{FE00}',
            '\u{E0100}',
            '\u{3164}',
            '\u{2800}',
            '\u{FEFF}',
            '\u{180E}',
        ] {
            let t = format!("run{c}make");
            assert_eq!(forbidden(&t).get(&c), Some(&1), "{:?}", c);
        }
        assert_eq!(forbidden("a\u{FE0F}\u{FE0F}").len(), 1, "a second selector");
        assert_eq!(forbidden(" \u{FE0F}").len(), 1, "selector after a space");
    }

    #[test]
    fn added_is_counted_against_the_parent() {
        assert_eq!(first_added("a\u{200B}b", "a\u{200B}bc"), None);
        assert_eq!(
            first_added("a\u{200B}b", "a\u{200B}b\u{200B}"),
            Some('\u{200B}')
        );
        assert_eq!(first_added("ab", "a\u{1b}[31mb"), Some('\u{1b}'));
    }

    #[test]
    fn nfkc_folds_full_width_and_ligatures() {
        assert_eq!(normalise("ｅｖｉｌ．ｃｏｍ"), "evil.com");
        assert_eq!(normalise("ﬁle"), "file");
        assert_eq!(normalise("evil\u{2024}com"), "evil.com");
    }
}
