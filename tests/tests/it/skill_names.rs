//! Skill identities both agents can load: `push` refuses a `<name>--<author>` over 64
//! characters or outside `[a-z0-9-]` (Codex refuses long names; `$name` fails on `.`/`@`), and
//! `pull` skips registry rows with such names, reports them by name, and installs the rest.

use skillopt_tests::{skill_md, stderr, stdout, Sandbox};

#[test]
fn push_refuses_names_codex_cannot_load() {
    let sb = Sandbox::new();
    let long_name = "a".repeat(58);
    let cases = [
        ("deploy", "ann.lee", "author \"ann.lee\""),
        ("deploy", "ann@corp", "author \"ann@corp\""),
        (long_name.as_str(), "alice", "Codex loads at most 64"),
    ];
    for (name, author, why) in cases {
        let dir = sb.write_skill(name, &skill_md(name, "Do the thing.\n"));
        let out = sb.skillopt(&["push", dir.to_str().unwrap(), "--author", author]);
        assert_eq!(out.status.code(), Some(1), "{name}--{author} accepted");
        let err = stderr(&out);
        assert!(err.contains(why), "{err}");
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    }
    let dir = sb.write_skill("Deploy.Prod", &skill_md("Deploy.Prod", "x\n"));
    let out = sb.skillopt(&["push", dir.to_str().unwrap(), "--author", "alice"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    // Nothing was published.
    // Nothing was published: no registry was even created, or it lists nothing.
    let o = sb.skillopt(&["pull", "--dry-run", "--json"]);
    if o.status.success() {
        let rows: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(rows, serde_json::json!([]), "something was published");
    } else {
        assert!(stderr(&o).contains("no registry at"), "{}", stderr(&o));
    }
}

#[test]
fn push_derives_a_loadable_author_from_the_login() {
    let mut sb = Sandbox::new();
    sb.set_env("SKILLOPT_USER", "John.Doe@Corp");
    let dir = sb.write_skill("lint", &skill_md("lint", "Run the linter.\n"));
    let out = sb.ok(&["push", dir.to_str().unwrap()]);
    assert!(out.contains("lint--john-doe-corp: published v1"), "{out}");
}

#[test]
fn pull_skips_unloadable_rows_and_installs_the_rest() {
    let sb = Sandbox::new();
    let dir = sb.write_skill("deploy", &skill_md("deploy", "Deploy carefully.\n"));
    sb.ok(&["push", dir.to_str().unwrap(), "--author", "alice"]);
    // Rows another client (or an attacker) put straight into the registry (internal on
    // purpose: push refuses them, so only SQL can plant them).
    let conn = sb.sqlite();
    let long = "n".repeat(70);
    for (name, author) in [
        ("deploy", "ann.lee"),
        ("deploy", "ann@corp"),
        (long.as_str(), "bob"),
        ("../../evil", "bob"),
    ] {
        conn.execute(
            "INSERT INTO skills (name, author, version, body, sha256, status, parent_version, source, created_by, created_at)
             VALUES (?1, ?2, 1, ?3, 'x', 'active', NULL, 'push', 'mallory', '2026-11-01T00:00:00Z')",
            rusqlite::params![name, author, skill_md(name, "Evil.\n")],
        )
        .unwrap();
    }
    let out = sb.skillopt(&["pull", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let reports: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let reports = reports.as_array().unwrap();
    let skipped: Vec<&str> = reports
        .iter()
        .filter(|r| r["action"] == "skipped")
        .map(|r| r["skill"].as_str().unwrap())
        .collect();
    assert_eq!(skipped.len(), 4, "{reports:?}");
    assert!(skipped.contains(&"deploy--ann.lee"), "{skipped:?}");
    assert!(reports
        .iter()
        .any(|r| r["skill"] == "deploy--alice" && r["action"] == "installed"));
    for root in [sb.claude_skills(), sb.codex_skills()] {
        let dirs: Vec<String> = std::fs::read_dir(&root)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(dirs, ["deploy--alice"], "{}", root.display());
    }
    assert!(!sb.home().join("evil--bob").exists() && !sb.path().join("evil--bob").exists());
    let human = stdout(&sb.skillopt(&["pull"]));
    assert!(
        human.contains("deploy--ann.lee: skipped (v1)") && human.contains("Codex loads at most"),
        "{human}"
    );
}
