//! npm's `sh` launchers, made native by `skillopt install`.
//!
//! The npm package's `bin` entries are small `sh` launchers (`dist/npm/skillopt/shim.sh`) that
//! its install script replaces with the native binaries. When npm does not run that script
//! (`--ignore-scripts`, or npm 12's default of running no install scripts it was not told to
//! allow), every hook starts a shell first (about 0.6 ms more per hook). `skillopt install`
//! does the script's job instead: this process runs from the platform package's binaries (the
//! launcher `exec`ed it there), so each launcher found on PATH is replaced, in place and
//! atomically (a hard link, or a copy, then a rename), by its sibling of the same name.

use std::path::{Path, PathBuf};

/// The binaries the npm package carries.
pub const NAMES: [&str; 4] = [
    "skillopt",
    "skillopt-session-start",
    "skillopt-pre-tool-use",
    "skillopt-user-prompt-submit",
];

/// True when `path` is the npm package's `sh` launcher rather than the native binary it runs:
/// the package's install script did not run.
pub fn is_npm_launcher(path: &Path) -> bool {
    let small = std::fs::metadata(path).is_ok_and(|m| m.len() < 64 * 1024);
    small
        && std::fs::read(path).is_ok_and(|b| {
            b.starts_with(b"#!/bin/sh\n") && b.windows(23).any(|w| w == b"skillopt's npm launcher")
        })
}

/// A launcher replaced by its native binary.
#[derive(Debug)]
pub struct Replaced {
    pub name: &'static str,
    /// The launcher's file (what npm's link on PATH leads to).
    pub file: PathBuf,
}

/// Puts `src` at `dst` atomically, executable.
fn place(src: &Path, dst: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let tmp = dst.with_file_name(format!(
        ".{}.skillopt-{}",
        dst.file_name().and_then(|n| n.to_str()).unwrap_or("bin"),
        std::process::id()
    ));
    let _ = std::fs::remove_file(&tmp);
    if std::fs::hard_link(src, &tmp).is_err() {
        std::fs::copy(src, &tmp)?;
    }
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755))?;
    std::fs::rename(&tmp, dst).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// npm's name of this build's platform (`linux-x64`, `darwin-arm64`, …).
fn npm_platform() -> String {
    let os = match std::env::consts::OS {
        "macos" => "darwin",
        other => other,
    };
    let cpu = match std::env::consts::ARCH {
        "x86_64" => "x64",
        "aarch64" => "arm64",
        other => other,
    };
    format!("{os}-{cpu}")
}

/// Where the native binaries may be, seen from this executable's folder `dir`: that folder (the
/// launcher `exec`ed this process there, in the platform package), and, when this process is a
/// binary the install script already put in the `skillopt` package's `bin/`, the platform
/// package nested under it (global install) or beside it (local install).
fn native_dirs(dir: &Path) -> Vec<PathBuf> {
    let platform = format!("@skillopt/{}/bin", npm_platform());
    vec![
        dir.to_path_buf(),
        dir.join("../node_modules").join(&platform),
        dir.join("../..").join(&platform),
    ]
}

/// Replaces each skillopt launcher on PATH by its native binary (from [`native_dirs`]). Each one
/// that could not be replaced comes back with why; nothing is touched when there are no
/// launchers (a cargo or installer build, or npm ran the install script).
pub fn make_native() -> Vec<Result<Replaced, String>> {
    let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.canonicalize().ok())
        .and_then(|e| e.parent().map(Path::to_path_buf))
    else {
        return Vec::new();
    };
    let dirs = native_dirs(&dir);
    let mut out = Vec::new();
    for name in NAMES {
        let Some(file) = crate::agent::find_on_path(name).and_then(|p| p.canonicalize().ok())
        else {
            continue;
        };
        if !is_npm_launcher(&file) {
            continue;
        }
        let native = dirs
            .iter()
            .map(|d| d.join(name))
            .find(|n| n.is_file() && !is_npm_launcher(n));
        let Some(native) = native else {
            out.push(Err(format!(
                "{name}: no native binary for {} beside {} to put in place of {}",
                npm_platform(),
                dir.display(),
                file.display()
            )));
            continue;
        };
        out.push(
            place(&native, &file)
                .map(|()| Replaced {
                    name,
                    file: file.clone(),
                })
                .map_err(|e| format!("{name}: cannot replace {}: {e}", file.display())),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_launcher_is_replaced_atomically_and_keeps_its_path() {
        let d = tempfile::tempdir().unwrap();
        let launcher = d.path().join("skillopt-pre-tool-use");
        std::fs::write(
            &launcher,
            "#!/bin/sh\n# skillopt's npm launcher of last resort\nexit 0\n",
        )
        .unwrap();
        assert!(is_npm_launcher(&launcher));
        let native = d.path().join("native");
        std::fs::write(&native, b"\x7fELF native").unwrap();
        place(&native, &launcher).unwrap();
        assert!(!is_npm_launcher(&launcher));
        assert_eq!(std::fs::read(&launcher).unwrap(), b"\x7fELF native");
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&launcher).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o755);
        let left: Vec<_> = std::fs::read_dir(d.path()).unwrap().flatten().collect();
        assert_eq!(left.len(), 2, "no temporary file left: {left:?}");
    }
}
