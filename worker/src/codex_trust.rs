//! Codex hook trust for skillopt's own hooks, through `codex app-server`.
//!
//! Codex (0.171.0) runs a hook from `hooks.json` only when `config.toml` holds
//! `hooks.state."<key>".trusted_hash` equal to the hook's current hash; otherwise it skips the
//! hook without a word. The key is positional (`<hooks.json path>:<event>:<group>:<handler>`) and
//! the hash is Codex's own digest of the handler's configuration (`sha256:<hex>`). Rather than
//! re-implement that digest (an internal detail that may change between releases), we ask Codex
//! itself, as its `/hooks` screen does: `hooks/list {cwds}` reports each hook's `key`,
//! `currentHash`, `trustStatus` (`trusted|untrusted|modified|managed`) and `isManaged`, and
//! `config/batchWrite` stores `trusted_hash = currentHash` for the hooks we trust.
//!
//! Only skillopt's entries are ever trusted: a hook is ours when it comes from the hooks.json we
//! installed into, is a command whose program is `skillopt-*`, and is not managed.

mod app_server;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{json, Value};

pub use app_server::{find_codex, AppServer, AppServerError};

use crate::commands::hooks_config::is_skillopt_command;

/// How long one conversation with `codex app-server` may take.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// One skillopt hook as Codex sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookTrust {
    pub key: String,
    pub command: String,
    /// `trusted`, `untrusted`, `modified` (trusted once, changed since) or `managed`.
    pub status: String,
    pub current_hash: String,
    pub enabled: bool,
}

impl HookTrust {
    /// True when Codex will run it.
    pub fn runs(&self) -> bool {
        self.enabled && matches!(self.status.as_str(), "trusted" | "managed")
    }
}

/// What went wrong trusting hooks.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    #[error(transparent)]
    AppServer(#[from] AppServerError),
    #[error("hook key {0:?} cannot be written as a config key path")]
    BadKey(String),
    #[error("cannot back up Codex's config.toml: {0}")]
    Backup(#[from] skillopt_state::StateError),
    #[error("Codex still reports {0} skillopt hook(s) as not trusted after the write")]
    NotTrusted(usize),
}

/// What `hooks/list` says about the hooks in `hooks_file`.
#[derive(Debug, Default)]
pub struct Listing {
    /// skillopt's hooks in that file, in Codex's order.
    pub ours: Vec<HookTrust>,
    /// Codex's errors and warnings about hook files (e.g. a hooks.json it cannot parse).
    pub problems: Vec<String>,
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

fn list(server: &mut AppServer, cwd: &Path, hooks_file: &Path) -> Result<Listing, AppServerError> {
    let reply = server.request("hooks/list", json!({"cwds": [cwd]}))?;
    let entries = reply
        .get("data")
        .and_then(Value::as_array)
        .ok_or_else(|| AppServerError::Protocol("`hooks/list` reply has no `data` list".into()))?;
    let mut out = Listing::default();
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    for entry in entries {
        for p in entry
            .get("errors")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            out.problems
                .push(format!("{}: {}", text(p, "path"), text(p, "message")));
        }
        for w in entry
            .get("warnings")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            out.problems
                .push(w.as_str().unwrap_or_default().to_string());
        }
        for h in entry
            .get("hooks")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let ours = h.get("handlerType").and_then(Value::as_str) == Some("command")
                && h.get("isManaged").and_then(Value::as_bool) != Some(true)
                && is_skillopt_command(&text(h, "command"))
                && same_file(Path::new(&text(h, "sourcePath")), hooks_file);
            let key = text(h, "key");
            if ours && !out.ours.iter().any(|o| o.key == key) {
                out.ours.push(HookTrust {
                    key,
                    command: text(h, "command"),
                    status: text(h, "trustStatus"),
                    current_hash: text(h, "currentHash"),
                    enabled: h.get("enabled").and_then(Value::as_bool) != Some(false),
                });
            }
        }
    }
    Ok(out)
}

/// skillopt's hooks in `hooks_file` with their trust status, as Codex (run in `cwd`) sees them.
pub fn status(codex: &Path, cwd: &Path, hooks_file: &Path) -> Result<Listing, AppServerError> {
    let mut server = AppServer::start(codex, cwd, TIMEOUT)?;
    list(&mut server, cwd, hooks_file)
}

/// Trusts every skillopt hook in `hooks_file` that Codex does not trust yet (the user's own
/// hooks are left alone), backing up `config.toml` first when it is about to change. Returns
/// the hooks as Codex reports them afterwards.
pub fn trust(codex: &Path, cwd: &Path, hooks_file: &Path) -> Result<Listing, TrustError> {
    let mut server = AppServer::start(codex, cwd, TIMEOUT)?;
    let before = list(&mut server, cwd, hooks_file)?;
    let todo: Vec<&HookTrust> = before
        .ours
        .iter()
        .filter(|h| h.status != "trusted" && h.status != "managed")
        .collect();
    if todo.is_empty() {
        return Ok(before);
    }
    let mut edits = Vec::new();
    for h in &todo {
        if h.key.contains(['"', '\\']) || h.current_hash.is_empty() {
            return Err(TrustError::BadKey(h.key.clone()));
        }
        edits.push(json!({
            "keyPath": format!("hooks.state.\"{}\".trusted_hash", h.key),
            "value": h.current_hash,
            "mergeStrategy": "upsert",
        }));
    }
    if let Some(home) = &server.codex_home {
        backup(&home.join("config.toml"))?;
    }
    server.request("config/batchWrite", json!({"edits": edits}))?;
    let after = list(&mut server, cwd, hooks_file)?;
    let left = after.ours.iter().filter(|h| h.status != "trusted").count();
    if left > 0 {
        return Err(TrustError::NotTrusted(left));
    }
    Ok(after)
}

fn backup(config: &Path) -> Result<(), TrustError> {
    let Ok(orig) = std::fs::read(config) else {
        return Ok(()); // nothing to back up
    };
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
    let path = PathBuf::from(format!("{}.skillopt-backup-{stamp}", config.display()));
    skillopt_state::fsutil::write_atomic(&path, &orig)?;
    Ok(())
}
