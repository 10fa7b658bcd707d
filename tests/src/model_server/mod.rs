//! A scripted model server for driving the real Claude Code and Codex CLIs offline.
//!
//! [`ModelServer::start`] binds 127.0.0.1:0, serves the Anthropic Messages API
//! (`POST /v1/messages`, `/v1/messages/count_tokens`) and the OpenAI Responses API
//! (`POST /v1/responses`, `GET /v1/models`) from a tokio runtime on its own thread, answers any
//! other call harmlessly (`{}`), and logs every request (method, path, JSON body, what it
//! answered) in memory ([`ModelServer::requests`]) and as JSONL ([`ModelServer::log_path`]).
//! Replies are decided by [`script`] from the request alone; each server has its own
//! [`Script`] (verdict and edits), so parallel tests run their own servers. The server stops
//! when its handle drops or after its maximum lifetime, whichever comes first.

pub mod anthropic;
pub mod openai;
pub mod script;
pub mod sse;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

pub use script::{Kind, Script};

/// The model name the Codex config asks for.
pub const CODEX_MODEL: &str = "mock-model";
/// Default maximum lifetime of a server.
pub const MAX_LIFETIME: Duration = Duration::from_secs(600);

/// One logged request.
#[derive(Debug, Clone)]
pub struct LoggedRequest {
    pub method: String,
    pub path: String,
    /// The JSON body (`Null` when empty, a string when not JSON).
    pub body: Value,
    /// `judge`, `proposer`, `session` or `other` (not a model call).
    pub kind: String,
    /// What the server answered (for model calls).
    pub action: Value,
}

impl LoggedRequest {
    fn to_json(&self) -> Value {
        json!({"method": self.method, "path": self.path, "kind": self.kind,
               "action": self.action, "body": self.body})
    }

    /// Whether this is a model call (Messages or Responses).
    pub fn is_model_call(&self) -> bool {
        self.method == "POST" && (self.path == "/v1/messages" || self.path == "/v1/responses")
    }

    /// Names of the tools offered in this request.
    pub fn tool_names(&self) -> Vec<String> {
        self.body["tools"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t["name"].as_str().or(t["type"].as_str()))
            .map(str::to_string)
            .collect()
    }
}

struct Shared {
    script: Script,
    log: Mutex<Vec<LoggedRequest>>,
    file: Mutex<Option<std::fs::File>>,
    next_id: AtomicU64,
}

impl Shared {
    fn record(&self, r: LoggedRequest) {
        if let Some(f) = self.file.lock().unwrap().as_mut() {
            let _ = writeln!(f, "{}", r.to_json());
            let _ = f.flush();
        }
        self.log.lock().unwrap().push(r);
    }
}

