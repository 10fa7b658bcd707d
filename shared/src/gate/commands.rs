//! Command lines: which programs a text runs, and the idioms that run code nobody reviewed.
//!
//! Command lines are found in: fences with no info string or a shell one (every line, with
//! `\` continuations and trailing `|`/`&&`/`||` joined, `$ `/`% ` prompts and `#` comments
//! stripped); `$ `/`% ` prompt lines in prose; prose lines that start with a lower-case word
//! followed by a flag (`wget -qO- …`); inline code spans of two or more words whose first word is
//! a program name (`` `make migrate` ``), or of one word right after "run"/"execute"/"type"/….
//! A fence in another language counts as running its interpreter (```python → `python`).
//!
//! Each command line is split (outside single quotes) at `|`, `||`, `&&`, `;`, `&`, `$(`, `` ` ``,
//! `<(`, `>(`, parentheses and braces. In each piece, assignments (`FOO=1`) and wrappers (`env`,
//! `command`, `exec`, `nohup`, `time`, `nice`, `timeout`, `stdbuf`, `then`, `do`, `!`, …) are
//! skipped; `sudo`, `doas`, `su` and `xargs` count themselves *and* the program they run. The
//! program is the basename, lower-cased (`/usr/bin/curl` → `curl`, `python3.12` → `python`,
//! `.` → `source`). An interpreter given a script counts as `interpreter script` too
//! (`bash scripts/x.sh`), and `npx`/`uvx`/`bunx`/`pnpx` count with their package (`npx pkg`),
//! so an already-used `python` does not let a new script in. A few read-only tools never count
//! as new ([`HARMLESS`]).

use std::collections::BTreeSet;
use std::sync::OnceLock;

use regex::Regex;

use super::markdown::{self, Ctx};

/// Programs that may appear in a new command line even if the parent never ran them: they
/// read or print and cannot fetch, execute or write outside a redirection (redirections to
/// shell start-up files are a `shell-exec` idiom; printing secrets is `exfiltration`).
pub const HARMLESS: &[&str] = &[
    "cd", "ls", "pwd", "cat", "head", "tail", "less", "more", "grep", "egrep", "fgrep", "rg", "wc",
    "sort", "uniq", "cut", "tr", "echo", "printf", "diff", "test", "true", "false", "which",
    "type", "date", "basename", "dirname", "realpath", "export", "set", "unset", "read", "exit",
    "return", "local", "shift", "sleep", "wait",
];

const INTERPRETERS: &[&str] = &[
    "sh",
    "bash",
    "zsh",
    "dash",
    "ksh",
    "fish",
    "csh",
    "tcsh",
    "ash",
    "python",
    "pypy",
    "perl",
    "ruby",
    "node",
    "deno",
    "bun",
    "php",
    "pwsh",
    "powershell",
    "osascript",
    "lua",
    "tclsh",
    "rscript",
    "source",
];
const PACKAGE_RUNNERS: &[&str] = &["npx", "uvx", "bunx", "pnpx"];
/// Package managers whose install/exec verbs fetch and run third-party code: each package is a
/// program key of its own (`npm install left-pad`), so a new package is a new command.
const PACKAGE_MANAGERS: &[&str] = &[
    "npm", "pnpm", "yarn", "bun", "pip", "pipx", "uv", "poetry", "gem", "cargo", "go", "brew",
    "apt", "apt-get", "dnf", "yum", "apk", "pacman", "composer", "dotnet", "conda", "mamba",
];
const INSTALL_VERBS: &[&str] = &[
    "install",
    "i",
    "add",
    "exec",
    "x",
    "dlx",
    "create",
    "run-script",
    "get",
    "tool",
    "global",
];

