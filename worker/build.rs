//! Stamps the commit the CLI was built from into `skillopt --version` (`SKILLOPT_COMMIT` at
//! compile time): `git rev-parse --short HEAD` in a git checkout, else `SKILLOPT_BUILD_COMMIT`
//! from the environment (a build from a source tarball), else `unknown`.
//!
//! The hooks' `build.rs` stamps theirs with the same code (`shared/build/commit.rs`), and
//! `skillopt doctor` compares the two.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rustc-env=SKILLOPT_COMMIT={}", commit());
}

include!("../shared/build/commit.rs");
