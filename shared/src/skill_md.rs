//! SKILL.md: `---` YAML frontmatter, then a markdown body.
//!
//! skillopt never re-serialises a user's YAML: it works on frontmatter lines so every key it does
//! not own stays byte-identical. Top-level keys are lines that start without indentation
//! (`key: value`); a key's value continues on the following indented lines. The keys skillopt
//! owns are `name` (set to the install directory name) and `metadata.skillopt-version`.

/// The metadata key that carries the installed registry version.
pub const VERSION_KEY: &str = "skillopt-version";

/// The largest SKILL.md skillopt publishes or installs (256 KiB). `push` refuses a bigger file
/// and `pull` skips a bigger registry row.
pub const MAX_SKILL_MD_BYTES: usize = 256 * 1024;

/// Why a text is not a usable SKILL.md.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SkillMdError {
    #[error("SKILL.md has no frontmatter (it must start with a '---' line)")]
    NoFrontmatter,
    #[error("SKILL.md frontmatter is not closed by a '---' line")]
    Unclosed,
    #[error("SKILL.md frontmatter has no non-empty `{0}`")]
    Missing(&'static str),
    #[error("SKILL.md frontmatter line {0} is not `key: value`")]
    BadLine(usize),
    #[error("SKILL.md is {0} bytes; the limit is {MAX_SKILL_MD_BYTES} bytes (256 KiB)")]
    TooLarge(usize),
    #[error("SKILL.md frontmatter is not valid YAML: {0}")]
    BadYaml(String),
    #[error("SKILL.md frontmatter key `{0}` is not accepted: {1}")]
    ForbiddenKey(String, &'static str),
    #[error("SKILL.md {0} holds the control or invisible character {1}")]
    ForbiddenChar(&'static str, String),
    #[error("SKILL.md frontmatter `name` is not the install name {0:?} after rendering")]
    NameMismatch(String),
}

/// A parsed SKILL.md.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkillMd {
    /// Frontmatter lines, without the `---` fences.
    pub frontmatter: Vec<String>,
    /// Everything after the closing fence line.
    pub body: String,
}

impl SkillMd {
    /// Parses and validates (`name` and `description` present and non-empty).
    pub fn parse(text: &str) -> Result<Self, SkillMdError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut lines = text.split_inclusive('\n');
        let first = lines.next().ok_or(SkillMdError::NoFrontmatter)?;
        if first.trim_end() != "---" {
            return Err(SkillMdError::NoFrontmatter);
        }
        let mut consumed = first.len();
        let mut frontmatter = Vec::new();
        let mut closed = false;
        for line in lines {
            consumed += line.len();
            let l = line.trim_end_matches(['\n', '\r']);
            if l.trim_end() == "---" {
                closed = true;
                break;
            }
            frontmatter.push(l.to_string());
        }
        if !closed {
            return Err(SkillMdError::Unclosed);
        }
        for (i, l) in frontmatter.iter().enumerate() {
            let top = !l.starts_with([' ', '\t']) && !l.trim().is_empty() && !l.starts_with('#');
            if top && !l.starts_with('-') && !l.contains(':') {
                return Err(SkillMdError::BadLine(i + 2));
            }
        }
        let doc = Self {
            frontmatter,
            body: text[consumed..].to_string(),
        };
        for key in ["name", "description"] {
            if doc.field(key).map(|v| v.trim().is_empty()).unwrap_or(true) {
                return Err(SkillMdError::Missing(key));
            }
        }
        Ok(doc)
    }

    /// Parses text that came from outside (a registry row, a file being published) and holds it
    /// to what every agent loads the same way: at most [`MAX_SKILL_MD_BYTES`], no control
    /// characters (tab, CR and LF aside) or bidi controls anywhere, no invisible or line-separator
    /// characters in the frontmatter, and a frontmatter that is exactly one valid YAML mapping
    /// with unique keys and no anchors or aliases (see [`check_frontmatter_yaml`]).
    pub fn parse_untrusted(text: &str) -> Result<Self, SkillMdError> {
        if text.len() > MAX_SKILL_MD_BYTES {
            return Err(SkillMdError::TooLarge(text.len()));
        }
        if let Some(c) = text.chars().find(|&c| forbidden_in_body(c)) {
            return Err(SkillMdError::ForbiddenChar("text", escape_char(c)));
        }
        let doc = Self::parse(text)?;
        for l in &doc.frontmatter {
            if let Some(c) = l.chars().find(|&c| forbidden_in_frontmatter(c)) {
                return Err(SkillMdError::ForbiddenChar("frontmatter", escape_char(c)));
            }
        }
        check_frontmatter_yaml(&doc.frontmatter.join("\n"))?;
        Ok(doc)
    }

    /// Index of the top-level key's line.
    fn key_line(&self, key: &str) -> Option<usize> {
        self.frontmatter
            .iter()
            .position(|l| top_key(l) == Some(key))
    }

    /// Lines of a top-level key's value block (the key line excluded).
    fn block_end(&self, start: usize) -> usize {
        let mut end = start + 1;
        while end < self.frontmatter.len() {
            let l = &self.frontmatter[end];
            if l.trim().is_empty() || l.starts_with([' ', '\t']) {
                end += 1;
            } else {
                break;
            }
        }
        end
    }

    /// A top-level scalar: inline value (quotes removed) or the folded continuation lines.
    pub fn field(&self, key: &str) -> Option<String> {
        let i = self.key_line(key)?;
        let line = &self.frontmatter[i];
        let inline = line[line.find(':')? + 1..].trim();
        let inline = inline.split(" #").next().unwrap_or("").trim();
        if !inline.is_empty() && !matches!(inline, "|" | ">" | "|-" | ">-" | "|+" | ">+") {
            return Some(unquote(inline));
        }
        let end = self.block_end(i);
        let joined: Vec<&str> = self.frontmatter[i + 1..end]
            .iter()
            .map(|l| l.trim())
            .filter(|l| !l.is_empty())
            .collect();
        Some(joined.join(" "))
    }

    /// `metadata.<key>` (one level of nesting).
    pub fn metadata(&self, key: &str) -> Option<String> {
        let i = self.key_line("metadata")?;
        let end = self.block_end(i);
        self.frontmatter[i + 1..end].iter().find_map(|l| {
            let t = l.trim_start();
            let (k, v) = t.split_once(':')?;
            (unquote(k.trim()) == key).then(|| unquote(v.trim()))
        })
    }

    /// The installed registry version, if this file carries one.
    pub fn version(&self) -> Option<u32> {
        self.metadata(VERSION_KEY)?.parse().ok()
    }

    /// Sets the top-level `name`.
    pub fn set_name(&mut self, name: &str) {
        let line = format!("name: {name}");
        match self.key_line("name") {
            Some(i) => {
                let end = self.block_end(i);
                self.frontmatter.splice(i..end, [line]);
            }
            None => self.frontmatter.insert(0, line),
        }
    }

    /// Sets `metadata.skillopt-version`, creating `metadata:` if needed.
    pub fn set_version(&mut self, version: u32) {
        self.remove_version();
        let entry = format!("  {VERSION_KEY}: \"{version}\"");
        match self.key_line("metadata") {
            Some(i) => {
                let inline = self.frontmatter[i]
                    .split_once(':')
                    .map(|(_, v)| v.trim().to_string())
                    .unwrap_or_default();
                if inline.is_empty() {
                    self.frontmatter.insert(i + 1, entry);
                } else {
                    // Flow map (`metadata: {a: b}`) or scalar: leave it, add a block of our own.
                    self.frontmatter
                        .push(format!("# skillopt: {VERSION_KEY} {version}"));
                }
            }
            None => {
                self.frontmatter.push("metadata:".to_string());
                self.frontmatter.push(entry);
            }
        }
    }

    /// Drops `metadata.skillopt-version` (and an empty `metadata:` left behind).
    pub fn remove_version(&mut self) {
        let marker = format!("# skillopt: {VERSION_KEY}");
        self.frontmatter.retain(|l| {
            let t = l.trim_start();
            let nested_key =
                l.starts_with([' ', '\t']) && t.starts_with(VERSION_KEY) && t.contains(':');
            !nested_key && !l.starts_with(&marker)
        });
        if let Some(i) = self.key_line("metadata") {
            let inline_empty = self.frontmatter[i]
                .split_once(':')
                .map(|(_, v)| v.trim().is_empty())
                .unwrap_or(true);
            if inline_empty && self.block_end(i) == i + 1 {
                self.frontmatter.remove(i);
            }
        }
    }

    /// Frontmatter text with the version metadata removed: what the gate compares.
    pub fn frontmatter_without_version(&self) -> String {
        let mut c = self.clone();
        c.remove_version();
        c.frontmatter.join("\n")
    }

    /// Renders back to text.
    pub fn render(&self) -> String {
        let mut out = String::from("---\n");
        for l in &self.frontmatter {
            out.push_str(l);
            out.push('\n');
        }
        out.push_str("---\n");
        out.push_str(&self.body);
        out
    }
}

