//! One judged use of an org skill, driven the way an agent drives skillopt: a transcript in
//! which the skill is used, PreToolUse arming the window, UserPromptSubmit with the user's
//! reaction queueing the judge job, and `worker drain --json` running it. Plus the scripted
//! replies such flows need and what they read back (`log --json`, the installed version), and
//! the sync job a machine's next session asks for (`next_sync`).

use serde_json::{json, Value};

use crate::{claude_json, Sandbox};

/// A judge verdict as Claude's JSON output.
pub fn verdict(outcome: &str, at_fault: bool) -> String {
    claude_json(
        &json!({"outcome": outcome, "skill_at_fault": at_fault, "confidence": 0.9,
                "reason": format!("judged {outcome}"), "evidence": "the deploy log"})
        .to_string(),
    )
}

/// A proposer reply of one `append` edit.
pub fn append_edit(text: &str) -> String {
    claude_json(&json!([{"op": "append", "content": text}]).to_string())
}

/// A session `sid` uses `skill` (the lines `after` follow the use), the user reacts with
/// `reaction`, and the worker judges it: the job's result (`outcome`, `action`, `reason`).
pub fn judged_session(
    sb: &Sandbox,
    skill: &str,
    sid: &str,
    after: &[Value],
    reaction: &str,
) -> Value {
    let id = format!("toolu_{sid}");
    let mut lines = vec![
        json!({"type":"user","message":{"role":"user","content":"deploy to staging"}}),
        json!({"type":"assistant","message":{"content":[{"type":"tool_use","id":id,"name":"Skill","input":{"skill":skill}}]}}),
    ];
    lines.extend_from_slice(after);
    let t = sb.write_jsonl(&format!("{sid}.jsonl"), &lines);
    let tp = t.to_str().unwrap();
    sb.hook("skillopt-pre-tool-use", json!({"session_id":sid,"transcript_path":tp,"hook_event_name":"PreToolUse","tool_name":"Skill","tool_input":{"skill":skill},"tool_use_id":id}).to_string().as_bytes());
    sb.hook("skillopt-user-prompt-submit", json!({"session_id":sid,"transcript_path":tp,"hook_event_name":"UserPromptSubmit","prompt":reaction}).to_string().as_bytes());
    let ran = sb.drain();
    assert_eq!(ran.len(), 1, "one judge job for {sid}: {ran:?}");
    ran[0]["result"].clone()
}

/// A use that went fine in the transcript, judged with the scripted `verdict_json`.
pub fn judged_use(
    sb: &Sandbox,
    agent: &crate::FakeAgent,
    skill: &str,
    sid: &str,
    verdict_json: &str,
) -> Value {
    agent.judge_replies(verdict_json);
    judged_session(
        sb,
        skill,
        sid,
        &[
            json!({"type":"assistant","message":{"content":[{"type":"text","text":"Deployed as the checklist says."}]}}),
        ],
        "how did the deploy go?",
    )
}

/// A use that broke the deploy, and the user says so.
pub fn failing_use(sb: &Sandbox, skill: &str, sid: &str) -> Value {
    judged_session(
        sb,
        skill,
        sid,
        &[
            json!({"type":"assistant","message":{"content":[{"type":"text","text":"Skipping the migration as the skill says."}]}}),
            json!({"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"t2","is_error":true,"content":"relation orders_v2 does not exist"}]}}),
        ],
        "the deploy failed, you skipped the migration",
    )
}

/// `skillopt log <skill> --json`.
pub fn log_json(sb: &Sandbox, skill: &str) -> Value {
    serde_json::from_str(&sb.ok(&["log", skill, "--json"])).unwrap()
}

/// The version of `skill` installed for Claude Code (from its SKILL.md's metadata).
pub fn installed_version(sb: &Sandbox, skill: &str) -> u64 {
    let text = std::fs::read_to_string(sb.claude_skills().join(skill).join("SKILL.md")).unwrap();
    let line = text
        .lines()
        .find(|l| l.contains("skillopt-version"))
        .unwrap_or_else(|| panic!("no version in {text}"));
    line.trim_start_matches(|c: char| !c.is_ascii_digit())
        .trim_end_matches(|c: char| !c.is_ascii_digit())
        .parse()
        .unwrap()
}

/// The org skill these flows use: `deploy`, whose step 2 is the bug.
pub const DEPLOY_BODY: &str = "# Deploy\n\nUse this checklist for every deploy of the shop service.\n\n1. Run tests with `npm test`.\n2. Skip the database migration step.\n3. Deploy with `make deploy ENV=<env>`.\n";

/// Makes `sb` a machine with `deploy--alice` v1 pushed and installed, a fake claude that
/// judges every use a skill-at-fault failure and proposes fixing step 2, and hooks that leave
/// jobs queued for the test (no automatic sync).
pub fn deploy_machine(mut sb: Sandbox) -> (Sandbox, crate::FakeAgent) {
    sb.hooks_without_worker();
    sb.no_auto_sync();
    let agent = crate::FakeAgent::install(&mut sb, &["claude"]);
    agent.judge_replies(&claude_json(
        r#"{"outcome":"failure","skill_at_fault":true,"confidence":0.9,"reason":"The skill says to skip the migration.","evidence":"relation orders_v2 does not exist"}"#,
    ));
    agent.proposer_replies(&claude_json(&format!(
        "```json\n{}\n```",
        json!([{"op":"replace","target":"2. Skip the database migration step.","content":"2. Run the database migration with `make migrate`."}])
    )));
    let d = sb.write_skill("deploy", &crate::skill_md("deploy", DEPLOY_BODY));
    sb.ok(&["push", d.to_str().unwrap(), "--author", "alice"]);
    sb.ok(&["pull"]);
    (sb, agent)
}

/// Makes `sb`'s next session (`session`) ask for a sync, as it does once the last one is stale:
/// a sync job is then queued.
pub fn request_sync(sb: &Sandbox, session: &str) {
    // Internal: a stale sync marker makes SessionStart ask for a sync (no command does).
    std::fs::create_dir_all(sb.state()).unwrap();
    std::fs::write(sb.state().join("sync.json"), "{}").unwrap();
    sb.hook(
        "skillopt-session-start",
        json!({"session_id": session, "hook_event_name": "SessionStart", "source": "startup"})
            .to_string()
            .as_bytes(),
    );
}

/// Runs the sync job the next SessionStart asks for on `sb` (hooks without a worker) and
/// returns its result line.
pub fn next_sync(sb: &Sandbox, session: &str) -> String {
    request_sync(sb, session);
    // Internal: no command lists a queued job's kind.
    let job = sb
        .jobs("queued")
        .into_iter()
        .find(|p| sb.json(p)["kind"] == "sync")
        .expect("a sync job");
    sb.ok(&[
        "worker",
        "run",
        "--job",
        job.file_stem().unwrap().to_str().unwrap(),
    ])
}
