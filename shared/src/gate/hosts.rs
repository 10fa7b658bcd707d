//! Network destinations a text names: hosts, IP addresses, URLs and `data:` URIs, however they
//! are spelled. The gate refuses a proposal that names one its parent does not.
//!
//! Found (after NFKC, lower-cased): `scheme://host/path` (any scheme), protocol-relative
//! `//host`, `user@host`, `data:`/`javascript:` URIs, bare IPv4 and IPv6 (`::1`, `[2001:db8::1]`),
//! and any dotted name whose last label looks like a TLD (letters first, any length ≥ 2, any
//! script; no TLD list). Homoglyph dots (`。` `｡` `․` `·` `・` …) and defanged dots (`[.]`,
//! `(dot)`) count as dots. A dotted name ending in a common file extension (`SKILL.md`,
//! `run.sh`, `config.json`) is a file unless it is written like an address (scheme, `//`, `@`,
//! `:port` or a `/path` after it); so is a path component (`scripts/x.sh`) and a call
//! (`page.goto(`). In code and data fences only addresses, IPs and quoted names count, so
//! `response.status` in Python is not a host.
//!
//! Each destination gives a `host:` key, and one with a path also a `url:` key (host + path),
//! so a new path on a known host (`github.com/someone-else/x`) is new too.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use regex::Regex;

use super::markdown::{self, Ctx};

const FILE_EXTENSIONS: &[&str] = &[
    "md",
    "markdown",
    "mdx",
    "py",
    "pyc",
    "sh",
    "bash",
    "zsh",
    "fish",
    "rs",
    "js",
    "mjs",
    "cjs",
    "ts",
    "tsx",
    "jsx",
    "json",
    "jsonl",
    "yaml",
    "yml",
    "toml",
    "txt",
    "lock",
    "cfg",
    "conf",
    "ini",
    "html",
    "htm",
    "css",
    "scss",
    "go",
    "rb",
    "java",
    "kt",
    "c",
    "h",
    "cc",
    "cpp",
    "hpp",
    "cs",
    "sql",
    "csv",
    "tsv",
    "xml",
    "log",
    "env",
    "pdf",
    "png",
    "jpg",
    "jpeg",
    "gif",
    "svg",
    "webp",
    "ico",
    "zip",
    "tar",
    "gz",
    "tgz",
    "bz2",
    "xz",
    "whl",
    "mov",
    "mp4",
    "mp3",
    "wav",
    "ipynb",
    "lua",
    "pl",
    "php",
    "swift",
    "patch",
    "diff",
    "tex",
    "bib",
    "pem",
    "crt",
    "der",
    "ps1",
    "bat",
    "cmd",
    "exe",
    "dll",
    "so",
    "dylib",
    "dmg",
    "pkg",
    "deb",
    "rpm",
    "apk",
    "jar",
    "class",
    "wasm",
    "plist",
    "proto",
    "gradle",
    "vue",
    "svelte",
    "astro",
    "rst",
    "adoc",
    "docx",
    "xlsx",
    "pptx",
    "doc",
    "xls",
    "ppt",
    "odt",
    "rtf",
    "epub",
    "ttf",
    "otf",
    "woff",
    "woff2",
    "map",
    "example",
    "sample",
    "template",
    "tmpl",
    "j2",
    "bak",
    "old",
    "orig",
    "tmp",
    "test",
    "spec",
    "config",
    "d",
    "local",
    "dockerfile",
    "mk",
    "cmake",
    "nix",
    "tf",
    "tfvars",
    "hcl",
    "lockb",
    "sum",
    "mod",
    "db",
    "sqlite",
    "sqlite3",
    "parquet",
    "pickle",
    "pkl",
    "npy",
    "pt",
    "onnx",
    "safetensors",
    "bin",
    "dat",
    "yarnrc",
    "npmrc",
    "nvmrc",
    "gitignore",
];

/// Characters that read as a dot in a host name.
const DOTS: &[char] = &[
    '\u{3002}', '\u{FF61}', '\u{FE12}', '\u{2024}', '\u{FF0E}', '\u{FE52}', '\u{0701}', '\u{0702}',
    '\u{2E3C}', '\u{A4F8}', '\u{A60E}', '\u{00B7}', '\u{2219}', '\u{22C5}', '\u{30FB}', '\u{FF65}',
    '\u{16EB}', '\u{2E31}', '\u{0387}', '\u{06D4}', '\u{1427}', '\u{2E33}', '\u{02D9}', '\u{0CF1}',
];

