//! `skillopt serve [--listen ADDR] [--registry URL] [--tls-cert F --tls-key F]`: the registry
//! over HTTP, or HTTPS with a PEM certificate chain and key (see [`crate::serve`]).
//! `--registry` defaults to the configured registry (`SKILLOPT_REGISTRY`), which must be SQLite
//! or PostgreSQL: a server in front of another server is refused. Prints `listening on
//! http(s)://ADDR` on stdout once requests can be made (with the port the system chose for
//! `--listen 127.0.0.1:0`). SIGTERM or Ctrl-C stops it after the requests in flight.
//!
//! `skillopt serve token create --user NAME --role reader|member|maintainer|admin [--json]`
//! prints a new token once (only its SHA-256 is stored); `token list [--json]` shows every
//! token's id, user, role, creation and revocation (never the token); `token revoke ID`. These
//! talk to the database directly, as an admin on the server's box.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;

use crate::registry::tokens::{self, Role};
use crate::registry::RegistryUrl;
use crate::settings::Settings;

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8787")]
    pub listen: SocketAddr,
    /// The registry to serve (`sqlite:///path` or `postgres://…`); default `SKILLOPT_REGISTRY`.
    #[arg(long, global = true)]
    pub registry: Option<String>,
    /// Serve HTTPS with this PEM certificate chain (needs --tls-key).
    #[arg(long, requires = "tls_key", value_name = "FILE")]
    pub tls_cert: Option<std::path::PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, requires = "tls_cert", value_name = "FILE")]
    pub tls_key: Option<std::path::PathBuf>,
}

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Create, list and revoke the server's bearer tokens.
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Debug, clap::Subcommand)]
pub enum TokenCommand {
    /// Create a token (printed once; only its hash is stored).
    Create {
        /// Whose token it is: recorded as who did what (a member may push skills whose author
        /// is this name, folded like `push --author`).
        #[arg(long)]
        user: String,
        /// reader | member | maintainer | admin.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Every token: id, user, role, created, revoked.
    List {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token by id: it is refused (401) from the next request on.
    Revoke {
        /// The token's id (from `token list`).
        id: String,
    },
}

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse()
        .map_err(|_| "expected reader, member, maintainer or admin".to_string())
}

/// The database to serve or manage tokens of.
fn database(settings: &Settings, raw: Option<&str>) -> anyhow::Result<RegistryUrl> {
    let url = match raw {
        Some(raw) => RegistryUrl::parse(raw)?,
        None => settings.registry_url()?,
    };
    if matches!(url, RegistryUrl::Http { .. }) {
        anyhow::bail!(
            "skillopt serve works on a database (sqlite:// or postgres://), not a server ({}); \
             pass --registry",
            url.redacted()
        );
    }
    Ok(url)
}

pub fn run(settings: &Settings, args: Args) -> anyhow::Result<ExitCode> {
    let url = database(settings, args.registry.as_deref())?;
    match args.command {
        Some(Command::Token(c)) => token(&url, c),
        None => {
            let shown = url.redacted();
            let live = url
                .open_backend()?
                .tokens()
                .tokens()?
                .iter()
                .filter(|t| t.revoked_at.is_none())
                .count();
            let tls = match (args.tls_cert, args.tls_key) {
                (Some(cert), Some(key)) => Some(crate::serve::tls::TlsFiles { cert, key }),
                _ => None,
            };
            let scheme = if tls.is_some() { "https" } else { "http" };
            if tls.is_none() && !args.listen.ip().is_loopback() {
                eprintln!(
                    "skillopt: warning: serving plain HTTP on {}: tokens cross the network in \
                     the clear unless a TLS proxy is in front (or use --tls-cert/--tls-key; \
                     clients accept http:// only on loopback)",
                    args.listen
                );
            }
            if live == 0 {
                eprintln!(
                    "skillopt: warning: no tokens yet, so every request gets 401: \
                     skillopt serve token create --user NAME --role admin"
                );
            }
            crate::serve::serve(url, args.listen, tls.as_ref(), |addr| {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "listening on {scheme}://{addr} (registry {shown})");
                let _ = out.flush();
                tracing::info!(%addr, registry = %shown, "serving the registry");
            })?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// A user name a token may carry: printable, no spaces, at most 64 characters.
fn check_user(user: &str) -> anyhow::Result<()> {
    if user.is_empty()
        || user.chars().count() > 64
        || user
            .chars()
            .any(|c| c.is_whitespace() || skillopt_shared::text::is_unsafe_for_terminal(c))
    {
        anyhow::bail!("--user must be 1–64 printable characters without spaces");
    }
    Ok(())
}

fn token(url: &RegistryUrl, c: TokenCommand) -> anyhow::Result<ExitCode> {
    let mut backend = url.open_backend()?;
    let store = backend.tokens();
    let mut out = std::io::stdout().lock();
    match c {
        TokenCommand::Create { user, role, json } => {
            check_user(&user)?;
            // A member pushes as the author their user name folds to: two people whose names
            // fold alike could push each other's skills.
            let author = skillopt_shared::skill_ref::author_from_login(&user);
            for other in store.tokens()?.iter().filter(|t| t.revoked_at.is_none()) {
                if other.user != user
                    && skillopt_shared::skill_ref::author_from_login(&other.user) == author
                {
                    eprintln!(
                        "skillopt: warning: {} and {} both push as author {}",
                        super::one_line(&user),
                        super::one_line(&other.user),
                        author.as_deref().unwrap_or("(none)")
                    );
                }
            }
            let (row, token) = tokens::create_token(store, &user, role)?;
            if json {
                let v = serde_json::json!({
                    "id": row.id, "user": row.user, "role": row.role, "token": token,
                });
                writeln!(out, "{v}")?;
            } else {
                writeln!(out, "token {} for {} ({}):", row.id, row.user, row.role)?;
                writeln!(out, "{token}")?;
                writeln!(
                    out,
                    "It is shown only now. On the laptop: SKILLOPT_REGISTRY=<server URL> and \
                     `skillopt login <server URL>` (or SKILLOPT_TOKEN=<the token>)"
                )?;
            }
        }
        TokenCommand::List { json } => {
            let rows = store.tokens()?;
            if json {
                super::print_json(&rows)?;
            } else if rows.is_empty() {
                writeln!(out, "no tokens")?;
            } else {
                for r in rows {
                    writeln!(
                        out,
                        "{}  {:<10} {}  created {}{}",
                        r.id,
                        r.role.as_str(),
                        super::one_line(&r.user),
                        r.created_at,
                        r.revoked_at
                            .map(|at| format!("  revoked {at}"))
                            .unwrap_or_default()
                    )?;
                }
            }
        }
        TokenCommand::Revoke { id } => {
            if !store.revoke_token(id.trim(), &skillopt_state::now_rfc3339())? {
                anyhow::bail!(
                    "no token {} to revoke (unknown, or revoked already)",
                    super::one_line(&id)
                );
            }
            writeln!(out, "revoked token {}", super::one_line(&id))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
