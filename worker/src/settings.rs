//! The worker's settings: built once in `main` from the environment and passed by reference
//! (`&Settings`) to the commands and the pipeline. Each value remembers where it came from (an
//! environment variable, or the default) so `skillopt doctor` and `status --json` can show the
//! settings in effect.
//!
//! Values that do not parse fall back to the default, as the hooks do; the source then says the
//! variable was ignored. Two exceptions keep their error for the moment they are used, so a typo
//! breaks only what depends on it: a registry URL that does not parse (every registry command
//! reports it) and an unknown `SKILLOPT_AGENT` (a judge verdict of `unclear` with the reason).
//!
//! The knobs the hooks also read (`SKILLOPT_JUDGE_WINDOW`, `SKILLOPT_SYNC_INTERVAL`) are parsed
//! by [`skillopt_shared::config`], so both sides agree.

use std::time::Duration;

use serde::Serialize;
use serde_json::Value;
use skillopt_shared::config;
use skillopt_state::Paths;

use crate::agent::{AgentKind, Role};
use crate::registry::{self, redact_password, Registry, RegistryUrl};

/// Default judge confidence needed before skillopt edits a skill (`SKILLOPT_MIN_CONFIDENCE`).
pub(crate) const DEFAULT_MIN_CONFIDENCE: f64 = 0.6;
/// Default automatic versions per skill per 24 h (`SKILLOPT_RATE_LIMIT`).
pub(crate) const DEFAULT_RATE_LIMIT: u32 = 3;
/// Default agent CLI timeout (`SKILLOPT_AGENT_TIMEOUT`).
pub(crate) const DEFAULT_AGENT_TIMEOUT: Duration = Duration::from_secs(120);
/// Default agent calls per machine per day (`SKILLOPT_DAILY_AGENT_CALLS`).
pub(crate) const DEFAULT_DAILY_AGENT_CALLS: u32 = 30;
/// Default share of judgment windows that are judged (`SKILLOPT_JUDGE_SAMPLE`).
pub(crate) const DEFAULT_JUDGE_SAMPLE: f64 = 1.0;

/// Where a setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    /// The built-in default.
    Default,
    /// This environment variable.
    Env(String),
    /// The default, because this variable was set to something that does not parse.
    Ignored(String),
    /// Stored by `skillopt login` in this file.
    Login(String),
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Default => f.write_str("default"),
            Source::Env(var) => f.write_str(var),
            Source::Ignored(var) => write!(f, "default ({var} ignored: does not parse)"),
            Source::Login(path) => write!(f, "skillopt login ({path})"),
        }
    }
}

/// A value and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Setting<T> {
    pub(crate) value: T,
    pub(crate) source: Source,
}

impl<T> Setting<T> {
    /// A value set directly (tests, defaults).
    pub(crate) fn new(value: T) -> Self {
        Self {
            value,
            source: Source::Default,
        }
    }
}

/// `SKILLOPT_AGENT`: which agent CLI judges and proposes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AgentChoice {
    /// The session's own agent, else claude.
    Session,
    /// Always this one.
    Fixed(AgentKind),
    /// Set to something unknown: judging reports it.
    Unknown(String),
}

/// `SKILLOPT_AGENT` names no agent CLI skillopt runs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("SKILLOPT_AGENT={0:?} is not one of claude, codex, cursor-agent, hermes, pi")]
pub(crate) struct UnknownAgent(pub(crate) String);

/// One row of `skillopt doctor` / `status --json`'s `settings`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Shown {
    pub(crate) name: String,
    pub(crate) value: Value,
    pub(crate) source: String,
}

