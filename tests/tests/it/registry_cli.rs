//! push → pull → push again → pull upgrades → log → diff, with the real `skillopt` binary.

use skillopt_tests::{skill_md, stderr, stdout, Sandbox};

#[test]
fn push_pull_upgrade_log_diff() {
    let sb = Sandbox::new();
    let dir = sb.write_skill(
        "deploy-checklist",
        &skill_md("deploy-checklist", "1. Run the tests.\n2. Deploy.\n"),
    );
    let out = sb.ok(&["push", dir.to_str().unwrap(), "--author", "alice"]);
    assert!(
        out.contains("deploy-checklist--alice: published v1"),
        "{out}"
    );
    let again = sb.ok(&["push", dir.to_str().unwrap(), "--author", "alice"]);
    assert!(again.contains("unchanged"), "{again}");

    let pulled = sb.ok(&["pull"]);
    assert!(pulled.contains("installed v1"), "{pulled}");
    for root in [sb.claude_skills(), sb.codex_skills()] {
        let text = std::fs::read_to_string(root.join("deploy-checklist--alice/SKILL.md")).unwrap();
        assert!(text.contains("name: deploy-checklist--alice"), "{text}");
        assert!(text.contains("skillopt-version: \"1\""), "{text}");
        assert!(text.contains("2. Deploy."));
    }
    let status = sb.status();
    assert_eq!(status["installed"][0]["version"], 1, "{status}");
    assert_eq!(
        status["installed"][0]["paths"].as_array().unwrap().len(),
        2,
        "{status}"
    );

    std::fs::write(
        dir.join("SKILL.md"),
        skill_md(
            "deploy-checklist",
            "1. Run the tests.\n2. Run the database migration.\n3. Deploy.\n",
        ),
    )
    .unwrap();
    assert!(sb
        .ok(&["push", dir.to_str().unwrap(), "--author", "alice"])
        .contains("published v2"));
    let up = sb.ok(&["pull"]);
    assert!(up.contains("upgraded v1 -> v2"), "{up}");
    let installed =
        std::fs::read_to_string(sb.codex_skills().join("deploy-checklist--alice/SKILL.md"))
            .unwrap();
    assert!(
        installed.contains("database migration") && installed.contains("skillopt-version: \"2\"")
    );
    assert!(sb.ok(&["pull"]).contains("up-to-date"));

    let log = sb.ok(&["log", "deploy-checklist--alice"]);
    assert!(
        log.contains("v2") && log.contains("v1") && log.contains("push"),
        "{log}"
    );
    let log_json: serde_json::Value =
        serde_json::from_str(&sb.ok(&["log", "deploy-checklist", "--json"])).unwrap();
    assert_eq!(log_json["versions"].as_array().unwrap().len(), 2);

    let diff = sb.ok(&["diff", "deploy-checklist--alice", "1", "2"]);
    assert!(diff.contains("+2. Run the database migration."), "{diff}");
    assert!(diff.contains("-2. Deploy."), "{diff}");
    assert_eq!(
        sb.ok(&["diff", "deploy-checklist--alice"]),
        diff,
        "default diff is latest-1 vs latest"
    );
    let bad = sb.skillopt(&["diff", "deploy-checklist--alice", "1", "9"]);
    assert!(!bad.status.success());
    assert!(stderr(&bad).contains("has no v9"), "{}", stderr(&bad));
    assert_eq!(stderr(&bad).lines().count(), 1, "error must be one line");
}

#[test]
fn pushing_an_installed_copy_is_unchanged() {
    let sb = Sandbox::new();
    let dir = sb.write_skill("lint", &skill_md("lint", "Run the linter.\n"));
    sb.ok(&["push", dir.to_str().unwrap(), "--author", "bob"]);
    sb.ok(&["pull"]);
    let installed = sb.claude_skills().join("lint--bob");
    let out = sb.ok(&["push", installed.to_str().unwrap()]);
    assert!(out.contains("lint--bob: unchanged"), "{out}");
}

