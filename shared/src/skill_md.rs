//! SKILL.md: `---` YAML frontmatter, then a markdown body.
//!
//! skillopt never re-serialises a user's YAML: it works on frontmatter lines so every key it does
//! not own stays byte-identical. Top-level keys are lines that start without indentation
//! (`key: value`); a key's value continues on the following indented lines. The keys skillopt
//! owns are `name` (set to the install directory name) and `metadata.skillopt-version`.

/// The metadata key that carries the installed registry version.
pub const VERSION_KEY: &str = "skillopt-version";

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

/// The copy of a registry body that gets installed: `name` = the directory name, the version in
/// metadata.
pub fn render_installed(body: &str, dir_name: &str, version: u32) -> Result<String, SkillMdError> {
    let mut doc = SkillMd::parse(body)?;
    doc.set_name(dir_name);
    doc.set_version(version);
    Ok(doc.render())
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
}
