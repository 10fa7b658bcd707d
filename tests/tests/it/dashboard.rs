//! The dashboard in a real browser: a `skillopt serve` process over SQLite, two skills pushed
//! with the `skillopt` CLI through it, an automatic candidate (with a changeset), a proposed
//! version, judged outcomes and a freeze seeded through its API, then headless Chromium
//! (Debian's `chromium`) signs in with a reader's token (`GET /login?token=…`, the scripted
//! sign-in) and the rendered DOM must show the skills, their versions, the figures, the review
//! queue and the changeset, with the registry's markup escaped. Without a token the browser
//! lands on the sign-in form. Over SQLite, and over PostgreSQL when `SKILLOPT_TEST_POSTGRES_URL`
//! is set.
//!
//! Skipped (one line) when `/usr/bin/chromium` is missing, unless `CI` or
//! `SKILLOPT_TEST_REQUIRE_BROWSER` is set: then it fails.

use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::json;
use skillopt_tests::serve_process::Server;
use skillopt_tests::{env_flag, skill_md, stderr, utc_now};

const CHROMIUM: &str = "/usr/bin/chromium";

/// Chromium, or `None` after printing that the test is skipped (a panic when it is required).
fn chromium() -> Option<&'static Path> {
    let p = Path::new(CHROMIUM);
    if p.exists() {
        return Some(p);
    }
    assert!(
        !(env_flag("CI") || env_flag("SKILLOPT_TEST_REQUIRE_BROWSER")),
        "{CHROMIUM} is missing and a browser is required here (CI or SKILLOPT_TEST_REQUIRE_BROWSER)"
    );
    eprintln!("skipped: {CHROMIUM} is missing (apt-get install chromium)");
    None
}

/// One `POST /v1/registry/<method>` as `token`, which must answer 200.
fn call(srv: &Server, method: &str, token: &str, body: serde_json::Value) -> serde_json::Value {
    let (status, json) = srv.post(method, Some(token), body.to_string().as_bytes());
    assert_eq!(status, 200, "{method}: {json}");
    json
}