#[test]
fn hand_edited_install_is_backed_up_not_lost() {
    let sb = Sandbox::new();
    let dir = sb.write_skill("lint", &skill_md("lint", "Run the linter.\n"));
    sb.ok(&["push", dir.to_str().unwrap(), "--author", "bob"]);
    sb.ok(&["pull"]);
    let file = sb.claude_skills().join("lint--bob/SKILL.md");
    let mut mine = std::fs::read_to_string(&file).unwrap();
    mine.push_str("\nMy local note.\n");
    std::fs::write(&file, &mine).unwrap();
    let status = sb.ok(&["status"]);
    assert!(status.contains("edited by hand"), "{status}");

    std::fs::write(
        dir.join("SKILL.md"),
        skill_md("lint", "Run the linter with --fix.\n"),
    )
    .unwrap();
    sb.ok(&["push", dir.to_str().unwrap(), "--author", "bob"]);
    let out = sb.ok(&["pull"]);
    assert!(out.contains("edited by hand"), "{out}");
    let backups: Vec<_> = std::fs::read_dir(file.parent().unwrap())
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("SKILL.md.local-")
        })
        .collect();
    assert_eq!(backups.len(), 1);
    assert_eq!(std::fs::read_to_string(backups[0].path()).unwrap(), mine);
    assert!(std::fs::read_to_string(&file).unwrap().contains("--fix"));
}

#[test]
fn pull_dry_run_writes_nothing() {
    let sb = Sandbox::new();
    let dir = sb.write_skill("lint", &skill_md("lint", "Run the linter.\n"));
    sb.ok(&["push", dir.to_str().unwrap(), "--author", "bob"]);
    let out = sb.ok(&["pull", "--dry-run"]);
    assert!(out.contains("would be installed"), "{out}");
    assert!(!sb.claude_skills().join("lint--bob").exists());
    assert_eq!(sb.status()["installed"], serde_json::json!([]));
}

#[test]
fn bad_input_gets_one_line_errors() {
    let sb = Sandbox::new();
    let nofm = sb.write_skill("x", "# no frontmatter\n");
    let o = sb.skillopt(&["push", nofm.to_str().unwrap(), "--author", "a"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("frontmatter"), "{}", stderr(&o));
    let bad_name = sb.write_skill("Bad", &skill_md("Bad Name", "x\n"));
    let o = sb.skillopt(&["push", bad_name.to_str().unwrap(), "--author", "a"]);
    assert!(
        !o.status.success() && stderr(&o).contains("skill name"),
        "{}",
        stderr(&o)
    );
    // Every push above failed: there is no registry yet, and `log` says so.
    let o = sb.skillopt(&["log", "nothing--here"]);
    assert!(!o.status.success() && stderr(&o).contains("no registry at"));
    let mut bad_reg = Sandbox::new();
    bad_reg.registry = "mysql://nope".into();
    let o = bad_reg.skillopt(&["pull"]);
    assert!(
        !o.status.success() && stderr(&o).contains("bad registry URL"),
        "{}",
        stderr(&o)
    );
    assert!(!stderr(&o).contains("panicked") && stdout(&o).is_empty());
}

#[test]
fn a_mistyped_registry_path_is_an_error_not_a_new_empty_registry() {
    let mut sb = Sandbox::new();
    let typo = sb.path().join("nope/dir/r.sqlite3");
    sb.registry = format!("sqlite://{}", typo.display());
    for args in [
        &["review", "list", "--json"][..],
        &["stats", "--json"],
        &["pull"],
        &["log", "deploy--alice", "--json"],
    ] {
        let o = sb.skillopt(args);
        assert!(
            !o.status.success(),
            "{args:?} succeeded on a missing registry"
        );
        assert!(
            stderr(&o).contains("no registry at"),
            "{args:?}: {}",
            stderr(&o)
        );
    }
    assert!(!typo.exists() && !sb.path().join("nope").exists());
    // Pushing is how a registry begins.
    let d = sb.write_skill("deploy", &skill_md("deploy", "# Deploy\n\nShip it.\n"));
    sb.ok(&["push", d.to_str().unwrap(), "--author", "alice"]);
    assert!(typo.exists());
    sb.ok(&["stats", "--json"]);
}