/// A running server; dropping it stops the server.
pub struct ModelServer {
    port: u16,
    shared: Arc<Shared>,
    log_path: PathBuf,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ModelServer {
    /// Starts a server with `script`, logging to `log_path` (JSONL), alive for at most
    /// [`MAX_LIFETIME`].
    pub fn start(script: Script, log_path: &Path) -> std::io::Result<Self> {
        Self::start_for(script, log_path, MAX_LIFETIME)
    }

    /// Starts a server alive for at most `lifetime`.
    pub fn start_for(script: Script, log_path: &Path, lifetime: Duration) -> std::io::Result<Self> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let port = listener.local_addr()?.port();
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log_path)?;
        let shared = Arc::new(Shared {
            script,
            log: Mutex::new(Vec::new()),
            file: Mutex::new(Some(file)),
            next_id: AtomicU64::new(1),
        });
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let state = shared.clone();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let thread = std::thread::Builder::new()
            .name(format!("model-server-{port}"))
            .spawn(move || {
                rt.block_on(async move {
                    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                        return;
                    };
                    let app = axum::Router::new().fallback(handle).with_state(state);
                    let serve = axum::serve(listener, app);
                    tokio::select! {
                        _ = serve => {}
                        _ = stopped => {}
                        _ = tokio::time::sleep(lifetime) => {}
                    }
                });
            })?;
        Ok(Self {
            port,
            shared,
            log_path: log_path.to_path_buf(),
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.shared.log.lock().unwrap().clone()
    }

    /// Model calls of one kind.
    pub fn calls(&self, kind: Kind) -> Vec<LoggedRequest> {
        self.requests()
            .into_iter()
            .filter(|r| r.kind == kind.as_str())
            .collect()
    }

    /// The JSONL request log.
    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// A one-line-per-request summary (method, path, kind, answer) for failure output.
    pub fn summary(&self) -> String {
        self.requests()
            .iter()
            .map(|r| {
                format!(
                    "{} {} [{}] tools={:?} -> {}\n",
                    r.method,
                    r.path,
                    r.kind,
                    r.tool_names(),
                    r.action
                )
            })
            .collect()
    }

    /// Environment for Claude Code against this server.
    pub fn claude_env(&self) -> Vec<(String, String)> {
        [
            ("ANTHROPIC_BASE_URL", self.url()),
            ("ANTHROPIC_API_KEY", "sk-ant-skillopt-test".into()),
            ("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1".into()),
            ("DISABLE_AUTOUPDATER", "1".into()),
            ("DISABLE_TELEMETRY", "1".into()),
            ("DISABLE_ERROR_REPORTING", "1".into()),
            ("MOCK_API_KEY", "mock-skillopt-test".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// `$CODEX_HOME/config.toml` for Codex against this server.
    pub fn codex_config_toml(&self) -> String {
        format!(
            "model = \"{CODEX_MODEL}\"\nmodel_provider = \"mock\"\napproval_policy = \"never\"\n\
             sandbox_mode = \"read-only\"\n\n[model_providers.mock]\nname = \"mock\"\n\
             base_url = \"{}/v1\"\nenv_key = \"MOCK_API_KEY\"\nwire_api = \"responses\"\n\
             request_max_retries = 0\nstream_max_retries = 0\n",
            self.url()
        )
    }
}

impl Drop for ModelServer {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn sse_response(text: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        text,
    )
        .into_response()
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    let body: Value = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()))
    };
    let id = shared.next_id.fetch_add(1, Ordering::Relaxed).to_string();
    let model = body["model"].as_str().unwrap_or(CODEX_MODEL).to_string();
    let mut logged = LoggedRequest {
        method: method.to_string(),
        path: path.clone(),
        body: body.clone(),
        kind: "other".into(),
        action: Value::Null,
    };
    let response = match (method.as_str(), path.as_str()) {
        ("POST", "/v1/messages") | ("POST", "/v1/responses") => {
            let anthropic = path == "/v1/messages";
            let conv = if anthropic {
                anthropic::conversation(&body)
            } else {
                openai::conversation(&body)
            };
            let (kind, action) = script::decide(&conv, &shared.script);
            logged.kind = kind.as_str().into();
            logged.action = match &action {
                script::Action::Text(t) => json!({"text": t}),
                script::Action::Tool { name, input } => json!({"tool": name, "input": input}),
            };
            if !anthropic {
                sse_response(openai::stream(&action, &model, &id))
            } else if body["stream"] == true {
                sse_response(anthropic::stream(&action, &model, &id))
            } else {
                axum::Json(anthropic::message(&action, &model, &id)).into_response()
            }
        }
        ("POST", "/v1/messages/count_tokens") => {
            axum::Json(json!({"input_tokens": 42})).into_response()
        }
        ("GET", "/v1/models") => axum::Json(openai::models(CODEX_MODEL)).into_response(),
        ("HEAD", _) => StatusCode::OK.into_response(),
        _ => axum::Json(json!({})).into_response(),
    };
    shared.record(logged);
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::net::TcpStream;

    fn http(url_port: u16, req: &str) -> String {
        let mut s = TcpStream::connect(("127.0.0.1", url_port)).unwrap();
        s.write_all(req.as_bytes()).unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    }

    #[test]
    fn serves_logs_and_stops() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("requests.jsonl");
        let server = ModelServer::start(Script::default(), &log).unwrap();
        let port = server.port;
        let body = r#"{"model":"m","stream":true,"messages":[{"role":"user","content":"[[skill-tool a--b]]"}],"tools":[{"name":"Skill","input_schema":{}}]}"#;
        let out = http(
            port,
            &format!(
                "POST /v1/messages?beta=true HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            ),
        );
        assert!(out.contains("text/event-stream"), "{out}");
        assert!(out.contains("\"name\":\"Skill\""), "{out}");
        let out = http(
            port,
            "GET /v1/models HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        );
        assert!(out.contains(CODEX_MODEL), "{out}");
        let reqs = server.requests();
        assert_eq!(reqs.len(), 2);
        assert_eq!(reqs[0].path, "/v1/messages");
        assert_eq!(reqs[0].kind, "session");
        assert_eq!(reqs[0].tool_names(), ["Skill"]);
        assert_eq!(std::fs::read_to_string(&log).unwrap().lines().count(), 2);
        drop(server);
        assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
    }

    #[test]
    fn stops_after_its_lifetime() {
        let dir = tempfile::tempdir().unwrap();
        let server = ModelServer::start_for(
            Script::default(),
            &dir.path().join("r.jsonl"),
            Duration::from_millis(100),
        )
        .unwrap();
        let port = server.port;
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_ok() {
            assert!(std::time::Instant::now() < deadline, "still serving");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
