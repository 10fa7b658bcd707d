//! Judging end to end with the real hook binaries as separate processes, the detached worker
//! and a scripted fake agent CLI: SessionStart → PreToolUse → UserPromptSubmit → worker →
//! agent → outcome record.
//!
//! Job counts come from `status --json`, judged counts from `log`/`stats --json`. Three things
//! have no public surface yet and are read from the state dir and the registry, each marked
//! "Internal" where it is read: the armed window (`pending.json`), a job's payload and result,
//! and outcome rows' job id, bucket and `unclear` outcomes. The ignored tests at the end assert
//! the same through the `--json` fields they need.

use std::path::PathBuf;

use serde_json::json;
use skillopt_tests::{claude_json, skill_md, stdout, FakeAgent, Sandbox};

const SID: &str = "00893aaf-19fa-41d2-8238-13269b9b3ca0";
const CODEX_SID: &str = "019a2d7a-41c4-78b1-b7cc-a45d62a89cd5";

/// A sandbox with `deploy-checklist--alice` v1 installed and no automatic sync.
fn setup() -> Sandbox {
    let mut sb = Sandbox::new();
    let d = sb.write_skill(
        "deploy-checklist",
        &skill_md(
            "deploy-checklist",
            "1. Run tests.\n2. Skip the database migration step.\n3. Deploy.\n",
        ),
    );
    sb.ok(&["push", d.to_str().unwrap(), "--author", "alice"]);
    sb.ok(&["pull"]);
    sb.no_auto_sync();
    sb
}

/// A Claude Code transcript in which the skill is used via the Skill tool.
fn claude_transcript(sb: &Sandbox) -> PathBuf {
    let lines = [
        json!({"type":"user","timestamp":"2026-11-21T10:00:00Z","message":{"role":"user","content":"deploy the shop to staging"}}),
        json!({"type":"assistant","timestamp":"2026-11-21T10:00:01Z","message":{"content":[{"type":"tool_use","id":"toolu_01ABCdeployXYZ","name":"Skill","input":{"skill":"deploy-checklist--alice","args":"staging"}}]}}),
        json!({"type":"user","timestamp":"2026-11-21T10:00:02Z","message":{"content":[{"type":"tool_result","tool_use_id":"toolu_01ABCdeployXYZ","content":"Launching skill: deploy-checklist--alice"}]}}),
        json!({"type":"assistant","timestamp":"2026-11-21T10:00:03Z","message":{"content":[{"type":"text","text":"Following the checklist: skipping the database migration step, deploying now."}]}}),
        json!({"type":"assistant","timestamp":"2026-11-21T10:00:04Z","message":{"content":[{"type":"tool_use","id":"toolu_02","name":"Bash","input":{"command":"make deploy ENV=staging"}}]}}),
        json!({"type":"user","timestamp":"2026-11-21T10:00:09Z","message":{"content":[{"type":"tool_result","tool_use_id":"toolu_02","is_error":true,"content":"ERROR: relation \"orders_v2\" does not exist"}]}}),
    ];
    sb.write_jsonl("claude-session.jsonl", &lines)
}

/// The agent child ran in an empty directory of its own (not the session's project, where a
/// CLAUDE.md / AGENTS.md would reach the judge), removed after the call.
fn assert_ran_in_a_fresh_empty_dir(sb: &Sandbox, call: &skillopt_tests::AgentCall) {
    let project = sb.path().canonicalize().unwrap();
    assert_ne!(call.cwd, project, "the agent ran in the project directory");
    assert!(!call.cwd.starts_with(&project), "{}", call.cwd.display());
    assert_eq!(call.cwd_listing, "", "the agent's directory was not empty");
    assert!(
        sb.wait_for(5, || !call.cwd.exists()),
        "{} was left behind",
        call.cwd.display()
    );
}

fn payload(v: serde_json::Value) -> Vec<u8> {
    v.to_string().into_bytes()
}

