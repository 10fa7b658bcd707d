//! Where the registry is (`sqlite:///path` | `postgres://…` | `https://…`, or `http://` on
//! loopback) and how its URL is shown: every password replaced by `***`, a token never shown.

use super::{http, postgres, sqlite, Registry, RegistryError, Result};

/// Where the registry is.
#[derive(Clone, PartialEq, Eq)]
pub enum RegistryUrl {
    Sqlite(std::path::PathBuf),
    Postgres(String),
    /// A `skillopt serve` server: its base URL (no trailing `/`), the bearer token sent with
    /// every request (`SKILLOPT_TOKEN`), if any, and a PEM file of extra trusted root
    /// certificates (`SKILLOPT_CA_CERT`), if any.
    Http {
        base: String,
        token: Option<String>,
        ca_cert: Option<std::path::PathBuf>,
    },
}

impl std::fmt::Debug for RegistryUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl RegistryUrl {
    /// Parses `sqlite:///abs/path`, `sqlite:relative`, `postgres://…` / `postgresql://…`,
    /// `https://host[:port]` and `http://` with a loopback host (plain HTTP elsewhere would send
    /// the token in the clear).
    pub fn parse(raw: &str) -> Result<Self> {
        let raw = raw.trim();
        if raw.starts_with("https://") || raw.starts_with("http://") {
            return http::parse_base(raw).map(|base| Self::Http {
                base,
                token: None,
                ca_cert: None,
            });
        }
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Ok(Self::Postgres(raw.to_string()));
        }
        if let Some(rest) = raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("sqlite:"))
        {
            if rest.is_empty() || rest == ":memory:" {
                return Err(RegistryError::BadUrl {
                    url: redact_password(raw),
                    why: "an SQLite registry needs a file path (never in memory)",
                });
            }
            return Ok(Self::Sqlite(rest.into()));
        }
        Err(RegistryError::BadUrl {
            url: redact_password(raw),
            why: "expected sqlite:///path or postgres://…",
        })
    }

    /// The URL with any password replaced by `***`.
    pub fn redacted(&self) -> String {
        match self {
            Self::Sqlite(p) => format!("sqlite://{}", p.display()),
            Self::Postgres(u) => redact_password(u),
            Self::Http { base, .. } => redact_password(base),
        }
    }

    /// The same URL with `token` sent as the bearer token (HTTP registries only).
    pub fn with_token(self, token: Option<String>) -> Self {
        match self {
            Self::Http { base, ca_cert, .. } => Self::Http {
                base,
                token,
                ca_cert,
            },
            other => other,
        }
    }

    /// The same URL trusting the roots in the PEM file `ca_cert` too (HTTP registries only).
    pub fn with_ca_cert(self, ca_cert: Option<std::path::PathBuf>) -> Self {
        match self {
            Self::Http { base, token, .. } => Self::Http {
                base,
                token,
                ca_cert,
            },
            other => other,
        }
    }

    /// Opens a database registry with its token store (what `skillopt serve` and its token
    /// commands use); an HTTP registry is refused: tokens are managed on the server's box.
    pub fn open_backend(&self) -> Result<Box<dyn super::tokens::ServerBackend>> {
        match self {
            Self::Sqlite(p) => Ok(Box::new(sqlite::SqliteRegistry::open(p)?)),
            Self::Postgres(u) => Ok(Box::new(postgres::PgRegistry::connect(u)?)),
            Self::Http { base, .. } => Err(RegistryError::BadUrl {
                url: redact_password(base),
                why: "a skillopt server serves a database (sqlite:// or postgres://), not another server",
            }),
        }
    }

    /// Opens (creating and migrating the schema).
    pub fn open(&self) -> Result<Box<dyn Registry>> {
        match self {
            Self::Sqlite(p) => Ok(Box::new(sqlite::SqliteRegistry::open(p)?)),
            Self::Postgres(u) => Ok(Box::new(postgres::PgRegistry::connect(u)?)),
            Self::Http {
                base,
                token,
                ca_cert,
            } => Ok(Box::new(http::HttpRegistry::new(
                base,
                token.as_deref(),
                ca_cert.as_deref(),
            )?)),
        }
    }
}

/// Query parameters whose values are secrets.
const SECRET_PARAMS: &[&str] = &["password", "sslpassword"];

/// A URL with every password replaced by `***`: the one in the userinfo (`user:pw@host`; it
/// runs to the last `@` before the query, so a password holding `@`, `:`, `/` or `?` is covered
/// whole) and the value of any `password=` / `sslpassword=` query parameter (any case). When the
/// URL is ambiguous it hides too much rather than too little. Used wherever a registry URL is
/// printed, errors included.
pub fn redact_password(url: &str) -> String {
    let (scheme, rest) = match url.find("://") {
        Some(i) => (&url[..i + 3], &url[i + 3..]),
        // A libpq keyword string (`host=h password=pw`): every `…password=` value goes.
        None => return redact_keyword_dsn(url),
    };
    let mut out = String::with_capacity(url.len());
    out.push_str(scheme);
    // The userinfo ends at the last `@` before the first `?` that follows the first `@`.
    let mut query_from = 0;
    if let Some(first_at) = rest.find('@') {
        let end = rest[first_at..]
            .find('?')
            .map_or(rest.len(), |q| first_at + q);
        let at = rest[..end].rfind('@').unwrap_or(first_at);
        match rest[..at].find(':') {
            Some(colon) => {
                out.push_str(&rest[..colon]);
                out.push_str(":***");
            }
            None => out.push_str(&rest[..at]),
        }
        query_from = at;
    }
    let (before_query, query) = match rest[query_from..].find('?') {
        Some(q) => (
            &rest[query_from..query_from + q],
            Some(&rest[query_from + q + 1..]),
        ),
        None => (&rest[query_from..], None),
    };
    out.push_str(before_query);
    if let Some(query) = query {
        out.push('?');
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, _)) if is_secret_key(k) => {
                    format!("{k}=***")
                }
                _ => pair.to_string(),
            })
            .collect();
        out.push_str(&pairs.join("&"));
    }
    out
}

