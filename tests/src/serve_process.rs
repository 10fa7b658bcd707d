//! A real `skillopt serve` child for black-box tests: on 127.0.0.1 at a port the system chose
//! (read from its first stdout line), its log in the admin sandbox, killed when dropped; plus
//! tokens made on its box, clients pointed at it, and raw HTTP for exact statuses and headers.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Stdio};

use crate::Sandbox;

/// A running server.
pub struct Server {
    /// The server's box: its registry is this sandbox's (SQLite file, or the URL given).
    pub admin: Sandbox,
    pub child: Child,
    pub port: u16,
    pub log: PathBuf,
    /// With `--tls-cert`: the self-signed certificate (PEM) clients trust, and the server is
    /// reached as `https://localhost:PORT`.
    pub ca: Option<PathBuf>,
}

impl Server {
    /// A server over a fresh SQLite registry.
    pub fn start() -> Self {
        Self::start_on(None)
    }

    /// A server in front of `registry` (default: the admin sandbox's SQLite file).
    pub fn start_on(registry: Option<&str>) -> Self {
        Self::launch(registry, false)
    }

    /// A server over a fresh SQLite registry serving HTTPS with a fresh self-signed certificate
    /// for `localhost` and 127.0.0.1 (`--tls-cert`, `--tls-key`).
    pub fn start_tls() -> Self {
        Self::launch(None, true)
    }

    fn launch(registry: Option<&str>, tls: bool) -> Self {
        let mut admin = match registry {
            Some(url) => Sandbox::with_registry(url),
            None => Sandbox::new(),
        };
        admin.set_env("SKILLOPT_LOG", "debug");
        let log = admin.path().join("serve.log");
        let mut args = vec!["serve", "--listen", "127.0.0.1:0"];
        let (cert, key) = (admin.path().join("cert.pem"), admin.path().join("key.pem"));
        if tls {
            let made = rcgen::generate_simple_self_signed(vec![
                "localhost".to_string(),
                "127.0.0.1".to_string(),
            ])
            .expect("a self-signed certificate");
            std::fs::write(&cert, made.cert.pem()).unwrap();
            std::fs::write(&key, made.key_pair.serialize_pem()).unwrap();
            args.extend([
                "--tls-cert",
                cert.to_str().unwrap(),
                "--tls-key",
                key.to_str().unwrap(),
            ]);
        }
        let mut child = admin
            .skillopt_cmd(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start skillopt serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let scheme = if tls { "https" } else { "http" };
        let addr = line
            .strip_prefix(&format!("listening on {scheme}://"))
            .and_then(|r| r.split_whitespace().next())
            .unwrap_or_else(|| panic!("no address in {line:?}"));
        let port = addr.rsplit(':').next().unwrap().parse().unwrap();
        Self {
            admin,
            child,
            port,
            log,
            ca: tls.then_some(cert),
        }
    }

    /// A new token made on the server's box, as its admin would: (id, token).
    pub fn token_with_id(&self, user: &str, role: &str) -> (String, String) {
        let v = self
            .admin
            .json_out(&["serve", "token", "create", "--user", user, "--role", role]);
        (
            v["id"].as_str().unwrap().to_string(),
            v["token"].as_str().unwrap().to_string(),
        )
    }

    /// A machine pointed at the server, with `token` when given.
    pub fn client(&self, token: Option<&str>) -> Sandbox {
        let mut sb = Sandbox::with_registry(&self.url(""));
        if let Some(t) = token {
            sb.set_env("SKILLOPT_TOKEN", t);
        }
        if let Some(ca) = &self.ca {
            sb.set_env("SKILLOPT_CA_CERT", ca.to_str().unwrap());
        }
        sb
    }

    /// `http://127.0.0.1:PORT<path>`, or `https://localhost:PORT<path>` over TLS.
    pub fn url(&self, path: &str) -> String {
        match self.ca {
            Some(_) => format!("https://localhost:{}{path}", self.port),
            None => format!("http://127.0.0.1:{}{path}", self.port),
        }
    }

    /// One raw request: the status, the head (lower-cased) and the body. The server may answer
    /// (413) and close before it reads a large body.
    pub fn raw(
        &self,
        method: &str,
        path: &str,
        headers: &str,
        body: impl AsRef<[u8]>,
    ) -> (u16, String, String) {
        let body = body.as_ref();
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        s.write_all(head.as_bytes()).unwrap();
        let _ = s.write_all(body);
        let mut resp = Vec::new();
        let _ = s.read_to_end(&mut resp);
        let resp = String::from_utf8_lossy(&resp).into_owned();
        let (head, body) = resp.split_once("\r\n\r\n").unwrap_or((&resp, ""));
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or_else(|| panic!("no status in {resp:?}"));
        (status, head.to_lowercase(), body.to_string())
    }

    /// One `POST /v1/registry/<method>` with an optional bearer token: the status and the JSON
    /// answer (`null` when it is not JSON).
    pub fn post(&self, method: &str, token: Option<&str>, body: &[u8]) -> (u16, serde_json::Value) {
        let auth = token
            .map(|t| format!("Authorization: Bearer {t}\r\n"))
            .unwrap_or_default();
        let (status, _, body) = self.raw(
            "POST",
            &format!("/v1/registry/{method}"),
            &format!("{auth}Content-Type: application/json\r\n"),
            body,
        );
        (
            status,
            serde_json::from_str(&body).unwrap_or(serde_json::Value::Null),
        )
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
