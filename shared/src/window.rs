//! Judgment windows: the slice of a transcript a judge sees.
//!
//! The invocation is located by tool_use_id (pinned at PreToolUse), else the latest use of the
//! skill. The window is up to 3 user turns before it, the invocation, everything after it
//! (assistant text; tool calls and results cut to ~500 chars; errors flagged), then the user's
//! reaction. The transcript may already hold the reaction itself (Codex writes the prompt before
//! the hook runs; the worker runs later still) and the agent's answer to it: the window stops at
//! that turn, so the reaction appears once, last. It is held to a ~12k char budget: the part before the invocation keeps its tail, the
//! part after keeps its head and its tail with the middle elided. Lines of the other thread
//! (subagent sidechains vs the main thread) are left out. Secrets are redacted. The transcript
//! is streamed twice; memory is bounded by the window, not the file.
//!
//! A transcript is read only when it is a regular file (after symlinks) of at most
//! [`MAX_TRANSCRIPT_BYTES`]; `/dev/zero`, a FIFO, a socket or a directory is refused before it is
//! opened, so a hostile `transcript_path` ends the job `unclear` at once instead of hanging it.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufReader, Read, Take};
use std::path::Path;

use crate::config::MAX_REACTION_CHARS;
use crate::redact::redact;
use crate::text::take_chars;
use crate::transcript::{parse_line, Event, LineReader, SkillUse, MAX_LINE_BYTES};

/// Total window budget in chars (reaction included).
pub const WINDOW_BUDGET: usize = 12_000;
/// Tool inputs and outputs are cut to this many chars.
pub const TOOL_CUT: usize = 500;
/// User and assistant text is cut to this many chars per message.
pub const TEXT_CUT: usize = 1_500;
/// The reaction is cut to this many chars inside the window.
pub const REACTION_CUT: usize = 2_000;
/// User turns kept before the invocation.
pub const TURNS_BEFORE: usize = 3;
/// Largest transcript read (256 MiB). Long real sessions stay in the tens of MiB; the window
/// needs only a few lines of them, and streaming twice this much still takes seconds, not
/// minutes. Larger files are refused; reads stop here even if the file grows meanwhile.
pub const MAX_TRANSCRIPT_BYTES: u64 = 256 * 1024 * 1024;

/// Which invocation to judge.
#[derive(Debug, Clone)]
pub struct Target {
    /// Pinned tool_use_id; falls back to `skill` when it is not found.
    pub tool_use_id: Option<String>,
    /// Skill name as invoked (`deploy--alice`); `None` only with a tool_use_id.
    pub skill: Option<String>,
    /// The reaction is the Nth user prompt after the use (1 = the first); `None` when unknown.
    /// Tells a reaction from an identical earlier prompt ("continue", "still wrong").
    pub reaction_turn: Option<u32>,
}

/// Why no window could be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WindowError {
    #[error("cannot read transcript {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("no use of {0} found in the transcript")]
    NotFound(String),
    /// The path is not a regular file (a device, a FIFO, a socket, a directory).
    #[error("transcript {path} is not a regular file ({kind})")]
    NotAFile { path: String, kind: String },
    #[error("transcript {path} is {size} bytes, over the {cap}-byte cap")]
    TooLarge { path: String, size: u64, cap: u64 },
}

/// A built window.
#[derive(Debug, Clone)]
pub struct Window {
    pub text: String,
    pub invocation: SkillUse,
    pub elided_chars: usize,
}

fn cut(s: &str, max: usize) -> String {
    let s = s.trim();
    if s.chars().count() <= max {
        s.to_string()
    } else {
        format!(
            "{}… [{} chars cut]",
            take_chars(s, max),
            s.chars().count() - max
        )
    }
}