/// The registry's outcome rows: (job id, version, outcome, skill at fault, bucket).
///
/// Internal: no command shows a row's job id or bucket, nor `unclear` outcomes (`log --json`
/// and `stats --json` count judged uses without them); `outcomes_show_in_log_json` below is the
/// same check through the field it needs.
fn outcomes(sb: &Sandbox) -> Vec<(String, i64, String, bool, i64)> {
    let c = sb.sqlite();
    let mut st = c
        .prepare("SELECT job_id, version, outcome, skill_at_fault, bucket FROM outcomes ORDER BY judged_at")
        .unwrap();
    st.query_map([], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

fn claude_session(
    sb: &Sandbox,
    transcript: &std::path::Path,
    reaction: &str,
) -> std::process::Output {
    let tp = transcript.to_str().unwrap();
    sb.hook("skillopt-session-start", &payload(json!({"session_id":SID,"transcript_path":tp,"cwd":"/home/dev/shop","hook_event_name":"SessionStart","source":"startup","model":"claude-sonnet-4-5"})));
    let pre = sb.hook("skillopt-pre-tool-use", &payload(json!({"session_id":SID,"transcript_path":tp,"cwd":"/home/dev/shop","permission_mode":"default","hook_event_name":"PreToolUse","tool_name":"Skill","tool_input":{"skill":"deploy-checklist--alice","args":"staging"},"tool_use_id":"toolu_01ABCdeployXYZ"})));
    assert!(pre.status.success() && pre.stdout.is_empty());
    // Internal: the armed window (no command shows it; see `armed_windows_show_in_status_json`).
    let pending = sb.json(&sb.session_dir(SID).join("pending.json"));
    assert_eq!(pending["tool_use_id"], "toolu_01ABCdeployXYZ");
    assert_eq!(pending["version"], 1);
    assert_eq!(pending["budget"], 3);
    sb.hook("skillopt-user-prompt-submit", &payload(json!({"session_id":SID,"transcript_path":tp,"cwd":"/home/dev/shop","permission_mode":"default","hook_event_name":"UserPromptSubmit","prompt":reaction})))
}

#[test]
fn claude_code_flow_records_a_failure_for_the_right_version() {
    let mut sb = setup();
    let agent = FakeAgent::install(&mut sb, &["claude", "codex"]);
    // A project that keeps its TMPDIR inside itself (direnv, Nix shells): the CLIs read
    // CLAUDE.md from every parent, so the agent's directory must not be made there.
    std::fs::write(sb.path().join("CLAUDE.md"), "PROJECT RULES").unwrap();
    let project_tmp = sb.path().join("tmp");
    std::fs::create_dir_all(&project_tmp).unwrap();
    sb.set_env("TMPDIR", project_tmp.to_str().unwrap());
    agent.judge_replies(&claude_json(
        "```json\n{\"outcome\":\"failure\",\"skill_at_fault\":true,\"confidence\":0.9,\"reason\":\"The skill says to skip the migration; the deploy failed on a missing table.\",\"evidence\":\"relation orders_v2 does not exist\"}\n```",
    ));
    sb.set_env("SKILLOPT_CLAUDE_JUDGE_MODEL", "claude-haiku-test");
    let t = claude_transcript(&sb);
    let ups = claude_session(
        &sb,
        &t,
        "no, that skipped the database migration step again, the deploy failed",
    );
    assert!(ups.status.success() && ups.stdout.is_empty());
    assert!(
        sb.wait_for(30, || sb.job_count("done") == 1),
        "judge job did not finish: {}",
        sb.status()
    );

    // One judge call (the proposer may be asked afterwards: it is a skill-at-fault failure).
    let calls: Vec<_> = agent
        .calls()
        .into_iter()
        .filter(|c| !c.stdin.contains("CONFIRMED FAILURE"))
        .collect();
    assert_eq!(calls.len(), 1);
    let c = &calls[0];
    assert_eq!(c.argv[0], "claude", "the session's agent is used");
    let args = &c.argv[1..];
    let pos = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .unwrap_or_else(|| panic!("{flag} missing: {args:?}"))
    };
    assert_eq!(args[pos("--tools") + 1], "", "no tools");
    assert_eq!(args[pos("--model") + 1], "claude-haiku-test");
    assert_eq!(args[pos("--max-turns") + 1], "1");
    assert_eq!(args[pos("--settings") + 1], r#"{"disableAllHooks":true}"#);
    for f in [
        "-p",
        "--strict-mcp-config",
        "--disable-slash-commands",
        "--no-session-persistence",
        "--system-prompt",
    ] {
        pos(f);
    }
    assert!(c.env_has("SKILLOPT_WORKER=1"));
    assert_ran_in_a_fresh_empty_dir(&sb, c);
    assert!(
        c.stdin.contains(">>> SKILL USE: deploy-checklist--alice"),
        "{}",
        c.stdin
    );
    assert!(c.stdin.contains("relation \"orders_v2\" does not exist"));
    assert!(c
        .stdin
        .contains("[user reaction] no, that skipped the database migration step again"));
    assert!(
        c.stdin.contains("2. Skip the database migration step."),
        "skill body as context"
    );
    assert!(c.stdin.contains("<<<UNTRUSTED_DATA transcript window"));

    let rows = outcomes(&sb);
    assert_eq!(rows.len(), 1);
    let (job_id, version, outcome, fault, bucket) = &rows[0];
    assert_eq!((*version, outcome.as_str(), *fault), (1, "failure", true));
    assert_eq!(*bucket, i64::from(skillopt_shared::bucket(SID)));
    // Internal: the job's result (a hook-spawned job's result shows nowhere else; see
    // `job_results_show_in_status_json`).
    let done = sb.json(&sb.jobs("done")[0]);
    assert_eq!(&done["id"], job_id.as_str());
    assert_eq!(done["result"]["outcome"], "failure");
    // The outcome is recorded; the proposer (no reply scripted here) offered no edit.
    assert_eq!(done["result"]["action"], "no-edit");

    let stats: serde_json::Value = serde_json::from_str(&sb.ok(&["stats", "--json"])).unwrap();
    let stats = &stats["versions"];
    assert_eq!(stats[0]["judged"], 1);
    assert_eq!(stats[0]["skill_failures"], 1);
    assert_eq!(stats[0]["failure_rate"], 1.0);
    // The budget was spent by one: two more prompts can still be judged.
    assert_eq!(
        sb.json(&sb.session_dir(SID).join("pending.json"))["budget"],
        2
    );
    let log = sb.json_out(&["log", "deploy-checklist--alice"]);
    assert_eq!(
        log["versions"].as_array().map(Vec::len),
        Some(1),
        "no-edit: {log}"
    );
}

#[test]
fn codex_flow_uses_codex_without_tools() {
    let mut sb = setup();
    let agent = FakeAgent::install(&mut sb, &["claude", "codex"]);
    agent.judge_replies("{\"outcome\":\"success\",\"skill_at_fault\":false,\"confidence\":0.7,\"reason\":\"deployed\"}");
    let skill_path = sb.codex_skills().join("deploy-checklist--alice/SKILL.md");
    let cmd = format!("sed -n '1,200p' {}", skill_path.display());
    let rollout = [
        json!({"timestamp":"2026-11-21T10:00:00Z","type":"session_meta","payload":{"id":CODEX_SID,"cwd":"/home/dev/shop"}}),
        json!({"timestamp":"2026-11-21T10:00:01Z","type":"response_item","payload":{"type":"message","role":"user","content":[{"type":"input_text","text":"ship staging"}]}}),
        json!({"timestamp":"2026-11-21T10:00:02Z","type":"response_item","payload":{"type":"function_call","name":"exec_command","arguments":json!({"cmd":cmd}).to_string(),"call_id":"call_7fQ2deploy"}}),
        json!({"timestamp":"2026-11-21T10:00:03Z","type":"response_item","payload":{"type":"function_call_output","call_id":"call_7fQ2deploy","output":"Exit code: 0\nOutput:\n1. Run tests."}}),
        json!({"timestamp":"2026-11-21T10:00:04Z","type":"response_item","payload":{"type":"message","role":"assistant","content":[{"type":"output_text","text":"Deployed to staging."}]}}),
    ];
    let tp = sb.write_jsonl("rollout-2026-11-21T10-00-00-codex.jsonl", &rollout);
    let tps = tp.to_str().unwrap();
    sb.hook("skillopt-session-start", &payload(json!({"session_id":CODEX_SID,"transcript_path":tps,"cwd":"/home/dev/shop","hook_event_name":"SessionStart","model":"gpt-5.2-codex","permission_mode":"default","source":"startup"})));
    sb.hook("skillopt-pre-tool-use", &payload(json!({"session_id":CODEX_SID,"transcript_path":tps,"cwd":"/home/dev/shop","hook_event_name":"PreToolUse","model":"gpt-5.2-codex","permission_mode":"default","turn_id":"t1","tool_name":"Bash","tool_use_id":"call_7fQ2deploy","tool_input":{"command":cmd}})));
    let pending = sb.json(&sb.session_dir(CODEX_SID).join("pending.json"));
    assert_eq!(pending["agent"], "codex");
    sb.hook("skillopt-user-prompt-submit", &payload(json!({"session_id":CODEX_SID,"transcript_path":tps,"cwd":"/home/dev/shop","hook_event_name":"UserPromptSubmit","model":"gpt-5.2-codex","permission_mode":"default","turn_id":"t2","prompt":"thanks, looks good"})));
    assert!(
        sb.wait_for(30, || sb.job_count("done") == 1),
        "{}",
        sb.status()
    );
    let calls = agent.calls();
    assert_eq!(calls.len(), 1);
    // The exact argv is the unit test's (worker/src/agent.rs); here: what the process got.
    let argv = &calls[0].argv;
    assert_eq!(argv[..3], ["codex", "exec", "--skip-git-repo-check"]);
    assert_eq!(
        argv.last().map(String::as_str),
        Some("-"),
        "prompt on stdin"
    );
    let has_pair = |flag: &str, value: &str| argv.windows(2).any(|w| w[0] == flag && w[1] == value);
    assert!(has_pair("-s", "read-only") && argv.iter().any(|a| a == "--ephemeral"));
    assert!(has_pair("-C", calls[0].cwd.to_str().unwrap()), "{argv:?}");
    for feature in [
        "hooks",
        "shell_tool",
        "goals",
        "multi_agent",
        "image_generation",
    ] {
        assert!(has_pair("--disable", feature), "{feature}: {argv:?}");
    }
    assert!(has_pair("-c", "web_search=\"disabled\"") && has_pair("-c", "project_doc_max_bytes=0"));
    assert_ran_in_a_fresh_empty_dir(&sb, &calls[0]);
    assert!(calls[0].env_has("SKILLOPT_WORKER=1"));
    assert!(
        calls[0]
            .stdin
            .contains("SKILL USE: deploy-checklist--alice (FileRead, tool_use_id call_7fQ2deploy)"),
        "{}",
        calls[0].stdin
    );
    assert!(calls[0]
        .stdin
        .contains("[user reaction] thanks, looks good"));
    let rows = outcomes(&sb);
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].1, rows[0].2.as_str(), rows[0].3),
        (1, "success", false)
    );
}

