//! The dashboard: `GET /`, one server-rendered HTML page (no JavaScript) of what the registry
//! holds — every skill with its active and candidate versions, judged uses and skill-at-fault
//! failure rate per version (an inline SVG bar chart), the review queue (proposed versions),
//! policy and freeze state, and the latest changesets with their reasons and diffs.
//!
//! Sign-in: a request authenticates like the API, with `Authorization: Bearer <token>`, or with
//! the `skillopt_token` cookie a browser gets from `POST /login` (a form with one token field;
//! `HttpOnly; SameSite=Strict; Path=/`, plus `Secure` when a proxy says the request came over
//! HTTPS). The cookie holds the token itself and is checked on every request exactly as a
//! bearer token is ([`super::authenticate`]), so a revoked token signs the browser out too. For
//! scripted sign-in (a headless browser that cannot send headers), `GET /login?token=…` does what
//! the form does; the token then sits in that URL, so use it only where the URL stays private.
//! Any role (reader and up) may see the page. Tokens are never logged.
//!
//! Everything the registry returns is untrusted and HTML-escaped when rendered ([`html`]).

mod html;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use skillopt_shared::SkillRef;

use super::{authenticate, bearer, routes::Caller, Server};
use crate::registry::wire::{ErrorKind, WireError};
use crate::registry::{Changeset, Event, Registry, SkillFlags, SkillVersion, VersionStats};

/// The sign-in cookie's name.
const COOKIE: &str = "skillopt_token";

/// Changesets shown (newest first, across all skills).
const LATEST_CHANGESETS: usize = 12;

/// Events shown per skill (newest first).
const LATEST_EVENTS: usize = 5;

/// A login form body is one token; anything much longer is not one.
const MAX_FORM_BYTES: usize = 4096;

/// The dashboard's routes, to merge into the server's router (which supplies the state).
pub(super) fn routes() -> Router<Arc<Server>> {
    Router::new()
        .route("/", get(dashboard))
        .route("/login", get(login_page).post(login_form))
        .route("/logout", get(logout))
}

/// One skill as the page shows it.
#[derive(Debug, Default)]
pub(crate) struct SkillView {
    pub name: String,
    pub author: String,
    pub flags: SkillFlags,
    /// Newest first.
    pub versions: Vec<SkillVersion>,
    /// By version.
    pub stats: BTreeMap<u32, VersionStats>,
    /// The latest events (promoted, reverted, approved, frozen, …), newest first.
    pub events: Vec<Event>,
}

/// A changeset and its version's status.
#[derive(Debug)]
pub(crate) struct ChangesetView {
    pub changeset: Changeset,
    pub status: Option<crate::registry::VersionStatus>,
}

/// What the page shows, read in one go.
#[derive(Debug, Default)]
pub(crate) struct Overview {
    pub user: String,
    pub role: String,
    pub skills: Vec<SkillView>,
    /// Newest first, at most [`LATEST_CHANGESETS`].
    pub changesets: Vec<ChangesetView>,
    /// Proposed versions with their changeset's reason, oldest first.
    pub review: Vec<(SkillVersion, String)>,
}

