//! The HTTP backend: a `skillopt serve` server reached over reqwest (blocking, rustls), one
//! `POST /v1/registry/<method>` per call (format in [`super::wire`]). The server runs the
//! same backend transactions, so publish keeps its atomic parent check; its error answers come
//! back as the same [`RegistryError`] variants, and a server that cannot be reached (or does
//! not answer in time) is [`RegistryError::Unreachable`], so the outbox keeps what it holds.
//! The token (`SKILLOPT_TOKEN`) is sent as `Authorization: Bearer` and never shown.

use std::path::Path;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;
use skillopt_shared::SkillRef;

use super::wire;
use super::{
    AttributionRow, Cause, Changeset, Event, NewVersion, OutcomeRow, Policy, Registry,
    RegistryError, Result, SkillFlags, SkillVersion, Transition, VersionSource, VersionStats,
};

/// How long a connection may take to open.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// How long one call may take in all: the server's own PostgreSQL limits (lock and statement
/// timeouts) end a stuck call well before this.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Checks an `http(s)://` registry URL and returns its base (no trailing `/`): plain `http://`
/// only to a loopback host, where the token never crosses a network.
pub fn parse_base(raw: &str) -> Result<String> {
    let bad = |why| RegistryError::BadUrl {
        url: super::redact_password(raw),
        why,
    };
    let (scheme, rest) = raw
        .split_once("://")
        .ok_or(bad("expected http(s)://host"))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.is_empty() || authority.contains('@') {
        return Err(bad("expected http(s)://host[:port] (no user info)"));
    }
    if scheme == "http" && !is_loopback(authority) {
        return Err(bad(
            "plain http:// only on loopback (127.0.0.1, localhost, [::1]); use https://",
        ));
    }
    if rest.contains(['?', '#']) {
        return Err(bad("a registry server URL has no query or fragment"));
    }
    Ok(raw.trim_end_matches('/').to_string())
}

fn is_loopback(authority: &str) -> bool {
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        authority.rsplit_once(':').map_or(authority, |(h, _)| h)
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The certificates of the PEM file `SKILLOPT_CA_CERT` names: at least one, or a clear error.
fn extra_roots(path: &Path) -> Result<Vec<reqwest::Certificate>> {
    let bad = |why| RegistryError::BadUrl {
        url: format!("SKILLOPT_CA_CERT={}", path.display()),
        why,
    };
    let pem = std::fs::read(path).map_err(|_| bad("cannot read the certificate file"))?;
    match reqwest::Certificate::from_pem_bundle(&pem) {
        Ok(certs) if !certs.is_empty() => Ok(certs),
        _ => Err(bad("no PEM certificate in the file")),
    }
}

/// A registry behind `skillopt serve`.
pub struct HttpRegistry {
    base: String,
    token: Option<String>,
    client: reqwest::blocking::Client,
}

impl HttpRegistry {
    /// A client for `base` (from [`parse_base`]), also trusting the root certificates in the
    /// PEM file `ca_cert`; nothing is sent until the first call.
    pub fn new(base: &str, token: Option<&str>, ca_cert: Option<&Path>) -> Result<Self> {
        let mut builder = reqwest::blocking::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none());
        if let Some(path) = ca_cert {
            for cert in extra_roots(path)? {
                builder = builder.add_root_certificate(cert);
            }
        }
        let client = builder
            .build()
            .map_err(|e| RegistryError::Backend(e.into()))?;
        Ok(Self {
            base: base.to_string(),
            token: token.map(str::to_string),
            client,
        })
    }

    fn call<A: Serialize, R: DeserializeOwned>(&self, method: &str, args: &A) -> Result<R> {
        let mut req = self
            .client
            .post(format!("{}{}{method}", self.base, wire::PREFIX))
            .json(args);
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        let resp = req
            .send()
            .map_err(|e| RegistryError::Unreachable(e.without_url().into()))?;
        let status = resp.status();
        let body = resp
            .bytes()
            .map_err(|e| RegistryError::Unreachable(e.without_url().into()))?;
        if status.is_success() {
            return serde_json::from_slice(&body).map_err(|e| {
                RegistryError::Backend(Cause::Remote {
                    status: status.as_u16(),
                    kind: "unreadable".into(),
                    message: format!("{method}: {e}"),
                })
            });
        }
        match serde_json::from_slice::<wire::ErrorBody>(&body) {
            Ok(b) => Err(b.error.into_registry(status.as_u16())),
            // Not our server's answer (a proxy's error page, say): a gateway or server error
            // may pass, anything else will not.
            Err(_) => {
                let cause = Cause::Remote {
                    status: status.as_u16(),
                    kind: "unexpected".into(),
                    message: format!("{method}: not a skillopt error answer"),
                };
                Err(if status.is_server_error() || status.as_u16() == 429 {
                    RegistryError::Unreachable(cause)
                } else {
                    RegistryError::Backend(cause)
                })
            }
        }
    }

    /// Who the token stands for on the server (not a registry operation: only a server has
    /// tokens).
    pub fn whoami(&self) -> Result<wire::WhoAmI> {
        self.call("whoami", &wire::NoArgs {})
    }

    fn skill_call<R: DeserializeOwned>(&self, method: &str, skill: &SkillRef) -> Result<R> {
        self.call(
            method,
            &wire::SkillArgs {
                skill: skill.into(),
            },
        )
    }
}

impl Registry for HttpRegistry {
    fn describe(&self) -> String {
        format!("skillopt server {}", super::redact_password(&self.base))
    }

    fn latest(&mut self, skill: &SkillRef) -> Result<Option<SkillVersion>> {
        self.skill_call("latest", skill)
    }

