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

#[cfg(test)]
mod tests {
    use super::*;

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