#[test]
fn plugin_and_local_lookalike_skills_arm_nothing() {
    let mut sb = setup();
    sb.hooks_without_worker();
    // A local skill whose name merely has the org shape, not in the manifest.
    let local = sb.claude_skills().join("x--y");
    std::fs::create_dir_all(&local).unwrap();
    std::fs::write(local.join("SKILL.md"), skill_md("x--y", "local\n")).unwrap();
    for input in [
        json!({"skill":"elixir:hex-docs-search","args":"plug"}),
        json!({"skill":"x--y"}),
        json!({"skill":"deploy-checklist"}),
    ] {
        sb.hook("skillopt-pre-tool-use", &payload(json!({"session_id":"s-neg","transcript_path":"/t.jsonl","hook_event_name":"PreToolUse","tool_name":"Skill","tool_input":input,"tool_use_id":"toolu_x"})));
    }
    sb.hook("skillopt-pre-tool-use", &payload(json!({"session_id":"s-neg","hook_event_name":"PreToolUse","tool_name":"Read","tool_input":{"file_path":local.join("SKILL.md")}})));
    sb.hook("skillopt-user-prompt-submit", &payload(json!({"session_id":"s-neg","hook_event_name":"UserPromptSubmit","prompt":"that was wrong"})));
    assert!(!sb.session_dir("s-neg").join("pending.json").exists());
    assert!(sb.job_count("queued") == 0);
}

