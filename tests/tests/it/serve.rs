//! `skillopt serve` from the outside: a real server process over SQLite, real `skillopt`
//! clients pointed at it with `SKILLOPT_REGISTRY=http://127.0.0.1:PORT` and `SKILLOPT_TOKEN`,
//! and raw HTTP for the exact statuses. One test per rule of issue 11 section 2: 401 (no,
//! unknown, revoked token), 403 (role, someone else's author), 400, 413, a member's push that
//! works and is recorded under the token's user, and tokens kept out of logs and listings.

use std::io::Write;
use std::process::Stdio;

use skillopt_tests::serve_process::Server;
use skillopt_tests::skill_session::next_sync;
use skillopt_tests::{skill_md, stderr, Sandbox};

fn push(sb: &Sandbox, name: &str, author: &str, body: &str) -> std::process::Output {
    let dir = sb.write_skill(&format!("{name}-{author}"), &skill_md(name, body));
    // `write_skill` names the directory; the skill's name comes from its frontmatter.
    sb.skillopt(&["push", dir.to_str().unwrap(), "--author", author])
}

fn kind(v: &serde_json::Value) -> &str {
    v["error"]["kind"].as_str().unwrap_or("")
}

#[test]
fn a_member_pushes_their_own_skill_and_a_reader_installs_it() {
    let srv = Server::start();
    let (_, alice) = srv.token_with_id("alice", "member");
    let (_, rita) = srv.token_with_id("rita", "reader");
    let laptop = srv.client(Some(&alice));
    let out = push(
        &laptop,
        "deploy-checklist",
        "alice",
        "1. Test.\n2. Deploy.\n",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let other = srv.client(Some(&rita));
    let pulled = other.ok(&["pull"]);
    assert!(pulled.contains("installed v1"), "{pulled}");
    // doctor says whose token it is, and that a reader's machine records nothing.
    let doctor = skillopt_tests::stdout(&other.skillopt(&["doctor"]));
    assert!(doctor.contains("(token of rita, reader)"), "{doctor}");
    assert!(doctor.contains("[warn] a reader's token"), "{doctor}");
    let text = std::fs::read_to_string(
        other
            .claude_skills()
            .join("deploy-checklist--alice/SKILL.md"),
    )
    .unwrap();
    assert!(text.contains("2. Deploy."), "{text}");
    // Recorded under the token's user, not the client's SKILLOPT_USER ("tester").
    let (status, history) = srv.post(
        "history",
        Some(&rita),
        br#"{"skill": {"name": "deploy-checklist", "author": "alice"}}"#,
    );
    assert_eq!(status, 200, "{history}");
    assert_eq!(history[0]["created_by"], "alice", "{history}");
}

#[test]
fn no_unknown_or_revoked_token_is_401_and_changes_nothing() {
    let srv = Server::start();
    let (alice_id, alice) = srv.token_with_id("alice", "member");
    let (_, rita) = srv.token_with_id("rita", "reader");
    for token in [None, Some("so_0000"), Some("")] {
        let (status, v) = srv.post("stats", token, b"{}");
        assert_eq!((status, kind(&v)), (401, "unauthorized"), "{token:?}: {v}");
        let out = push(&srv.client(token), "deploy", "alice", "x\n");
        assert!(!out.status.success());
        assert!(stderr(&out).contains("401"), "{}", stderr(&out));
    }
    // Without a good token a large body is not even read: an oversized one is still a 401,
    // not a 413 (a stranger cannot make the server buffer megabytes).
    let big = vec![b' '; 3 * 1024 * 1024];
    for token in [None, Some("so_0000")] {
        let (status, v) = srv.post("stats", token, &big);
        assert_eq!((status, kind(&v)), (401, "unauthorized"), "{token:?}: {v}");
    }
    assert_eq!(srv.post("stats", Some(&alice), b"{}").0, 200);
    srv.admin.ok(&["serve", "token", "revoke", &alice_id]);
    let (status, v) = srv.post("stats", Some(&alice), b"{}");
    assert_eq!((status, kind(&v)), (401, "unauthorized"), "{v}");
    assert!(!push(&srv.client(Some(&alice)), "deploy", "alice", "x\n")
        .status
        .success());
    let (status, v) = srv.post("all_latest_active", Some(&rita), b"{}");
    assert_eq!((status, v), (200, serde_json::json!([])));
    // Revoking twice, or an unknown id, is an error.
    assert!(!srv
        .admin
        .skillopt(&["serve", "token", "revoke", &alice_id])
        .status
        .success());
}

#[test]
fn roles_and_authors_are_403() {
    let srv = Server::start();
    let (_, rita) = srv.token_with_id("rita", "reader");
    let (_, alice) = srv.token_with_id("alice", "member");
    let (_, carol) = srv.token_with_id("carol", "maintainer");
    // A reader cannot push; a member cannot push under someone else's author.
    for (token, author) in [(&rita, "rita"), (&alice, "bob")] {
        let out = push(&srv.client(Some(token)), "deploy", author, "x\n");
        assert!(!out.status.success(), "{author}");
        assert!(stderr(&out).contains("403"), "{}", stderr(&out));
    }
    // A maintainer can; a member then cannot freeze it, a maintainer can.
    let out = push(&srv.client(Some(&carol)), "deploy", "bob", "x\n");
    assert!(out.status.success(), "{}", stderr(&out));
    let out = srv
        .client(Some(&alice))
        .skillopt(&["freeze", "deploy--bob", "--reason", "mine"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("403"), "{}", stderr(&out));
    srv.client(Some(&carol))
        .ok(&["freeze", "deploy--bob", "--reason", "noisy"]);
    // Only the maintainer's push and freeze happened, recorded under their name.
    let (_, events) = srv.post(
        "events",
        Some(&rita),
        br#"{"skill": {"name": "deploy", "author": "bob"}}"#,
    );
    let actors: Vec<String> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| format!("{}:{}", e["kind"], e["actor"]).replace('"', ""))
        .collect();
    assert_eq!(actors, ["published:carol", "frozen:carol"], "{events}");
    let (_, all) = srv.post("all_latest_active", Some(&rita), b"{}");
    assert_eq!(all.as_array().unwrap().len(), 1, "{all}");
}

#[test]
fn malformed_is_400_oversized_is_413_and_neither_changes_anything() {
    let srv = Server::start();
    let (_, carol) = srv.token_with_id("carol", "maintainer");
    let t = Some(carol.as_str());
    let (status, v) = srv.post("publish", t, b"{\"new\": ");
    assert_eq!((status, kind(&v)), (400, "bad_request"), "{v}");
    let bad_name = br#"{"new": {"skill": {"name": "../etc", "author": "carol"},
        "parent_version": 0, "body": "b", "source": "push", "created_by": "carol",
        "status": "active"}, "changeset": null}"#;
    let (status, v) = srv.post("publish", t, bad_name);
    assert_eq!((status, kind(&v)), (400, "bad_request"), "{v}");
    let big = format!(
        r#"{{"new": {{"skill": {{"name": "big", "author": "carol"}}, "parent_version": 0,
        "body": "{}", "source": "push", "created_by": "carol", "status": "active"}},
        "changeset": null}}"#,
        "x".repeat(3 * 1024 * 1024)
    );
    let (status, v) = srv.post("publish", t, big.as_bytes());
    assert_eq!((status, kind(&v)), (413, "too_large"), "{v}");
    let (status, v) = srv.post("all_latest_active", t, b"{}");
    assert_eq!((status, v), (200, serde_json::json!([])));
}

