//! Small text helpers shared by hooks and the worker.

/// Cuts `s` to at most `max` bytes on a char boundary.
pub fn truncate_chars(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Cuts `s` to at most `max` characters (not bytes).
pub fn take_chars(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// A one-line preview: whitespace runs collapsed, cut to `max` chars with an ellipsis.
pub fn preview(s: &str, max: usize) -> String {
    let flat: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        flat
    } else {
        format!("{}…", take_chars(&flat, max.saturating_sub(1)))
    }
}

/// Whether printing `c` raw could move the cursor, recolour, retitle or reorder the terminal
/// text, or hide itself: Unicode Cc (controls, ESC, C1), Cf (zero-width, bidi, tags, BOM), and
/// the line/paragraph separators.
pub fn is_unsafe_for_terminal(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
            | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2060}'..='\u{206F}'
            | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}' | '\u{FFA0}' | '\u{FFF9}'..='\u{FFFB}'
            | '\u{110BD}' | '\u{1BCA0}'..='\u{1BCA3}' | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}')
}

/// `s` safe to print on a terminal: every character of [`is_unsafe_for_terminal`] is shown as
/// `\u{XXXX}` (so nothing is hidden or interpreted), except `\n` and `\t` when `multiline`.
/// Emoji variation selectors right after a visible character are kept.
pub fn for_terminal(s: &str, multiline: bool) -> std::borrow::Cow<'_, str> {
    let keep = |c: char, prev: Option<char>| {
        (multiline && (c == '\n' || c == '\t'))
            || (matches!(c, '\u{FE0E}' | '\u{FE0F}')
                && prev.is_some_and(|p| !p.is_whitespace() && !is_unsafe_for_terminal(p)))
    };
    let mut prev = None;
    if s.chars().all(|c| {
        let ok = !is_unsafe_for_terminal(c) || keep(c, prev);
        prev = Some(c);
        ok
    }) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    let mut prev = None;
    for c in s.chars() {
        if is_unsafe_for_terminal(c) && !keep(c, prev) {
            out.push_str(&format!("\\u{{{:04X}}}", u32::from(c)));
        } else {
            out.push(c);
        }
        prev = Some(c);
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_text_shows_controls_instead_of_running_them() {
        assert_eq!(for_terminal("plain\ttext\n", true), "plain\ttext\n");
        assert_eq!(for_terminal("a\u{1b}[2Jb", true), "a\\u{001B}[2Jb");
        assert_eq!(for_terminal("a\nb", false), "a\\u{000A}b");
        assert_eq!(
            for_terminal("x\r\0\u{9b}\u{7f}", true),
            "x\\u{000D}\\u{0000}\\u{009B}\\u{007F}"
        );
        assert_eq!(
            for_terminal("\u{202E}gpj\u{200B}", true),
            "\\u{202E}gpj\\u{200B}"
        );
        assert_eq!(for_terminal("tag\u{E0041}", true), "tag\\u{E0041}");
        assert_eq!(for_terminal("ok ⚠\u{FE0F} é", true), "ok ⚠\u{FE0F} é");
    }

    #[test]
    fn truncates_on_char_boundary() {
        let s = "héllo";
        assert_eq!(truncate_chars(s, 2), "h");
        assert_eq!(truncate_chars(s, 3), "hé");
        assert_eq!(truncate_chars(s, 100), s);
    }

    #[test]
    fn preview_collapses() {
        assert_eq!(preview("a\n\n b", 10), "a b");
        assert_eq!(preview("abcdef", 4), "abc…");
    }
}
