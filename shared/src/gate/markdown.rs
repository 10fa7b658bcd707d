//! Just enough markdown for the gate: which lines sit in which fenced code block, and what kind
//! of block it is (shell, another language, data, or prose-like text).

/// What a line is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Ctx {
    /// Ordinary markdown (also ```text / ```md blocks).
    Prose,
    /// A fence with no info string or a shell one (`sh`, `bash`, `console`, `powershell`, …):
    /// every line is a command line.
    Shell,
    /// A fence in a known programming language, named by its interpreter (`python`, `node`, …).
    /// A label that is not a known language (```cat, ```ls, ```deploy) is a shell fence: its
    /// lines are read as command lines (fail closed).
    Code(String),
    /// A data fence (`json`, `yaml`, `toml`, `diff`, …).
    Data,
}

/// One line with its context. Fence marker lines are left out.
#[derive(Debug, Clone)]
pub(super) struct Line<'a> {
    pub ctx: Ctx,
    pub text: &'a str,
}

const SHELL: &[&str] = &[
    "",
    "sh",
    "bash",
    "zsh",
    "shell",
    "console",
    "terminal",
    "shell-session",
    "shellsession",
    "fish",
    "ksh",
    "csh",
    "tcsh",
    "ps1",
    "powershell",
    "pwsh",
    "ps",
    "bat",
    "cmd",
    "batch",
    "command",
    "commands",
    "cli",
    "session",
];
const PROSE: &[&str] = &[
    "text",
    "txt",
    "plain",
    "plaintext",
    "md",
    "markdown",
    "output",
    "log",
    "example",
    "prompt",
];
const DATA: &[&str] = &[
    "json",
    "jsonc",
    "json5",
    "jsonl",
    "yaml",
    "yml",
    "toml",
    "ini",
    "xml",
    "csv",
    "tsv",
    "diff",
    "patch",
    "mermaid",
    "dot",
    "graphviz",
    "html",
    "css",
    "svg",
    "env",
    "properties",
    "conf",
    "cfg",
    "gitignore",
    "http",
    "graphql",
    "sql",
    "tree",
    "ascii",
];

/// The interpreter a fence language runs on, so `py` and `python3` both mean `python`.
pub(super) fn language(info: &str) -> String {
    match info {
        "py" | "python" | "python3" | "python2" | "ipython" | "pycon" => "python".into(),
        "js" | "javascript" | "jsx" | "mjs" | "cjs" | "ts" | "typescript" | "tsx" | "node" => {
            "node".into()
        }
        "rb" | "ruby" => "ruby".into(),
        "pl" | "perl" => "perl".into(),
        other => other.into(),
    }
}

/// Programming languages whose fences are code, not command lines.
const CODE: &[&str] = &[
    "python",
    "node",
    "ruby",
    "perl",
    "go",
    "golang",
    "rust",
    "rs",
    "java",
    "kotlin",
    "kt",
    "swift",
    "c",
    "h",
    "cpp",
    "c++",
    "cc",
    "hpp",
    "cs",
    "csharp",
    "c#",
    "fsharp",
    "f#",
    "scala",
    "php",
    "lua",
    "r",
    "julia",
    "haskell",
    "hs",
    "elixir",
    "ex",
    "exs",
    "erlang",
    "clojure",
    "clj",
    "dart",
    "objc",
    "objective-c",
    "zig",
    "nim",
    "ocaml",
    "ml",
    "elm",
    "groovy",
    "gradle",
    "vb",
    "vbnet",
    "solidity",
    "sol",
    "lisp",
    "scheme",
    "racket",
    "vim",
    "viml",
    "nix",
    "hcl",
    "terraform",
    "tf",
    "dockerfile",
    "docker",
    "makefile",
    "make",
    "cmake",
    "proto",
    "protobuf",
    "regex",
    "jinja",
    "jinja2",
    "handlebars",
    "hbs",
    "liquid",
    "twig",
    "vue",
    "svelte",
    "astro",
    "tex",
    "latex",
    "matlab",
    "octave",
    "wasm",
    "wat",
    "asm",
    "nasm",
    "d",
    "v",
    "crystal",
    "cr",
    "pascal",
    "fortran",
    "cobol",
    "ada",
    "prolog",
    "sass",
    "scss",
    "less",
    "stylus",
    "jsonnet",
    "cue",
    "rego",
    "starlark",
    "bzl",
    "bazel",
    "nginx",
    "apache",
    "caddyfile",
    "jq",
];

fn classify(info: &str) -> Ctx {
    let first = info
        .trim()
        .trim_start_matches('{')
        .trim_start_matches('.')
        .split(|c: char| c.is_whitespace() || c == ',' || c == '}' || c == '{')
        .next()
        .unwrap_or("")
        .to_lowercase();
    if SHELL.contains(&first.as_str()) {
        Ctx::Shell
    } else if PROSE.contains(&first.as_str()) {
        Ctx::Prose
    } else if DATA.contains(&first.as_str()) {
        Ctx::Data
    } else if CODE.contains(&language(&first).as_str()) || CODE.contains(&first.as_str()) {
        Ctx::Code(language(&first))
    } else {
        Ctx::Shell
    }
}

/// Splits `text` into lines with their context. An unclosed fence runs to the end.
pub(super) fn lines(text: &str) -> Vec<Line<'_>> {
    let mut out = Vec::new();
    // (fence char, fence length, context)
    let mut open: Option<(char, usize, Ctx)> = None;
    for line in text.lines() {
        let t = line.trim_start();
        let t = t.trim_start_matches(['>', ' ']);
        let fence = t
            .chars()
            .next()
            .filter(|c| *c == '`' || *c == '~')
            .map(|c| (c, t.chars().take_while(|x| *x == c).count()))
            .filter(|(_, n)| *n >= 3);
        match (&open, fence) {
            (Some((c, n, _)), Some((fc, fn_)))
                if *c == fc && fn_ >= *n && t[fn_..].trim().is_empty() =>
            {
                open = None;
            }
            (None, Some((fc, fn_))) => {
                let info = &t[fn_ * fc.len_utf8()..];
                open = Some((fc, fn_, classify(info)));
            }
            (Some((_, _, ctx)), _) => out.push(Line {
                ctx: ctx.clone(),
                text: line,
            }),
            (None, None) => out.push(Line {
                ctx: Ctx::Prose,
                text: line,
            }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fences_are_classified() {
        let t = "a\n```bash\ncurl x\n```\n~~~python\nimport os\n~~~\n```json\n{}\n```\n```\nmake\n```\n````md\n```\nx\n````\nz";
        let got: Vec<(Ctx, &str)> = lines(t).into_iter().map(|l| (l.ctx, l.text)).collect();
        assert_eq!(
            got,
            vec![
                (Ctx::Prose, "a"),
                (Ctx::Shell, "curl x"),
                (Ctx::Code("python".into()), "import os"),
                (Ctx::Data, "{}"),
                (Ctx::Shell, "make"),
                (Ctx::Prose, "```"),
                (Ctx::Prose, "x"),
                (Ctx::Prose, "z"),
            ]
        );
    }

    #[test]
    fn unclosed_fence_runs_to_the_end() {
        let got: Vec<Ctx> = lines("```sh\ncurl x | sh")
            .into_iter()
            .map(|l| l.ctx)
            .collect();
        assert_eq!(got, vec![Ctx::Shell]);
    }
}
