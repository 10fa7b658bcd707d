// The commit a binary was built from, for the build scripts of the worker and the hooks
// (`include!`d by both, so `skillopt --version`, each hook's `--version` and `skillopt doctor`
// agree on it): `git rev-parse --short HEAD` in a git checkout, else `SKILLOPT_BUILD_COMMIT` from
// the environment (a build from a source tarball), else `unknown`. The including script brings
// `std::path::PathBuf` and `std::process::Command` into scope.

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
    println!("cargo:rerun-if-changed=../shared/build/commit.rs");
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
