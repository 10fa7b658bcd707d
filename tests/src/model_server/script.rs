//! What the scripted model answers, decided from the request alone.
//!
//! Both wire formats are first reduced to a [`Conversation`] (user/assistant turns with their
//! text, the system text and the offered tools). Then:
//! - a verifier request (contains `VERIFY PROPOSED EDIT`) gets the configured verification;
//! - a proposer request (contains `CONFIRMED FAILURE`) gets the configured edits JSON;
//! - a judge request (contains [`JUDGE_MARKERS`]) gets the configured verdict JSON;
//! - otherwise the latest user turn carrying a marker that the model has not answered yet picks
//!   a tool call: `[[skill-tool NAME]]` → `Skill {"skill": NAME}`, `[[subagent NAME]]` → the
//!   Agent/Task tool with a prompt carrying `[[skill-tool NAME]]`, `[[codex-read NAME]]` → the
//!   shell tool `cat ~/.agents/skills/NAME/SKILL.md`; a marker whose tool is not offered, an
//!   answered marker or a plain prompt gets a short text answer.

use serde_json::{json, Value};

/// Phrases that make a request a judge's (the current and the planned first line).
pub const JUDGE_MARKERS: [&str; 2] = [
    "skeptical evaluator of coding-agent sessions",
    "You are skillopt's judge",
];
/// Phrase that makes a request a verifier's.
pub const VERIFIER_MARKER: &str = "VERIFY PROPOSED EDIT";
/// Phrase that makes a request a proposer's.
pub const PROPOSER_MARKER: &str = "CONFIRMED FAILURE";
/// The short answer to plain prompts and after tool results.
pub const ANSWER: &str = "Done: I followed the steps.";

/// The session's text answer: [`ANSWER`] naming the prompt it answers, so a test can tell the
/// answer to the user's complaint from earlier ones (a judge window must end before it).
pub fn answer_to(prompt: &str) -> String {
    let words: String = prompt
        .split_whitespace()
        .take(4)
        .collect::<Vec<_>>()
        .join(" ");
    format!("{ANSWER} (re: {words})")
}

/// Per-server replies for judge and proposer requests.
#[derive(Debug, Clone)]
pub struct Script {
    /// The judge's reply (a verdict JSON object).
    pub verdict: String,
    /// The proposer's reply (a JSON array of edits).
    pub edits: String,
    /// The verifier's reply (confirms by default).
    pub verification: String,
}

impl Default for Script {
    fn default() -> Self {
        Self {
            verdict: json!({
                "outcome": "failure",
                "skill_at_fault": true,
                "confidence": 0.9,
                "reason": "The checklist has no database migration step, so the deploy broke prod.",
                "evidence": "the checklist skipped the migration"
            })
            .to_string(),
            edits: "[]".into(),
            verification: json!({
                "prevents_failure": true,
                "breaks": [],
                "reason": "The new step adds the missing migration."
            })
            .to_string(),
        }
    }
}

/// Who is speaking in a turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Speaker {
    User,
    Assistant,
}

/// One turn reduced to its text (tool results count as user turns, tool calls as assistant).
#[derive(Debug, Clone)]
pub struct Turn {
    pub speaker: Speaker,
    pub text: String,
}

/// A tool the client offers: its name and its input JSON schema.
#[derive(Debug, Clone)]
pub struct Tool {
    pub name: String,
    pub schema: Value,
}

/// A request reduced to what the script needs.
#[derive(Debug, Clone, Default)]
pub struct Conversation {
    pub system: String,
    pub turns: Vec<Turn>,
    pub tools: Vec<Tool>,
}

/// Which kind of request this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Judge,
    Proposer,
    Verifier,
    Session,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Judge => "judge",
            Kind::Proposer => "proposer",
            Kind::Verifier => "verifier",
            Kind::Session => "session",
        }
    }
}

/// The model's reply.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Text(String),
    Tool { name: String, input: Value },
}

/// A marker found in a prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Marker {
    SkillTool(String),
    Subagent(String),
    CodexRead(String),
}