#[test]
fn prompt_invocations_arm_and_budget_closes_the_window() {
    let mut sb = setup();
    sb.hooks_without_worker();
    sb.set_env("SKILLOPT_JUDGE_WINDOW", "2");
    let sid = "s-dollar";
    let ups = |prompt: &str| {
        sb.hook("skillopt-user-prompt-submit", &payload(json!({"session_id":sid,"transcript_path":"/t/rollout-x.jsonl","hook_event_name":"UserPromptSubmit","turn_id":"t","prompt":prompt})))
    };
    ups("$deploy-checklist--alice ship the staging build");
    let pending = sb.json(&sb.session_dir(sid).join("pending.json"));
    assert_eq!(pending["tool_use_id"], serde_json::Value::Null);
    assert_eq!(pending["budget"], 2);
    assert!(
        sb.job_count("queued") == 0,
        "the invoking prompt is not a reaction"
    );
    ups("   ");
    assert!(
        sb.job_count("queued") == 0,
        "an empty prompt spends nothing"
    );
    // Claude Code submits this itself when a background subagent finishes (seen with 2.1.332).
    ups("<task-notification>\n<task-id>a1b2</task-id>\n<status>completed</status>\n</task-notification>");
    assert!(
        sb.job_count("queued") == 0,
        "a task notification is not the user's reaction"
    );
    assert_eq!(
        sb.json(&sb.session_dir(sid).join("pending.json"))["budget"],
        2
    );
    ups("hmm, it skipped the migration");
    ups("and the smoke tests");
    ups("third prompt is outside the window");
    assert_eq!(
        sb.job_count("queued"),
        2,
        "spawn failed, so both jobs stay queued"
    );
    // Internal: what a queued judge job carries (no command shows a job before it runs).
    let queued = sb.jobs("queued");
    let job = sb.json(&queued[0]);
    assert_eq!(job["kind"], "judge");
    assert_eq!(job["skill"], "deploy-checklist--alice");
    assert_eq!(job["version"], 1);
    assert_eq!(job["agent"], "codex");
    assert_eq!(job["reaction"], "hmm, it skipped the migration");
    assert_eq!(job["reaction_turn"], 1, "the first prompt after the use");
    assert_eq!(sb.json(&queued[1])["reaction_turn"], 2);
    assert_eq!(job["bucket"], u64::from(skillopt_shared::bucket(sid)));
    assert!(
        !sb.session_dir(sid).join("pending.json").exists(),
        "window closed at 0"
    );
    // Claude Code's UserPromptExpansion for a typed /skill arms too; a plugin command does not.
    sb.hook("skillopt-user-prompt-submit", &payload(json!({"session_id":"s-exp","hook_event_name":"UserPromptExpansion","expansion_type":"slash_command","command_name":"deploy-checklist--alice","command_args":"staging","command_source":"user","prompt":"/deploy-checklist--alice staging"})));
    assert!(sb.session_dir("s-exp").join("pending.json").exists());
    // A reaction far over 8000 chars is cut on a char boundary.
    sb.hook("skillopt-user-prompt-submit", &payload(json!({"session_id":"s-exp","hook_event_name":"UserPromptSubmit","prompt":"é".repeat(9000)})));
    let long = sb
        .jobs("queued")
        .into_iter()
        .map(|p| sb.json(&p))
        .find(|j| j["session_id"] == "s-exp")
        .unwrap();
    assert_eq!(long["reaction"].as_str().unwrap().chars().count(), 8000);
}