fn top_key(line: &str) -> Option<&str> {
    if line.starts_with([' ', '\t', '#', '-']) {
        return None;
    }
    let (k, _) = line.split_once(':')?;
    Some(k.trim().trim_matches(['"', '\'']))
}

fn unquote(v: &str) -> String {
    let v = v.trim();
    if v.len() >= 2
        && ((v.starts_with('"') && v.ends_with('"')) || (v.starts_with('\'') && v.ends_with('\'')))
    {
        v[1..v.len() - 1].to_string()
    } else {
        v.to_string()
    }
}

/// A character no SKILL.md may hold anywhere: control characters other than tab, CR and LF
/// (NUL, terminal escapes, C1 controls) and the bidi embedding, override and isolate controls
/// that make text read differently from how it is stored.
fn forbidden_in_body(c: char) -> bool {
    (c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// A character a frontmatter line may not hold: any control character but tab (a lone CR is a
/// line break to some YAML parsers and not to others), the bidi controls, zero-width and other
/// invisible format characters, and the Unicode line/paragraph separators.
fn forbidden_in_frontmatter(c: char) -> bool {
    (c.is_control() && c != '\t')
        || matches!(
            c,
            '\u{00ad}'
                | '\u{061c}'
                | '\u{180e}'
                | '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{206f}'
                | '\u{feff}'
                | '\u{fff9}'..='\u{fffb}'
                | '\u{e0000}'..='\u{e007f}'
        )
}

fn escape_char(c: char) -> String {
    format!("U+{:04X}", c as u32)
}

/// Top-level frontmatter keys a registry skill may not carry: Claude Code runs a skill's own
/// `hooks` as shell commands whenever the skill is active, so anyone who can write to the
/// registry would run code on every machine without a model or the gate in between.
pub const FORBIDDEN_KEYS: &[&str] = &["hooks"];

/// Checks that `frontmatter` (the text between the fences) is one valid YAML document whose
/// root is a mapping with unique keys, without anchors or aliases (an alias bomb expands
/// exponentially; no SKILL.md needs one), and without a [`FORBIDDEN_KEYS`] key.
pub fn check_frontmatter_yaml(frontmatter: &str) -> Result<(), SkillMdError> {
    use yaml_rust2::parser::{Event, Parser};
    let bad = |m: String| SkillMdError::BadYaml(m);
    let mut parser = Parser::new(frontmatter.chars());
    let mut docs = 0usize;
    let mut depth = 0usize;
    let mut root_is_map = false;
    loop {
        let (event, _) = parser.next_token().map_err(|e| bad(e.to_string()))?;
        match event {
            Event::StreamEnd => break,
            Event::DocumentStart => docs += 1,
            Event::Alias(_) => return Err(bad("anchors and aliases are not accepted".into())),
            Event::Scalar(_, _, anchor, _)
            | Event::SequenceStart(anchor, _)
            | Event::MappingStart(anchor, _)
                if anchor > 0 =>
            {
                return Err(bad("anchors and aliases are not accepted".into()))
            }
            Event::MappingStart(..) => {
                if depth == 0 {
                    root_is_map = true;
                }
                depth += 1;
            }
            Event::SequenceStart(..) => depth += 1,
            Event::MappingEnd | Event::SequenceEnd => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    if docs != 1 {
        return Err(bad(format!("{docs} YAML documents; expected one")));
    }
    if !root_is_map {
        return Err(bad("the frontmatter is not a `key: value` mapping".into()));
    }
    // No aliases, so loading cannot blow up; this catches duplicate keys at any depth.
    let docs =
        yaml_rust2::YamlLoader::load_from_str(frontmatter).map_err(|e| bad(e.to_string()))?;
    if let Some(map) = docs.first().and_then(|d| d.as_hash()) {
        for key in map.keys().filter_map(|k| k.as_str()) {
            if FORBIDDEN_KEYS
                .iter()
                .any(|f| key.trim().eq_ignore_ascii_case(f))
            {
                return Err(SkillMdError::ForbiddenKey(
                    key.to_string(),
                    "skill-scoped hooks run commands on every machine that installs the skill, with no model and no review in the loop",
                ));
            }
        }
    }
    Ok(())
}

/// The top-level `name` of a frontmatter as a YAML parser sees it.
pub fn yaml_name(frontmatter: &str) -> Option<String> {
    let docs = yaml_rust2::YamlLoader::load_from_str(frontmatter).ok()?;
    docs.first()?["name"].as_str().map(str::to_string)
}

/// The copy of a registry body that gets installed: `name` = the directory name, the version in
/// metadata.
///
/// The body is untrusted: it is held to [`SkillMd::parse_untrusted`], and the rendered copy is
/// checked again, so whatever the row holds, the installed frontmatter is one YAML mapping whose
/// `name` is exactly `dir_name` (a second `name`, however spelled, is a duplicate key and
/// refused). Text after the closing `---` is markdown and stays as it is: agents read only the
/// leading frontmatter, so a `---` block further down is not a second frontmatter.
pub fn render_installed(body: &str, dir_name: &str, version: u32) -> Result<String, SkillMdError> {
    let mut doc = SkillMd::parse_untrusted(body)?;
    doc.set_name(dir_name);
    doc.set_version(version);
    let text = doc.render();
    let again = SkillMd::parse(&text)?;
    let fm = again.frontmatter.join("\n");
    check_frontmatter_yaml(&fm)?;
    if again.field("name").as_deref() != Some(dir_name)
        || yaml_name(&fm).as_deref() != Some(dir_name)
    {
        return Err(SkillMdError::NameMismatch(dir_name.to_string()));
    }
    Ok(text)
}

/// The canonical registry body of a local SKILL.md: `name` = the bare skill name, no version
/// metadata. Pushing an installed copy back therefore compares equal to its registry version.
pub fn canonical_body(text: &str, bare_name: &str) -> Result<String, SkillMdError> {
    let mut doc = SkillMd::parse(text)?;
    doc.set_name(bare_name);
    doc.remove_version();
    Ok(doc.render())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "---\nname: deploy-checklist\ndescription: >\n  Steps to deploy\n  safely.\nlicense: MIT\n---\n# Deploy\n\n1. test\n";

    #[test]
    fn parses_fields() {
        let d = SkillMd::parse(DOC).unwrap();
        assert_eq!(d.field("name").unwrap(), "deploy-checklist");
        assert_eq!(d.field("description").unwrap(), "Steps to deploy safely.");
        assert_eq!(d.body, "# Deploy\n\n1. test\n");
        assert_eq!(d.render(), DOC);
    }

    #[test]
    fn missing_fields_are_errors() {
        assert_eq!(
            SkillMd::parse("# no fm\n").unwrap_err(),
            SkillMdError::NoFrontmatter
        );
        assert_eq!(
            SkillMd::parse("---\nname: x\n").unwrap_err(),
            SkillMdError::Unclosed
        );
        assert_eq!(
            SkillMd::parse("---\nname: x\n---\nbody").unwrap_err(),
            SkillMdError::Missing("description")
        );
        assert_eq!(
            SkillMd::parse("---\nname: \"\"\ndescription: d\n---\n").unwrap_err(),
            SkillMdError::Missing("name")
        );
    }

    #[test]
    fn installed_round_trip() {
        let inst = render_installed(DOC, "deploy-checklist--alice", 7).unwrap();
        let d = SkillMd::parse(&inst).unwrap();
        assert_eq!(d.field("name").unwrap(), "deploy-checklist--alice");
        assert_eq!(d.version(), Some(7));
        assert!(d.body.ends_with("1. test\n"));
        assert_eq!(canonical_body(&inst, "deploy-checklist").unwrap(), DOC);
    }

    #[test]
    fn keeps_existing_metadata() {
        let src = "---\nname: a\ndescription: d\nmetadata:\n  short-description: x\n---\nB\n";
        let inst = render_installed(src, "a--b", 2).unwrap();
        let d = SkillMd::parse(&inst).unwrap();
        assert_eq!(d.metadata("short-description").unwrap(), "x");
        assert_eq!(d.version(), Some(2));
        assert_eq!(canonical_body(&inst, "a").unwrap(), src);
    }

    #[test]
    fn fixture_skills_parse() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/skills");
        let Ok(entries) = std::fs::read_dir(&dir) else {
            eprintln!("skipped: ../shared/fixtures not present");
            return;
        };
        for e in entries.flatten() {
            let text = std::fs::read_to_string(e.path().join("SKILL.md")).unwrap();
            let d = SkillMd::parse(&text).unwrap_or_else(|err| panic!("{:?}: {err}", e.path()));
            let inst = render_installed(&text, "x--y", 3).unwrap();
            let back = SkillMd::parse(&inst).unwrap();
            assert_eq!(back.version(), Some(3));
            assert_eq!(back.body, d.body);
        }
    }

    /// The frontmatter of an installed copy, as a YAML parser sees it.
    fn installed_yaml(text: &str) -> yaml_rust2::Yaml {
        let d = SkillMd::parse(text).unwrap();
        let mut docs = yaml_rust2::YamlLoader::load_from_str(&d.frontmatter.join("\n")).unwrap();
        assert_eq!(docs.len(), 1, "{text}");
        docs.remove(0)
    }

    #[test]
    fn a_body_cannot_override_the_installed_name() {
        let evil = [
            "---\nname: a\ndescription: d\nname: evil\n---\nB\n",
            "---\nname: a\ndescription: d\n\"name\": evil\n---\nB\n",
            "---\nname: a\ndescription: d\n\"na\\x6de\": evil\n---\nB\n",
            "---\nname: a\ndescription: d\n? name\n: evil\n---\nB\n",
            "---\nname: a\ndescription: d\rname: evil\n---\nB\n",
            "---\nname: a\ndescription: d\u{2028}name: evil\n---\nB\n",
            "---\nname: a\ndescription: d\u{85}name: evil\n---\nB\n",
            "---\nname: a\ndescription: d\n...\nname: evil\n---\nB\n",
            "---\nname: a\ndescription: d\n--- \nname: evil\n---\nB\n",
            "---\n{name: evil,\n name: a, description: d}\n---\nB\n",
            "---\nname: a\ndescription: d\nx: &a [1,1]\ny: *a\n---\nB\n",
            "---\nname: a\ndescription: d\u{202e}lve\n---\nB\n",
            "---\nname: a\ndescription: d\0\n---\nB\n",
            "---\nname: a\ndescription: d\n\tname: evil\n---\nB\n",
            "---\nname: a\ndescription: d\nmetadata:\n  x: 1\n  x: 2\n---\nB\n",
            "- name: evil\n---\nname: a\ndescription: d\n---\n",
            "---\n- name: evil\n- description: d\n---\nB\n",
        ];
        for body in evil {
            match render_installed(body, "a--b", 3) {
                Err(_) => {}
                Ok(text) => {
                    let y = installed_yaml(&text);
                    assert_eq!(y["name"].as_str(), Some("a--b"), "{body:?} -> {text}");
                }
            }
        }
        // A body whose markdown holds a frontmatter-like block keeps it as markdown: agents read
        // only the leading frontmatter, and that one is ours.
        let body = "---\nname: a\ndescription: d\n---\n---\nname: evil\ndescription: x\n---\nB\n";
        let text = render_installed(body, "a--b", 3).unwrap();
        assert!(text.starts_with("---\nname: a--b\n"), "{text}");
        assert_eq!(installed_yaml(&text)["name"].as_str(), Some("a--b"));
        assert!(text.ends_with("---\nname: evil\ndescription: x\n---\nB\n"));
    }

    #[test]
    fn skill_scoped_hooks_are_refused() {
        for fm in ["hooks:\n  PreToolUse: []", "Hooks: {}", "\"hooks\": x"] {
            let text = format!("---\nname: a\ndescription: d\n{fm}\n---\nbody\n");
            assert!(
                matches!(
                    SkillMd::parse_untrusted(&text),
                    Err(SkillMdError::ForbiddenKey(..))
                ),
                "{fm:?}"
            );
        }
        let ok = "---\nname: a\ndescription: d\nmetadata:\n  hooks: documented\n---\nbody\n";
        assert!(SkillMd::parse_untrusted(ok).is_ok());
    }

    #[test]
    fn untrusted_text_limits() {
        let big = format!(
            "---\nname: a\ndescription: d\n---\n{}",
            "x".repeat(MAX_SKILL_MD_BYTES)
        );
        let err = SkillMd::parse_untrusted(&big).unwrap_err();
        assert!(matches!(err, SkillMdError::TooLarge(_)));
        assert!(err.to_string().contains("262144"), "{err}");
        let ok = format!("---\nname: a\ndescription: d\n---\n{}", "x".repeat(1000));
        SkillMd::parse_untrusted(&ok).unwrap();
        // An alias bomb is refused before anything expands it.
        let mut bomb =
            String::from("---\nname: a\ndescription: d\na0: &a0 [x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            bomb.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        bomb.push_str("---\nB\n");
        assert!(matches!(
            SkillMd::parse_untrusted(&bomb).unwrap_err(),
            SkillMdError::BadYaml(_)
        ));
        // Ordinary YAML still passes: quoted and folded values, lists, flow maps, CRLF.
        for good in [
            DOC,
            "---\nname: 'a'\ndescription: \"d: e\"\nallowed-tools:\n  - Bash\n  - Read\n---\nB\n",
            "---\r\nname: a\r\ndescription: d\r\nmetadata: {a: b}\r\n---\r\nB\r\n",
            "---\nname: a\ndescription: |\n  line one\n  ---\n  line two\n---\nB \u{200d} \u{200f} é\n",
        ] {
            SkillMd::parse_untrusted(good).unwrap_or_else(|e| panic!("{good:?}: {e}"));
            let inst = render_installed(good, "a--b", 1).unwrap();
            assert_eq!(installed_yaml(&inst)["name"].as_str(), Some("a--b"));
        }
    }

    proptest::proptest! {
        /// Whatever a registry row holds, the installed copy either is refused or has exactly one
        /// frontmatter, one `name`, and that `name` is the install directory.
        #[test]
        fn rendered_name_is_always_the_dir_name(
            parts in proptest::collection::vec(proptest::sample::select(vec![
                "---\n", "name: evil\n", "name: a\n", "description: d\n", "\"name\": x\n",
                "? name\n", ": evil\n", "  name: y\n", "\tname: z\n", "...\n", "--- \n",
                "metadata:\n", "  skillopt-version: \"9\"\n", "# skillopt: skillopt-version 9\n",
                "{name: e}\n", "- name: e\n", "&x a\n", "*x\n", "\r", "\u{2028}", "\u{85}",
                "\u{202e}", "\u{200b}", "\0", "\u{1b}[2J", "../../etc/passwd\n", "/abs\n",
                "Ünïcødé\n", "NAME: Up\n", "name: |\n", "  folded\n", "|\n", "'\n", "\"\n",
                "body text\n", "\n",
            ]), 0..24),
            framed in proptest::bool::ANY,
        ) {
            // Half the cases sit inside a valid frame, so many of them render.
            let body = if framed {
                format!("---\nname: a\ndescription: d\n{}---\n{}", parts.concat(), parts.concat())
            } else {
                parts.concat()
            };
            if let Ok(text) = render_installed(&body, "a--b", 4) {
                let d = SkillMd::parse(&text).unwrap();
                let name = d.field("name");
                proptest::prop_assert_eq!(name.as_deref(), Some("a--b"));
                let fm = d.frontmatter.join("\n");
                let docs = yaml_rust2::YamlLoader::load_from_str(&fm).unwrap();
                proptest::prop_assert_eq!(docs.len(), 1);
                proptest::prop_assert_eq!(docs[0]["name"].as_str(), Some("a--b"));
                proptest::prop_assert_eq!(
                    d.frontmatter.iter().filter(|l| top_key(l) == Some("name")).count(),
                    1
                );
                proptest::prop_assert!(!fm.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\n')));
            }
        }
    }
}