/// `npm install a b` → `npm install a`, `npm install b` (versions and scopes kept; flags and
/// local paths left out).
fn package_keys(manager: &str, rest: &[&String], out: &mut Vec<String>) {
    let Some((verb, pkgs)) = rest.split_first() else {
        return;
    };
    let verb = verb.to_lowercase();
    if !INSTALL_VERBS.contains(&verb.as_str()) {
        return;
    }
    for p in pkgs {
        let p = p.to_lowercase();
        if p.starts_with('.') || p == "-" {
            continue;
        }
        out.push(format!("{manager} {verb} {p}"));
    }
}
const SCRIPT_EXT: &[&str] = &[
    ".sh", ".bash", ".zsh", ".py", ".js", ".mjs", ".cjs", ".ts", ".rb", ".pl", ".php", ".ps1",
    ".lua", ".r",
];
/// Wrappers that only run another program.
const WRAPPERS: &[&str] = &[
    "env",
    "command",
    "builtin",
    "exec",
    "nohup",
    "time",
    "nice",
    "timeout",
    "stdbuf",
    "then",
    "do",
    "else",
    "if",
    "elif",
    "while",
    "until",
    "!",
    "watch",
    "unbuffer",
    "caffeinate",
    "chronic",
    "ionice",
    "setsid",
    "script",
];
/// Wrappers that are a privilege or fan-out step of their own.
const COUNTED_WRAPPERS: &[&str] = &["sudo", "doas", "su", "xargs", "runuser", "pkexec"];
/// Flags that take a value, per wrapper (any other flag takes none: `command -p rm`,
/// `time -p shred`, `env -i rm` and `env -S 'rm …'` all run the word after the flag).
fn flag_takes_value(wrapper: &str, flag: &str) -> bool {
    let flags: &[&str] = match wrapper {
        "sudo" => &["-u", "-g", "-h", "-p", "-C", "-D", "-U", "-r", "-t", "-T"],
        "doas" => &["-u", "-C"],
        "su" | "runuser" => &["-u", "-g", "-G", "-s", "-c", "-w"],
        "pkexec" => &["--user"],
        "xargs" => &["-I", "-L", "-n", "-P", "-d", "-E", "-s", "-a", "-i", "-l"],
        "env" => &["-u", "-C", "--unset", "--chdir"],
        "timeout" => &["-s", "-k", "--signal", "--kill-after"],
        "nice" => &["-n", "--adjustment"],
        "ionice" => &["-c", "-n", "-p"],
        "stdbuf" => &["-i", "-o", "-e"],
        "watch" => &["-n", "-d"],
        "chronic" | "caffeinate" => &["-t", "-w"],
        _ => &[],
    };
    flags.contains(&flag)
}

fn program_name() -> &'static Regex {
    static C: OnceLock<Regex> = OnceLock::new();
    C.get_or_init(|| super::compile(r"^[a-z0-9][a-z0-9_.+-]*$"))
}

fn list_marker() -> &'static Regex {
    static C: OnceLock<Regex> = OnceLock::new();
    C.get_or_init(|| super::compile(r"^\s*(?:>\s*)*(?:(?:[-*+]|\d+[.)])\s+)?"))
}

fn inline_code() -> &'static Regex {
    static C: OnceLock<Regex> = OnceLock::new();
    C.get_or_init(|| super::compile(r"`+([^`\n]+?)`+"))
}

fn run_verb_before() -> &'static Regex {
    static C: OnceLock<Regex> = OnceLock::new();
    C.get_or_init(|| {
        super::compile(
            r"(?i)\b(?:run|running|runs|execute|executing|exec|invoke|invoking|type|typing|call|launch|start)\s+(?:the\s+|a\s+)?(?:command\s+|program\s+|tool\s+|script\s+)?[`*_]*$",
        )
    })
}

/// Joins `\` continuations and lines ending in a pipe or `&&`/`||` with the next line.
pub(super) fn join_continuations(text: &str) -> String {
    static C: OnceLock<Regex> = OnceLock::new();
    let re = C.get_or_init(|| super::compile(r"(?:\\|(\|\||&&|\|))[ \t]*\r?\n[ \t]*"));
    re.replace_all(text, |c: &regex::Captures| {
        format!("{} ", c.get(1).map_or("", |m| m.as_str()))
    })
    .into_owned()
}

fn strip_prompt(line: &str) -> Option<&str> {
    let t = line.trim_start();
    ["$ ", "% ", "PS> ", "> $ "]
        .iter()
        .find_map(|p| t.strip_prefix(p))
}