#[test]
fn the_hook_never_waits_for_the_worker() {
    let mut sb = setup();
    let agent = FakeAgent::install(&mut sb, &["claude"]);
    agent.judge_replies(&claude_json(
        "{\"outcome\":\"unclear\",\"skill_at_fault\":false,\"confidence\":0.2}",
    ));
    sb.set_env("FAKE_AGENT_SLEEP", "5");
    let t = claude_transcript(&sb);
    let ups = claude_session(&sb, &t, "that failed");
    assert!(ups.status.success() && ups.stdout.is_empty());
    // The agent starts after the hook returned and is still running well after that.
    assert!(
        sb.wait_for(15, || agent.calls().len() == 1),
        "agent never started"
    );
    let call = &agent.calls()[0];
    assert!(
        !call.dir.join("finished").exists(),
        "agent already finished: the hook must have waited"
    );
    assert!(sb.wait_for(20, || sb.job_count("done") == 1));
    assert!(call.dir.join("finished").exists());
}

#[test]
fn a_hanging_agent_is_killed_with_its_children() {
    let mut sb = setup();
    sb.hooks_without_worker();
    let agent = FakeAgent::install(&mut sb, &["claude"]);
    agent.judge_replies(&claude_json(
        "{\"outcome\":\"failure\",\"skill_at_fault\":true,\"confidence\":1}",
    ));
    sb.set_env("FAKE_AGENT_SLEEP", "600");
    sb.set_env("FAKE_AGENT_CHILD", "1");
    sb.set_env("SKILLOPT_AGENT_TIMEOUT", "2");
    let t = claude_transcript(&sb);
    claude_session(&sb, &t, "broken");
    let job = sb.queued_job_id();
    let out = sb.skillopt(&["worker", "run", "--job", &job]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout(&out).contains("unclear"), "{}", stdout(&out));
    let call = &agent.calls()[0];
    let child: i32 = std::fs::read_to_string(call.dir.join("child"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let agent_pid: i32 = std::fs::read_to_string(call.dir.join("started"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    for pid in [child, agent_pid] {
        assert!(
            sb.wait_for(5, || !alive(pid)),
            "pid {pid} survived the timeout"
        );
    }
    let rows = outcomes(&sb);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].2, "unclear", "a timeout is never a failure");
}

fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => false,
        Ok(stat) => !stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z'),
    }
}

#[test]
fn garbage_or_silence_is_unclear() {
    for (reply, exit) in [
        ("I think it went fine?", "0"),
        ("", "0"),
        ("{\"outcome\":\"failure\"}", "3"),
    ] {
        let mut sb = setup();
        sb.hooks_without_worker();
        let agent = FakeAgent::install(&mut sb, &["claude"]);
        agent.judge_replies(&if reply.is_empty() {
            String::new()
        } else {
            claude_json(reply)
        });
        sb.set_env("FAKE_AGENT_EXIT", exit);
        let t = claude_transcript(&sb);
        claude_session(&sb, &t, "hmm");
        let out = sb.ok(&["worker", "drain"]);
        assert!(out.contains("unclear"), "{reply:?}: {out}");
        let rows = outcomes(&sb);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].2, "unclear", "{reply:?}");
        assert!(!rows[0].3);
    }
}

#[test]
fn a_killed_worker_is_finished_by_drain_with_one_outcome() {
    let mut sb = setup();
    sb.hooks_without_worker();
    let agent = FakeAgent::install(&mut sb, &["claude"]);
    agent.judge_replies(&claude_json(
        "{\"outcome\":\"failure\",\"skill_at_fault\":true,\"confidence\":0.9,\"reason\":\"r\"}",
    ));
    sb.set_env("FAKE_AGENT_SLEEP", "3");
    let t = claude_transcript(&sb);
    claude_session(&sb, &t, "the deploy failed");
    let job = sb.queued_job_id();
    let mut worker = sb
        .cmd("skillopt")
        .args(["worker", "run", "--job", &job])
        .spawn()
        .unwrap();
    assert!(
        sb.wait_for(15, || agent.calls().len() == 1),
        "agent not started"
    );
    worker.kill().unwrap(); // SIGKILL, mid-job
    worker.wait().unwrap();
    assert_eq!(
        sb.job_count("running"),
        1,
        "the job is left running by the dead worker"
    );
    assert!(outcomes(&sb).is_empty());
    sb.set_env("FAKE_AGENT_SLEEP", "0");
    let drained = sb.ok(&["worker", "drain", "--json"]);
    let d: serde_json::Value = serde_json::from_str(&drained).unwrap();
    assert_eq!(d["requeued"][0], job.as_str());
    assert_eq!(sb.job_count("done"), 1);
    let rows = outcomes(&sb);
    assert_eq!(rows.len(), 1, "one outcome per job id");
    assert_eq!(rows[0].0, job);
    // Draining again or re-running the job changes nothing.
    sb.ok(&["worker", "drain"]);
    let again = sb.ok(&["worker", "run", "--job", &job]);
    assert!(again.contains("not queued"), "{again}");
    assert_eq!(outcomes(&sb).len(), 1);
}