/// Reads the overview from `reg`.
fn overview(reg: &mut dyn Registry, caller: &Caller) -> crate::registry::Result<Overview> {
    let mut skills: BTreeMap<(String, String), SkillView> = BTreeMap::new();
    for s in reg.stats()? {
        let v = skills
            .entry((s.name.clone(), s.author.clone()))
            .or_insert_with(|| SkillView {
                name: s.name.clone(),
                author: s.author.clone(),
                ..SkillView::default()
            });
        v.stats.insert(s.version, s);
    }
    for (name, author, flags) in reg.all_flags()? {
        skills
            .entry((name.clone(), author.clone()))
            .or_insert_with(|| SkillView {
                name,
                author,
                ..SkillView::default()
            })
            .flags = flags;
    }
    let mut changesets = Vec::new();
    let mut review = Vec::new();
    for view in skills.values_mut() {
        // A row whose name could not be a skill is left out of the per-skill reads (the stats
        // still list it).
        let Ok(skill) = SkillRef::new(&view.name, &view.author) else {
            continue;
        };
        let mut versions = reg.history(&skill)?;
        versions.sort_by_key(|v| std::cmp::Reverse(v.version));
        // The page shows no SKILL.md: only one skill's bodies (up to 256 KiB a version) are
        // held at a time, not every skill's.
        for v in &mut versions {
            v.body = String::new();
        }
        let sets = reg.changesets(&skill)?;
        for v in &versions {
            if v.status == crate::registry::VersionStatus::Proposed {
                let reason = sets
                    .iter()
                    .find(|c| c.version == v.version)
                    .map(|c| c.reason.clone())
                    .unwrap_or_default();
                review.push((v.clone(), reason));
            }
        }
        for c in sets {
            let status = versions
                .iter()
                .find(|v| v.version == c.version)
                .map(|v| v.status);
            changesets.push(ChangesetView {
                changeset: c,
                status,
            });
        }
        view.versions = versions;
        let mut events = reg.events(&skill)?;
        events.sort_by(|a, b| b.created_at.cmp(&a.created_at));
        events.truncate(LATEST_EVENTS);
        view.events = events;
    }
    changesets.sort_by(|a, b| b.changeset.created_at.cmp(&a.changeset.created_at));
    changesets.truncate(LATEST_CHANGESETS);
    review.sort_by(|a, b| a.0.created_at.cmp(&b.0.created_at));
    Ok(Overview {
        user: caller.user.clone(),
        role: caller.role.to_string(),
        skills: skills.into_values().collect(),
        changesets,
        review,
    })
}

/// Runs `f` on a pooled registry for the holder of `token`, on the blocking pool (the backends
/// are synchronous), as the API's calls run.
async fn with_registry<T: Send + 'static>(
    srv: &Arc<Server>,
    token: Option<String>,
    f: impl FnOnce(&mut dyn Registry, &Caller) -> crate::registry::Result<T> + Send + 'static,
) -> Result<T, WireError> {
    srv.blocking(move |b| {
        let caller = authenticate(b, token.as_deref())?;
        f(b.registry(), &caller).map_err(|e| WireError::from_registry(&e))
    })
    .await
}

/// The token a request carries: its bearer header, else the sign-in cookie.
fn request_token(headers: &HeaderMap) -> Option<String> {
    bearer(headers).or_else(|| cookie(headers, COOKIE))
}

/// The value of cookie `name`, if the request sends a non-empty one.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, v)| *k == name && !v.is_empty())
        .map(|(_, v)| v.to_string())
}

/// What a page may load and who may frame it: nothing but its own inline styles, never in a
/// frame, and no `Referer` (a scripted sign-in's URL holds a token).
const PAGE_POLICY: &str =
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; \
     frame-ancestors 'none'; base-uri 'none'";

fn html_page(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::CONTENT_SECURITY_POLICY, PAGE_POLICY),
            (header::X_FRAME_OPTIONS, "DENY"),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}

fn redirect(to: &'static str, set_cookie: Option<String>) -> Response {
    let mut r = Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, to)
        .header(header::CACHE_CONTROL, "no-store")
        .header(header::REFERRER_POLICY, "no-referrer");
    if let Some(c) = set_cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        r = r.header(header::SET_COOKIE, c);
    }
    r.body(Body::empty())
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// `Secure` when the server serves HTTPS itself, or a proxy in front says the browser talks
/// HTTPS (a plain-HTTP loopback server could not set a secure cookie).
fn secure_attr(headers: &HeaderMap, tls: bool) -> &'static str {
    let https = tls
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"));
    if https {
        "; Secure"
    } else {
        ""
    }
}

fn sign_in_cookie(token: &str, headers: &HeaderMap, tls: bool) -> String {
    format!(
        "{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/{}",
        secure_attr(headers, tls)
    )
}