/// The first `[[skill-tool|subagent|codex-read NAME]]` marker in `text`.
pub fn find_marker(text: &str) -> Option<Marker> {
    let mut rest = text;
    while let Some(start) = rest.find("[[") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("]]") else { break };
        let inner = after[..end].trim();
        if let Some((verb, name)) = inner.split_once(char::is_whitespace) {
            let name = name.trim().to_string();
            let ok = !name.is_empty() && !name.contains(char::is_whitespace);
            match verb {
                "skill-tool" if ok => return Some(Marker::SkillTool(name)),
                "subagent" if ok => return Some(Marker::Subagent(name)),
                "codex-read" if ok => return Some(Marker::CodexRead(name)),
                _ => {}
            }
        }
        rest = &after[end + 2..];
    }
    None
}

/// Judge, proposer or an ordinary session request.
pub fn kind(c: &Conversation) -> Kind {
    let user: Vec<&str> = c
        .turns
        .iter()
        .filter(|t| t.speaker == Speaker::User)
        .map(|t| t.text.as_str())
        .collect();
    let has = |needle: &str| c.system.contains(needle) || user.iter().any(|t| t.contains(needle));
    if has(VERIFIER_MARKER) {
        Kind::Verifier
    } else if has(PROPOSER_MARKER) {
        Kind::Proposer
    } else if JUDGE_MARKERS.iter().any(|m| has(m)) {
        Kind::Judge
    } else {
        Kind::Session
    }
}

/// Decides the reply.
pub fn decide(c: &Conversation, script: &Script) -> (Kind, Action) {
    let k = kind(c);
    let action = match k {
        Kind::Judge => Action::Text(script.verdict.clone()),
        Kind::Proposer => Action::Text(script.edits.clone()),
        Kind::Verifier => Action::Text(script.verification.clone()),
        Kind::Session => session_action(c),
    };
    (k, action)
}

fn session_action(c: &Conversation) -> Action {
    let last_user = c
        .turns
        .iter()
        .rev()
        .find(|t| t.speaker == Speaker::User)
        .map(|t| t.text.as_str())
        .unwrap_or_default();
    let text = || Action::Text(answer_to(last_user));
    let Some((i, marker)) = c
        .turns
        .iter()
        .enumerate()
        .rev()
        .filter(|(_, t)| t.speaker == Speaker::User)
        .find_map(|(i, t)| find_marker(&t.text).map(|m| (i, m)))
    else {
        return text();
    };
    if c.turns[i + 1..]
        .iter()
        .any(|t| t.speaker == Speaker::Assistant)
    {
        return text();
    }
    let tool = |names: &[&str]| c.tools.iter().find(|t| names.contains(&t.name.as_str()));
    match marker {
        Marker::SkillTool(name) => match tool(&["Skill"]) {
            Some(t) => Action::Tool {
                name: t.name.clone(),
                input: json!({ "skill": name }),
            },
            None => text(),
        },
        Marker::Subagent(name) => match tool(&["Agent", "Task"]) {
            Some(t) => Action::Tool {
                name: t.name.clone(),
                input: json!({
                    "description": "Run the deploy checklist",
                    "prompt": format!("[[skill-tool {name}]] Follow the skill for this deploy."),
                    "subagent_type": "general-purpose",
                }),
            },
            None => text(),
        },
        Marker::CodexRead(name) => {
            match tool(&["exec_command", "shell_command", "shell", "local_shell"]) {
                Some(t) => Action::Tool {
                    name: t.name.clone(),
                    input: shell_input(&t.schema, &format!("cat ~/.agents/skills/{name}/SKILL.md")),
                },
                None => text(),
            }
        }
    }
}