/// Everything the worker is configured with.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// `SKILLOPT_REGISTRY`, raw (parsed when the registry is opened); default the embedded
    /// SQLite file in the data dir.
    pub(crate) registry: Setting<String>,
    pub(crate) agent: Setting<AgentChoice>,
    /// Per agent and role: `SKILLOPT_<AGENT>_<ROLE>_MODEL`, `SKILLOPT_<AGENT>_MODEL`, default.
    pub(crate) models: Vec<(AgentKind, Role, Setting<Option<String>>)>,
    pub(crate) agent_timeout: Setting<Duration>,
    /// K, the user prompts judged after one skill use (the hooks' budget).
    pub(crate) judge_budget: Setting<u32>,
    pub(crate) min_confidence: Setting<f64>,
    pub(crate) rate_limit: Setting<u32>,
    /// How stale the last sync may get before SessionStart asks for one.
    pub(crate) sync_interval: Setting<Duration>,
    /// Recorded as `created_by` / `contributor`: `SKILLOPT_USER`, `USER`, `LOGNAME`.
    pub(crate) user: Setting<String>,
    /// Agent calls (judge, proposer, verifier) this machine makes per UTC day.
    pub(crate) daily_agent_calls: Setting<u32>,
    /// The share (0–1) of judgment windows that are judged at all.
    pub(crate) judge_sample: Setting<f64>,
    /// `SKILLOPT_WEBHOOK_URL`: where publish/promote/revert/freeze/review notices are POSTed.
    pub(crate) webhook_url: Setting<Option<String>>,
    /// `SKILLOPT_TOKEN`: the bearer token sent to an HTTP registry (`skillopt serve`).
    pub(crate) token: Setting<Option<Token>>,
    /// `SKILLOPT_CA_CERT`: a PEM file of extra root certificates an `https://` registry's
    /// certificate may chain to (a team's own CA); the public roots are always trusted.
    pub(crate) ca_cert: Setting<Option<std::path::PathBuf>>,
}

/// The token `skillopt login` stored for the server `registry` names, if it names one.
fn login_token(paths: &Paths, lookup: &Lookup<'_>, registry: &str) -> Setting<Option<Token>> {
    let Ok(RegistryUrl::Http { base, .. }) = RegistryUrl::parse(registry) else {
        return Setting::new(None);
    };
    let path = crate::credentials::credentials_path(
        &paths.home,
        read(lookup, "XDG_CONFIG_HOME").as_deref(),
    );
    match crate::credentials::stored_token(&path, &base) {
        Some(t) => Setting {
            value: Some(Token(t)),
            source: Source::Login(path.display().to_string()),
        },
        None => Setting::new(None),
    }
}

/// A bearer token: shown as `***` by `Debug`, never printed.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Token(String);

impl Token {
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(***)")
    }
}

/// Reads one variable; empty or blank counts as unset.
type Lookup<'a> = dyn Fn(&str) -> Option<String> + 'a;

fn read(lookup: &Lookup<'_>, var: &str) -> Option<String> {
    lookup(var).filter(|v| !v.trim().is_empty())
}

/// The parsed variable, the default when unset, the default marked ignored when unparseable.
fn parsed<T>(
    lookup: &Lookup<'_>,
    var: &str,
    default: T,
    parse: impl Fn(&str) -> Option<T>,
) -> Setting<T> {
    match read(lookup, var) {
        None => Setting::new(default),
        Some(raw) => match parse(&raw) {
            Some(value) => Setting {
                value,
                source: Source::Env(var.into()),
            },
            None => Setting {
                value: default,
                source: Source::Ignored(var.into()),
            },
        },
    }
}

impl Settings {
    /// From the process environment.
    pub(crate) fn from_env(paths: &Paths) -> Self {
        Self::from_lookup(paths, &|k| std::env::var(k).ok())
    }

    /// Every default (the registry in `paths`' data dir).
    #[cfg(test)]
    pub(crate) fn defaults(paths: &Paths) -> Self {
        Self::from_lookup(paths, &|_| None)
    }

