//! skillopt installed the way users get it: the npm packages of `dist/npm/pack.sh`, packed from
//! the workspace's debug binaries, served by a loopback registry ([`registry`]) and installed
//! with `npm install -g skillopt` into a fresh prefix, once per test process and install mode.
//!
//! * [`npm_installed`]: a normal install (the postinstall puts the native binaries in place of
//!   the `bin` launchers); [`npm_installed_without_scripts`]: `--ignore-scripts`, where the
//!   `bin` entries stay the `sh` launchers that exec the platform package's binaries.
//! * The packages are packed from copies of the debug binaries without their debug info (when
//!   `strip` is there: a tenth of the size to gzip and unpack), for this machine's platform.
//! * npm talks to the loopback registry only (no user or global npmrc, a private cache), on a
//!   PATH of a directory holding only `sh`, `node` and `npm`; the installed binaries run on
//!   [`NpmInstall::path`]: the prefix's `bin` and `sh` with the few tools the launcher uses, so
//!   no cargo and no node.
//! * Everything lives under `<target>/<profile>/npm-dist/pid-<pid>/` (a run's leftovers are
//!   removed by the next run once their process is gone).
//!
//! When npm is missing these return `None` after printing that the test is skipped, unless real
//! clients are required (CI, see [`crate::real_clients::required`]), where they panic. Any other
//! failure (packing, installing) panics.

pub mod registry;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use crate::real_clients::required;
use crate::workspace_bins;

/// The binaries the npm packages carry.
pub const BINARIES: [&str; 4] = [
    "skillopt",
    "skillopt-session-start",
    "skillopt-pre-tool-use",
    "skillopt-user-prompt-submit",
];

/// What the shim launcher runs besides `sh` (`readlink` for an unusual link, `head` to drain a
/// hook's stdin when the platform package is missing).
const LAUNCHER_TOOLS: [&str; 3] = ["sh", "readlink", "head"];

/// One npm install of skillopt.
#[derive(Debug, Clone)]
pub struct NpmInstall {
    /// The `--prefix` of `npm install -g`.
    pub prefix: PathBuf,
    /// `<prefix>/bin`, where npm linked the `bin` entries.
    pub bin_dir: PathBuf,
    /// A directory with only the tools the launcher needs (`sh`, `readlink`, `head`).
    pub tools_dir: PathBuf,
}

impl NpmInstall {
    /// `<prefix>/bin/<name>` (npm's link).
    pub fn bin(&self, name: &str) -> PathBuf {
        self.bin_dir.join(name)
    }

    /// A PATH with the installed binaries and the launcher's tools, and no cargo or node.
    pub fn path(&self) -> String {
        format!("{}:{}", self.bin_dir.display(), self.tools_dir.display())
    }
}

/// skillopt installed with npm's install scripts: the `bin` entries are the native binaries.
pub fn npm_installed() -> Option<NpmInstall> {
    static INSTALL: OnceLock<Result<NpmInstall, String>> = OnceLock::new();
    outcome(INSTALL.get_or_init(|| install("scripts", true)))
}

/// skillopt installed with `--ignore-scripts`: the `bin` entries are the `sh` launchers.
pub fn npm_installed_without_scripts() -> Option<NpmInstall> {
    static INSTALL: OnceLock<Result<NpmInstall, String>> = OnceLock::new();
    outcome(INSTALL.get_or_init(|| install("no-scripts", false)))
}

/// A fresh install of its own with `--ignore-scripts` (for a test that changes it), under
/// `name`.
pub fn npm_installed_fresh_without_scripts(name: &str) -> Option<NpmInstall> {
    outcome(&install(name, false))
}

/// The install, a skip (npm is missing and not required), or a panic (any other failure).
fn outcome(got: &Result<NpmInstall, String>) -> Option<NpmInstall> {
    match got {
        Ok(i) => Some(i.clone()),
        Err(why) if required() || which("npm").is_some() => {
            panic!("skillopt's npm packages cannot be installed: {why}")
        }
        Err(why) => {
            eprintln!("skipped: skillopt's npm packages cannot be installed ({why})");
            None
        }
    }
}

/// This process's working directory, with the leftovers of finished processes removed.
fn work_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let base = workspace_bins::dir().join("npm-dist");
        if let Ok(entries) = std::fs::read_dir(&base) {
            for e in entries.flatten() {
                let pid = e
                    .file_name()
                    .to_string_lossy()
                    .strip_prefix("pid-")
                    .map(String::from);
                // Only where /proc tells which processes live.
                if let Some(pid) = pid.filter(|_| Path::new("/proc/self").exists()) {
                    if !Path::new("/proc").join(&pid).exists() {
                        let _ = std::fs::remove_dir_all(e.path());
                    }
                }
            }
        }
        let dir = base.join(format!("pid-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("npm-dist work dir");
        dir
    })
}