async fn dashboard(State(srv): State<Arc<Server>>, headers: HeaderMap) -> Response {
    let Some(token) = request_token(&headers) else {
        return redirect("/login", None);
    };
    match with_registry(&srv, Some(token), overview).await {
        Ok(o) => html_page(StatusCode::OK, html::dashboard(&o)),
        Err(e) if e.kind == ErrorKind::Unauthorized => redirect("/login", None),
        Err(e) => html_page(
            StatusCode::from_u16(e.kind.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            html::error_page(&e.message),
        ),
    }
}

/// `GET /login`: the form; with `?token=…`, signs in as the form would (scripted sign-in).
async fn login_page(State(srv): State<Arc<Server>>, uri: Uri, headers: HeaderMap) -> Response {
    match uri.query().and_then(|q| form_value(q, "token")) {
        Some(token) => sign_in(&srv, token, &headers).await,
        None => html_page(StatusCode::OK, html::login(None)),
    }
}

/// `POST /login`: checks the form's token as the API checks a bearer token; sets the cookie
/// and goes to `/` when it is good, shows the form again (401) when not.
async fn login_form(State(srv): State<Arc<Server>>, headers: HeaderMap, body: Body) -> Response {
    let Ok(bytes) = axum::body::to_bytes(body, MAX_FORM_BYTES).await else {
        return html_page(StatusCode::PAYLOAD_TOO_LARGE, html::login(Some("too long")));
    };
    let form = String::from_utf8_lossy(&bytes);
    match form_value(&form, "token") {
        Some(token) => sign_in(&srv, token, &headers).await,
        None => html_page(StatusCode::BAD_REQUEST, html::login(Some("paste a token"))),
    }
}

async fn sign_in(srv: &Arc<Server>, token: String, headers: &HeaderMap) -> Response {
    let token = token.trim().to_string();
    // A cookie value cannot hold these; no token does.
    if token.is_empty()
        || !token
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b';' && b != b',')
    {
        return html_page(
            StatusCode::UNAUTHORIZED,
            html::login(Some("that is not a token")),
        );
    }
    match with_registry(srv, Some(token.clone()), |_, _| Ok(())).await {
        Ok(()) => redirect("/", Some(sign_in_cookie(&token, headers, srv.tls))),
        Err(e) if e.kind == ErrorKind::Unauthorized => {
            html_page(StatusCode::UNAUTHORIZED, html::login(Some(&e.message)))
        }
        Err(e) => html_page(
            StatusCode::from_u16(e.kind.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            html::login(Some(&e.message)),
        ),
    }
}

/// `GET /logout`: forgets the cookie.
async fn logout() -> Response {
    redirect(
        "/login",
        Some(format!(
            "{COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"
        )),
    )
}

/// The first value of `key` in an `application/x-www-form-urlencoded` string.
fn form_value(form: &str, key: &str) -> Option<String> {
    form.split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| percent_decode(k) == key)
        .map(|(_, v)| percent_decode(v))
        .filter(|v| !v.is_empty())
}

/// Decodes `+` and `%XX` (invalid escapes are kept as they are).
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                match std::str::from_utf8(&b[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(v) => {
                        out.push(v);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_is_secure_over_tls_or_behind_an_https_proxy() {
        let plain = HeaderMap::new();
        assert!(!sign_in_cookie("so_x", &plain, false).contains("Secure"));
        assert!(sign_in_cookie("so_x", &plain, true).ends_with("; Secure"));
        let mut proxied = HeaderMap::new();
        proxied.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        assert!(sign_in_cookie("so_x", &proxied, false).ends_with("; Secure"));
    }

    #[test]
    fn form_values_are_decoded() {
        assert_eq!(
            form_value("token=so_ab%2Bc+d", "token").as_deref(),
            Some("so_ab+c d")
        );
        assert_eq!(form_value("a=1&token=x", "token").as_deref(), Some("x"));
        assert_eq!(form_value("token=", "token"), None);
        assert_eq!(form_value("token=%zz%4", "token").as_deref(), Some("%zz%4"));
    }

    #[test]
    fn the_cookie_is_read_from_any_cookie_header() {
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            HeaderValue::from_static("a=b; skillopt_token=so_1"),
        );
        assert_eq!(cookie(&h, COOKIE).as_deref(), Some("so_1"));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer so_2"),
        );
        assert_eq!(request_token(&h).as_deref(), Some("so_2"));
        assert_eq!(cookie(&HeaderMap::new(), COOKIE), None);
    }
}
