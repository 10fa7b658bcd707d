//! `skillopt serve`: the registry over HTTP, for teams that share one server instead of handing
//! every laptop a database connection string.
//!
//! axum on a tokio runtime in front of the ordinary backends (SQLite or PostgreSQL). The wire
//! format is [`crate::registry::wire`]: `POST /v1/registry/<method>`, JSON in and out, one
//! route per [`Registry`] method ([`routes`]). The backends are synchronous, so each call runs
//! on tokio's blocking pool with a registry taken from a small pool of opened ones (at most
//! [`WORKERS`] calls at once; the rest wait their turn). A publish runs the backend's own
//! transaction, so its parent check stays atomic: of N concurrent publishers exactly one wins.
//! Bodies over [`wire::MAX_BODY_BYTES`] get 413, malformed ones 400; an error changes nothing.
//!
//! Every request carries `Authorization: Bearer <token>`: a token the registry's `tokens` table
//! knows (by its SHA-256) and has not revoked, or the answer is 401. Its user and role decide
//! what the call may do and are recorded as who did it ([`routes`]). Request headers (the token
//! among them) are never logged.

mod dashboard;
mod member_writes;
pub(crate) mod routes;
pub mod tls;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};

use crate::registry::tokens::{token_hash, ServerBackend};
use crate::registry::wire::{self, ErrorBody, ErrorKind, WireError};
use crate::registry::RegistryUrl;

/// Registry calls served at once (and opened registries kept): PostgreSQL connections are the
/// scarce resource, and a team's load is a few requests a second.
pub const WORKERS: usize = 8;

/// The shared state: where the registry is, and opened registries ready for a call.
struct Server {
    url: RegistryUrl,
    pool: Mutex<Vec<Box<dyn ServerBackend>>>,
    permits: tokio::sync::Semaphore,
    /// Serving HTTPS itself (`--tls-cert`): the sign-in cookie is then always `Secure`.
    tls: bool,
}

impl Server {
    /// Opens the registry once (creating and migrating its schema) so a bad URL or an
    /// unreachable database stops the server at start, not at its first request.
    fn open(url: RegistryUrl, tls: bool) -> crate::registry::Result<Self> {
        let first = url.open_backend()?;
        Ok(Self {
            url,
            pool: Mutex::new(vec![first]),
            permits: tokio::sync::Semaphore::new(WORKERS),
            tls,
        })
    }

    /// Runs `f` on a pooled registry (opening one when none is free). A registry whose call
    /// failed for want of the backend is dropped rather than reused.
    fn with_backend<T>(
        &self,
        f: impl FnOnce(&mut dyn ServerBackend) -> Result<T, WireError>,
    ) -> Result<T, WireError> {
        let pooled = self.pool.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let mut reg = match pooled {
            Some(r) => r,
            None => self
                .url
                .open_backend()
                .map_err(|e| WireError::from_registry(&e))?,
        };
        let r = f(&mut *reg);
        let broken =
            matches!(&r, Err(e) if matches!(e.kind, ErrorKind::Unreachable | ErrorKind::Backend));
        if !broken {
            self.pool
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(reg);
        }
        r
    }

    /// [`Self::with_backend`] on tokio's blocking pool (the backends are synchronous), at most
    /// [`WORKERS`] at once.
    async fn blocking<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&mut dyn ServerBackend) -> Result<T, WireError> + Send + 'static,
    ) -> Result<T, WireError> {
        let Ok(_permit) = self.permits.acquire().await else {
            return Err(WireError::new(
                ErrorKind::Unreachable,
                "the server is stopping",
            ));
        };
        let srv = Arc::clone(self);
        tokio::task::spawn_blocking(move || srv.with_backend(f))
            .await
            .unwrap_or_else(|e| {
                Err(WireError::new(
                    ErrorKind::Backend,
                    format!("call failed: {e}"),
                ))
            })
    }
}

/// The caller a bearer token stands for: 401 when there is none, or the registry does not know
/// it, or it was revoked.
fn authenticate(
    backend: &mut dyn ServerBackend,
    token: Option<&str>,
) -> Result<routes::Caller, WireError> {
    let unauthorized = |why: &str| WireError::new(ErrorKind::Unauthorized, why);
    let token = token.ok_or_else(no_token)?;
    let row = backend
        .tokens()
        .token_by_hash(&token_hash(token))
        .map_err(|e| WireError::from_registry(&e))?
        .ok_or_else(|| unauthorized("unknown token"))?;
    if row.revoked_at.is_some() {
        return Err(unauthorized("this token was revoked"));
    }
    Ok(routes::Caller {
        user: row.user,
        role: row.role,
    })
}