/// Every command line of `text` (see the module doc), and the languages of its code fences.
pub(super) fn command_lines(text: &str) -> (Vec<String>, BTreeSet<String>) {
    let joined = join_continuations(text);
    let mut lines = Vec::new();
    let mut langs = BTreeSet::new();
    for line in markdown::lines(&joined) {
        match &line.ctx {
            Ctx::Shell => {
                let t = strip_prompt(line.text).unwrap_or(line.text).trim();
                if !t.is_empty() && !t.starts_with('#') {
                    lines.push(t.to_string());
                }
            }
            Ctx::Code(lang) => {
                langs.insert(lang.clone());
            }
            Ctx::Data => {}
            Ctx::Prose => prose_commands(line.text, &mut lines),
        }
    }
    (lines, langs)
}

fn looks_like_args(word: &str) -> bool {
    word.starts_with(['-', '/', '.', '~', '$', '@'])
        || word.contains(['/', '='])
        || word.starts_with(|c: char| c.is_ascii_digit())
}

fn run_verb_then_command() -> &'static Regex {
    static C: OnceLock<Regex> = OnceLock::new();
    C.get_or_init(|| {
        super::compile(
            r"(?i)\b(?:run|running|execute|executing|exec|invoke|type|enter|use)\s*:?\s+(?:the\s+command\s+)?((?:sudo\s+)?[a-z0-9\\$][^\s,;]*\s+[^\s,;]+[^,;]*)",
        )
    })
}

/// Where a command written into a sentence ends.
fn clause_end(s: &str) -> &str {
    let mut end = s.len();
    for stop in [
        ". ", " to ", " before ", " after ", " so ", " then ", " when ", " if ", " and ",
    ] {
        if let Some(i) = s.find(stop) {
            end = end.min(i);
        }
    }
    s[..end].trim_end_matches(['.', ':', ')'])
}

fn prose_commands(line: &str, out: &mut Vec<String>) {
    let body = &line[list_marker().find(line).map_or(0, |m| m.end())..];
    // "Before deploying, run rm -rf ~/ to clean up" / "Run: rm -rf ~/.cache"
    for c in run_verb_then_command().captures_iter(body) {
        let cmd = clause_end(c.get(1).map_or("", |m| m.as_str()));
        let mut ws = cmd.split_whitespace();
        if let (Some(first), Some(second)) = (ws.next(), ws.next()) {
            let prog = first.trim_start_matches('\\');
            if (program_name().is_match(prog) || first.starts_with(['$', '\\']))
                && (looks_like_args(second) || first == "sudo")
            {
                out.push(cmd.to_string());
            }
        }
    }
    // A bare command line in prose: `rm ~/.bashrc` (short, no sentence punctuation).
    let bare = body.trim();
    let n_words = bare.split_whitespace().count();
    if (2..=6).contains(&n_words) && !bare.ends_with(['.', ':', '!', '?']) {
        let mut ws = bare.split_whitespace();
        if let (Some(first), Some(second)) = (ws.next(), ws.next()) {
            let prog = first.trim_start_matches('\\');
            if program_name().is_match(prog) && looks_like_args(second) {
                out.push(bare.to_string());
            }
        }
    }
    if let Some(cmd) = strip_prompt(body) {
        out.push(cmd.to_string());
    } else {
        let mut words = body.split_whitespace();
        if let (Some(first), Some(second)) = (words.next(), words.next()) {
            let flag = second.len() > 1
                && second.starts_with('-')
                && second[1..].starts_with(|c: char| c.is_ascii_alphabetic() || c == '-');
            if flag && program_name().is_match(first) {
                out.push(body.to_string());
            }
        }
    }
    for c in inline_code().captures_iter(line) {
        let span = c.get(1).map_or("", |m| m.as_str()).trim();
        let span = strip_prompt(span).unwrap_or(span);
        let words: Vec<&str> = span.split_whitespace().collect();
        let Some(first) = words.first() else { continue };
        if !program_name().is_match(&first.to_lowercase()) {
            continue;
        }
        let lower = first.chars().all(|c| !c.is_uppercase());
        let command = match words.len() {
            1 => {
                let before = &line[..c.get(0).map_or(0, |m| m.start())];
                run_verb_before().is_match(before)
            }
            _ => lower || looks_like_args(words[1]),
        };
        if command {
            out.push(span.to_string());
        }
    }
}

