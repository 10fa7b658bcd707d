//! `skillopt login <url>`: checks a token against a `skillopt serve` server and stores it for
//! that server, so `SKILLOPT_REGISTRY=<url>` works without `SKILLOPT_TOKEN`.
//!
//! The token is read from stdin (one line; pasted at the prompt, or piped) and never printed.
//! It is tried with one read (`all_flags`) before anything is stored: a refused or unreachable
//! token stores nothing. Where and how it is stored: [`crate::credentials`]. `SKILLOPT_TOKEN`,
//! when set, wins over a stored token.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use crate::credentials::{credentials_path, save};
use crate::registry::RegistryUrl;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The server: `https://host[:port]` (or `http://` on loopback).
    pub url: String,
}

pub fn run(paths: &skillopt_state::Paths, args: Args) -> anyhow::Result<ExitCode> {
    let RegistryUrl::Http { base, .. } = RegistryUrl::parse(&args.url)? else {
        anyhow::bail!(
            "skillopt login is for a skillopt server: https://host[:port] (or http:// on loopback)"
        );
    };
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("token for {base}: ");
        std::io::stderr().flush()?;
    }
    let mut token = String::new();
    stdin.lock().read_line(&mut token)?;
    let token = token.trim();
    if token.is_empty() {
        anyhow::bail!("no token on stdin (skillopt serve token create on the server makes one)");
    }
    let url = RegistryUrl::Http {
        base: base.clone(),
        token: Some(token.to_string()),
    };
    url.open()?
        .all_flags()
        .map_err(|e| anyhow::anyhow!("{base} did not accept the token: {e}"))?;
    let path = credentials_path(
        &paths.home,
        std::env::var("XDG_CONFIG_HOME").ok().as_deref(),
    );
    save(&path, &base, token)?;
    println!(
        "logged in to {base}; token stored in {} (set SKILLOPT_REGISTRY={base} to use it)",
        path.display()
    );
    Ok(ExitCode::SUCCESS)
}
