//! Hostile and unlucky state: torn files in the state dir, poison events in the outbox, racing
//! drains, transcripts that are not files, a PostgreSQL that never answers or holds a lock,
//! never-ending hook stdin, huge prompts, and passwords in registry URLs. Nothing may wedge and
//! nothing may be lost silently.
//!
//! These tests plant torn and hostile files in the state dir, so they write it directly; what
//! they assert goes through `status --json`, `log --json` and `worker drain --json`, except
//! where a file kept aside is itself the promise (`jobs/corrupt/`, `manifest.json.corrupt`) or
//! nothing public shows the state yet (an armed window, a queued job's kind).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use skillopt_tests::{skill_md, stderr, stdout, FakeAgent, Sandbox};

/// A ULID-shaped job id (Crockford base32, 26 chars) from a counter.
fn job_id(n: u32) -> String {
    format!("01HV{n:022}")
}

fn write_job(sb: &Sandbox, state: &str, job: &serde_json::Value) -> PathBuf {
    let dir = sb.state().join("jobs").join(state);
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(format!("{}.json", job["id"].as_str().unwrap()));
    std::fs::write(&p, job.to_string()).unwrap();
    p
}

fn sync_job(n: u32) -> serde_json::Value {
    serde_json::json!({"id": job_id(n), "kind": "sync", "created_at": "2024-01-01T00:00:00Z"})
}

/// Waits for a child at most `secs`; kills it and panics with `what` when it overruns.
fn finish_within(mut child: Child, secs: u64, what: &str) -> (Output, Duration) {
    let t0 = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut out = Vec::new();
            let mut err = Vec::new();
            if let Some(mut s) = child.stdout.take() {
                let _ = s.read_to_end(&mut out);
            }
            if let Some(mut s) = child.stderr.take() {
                let _ = s.read_to_end(&mut err);
            }
            let o = Output {
                status,
                stdout: out,
                stderr: err,
            };
            return (o, t0.elapsed());
        }
        if t0.elapsed() > Duration::from_secs(secs) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} still running after {secs}s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn spawn(mut c: Command) -> Child {
    c.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn")
}

fn status_json(sb: &Sandbox) -> serde_json::Value {
    serde_json::from_str(&sb.ok(&["status", "--json"])).unwrap()
}