/// Splits a command line into simple commands (outside single quotes). The text after a `)`
/// that closes a substitution is the outer command's arguments and is left out.
fn pieces(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut args_only = false;
    let (mut single, mut double) = (false, false);
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let split = match c {
            '\'' if !double => {
                single = !single;
                false
            }
            '"' if !single => {
                double = !double;
                false
            }
            _ if single => false,
            '$' if next == Some('(') => {
                i += 1;
                true
            }
            '<' | '>' if next == Some('(') => {
                i += 1;
                true
            }
            '`' | ')' => true,
            _ if double => false,
            '|' | '&' | ';' | '(' | '{' | '}' | '\n' => true,
            _ => false,
        };
        if split {
            let piece = std::mem::take(&mut cur);
            if !args_only {
                out.push(piece);
            }
            args_only = c == ')';
        } else {
            cur.push(c);
        }
        i += 1;
    }
    if !args_only {
        out.push(cur);
    }
    out.into_iter()
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

fn words(piece: &str) -> Vec<String> {
    piece
        .split_whitespace()
        .map(|w| w.replace(['"', '\''], ""))
        .filter(|w| !w.is_empty())
        .collect()
}

/// The normalised program name of a word, if it is one.
fn program(word: &str) -> Option<String> {
    let base = word.rsplit('/').next().unwrap_or(word).to_lowercase();
    let base = match base.as_str() {
        "." => "source".to_string(),
        b if b.starts_with("python") && b[6..].chars().all(|c| c.is_ascii_digit() || c == '.') => {
            "python".into()
        }
        b if b.starts_with("pip") && b[3..].chars().all(|c| c.is_ascii_digit() || c == '.') => {
            "pip".into()
        }
        "nodejs" => "node".into(),
        "powershell.exe" => "powershell".into(),
        b => b.to_string(),
    };
    program_name().is_match(&base).then_some(base)
}

/// Keys of one simple command: the program, a counted wrapper, `interpreter script`, `npx pkg`.
fn piece_keys(piece: &str, out: &mut Vec<String>) {
    let w = words(piece);
    let mut i = 0;
    while i < w.len() {
        let word = w[i].as_str();
        let is_assign = word.split_once('=').is_some_and(|(k, _)| {
            !k.is_empty() && k.chars().all(|c| c.is_alphanumeric() || c == '_')
        });
        let name = program(word);
        let wrapper = name
            .as_deref()
            .is_some_and(|n| WRAPPERS.contains(&n) || COUNTED_WRAPPERS.contains(&n));
        if is_assign {
            i += 1;
            continue;
        }
        if wrapper {
            let n = name.unwrap_or_default();
            if COUNTED_WRAPPERS.contains(&n.as_str()) {
                out.push(n.clone());
            }
            i += 1;
            // wrapper flags and their values, durations
            while i < w.len() {
                let a = w[i].as_str();
                if flag_takes_value(&n, a) {
                    i += 2;
                } else if a.starts_with('-')
                    || (n == "timeout" && a.starts_with(|c: char| c.is_ascii_digit()))
                    || (n == "nice" && a.starts_with(|c: char| c.is_ascii_digit()))
                    || a == "{}"
                {
                    i += 1;
                } else {
                    break;
                }
            }
            if n == "env" && i >= w.len() {
                out.push("env".into());
            }
            continue;
        }
        let Some(name) = name else {
            // Not a plain program name: `\rm` (alias bypass), `$SHELL`, `${X}`, `c''url`
            // (quotes are already gone), a glob… Fail closed: the word itself is the key, so it
            // is new unless the parent runs exactly that.
            let raw = word.trim_start_matches('\\').to_lowercase();
            match program(&raw) {
                Some(p) => {
                    out.push(p);
                }
                None if !raw.is_empty() => out.push(raw),
                None => {}
            }
            return;
        };
        let rest: Vec<&String> = w[i + 1..].iter().filter(|a| !a.starts_with('-')).collect();
        if PACKAGE_MANAGERS.contains(&name.as_str()) {
            package_keys(&name, &rest, out);
        }
        if INTERPRETERS.contains(&name.as_str()) {
            if let Some(script) = rest.first() {
                let s = script.to_lowercase();
                if s.contains('/') || SCRIPT_EXT.iter().any(|e| s.ends_with(e)) {
                    out.push(format!("{name} {}", s.trim_start_matches("./")));
                }
            }
        }
        if PACKAGE_RUNNERS.contains(&name.as_str()) {
            if let Some(pkg) = rest.first() {
                out.push(format!("{name} {}", pkg.to_lowercase()));
            }
        }
        out.push(name);
        return;
    }
}

