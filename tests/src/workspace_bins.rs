//! The workspace binaries the black-box tests run (`skillopt` and the three hooks), built by the
//! harness itself once per test process.
//!
//! Why not `env!("CARGO_BIN_EXE_skillopt")`: cargo sets `CARGO_BIN_EXE_<name>` only for the
//! integration tests of the package that owns the binary, and a dependency on another package's
//! binary (artifact dependencies, `-Z bindeps`) is unstable. The tests live in their own crate,
//! so instead the first test that needs a binary runs
//! `cargo build --workspace --bins --target-dir <the test's target dir> [--release|--profile P]`
//! with the cargo that runs the tests (`CARGO`). That is the README's `cargo build --workspace`
//! restricted to binaries: the same packages and features, so after the README's command it is
//! a no-op of a fraction of a second, and after an edit (or with `cargo test -p skillopt-tests`
//! alone) it rebuilds exactly what is stale. Cargo's own lock on the target dir serialises it
//! against other builds and other test processes; a `OnceLock` makes it once per process. Cargo
//! releases that lock before it runs the test executables, so the nested build does not wait on
//! the `cargo test` that started it.
//!
//! `SKILLOPT_TEST_NO_BUILD=1` skips the build and uses whatever binaries are there (for testing
//! binaries built some other way).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// `<target>/<profile>`: the directory above the test executable's `deps/`.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let deps = exe.parent().expect("the test executable's directory");
    // Integration tests live in `<profile>/deps/`; the harness's own unit tests too.
    let dir = if deps.file_name().is_some_and(|n| n == "deps") {
        deps.parent().expect("profile dir")
    } else {
        deps
    };
    dir.to_path_buf()
}

/// The cargo running the tests (`CARGO` at run time), else the one that built this crate.
fn cargo() -> std::ffi::OsString {
    std::env::var_os("CARGO")
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| env!("CARGO").into())
}

fn build(profile_dir: &Path) -> Result<(), String> {
    let target_dir = profile_dir.parent().ok_or("no target dir")?;
    let profile = profile_dir
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or("no profile")?;
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut c = Command::new(cargo());
    c.args(["build", "--workspace", "--bins", "--quiet", "--target-dir"])
        .arg(target_dir)
        .current_dir(&workspace);
    match profile {
        "debug" => {}
        "release" => {
            c.arg("--release");
        }
        other => {
            c.args(["--profile", other]);
        }
    }
    let t0 = std::time::Instant::now();
    let out = c
        .output()
        .map_err(|e| format!("cannot run {:?}: {e}", cargo()))?;
    if !out.status.success() {
        return Err(format!(
            "`cargo build --workspace --bins` failed (the tests need the workspace binaries):\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    if t0.elapsed().as_secs() >= 2 {
        eprintln!(
            "built the workspace binaries in {:.1}s",
            t0.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// The directory holding fresh workspace binaries (built on the first call of the process).
/// Panics with cargo's errors when the build fails.
pub fn dir() -> &'static Path {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let got = BUILT.get_or_init(|| {
        let dir = profile_dir();
        let skip = std::env::var("SKILLOPT_TEST_NO_BUILD")
            .is_ok_and(|v| !v.is_empty() && v != "0" && v != "false");
        if !skip {
            build(&dir)?;
        }
        Ok(dir)
    });
    match got {
        Ok(d) => d,
        Err(e) => panic!("{e}"),
    }
}
