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
}

impl Server {
    /// Opens the registry once (creating and migrating its schema) so a bad URL or an
    /// unreachable database stops the server at start, not at its first request.
    fn open(url: RegistryUrl) -> crate::registry::Result<Self> {
        let first = url.open_backend()?;
        Ok(Self {
            url,
            pool: Mutex::new(vec![first]),
            permits: tokio::sync::Semaphore::new(WORKERS),
        })
    }

    /// Runs one call on a pooled registry (opening one when none is free). A registry whose
    /// call failed for want of the backend is dropped rather than reused.
    fn call(
        &self,
        token: Option<&str>,
        method: &str,
        body: &[u8],
    ) -> Result<serde_json::Value, WireError> {
        let pooled = self.pool.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let mut reg = match pooled {
            Some(r) => r,
            None => self
                .url
                .open_backend()
                .map_err(|e| WireError::from_registry(&e))?,
        };
        let r = authenticate(&mut *reg, token)
            .and_then(|caller| routes::call(reg.registry(), &caller, method, body));
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
    // No token, no reading: a request without one is answered before its body is read.
    let Some(token) = bearer(&headers) else {
        return error(no_token());
    };
    let Ok(bytes) = axum::body::to_bytes(body, wire::MAX_BODY_BYTES).await else {
        return error(WireError::new(
            ErrorKind::TooLarge,
            format!(
                "the request body is over {} bytes (or could not be read)",
                wire::MAX_BODY_BYTES
            ),
        ));
    };
    let Ok(_permit) = srv.permits.acquire().await else {
        return error(WireError::new(
            ErrorKind::Unreachable,
            "the server is stopping",
        ));
    };
    let worker = Arc::clone(&srv);
    let m = method.clone();
    let r = tokio::task::spawn_blocking(move || worker.call(Some(&token), &m, &bytes))
        .await
        .unwrap_or_else(|e| {
            Err(WireError::new(
                ErrorKind::Backend,
                format!("call failed: {e}"),
            ))
        });
    let resp = match r {
        Ok(v) => Json(v).into_response(),
        Err(e) => error(e),
    };
    tracing::debug!(
        method = %crate::commands::one_line(&method),
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
    let srv = Arc::new(Server::open(url)?);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let served = Arc::clone(&srv);
    let r = rt.block_on(async move {
        let listener = std::net::TcpListener::bind(listen)?;
        listener.set_nonblocking(true)?;
        on_bound(listener.local_addr()?);
        let app = router(served);
        match tls {
            Some(config) => {
                let handle = axum_server::Handle::new();
                let stopper = handle.clone();
                tokio::spawn(async move {
                    stop_signal().await;
                    stopper.graceful_shutdown(Some(SHUTDOWN_GRACE));
                });
                axum_server::from_tcp_rustls(listener, config)
                    .handle(handle)
                    .serve(app.into_make_service())
                    .await?;
            }
            None => {
                let listener = tokio::net::TcpListener::from_std(listener)?;
                let serving = std::future::IntoFuture::into_future(
                    axum::serve(listener, app).with_graceful_shutdown(stop_signal()),
                );
                tokio::pin!(serving);
                // Connections kept alive by idle clients must not hold the stop up forever.
                tokio::select! {
                    r = &mut serving => r?,
                    _ = async {
                        stop_signal().await;
                        tokio::time::sleep(SHUTDOWN_GRACE).await;
                    } => {}
                }
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
        let srv = Arc::new(Server::open(url).expect("open the served registry"));
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