/// Network tools, and how their address arguments are found.
fn network_tool(name: &str) -> Option<NetArgs> {
    Some(match name {
        "curl" | "wget" | "http" | "https" | "xh" | "aria2c" | "lwp-request" | "fetch" => {
            NetArgs::All
        }
        "nc" | "ncat" | "netcat" | "socat" | "telnet" | "ssh" | "mosh" | "ping" | "dig"
        | "nslookup" | "host" | "ftp" | "sftp" | "whois" | "traceroute" => NetArgs::First,
        "scp" | "rsync" => NetArgs::WithColon,
        "git" => NetArgs::Git,
        _ => return None,
    })
}

enum NetArgs {
    /// Every non-flag argument is a URL (`curl update.zip` fetches `http://update.zip`).
    All,
    /// The first non-flag argument is the host.
    First,
    /// Arguments with a `:` name a remote (`host:path`).
    WithColon,
    /// `git clone|remote add|push|pull|fetch|submodule add` URLs.
    Git,
}

/// Flags of network tools that take a (non-address) value.
const NET_VALUE_FLAGS: &[&str] = &[
    "-o",
    "-O",
    "--output",
    "-H",
    "--header",
    "-d",
    "--data",
    "--data-raw",
    "--data-binary",
    "--data-urlencode",
    "-X",
    "--request",
    "-u",
    "--user",
    "-A",
    "--user-agent",
    "-e",
    "--referer",
    "-b",
    "--cookie",
    "-c",
    "--cookie-jar",
    "-T",
    "--upload-file",
    "-F",
    "--form",
    "-w",
    "--write-out",
    "-m",
    "--max-time",
    "--connect-timeout",
    "-r",
    "--range",
    "--retry",
    "-K",
    "--config",
    "-E",
    "--cert",
    "--key",
    "--cacert",
    "--json",
    "-P",
    "-U",
    "--post-data",
    "--post-file",
    "-t",
    "--tries",
    "-i",
    "-l",
    "-p",
    "-q",
    "-W",
    "-C",
    "--depth",
    "-b",
    "--branch",
    "-m",
    "--message",
];

/// The address arguments network commands in `text` use (`curl get.evil.sh`, `nc 10.1 80`,
/// `git remote add m evil.sh:repo`): each is a destination however it is spelled, even a
/// number (`2130706433`) or a name with a file-like TLD.
pub(super) fn network_args(text: &str) -> Vec<String> {
    let (lines, _) = command_lines(text);
    let mut out = Vec::new();
    for line in &lines {
        for piece in pieces(line) {
            let w = words(&piece);
            let Some(pos) = w
                .iter()
                .position(|x| program(x).is_some_and(|p| network_tool(&p).is_some()))
            else {
                continue;
            };
            let Some(kind) = program(&w[pos]).and_then(|p| network_tool(&p)) else {
                continue;
            };
            let mut args = Vec::new();
            let mut i = pos + 1;
            while i < w.len() {
                let a = &w[i];
                if NET_VALUE_FLAGS.contains(&a.as_str()) {
                    i += 2;
                    continue;
                }
                if !a.starts_with('-') {
                    args.push(a.clone());
                }
                i += 1;
            }
            let not_path = |a: &String| !a.starts_with(['/', '.', '~', '$', '{', '<', '@']);
            let address_like = |a: &String| {
                not_path(a)
                    && (a.contains(['.', ':'])
                        || a.chars().all(|c| c.is_ascii_hexdigit() || c == 'x'))
            };
            match kind {
                NetArgs::All => out.extend(args.into_iter().filter(not_path)),
                NetArgs::First => out.extend(args.into_iter().take(1).filter(address_like)),
                NetArgs::WithColon => out.extend(args.into_iter().filter(|a| a.contains(':'))),
                NetArgs::Git => {
                    let verb = args.first().map(String::as_str).unwrap_or("");
                    if matches!(
                        verb,
                        "clone" | "remote" | "push" | "pull" | "fetch" | "submodule" | "ls-remote"
                    ) {
                        out.extend(
                            args.into_iter()
                                .skip(1)
                                .filter(|a| {
                                    a.contains(':')
                                        || a.contains('@')
                                        || (a.contains('.') && !a.ends_with(".git")
                                            || a.contains("://"))
                                })
                                .filter(|a| !a.starts_with(['/', '.', '~'])),
                        );
                    }
                }
            }
        }
    }
    out
}

