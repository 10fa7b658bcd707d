//! A loopback npm registry serving skillopt's packed `.tgz` files, so the test installs
//! `skillopt` by name the way a user does (`npm install -g skillopt`), and npm lays it out as it
//! would from npmjs.com: the platform package nested under `skillopt`, the other platforms'
//! packages (absent here: a 404, as for an optional dependency that cannot be had) skipped.
//!
//! Plain HTTP/1.1 on std's `TcpListener`, one thread per connection, each answer closing its
//! connection: `GET /<name>` (scoped names come as `@scope%2fname`) is the packument of the one
//! version packed, `GET /-/<file>.tgz` the tarball, anything else 404. It serves until the
//! process ends.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

/// Starts the registry over `tgz` files and returns its URL (`http://127.0.0.1:PORT/`).
pub fn serve(tgz: &[PathBuf]) -> Result<String, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let url = format!(
        "http://{}/",
        listener.local_addr().map_err(|e| e.to_string())?
    );
    let mut packuments = BTreeMap::new();
    let mut files = BTreeMap::new();
    for file in tgz {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let mut manifest = manifest(file)?;
        let id = manifest["name"]
            .as_str()
            .ok_or("a package without a name")?;
        let version = manifest["version"]
            .as_str()
            .ok_or("no version")?
            .to_string();
        let id = id.to_string();
        manifest["dist"] = json!({ "tarball": format!("{url}-/{name}") });
        let packument = json!({
            "name": id,
            "dist-tags": { "latest": version },
            "versions": { version: manifest },
        });
        packuments.insert(
            format!("/{}", id.replace('/', "%2f")),
            packument.to_string(),
        );
        files.insert(format!("/-/{name}"), file.clone());
    }
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (packuments, files) = (packuments.clone(), files.clone());
            std::thread::spawn(move || answer(stream, &packuments, &files));
        }
    });
    Ok(url)
}

/// The `package/package.json` inside a `.tgz`.
fn manifest(tgz: &Path) -> Result<Value, String> {
    let out = Command::new("tar")
        .arg("-xzOf")
        .arg(tgz)
        .arg("package/package.json")
        .output()
        .map_err(|e| format!("tar: {e}"))?;
    serde_json::from_slice(&out.stdout).map_err(|e| format!("{}: {e}", tgz.display()))
}

fn answer(
    mut stream: TcpStream,
    packuments: &BTreeMap<String, String>,
    files: &BTreeMap<String, PathBuf>,
) {
    let mut reader = BufReader::new(&stream);
    let mut request = String::new();
    if reader.read_line(&mut request).is_err() {
        return;
    }
    // The rest of the head (npm sends no body with a GET).
    let mut line = String::new();
    while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
        line.clear();
    }
    let path = request.split(' ').nth(1).unwrap_or("/").to_string();
    let (status, kind, body) = if let Some(p) = packuments.get(&path.to_ascii_lowercase()) {
        ("200 OK", "application/json", p.clone().into_bytes())
    } else if let Some(f) = files.get(&path) {
        let bytes = std::fs::read(f).unwrap_or_default();
        ("200 OK", "application/octet-stream", bytes)
    } else {
        (
            "404 Not Found",
            "application/json",
            br#"{"error":"Not found"}"#.to_vec(),
        )
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&body);
}