/// The 401 of a request without a bearer token.
fn no_token() -> WireError {
    WireError::new(
        ErrorKind::Unauthorized,
        "no token: send Authorization: Bearer <token> (skillopt serve token create)",
    )
}

/// The bearer token of a request, if it sends one.
fn bearer(headers: &HeaderMap) -> Option<String> {
    let v = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = v.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_string())
}

fn error(e: WireError) -> Response {
    let status = StatusCode::from_u16(e.kind.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, Json(ErrorBody { error: e })).into_response()
}

async fn registry_call(
    State(srv): State<Arc<Server>>,
    Path(method): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let started = std::time::Instant::now();
    // No token, no reading: a request without one is answered before its body is read. A body
    // that may be large is read only once the token is known to be good, so a stranger cannot
    // make the server hold megabytes per connection.
    let Some(token) = bearer(&headers) else {
        return error(no_token());
    };
    let declared = headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let known = match declared {
        Some(n) if n <= READ_BEFORE_AUTH => None,
        _ => {
            let t = token.clone();
            match srv.blocking(move |b| authenticate(b, Some(&t))).await {
                Ok(caller) => Some(caller),
                Err(e) => return error(e),
            }
        }
    };
    let bytes = match tokio::time::timeout(
        BODY_TIMEOUT,
        axum::body::to_bytes(body, wire::MAX_BODY_BYTES),
    )
    .await
    {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(_)) => {
            return error(WireError::new(
                ErrorKind::TooLarge,
                format!(
                    "the request body is over {} bytes (or could not be read)",
                    wire::MAX_BODY_BYTES
                ),
            ))
        }
        Err(_) => {
            return error(WireError::new(
                ErrorKind::BadRequest,
                format!(
                    "the request body did not arrive within {}s",
                    BODY_TIMEOUT.as_secs()
                ),
            ))
        }
    };
    let m = method.clone();
    let r = srv
        .blocking(move |b| {
            let caller = match known {
                Some(c) => c,
                None => authenticate(b, Some(&token))?,
            };
            routes::call(b.registry(), &caller, &m, &bytes)
        })
        .await;
    let resp = match r {
        Ok(v) => Json(v).into_response(),
        Err(e) => error(e),
    };
    // A method name is `[a-z_]`; anything else (a token pasted into the path, say) is not logged.
    let shown = if !method.is_empty()
        && method.len() <= 40
        && method.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
    {
        method.as_str()
    } else {
        "<not a method>"
    };
    tracing::debug!(
        method = %shown,
        status = resp.status().as_u16(),
        ms = started.elapsed().as_millis() as u64,
        "registry call"
    );
    resp
}

async fn not_found() -> Response {
    error(WireError::new(
        ErrorKind::NotFound,
        format!(
            "no such route (registry methods are POST {}<method>)",
            wire::PREFIX
        ),
    ))
}

fn router(srv: Arc<Server>) -> Router {
    Router::new()
        .route(&format!("{}{{method}}", wire::PREFIX), post(registry_call))
        .merge(dashboard::routes())
        .fallback(not_found)
        .with_state(srv)
}

/// How long a stopping server lets the requests in flight finish.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// How long a connection may take to send a request's headers, and stay idle between requests:
/// a client that opens connections and sends nothing (or a byte at a time) is cut off instead of
/// holding a file descriptor for ever.
const HEADER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// A body up to this size is read with the token's check (one trip to the database); a larger
/// one, or one of unknown size, only after it.
const READ_BEFORE_AUTH: usize = 64 * 1024;

/// How long a request's body may take to arrive once its headers did.
const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// HTTP/2 streams one connection may have open at once (hyper's default is 200, which would
/// multiply what one connection may hold).
const MAX_STREAMS: u32 = 8;

/// [`HEADER_TIMEOUT`] for HTTP/1.1, [`MAX_STREAMS`] for HTTP/2 (which axum-server always
/// offers next to HTTP/1.1).
fn limit_connections(
    b: &mut hyper_util::server::conn::auto::Builder<hyper_util::rt::TokioExecutor>,
) {
    b.http1()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT);
    b.http2()
        .timer(hyper_util::rt::TokioTimer::new())
        .max_concurrent_streams(MAX_STREAMS);
}

/// Resolves on SIGTERM or SIGINT (Ctrl-C): what a service manager or a terminal sends.
async fn stop_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let term = signal(SignalKind::terminate());
    let int = signal(SignalKind::interrupt());
    match (term, int) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        // No signal handling (never on Linux): run until killed.
        _ => std::future::pending().await,
    }
}