/// Every program key `text` runs (see the module doc), with code-fence languages.
pub(super) fn programs(text: &str) -> BTreeSet<String> {
    let (lines, langs) = command_lines(text);
    let mut keys = Vec::new();
    for line in &lines {
        for p in pieces(line) {
            piece_keys(&p, &mut keys);
        }
    }
    keys.into_iter().chain(langs).collect()
}

/// Program keys of `new` that `old` does not run, in order.
pub(super) fn added(old: &str, new: &str) -> Vec<String> {
    let known = programs(old);
    let base = |k: &str| k.split(' ').next().unwrap_or("").to_string();
    programs(new)
        .into_iter()
        .filter(|k| !known.contains(k))
        .filter(|k| !(k.contains(' ') && HARMLESS.contains(&base(k).as_str())))
        .filter(|k| !HARMLESS.contains(&k.as_str()))
        .collect()
}

fn idioms() -> &'static [Regex] {
    static C: OnceLock<Vec<Regex>> = OnceLock::new();
    C.get_or_init(|| {
        let interp = r"(?:(?:ba|z|da|k|fi|c|tc|a|mk)?sh|busybox\s+sh|python[0-9.]*|pypy[0-9.]*|perl|ruby|node(?:js)?|deno|bun|php|pwsh|powershell(?:\.exe)?|osascript|lua|tclsh|rscript|source|iex|invoke-expression)";
        let wrap = r"(?:(?:\S*/)?(?:sudo|doas|env|command|builtin|exec|nohup|time|nice|stdbuf|xargs|timeout|unbuffer|then|do)(?:\s+(?:-\S+|[A-Za-z_]\w*=\S*|\d+\w?|\{\}|%|root))*\s+)*";
        let fetch = r"(?:curl|wget|fetch|iwr|irm|invoke-webrequest|invoke-restmethod|nc|ncat|aria2c|http|xh)";
        let end = r"(?:[^\w.-]|$)";
        let shells = r"(?:(?:ba|z|da|k|fi|c|tc|a|mk)?sh|busybox\s+sh)";
        let patterns = [
            // a pipe (possibly through tee) into an interpreter, behind any wrappers
            format!(r"(?im)\|\s*(?:tee\b[^|\n]*\|\s*)*{wrap}(?:\S*/)?{interp}{end}"),
            // process substitution feeding an interpreter or `.`/`source`
            format!(r"(?im)(?:^|[\s;&|(])(?:\.|{wrap}(?:\S*/)?{interp})\s+(?:-\S+\s+)*<\("),
            format!(r"(?i)<\(\s*{wrap}{fetch}\b"),
            format!(r"(?i)>\(\s*{wrap}(?:\S*/)?{interp}{end}"),
            // code given inline or on stdin
            format!(r"(?i)\b{shells}\s+(?:-[a-z]+\s+)*-[a-z]*[cs]\b"),
            r"(?i)\b(?:python[0-9.]*|pypy[0-9.]*)\s+(?:-\S+\s+)*-[a-z]*c\b".to_string(),
            r"(?i)\b(?:node(?:js)?|deno|bun|perl|ruby)\s+(?:-\S+\s+)*-[a-z]*[epE]\b".to_string(),
            r"(?i)\bdeno\s+eval\b|\bphp\s+(?:-\S+\s+)*-r\b|\bosascript\s+-e\b".to_string(),
            r"(?i)\b(?:pwsh|powershell)(?:\.exe)?\s+(?:-\S+\s+)*-(?:c|command|e|ec|enc|encodedcommand)\b".to_string(),
            format!(r"(?im)(?:^|[\s;&|(]){interp}\s+(?:-\S+\s+)*(?:<<<?|<\s|/dev/stdin|/dev/fd/0)"),
            // eval-like
            r"(?i)\beval\b|\b(?:iex|invoke-expression)\b".to_string(),
            r"!`[^`\n]+`".to_string(),
            format!(r"(?i)\$\(\s*{wrap}{fetch}\b"),
            format!(r"(?i)[=(]\s*`[ \t]*{wrap}{fetch}\b[^`\n]*`"),
            // code execution from other languages
            r"\bos\.(?:system|popen|exec\w*|spawn\w*)\s*\(|\bsubprocess\b|\bcommands\.getoutput|\b__import__\s*\(|\bpty\.spawn\b".to_string(),
            r"(?:^|[^.\w])exec\s*\(|\bchild_process\b|\b(?:execSync|spawnSync|execFile|execFileSync)\s*\(|\bnew\s+Function\s*\(".to_string(),
            r"(?i)\bRuntime\.getRuntime\(\)\.exec|\bWScript\.Shell\b|\bShell\.Application\b|\bProcess\.Start\b|\bDeno\.(?:run|Command)\b|\bBun\.spawn".to_string(),
            // download, then run
            r"(?i)\b(?:curl|wget)\b[^\n]*(?:&&|;)\s*(?:sudo\s+)?(?:chmod\s+\+?[0-7x]+|\./)".to_string(),
            // persistence: shell start-up files, ssh keys, /etc, schedulers, git hooks
            r#"(?i)(?:>>?|\btee\s+(?:-a\s+)?)\s*["']?\S*(?:\.bashrc|\.zshrc|\.zshenv|\.zprofile|\.profile|\.bash_profile|\.bash_login|authorized_keys|\.ssh/config|\.config/fish/config\.fish|\.gitconfig)\b"#.to_string(),
            r#"(?i)(?:>>?|\btee\s+(?:-a\s+)?)\s*["']?/etc/"#.to_string(),
            r"(?i)\bcrontab\b|\blaunchctl\s+(?:load|bootstrap|submit)\b|\bsystemctl\s+(?:--user\s+)?(?:enable|start)\b|\bschtasks\b".to_string(),
            r"(?i)\bgit\s+config\s+(?:--\w+\s+)*(?:core\.hookspath|core\.sshcommand|core\.pager|core\.fsmonitor|alias\.)".to_string(),
            // a known program told to run something else
            r"(?i)\bgit\s+(?:-\S+\s+)*-c\s*\S*(?:sshcommand|alias\.|hookspath|pager|fsmonitor|editor|askpass|credential\.helper|gitproxy|protocol\.\S*allow|uploadpack|receivepack|sequence\.editor|diff\.external)".to_string(),
            r"(?i)\bfind\b[^\n|;&]*\s-(?:exec|execdir|ok|okdir|delete|fprint)\b".to_string(),
            r"(?i)\b[gmn]?awk\b[^\n]*\b(?:system\s*\(|getline\b|\|&)".to_string(),
            r"(?i)\b(?:ssh|scp|rsync)\b[^\n]*-o\s*['\x22]?(?:proxycommand|localcommand|permitlocalcommand)".to_string(),
            // deleting a home, the root or everything, whatever the parent already deletes
            r#"(?i)\brm\s+(?:-\S+\s+)*["']?(?:~|/|\$home|\$\{home\}|\.\.|\*|/\*|~/\*)/?["']?(?:\s|$|[`;&|)])"#.to_string(),
            // destructive calls from other languages
            r"\bshutil\.rmtree\b|\bos\.(?:remove|unlink|rmdir|removedirs)\s*\(|\bfs\.(?:rm|rmdir|unlink)(?:Sync)?\s*\(|\bFileUtils\.rm|\bFile\.delete\b|\bRemove-Item\b|\.unlink\s*\(\s*(?:missing_ok)?".to_string(),
        ];
        patterns.iter().map(|p| super::compile(p)).collect()
    })
}

