//! `skillopt stats [--json]`: per skill and version, sessions attributed, uses judged, failures,
//! skill-at-fault failures and the failure rate (skill-at-fault failures / judged uses); then
//! this machine's agent calls (judge, proposer, verifier) from its ledger over the days kept,
//! per skill and per UTC day: calls, errors, tokens in and out, and cost where the CLI reports
//! it.
//!
//! `--json` prints `{"versions": [...], "agent_calls": {"days", "total", "by_skill", "by_day"}}`.

use std::collections::BTreeMap;
use std::process::ExitCode;

use serde::Serialize;
use skillopt_state::agent_ledger::{self, Totals, KEEP_DAYS};
use skillopt_state::Paths;

use crate::settings::Settings;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

/// Totals for one skill (`None`: calls made outside a job, e.g. `skillopt judge`).
#[derive(Debug, Serialize)]
struct SkillCalls {
    skill: Option<String>,
    #[serde(flatten)]
    totals: Totals,
}

/// Totals for one UTC day.
#[derive(Debug, Serialize)]
struct DayCalls {
    day: String,
    #[serde(flatten)]
    totals: Totals,
}

/// This machine's agent calls over the days the ledger keeps.
#[derive(Debug, Serialize)]
struct AgentCalls {
    days: i64,
    total: Totals,
    by_skill: Vec<SkillCalls>,
    by_day: Vec<DayCalls>,
}

fn agent_calls(paths: &Paths) -> AgentCalls {
    let today = agent_ledger::day_of(chrono::Utc::now());
    let mut total = Totals::default();
    let mut by_skill: BTreeMap<Option<String>, Totals> = BTreeMap::new();
    let mut by_day: BTreeMap<String, Totals> = BTreeMap::new();
    for r in agent_ledger::records_since(paths, today) {
        total.add(&r);
        by_skill.entry(r.skill.clone()).or_default().add(&r);
        by_day
            .entry(r.day.format("%Y-%m-%d").to_string())
            .or_default()
            .add(&r);
    }
    AgentCalls {
        days: KEEP_DAYS,
        total,
        by_skill: by_skill
            .into_iter()
            .map(|(skill, totals)| SkillCalls { skill, totals })
            .collect(),
        by_day: by_day
            .into_iter()
            .map(|(day, totals)| DayCalls { day, totals })
            .collect(),
    }
}

pub fn run(paths: &Paths, settings: &Settings, args: Args) -> anyhow::Result<ExitCode> {
    let mut reg = settings.open_existing_registry()?;
    let stats = reg.stats()?;
    let calls = agent_calls(paths);
    if args.json {
        let rows: Vec<_> = stats
            .iter()
            .map(|s| {
                let mut v = serde_json::to_value(s).unwrap_or_default();
                v["skill"] = format!("{}--{}", s.name, s.author).into();
                v["failure_rate"] = s.failure_rate().into();
                v
            })
            .collect();
        super::print_json(&serde_json::json!({"versions": rows, "agent_calls": calls}))?;
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<40} {:>4} {:>9} {:>7} {:>9} {:>13} {:>8}",
        "skill", "ver", "sessions", "judged", "failures", "skill-at-fault", "rate"
    );
    for s in &stats {
        let rate = s
            .failure_rate()
            .map(|r| format!("{:.0}%", r * 100.0))
            .unwrap_or_else(|| "-".into());
        println!(
            "{:<40} {:>4} {:>9} {:>7} {:>9} {:>13} {:>8}",
            format!("{}--{}", s.name, s.author),
            format!("v{}", s.version),
            s.sessions,
            s.judged,
            s.failures,
            s.skill_failures,
            rate
        );
    }
    print_agent_calls(&calls);
    Ok(ExitCode::SUCCESS)
}

fn print_agent_calls(c: &AgentCalls) {
    println!();
    if c.total.calls == 0 {
        println!(
            "agent calls on this machine: none in the last {} days",
            c.days
        );
        return;
    }
    println!("agent calls on this machine, last {} days:", c.days);
    let header = |first: &str| {
        println!(
            "  {first:<40} {:>6} {:>6} {:>10} {:>10} {:>10}",
            "calls", "errors", "tokens in", "tokens out", "cost"
        )
    };
    let line = |label: &str, t: &Totals| {
        let n = |v: Option<u64>| v.map_or_else(|| "-".into(), |v| v.to_string());
        println!(
            "  {label:<40} {:>6} {:>6} {:>10} {:>10} {:>10}",
            t.calls,
            t.errors,
            n(t.input_tokens),
            n(t.output_tokens),
            t.cost_usd
                .map_or_else(|| "-".into(), |c| format!("${c:.4}"))
        );
    };
    header("skill");
    for s in &c.by_skill {
        line(s.skill.as_deref().unwrap_or("(no job)"), &s.totals);
    }
    header("day (UTC)");
    for d in &c.by_day {
        line(&d.day, &d.totals);
    }
    line("total", &c.total);
}