#[test]
fn tokens_never_reach_logs_or_listings() {
    let srv = Server::start();
    let (_, alice) = srv.token_with_id("alice", "member");
    let out = push(&srv.client(Some(&alice)), "deploy", "alice", "x\n");
    assert!(out.status.success(), "{}", stderr(&out));
    srv.post("stats", Some("so_wrong-token-value"), b"{}");
    // A token pasted into the path is not logged either.
    srv.post(&alice, Some(&alice), b"{}");
    let listing = srv.admin.ok(&["serve", "token", "list"]);
    assert!(
        listing.contains("alice") && listing.contains("member"),
        "{listing}"
    );
    let log = srv.log();
    assert!(log.contains("registry call"), "debug log is on: {log}");
    for shown in [
        &listing,
        &log,
        &srv.admin.ok(&["serve", "token", "list", "--json"]),
    ] {
        assert!(!shown.contains(&alice), "token shown: {shown}");
        assert!(!shown.contains("wrong-token-value"), "token shown: {shown}");
    }
    // The client never shows it either.
    let status = srv.client(Some(&alice)).ok(&["status", "--json"]);
    assert!(!status.contains(&alice), "{status}");
}

/// `skillopt login <url>` with `token` on stdin.
fn login(sb: &Sandbox, url: &str, token: &str) -> std::process::Output {
    let mut child = sb
        .skillopt_cmd(&["login", url])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{token}").unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn login_stores_the_token_privately_and_the_client_uses_it() {
    use std::os::unix::fs::PermissionsExt;
    let srv = Server::start();
    let (_, alice) = srv.token_with_id("alice", "member");
    let url = format!("http://127.0.0.1:{}", srv.port);
    let laptop = srv.client(None);
    let creds = laptop.path().join("xdg-config/skillopt/credentials.json");
    // A token the server refuses is not stored.
    let out = login(&laptop, &url, "so_not-a-token");
    assert!(!out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("401"), "{}", stderr(&out));
    assert!(!creds.exists());
    // doctor asks the server: a refused token is a failed check.
    let doctor = skillopt_tests::stdout(&laptop.skillopt(&["doctor"]));
    let line = doctor
        .lines()
        .find(|l| l.starts_with("[FAIL] registry"))
        .unwrap_or("");
    assert!(line.contains("401"), "{doctor}");
    let out = login(&laptop, &url, &alice);
    assert!(out.status.success(), "{}", stderr(&out));
    let said = skillopt_tests::stdout(&out);
    assert!(!said.contains(&alice), "{said}");
    assert!(said.contains("as alice (member)"), "{said}");
    let mode = std::fs::metadata(&creds).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let doctor = skillopt_tests::stdout(&laptop.skillopt(&["doctor"]));
    assert!(
        doctor.contains(&format!("registry {url} answers (token of alice, member)")),
        "{doctor}"
    );
    assert!(!doctor.contains("reader's token"), "{doctor}");
    // No SKILLOPT_TOKEN: the stored token is sent, and shown as stored, never in full.
    let out = push(&laptop, "deploy", "alice", "x\n");
    assert!(out.status.success(), "{}", stderr(&out));
    let status = laptop.status();
    let token = status["settings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "token")
        .unwrap();
    assert_eq!(token["value"], "set (not shown)", "{token}");
    assert!(
        token["source"]
            .as_str()
            .unwrap()
            .starts_with("skillopt login"),
        "{token}"
    );
    assert!(!status.to_string().contains(&alice));
}

/// The whole loop through one server with tokens only: alice's machine pushes, a failing use
/// is judged and improved by her worker (a member's automatic version), bob's machine installs
/// it at its next pull; the judged outcome reaches the server; who did what is the tokens'
/// users. On SQLite, and on PostgreSQL when `SKILLOPT_TEST_POSTGRES_URL` is set.
#[test]
fn two_machines_run_the_loop_through_the_server_with_tokens_only() {
    use skillopt_tests::skill_session::{append_edit, failing_use, installed_version, verdict};
    let pg = skillopt_tests::postgres();
    for registry in [None, pg.as_ref().map(|p| p.url())] {
        let srv = Server::start_on(registry);
        let (_, alice) = srv.token_with_id("alice", "member");
        let (_, bob) = srv.token_with_id("bob", "member");
        let (_, carol) = srv.token_with_id("carol", "maintainer");
        let mut a = srv.client(Some(&alice));
        a.hooks_without_worker();
        a.no_auto_sync();
        let agent = skillopt_tests::FakeAgent::install(&mut a, &["claude"]);
        let mut b = srv.client(Some(&bob));
        b.hooks_without_worker();
        let out = push(
            &a,
            "deploy",
            "alice",
            "1. Test.\n2. Skip the migration.\n3. Deploy.\n",
        );
        assert!(out.status.success(), "{}", stderr(&out));
        // Verified edits go live at once: a maintainer's call.
        srv.client(Some(&carol))
            .ok(&["policy", "deploy--alice", "auto"]);
        a.ok(&["pull"]);
        b.ok(&["pull"]);
        agent.judge_replies(&verdict("failure", true));
        agent.proposer_replies(&append_edit("Always run the migration first."));
        let r = failing_use(&a, "deploy--alice", "s1");
        assert_eq!(r["action"], "published:v2", "{registry:?}: {r}");
        a.ok(&["pull"]);
        // Bob's machine installs v2 at its next sync (the one its next session asks for).
        let synced = next_sync(&b, "bob-next");
        assert!(synced.contains("installed:1"), "{synced}");
        assert_eq!(installed_version(&b, "deploy--alice"), 2);
        let (_, history) = srv.post(
            "history",
            Some(&bob),
            br#"{"skill": {"name": "deploy", "author": "alice"}}"#,
        );
        let by: Vec<&str> = history
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["created_by"].as_str().unwrap())
            .collect();
        assert_eq!(by, ["alice", "alice"], "{history}");
        let (_, stats) = srv.post("stats", Some(&bob), b"{}");
        let v1 = stats
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["version"] == 1)
            .unwrap_or_else(|| panic!("{stats}"));
        assert_eq!(
            (v1["judged"].as_u64(), v1["skill_failures"].as_u64()),
            (Some(1), Some(1)),
            "{stats}"
        );
    }
}