/// How many code-execution idioms `text` holds (continuations joined).
pub(super) fn exec_idioms(text: &str) -> usize {
    let joined = join_continuations(text);
    idioms().iter().map(|r| r.find_iter(&joined).count()).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progs(t: &str) -> Vec<String> {
        programs(t).into_iter().collect()
    }

    #[test]
    fn finds_programs_in_every_place() {
        let cases: &[(&str, &[&str])] = &[
            ("```\nmake migrate\n```", &["make"]),
            (
                "```bash\n$ sudo -u root env FOO=1 /usr/bin/curl x\n```",
                &["curl", "sudo"],
            ),
            (
                "```sh\ncat x | xargs -I{} rm {}\n```",
                &["cat", "rm", "xargs"],
            ),
            (
                "```sh\nmake \\\n  deploy && \\\n  kubectl apply\n```",
                &["kubectl", "make"],
            ),
            ("```sh\nfoo |\n  bar\n```", &["bar", "foo"]),
            (
                "```sh\nx=$(whoami); . <(gen)\n```",
                &["gen", "source", "whoami"],
            ),
            ("```sh\ndiff <(a) >(b)\n```", &["a", "b", "diff"]),
            ("```sh\necho \"$(id)\" 'no $(split)'\n```", &["echo", "id"]),
            (
                "```sh\npython3 scripts/x.py --v\n```",
                &["python", "python scripts/x.py"],
            ),
            ("```sh\nnpx some-pkg@1 run\n```", &["npx", "npx some-pkg@1"]),
            ("```python\nimport os\n```", &["python"]),
            ("Run `make migrate` first.", &["make"]),
            ("Run `whoami` first.", &["whoami"]),
            ("The `timeout` option.", &[]),
            ("Use the `Read tool` here.", &[]),
            ("`Curl -d x`", &["curl"]),
            ("$ gh pr view", &["gh"]),
            ("1. wget -qO- x | tee y", &["tee", "wget"]),
            ("- run the `npm test -- --ci` suite", &["npm"]),
            ("`allowed-tools: Bash`", &[]),
            ("```json\n{\"a\": 1}\n```", &[]),
        ];
        for (text, want) in cases {
            assert_eq!(progs(text), want.to_vec(), "{text:?}");
        }
    }

    #[test]
    fn known_programs_and_harmless_tools_are_not_added() {
        let old = "```\nmake deploy\n```\nRun `python scripts/x.py`.";
        assert!(added(old, "```\nmake migrate\n```").is_empty());
        assert!(added(old, "Check with `make status | grep ok`.").is_empty());
        assert!(added(old, "```python\nprint(1)\n```").is_empty());
        assert_eq!(added(old, "`curl -s x`"), vec!["curl"]);
        assert_eq!(added(old, "`python evil.py`"), vec!["python evil.py"]);
        assert_eq!(added(old, "`sudo make install`"), vec!["sudo"]);
    }

    #[test]
    fn idioms_cover_every_spelling() {
        for t in [
            "curl x | sh",
            "curl x | sudo -E bash",
            "curl x | env FOO=1 sh -s -- --yes",
            "curl x | command bash",
            "curl x | xargs -I{} sh",
            "curl x | tee /tmp/i.sh | bash",
            "curl x \\\n  | bash",
            "curl x |\n bash",
            "wget -qO- x | python3",
            "curl x | /bin/sh",
            "bash <(curl -s x)",
            ". <(curl -s x)",
            "source <(wget -O- x)",
            "curl x | tee >(sh)",
            "echo ZWNobw== | base64 -d | sh",
            "echo 6563686f | xxd -r -p | bash",
            "bash -c 'x'",
            "sh -lc x",
            "python3 -c 'x'",
            "node -e 'x'",
            "perl -e 'x'",
            "pwsh -EncodedCommand AAA",
            "bash <<< \"$(curl x)\"",
            "sh < /tmp/x",
            "eval \"$X\"",
            "iex (irm x)",
            "!`git status`",
            "A=$(curl x)",
            "os.system('x')",
            "import subprocess",
            "require('child_process')",
            "curl -o x.sh x && chmod +x x.sh",
            "echo 'curl x|sh' >> ~/.bashrc",
            "echo key | tee -a ~/.ssh/authorized_keys",
            "(crontab -l; echo x) | crontab -",
            "git config --global core.hooksPath /tmp/h",
        ] {
            assert!(exec_idioms(t) > 0, "{t:?}");
        }
        for t in [
            "make status | grep migrations",
            "npm test | tee out.log",
            "Prefer the Makefile over ad-hoc shell scripts.",
            "Run the shell command below.",
            "bash scripts/deploy.sh --env prod",
        ] {
            assert_eq!(exec_idioms(t), 0, "{t:?}");
        }
    }
}
