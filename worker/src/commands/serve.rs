//! `skillopt serve [--listen ADDR] [--registry URL]`: the registry over HTTP (see
//! [`crate::serve`]). `--registry` defaults to the configured registry (`SKILLOPT_REGISTRY`),
//! which must be SQLite or PostgreSQL: a server in front of another server is refused. Prints
//! `listening on http://ADDR` on stdout once requests can be made (with the port the system
//! chose for `--listen 127.0.0.1:0`).

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;

use crate::registry::RegistryUrl;
use crate::settings::Settings;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8787")]
    pub listen: SocketAddr,
    /// The registry to serve (`sqlite:///path` or `postgres://…`); default `SKILLOPT_REGISTRY`.
    #[arg(long)]
    pub registry: Option<String>,
}

pub fn run(settings: &Settings, args: Args) -> anyhow::Result<ExitCode> {
    let url = match &args.registry {
        Some(raw) => RegistryUrl::parse(raw)?,
        None => settings.registry_url()?,
    };
    if matches!(url, RegistryUrl::Http { .. }) {
        anyhow::bail!(
            "skillopt serve serves a database (sqlite:// or postgres://), not another server ({})",
            url.redacted()
        );
    }
    let shown = url.redacted();
    crate::serve::serve(url, args.listen, |addr| {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "listening on http://{addr} (registry {shown})");
        let _ = out.flush();
        tracing::info!(%addr, registry = %shown, "serving the registry");
    })?;
    Ok(ExitCode::SUCCESS)
}