/// One event as window text.
pub fn render_event(e: &Event) -> String {
    match e {
        Event::User(t) => format!("[user] {}\n", cut(t, TEXT_CUT)),
        Event::Assistant(t) => format!("[assistant] {}\n", cut(t, TEXT_CUT)),
        Event::ToolCall { name, input, .. } => {
            format!("[tool call {name}] {}\n", cut(input, TOOL_CUT))
        }
        Event::ToolResult {
            output, is_error, ..
        } => {
            let tag = if *is_error {
                "tool ERROR"
            } else {
                "tool result"
            };
            format!("[{tag}] {}\n", cut(output, TOOL_CUT))
        }
        Event::SkillLoaded { skill, chars } => {
            format!("[skill {skill} loaded into context: {chars} chars, shown separately]\n")
        }
    }
}

fn matches_skill(u: &SkillUse, skill: &str) -> bool {
    u.skill == skill || u.skill.eq_ignore_ascii_case(skill)
}

fn file_kind(m: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = m.file_type();
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a file"
    }
}

/// Checks that `m` is a regular file within the cap.
fn check_regular(path: &Path, m: &std::fs::Metadata) -> Result<(), WindowError> {
    if !m.is_file() {
        return Err(WindowError::NotAFile {
            path: path.display().to_string(),
            kind: file_kind(m).into(),
        });
    }
    if m.len() > MAX_TRANSCRIPT_BYTES {
        return Err(WindowError::TooLarge {
            path: path.display().to_string(),
            size: m.len(),
            cap: MAX_TRANSCRIPT_BYTES,
        });
    }
    Ok(())
}