    /// From any variable source.
    pub(crate) fn from_lookup(paths: &Paths, lookup: &Lookup<'_>) -> Self {
        let registry = match read(lookup, "SKILLOPT_REGISTRY") {
            Some(raw) => Setting {
                value: raw,
                source: Source::Env("SKILLOPT_REGISTRY".into()),
            },
            None => Setting::new(format!("sqlite://{}", paths.default_registry().display())),
        };
        let login = login_token(paths, lookup, &registry.value);
        let agent = match read(lookup, "SKILLOPT_AGENT") {
            None => Setting::new(AgentChoice::Session),
            Some(raw) => Setting {
                value: AgentKind::parse(&raw)
                    .map(AgentChoice::Fixed)
                    .unwrap_or(AgentChoice::Unknown(raw)),
                source: Source::Env("SKILLOPT_AGENT".into()),
            },
        };
        let mut models = Vec::new();
        for kind in AgentKind::ALL {
            for role in Role::ALL {
                let specific = format!("SKILLOPT_{}_{}_MODEL", kind.env_name(), role.env_name());
                let general = format!("SKILLOPT_{}_MODEL", kind.env_name());
                let setting = [specific, general]
                    .into_iter()
                    .find_map(|var| {
                        read(lookup, &var).map(|m| Setting {
                            value: Some(m),
                            source: Source::Env(var),
                        })
                    })
                    .unwrap_or_else(|| Setting::new(kind.default_model(role).map(str::to_string)));
                models.push((kind, role, setting));
            }
        }
        Self {
            registry,
            agent,
            models,
            agent_timeout: parsed(
                lookup,
                "SKILLOPT_AGENT_TIMEOUT",
                DEFAULT_AGENT_TIMEOUT,
                |v| config::parse_duration(v).filter(|d| !d.is_zero()),
            ),
            judge_budget: parsed(
                lookup,
                "SKILLOPT_JUDGE_WINDOW",
                config::DEFAULT_JUDGE_WINDOW,
                |v| Some(config::positive_u32(Some(v), 0)).filter(|n| *n > 0),
            ),
            min_confidence: parsed(
                lookup,
                "SKILLOPT_MIN_CONFIDENCE",
                DEFAULT_MIN_CONFIDENCE,
                |v| {
                    v.trim()
                        .parse::<f64>()
                        .ok()
                        .filter(|v| v.is_finite() && (0.0..=1.0).contains(v))
                },
            ),
            rate_limit: parsed(lookup, "SKILLOPT_RATE_LIMIT", DEFAULT_RATE_LIMIT, |v| {
                v.trim().parse().ok()
            }),
            sync_interval: parsed(
                lookup,
                "SKILLOPT_SYNC_INTERVAL",
                config::DEFAULT_SYNC_INTERVAL,
                config::parse_duration,
            ),
            user: ["SKILLOPT_USER", "USER", "LOGNAME"]
                .into_iter()
                .find_map(|var| {
                    read(lookup, var).map(|u| Setting {
                        value: u,
                        source: Source::Env(var.into()),
                    })
                })
                .unwrap_or_else(|| Setting::new("unknown".into())),
            daily_agent_calls: parsed(
                lookup,
                "SKILLOPT_DAILY_AGENT_CALLS",
                DEFAULT_DAILY_AGENT_CALLS,
                |v| v.trim().parse().ok(),
            ),
            judge_sample: parsed(lookup, "SKILLOPT_JUDGE_SAMPLE", DEFAULT_JUDGE_SAMPLE, |v| {
                v.trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite() && (0.0..=1.0).contains(v))
            }),
            token: match read(lookup, "SKILLOPT_TOKEN") {
                Some(t) => Setting {
                    value: Some(Token(t.trim().to_string())),
                    source: Source::Env("SKILLOPT_TOKEN".into()),
                },
                None => login,
            },
            ca_cert: parsed(lookup, "SKILLOPT_CA_CERT", None, |v| {
                let v = v.trim();
                (!v.is_empty()).then(|| Some(v.into()))
            }),
            webhook_url: parsed(lookup, "SKILLOPT_WEBHOOK_URL", None, |v| {
                let v = v.trim();
                (v.starts_with("http://") || v.starts_with("https://")).then(|| Some(v.to_string()))
            }),
        }
    }

    /// The registry's location.
    pub(crate) fn registry_url(&self) -> registry::Result<RegistryUrl> {
        let token = self.token.value.as_ref().map(|t| t.expose().to_string());
        Ok(RegistryUrl::parse(&self.registry.value)?
            .with_token(token)
            .with_ca_cert(self.ca_cert.value.clone()))
    }

    /// Opens the configured registry (creating and migrating its schema).
    pub(crate) fn open_registry(&self) -> registry::Result<Box<dyn Registry>> {
        self.registry_url()?.open()
    }

    /// Opens the configured registry for a command that only reads it (or changes what is
    /// there): an SQLite file named by `SKILLOPT_REGISTRY` that does not exist is an error, not
    /// a new empty registry that would answer "nothing here" to a typo.
    pub(crate) fn open_existing_registry(&self) -> anyhow::Result<Box<dyn Registry>> {
        let url = self.registry_url()?;
        if let (RegistryUrl::Sqlite(path), Source::Env(var)) = (&url, &self.registry.source) {
            if !path.exists() {
                anyhow::bail!(
                    "no registry at {} ({var}): check the path, or `skillopt push` a skill to create it",
                    path.display()
                );
            }
        }
        Ok(url.open()?)
    }

    /// The agent CLI for a job whose session ran `session_agent`.
    pub(crate) fn choose_agent(
        &self,
        session_agent: Option<&str>,
    ) -> Result<AgentKind, UnknownAgent> {
        match &self.agent.value {
            AgentChoice::Fixed(kind) => Ok(*kind),
            AgentChoice::Unknown(raw) => Err(UnknownAgent(raw.clone())),
            AgentChoice::Session => Ok(session_agent
                .and_then(AgentKind::parse)
                .unwrap_or(AgentKind::Claude)),
        }
    }

    /// The model `kind` is asked for `role` (`None`: the CLI's own default).
    pub(crate) fn model(&self, kind: AgentKind, role: Role) -> Option<String> {
        self.models
            .iter()
            .find(|(k, r, _)| *k == kind && *r == role)
            .and_then(|(_, _, s)| s.value.clone())
    }

    /// Every setting as (name, value, source), secrets redacted.
    pub(crate) fn shown(&self) -> Vec<Shown> {
        fn row(name: impl Into<String>, value: Value, source: &Source) -> Shown {
            Shown {
                name: name.into(),
                value,
                source: source.to_string(),
            }
        }
        let agent = match &self.agent.value {
            AgentChoice::Session => Value::from("session's agent, else claude"),
            AgentChoice::Fixed(k) => Value::from(k.binary()),
            AgentChoice::Unknown(raw) => Value::from(format!("{raw} (unknown)")),
        };
        let mut rows = vec![
            row(
                "registry",
                redact_password(&self.registry.value).into(),
                &self.registry.source,
            ),
            row("agent", agent, &self.agent.source),
        ];
        for (kind, role, s) in &self.models {
            rows.push(row(
                format!("model.{}.{}", kind.binary(), role.name()),
                s.value.clone().map(Value::from).unwrap_or(Value::Null),
                &s.source,
            ));
        }
        rows.extend([
            row(
                "agent_timeout_secs",
                self.agent_timeout.value.as_secs().into(),
                &self.agent_timeout.source,
            ),
            row(
                "judge_budget",
                self.judge_budget.value.into(),
                &self.judge_budget.source,
            ),
            row(
                "min_confidence",
                self.min_confidence.value.into(),
                &self.min_confidence.source,
            ),
            row(
                "rate_limit",
                self.rate_limit.value.into(),
                &self.rate_limit.source,
            ),
            row(
                "sync_interval_secs",
                self.sync_interval.value.as_secs().into(),
                &self.sync_interval.source,
            ),
            row("user", self.user.value.clone().into(), &self.user.source),
            row(
                "daily_agent_calls",
                self.daily_agent_calls.value.into(),
                &self.daily_agent_calls.source,
            ),
            row(
                "judge_sample",
                self.judge_sample.value.into(),
                &self.judge_sample.source,
            ),
            row(
                "webhook_url",
                self.webhook_url
                    .value
                    .as_deref()
                    .map(webhook_origin)
                    .map(Value::from)
                    .unwrap_or(Value::Null),
                &self.webhook_url.source,
            ),
            row(
                "ca_cert",
                self.ca_cert
                    .value
                    .as_ref()
                    .map(|p| Value::from(p.display().to_string()))
                    .unwrap_or(Value::Null),
                &self.ca_cert.source,
            ),
            row(
                "token",
                self.token
                    .value
                    .as_ref()
                    .map(|_| Value::from("set (not shown)"))
                    .unwrap_or(Value::Null),
                &self.token.source,
            ),
        ]);
        rows
    }
}