/// `key=value` pairs (values may be single-quoted) with any `*password` value replaced.
fn redact_keyword_dsn(dsn: &str) -> String {
    let mut out = String::with_capacity(dsn.len());
    let mut rest = dsn;
    while let Some(eq) = rest.find('=') {
        let key_start = rest[..eq].rfind(char::is_whitespace).map_or(0, |i| i + 1);
        let key = rest[key_start..eq].trim();
        let value_len = if rest[eq + 1..].starts_with('\'') {
            rest[eq + 2..]
                .find('\'')
                .map_or(rest.len() - eq - 1, |i| i + 2)
        } else {
            rest[eq + 1..]
                .find(char::is_whitespace)
                .unwrap_or(rest.len() - eq - 1)
        };
        out.push_str(&rest[..=eq]);
        if is_secret_key(key) {
            out.push_str("***");
        } else {
            out.push_str(&rest[eq + 1..eq + 1 + value_len]);
        }
        rest = &rest[eq + 1 + value_len..];
    }
    out.push_str(rest);
    out
}

/// A parameter name that holds a password, also percent-encoded (`pass%77ord`).
fn is_secret_key(key: &str) -> bool {
    let decoded = percent_decode(key).to_ascii_lowercase();
    SECRET_PARAMS.iter().any(|s| decoded == *s) || decoded.ends_with("password")
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            RegistryUrl::parse("sqlite:///tmp/r.db").unwrap(),
            RegistryUrl::Sqlite("/tmp/r.db".into())
        );
        assert!(matches!(
            RegistryUrl::parse("postgres://u:pw@h/db").unwrap(),
            RegistryUrl::Postgres(_)
        ));
        assert!(RegistryUrl::parse("mysql://x").is_err());
        assert!(RegistryUrl::parse("sqlite::memory:").is_err());
        assert_eq!(
            RegistryUrl::parse("postgres://u:secret@h:5432/db")
                .unwrap()
                .redacted(),
            "postgres://u:***@h:5432/db"
        );
    }

    #[test]
    fn passwords_never_survive_redaction() {
        use proptest::prelude::*;
        // Secrets with the characters that break naive parsing: `@ : / ? & = %` and more.
        // (An unencoded `&` in a query value, or both `@` and `?` in a password, is ambiguous
        // to every URL parser and left out.)
        let secret = "[A-Za-z0-9@:/?&=%#!$ ]{0,12}[A-Z][a-z0-9@:/?&=%#]{4,16}[0-9]";
        let mut runner = proptest::test_runner::TestRunner::default();
        runner
            .run(
                &(secret, secret, "(PASSWORD|password|Password|sslpassword)"),
                |(pw, qpw, key)| {
                    prop_assume!((!pw.contains('@') || !pw.contains('?')) && !qpw.contains('&'));
                    for url in [
                        format!("postgres://skill:{pw}@db.example:5432/reg"),
                        format!("postgres://skill@db.example/reg?{key}={qpw}&schema=s"),
                        format!("postgresql://skill:{pw}@h/reg?sslmode=disable&{key}={qpw}"),
                        format!("mysql://skill:{pw}@h/reg?{key}={qpw}"),
                    ] {
                        let shown = RegistryUrl::parse(&url)
                            .map(|u| u.redacted())
                            .unwrap_or_else(|e| e.to_string());
                        for secret in [&pw, &qpw] {
                            if url.contains(secret.as_str()) {
                                prop_assert!(
                                    !shown.contains(secret.as_str()),
                                    "{secret:?} shown in {shown:?}"
                                );
                            }
                        }
                    }
                    Ok(())
                },
            )
            .unwrap();
        assert_eq!(
            redact_password("postgres://u@h/db?password=s3cret&connect_timeout=2"),
            "postgres://u@h/db?password=***&connect_timeout=2"
        );
        assert_eq!(
            redact_password("postgres://u:p@ss@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(
            redact_password("postgres://u@h/db?user=me@corp&PASSWORD=x"),
            "postgres://u@h/db?user=me@corp&PASSWORD=***"
        );
        assert_eq!(redact_password("postgres://h/db"), "postgres://h/db");
        assert_eq!(
            redact_password("postgres://h/db?schema=x&pass%77ord=s3cret"),
            "postgres://h/db?schema=x&pass%77ord=***"
        );
        assert_eq!(
            redact_password("host=127.0.0.1 port=1 password=s3cret user=me"),
            "host=127.0.0.1 port=1 password=*** user=me"
        );
        assert_eq!(
            redact_password("host=h password='a b c' sslpassword=x"),
            "host=h password=*** sslpassword=***"
        );
    }
}