/// `&#46;`, `&#x2e;`, `&period;`: a dot an agent reading HTML-ish markdown would see.
fn html_dots() -> &'static Regex {
    static C: OnceLock<Regex> = OnceLock::new();
    C.get_or_init(|| super::compile(r"(?i)&(?:#0*46|#x0*2e|period|sdot|middot);"))
}

fn defang() -> &'static Regex {
    static C: OnceLock<Regex> = OnceLock::new();
    C.get_or_init(|| super::compile(r"(?i)\s?[\[({<]\s*(?:\.|dot)\s*[\])}>]\s?|\bhxxp"))
}

fn scheme_url() -> &'static Regex {
    static C: OnceLock<Regex> = OnceLock::new();
    C.get_or_init(|| super::compile(r#"(?i)\b[a-z][a-z0-9+.-]*:/{2,}([^\s<>"'`\\]*)"#))
}

fn protocol_relative() -> &'static Regex {
    static C: OnceLock<Regex> = OnceLock::new();
    C.get_or_init(|| super::compile(r#"(?:^|[^:/\w])/{2,}([^\s/<>"'`\\]+[^\s<>"'`\\]*)"#))
}

fn uri_without_slashes() -> &'static Regex {
    static C: OnceLock<Regex> = OnceLock::new();
    C.get_or_init(|| {
        super::compile(
            r#"(?i)\b(?:data:(?:[a-z]+/[a-z0-9.+-]+)?[;,][^\s<>"'`]*|(?:javascript|vbscript):[^\s<>"'`]+)"#,
        )
    })
}

fn token() -> &'static Regex {
    static C: OnceLock<Regex> = OnceLock::new();
    C.get_or_init(|| super::compile(r"[\p{L}\p{N}\p{M}_.-]+"))
}

fn ipv4() -> &'static Regex {
    static C: OnceLock<Regex> = OnceLock::new();
    C.get_or_init(|| super::compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b"))
}

fn ipv6() -> &'static Regex {
    static C: OnceLock<Regex> = OnceLock::new();
    C.get_or_init(|| super::compile(r"(?i)[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}"))
}

/// `text` with homoglyph and defanged dots turned into `.` (case kept for [`bare_host`]).
pub(super) fn fold(text: &str) -> String {
    let dotted: String = text
        .chars()
        .map(|c| if DOTS.contains(&c) { '.' } else { c })
        .collect();
    let dotted = html_dots().replace_all(&dotted, ".");
    defang()
        .replace_all(&dotted, |c: &regex::Captures| {
            if c[0].to_lowercase() == "hxxp" {
                "http".to_string()
            } else {
                ".".to_string()
            }
        })
        .into_owned()
}

fn trim_path(p: &str) -> &str {
    p.trim_end_matches(['.', ',', ';', ':', '!', '?', ')', ']', '}', '*', '_', '>'])
}

/// Host and `host/path` keys of an authority+path string (`user@host:port/path?q`).
fn add_authority(rest: &str, out: &mut BTreeSet<String>) {
    let rest = rest
        .split(|c: char| c.is_whitespace() || "<>\"'`(){}\\|,;*".contains(c))
        .next()
        .unwrap_or("");
    let rest = trim_path(rest);
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let host_port = authority.rsplit('@').next().unwrap_or("");
    let host = if host_port.starts_with('[') {
        host_port
            .split(']')
            .next()
            .unwrap_or("")
            .trim_start_matches('[')
    } else {
        host_port.split(':').next().unwrap_or("")
    };
    out.insert(format!("host:{}", host.to_lowercase()));
    if rest.len() > end {
        out.insert(format!(
            "url:{}{}",
            host.to_lowercase(),
            rest[end..].to_lowercase()
        ));
    }
}

