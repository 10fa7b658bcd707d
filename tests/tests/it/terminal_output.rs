//! `skillopt diff` and `skillopt log` (text and `--json`) never print raw control, bidi or
//! zero-width characters from the registry: a hostile version body, changeset reason or
//! `created_by` shows up escaped as `\u{XXXX}`.

use skillopt_tests::{skill_md, Sandbox};

/// Characters that must never reach the terminal raw.
const HOSTILE: &[char] = &[
    '\u{1b}',
    '\u{7}',
    '\u{8}',
    '\r',
    '\0',
    '\u{7f}',
    '\u{9b}',
    '\u{202E}',
    '\u{2066}',
    '\u{200B}',
    '\u{FEFF}',
    '\u{E0041}',
    '\u{2028}',
];

fn assert_clean(what: &str, out: &str) {
    for c in out.chars() {
        assert!(
            c == '\n' || c == '\t' || !skillopt_shared::text::is_unsafe_for_terminal(c),
            "{what} printed U+{:04X} raw: {out:?}",
            u32::from(c)
        );
    }
}

#[test]
fn diff_and_log_escape_control_characters() {
    let sb = Sandbox::new();
    let dir = sb.write_skill("deploy", &skill_md("deploy", "1. Run the tests.\n"));
    sb.ok(&["push", dir.to_str().unwrap(), "--author", "alice"]);
    std::fs::write(
        dir.join("SKILL.md"),
        skill_md("deploy", "1. Run the tests.\n2. Deploy.\n"),
    )
    .unwrap();
    sb.ok(&["push", dir.to_str().unwrap(), "--author", "alice"]);
    // Write the hostile text straight into the registry, as a hostile registry user could.
    let evil: String = HOSTILE
        .iter()
        .map(|c| format!("x{c}[31m"))
        .collect::<Vec<_>>()
        .join(" ");
    let db = sb.sqlite();
    db.execute(
        "UPDATE skills SET body = body || ?1, created_by = ?1 WHERE version = 2",
        [&evil],
    )
    .unwrap();
    db.execute(
        "INSERT INTO changesets (id, name, author, version, parent_version, fingerprint, edits, \
         diff, reason, evidence, job_id, agent, model, contributor, created_at) \
         VALUES ('cs1', 'deploy', 'alice', 2, 1, 'fp', '[]', '', ?1, ?1, ?1, ?1, ?1, 'x', \
         '2026-01-01T00:00:00Z')",
        [&evil],
    )
    .unwrap();
    drop(db);

    let diff = sb.ok(&["diff", "deploy--alice", "1", "2"]);
    assert_clean("diff", &diff);
    assert!(diff.contains("\\u{001B}[31m"), "{diff}");
    assert!(diff.contains("\\u{202E}"), "{diff}");

    let log = sb.ok(&["log", "deploy--alice"]);
    assert_clean("log", &log);
    assert!(log.contains("reason:   x\\u{001B}[31m"), "{log}");

    let json = sb.ok(&["log", "deploy--alice", "--json"]);
    assert_clean("log --json", &json);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let v2 = v["versions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["version"] == 2)
        .unwrap();
    assert_eq!(v2["created_by"], evil.as_str(), "JSON escapes round-trip");
    assert_eq!(v2["changeset"]["reason"], evil.as_str());
}
