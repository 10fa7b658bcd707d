//! Registry unreachable during sync → nothing lost; once it is back, each attribution is in the
//! registry exactly once. Asserted through `status --json` (outbox, jobs) and `log --json`
//! (sessions per version); only the sync marker is written directly, to ask for a sync now.

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
    assert_eq!(sb.status()["outbox"], 3);

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
        sb.wait_for(20, || sb.job_count("failed") > 0),
        "sync did not fail"
    );
    let status = sb.status();
    assert_eq!(status["outbox"], 4);
    assert_eq!(status["registry_reachable"], false);

    // Back up: a sync uploads everything once; a second sync uploads nothing more.
    sb.registry = good;
    std::fs::write(sb.state().join("sync.json"), "{}").unwrap();
    sb.hook("skillopt-session-start", p);
    assert!(
        sb.wait_for(20, || sb.job_count("done") == 1),
        "sync did not finish"
    );
    assert!(sb.wait_for(5, || sb.status()["outbox"] == 0));
    // Four sessions, each attributed once.
    let sessions = || sb.json_out(&["log", "lint--bob"])["versions"][0]["sessions"].clone();
    assert_eq!(sessions(), 4);
    // Re-running the upload path (as after a crash before the outbox delete) adds nothing.
    let again = sb.ok(&["worker", "drain"]);
    assert!(again.contains("no queued jobs"));
    assert_eq!(sessions(), 4);
}
