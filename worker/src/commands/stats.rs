//! `skillopt stats [--json]`: per skill and version, sessions attributed, uses judged, failures,
//! skill-at-fault failures and the failure rate (skill-at-fault failures / judged uses).

use std::process::ExitCode;

use crate::settings::Settings;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

pub fn run(settings: &Settings, args: Args) -> anyhow::Result<ExitCode> {
    let mut reg = settings.open_registry()?;
    let stats = reg.stats()?;
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
        super::print_json(&rows)?;
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
    Ok(ExitCode::SUCCESS)
}