/// Arguments for a shell tool, following its schema: `cmd` (string), `command` (string or argv).
pub fn shell_input(schema: &Value, cmd: &str) -> Value {
    let props = &schema["properties"];
    if props.get("cmd").is_some() {
        json!({ "cmd": cmd })
    } else if props["command"]["type"] == "array" {
        json!({ "command": ["bash", "-lc", cmd] })
    } else {
        json!({ "command": cmd })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(t: &str) -> Turn {
        Turn {
            speaker: Speaker::User,
            text: t.into(),
        }
    }
    fn assistant(t: &str) -> Turn {
        Turn {
            speaker: Speaker::Assistant,
            text: t.into(),
        }
    }
    fn tools(names: &[&str]) -> Vec<Tool> {
        names
            .iter()
            .map(|n| Tool {
                name: n.to_string(),
                schema: json!({"properties": {"cmd": {"type": "string"}}}),
            })
            .collect()
    }
    fn conv(turns: Vec<Turn>, names: &[&str]) -> Conversation {
        Conversation {
            system: "You are an agent.".into(),
            turns,
            tools: tools(names),
        }
    }

    #[test]
    fn markers_are_parsed() {
        assert_eq!(
            find_marker("x [[skill-tool a--b]] deploy"),
            Some(Marker::SkillTool("a--b".into()))
        );
        assert_eq!(
            find_marker("[[nope]] [[subagent a--b]]"),
            Some(Marker::Subagent("a--b".into()))
        );
        assert_eq!(
            find_marker("[[codex-read a--b]]"),
            Some(Marker::CodexRead("a--b".into()))
        );
        assert_eq!(find_marker("plain [[skill-tool ]]"), None);
    }

    #[test]
    fn a_fresh_marker_calls_its_tool_once() {
        let s = Script::default();
        let c = conv(vec![user("[[skill-tool d--a]] deploy")], &["Bash", "Skill"]);
        assert_eq!(
            decide(&c, &s).1,
            Action::Tool {
                name: "Skill".into(),
                input: json!({"skill": "d--a"})
            }
        );
        let c = conv(
            vec![
                user("[[skill-tool d--a]] deploy"),
                assistant(""),
                user("tool result"),
            ],
            &["Skill"],
        );
        assert_eq!(decide(&c, &s).1, Action::Text(answer_to("tool result")));
        // The follow-up prompt of a resumed session has no marker: text naming it.
        let mut turns = c.turns.clone();
        turns.extend([assistant(ANSWER), user("that broke prod")]);
        assert_eq!(
            decide(&conv(turns, &["Skill"]), &s).1,
            Action::Text(format!("{ANSWER} (re: that broke prod)"))
        );
    }

    #[test]
    fn a_marker_without_its_tool_gets_text() {
        let c = conv(vec![user("[[skill-tool d--a]]")], &["Bash"]);
        assert_eq!(
            decide(&c, &Script::default()).1,
            Action::Text(answer_to("[[skill-tool d--a]]"))
        );
    }

    #[test]
    fn subagent_and_codex_read() {
        let s = Script::default();
        let c = conv(vec![user("[[subagent d--a]]")], &["Agent", "Skill"]);
        let Action::Tool { name, input } = decide(&c, &s).1 else {
            panic!()
        };
        assert_eq!(name, "Agent");
        assert!(input["prompt"]
            .as_str()
            .unwrap()
            .contains("[[skill-tool d--a]]"));
        let c = conv(vec![user("[[codex-read d--a]]")], &["exec_command"]);
        assert_eq!(
            decide(&c, &s).1,
            Action::Tool {
                name: "exec_command".into(),
                input: json!({"cmd": "cat ~/.agents/skills/d--a/SKILL.md"})
            }
        );
        assert_eq!(
            shell_input(&json!({"properties": {"command": {"type": "array"}}}), "ls"),
            json!({"command": ["bash", "-lc", "ls"]})
        );
    }

    #[test]
    fn judge_and_proposer_get_their_replies() {
        let s = Script {
            verdict: "V".into(),
            edits: "E".into(),
            verification: "W".into(),
        };
        let v = conv(vec![user("VERIFY PROPOSED EDIT for skill d--a")], &[]);
        assert_eq!(decide(&v, &s), (Kind::Verifier, Action::Text("W".into())));
        let mut c = conv(vec![user("window with [[skill-tool d--a]]")], &["Skill"]);
        c.system = format!("You are a careful, {}. x", JUDGE_MARKERS[0]);
        assert_eq!(decide(&c, &s), (Kind::Judge, Action::Text("V".into())));
        // Codex: system and prompt both on stdin, one user message.
        let c = conv(
            vec![user(&format!("{}\n\nSkill under review", JUDGE_MARKERS[1]))],
            &[],
        );
        assert_eq!(decide(&c, &s).0, Kind::Judge);
        let c = conv(vec![user("CONFIRMED FAILURE caused by this skill")], &[]);
        assert_eq!(decide(&c, &s), (Kind::Proposer, Action::Text("E".into())));
    }
}
