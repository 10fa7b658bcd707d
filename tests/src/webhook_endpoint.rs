//! A loopback webhook endpoint standing for Slack: axum on 127.0.0.1:0 in a background
//! thread, recording every request and answering from a script (then 200). It stops when
//! dropped, or after 10 minutes.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use serde_json::Value;

/// The secret part of the URL, as in a Slack incoming-webhook URL: never in a log.
pub const SECRET: &str = "XXsecretXXtokenXX";

/// One POST the endpoint received.
#[derive(Debug, Clone)]
pub struct Post {
    pub method: String,
    pub path: String,
    pub user_agent: String,
    pub body: Value,
    pub answered: u16,
}

#[derive(Default)]
struct Log {
    posts: Vec<Post>,
    answers: VecDeque<u16>,
}

/// A loopback webhook endpoint; stops when dropped.
pub struct Endpoint {
    pub url: String,
    log: Arc<Mutex<Log>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

async fn receive(
    State(log): State<Arc<Mutex<Log>>>,
    method: Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let mut log = log.lock().unwrap();
    let answered = log.answers.pop_front().unwrap_or(200);
    log.posts.push(Post {
        method: method.to_string(),
        path: uri.path().to_string(),
        user_agent: headers
            .get("user-agent")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string(),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        answered,
    });
    StatusCode::from_u16(answered).unwrap_or(StatusCode::OK)
}

impl Endpoint {
    /// Answers the first requests with `answers`, then 200.
    pub fn start(answers: &[u16]) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let log = Arc::new(Mutex::new(Log {
            posts: Vec::new(),
            answers: answers.iter().copied().collect(),
        }));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let state = log.clone();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let thread = std::thread::spawn(move || {
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let app = axum::Router::new().fallback(receive).with_state(state);
                tokio::select! {
                    _ = axum::serve(listener, app) => {}
                    _ = stopped => {}
                    _ = tokio::time::sleep(std::time::Duration::from_secs(600)) => {}
                }
            });
        });
        Endpoint {
            url: format!("http://127.0.0.1:{port}/services/T0001/B0001/{SECRET}"),
            log,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Every request so far.
    pub fn posts(&self) -> Vec<Post> {
        self.log.lock().unwrap().posts.clone()
    }

    /// The bodies the endpoint accepted (2xx).
    pub fn delivered(&self) -> Vec<Value> {
        self.posts()
            .into_iter()
            .filter(|p| (200..300).contains(&p.answered))
            .map(|p| p.body)
            .collect()
    }
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