    fn head(&mut self, skill: &SkillRef) -> Result<Option<SkillVersion>> {
        self.skill_call("head", skill)
    }

    fn version(&mut self, skill: &SkillRef, version: u32) -> Result<Option<SkillVersion>> {
        self.call(
            "version",
            &wire::VersionArgs {
                skill: skill.into(),
                version,
            },
        )
    }

    fn history(&mut self, skill: &SkillRef) -> Result<Vec<SkillVersion>> {
        self.skill_call("history", skill)
    }

    fn all_latest_active(&mut self) -> Result<Vec<SkillVersion>> {
        self.call("all_latest_active", &wire::NoArgs {})
    }

    fn installable(&mut self) -> Result<Vec<SkillVersion>> {
        self.call("installable", &wire::NoArgs {})
    }

    fn publish(&mut self, new: &NewVersion, changeset: Option<&Changeset>) -> Result<SkillVersion> {
        self.call(
            "publish",
            &wire::PublishArgs {
                new: new.into(),
                changeset: changeset.cloned(),
            },
        )
    }

    fn transition(&mut self, t: &Transition) -> Result<bool> {
        self.call("transition", &wire::TransitionArgs::from(t))
    }

    fn reject_fingerprint(
        &mut self,
        skill: &SkillRef,
        fingerprint: &str,
        reason: &str,
    ) -> Result<()> {
        self.call(
            "reject_fingerprint",
            &wire::RejectArgs {
                skill: skill.into(),
                fingerprint: fingerprint.into(),
                reason: reason.into(),
            },
        )
    }

    fn events(&mut self, skill: &SkillRef) -> Result<Vec<Event>> {
        self.skill_call("events", skill)
    }

    fn changesets(&mut self, skill: &SkillRef) -> Result<Vec<Changeset>> {
        self.skill_call("changesets", skill)
    }

    fn changeset_for_job(&mut self, job_id: &str) -> Result<Option<Changeset>> {
        self.call(
            "changeset_for_job",
            &wire::JobArgs {
                job_id: job_id.into(),
            },
        )
    }

    fn fingerprint_exists(&mut self, skill: &SkillRef, fingerprint: &str) -> Result<bool> {
        self.call(
            "fingerprint_exists",
            &wire::FingerprintArgs {
                skill: skill.into(),
                fingerprint: fingerprint.into(),
            },
        )
    }

    fn versions_since(
        &mut self,
        skill: &SkillRef,
        source: VersionSource,
        since: &str,
    ) -> Result<u32> {
        self.call(
            "versions_since",
            &wire::SinceArgs {
                skill: skill.into(),
                source,
                since: since.into(),
            },
        )
    }

    fn add_attribution(&mut self, row: &AttributionRow) -> Result<bool> {
        self.call(
            "add_attribution",
            &wire::AttributionArgs { row: row.clone() },
        )
    }

    fn add_outcome(&mut self, row: &OutcomeRow) -> Result<bool> {
        self.call("add_outcome", &wire::OutcomeArgs { row: row.clone() })
    }

    fn outcome_for_job(&mut self, job_id: &str) -> Result<Option<OutcomeRow>> {
        self.call(
            "outcome_for_job",
            &wire::JobArgs {
                job_id: job_id.into(),
            },
        )
    }

    fn outcomes(&mut self, skill: &SkillRef) -> Result<Vec<OutcomeRow>> {
        self.skill_call("outcomes", skill)
    }

    fn stats(&mut self) -> Result<Vec<VersionStats>> {
        self.call("stats", &wire::NoArgs {})
    }

    fn attributions(&mut self, skill: &SkillRef) -> Result<Vec<AttributionRow>> {
        self.skill_call("attributions", skill)
    }

    fn set_frozen(
        &mut self,
        skill: &SkillRef,
        frozen: bool,
        reason: &str,
        actor: &str,
    ) -> Result<()> {
        self.call(
            "set_frozen",
            &wire::FrozenArgs {
                skill: skill.into(),
                frozen,
                reason: reason.into(),
                actor: actor.into(),
            },
        )
    }

    fn set_policy(&mut self, skill: &SkillRef, policy: &Policy, actor: &str) -> Result<()> {
        self.call(
            "set_policy",
            &wire::PolicyArgs {
                skill: skill.into(),
                policy: *policy,
                actor: actor.into(),
            },
        )
    }

    fn flags(&mut self, skill: &SkillRef) -> Result<SkillFlags> {
        self.skill_call("flags", skill)
    }

    fn all_flags(&mut self) -> Result<Vec<(String, String, SkillFlags)>> {
        self.call("all_flags", &wire::NoArgs {})
    }

    fn revision(&mut self) -> Result<Option<u64>> {
        self.call("revision", &wire::NoArgs {})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_on_loopback() {
        for ok in [
            "http://127.0.0.1:8787",
            "http://localhost:1/",
            "http://[::1]:9",
            "https://skills.example.com",
            "https://skills.example.com:8443/base/",
        ] {
            assert!(parse_base(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://skills.example.com",
            "http://10.0.0.1:8787",
            "http://127.0.0.1.evil.com",
            "https://user:pw@host",
            "https://",
            "https://host/?token=x",
        ] {
            assert!(parse_base(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_base("https://h:1/base/").unwrap(), "https://h:1/base");
    }

    #[test]
    fn a_server_that_is_not_there_is_unreachable() {
        // Bind then drop: the port is closed, and the connection is refused.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut reg =
            HttpRegistry::new(&format!("http://127.0.0.1:{port}"), Some("t"), None).unwrap();
        assert!(matches!(
            reg.stats(),
            Err(RegistryError::Unreachable(Cause::Http(_)))
        ));
    }
}
