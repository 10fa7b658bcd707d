//! `skillopt demo` on a machine with no agent CLI: runs the whole loop with the built-in
//! scripted agent, says so, and leaves nothing outside its sandbox.

use std::path::Path;
use std::process::Command;

use skillopt_tests::bin;

fn path_without_agents() -> String {
    let path = std::env::var("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .filter(|d| {
            !["claude", "codex", "cursor-agent", "hermes", "pi"]
                .iter()
                .any(|a| d.join(a).exists())
        })
        .map(|d| d.display().to_string())
        .collect::<Vec<_>>()
        .join(":")
}

fn is_empty(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .map(|mut r| r.next().is_none())
        .unwrap_or(true)
}

#[test]
fn demo_runs_the_whole_loop_in_a_sandbox() {
    let home = tempfile::tempdir().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(bin("skillopt"));
    for (k, _) in std::env::vars() {
        if k.starts_with("SKILLOPT_")
            || k.starts_with("XDG_")
            || k == "CLAUDE_CONFIG_DIR"
            || k == "CODEX_HOME"
        {
            cmd.env_remove(k);
        }
    }
    let out = cmd
        .arg("demo")
        .env("HOME", home.path())
        .env("TMPDIR", tmp.path())
        .env("PATH", path_without_agents())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("BUILT-IN SCRIPTED DEMO AGENT"), "{text}");
    assert!(text.contains("deploy-checklist--alice: published v1"));
    assert!(text.contains("installed v1"));
    assert!(
        text.contains("verdict: failure  action: published:v2"),
        "{text}"
    );
    assert!(
        text.contains("+3. Run the database migration before deploying"),
        "{text}"
    );
    assert!(text.contains("skillopt-version: \"2\""), "{text}");
    assert!(text.contains("0 bytes on stdout"));
    assert!(is_empty(home.path()), "the demo wrote into HOME");
    assert!(is_empty(tmp.path()), "the demo left its sandbox behind");
}