/// The DOM Chromium renders at `url` (after redirects), in a fresh profile.
fn dump_dom(chromium: &Path, url: &str) -> String {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(chromium)
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
            "--virtual-time-budget=5000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(["--dump-dom", url])
        .stdin(Stdio::null())
        .output()
        .expect("run chromium");
    assert!(out.status.success(), "chromium: {}", stderr(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn skill(name: &str) -> serde_json::Value {
    json!({"name": name, "author": "alice"})
}

fn outcome(n: u32, name: &str, version: u32, outcome: &str, at_fault: bool) -> serde_json::Value {
    json!({"row": {
        "id": format!("o-{name}-{version}-{n}"), "job_id": format!("job-{name}-{version}-{n}"),
        "name": name, "author": "alice", "version": version, "bucket": 3,
        "outcome": outcome, "skill_at_fault": at_fault, "confidence": 0.9,
        "reason": "seeded", "agent": "claude-code", "model": "m", "judged_at": utc_now(),
    }})
}

/// An automatic version of `name` on top of `parent`, with its changeset.
fn automatic(name: &str, parent: u32, status: &str, reason: &str, diff: &str) -> serde_json::Value {
    json!({
        "new": {"skill": skill(name), "parent_version": parent, "body": format!("---\nname: {name}\ndescription: Use when deploying {name}.\n---\n1. Test.\n2. Check the logs.\n"),
                "source": "skillopt", "created_by": "x", "status": status},
        "changeset": {
            "id": format!("cs-{name}-{}", parent + 1), "name": name, "author": "alice",
            "version": parent + 1, "parent_version": parent, "fingerprint": format!("fp-{name}"),
            "edits": "[]", "diff": diff, "reason": reason, "evidence": "2 failed sessions",
            "job_id": null, "agent": "claude-code", "model": "m", "contributor": "x",
            "created_at": utc_now(), "verification": "", "machine": "m1",
        },
    })
}

#[test]
fn a_browser_signs_in_and_sees_the_skills_and_figures() {
    let Some(chromium) = chromium() else {
        return;
    };
    // Over SQLite, and over PostgreSQL when it is configured.
    let pg = skillopt_tests::postgres();
    for registry in [None, pg.as_ref().map(|p| p.url())] {
        browse(chromium, &Server::start_on(registry));
    }
}

fn browse(chromium: &Path, srv: &Server) {
    let admin = srv.token_with_id("root", "admin").1;
    let alice = srv.token_with_id("alice", "member").1;
    let rita = srv.token_with_id("rita", "reader").1;

    // Two skills pushed with the CLI through the server.
    let laptop = srv.client(Some(&alice));
    for name in ["deploy-checklist", "db-migrate"] {
        let dir = laptop.write_skill(name, &skill_md(name, "1. Test.\n2. Deploy.\n"));
        let out = laptop.skillopt(&["push", dir.to_str().unwrap(), "--author", "alice"]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    // deploy-checklist: v1 judged 4 times, 1 skill-at-fault failure (25%); an automatic
    // candidate v2 whose diff carries markup; db-migrate: a proposed v2, frozen.
    for (n, (o, fault)) in [
        ("failure", true),
        ("success", false),
        ("success", false),
        ("failure", false),
    ]
    .into_iter()
    .enumerate()
    {
        call(
            srv,
            "add_outcome",
            &admin,
            outcome(n as u32, "deploy-checklist", 1, o, fault),
        );
    }
    call(
        srv,
        "publish",
        &admin,
        automatic(
            "deploy-checklist",
            1,
            "candidate",
            "check the logs before <b>closing</b>",
            "+2. Check the logs.\n+<script>alert(1)</script>\n",
        ),
    );
    call(
        srv,
        "publish",
        &admin,
        automatic(
            "db-migrate",
            1,
            "proposed",
            "back up first",
            "+0. Back up.\n",
        ),
    );
    call(
        srv,
        "set_frozen",
        &admin,
        json!({"skill": skill("db-migrate"), "frozen": true, "reason": "too many reverts", "actor": "x"}),
    );

    // Signed out: the sign-in form.
    let dom = dump_dom(chromium, &srv.url("/"));
    assert!(
        dom.contains("id=\"login\"") && dom.contains("name=\"token\""),
        "{dom}"
    );
    assert!(!dom.contains("deploy-checklist"), "{dom}");
    // A wrong token: the form again, saying why.
    let dom = dump_dom(chromium, &srv.url("/login?token=so_0000"));
    assert!(
        dom.contains("id=\"problem\"") && dom.contains("unknown token"),
        "{dom}"
    );

    // A reader signs in and sees everything.
    let dom = dump_dom(chromium, &srv.url(&format!("/login?token={rita}")));
    for want in [
        "signed in as <b>rita</b> (reader)",
        "id=\"skill-deploy-checklist--alice\"",
        "id=\"skill-db-migrate--alice\"",
        // Active and candidate versions.
        "active <b class=\"active-versions\">v1</b> · candidate <b>v2</b>",
        // The figures of deploy-checklist v1: 4 judged uses, 1 of them the skill's fault.
        "<td class=\"n judged\">4</td><td class=\"n rate\">25% (1/4)</td>",
        "<svg class=\"chart\"",
        // How far the candidate is from the rollout rules' thresholds (default M 5, K 2).
        "candidate v2: 0 of 5 judged uses to be promoted, 0 of 2 skill-at-fault failures",
        // Review queue, policy and freeze.
        "id=\"review\"",
        "back up first",
        "policy canary",
        "frozen: too many reverts",
        // The changeset, its reason and its diff, escaped.
        "check the logs before &lt;b&gt;closing&lt;/b&gt;",
        "+2. Check the logs.",
        "&lt;script&gt;alert(1)&lt;/script&gt;",
        // The latest events.
        "frozen by root",
    ] {
        assert!(dom.contains(want), "missing {want:?} in {dom}");
    }
    assert!(!dom.contains("<script>alert"), "{dom}");
    assert!(!dom.contains(&rita), "the token must not be in the page");
}

#[test]
fn the_page_takes_a_bearer_token_or_the_cookie_and_never_logs_it() {
    let srv = Server::start();
    let (tom_id, tom) = srv.token_with_id("tom", "reader");
    let ok = |status: u16, head: &str| status == 200 && head.contains("content-type: text/html");

    // Signed out: to the form, which is HTML.
    let (status, head, _) = srv.raw("GET", "/", "", "");
    assert_eq!(status, 303, "{head}");
    assert!(head.contains("location: /login"), "{head}");
    let (status, head, body) = srv.raw("GET", "/login", "", "");
    assert!(
        ok(status, &head) && body.contains("name=\"token\""),
        "{head}{body}"
    );
    // Never framed, loads nothing from elsewhere, sends no Referer (a scripted sign-in's URL
    // holds a token).
    for wanted in [
        "content-security-policy: default-src 'none'",
        "frame-ancestors 'none'",
        "x-frame-options: deny",
        "referrer-policy: no-referrer",
    ] {
        assert!(head.contains(wanted), "{wanted}: {head}");
    }

    // The form's POST sets the cookie (HttpOnly, SameSite=Strict) and goes to the page.
    let form = "Content-Type: application/x-www-form-urlencoded\r\n";
    let (status, head, _) = srv.raw("POST", "/login", form, format!("token={tom}"));
    assert_eq!(status, 303, "{head}");
    assert!(head.contains("location: /\r\n"), "{head}");
    let cookie = format!("set-cookie: skillopt_token={tom}; httponly; samesite=strict; path=/");
    assert!(head.contains(&cookie), "{head}");
    assert!(!head.contains("secure"), "plain HTTP: {head}");
    let (_, head, _) = srv.raw(
        "POST",
        "/login",
        &format!("{form}X-Forwarded-Proto: https\r\n"),
        format!("token={tom}"),
    );
    assert!(head.contains("; secure"), "{head}");
    let (status, _, body) = srv.raw("POST", "/login", form, "token=so_nope");
    assert_eq!(status, 401);
    assert!(body.contains("unknown token"), "{body}");

    // The page with the cookie, or with a bearer header as the API takes it.
    for h in [
        format!("Cookie: a=b; skillopt_token={tom}\r\n"),
        format!("Authorization: Bearer {tom}\r\n"),
    ] {
        let (status, head, body) = srv.raw("GET", "/", &h, "");
        assert!(ok(status, &head), "{head}");
        assert!(body.contains("signed in as <b>tom</b> (reader)"), "{body}");
        assert!(body.contains("No skills yet"), "{body}");
    }
    // A revoked token signs the browser out.
    srv.admin.ok(&["serve", "token", "revoke", &tom_id]);
    let (status, head, _) = srv.raw("GET", "/", &format!("Cookie: skillopt_token={tom}\r\n"), "");
    assert_eq!(status, 303, "{head}");
    // Sign-out clears the cookie. The API's routes and errors are as they were.
    let (_, head, _) = srv.raw("GET", "/logout", "", "");
    assert!(
        head.contains("set-cookie: skillopt_token=;") && head.contains("max-age=0"),
        "{head}"
    );
    let (status, _, body) = srv.raw("POST", "/v1/registry/stats", "", "{}");
    assert_eq!(status, 401, "{body}");
    let log = std::fs::read_to_string(&srv.log).unwrap_or_default();
    assert!(!log.contains(&tom) && !log.contains(&tom[3..]), "{log}");
}