/// A webhook URL shown without its path, query or credentials (Slack-style URLs carry their
/// secret in the path): `https://hooks.example.com/…`.
fn webhook_origin(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or_default();
    format!("{scheme}://{host}/…")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths() -> Paths {
        Paths::under(std::path::Path::new("/nowhere"))
    }

    fn from(vars: &[(&str, &str)]) -> Settings {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(&paths(), &|k| {
            vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn defaults_and_sources() {
        let s = Settings::defaults(&paths());
        assert_eq!(s.min_confidence.value, DEFAULT_MIN_CONFIDENCE);
        assert_eq!(s.rate_limit, Setting::new(DEFAULT_RATE_LIMIT));
        assert_eq!(s.registry.value, "sqlite:///nowhere/data/registry.sqlite3");
        assert_eq!(
            s.model(AgentKind::Claude, Role::Judge).as_deref(),
            Some("haiku")
        );
        assert_eq!(
            s.model(AgentKind::Claude, Role::Proposer).as_deref(),
            Some("sonnet")
        );
        assert_eq!(s.model(AgentKind::Codex, Role::Judge), None);
        assert_eq!(s.choose_agent(Some("codex")), Ok(AgentKind::Codex));
        assert_eq!(s.choose_agent(None), Ok(AgentKind::Claude));
    }

    #[test]
    fn environment_wins_and_bad_values_are_ignored() {
        let s = from(&[
            ("SKILLOPT_MIN_CONFIDENCE", "0.9"),
            ("SKILLOPT_RATE_LIMIT", "lots"),
            ("SKILLOPT_AGENT_TIMEOUT", "3m"),
            ("SKILLOPT_CODEX_MODEL", "gpt-x"),
            ("SKILLOPT_CODEX_PROPOSER_MODEL", "gpt-y"),
            ("SKILLOPT_AGENT", "codex"),
            ("USER", "carol"),
        ]);
        assert_eq!(s.min_confidence.value, 0.9);
        assert_eq!(
            s.min_confidence.source.to_string(),
            "SKILLOPT_MIN_CONFIDENCE"
        );
        assert_eq!(s.rate_limit.value, DEFAULT_RATE_LIMIT);
        assert_eq!(
            s.rate_limit.source,
            Source::Ignored("SKILLOPT_RATE_LIMIT".into())
        );
        assert_eq!(s.agent_timeout.value, Duration::from_secs(180));
        assert_eq!(
            s.model(AgentKind::Codex, Role::Judge).as_deref(),
            Some("gpt-x")
        );
        assert_eq!(
            s.model(AgentKind::Codex, Role::Proposer).as_deref(),
            Some("gpt-y")
        );
        assert_eq!(s.choose_agent(Some("claude-code")), Ok(AgentKind::Codex));
        assert_eq!(
            (s.user.value.as_str(), s.user.source.to_string().as_str()),
            ("carol", "USER")
        );
        assert!(from(&[("SKILLOPT_AGENT", "gpt")])
            .choose_agent(None)
            .is_err());
    }

    #[test]
    fn shown_settings_never_hold_a_password() {
        let s = from(&[("SKILLOPT_REGISTRY", "postgres://u:hunter2@h/db")]);
        let rows = s.shown();
        let reg = rows.iter().find(|r| r.name == "registry").unwrap();
        assert_eq!(reg.value, "postgres://u:***@h/db");
        assert_eq!(reg.source, "SKILLOPT_REGISTRY");
        assert!(!serde_json::to_string(&rows).unwrap().contains("hunter2"));
        let s = from(&[(
            "SKILLOPT_WEBHOOK_URL",
            "https://bot:pw@hooks.example.com/services/T0/B0/secret",
        )]);
        let shown = serde_json::to_string(&s.shown()).unwrap();
        assert!(shown.contains("https://hooks.example.com/…"), "{shown}");
        assert!(
            !shown.contains("secret") && !shown.contains("pw@"),
            "{shown}"
        );
        let s = from(&[
            ("SKILLOPT_TOKEN", "so_tok3n-value"),
            ("SKILLOPT_REGISTRY", "http://127.0.0.1:8787"),
        ]);
        let shown = serde_json::to_string(&s.shown()).unwrap();
        assert!(shown.contains("set (not shown)"), "{shown}");
        assert!(!shown.contains("tok3n"), "{shown}");
        assert!(!format!("{s:?}").contains("tok3n"));
        let url = s.registry_url().unwrap();
        assert!(!format!("{url:?}").contains("tok3n"));
        assert!(matches!(url, RegistryUrl::Http { token: Some(t), .. } if t == "so_tok3n-value"));
    }
}
