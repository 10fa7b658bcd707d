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
//! checkout, else `SKILLOPT_BUILD_COMMIT` from the environment, else `unknown`: the same code as
//! the worker's (`shared/build/commit.rs`), so `skillopt doctor` can tell hooks and CLI of
//! different builds apart.

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

include!("../shared/build/commit.rs");
