//! End-to-end tests with the real Claude Code and Codex CLIs against a scripted loopback model
//! server: a real session uses the org skill (Skill tool, typed slash command, inside a
//! subagent, Codex shell read, Codex `$skill`), the user complains in the resumed session, and
//! the detached worker has the same real CLI judge the use, propose a fix, publish v2 and
//! install it for both agents. Each test has its own sandbox and server, so they run in
//! parallel. They skip when the pinned CLIs cannot be installed (and fail in CI).

use skillopt_tests::model_server::script::answer_to;
use skillopt_tests::model_server::Kind;
use skillopt_tests::real_clients::real_clients;
use skillopt_tests::real_session::{
    script, RealSession, COMPLAINT, FIXED_STEP, PROJECT_MARKER, SKILL_DIR, WRONG_STEP,
};

/// Seconds the detached worker gets to judge, propose, publish and install.
const WORKER_DEADLINE: u64 = 90;

/// Which CLI ran the session (and so must run the judge).
#[derive(Clone, Copy, PartialEq)]
enum Agent {
    Claude,
    Codex,
}

/// Waits for the worker to finish, then asserts the whole loop through the CLI's JSON output,
/// the installed copies and the model server's request log.
fn assert_improved(rs: &RealSession, agent: Agent) {
    // Finished: v2 is published and no job is left queued or running.
    let finished = rs.sb.wait_for(WORKER_DEADLINE, || {
        let jobs = &rs.json(&["status"])["jobs"];
        let settled = jobs["queued"] == 0 && jobs["running"] == 0;
        // A failed job ends the wait early (the asserts below say what went wrong).
        settled
            && (jobs["failed"] != 0
                || rs.json(&["log", SKILL_DIR])["versions"]
                    .as_array()
                    .is_some_and(|v| v.len() == 2))
    });
    let d = || rs.diagnostics();
    assert!(finished, "the worker did not finish{}", d());
    // One judge job, for the user's reaction only, judged a failure by the real CLI and
    // published as v2: the judge request (once, with the reaction) is checked in
    // `assert_judge_requests`, the outcome and v2 in the log and stats below.
    let status = rs.json(&["status"]);
    let installed = &status["installed"][0];
    assert_eq!(installed["skill"], SKILL_DIR, "{status}");
    assert_eq!(installed["version"], 2, "{status}");
    assert_eq!(installed["latest"], 2, "{status}");
    assert_eq!(
        installed["paths"].as_array().map(Vec::len),
        Some(2),
        "{status}"
    );
    assert_eq!(installed["hand_edited"], serde_json::json!([]), "{status}");
    assert_eq!(status["jobs"]["failed"], 0, "{status}{}", d());

    let log = rs.json(&["log", SKILL_DIR]);
    let versions = log["versions"].as_array().cloned().unwrap_or_default();
    assert_eq!(versions.len(), 2, "{log}");
    let (v1, v2) = (&versions[0], &versions[1]);
    assert_eq!(v1["source"], "push", "{log}");
    assert_eq!(
        v1["sessions"], 1,
        "the session is attributed to v1 once: {log}"
    );
    let by_agent = match agent {
        Agent::Claude => serde_json::json!({"claude-code": 1}),
        Agent::Codex => serde_json::json!({"codex": 1}),
    };
    assert_eq!(v1["sessions_by_agent"], by_agent, "{log}");
    assert_eq!(v1["judged"], 1, "{log}");
    assert_eq!(v1["failures"], 1, "{log}");
    assert_eq!(v1["skill_failures"], 1, "{log}");
    assert_eq!(v2["source"], "skillopt", "{log}");
    assert_eq!(v2["parent_version"], 1, "{log}");
    let reason = v2["changeset"]["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("migration"), "{log}");

    let stats = rs.json(&["stats"]);
    let row = stats["versions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["skill"] == SKILL_DIR && r["version"] == 1)
        .unwrap_or_else(|| panic!("no stats row for v1: {stats}"));
    assert_eq!(row["sessions"], 1, "{stats}");
    assert_eq!(row["judged"], 1, "{stats}");
    assert_eq!(row["skill_failures"], 1, "{stats}");
    assert_eq!(row["failure_rate"], 1.0, "{stats}");

    for (which, text) in ["claude", "codex"].iter().zip(rs.installed()) {
        assert!(
            text.contains(FIXED_STEP) && !text.contains(WRONG_STEP),
            "{which}'s copy lacks the edit:\n{text}"
        );
        assert!(text.contains("skillopt-version: \"2\""), "{which}:\n{text}");
    }

    assert_judge_requests(rs, agent);
}

/// Tools a Codex judge or proposer must not be offered.
const FORBIDDEN_CODEX_TOOLS: [&str; 8] = [
    "exec_command",
    "write_stdin",
    "shell",
    "shell_command",
    "local_shell",
    "web_search",
    "spawn_agent",
    "image_generation",
];

fn forbidden_codex_tool(name: &str) -> bool {
    FORBIDDEN_CODEX_TOOLS.contains(&name)
        || ["agent", "goal", "image_gen"]
            .iter()
            .any(|p| name.contains(p))
}

/// The judge, the proposer and the verifier were run by the session's own CLI, exactly once each, saw none
/// of the project's instructions, and (Codex) were offered no shell, web search, multi-agent,
/// goals or image tools.
fn assert_judge_requests(rs: &RealSession, agent: Agent) {
    let d = || rs.server.summary();
    let path = match agent {
        Agent::Claude => "/v1/messages",
        Agent::Codex => "/v1/responses",
    };
    let sessions = rs.server.calls(Kind::Session);
    assert!(
        sessions
            .iter()
            .any(|r| r.body.to_string().contains(PROJECT_MARKER)),
        "the session itself saw the project's instructions (else the check below is vacuous)"
    );
    for kind in [Kind::Judge, Kind::Proposer, Kind::Verifier] {
        let calls = rs.server.calls(kind);
        assert_eq!(calls.len(), 1, "one {} call:\n{}", kind.as_str(), d());
        let call = &calls[0];
        assert_eq!(
            call.path,
            path,
            "{} run by the session's CLI:\n{}",
            kind.as_str(),
            d()
        );
        assert!(
            !call.body.to_string().contains(PROJECT_MARKER),
            "the project's CLAUDE.md/AGENTS.md reached the {} ({})",
            kind.as_str(),
            rs.server.log_path().display()
        );
        if kind == Kind::Judge {
            // The window ends at the reaction: it appears once, and the session's answer to
            // it (already in the transcript when the worker runs) is not part of it.
            let body = call.body.to_string();
            assert_eq!(
                body.matches(COMPLAINT).count(),
                1,
                "the reaction is in the judge's request once ({})",
                rs.server.log_path().display()
            );
            assert!(
                !body.contains(&answer_to(COMPLAINT)),
                "the answer to the reaction reached the judge ({})",
                rs.server.log_path().display()
            );
        }
        if agent == Agent::Codex {
            let bad: Vec<String> = call
                .tool_names()
                .into_iter()
                .filter(|n| forbidden_codex_tool(n))
                .collect();
            assert!(
                bad.is_empty(),
                "the Codex {} was offered {bad:?}:\n{}",
                kind.as_str(),
                d()
            );
        }
    }
}

/// A session whose first prompt used the skill; the session tool call must have happened.
fn assert_session_called(rs: &RealSession, tool: &str) {
    let called = rs
        .server
        .calls(Kind::Session)
        .iter()
        .any(|r| r.action["tool"] == tool);
    assert!(
        called,
        "the session never called {tool}:\n{}",
        rs.server.summary()
    );
}

fn claude_session(prompt: &str) -> Option<RealSession> {
    let clients = real_clients()?;
    let rs = RealSession::new(clients, script());
    rs.install_and_pull();
    let first = rs.claude(&[], prompt);
    let sid = first["session_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no session_id: {first}"))
        .to_string();
    rs.claude(&["--resume", &sid], COMPLAINT);
    Some(rs)
}

fn codex_session(prompt: &str) -> Option<RealSession> {
    let clients = real_clients()?;
    let rs = RealSession::new(clients, script());
    rs.install_and_pull();
    let sid = rs.codex(&[], prompt);
    rs.codex(&["resume", &sid], COMPLAINT);
    Some(rs)
}

#[test]
fn claude_skill_tool_use_is_judged_and_improved() {
    let Some(rs) = claude_session(&format!("[[skill-tool {SKILL_DIR}]] deploy the shop")) else {
        return;
    };
    assert_session_called(&rs, "Skill");
    assert_improved(&rs, Agent::Claude);
}

#[test]
fn claude_typed_slash_command_is_judged_and_improved() {
    let Some(rs) = claude_session(&format!("/{SKILL_DIR} deploy the shop")) else {
        return;
    };
    assert_improved(&rs, Agent::Claude);
}

#[test]
fn claude_skill_used_in_a_subagent_is_judged_and_improved() {
    let Some(rs) = claude_session(&format!("[[subagent {SKILL_DIR}]] deploy the shop")) else {
        return;
    };
    assert_session_called(&rs, "Agent");
    assert_session_called(&rs, "Skill");
    assert_improved(&rs, Agent::Claude);
}

#[test]
fn codex_shell_read_is_judged_and_improved() {
    let Some(rs) = codex_session(&format!("[[codex-read {SKILL_DIR}]] deploy the shop")) else {
        return;
    };
    assert_session_called(&rs, "exec_command");
    assert_improved(&rs, Agent::Codex);
}

#[test]
fn codex_dollar_skill_is_judged_and_improved() {
    let Some(rs) = codex_session(&format!("${SKILL_DIR} deploy the shop")) else {
        return;
    };
    assert_improved(&rs, Agent::Codex);
}

#[test]
fn an_ephemeral_codex_session_is_attributed_to_codex() {
    // `--ephemeral`: no rollout path and no turn_id at SessionStart, nothing in the payload says
    // Codex; only the hook command's `--agent codex` does.
    let Some(clients) = real_clients() else {
        return;
    };
    let rs = RealSession::new(clients, script());
    rs.install_and_pull();
    rs.codex(&["--ephemeral"], "say hello");
    let attributed = rs.sb.wait_for(30, || {
        rs.json(&["log", SKILL_DIR])["versions"][0]["sessions"] == 1
    });
    let log = rs.json(&["log", SKILL_DIR]);
    assert!(
        attributed,
        "the session was not attributed: {log}{}",
        rs.diagnostics()
    );
    assert_eq!(
        log["versions"][0]["sessions_by_agent"],
        serde_json::json!({"codex": 1}),
        "{log}"
    );
}