#[test]
fn a_torn_job_file_is_moved_aside_and_drain_runs_the_others() {
    let mut sb = Sandbox::new();
    sb.no_auto_sync();
    write_job(&sb, "queued", &sync_job(1));
    let torn = sb
        .state()
        .join("jobs/queued")
        .join(format!("{}.json", job_id(2)));
    std::fs::write(&torn, br#"{"id":"01HV00000000000000"#).unwrap();
    write_job(&sb, "queued", &sync_job(3));

    let out = sb.ok(&["worker", "drain", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["ran"].as_array().unwrap().len(), 2, "{out}");
    assert_eq!(v["errors"].as_array().unwrap().len(), 1, "{out}");
    assert!(v["errors"][0]["error"]
        .as_str()
        .unwrap()
        .contains("corrupt"));
    assert!(!torn.exists());
    assert!(sb
        .state()
        .join("jobs/corrupt")
        .join(format!("{}.json", job_id(2)))
        .is_file());
    assert_eq!(status_json(&sb)["jobs"]["corrupt"], 1);
    assert!(sb.ok(&["status"]).contains("corrupt job file"));
    // A second drain has nothing left and does not trip over the corrupt one.
    assert!(sb.ok(&["worker", "drain"]).contains("no queued jobs"));
}

#[test]
fn fifos_and_links_under_state_names_never_wedge_anything() {
    let mut sb = Sandbox::new();
    sb.no_auto_sync();
    let d = sb.write_skill("deploy", &skill_md("deploy", "Deploy.\n"));
    sb.ok(&["push", d.to_str().unwrap(), "--author", "alice"]);
    sb.ok(&["pull"]);
    // Internal: planting hostile files is the point of this test.
    let queued = sb.state().join("jobs/queued");
    std::fs::create_dir_all(&queued).unwrap();
    let fifo = |p: &Path| {
        assert!(Command::new("mkfifo").arg(p).status().unwrap().success());
    };
    fifo(&queued.join(format!("{}.json", job_id(1))));
    std::os::unix::fs::symlink("/dev/zero", queued.join(format!("{}.json", job_id(2)))).unwrap();
    write_job(&sb, "queued", &sync_job(3));
    let outbox = sb.state().join("outbox");
    std::fs::create_dir_all(&outbox).unwrap();
    fifo(&outbox.join("outcome-fifo.json"));
    // The installed copy replaced by a FIFO: SessionStart would read it to check its digest.
    let installed = sb.claude_skills().join("deploy--alice/SKILL.md");
    std::fs::remove_file(&installed).unwrap();
    fifo(&installed);

    let (out, _) = finish_within(
        spawn(sb.skillopt_cmd(&["worker", "drain", "--json"])),
        30,
        "worker drain",
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ran"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["errors"].as_array().unwrap().len(), 2, "{v}");
    let again = finish_within(
        spawn(sb.skillopt_cmd(&["worker", "drain", "--json"])),
        30,
        "a second drain",
    );
    assert!(again.0.status.success());
    assert_eq!(status_json(&sb)["jobs"]["corrupt"], 2);
    let mut start = sb.cmd("skillopt-session-start");
    start.stdin(Stdio::piped());
    let mut child = start
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin
            .write_all(
                br#"{"session_id":"s-fifo","hook_event_name":"SessionStart","source":"startup"}"#,
            )
            .unwrap();
    }
    let (hook, _) = finish_within(child, 10, "SessionStart with a FIFO as SKILL.md");
    assert!(hook.status.success() && hook.stdout.is_empty());
}

#[test]
fn concurrent_drains_run_each_job_once() {
    let mut sb = Sandbox::new();
    sb.no_auto_sync();
    // Jobs left by a dead worker's earlier attempt: old files, a dead owner.
    let mut child = Command::new("true").spawn().unwrap();
    let dead = child.id();
    child.wait().unwrap();
    let n = 24;
    for i in 0..n {
        let mut j = sync_job(100 + i);
        j["worker_pid"] = dead.into();
        j["attempts"] = 1.into();
        let p = write_job(&sb, "queued", &j);
        let f = std::fs::OpenOptions::new().write(true).open(&p).unwrap();
        f.set_modified(std::time::SystemTime::now() - Duration::from_secs(3600))
            .unwrap();
    }
    let cmds = (0..4)
        .map(|_| sb.skillopt_cmd(&["worker", "drain", "--json"]))
        .collect();
    let mut ran = Vec::new();
    for o in skillopt_tests::run_concurrently(cmds) {
        assert!(o.status.success(), "{}", stderr(&o));
        let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
        for r in v["ran"].as_array().unwrap() {
            ran.push(r["job"].as_str().unwrap().to_string());
        }
    }
    ran.sort();
    let total = ran.len();
    ran.dedup();
    assert_eq!(total, ran.len(), "a job ran twice");
    assert_eq!(ran.len(), n as usize);
    assert_eq!(sb.job_count("done"), u64::from(n));
}

fn outcome_event(i: u32, reason: &str, at: &str) -> serde_json::Value {
    let job = job_id(500 + i);
    serde_json::json!({
        "key": format!("outcome-{job}"),
        "kind": "outcome",
        "created_at": at,
        "payload": {
            "id": format!("o{i}"), "job_id": job, "name": "lint", "author": "bob",
            "version": 1, "bucket": 4, "outcome": "failure", "skill_at_fault": true,
            "confidence": 0.9, "reason": reason, "agent": "claude-code", "model": "m",
            "judged_at": at,
        }
    })
}

#[test]
fn a_nul_in_a_judge_reply_does_not_stop_uploads_on_postgres() {
    let Some(pg) = skillopt_tests::postgres() else {
        return;
    };
    let mut sb = Sandbox::with_registry(pg.url());
    sb.no_auto_sync();
    let d = sb.write_skill("lint", &skill_md("lint", "lint\n"));
    sb.ok(&["push", d.to_str().unwrap(), "--author", "bob"]);
    let outbox = sb.state().join("outbox");
    std::fs::create_dir_all(&outbox).unwrap();
    // The oldest event holds a NUL from the judge's reply; PostgreSQL refuses it forever.
    let events = [
        outcome_event(0, "the judge said \u{0}", "2024-01-01T00:00:00Z"),
        outcome_event(1, "fine", "2024-01-01T00:00:01Z"),
        outcome_event(2, "also fine", "2024-01-01T00:00:02Z"),
    ];
    for e in &events {
        let key = e["key"].as_str().unwrap();
        std::fs::write(outbox.join(format!("{key}.json")), e.to_string()).unwrap();
    }
    std::fs::write(outbox.join("torn.json"), br#"{"key":"outcome-"#).unwrap();
    // Every waiting event is counted, the unreadable one too.
    let s = status_json(&sb);
    assert_eq!(
        (s["outbox"].as_u64(), s["outbox_unreadable"].as_u64()),
        (Some(4), Some(1))
    );

    let id = job_id(9);
    write_job(&sb, "queued", &sync_job(9));
    sb.ok(&["worker", "run", "--job", &id]);
    let s = status_json(&sb);
    assert_eq!(s["outbox"], 0, "{s}");
    assert_eq!(s["outbox_refused"], 2, "{s}");
    assert!(sb.ok(&["status"]).contains("refused by the registry"));
    let log = sb.json_out(&["log", "lint--bob"]);
    assert_eq!(
        log["versions"][0]["judged"], 2,
        "the good events after the poison one were uploaded: {log}"
    );
}

#[test]
fn hostile_transcripts_end_the_job_unclear_quickly() {
    let mut sb = Sandbox::new();
    sb.no_auto_sync();
    let fa = FakeAgent::install(&mut sb, &["claude"]);
    fa.judge_replies(&skillopt_tests::claude_json(
        r#"{"outcome":"failure","skill_at_fault":true,"confidence":0.9,"reason":"x"}"#,
    ));
    let d = sb.write_skill("lint", &skill_md("lint", "lint\n"));
    sb.ok(&["push", d.to_str().unwrap(), "--author", "bob"]);
    sb.ok(&["pull"]);
    let fifo = sb.path().join("fifo");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let dir = sb.path().join("a-dir");
    std::fs::create_dir_all(&dir).unwrap();
    for (i, t) in [Path::new("/dev/zero"), &fifo, &dir].iter().enumerate() {
        let id = job_id(40 + i as u32);
        write_job(
            &sb,
            "queued",
            &serde_json::json!({
                "id": id, "kind": "judge", "created_at": "2024-01-01T00:00:00Z",
                "session_id": "s1", "agent": "claude-code", "skill": "lint--bob", "version": 1,
                "transcript_path": t, "reaction": "that broke", "reaction_turn": 1,
            }),
        );
        let (o, took) = finish_within(
            spawn(sb.skillopt_cmd(&["worker", "run", "--job", &id])),
            60,
            &format!("worker on {}", t.display()),
        );
        assert!(o.status.success(), "{}", stderr(&o));
        let out = stdout(&o);
        assert!(out.contains("unclear"), "{}: {out}", t.display());
        assert!(out.contains("not a regular file"), "{}: {out}", t.display());
        assert!(took < Duration::from_secs(30), "{took:?}");
    }
    assert!(fa.calls().is_empty(), "no judge was asked");
}

/// A TCP server that accepts connections and never says a word.
fn silent_server() -> (u16, std::sync::mpsc::Sender<()>) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        l.set_nonblocking(true).unwrap();
        let mut held = Vec::new();
        while rx.try_recv().is_err() {
            if let Ok((s, _)) = l.accept() {
                held.push(s);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    });
    (port, tx)
}

#[test]
fn a_postgres_that_never_answers_is_reported_within_seconds() {
    let (port, stop) = silent_server();
    let mut sb = Sandbox::new();
    sb.no_auto_sync();
    sb.registry = format!(
        "postgres://skill:Hunter2Secret@127.0.0.1:{port}/reg?password=QueryS3cret&connect_timeout=2"
    );
    for args in [&["pull"][..], &["status"][..]] {
        let (o, took) = finish_within(
            spawn(sb.skillopt_cmd(args)),
            60,
            "skillopt on a mute server",
        );
        let all = format!("{}{}", stdout(&o), stderr(&o));
        assert!(took < Duration::from_secs(15), "{args:?} took {took:?}");
        assert!(all.contains("no answer from PostgreSQL"), "{args:?}: {all}");
        assert!(
            !all.contains("Hunter2Secret") && !all.contains("QueryS3cret"),
            "{all}"
        );
    }
    let _ = stop.send(());
}

#[test]
fn a_held_postgres_lock_gives_a_clear_error_within_seconds() {
    let Some(pg) = skillopt_tests::postgres() else {
        return;
    };
    let mut sb = Sandbox::with_registry(pg.url());
    sb.no_auto_sync();
    let d = sb.write_skill("lint", &skill_md("lint", "lint\n"));
    sb.ok(&["push", d.to_str().unwrap(), "--author", "bob"]);
    // Holding a table lock needs a connection of our own: no command offers one.
    let schema = pg.schema();
    let mut c = pg.client();
    let mut tx = c.transaction().unwrap();
    tx.batch_execute(&format!(
        "LOCK TABLE {schema}.skills IN ACCESS EXCLUSIVE MODE"
    ))
    .unwrap();
    let (o, took) = finish_within(spawn(sb.skillopt_cmd(&["pull"])), 60, "pull behind a lock");
    assert!(!o.status.success());
    assert!(stderr(&o).contains("lock"), "{}", stderr(&o));
    assert!(took < Duration::from_secs(20), "{took:?}");
    tx.rollback().unwrap();
    sb.ok(&["pull"]);
}

#[test]
fn a_torn_manifest_is_rebuilt_from_the_installed_copies() {
    let mut sb = Sandbox::new();
    sb.no_auto_sync();
    sb.hooks_without_worker();
    let d = sb.write_skill("lint", &skill_md("lint", "lint\n"));
    sb.ok(&["push", d.to_str().unwrap(), "--author", "bob"]);
    sb.ok(&["pull"]);
    let manifest = sb.state().join("manifest.json");
    let good = status_json(&sb)["installed"].clone();
    std::fs::write(&manifest, br#"{"version":1,"skills":[{"name":"li"#).unwrap();
    let p = br#"{"session_id":"s1","hook_event_name":"PreToolUse","tool_name":"Skill","tool_input":{"skill":"lint--bob"},"tool_use_id":"t1"}"#;
    assert!(sb.hook("skillopt-pre-tool-use", p).status.success());
    // Internal: the armed window (no command shows one).
    assert!(
        sb.session_dir("s1").join("pending.json").is_file(),
        "not armed"
    );
    // Rebuilt: the same skill, version and copies, and the copies match it (not hand-edited,
    // so the checksum was rebuilt right).
    let rebuilt = status_json(&sb)["installed"].clone();
    let (a, b) = (&rebuilt[0], &good[0]);
    assert_eq!(rebuilt.as_array().map(Vec::len), Some(1), "{rebuilt}");
    for k in ["skill", "version", "hand_edited", "missing"] {
        assert_eq!(a[k], b[k], "{k}: {rebuilt}");
    }
    assert_eq!(a["hand_edited"], serde_json::json!([]), "{rebuilt}");
    let mut pa: Vec<_> = a["paths"]
        .as_array()
        .unwrap()
        .clone()
        .into_iter()
        .map(|v| v.to_string())
        .collect();
    let mut pb: Vec<_> = b["paths"]
        .as_array()
        .unwrap()
        .clone()
        .into_iter()
        .map(|v| v.to_string())
        .collect();
    pa.sort();
    pb.sort();
    assert_eq!(pa, pb);
    assert!(sb.state().join("manifest.json.corrupt").is_file());
}

#[test]
fn a_torn_attribution_is_rewritten() {
    let mut sb = Sandbox::new();
    sb.no_auto_sync();
    sb.hooks_without_worker();
    let d = sb.write_skill("lint", &skill_md("lint", "lint\n"));
    sb.ok(&["push", d.to_str().unwrap(), "--author", "bob"]);
    sb.ok(&["pull"]);
    std::fs::create_dir_all(sb.session_dir("s1")).unwrap();
    let attr = sb.session_dir("s1").join("attribution.json");
    std::fs::write(&attr, b"{\"session_id\":\"s1\",\"bu").unwrap();
    let p = br#"{"session_id":"s1","hook_event_name":"SessionStart","source":"startup"}"#;
    sb.hook("skillopt-session-start", p);
    // Internal: the rewritten record (no command shows a session before its sync).
    let a = sb.json(&attr);
    assert_eq!(a["skills"][0]["name"], "lint");
    assert_eq!(status_json(&sb)["outbox"], 1);
}

#[test]
fn a_sync_marker_in_the_future_does_not_stop_syncs() {
    let mut sb = Sandbox::new();
    sb.hooks_without_worker();
    std::fs::create_dir_all(sb.state()).unwrap();
    std::fs::write(
        sb.state().join("sync.json"),
        r#"{"last_sync_at":"2999-01-01T00:00:00Z","last_request_at":"2999-01-01T00:00:00Z"}"#,
    )
    .unwrap();
    let p = br#"{"session_id":"s1","hook_event_name":"SessionStart","source":"startup"}"#;
    sb.hook("skillopt-session-start", p);
    assert_eq!(sb.job_count("queued"), 1, "no sync requested");
    // Internal: the job's kind (no command shows a queued job).
    assert_eq!(sb.json(&sb.jobs("queued")[0])["kind"], "sync");
}

#[test]
fn hooks_stop_reading_a_stdin_that_never_ends() {
    let sb = Sandbox::new();
    for hook in [
        "skillopt-session-start",
        "skillopt-pre-tool-use",
        "skillopt-user-prompt-submit",
    ] {
        let mut c = sb.cmd(hook);
        c.stdin(std::fs::File::open("/dev/zero").unwrap())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let (o, took) = finish_within(c.spawn().unwrap(), 60, hook);
        assert!(o.status.success(), "{hook}");
        assert!(o.stdout.is_empty(), "{hook}");
        assert!(took < Duration::from_secs(30), "{hook}: {took:?}");
    }
    let log = std::fs::read_to_string(sb.state().join("log/hooks.log")).unwrap();
    assert_eq!(log.matches("larger than").count(), 3, "{log}");
}

#[test]
fn a_two_megabyte_prompt_of_names_still_arms_the_org_skill() {
    let mut sb = Sandbox::new();
    sb.no_auto_sync();
    sb.hooks_without_worker();
    let d = sb.write_skill("lint", &skill_md("lint", "lint\n"));
    sb.ok(&["push", d.to_str().unwrap(), "--author", "bob"]);
    sb.ok(&["pull"]);
    let mut prompt = String::new();
    let mut n = 0;
    while prompt.len() < 2_000_000 {
        prompt.push_str(&format!("$skill-{n:06}--bench "));
        n += 1;
    }
    prompt.push_str("$lint--bob");
    let p =
        serde_json::json!({"session_id":"s1","hook_event_name":"UserPromptSubmit","prompt":prompt});
    let t0 = Instant::now();
    let o = sb.hook("skillopt-user-prompt-submit", p.to_string().as_bytes());
    assert!(o.status.success());
    // Generous: linear takes well under a second even unoptimised (bench/hooks.sh times it).
    assert!(t0.elapsed() < Duration::from_secs(20), "{:?}", t0.elapsed());
    // Internal: the armed window (no command shows one).
    let pending = sb.json(&sb.session_dir("s1").join("pending.json"));
    assert_eq!(pending["skill"], "lint--bob");
}

#[test]
fn registry_passwords_never_reach_the_terminal() {
    let mut sb = Sandbox::new();
    sb.no_auto_sync();
    for url in [
        "postgres://skill:Hunter2Secret@127.0.0.1:9/reg?connect_timeout=1",
        "postgres://skill@127.0.0.1:9/reg?password=QueryS3cret&connect_timeout=1",
        "postgresql://skill:Pa@ss:Hunter2Secret@127.0.0.1:9/reg?PASSWORD=QueryS3cret",
        "mysql://skill:Hunter2Secret@127.0.0.1/reg?password=QueryS3cret",
        "postgres://skill:Hunter2Secret@127.0.0.1:9/reg?schema=Not-Valid",
    ] {
        sb.registry = url.into();
        for args in [
            &["status"][..],
            &["status", "--json"][..],
            &["pull"][..],
            &["doctor"][..],
        ] {
            let o = sb.skillopt(args);
            let all = format!("{}{}", stdout(&o), stderr(&o));
            for secret in ["Hunter2Secret", "QueryS3cret"] {
                assert!(
                    !all.contains(secret),
                    "{url} {args:?} printed {secret}: {all}"
                );
            }
        }
    }
}