/// Serves `url` on `listen` (over TLS with `tls`) until SIGTERM or SIGINT, then lets the
/// requests in flight finish (at most [`SHUTDOWN_GRACE`]); `on_bound` gets the bound address
/// (the port the system chose for `:0`) once requests can be made.
pub fn serve(
    url: RegistryUrl,
    listen: SocketAddr,
    tls: Option<&tls::TlsFiles>,
    on_bound: impl FnOnce(SocketAddr),
) -> anyhow::Result<()> {
    let tls = tls.map(tls::server_config).transpose()?;
    let srv = Arc::new(Server::open(url, tls.is_some())?);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let served = Arc::clone(&srv);
    let r = rt.block_on(async move {
        let listener = std::net::TcpListener::bind(listen)?;
        listener.set_nonblocking(true)?;
        on_bound(listener.local_addr()?);
        let app = router(served).into_make_service();
        let handle = axum_server::Handle::new();
        let stopper = handle.clone();
        tokio::spawn(async move {
            stop_signal().await;
            stopper.graceful_shutdown(Some(SHUTDOWN_GRACE));
        });
        match tls {
            Some(config) => {
                let mut server = axum_server::from_tcp_rustls(listener, config).handle(handle);
                limit_connections(server.http_builder());
                server.serve(app).await?;
            }
            None => {
                let mut server = axum_server::from_tcp(listener).handle(handle);
                limit_connections(server.http_builder());
                server.serve(app).await?;
            }
        }
        tracing::info!("stopped");
        Ok(())
    });
    // The pooled registries go last, outside the runtime: the PostgreSQL client blocks on its
    // own runtime when it closes, which is not allowed inside an async context.
    drop(srv);
    r
}

/// A server running on a thread of this process, stopped when dropped (tests).
#[cfg(test)]
pub struct Running {
    pub addr: SocketAddr,
    /// A token of an admin (user `conformance`), created before the server started.
    pub admin_token: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

#[cfg(test)]
impl Running {
    /// Serves `url` on 127.0.0.1 at a port the system chooses, with an admin token.
    pub fn start(url: RegistryUrl) -> Self {
        let (_, admin_token) = crate::registry::tokens::create_token(
            url.open_backend().unwrap().tokens(),
            "conformance",
            crate::registry::tokens::Role::Admin,
        )
        .unwrap();
        let srv = Arc::new(Server::open(url, false).expect("open the served registry"));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (bound_tx, bound_rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            // Dropped after the runtime stops (see `serve`).
            let keep = Arc::clone(&srv);
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                bound_tx.send(listener.local_addr().unwrap()).unwrap();
                axum::serve(listener, router(srv))
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await
                    .unwrap();
            });
            drop(keep);
        });
        Self {
            addr: bound_rx.recv().unwrap(),
            admin_token,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Its URL as a client names it.
    pub fn url(&self, token: Option<&str>) -> RegistryUrl {
        RegistryUrl::Http {
            base: format!("http://{}", self.addr),
            token: token.map(str::to_string),
            ca_cert: None,
        }
    }
}

#[cfg(test)]
impl Drop for Running {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(srv: &Running, path: &str, body: Vec<u8>) -> (u16, serde_json::Value) {
        let r = reqwest::blocking::Client::new()
            .post(format!("http://{}{path}", srv.addr))
            .bearer_auth(&srv.admin_token)
            .body(body)
            .send()
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().unwrap())
    }

    #[test]
    fn errors_are_json_with_their_status() {
        let dir = tempfile::tempdir().unwrap();
        let srv = Running::start(RegistryUrl::Sqlite(dir.path().join("r.sqlite3")));
        let (s, v) = post(&srv, "/v1/registry/stats", b"{}".to_vec());
        assert_eq!((s, v), (200, serde_json::json!([])));
        let (s, v) = post(&srv, "/v1/registry/publish", b"{oops".to_vec());
        assert_eq!((s, v["error"]["kind"].as_str()), (400, Some("bad_request")));
        let big = vec![b' '; wire::MAX_BODY_BYTES + 1];
        let (s, v) = post(&srv, "/v1/registry/stats", big);
        assert_eq!((s, v["error"]["kind"].as_str()), (413, Some("too_large")));
        let (s, v) = post(&srv, "/v1/registry/nope", b"{}".to_vec());
        assert_eq!((s, v["error"]["kind"].as_str()), (404, Some("not_found")));
        let (s, _) = post(&srv, "/elsewhere", b"{}".to_vec());
        assert_eq!(s, 404);
    }
}