#[test]
fn manual_judge_dry_run_records_nothing() {
    let mut sb = setup();
    let agent = FakeAgent::install(&mut sb, &["claude"]);
    agent.judge_replies(&claude_json("{\"outcome\":\"failure\",\"skill_at_fault\":false,\"confidence\":0.8,\"reason\":\"flaky CI\"}"));
    let t = claude_transcript(&sb);
    let args = [
        "judge",
        "--transcript",
        t.to_str().unwrap(),
        "--skill",
        "deploy-checklist--alice",
        "--reaction",
        "it broke",
    ];
    let dry = sb.ok(&[&args[..], &["--dry-run"]].concat());
    assert!(
        dry.contains("failure") && dry.contains("flaky CI") && dry.contains("dry run"),
        "{dry}"
    );
    assert!(outcomes(&sb).is_empty());
    let real: serde_json::Value =
        serde_json::from_str(&sb.ok(&[&args[..], &["--json"]].concat())).unwrap();
    assert_eq!(real["recorded"], true);
    assert_eq!(real["improvement"]["action"], "not-needed");
    assert_eq!(outcomes(&sb).len(), 1);
    assert!(agent.calls()[0].stdin.contains("[user reaction] it broke"));
    let bad = sb.skillopt(&[
        "judge",
        "--transcript",
        "/nope.jsonl",
        "--skill",
        "deploy-checklist--alice",
    ]);
    assert!(!bad.status.success());
}

