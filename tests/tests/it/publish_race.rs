//! N concurrent publishers of the same parent, as separate processes: exactly one success, the
//! rest a Conflict — on SQLite and on PostgreSQL.

use skillopt_tests::{postgres, run_concurrently, skill_md, Sandbox};

fn race(sb: &Sandbox) {
    let d = sb.write_skill("race", &skill_md("race", "v1\n"));
    sb.ok(&["push", d.to_str().unwrap(), "--author", "team"]);
    let n = 8;
    let cmds: Vec<_> = (0..n)
        .map(|i| {
            let dir = sb.write_skill(
                &format!("race-{i}"),
                &skill_md("race", &format!("v2 from {i}\n")),
            );
            sb.skillopt_cmd(&[
                "push",
                dir.to_str().unwrap(),
                "--author",
                "team",
                "--expect-parent",
                "1",
            ])
        })
        .collect();
    let outs = run_concurrently(cmds);
    let wins = outs.iter().filter(|o| o.status.success()).count();
    let conflicts = outs
        .iter()
        .filter(|o| !o.status.success() && String::from_utf8_lossy(&o.stderr).contains("conflict"))
        .count();
    assert_eq!(
        (wins, conflicts),
        (1, n - 1),
        "{:?}",
        outs.iter()
            .map(|o| String::from_utf8_lossy(&o.stderr).into_owned())
            .collect::<Vec<_>>()
    );
    let log: serde_json::Value =
        serde_json::from_str(&sb.ok(&["log", "race--team", "--json"])).unwrap();
    assert_eq!(log["versions"].as_array().unwrap().len(), 2);
}

#[test]
fn publish_race_sqlite() {
    race(&Sandbox::new());
}

#[test]
fn publish_race_postgres() {
    let Some(pg) = postgres() else { return };
    race(&Sandbox::with_registry(pg.url()));
}
