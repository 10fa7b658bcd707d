//! `skillopt login <url>`: checks a token against a `skillopt serve` server and stores it for
//! that server, so `SKILLOPT_REGISTRY=<url>` works without `SKILLOPT_TOKEN`.
//!
//! The token is read at a prompt on the terminal without echo (or as one line piped to stdin) and
//! never printed. It is tried first (the server's `whoami`: who the token stands for, shown)
//! before anything is stored: a refused or unreachable token stores nothing. Where and how it is stored: [`crate::credentials`]. `SKILLOPT_TOKEN`,
//! when set, wins over a stored token.

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use crate::credentials::{credentials_path, save};
use crate::registry::http::HttpRegistry;
use crate::registry::RegistryUrl;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The server: `https://host[:port]` (or `http://` on loopback).
    pub url: String,
}

pub fn run(
    paths: &skillopt_state::Paths,
    settings: &crate::settings::Settings,
    args: Args,
) -> anyhow::Result<ExitCode> {
    let RegistryUrl::Http { base, .. } = RegistryUrl::parse(&args.url)? else {
        anyhow::bail!(
            "skillopt login is for a skillopt server: https://host[:port] (or http:// on loopback)"
        );
    };
    let stdin = std::io::stdin();
    let mut token = String::new();
    if stdin.is_terminal() {
        token = rpassword::prompt_password(format!("token for {base} (not shown): "))?;
    } else {
        stdin.lock().read_line(&mut token)?;
    }
    let token = token.trim();
    if token.is_empty() {
        anyhow::bail!("no token on stdin (skillopt serve token create on the server makes one)");
    }
    let who = HttpRegistry::new(&base, Some(token), settings.ca_cert.value.as_deref())?
        .whoami()
        .map_err(|e| anyhow::anyhow!("{base} did not accept the token: {e}"))?;
    let path = credentials_path(
        &paths.home,
        std::env::var("XDG_CONFIG_HOME").ok().as_deref(),
    );
    save(&path, &base, token)?;
    println!(
        "logged in to {base} as {} ({}); token stored in {} (set SKILLOPT_REGISTRY={base} to \
         use it)",
        super::one_line(&who.user),
        who.role,
        path.display()
    );
    Ok(ExitCode::SUCCESS)
}
