//! Registry unreachable during sync → nothing lost; once it is back, each attribution is in the
//! registry exactly once.

use skillopt_tests::{skill_md, Sandbox};

#[test]
fn outbox_survives_an_unreachable_registry() {
    let mut sb = Sandbox::new();
    let good = sb.registry.clone();
    let d = sb.write_skill("lint", &skill_md("lint", "lint\n"));
    sb.ok(&["push", d.to_str().unwrap(), "--author", "bob"]);
    sb.ok(&["pull"]);
    sb.no_auto_sync();
    for i in 0..3 {
        let p = format!(
            r#"{{"session_id":"s{i}","hook_event_name":"SessionStart","source":"startup"}}"#
        );
        sb.hook("skillopt-session-start", p.as_bytes());
    }
    assert_eq!(
        std::fs::read_dir(sb.state().join("outbox"))
            .unwrap()
            .count(),
        3
    );

    // Registry down: a closed port.
    sb.registry = "postgres://nobody@127.0.0.1:9/none?connect_timeout=2".into();
    let o = sb.skillopt(&["worker", "drain"]);
    assert!(o.status.success());
    let down = sb.skillopt(&["pull"]);
    assert!(!down.status.success());
    assert!(String::from_utf8_lossy(&down.stderr).contains("unreachable"));
    // Enqueue a sync job by hand the way the hook does, and run it: it fails, nothing lost.
    std::fs::write(sb.state().join("sync.json"), "{}").unwrap();
    sb.set_env("SKILLOPT_WORKER_BIN", "/nonexistent");
    let p = br#"{"session_id":"s9","hook_event_name":"SessionStart","source":"startup"}"#;
    sb.hook("skillopt-session-start", p);
    // The spawned worker (next to the hook) runs the sync against the dead registry.
    assert!(
        sb.wait_for(20, || !sb.jobs("failed").is_empty()),
        "sync did not fail"
    );
    assert_eq!(
        std::fs::read_dir(sb.state().join("outbox"))
            .unwrap()
            .count(),
        4
    );
    let status: serde_json::Value = serde_json::from_str(&sb.ok(&["status", "--json"])).unwrap();
    assert_eq!(status["outbox"], 4);
    assert_eq!(status["registry_reachable"], false);

    // Back up: a sync uploads everything once; a second sync uploads nothing more.
    sb.registry = good;
    std::fs::write(sb.state().join("sync.json"), "{}").unwrap();
    sb.hook("skillopt-session-start", p);
    assert!(
        sb.wait_for(20, || sb.jobs("done").len() == 1),
        "sync did not finish"
    );
    assert!(
        sb.wait_for(5, || std::fs::read_dir(sb.state().join("outbox"))
            .unwrap()
            .count()
            == 0)
    );
    let rows: Vec<(String, i64)> = {
        let c = sb.sqlite();
        let mut st = c
            .prepare("SELECT session_hash, COUNT(*) FROM attributions GROUP BY session_hash")
            .unwrap();
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert_eq!(rows.len(), 4, "{rows:?}");
    assert!(rows.iter().all(|(_, n)| *n == 1));
    // Re-running the upload path (as after a crash before the outbox delete) adds nothing.
    let again = sb.ok(&["worker", "drain"]);
    assert!(again.contains("no queued jobs"));
    let total: i64 = sb
        .sqlite()
        .query_row("SELECT COUNT(*) FROM attributions", [], |r| r.get(0))
        .unwrap();
    assert_eq!(total, 4);
}