/// The first `name` on the caller's PATH.
fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// A directory of links to `tools` (each found on the caller's PATH).
fn tools_dir(dir: &Path, tools: &[&str]) -> Result<PathBuf, String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    for t in tools {
        let found = which(t).ok_or_else(|| format!("no `{t}` on PATH"))?;
        // Both installs may make it at once: a link already there is the same.
        match std::os::unix::fs::symlink(&found, dir.join(t)) {
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => return Err(e.to_string()),
            _ => {}
        }
    }
    Ok(dir.to_path_buf())
}

fn run(c: &mut Command, what: &str) -> Result<Output, String> {
    let out = c.output().map_err(|e| format!("cannot run {what}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{what} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(out)
}

/// The URL of a loopback registry serving `dist/npm/pack.sh`'s packages (packed and started
/// once per process).
fn registry_url() -> Result<&'static str, String> {
    static URL: OnceLock<Result<String, String>> = OnceLock::new();
    let got = URL.get_or_init(|| registry::serve(&packs()?));
    got.as_deref().map_err(Clone::clone)
}

/// The `.tgz` files of `dist/npm/pack.sh`.
fn packs() -> Result<Vec<PathBuf>, String> {
    which("npm").ok_or("npm is not on PATH")?;
    let work = work_dir();
    // Copies without debug info (or the binaries as they are, without `strip`).
    let bins = work.join("bins");
    std::fs::create_dir_all(&bins).map_err(|e| e.to_string())?;
    for name in BINARIES {
        let src = crate::bin(name);
        let stripped = Command::new("strip")
            .arg("--strip-debug")
            .arg("-o")
            .arg(bins.join(name))
            .arg(&src)
            .status()
            .is_ok_and(|s| s.success());
        if !stripped {
            std::fs::copy(&src, bins.join(name)).map_err(|e| e.to_string())?;
        }
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../dist/npm/pack.sh");
    let out = run(
        Command::new("bash")
            .arg(&script)
            .arg(work.join("packs"))
            .env("SKILLOPT_DIST_BIN_DIR", &bins),
        "dist/npm/pack.sh",
    )?;
    let packs: Vec<PathBuf> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(PathBuf::from)
        .collect();
    match packs.iter().all(|p| p.is_file()) && packs.len() == 2 {
        true => Ok(packs),
        false => Err(format!("pack.sh printed {packs:?}, not two .tgz files")),
    }
}

/// `npm install -g skillopt` from the loopback registry into `<work>/<name>`, on a PATH of `sh`,
/// `node` and `npm` only.
fn install(name: &str, scripts: bool) -> Result<NpmInstall, String> {
    install_from(registry_url()?, name, scripts)
}

/// `npm install -g skillopt` (with its install script) from a registry that has the `skillopt`
/// package but not its platform package (a mirror that lags): `None` when npm is missing and
/// not required, else what npm did.
pub fn install_without_the_platform_package(name: &str) -> Option<Result<NpmInstall, String>> {
    let main_only = || -> Result<String, String> {
        let packs = packs()?;
        let main: Vec<PathBuf> = packs
            .into_iter()
            .filter(|p| {
                p.file_name().is_some_and(|n| {
                    let n = n.to_string_lossy();
                    !n.contains("-linux-") && !n.contains("-darwin-")
                })
            })
            .collect();
        if main.len() != 1 {
            return Err(format!("no skillopt package among the packs: {main:?}"));
        }
        registry::serve(&main)
    };
    match main_only() {
        Ok(url) => Some(install_from(&url, name, true)),
        Err(why) => {
            outcome(&Err(why));
            None
        }
    }
}

fn install_from(registry: &str, name: &str, scripts: bool) -> Result<NpmInstall, String> {
    let work = work_dir();
    let prefix = work.join(name);
    // Empty user and global npmrc files (npm refuses one file for both).
    let [user_rc, global_rc] = ["user-npmrc", "global-npmrc"].map(|f| work.join(f));
    for rc in [&user_rc, &global_rc] {
        std::fs::write(rc, "").map_err(|e| e.to_string())?;
    }
    let npm_path = tools_dir(&work.join("npm-tools"), &["sh", "node", "npm"])?;
    let mut c = Command::new(npm_path.join("npm"));
    for (k, _) in std::env::vars() {
        if k.to_ascii_lowercase().starts_with("npm_") {
            c.env_remove(k);
        }
    }
    c.args(["install", "--global", "--no-audit", "--no-fund"])
        .args(["--loglevel=error", "--no-update-notifier"])
        .arg(format!("--registry={registry}"))
        .arg("--prefix")
        .arg(&prefix)
        .arg("--cache")
        .arg(work.join("npm-cache"))
        .arg("--userconfig")
        .arg(&user_rc)
        .arg("--globalconfig")
        .arg(&global_rc)
        .arg("skillopt")
        .env("PATH", &npm_path)
        .env("HOME", work.join("npm-home"))
        .current_dir(work);
    if !scripts {
        c.arg("--ignore-scripts");
    }
    run(&mut c, "npm install -g")?;
    Ok(NpmInstall {
        bin_dir: prefix.join("bin"),
        prefix,
        tools_dir: tools_dir(&work.join("launcher-tools"), &LAUNCHER_TOOLS)?,
    })
}