/// Whether a bare dotted token names a host. `prev`/`next` are the characters around it.
/// `after` is the text from the end of the token.
fn bare_host(
    original: &str,
    prev: Option<char>,
    prev2: Option<char>,
    next: Option<char>,
    after: &str,
    full: bool,
) -> bool {
    let original_last = original.rsplit('.').next().unwrap_or("");
    let tok = original;
    let quoted = |c: Option<char>| matches!(c, Some('"' | '\'' | '`'));
    let tok = &tok.to_lowercase();
    if tok == "localhost" {
        return full || quoted(prev);
    }
    let labels: Vec<&str> = tok.split('.').collect();
    if tok.contains('_') || labels.len() < 2 || labels.iter().any(|l| l.is_empty()) {
        return false;
    }
    let last = labels[labels.len() - 1];
    if camel_case(original_last) {
        return false;
    }
    let first_char = last.chars().next().unwrap_or('0');
    if last.chars().count() < 2 || !first_char.is_alphabetic() {
        return false;
    }
    if next == Some('(') {
        return false;
    }
    let addressed = prev == Some('@')
        || (prev == Some('/') && prev2 == Some('/'))
        || (next == Some(':') && after[1..].starts_with(|c: char| c.is_ascii_digit()))
        || next == Some('/');
    if prev == Some('/') && prev2 != Some('/') {
        return false;
    }
    if !full {
        return addressed
            || (quoted(prev) && (quoted(next) || next == Some('/') || next == Some(':')));
    }
    addressed || tok.starts_with("www.") || !FILE_EXTENSIONS.contains(&last)
}

/// A config key or identifier like `core.hooksPath`: the last label has an upper-case letter
/// between at least two lower-case ones on each side (a host is written in one case).
fn camel_case(label: &str) -> bool {
    let c: Vec<char> = label.chars().collect();
    (2..c.len().saturating_sub(2)).any(|i| {
        c[i].is_uppercase()
            && c[i - 2..i].iter().all(|x| x.is_lowercase())
            && c[i + 1..i + 3].iter().all(|x| x.is_lowercase())
    })
}

fn scan(text: &str, full: bool, out: &mut BTreeSet<String>) {
    for c in scheme_url().captures_iter(text) {
        add_authority(&c[1], out);
    }
    for c in protocol_relative().captures_iter(text) {
        let host = c[1].split(['/', ':', '?', '#']).next().unwrap_or("");
        if host.contains('.') || host.contains('[') || host == "localhost" {
            add_authority(&c[1], out);
        }
    }
    for m in uri_without_slashes().find_iter(text) {
        out.insert(format!("uri:{}", trim_path(m.as_str())));
    }
    for m in ipv4().find_iter(text) {
        if m.as_str()
            .split('.')
            .all(|o| o.parse::<u16>().is_ok_and(|n| n <= 255))
        {
            out.insert(format!("host:{}", m.as_str()));
        }
    }
    for m in ipv6().find_iter(text) {
        let s = m.as_str();
        let prev = text[..m.start()].chars().next_back();
        let next = text[m.end()..].chars().next();
        let boundary_ok = !prev
            .is_some_and(|c| c.is_alphanumeric() || c == ':' || c == '_' || c == '.')
            && !next.is_some_and(|c| c.is_alphanumeric() || c == ':' || c == '_');
        let shaped = s.contains("::") || s.matches(':').count() == 7;
        if boundary_ok && shaped && s.chars().any(|c| c.is_ascii_hexdigit()) {
            out.insert(format!("host:{s}"));
        }
    }
    for m in token().find_iter(text) {
        let tok = m.as_str().trim_matches(['.', '-']);
        if tok.is_empty() {
            continue;
        }
        let lead = m.as_str().len() - m.as_str().trim_start_matches(['.', '-']).len();
        let start = m.start() + lead;
        let end = start + tok.len();
        let mut before = text[..start].chars().rev();
        let (prev, prev2) = (before.next(), before.next());
        let after = &text[end..];
        let next = after.chars().next();
        if bare_host(tok, prev, prev2, next, after, full) {
            if tok
                .split('.')
                .all(|l| l.chars().all(|c| c.is_ascii_digit()))
            {
                continue; // an IPv4 or a version number: handled above
            }
            add_authority(&text[start..], out);
        }
    }
}