#[test]
fn racing_prompts_spend_the_budget_exactly_once_each() {
    let mut sb = setup();
    sb.hooks_without_worker();
    sb.hook("skillopt-pre-tool-use", &payload(json!({"session_id":"s-race","transcript_path":"/t.jsonl","hook_event_name":"PreToolUse","tool_name":"Skill","tool_input":{"skill":"deploy-checklist--alice"},"tool_use_id":"toolu_r"})));
    let children: Vec<_> = (0..10)
        .map(|i| {
            let mut c = sb
                .cmd("skillopt-user-prompt-submit")
                .stdin(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            let body = payload(json!({"session_id":"s-race","transcript_path":"/t.jsonl","hook_event_name":"UserPromptSubmit","prompt":format!("reaction {i}")}));
            std::io::Write::write_all(c.stdin.as_mut().unwrap(), &body).unwrap();
            drop(c.stdin.take());
            c
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    assert_eq!(sb.job_count("queued"), 3, "K=3 units, each spent once");
    assert!(!sb.session_dir("s-race").join("pending.json").exists());
}

/// The Claude Code plugin and `skillopt install claude` both installed: Claude Code runs both
/// hooks, in parallel, for one prompt. The reaction is judged once (found with the real CLI).
#[test]
fn one_prompt_through_two_installed_hooks_queues_one_judge_job() {
    let mut sb = setup();
    sb.hooks_without_worker();
    sb.hook("skillopt-pre-tool-use", &payload(json!({"session_id":"s-twice","transcript_path":"/t.jsonl","hook_event_name":"PreToolUse","tool_name":"Skill","tool_input":{"skill":"deploy-checklist--alice"},"tool_use_id":"toolu_t"})));
    let twice = |prompt: &str| {
        let children: Vec<_> = (0..2)
            .map(|_| {
                let mut c = sb
                    .cmd("skillopt-user-prompt-submit")
                    .stdin(std::process::Stdio::piped())
                    .spawn()
                    .unwrap();
                let body = payload(json!({"session_id":"s-twice","transcript_path":"/t.jsonl","hook_event_name":"UserPromptSubmit","prompt":prompt}));
                std::io::Write::write_all(c.stdin.as_mut().unwrap(), &body).unwrap();
                drop(c.stdin.take());
                c
            })
            .collect();
        for mut c in children {
            assert!(c.wait().unwrap().success());
        }
    };
    twice("it skipped the migration");
    assert_eq!(sb.job_count("queued"), 1, "one reaction, one judge job");
    twice("and the smoke tests");
    assert_eq!(
        sb.job_count("queued"),
        2,
        "the next prompt is a new reaction"
    );
    let window = sb.json(&sb.session_dir("s-twice").join("pending.json"));
    assert_eq!(window["spent"], 2, "{window}");
}

#[test]
fn codex_without_transcript_path_finds_the_rollout_by_session_id() {
    let mut sb = setup();
    sb.hooks_without_worker();
    let agent = FakeAgent::install(&mut sb, &["codex"]);
    agent.judge_replies("{\"outcome\":\"success\",\"skill_at_fault\":false,\"confidence\":0.8}");
    let dir = sb.home().join(".codex/sessions/2026/11/21");
    std::fs::create_dir_all(&dir).unwrap();
    let rollout = [
        json!({"timestamp":"t1","type":"response_item","payload":{"type":"message","role":"user","content":[{"type":"input_text","text":"<skill>\n<name>deploy-checklist--alice</name>\n<path>/x/SKILL.md</path>\nbody\n</skill>"}]}}),
        json!({"timestamp":"t2","type":"response_item","payload":{"type":"message","role":"assistant","content":[{"type":"output_text","text":"Deployed."}]}}),
    ];
    let text: String = rollout.iter().map(|l| l.to_string() + "\n").collect();
    std::fs::write(
        dir.join(format!("rollout-2026-11-21T10-00-00-{CODEX_SID}.jsonl")),
        text,
    )
    .unwrap();
    let ups = |prompt: &str| {
        sb.hook("skillopt-user-prompt-submit", &payload(json!({"session_id":CODEX_SID,"transcript_path":null,"hook_event_name":"UserPromptSubmit","turn_id":"t","model":"gpt-5","prompt":prompt})));
    };
    ups("$deploy-checklist--alice deploy");
    ups("great, thanks");
    let out = sb.ok(&["worker", "drain"]);
    assert!(out.contains("success"), "{out}");
    let calls = agent.calls();
    assert_eq!(calls.len(), 1);
    assert!(
        calls[0]
            .stdin
            .contains("SKILL USE: deploy-checklist--alice (Injected)"),
        "{}",
        calls[0].stdin
    );
    assert!(calls[0].stdin.contains("[user reaction] great, thanks"));
}

#[test]
fn a_skill_used_inside_a_claude_subagent_is_judged_from_the_subagent_transcript() {
    let mut sb = setup();
    let agent = FakeAgent::install(&mut sb, &["claude", "codex"]);
    agent.judge_replies(&claude_json("{\"outcome\":\"failure\",\"skill_at_fault\":false,\"confidence\":0.8,\"reason\":\"the subagent skipped the migration\"}"));
    // The parent only launched the subagent; the Skill call is in the subagent's own file.
    let parent = [
        json!({"type":"user","timestamp":"2026-11-21T10:00:00Z","message":{"role":"user","content":"deploy the shop with a helper"}}),
        json!({"type":"assistant","timestamp":"2026-11-21T10:00:01Z","message":{"content":[{"type":"tool_use","id":"toolu_task","name":"Agent","input":{"description":"deploy","prompt":"deploy staging","subagent_type":"general-purpose"}}]}}),
        json!({"type":"user","timestamp":"2026-11-21T10:00:09Z","message":{"content":[{"type":"tool_result","tool_use_id":"toolu_task","content":"Deployed."}]}}),
    ];
    let tp = sb.write_jsonl("subagent-session.jsonl", &parent);
    let sub_dir = sb.path().join("subagent-session/subagents");
    std::fs::create_dir_all(&sub_dir).unwrap();
    let sub = [
        json!({"type":"user","isSidechain":true,"agentId":"a7f3c2","timestamp":"2026-11-21T10:00:02Z","message":{"role":"user","content":"deploy staging"}}),
        json!({"type":"assistant","isSidechain":true,"agentId":"a7f3c2","timestamp":"2026-11-21T10:00:03Z","message":{"content":[{"type":"tool_use","id":"toolu_sub_skill","name":"Skill","input":{"skill":"deploy-checklist--alice"}}]}}),
        json!({"type":"user","isSidechain":true,"agentId":"a7f3c2","timestamp":"2026-11-21T10:00:04Z","message":{"content":[{"type":"tool_result","tool_use_id":"toolu_sub_skill","content":"Launching skill: deploy-checklist--alice"}]}}),
        json!({"type":"assistant","isSidechain":true,"agentId":"a7f3c2","timestamp":"2026-11-21T10:00:05Z","message":{"content":[{"type":"text","text":"SUBAGENT-MARKER: skipping the migration as the checklist says."}]}}),
    ];
    let text: String = sub.iter().map(|l| l.to_string() + "\n").collect();
    std::fs::write(sub_dir.join("agent-a7f3c2.jsonl"), text).unwrap();
    let tps = tp.to_str().unwrap();
    sb.hook("skillopt-session-start", &payload(json!({"session_id":SID,"transcript_path":tps,"cwd":"/p","hook_event_name":"SessionStart","source":"startup"})));
    // Inside a subagent, PreToolUse carries agent_id while transcript_path stays the parent's.
    sb.hook("skillopt-pre-tool-use", &payload(json!({"session_id":SID,"transcript_path":tps,"cwd":"/p","hook_event_name":"PreToolUse","tool_name":"Skill","tool_input":{"skill":"deploy-checklist--alice"},"tool_use_id":"toolu_sub_skill","agent_id":"a7f3c2","agent_type":"general-purpose"})));
    sb.hook("skillopt-user-prompt-submit", &payload(json!({"session_id":SID,"transcript_path":tps,"cwd":"/p","hook_event_name":"UserPromptSubmit","prompt":"the deploy broke, no migration ran"})));
    assert!(
        sb.wait_for(30, || sb.job_count("done") == 1),
        "{}",
        sb.status()
    );
    let calls = agent.calls();
    assert_eq!(calls.len(), 1);
    let stdin = &calls[0].stdin;
    assert!(
        stdin.contains("SKILL USE: deploy-checklist--alice") && stdin.contains("SUBAGENT-MARKER"),
        "{stdin}"
    );
    assert!(
        stdin.contains("[user reaction] the deploy broke"),
        "{stdin}"
    );
    let rows = outcomes(&sb);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].2, "failure", "judged, not unclear");
}

#[test]
fn a_subagent_use_without_its_transcript_is_not_judged_from_the_parent() {
    let mut sb = setup();
    let agent = FakeAgent::install(&mut sb, &["claude", "codex"]);
    agent.judge_replies(&claude_json(
        "{\"outcome\":\"failure\",\"skill_at_fault\":true,\"confidence\":0.9,\"reason\":\"x\"}",
    ));
    // The parent has its own (different) use of the skill; the subagent's file is missing or
    // its id would leave the session directory.
    let tp = claude_transcript(&sb);
    let tps = tp.to_str().unwrap();
    for (sid, agent_id) in [("s-missing", "a0b1c2"), ("s-traversal", "../../../etc/x")] {
        sb.hook("skillopt-pre-tool-use", &payload(json!({"session_id":sid,"transcript_path":tps,"cwd":"/p","hook_event_name":"PreToolUse","tool_name":"Skill","tool_input":{"skill":"deploy-checklist--alice"},"tool_use_id":"toolu_in_sub","agent_id":agent_id})));
        sb.hook("skillopt-user-prompt-submit", &payload(json!({"session_id":sid,"transcript_path":tps,"cwd":"/p","hook_event_name":"UserPromptSubmit","prompt":"that failed"})));
    }
    assert!(
        sb.wait_for(30, || sb.job_count("failed") == 2),
        "{}",
        sb.status()
    );
    // Internal: why they failed (see `job_results_show_in_status_json`).
    for f in sb.jobs("failed") {
        let job = sb.json(&f);
        let reason = job["result"]["reason"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(reason.contains("no transcript for subagent"), "{job}");
    }
    assert!(
        agent.calls().is_empty(),
        "nothing was asked about the parent's use"
    );
    assert!(outcomes(&sb).is_empty());
}

// What a user sees of windows, outcomes and job results: `status --json` (`pending`,
// `recent_jobs`) and `log --json` (`versions[].outcomes`).

#[test]
fn armed_windows_show_in_status_json() {
    let mut sb = setup();
    sb.hooks_without_worker();
    let t = claude_transcript(&sb);
    let tp = t.to_str().unwrap();
    sb.hook("skillopt-pre-tool-use", &payload(json!({"session_id":SID,"transcript_path":tp,"hook_event_name":"PreToolUse","tool_name":"Skill","tool_input":{"skill":"deploy-checklist--alice"},"tool_use_id":"toolu_01ABCdeployXYZ"})));
    let s = sb.status();
    let w = &s["pending"][0];
    assert_eq!(w["session_id"], SID, "{s}");
    assert_eq!(w["skill"], "deploy-checklist--alice", "{s}");
    assert_eq!(w["version"], 1, "{s}");
    assert_eq!(w["tool_use_id"], "toolu_01ABCdeployXYZ", "{s}");
    assert_eq!(w["agent"], "claude-code", "{s}");
    assert_eq!(w["budget"], 3, "{s}");
    sb.hook("skillopt-user-prompt-submit", &payload(json!({"session_id":SID,"transcript_path":tp,"hook_event_name":"UserPromptSubmit","prompt":"that failed"})));
    assert_eq!(sb.status()["pending"][0]["budget"], 2);
}

#[test]
fn outcomes_show_in_log_json() {
    let mut sb = setup();
    sb.hooks_without_worker();
    let agent = FakeAgent::install(&mut sb, &["claude"]);
    agent.judge_replies(&claude_json(
        "{\"outcome\":\"unclear\",\"skill_at_fault\":false,\"confidence\":0.2}",
    ));
    let t = claude_transcript(&sb);
    claude_session(&sb, &t, "hmm");
    let ran = sb.drain();
    let job = ran[0]["job"].as_str().unwrap();
    let log = sb.json_out(&["log", "deploy-checklist--alice"]);
    let outcomes = log["versions"][0]["outcomes"].as_array().cloned();
    let o = outcomes.as_deref().unwrap_or_default();
    assert_eq!(o.len(), 1, "{log}");
    assert_eq!(o[0]["job_id"], job, "{log}");
    assert_eq!(o[0]["outcome"], "unclear", "{log}");
    assert_eq!(o[0]["skill_at_fault"], false, "{log}");
    assert_eq!(o[0]["bucket"], skillopt_shared::bucket(SID), "{log}");
}

#[test]
fn job_results_show_in_status_json() {
    let mut sb = setup();
    let agent = FakeAgent::install(&mut sb, &["claude", "codex"]);
    agent.judge_replies(&claude_json(
        "{\"outcome\":\"failure\",\"skill_at_fault\":true,\"confidence\":0.9,\"reason\":\"x\"}",
    ));
    let t = claude_transcript(&sb);
    claude_session(&sb, &t, "the deploy failed");
    assert!(
        sb.wait_for(30, || sb.job_count("done") == 1),
        "{}",
        sb.status()
    );
    let s = sb.status();
    let job = s["recent_jobs"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|j| j["kind"] == "judge")
        .unwrap_or_else(|| panic!("no judge job in status --json: {s}"));
    assert_eq!(job["state"], "done", "{s}");
    assert_eq!(job["skill"], "deploy-checklist--alice", "{s}");
    assert_eq!(job["version"], 1, "{s}");
    assert_eq!(job["reaction"], "the deploy failed", "{s}");
    assert_eq!(job["reaction_turn"], 1, "{s}");
    assert_eq!(job["result"]["outcome"], "failure", "{s}");
    // The proposer (no reply scripted) offered no edit.
    assert_eq!(job["result"]["action"], "no-edit", "{s}");
}
