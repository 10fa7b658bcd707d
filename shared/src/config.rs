//! Environment knobs the hooks read (the worker shows them in its settings too), with their
//! defaults. The worker's own knobs live in the worker's `Settings`.
//!
//! Values that do not parse fall back to the default: a typo must never break a hook.

use std::time::Duration;

/// `SKILLOPT_JUDGE_WINDOW`: user prompts judged after one skill use. Three, because the
/// reaction often comes after a clarifying turn.
pub const DEFAULT_JUDGE_WINDOW: u32 = 3;
/// `SKILLOPT_SYNC_INTERVAL` (seconds): how stale the last sync may be before SessionStart asks
/// for one.
pub const DEFAULT_SYNC_INTERVAL: Duration = Duration::from_secs(15 * 60);
/// Reactions are cut to this many characters (on a char boundary) before they are queued.
pub const MAX_REACTION_CHARS: usize = 8000;
/// Hook stdin cap: a larger payload is read no further.
pub const MAX_STDIN_BYTES: usize = 16 * 1024 * 1024;
/// A running job whose heartbeat is older than this is re-queued by `worker drain`.
pub const STALE_JOB: Duration = Duration::from_secs(10 * 60);

fn env_nonempty(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|v| !v.trim().is_empty())
}

/// True when `key` is set to `1`/`true`/`yes`.
pub fn env_flag(key: &str) -> bool {
    env_nonempty(key).is_some_and(|v| {
        matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "1" | "true" | "yes" | "on"
        )
    })
}

/// `SKILLOPT_DISABLED=1` or `SKILLOPT_WORKER=1`: hooks do nothing.
pub fn hooks_disabled() -> bool {
    env_flag("SKILLOPT_DISABLED") || env_flag("SKILLOPT_WORKER")
}

/// Parses a positive integer, else the default.
pub fn positive_u32(raw: Option<&str>, default: u32) -> u32 {
    raw.and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|v| v.is_finite() && *v >= 1.0)
        .map(|v| v.floor().min(u32::MAX as f64) as u32)
        .unwrap_or(default)
}

/// K, the judge budget: user prompts judged after one skill use ("window" names only the judged
/// text; this function keeps its name until the hooks switch).
pub fn judge_window() -> u32 {
    positive_u32(
        env_nonempty("SKILLOPT_JUDGE_WINDOW").as_deref(),
        DEFAULT_JUDGE_WINDOW,
    )
}

/// Parses a duration: plain seconds, or a number with `s`, `m` or `h`.
pub fn parse_duration(raw: &str) -> Option<Duration> {
    let raw = raw.trim();
    let (num, mult) = match raw.char_indices().last()? {
        (i, 's') => (&raw[..i], 1),
        (i, 'm') => (&raw[..i], 60),
        (i, 'h') => (&raw[..i], 3600),
        _ => (raw, 1),
    };
    let n: u64 = num.trim().parse().ok()?;
    Some(Duration::from_secs(n.saturating_mul(mult)))
}

/// How stale the last sync may get.
pub fn sync_interval() -> Duration {
    env_nonempty("SKILLOPT_SYNC_INTERVAL")
        .and_then(|v| parse_duration(&v))
        .unwrap_or(DEFAULT_SYNC_INTERVAL)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_read_in_any_case() {
        let key = "SKILLOPT_TEST_FLAG_CASE";
        for (v, on) in [
            ("TRUE", true),
            ("Yes", true),
            ("1", true),
            ("0", false),
            ("nope", false),
        ] {
            std::env::set_var(key, v);
            assert_eq!(env_flag(key), on, "{v}");
        }
        std::env::remove_var(key);
    }

    #[test]
    fn window_parsing() {
        assert_eq!(positive_u32(None, 3), 3);
        assert_eq!(positive_u32(Some("5"), 3), 5);
        assert_eq!(positive_u32(Some("2.7"), 3), 2);
        assert_eq!(positive_u32(Some("0"), 3), 3);
        assert_eq!(positive_u32(Some("junk"), 3), 3);
        assert_eq!(positive_u32(Some("-4"), 3), 3);
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("15m"), Some(Duration::from_secs(900)));
        assert_eq!(parse_duration("1h"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_duration("x"), None);
    }
}