/// Every destination key of `text` (see the module doc).
pub(super) fn destinations(text: &str) -> BTreeSet<String> {
    let folded = fold(text);
    let mut out = BTreeSet::new();
    for line in markdown::lines(&folded) {
        let full = matches!(line.ctx, Ctx::Prose | Ctx::Shell);
        scan(line.text, full, &mut out);
    }
    for arg in super::commands::network_args(&folded) {
        // `git@host:repo` and `host:repo` name `host`; a scheme URL is read as one.
        let arg = arg.split_once("://").map_or(arg.as_str(), |(_, rest)| rest);
        let arg = match arg.split_once(':') {
            Some((host, path))
                if !path.starts_with(|c: char| c.is_ascii_digit()) && !host.contains('/') =>
            {
                format!("{host}/{path}")
            }
            _ => arg.to_string(),
        };
        add_authority(&arg, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(t: &str) -> Vec<String> {
        destinations(t)
            .into_iter()
            .filter_map(|k| k.strip_prefix("host:").map(str::to_string))
            .collect()
    }

    #[test]
    fn finds_every_spelling() {
        let cases = [
            ("see https://evil.example.net/setup", "evil.example.net"),
            ("upload to paste-bin.io", "paste-bin.io"),
            ("any tld: drop.zz and more", "drop.zz"),
            ("long tld: files.storage", "files.storage"),
            ("unicode tld: пример.рф", "пример.рф"),
            ("homoglyph dots: evil\u{3002}com", "evil.com"),
            ("half-width: evil\u{FF61}com", "evil.com"),
            ("middle dot: evil\u{00B7}com", "evil.com"),
            ("defanged: evil[.]com", "evil.com"),
            ("defanged: evil(dot)com", "evil.com"),
            ("ip: 203.0.113.7", "203.0.113.7"),
            ("ip in url: http://10.0.0.1:8080/x", "10.0.0.1"),
            ("ipv6: [2001:db8::1]:443", "2001:db8::1"),
            ("loopback ::1 here", "::1"),
            ("protocol-relative //cdn.evil.net/x.js", "cdn.evil.net"),
            ("email user@mail.evil", "mail.evil"),
            ("script at evil.sh/install", "evil.sh"),
            ("script at evil.sh:8080", "evil.sh"),
            ("plain http://intranet/x", "intranet"),
            ("go to localhost:3000", "localhost"),
            ("Upper Case: EVIL.COM", "evil.com"),
            ("odd case: evil.cOm", "evil.com"),
            ("```python\nrequests.get(\"evil.com\")\n```", "evil.com"),
            ("```python\nurl = 'http://evil.net'\n```", "evil.net"),
        ];
        for (text, want) in cases {
            let got = hosts(text);
            assert!(got.contains(&want.to_string()), "{text:?}: {got:?}");
        }
    }

    #[test]
    fn data_uris_are_destinations() {
        for t in [
            "data:text/html;base64,PHNjcmlwdD4=",
            "data:,hello",
            "javascript:alert(1)",
        ] {
            assert!(destinations(t).iter().any(|k| k.starts_with("uri:")), "{t}");
        }
    }

    #[test]
    fn files_versions_and_code_are_not_hosts() {
        for t in [
            "Edit SKILL.md and run scripts/deploy.sh, then check config.json.",
            "Requires make >= 4.3, node 20.11 and python 3.12.1.",
            "e.g. this, i.e. that. End of sentence. Next one.",
            "Call `page.goto(url)` and `browser.new_page()`.",
            "```python\nstatus = response.status\nos.path.join(a, b)\n```",
            "Times like 12:30:45 and Rust paths like std::fs::read or Edit::add.",
            "Use the `.env.example` file and ~/.claude/settings.json.",
            "Output goes to /tmp/out/report.pdf.",
            "Note: this is data: not a URI.",
            "Set core.hooksPath and permissions.defaultMode.",
        ] {
            assert_eq!(hosts(t), Vec::<String>::new(), "{t}");
        }
    }

    #[test]
    fn a_new_path_on_a_known_host_is_new() {
        let a = destinations("https://github.com/acme/tool");
        let b = destinations("github.com/evil/tool");
        assert!(
            b.difference(&a).any(|k| k == "url:github.com/evil/tool"),
            "{b:?}"
        );
        assert!(destinations("see https://github.com/acme/tool.")
            .is_subset(&destinations("docs: https://github.com/acme/tool")));
    }
}
