//! Links the unwinder into the hook binaries instead of loading `libgcc_s.so.1` at every start,
//! and stamps the commit they were built from (`--version`).
//!
//! A hook runs on every session start, tool use and prompt, so its process start is most of its
//! cost, and on Linux/glibc the dynamic loader spends a noticeable part of it opening, mapping
//! and relocating `libgcc_s` (std needs it only to unwind a panic). Naming the static
//! `libgcc_eh.a` here puts it on the link line before std's `-lgcc_s`, so the unwinder comes
//! from it and `--as-needed` drops `libgcc_s` from the binary: panics still unwind (the hooks
//! catch them and log them). The rest of the workspace is untouched: this applies only to
//! what links `skillopt-hooks`, and only on linux-gnu (other targets keep their default).
//!
//! (A fully static binary, `-C target-feature=+crt-static`, starts faster still, but cargo has
//! no per-package way to set it, and a static glibc would resolve users through NSS.)
//!
//! The commit becomes `SKILLOPT_COMMIT` at compile time: `git rev-parse --short HEAD` in a git
//! checkout, else `SKILLOPT_BUILD_COMMIT` from the environment, else `unknown`. The worker's
//! `build.rs` does the same (the two are copies: a build script cannot share a module with
//! another package's without reaching outside its own), so `skillopt doctor` can tell hooks
//! and CLI of different builds apart.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os == "linux" && env == "gnu" {
        println!("cargo:rustc-link-lib=static:-bundle=gcc_eh");
    }
    println!("cargo:rustc-env=SKILLOPT_COMMIT={}", commit());
}

/// One line of `git <args>`'s stdout, or `None` (no git, not a checkout).
fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    let line = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !line.is_empty()).then_some(line)
}

/// The commit, with `rerun-if-changed` on what moves it: HEAD, the branch's folder of loose
/// refs (a commit rewrites or creates a file there) and `packed-refs`.
fn commit() -> String {
    println!("cargo:rerun-if-env-changed=SKILLOPT_BUILD_COMMIT");
    if let Some(hash) = git(&["rev-parse", "--short", "HEAD"]) {
        let mut watched = vec![git(&["rev-parse", "--git-path", "HEAD"])];
        if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
            let dir = branch.rsplit_once('/').map_or("refs", |(d, _)| d);
            watched.push(git(&["rev-parse", "--git-path", dir]));
        }
        watched.push(git(&["rev-parse", "--git-path", "packed-refs"]));
        for path in watched.into_iter().flatten().map(PathBuf::from) {
            if path.exists() {
                println!("cargo:rerun-if-changed={}", path.display());
            }
        }
        return hash;
    }
    std::env::var("SKILLOPT_BUILD_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .unwrap_or_else(|| "unknown".into())
}