/// The registry methods the server answered since `from` (a length of its log).
fn calls_since(srv: &Server, from: usize) -> Vec<String> {
    srv.log()[from..]
        .lines()
        .filter(|l| l.contains("registry call"))
        .filter_map(|l| l.split("method=").nth(1))
        .filter_map(|m| m.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

#[test]
fn an_up_to_date_sync_asks_one_small_question_and_a_change_is_pulled_at_the_next() {
    use skillopt_tests::skill_session::installed_version;
    let srv = Server::start();
    let (_, alice) = srv.token_with_id("alice", "member");
    let (_, bob) = srv.token_with_id("bob", "member");
    let a = srv.client(Some(&alice));
    let mut b = srv.client(Some(&bob));
    b.hooks_without_worker();
    let out = push(&a, "deploy", "alice", "1. Test.\n2. Deploy.\n");
    assert!(out.status.success(), "{}", stderr(&out));

    let first = next_sync(&b, "s1");
    assert!(!first.contains("nothing new"), "{first}");
    assert_eq!(installed_version(&b, "deploy--alice"), 1);

    // Nothing changed: one `revision` call (and no upload: the outbox holds nothing the
    // registry lacks — the session's attribution went up with the first sync).
    let _ = next_sync(&b, "s2");
    let mark = srv.log().len();
    let quiet = next_sync(&b, "s2");
    assert!(quiet.contains("nothing new in the registry"), "{quiet}");
    let calls = calls_since(&srv, mark);
    assert!(
        calls.contains(&"revision".to_string()) && !calls.contains(&"installable".to_string()),
        "an up-to-date sync reads the revision, not every skill: {calls:?}"
    );

    // A new version is pulled at the next sync.
    let out = push(&a, "deploy", "alice", "1. Test.\n2. Migrate.\n3. Deploy.\n");
    assert!(out.status.success(), "{}", stderr(&out));
    let changed = next_sync(&b, "s3");
    assert!(!changed.contains("nothing new"), "{changed}");
    assert_eq!(installed_version(&b, "deploy--alice"), 2);

    // A change on the machine (its copy deleted) also gets a full pull, which puts it back.
    let copy = b.claude_skills().join("deploy--alice");
    std::fs::remove_dir_all(&copy).unwrap();
    let repaired = next_sync(&b, "s4");
    assert!(!repaired.contains("nothing new"), "{repaired}");
    assert!(copy.join("SKILL.md").is_file(), "{repaired}");
    // A copy edited by hand since is noticed too: the full pull keeps the edit aside and puts
    // the registry's version back.
    let installed = std::fs::read_to_string(copy.join("SKILL.md")).unwrap();
    std::fs::write(
        copy.join("SKILL.md"),
        installed.replace("Migrate", "Skip it"),
    )
    .unwrap();
    let edited = next_sync(&b, "s4b");
    assert!(!edited.contains("nothing new"), "{edited}");
    assert_eq!(
        std::fs::read_to_string(copy.join("SKILL.md")).unwrap(),
        installed,
        "{edited}"
    );

    // So does a policy change in the registry (it may move this machine's channel).
    srv.client(Some(&srv.token_with_id("carol", "maintainer").1))
        .ok(&["policy", "deploy--alice", "canary", "--percent", "100"]);
    let after_policy = next_sync(&b, "s5");
    assert!(!after_policy.contains("nothing new"), "{after_policy}");
    assert!(next_sync(&b, "s6").contains("nothing new"));
}

#[test]
fn https_with_the_teams_certificate_and_a_client_that_trusts_it() {
    let srv = Server::start_tls();
    let (_, alice) = srv.token_with_id("alice", "member");
    let laptop = srv.client(Some(&alice));
    let out = push(&laptop, "deploy", "alice", "1. Test.\n2. Deploy.\n");
    assert!(out.status.success(), "{}", stderr(&out));
    let pulled = laptop.ok(&["pull"]);
    assert!(pulled.contains("installed v1"), "{pulled}");
    // A client that does not trust the certificate sends nothing and says why in one line.
    let mut stranger = srv.client(Some(&alice));
    stranger.set_env("SKILLOPT_CA_CERT", "");
    let out = push(&stranger, "deploy", "alice", "1. Changed.\n");
    assert!(!out.status.success());
    let err = stderr(&out);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.to_lowercase().contains("certificate"), "{err}");
    let log = laptop.json_out(&["log", "deploy--alice"]);
    assert_eq!(log["versions"].as_array().map(Vec::len), Some(1), "{log}");
    // Plain HTTP to the HTTPS port is no way around it: no HTTP answer comes back.
    let mut plain = std::net::TcpStream::connect(("127.0.0.1", srv.port)).unwrap();
    plain
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let _ = plain
        .write_all(b"POST /v1/registry/stats HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}");
    let mut answer = Vec::new();
    let _ = std::io::Read::read_to_end(&mut plain, &mut answer);
    assert!(!answer.starts_with(b"HTTP/"), "{answer:?}");
}

#[test]
fn sigterm_stops_the_server_after_what_is_in_flight() {
    let mut srv = Server::start();
    let (_, alice) = srv.token_with_id("alice", "member");
    let (status, _) = srv.post("stats", Some(&alice), b"{}");
    assert_eq!(status, 200);
    let pid = i32::try_from(srv.child.id()).unwrap();
    assert_eq!(send_sigterm(pid), 0);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let exit = loop {
        if let Some(s) = srv.child.try_wait().unwrap() {
            break s;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still running after SIGTERM"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(exit.success(), "{exit:?}: {}", srv.log());
    assert!(srv.log().contains("stopped"), "{}", srv.log());
}

/// Sends SIGTERM with the `kill` program (the tests crate has no unsafe code).
fn send_sigterm(pid: i32) -> i32 {
    std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .map(|s| s.code().unwrap_or(-1))
        .unwrap_or(-1)
}

/// What a connection may hold: its headers must arrive within the server's limit (a client that
/// sends half a request is cut off, not kept for ever), and an HTTP/2 connection may open a few
/// streams at once, not hyper's default 200 (each would hold its own body).
#[test]
fn a_half_sent_request_is_cut_off_and_http2_streams_are_few() {
    use std::io::Read;
    let srv = Server::start();
    let mut half = std::net::TcpStream::connect(("127.0.0.1", srv.port)).unwrap();
    half.write_all(b"POST /v1/registry/stats HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    half.set_read_timeout(Some(std::time::Duration::from_secs(60)))
        .unwrap();
    let started = std::time::Instant::now();
    let mut rest = Vec::new();
    let closed = half.read_to_end(&mut rest).is_ok();
    assert!(
        closed && started.elapsed() < std::time::Duration::from_secs(50),
        "still open after {:?}",
        started.elapsed()
    );
    let mut h2 = std::net::TcpStream::connect(("127.0.0.1", srv.port)).unwrap();
    h2.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        .unwrap();
    h2.set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    // Read its first frame only (the connection stays open).
    let mut answer = Vec::new();
    let mut buf = [0u8; 256];
    while answer.len() < 9
        || answer.len() < 9 + (usize::from(answer[1]) << 8 | usize::from(answer[2]))
    {
        match h2.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
        }
    }
    // The server's first frame is its SETTINGS (type 4): 6-byte entries of id and value, where
    // id 3 is SETTINGS_MAX_CONCURRENT_STREAMS.
    assert!(answer.len() >= 9 && answer[3] == 4, "{answer:?}");
    let len = usize::from(answer[1]) << 8 | usize::from(answer[2]);
    let streams = answer[9..9 + len]
        .chunks(6)
        .find(|e| e[..2] == [0, 3])
        .map(|e| u32::from_be_bytes([e[2], e[3], e[4], e[5]]));
    assert_eq!(streams, Some(8), "{answer:?}");
}

#[test]
fn a_token_whose_user_folds_to_anothers_author_is_warned_about() {
    let srv = Server::start();
    srv.token_with_id("bob", "member");
    let out = srv.admin.skillopt(&[
        "serve", "token", "create", "--user", "BOB!", "--role", "member",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("warning: BOB! and bob both push as author bob"),
        "{err}"
    );
    let out = srv.admin.skillopt(&[
        "serve", "token", "create", "--user", "carol", "--role", "member",
    ]);
    assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));
}

/// A machine with a reader's token installs what the registry has, and its sync counts as done:
/// the events it may not upload (403) wait in its outbox, said once per sync, not an error.
#[test]
fn a_readers_sync_installs_and_keeps_its_events_without_failing() {
    use skillopt_tests::skill_session::installed_version;
    let srv = Server::start();
    let (_, alice) = srv.token_with_id("alice", "member");
    let (_, rita) = srv.token_with_id("rita", "reader");
    let out = push(&srv.client(Some(&alice)), "deploy", "alice", "1. Test.\n");
    assert!(out.status.success(), "{}", stderr(&out));
    let mut laptop = srv.client(Some(&rita));
    laptop.hooks_without_worker();
    let first = next_sync(&laptop, "r1");
    assert_eq!(installed_version(&laptop, "deploy--alice"), 1, "{first}");
    // The next session's attribution is an event a reader may not upload.
    let second = next_sync(&laptop, "r2");
    assert!(second.contains(": synced"), "{second}");
    assert!(
        second.contains("the registry takes none from this machine") && second.contains("403"),
        "{second}"
    );
    let status = laptop.status();
    assert_eq!(status["jobs"]["failed"], 0, "{status}");
    assert!(
        status["outbox"].as_u64().is_some_and(|n| n > 0),
        "the events wait: {status}"
    );
    assert_eq!(status["outbox_refused"], 0, "none thrown away: {status}");
}