fn open(path: &Path) -> Result<LineReader<BufReader<Take<File>>>, WindowError> {
    // Checked before opening: opening a FIFO with no writer blocks forever.
    check_regular(path, &std::fs::metadata(path).map_err(io(path))?)?;
    let f = File::open(path).map_err(io(path))?;
    // And again on what was opened, in case the path changed in between.
    check_regular(path, &f.metadata().map_err(io(path))?)?;
    Ok(LineReader::new(
        BufReader::with_capacity(1 << 16, f.take(MAX_TRANSCRIPT_BYTES)),
        MAX_LINE_BYTES,
    ))
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> WindowError + '_ {
    move |source| WindowError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Pass 1: the invocation and the line the window starts at.
fn locate(path: &Path, target: &Target) -> Result<(SkillUse, usize), WindowError> {
    let mut reader = open(path)?;
    let mut pinned: Option<SkillUse> = None;
    let mut latest: Option<SkillUse> = None;
    // User-turn line numbers per thread (main, sidechain): bounded by the number of prompts.
    let mut turns: [Vec<usize>; 2] = [Vec::new(), Vec::new()];
    while let Some((lineno, line)) = reader.next_line().map_err(io(path))? {
        let Some(rec) = line.and_then(|l| parse_line(&l)) else {
            continue;
        };
        if rec.is_user_turn() {
            turns[usize::from(rec.sidechain)].push(lineno);
        }
        for f in &rec.uses {
            let u = SkillUse {
                skill: f.skill.clone(),
                tool_use_id: f.tool_use_id.clone(),
                kind: f.kind,
                timestamp: rec.timestamp.clone(),
                sidechain: rec.sidechain,
                failed: false,
                line: lineno,
            };
            if target.tool_use_id.is_some() && u.tool_use_id == target.tool_use_id {
                pinned = Some(u.clone());
            }
            if target
                .skill
                .as_deref()
                .is_some_and(|s| matches_skill(&u, s))
            {
                latest = Some(u);
            }
        }
    }
    let invocation = pinned.or(latest).ok_or_else(|| {
        WindowError::NotFound(
            target
                .skill
                .clone()
                .or_else(|| target.tool_use_id.clone())
                .unwrap_or_default(),
        )
    })?;
    let thread = &turns[usize::from(invocation.sidechain)];
    let before: Vec<usize> = thread
        .iter()
        .copied()
        .filter(|&l| l < invocation.line)
        .collect();
    let start = before
        .len()
        .checked_sub(TURNS_BEFORE)
        .map(|i| before[i])
        .or_else(|| before.first().copied())
        .unwrap_or(invocation.line);
    Ok((invocation, start))
}

/// A bounded run of text pieces that keeps its tail.
#[derive(Default)]
struct Tail {
    pieces: VecDeque<String>,
    chars: usize,
    elided: usize,
}

impl Tail {
    fn push(&mut self, piece: String, budget: usize) {
        self.chars += piece.chars().count();
        self.pieces.push_back(piece);
        while self.chars > budget && self.pieces.len() > 1 {
            if let Some(p) = self.pieces.pop_front() {
                let n = p.chars().count();
                self.chars -= n;
                self.elided += n;
            }
        }
    }
}

/// True when a user turn of the transcript has the reaction's text (a queued reaction was cut to
/// [`MAX_REACTION_CHARS`] when the prompt was longer: then it is a prefix).
fn is_reaction(rec: &crate::transcript::Record, reaction: &str) -> bool {
    let was_cut = reaction.chars().count() >= MAX_REACTION_CHARS;
    rec.events.iter().any(|e| match e {
        Event::User(t) => {
            let t = t.trim();
            t == reaction || (was_cut && t.starts_with(reaction))
        }
        _ => false,
    })
}

/// Builds the window for `target` in the transcript at `path`.
pub fn build(path: &Path, target: &Target, reaction: Option<&str>) -> Result<Window, WindowError> {
    let (invocation, start) = locate(path, target)?;
    let reaction_key = reaction.map(str::trim).filter(|r| !r.is_empty());
    // User turns seen after the use; the reaction is the first with its text at or after
    // `reaction_turn` (an identical earlier prompt is not it).
    let first_possible = target.reaction_turn.unwrap_or(1).max(1);
    let mut user_turns_after = 0u32;
    let reaction_text = reaction
        .map(|r| format!("\n[user reaction] {}\n", cut(r, REACTION_CUT)))
        .unwrap_or_default();
    let budget = WINDOW_BUDGET.saturating_sub(reaction_text.chars().count() + 400);
    let before_budget = budget * 3 / 10;
    let head_budget = (budget - before_budget) / 2;
    let tail_budget = budget - before_budget - head_budget;

    let mut before = Tail::default();
    let mut marker = String::new();
    let mut head = String::new();
    let mut head_chars = 0usize;
    let mut tail = Tail::default();
    let mut reader = open(path)?;
    while let Some((lineno, line)) = reader.next_line().map_err(io(path))? {
        if lineno < start {
            continue;
        }
        let Some(rec) = line.and_then(|l| parse_line(&l)) else {
            continue;
        };
        if rec.sidechain != invocation.sidechain {
            continue;
        }
        let rendered: String = rec.events.iter().map(render_event).collect();
        if lineno < invocation.line {
            before.push(rendered, before_budget);
        } else if lineno == invocation.line {
            marker = format!(
                ">>> SKILL USE: {} ({:?}{}) <<<\n{rendered}",
                invocation.skill,
                invocation.kind,
                invocation
                    .tool_use_id
                    .as_deref()
                    .map(|id| format!(", tool_use_id {id}"))
                    .unwrap_or_default()
            );
        } else {
            if rec.is_user_turn() {
                user_turns_after += 1;
                if user_turns_after >= first_possible
                    && reaction_key.is_some_and(|r| is_reaction(&rec, r))
                {
                    break;
                }
            }
            let n = rendered.chars().count();
            if head_chars + n <= head_budget && tail.pieces.is_empty() {
                head_chars += n;
                head.push_str(&rendered);
            } else {
                tail.push(rendered, tail_budget);
            }
        }
    }
    let mut text = String::new();
    if before.elided > 0 {
        text.push_str(&format!("[… {} earlier chars elided …]\n", before.elided));
    }
    text.extend(before.pieces);
    text.push_str(&marker);
    text.push_str(&head);
    if tail.elided > 0 {
        text.push_str(&format!("[… {} chars elided …]\n", tail.elided));
    }
    text.extend(tail.pieces);
    text.push_str(&reaction_text);
    Ok(Window {
        text: redact(&text).into_owned(),
        elided_chars: before.elided + tail.elided,
        invocation,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn user(t: &str) -> String {
        serde_json::json!({"type":"user","message":{"role":"user","content":t}}).to_string()
    }
    fn skill(id: &str, name: &str) -> String {
        serde_json::json!({"type":"assistant","message":{"content":[{"type":"tool_use","id":id,"name":"Skill","input":{"skill":name}}]}}).to_string()
    }
    fn says(t: &str) -> String {
        serde_json::json!({"type":"assistant","message":{"content":[{"type":"text","text":t}]}})
            .to_string()
    }

    fn file(lines: &[String]) -> tempfile_like::Tmp {
        tempfile_like::Tmp::new(&lines.join("\n"))
    }

    /// A tiny temp-file helper (shared has no tempfile dependency).
    mod tempfile_like {
        pub struct Tmp(pub std::path::PathBuf);
        impl Tmp {
            pub fn new(content: &str) -> Self {
                let p = std::env::temp_dir().join(format!(
                    "skillopt-window-{}-{}.jsonl",
                    std::process::id(),
                    std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .unwrap()
                        .as_nanos()
                ));
                let mut f = std::fs::File::create(&p).unwrap();
                super::Write::write_all(&mut f, content.as_bytes()).unwrap();
                Tmp(p)
            }
        }
        impl Drop for Tmp {
            fn drop(&mut self) {
                let _ = std::fs::remove_file(&self.0);
            }
        }
    }

    #[test]
    fn only_regular_files_are_read() {
        let target = Target {
            tool_use_id: None,
            skill: Some("deploy--alice".into()),
            reaction_turn: None,
        };
        let d = std::env::temp_dir().join(format!("skillopt-window-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        let fifo = d.join("fifo");
        let _ = std::fs::remove_file(&fifo);
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .is_ok_and(|s| s.success());
        let mut hostile = vec![Path::new("/dev/zero").to_path_buf(), d.clone()];
        if made {
            hostile.push(fifo);
        }
        for p in &hostile {
            // With the check gone these hang (FIFO, /dev/zero) or fail late (directory).
            match build(p, &target, Some("no")) {
                Err(WindowError::NotAFile { .. }) => {}
                other => panic!("{}: {:?}", p.display(), other.map(|w| w.text)),
            }
        }
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn pins_by_tool_use_id_and_keeps_three_turns() {
        let t = file(&[
            user("turn one"),
            user("turn two"),
            user("turn three"),
            user("turn four"),
            skill("toolu_A", "deploy--alice"),
            says("deploying without the migration"),
            user("turn five"),
            skill("toolu_B", "deploy--alice"),
            says("second use"),
        ]);
        let w = build(
            &t.0,
            &Target {
                tool_use_id: Some("toolu_A".into()),
                skill: Some("deploy--alice".into()),
                reaction_turn: None,
            },
            Some("it failed: my key is sk-ant-api03-abcdefghijklmnopqrstuv"),
        )
        .unwrap();
        assert_eq!(w.invocation.line, 5);
        assert!(!w.text.contains("turn one"), "{}", w.text);
        assert!(w.text.contains("turn two") && w.text.contains("turn four"));
        assert!(w.text.contains(">>> SKILL USE: deploy--alice"));
        assert!(w.text.contains("without the migration"));
        assert!(w.text.contains("[user reaction] it failed"));
        assert!(w.text.contains("[REDACTED:anthropic-key]") && !w.text.contains("sk-ant-api03"));
        // Without the pin: the latest use.
        let latest = build(
            &t.0,
            &Target {
                tool_use_id: None,
                skill: Some("deploy--alice".into()),
                reaction_turn: None,
            },
            None,
        )
        .unwrap();
        assert_eq!(latest.invocation.line, 8);
        // Unknown pin falls back to the latest use.
        let fallback = build(
            &t.0,
            &Target {
                tool_use_id: Some("nope".into()),
                skill: Some("deploy--alice".into()),
                reaction_turn: None,
            },
            None,
        )
        .unwrap();
        assert_eq!(fallback.invocation.line, 8);
        assert!(matches!(
            build(
                &t.0,
                &Target {
                    tool_use_id: None,
                    skill: Some("other--x".into()),
                    reaction_turn: None,
                },
                None
            ),
            Err(WindowError::NotFound(_))
        ));
    }

    #[test]
    fn the_window_ends_at_the_reaction_already_in_the_transcript() {
        let reaction = "that broke prod: the migration never ran";
        let t = file(&[
            user("deploy please"),
            skill("toolu_A", "deploy--alice"),
            says("deployed, skipping the migration"),
            user("also check the logs"),
            says("logs are clean"),
            user(reaction),
            says("AGENT-REPLY-TO-THE-REACTION"),
        ]);
        let target = Target {
            tool_use_id: Some("toolu_A".into()),
            skill: None,
            reaction_turn: None,
        };
        let w = build(&t.0, &target, Some(reaction)).unwrap();
        assert_eq!(w.text.matches(reaction).count(), 1, "{}", w.text);
        assert_eq!(
            target.reaction_turn, None,
            "the first turn with the text when unknown"
        );
        assert!(w
            .text
            .trim_end()
            .ends_with(&format!("[user reaction] {reaction}")));
        assert!(!w.text.contains("AGENT-REPLY"), "{}", w.text);
        // Earlier turns after the use stay: they are part of what happened.
        assert!(w.text.contains("also check the logs") && w.text.contains("logs are clean"));
        // A reaction not (yet) in the transcript: everything after the use, then the reaction.
        let w = build(&t.0, &target, Some("something else")).unwrap();
        assert!(
            w.text.contains("AGENT-REPLY") && w.text.contains("[user reaction] something else")
        );
    }

    #[test]
    fn a_reaction_like_an_earlier_prompt_is_found_by_its_turn() {
        let t = file(&[
            user("deploy please"),
            skill("toolu_A", "deploy--alice"),
            says("Step A done"),
            user("continue"),
            says("Step B: rm -rf build, pushed to prod"),
            user("continue"),
            says("AGENT-REPLY"),
        ]);
        let at = |turn: Option<u32>| Target {
            tool_use_id: Some("toolu_A".into()),
            skill: None,
            reaction_turn: turn,
        };
        let second = build(&t.0, &at(Some(2)), Some("continue")).unwrap();
        assert!(second.text.contains("Step B"), "{}", second.text);
        assert!(!second.text.contains("AGENT-REPLY"), "{}", second.text);
        let first = build(&t.0, &at(Some(1)), Some("continue")).unwrap();
        assert!(!first.text.contains("Step B"), "{}", first.text);
        // A long reaction that is a prefix of an earlier, longer prompt is not that prompt.
        let log = "E".repeat(1200);
        let t = file(&[
            user("deploy"),
            skill("toolu_A", "deploy--alice"),
            user(&format!("{log} and more")),
            says("STEP-B"),
            user(&log),
        ]);
        let w = build(&t.0, &at(None), Some(&log)).unwrap();
        assert!(w.text.contains("STEP-B"), "{}", w.text);
    }

    #[test]
    fn long_sessions_are_elided_in_the_middle() {
        let mut lines = vec![user("please deploy"), skill("toolu_A", "deploy--alice")];
        for i in 0..400 {
            lines.push(says(&format!("step {i} {}", "x".repeat(200))));
        }
        lines.push(says("FINAL STEP"));
        let t = file(&lines);
        let w = build(
            &t.0,
            &Target {
                tool_use_id: Some("toolu_A".into()),
                skill: None,
                reaction_turn: None,
            },
            Some("bad"),
        )
        .unwrap();
        assert!(w.text.chars().count() <= WINDOW_BUDGET, "{}", w.text.len());
        assert!(w.text.contains("step 0 ") && w.text.contains("FINAL STEP"));
        assert!(w.text.contains("chars elided"));
        assert!(w.elided_chars > 50_000);
    }
}
