//! Issue 12's release pieces, black-box: the tarball + checksum (`dist/release/tarball.sh`), the
//! one-line installer (`dist/install.sh` piped into `sh` from a local `file://` release made
//! from the workspace's binaries; a tampered or unsummed tarball refused, nothing installed), the
//! npm publish order (`dist/release/npm-publish.sh` against a fake `npm`), and shellcheck and
//! actionlint over those scripts and `.github/workflows/release.yml`.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use skillopt_tests::linters::linter;
use skillopt_tests::npm_dist::BINARIES;
use skillopt_tests::{bin, repo, stderr, stdout};

/// The platform name of this machine in release asset names, if releases are built for it.
fn this_platform() -> Option<&'static str> {
    match (std::env::consts::OS, std::env::consts::ARCH) {
        ("linux", "x86_64") => Some("linux-x64"),
        ("linux", "aarch64") => Some("linux-arm64"),
        ("macos", "aarch64") => Some("darwin-arm64"),
        ("macos", "x86_64") => Some("darwin-x64"),
        _ => None,
    }
}

/// `dist/release/tarball.sh BIN_DIR PLATFORM OUT_DIR`.
fn tarball(bin_dir: &Path, platform: &str, out_dir: &Path) {
    let out = Command::new("sh")
        .arg(repo().join("dist/release/tarball.sh"))
        .args([bin_dir, Path::new(platform), out_dir])
        .output()
        .unwrap();
    assert!(out.status.success(), "tarball.sh: {}", stderr(&out));
}

/// `dist/install.sh` piped into `sh` (as `curl -fsSL …/install.sh | sh` runs it) for the
/// release in `release` (a `file://` URL), on a PATH without cargo, with a sandbox HOME and the
/// extra `env`.
fn install(release: &Path, home: &Path, env: &[(&str, &Path)]) -> Output {
    let script = std::fs::read(repo().join("dist/install.sh")).unwrap();
    let mut c = Command::new("sh");
    c.env_clear()
        .env("HOME", home)
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env(
            "SKILLOPT_RELEASE_URL",
            format!("file://{}", release.display()),
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        c.env(k, v);
    }
    let mut child = c.spawn().unwrap();
    child.stdin.take().unwrap().write_all(&script).unwrap();
    child.wait_with_output().unwrap()
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn installer_installs_the_release_for_this_machine_and_refuses_a_bad_checksum() {
    let Some(platform) = this_platform() else {
        eprintln!("skipped: no release is built for this OS and CPU");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    // Copies, so a build running meanwhile cannot change them between packing and comparing.
    let bins = tmp.path().join("bins");
    std::fs::create_dir_all(&bins).unwrap();
    for b in BINARIES {
        std::fs::copy(bin(b), bins.join(b)).unwrap();
    }
    let release = tmp.path().join("release");
    tarball(&bins, platform, &release);
    let asset = format!("skillopt-{platform}.tar.gz");
    assert_eq!(
        names_in(&release),
        [asset.clone(), format!("{asset}.sha256")]
    );
    let sum = std::fs::read_to_string(release.join(format!("{asset}.sha256"))).unwrap();
    let (hex, file) = sum.trim_end().split_once("  ").expect("`<hex>  <file>`");
    assert!(
        hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()),
        "{sum}"
    );
    assert_eq!(file, asset);
    // Owned by root, not by whoever built it.
    let listing = Command::new("tar")
        .args(["--numeric-owner", "-tvzf"])
        .arg(release.join(&asset))
        .output()
        .unwrap();
    let listing = stdout(&listing);
    assert!(
        !listing.is_empty() && listing.lines().all(|l| l.contains(" 0/0 ")),
        "{listing}"
    );

    // Into ~/.local/bin by default, the four binaries, each running; a link planted at a
    // temporary name there is replaced, never written through.
    let home = tmp.path().join("home");
    let dest = home.join(".local/bin");
    std::fs::create_dir_all(&dest).unwrap();
    let precious = tmp.path().join("precious");
    std::fs::write(&precious, "keep me").unwrap();
    std::os::unix::fs::symlink(&precious, dest.join(".skillopt-session-start.partial")).unwrap();
    let out = install(&release, &home, &[]);
    assert!(out.status.success(), "install.sh: {}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&precious).unwrap(), "keep me");
    let mut want: Vec<String> = BINARIES.iter().map(|b| b.to_string()).collect();
    want.sort();
    assert_eq!(names_in(&dest), want, "{}", stderr(&out));
    for b in BINARIES {
        let v = Command::new(dest.join(b))
            .arg("--version")
            .output()
            .unwrap();
        let built = Command::new(bins.join(b))
            .arg("--version")
            .output()
            .unwrap();
        assert!(v.status.success(), "{b} --version: {v:?}");
        assert_eq!(stdout(&v), stdout(&built), "{b}");
        assert_eq!(
            std::fs::metadata(dest.join(b)).unwrap().len(),
            std::fs::metadata(bins.join(b)).unwrap().len(),
            "{b}"
        );
    }
    assert!(
        stderr(&out).contains("not on your PATH"),
        "{}",
        stderr(&out)
    );

    // A release whose tarball is not the one its checksum names: a well-formed tarball of
    // impostor binaries (so only the checksum can tell) is refused and nothing is installed.
    let fake_bins = tmp.path().join("fake-bins");
    std::fs::create_dir_all(&fake_bins).unwrap();
    for b in BINARIES {
        let p = fake_bins.join(b);
        std::fs::write(&p, "#!/bin/sh\necho impostor\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let fake = tmp.path().join("fake-release");
    tarball(&fake_bins, platform, &fake);
    let tampered = tmp.path().join("tampered");
    std::fs::create_dir_all(&tampered).unwrap();
    std::fs::copy(fake.join(&asset), tampered.join(&asset)).unwrap();
    std::fs::copy(
        release.join(format!("{asset}.sha256")),
        tampered.join(format!("{asset}.sha256")),
    )
    .unwrap();
    let bad_dest = tmp.path().join("bad-dest");
    let out = install(
        &tampered,
        &home,
        &[("SKILLOPT_INSTALL_DIR", bad_dest.as_path())],
    );
    assert!(!out.status.success(), "a tampered tarball was accepted");
    assert!(
        stderr(&out).contains("checksum mismatch"),
        "{}",
        stderr(&out)
    );
    assert!(names_in(&bad_dest).is_empty(), "{:?}", names_in(&bad_dest));

    // No checksum at all: refused too.
    std::fs::remove_file(tampered.join(format!("{asset}.sha256"))).unwrap();
    std::fs::copy(release.join(&asset), tampered.join(&asset)).unwrap();
    let out = install(
        &tampered,
        &home,
        &[("SKILLOPT_INSTALL_DIR", bad_dest.as_path())],
    );
    assert!(!out.status.success(), "installed without a checksum");
    assert!(names_in(&bad_dest).is_empty(), "{:?}", names_in(&bad_dest));
}

/// A packed npm package as `npm pack` lays it out: `package/package.json` in a `.tgz`.
fn fake_npm_package(dir: &Path, file: &str, name: &str, version: &str) {
    let stage = dir.join(format!("stage-{file}"));
    std::fs::create_dir_all(stage.join("package")).unwrap();
    std::fs::write(
        stage.join("package/package.json"),
        serde_json::json!({"name": name, "version": version}).to_string(),
    )
    .unwrap();
    let out = Command::new("tar")
        .arg("-czf")
        .arg(dir.join("packs").join(file))
        .arg("package")
        .current_dir(&stage)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
}

/// Runs `dist/release/npm-publish.sh <packs> --access public` with a fake `npm` that logs its
/// calls, knows the registry's versions from `published` and fails to publish `failing`.
/// Returns the output and the calls.
fn npm_publish(dir: &Path, published: &[&str], failing: &str) -> (Output, Vec<String>) {
    use std::os::unix::fs::PermissionsExt;
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let npm = bin.join("npm");
    std::fs::write(
        &npm,
        format!(
            r#"#!/bin/sh
echo "$*" >> "{log}"
case "$1" in
  view) grep -qxF "$2" "{registry}" ;;
  publish) case "$2" in *{failing}*) [ -z "{failing}" ] || exit 1 ;; esac ;;
esac
"#,
            log = dir.join("calls.log").display(),
            registry = dir.join("registry").display(),
        ),
    )
    .unwrap();
    std::fs::set_permissions(&npm, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(dir.join("registry"), published.join("\n") + "\n").unwrap();
    let _ = std::fs::remove_file(dir.join("calls.log"));
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("sh")
        .arg(repo().join("dist/release/npm-publish.sh"))
        .arg(dir.join("packs"))
        .args(["--access", "public"])
        .env("PATH", path)
        .output()
        .unwrap();
    let calls = std::fs::read_to_string(dir.join("calls.log"))
        .unwrap_or_default()
        .lines()
        .map(|l| {
            // The packs folder is the test's: keep file names only.
            l.replace(&format!("{}/", dir.join("packs").display()), "")
        })
        .collect();
    (out, calls)
}

#[test]
fn npm_publish_puts_the_platform_packages_before_skillopt_and_resumes() {
    if Command::new("node").arg("--version").output().is_err() {
        assert!(
            !skillopt_tests::real_clients::required(),
            "node is required"
        );
        eprintln!("skipped: node is not installed");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::create_dir_all(d.join("packs")).unwrap();
    // `skillopt` sorts first by file name: the script must not publish it first.
    fake_npm_package(d, "skillopt-0.2.0.tgz", "skillopt", "0.2.0");
    fake_npm_package(
        d,
        "skillopt-linux-x64-0.2.0.tgz",
        "@skillopt/linux-x64",
        "0.2.0",
    );
    fake_npm_package(
        d,
        "skillopt-darwin-arm64-0.2.0.tgz",
        "@skillopt/darwin-arm64",
        "0.2.0",
    );

    let (out, calls) = npm_publish(d, &[], "");
    assert!(out.status.success(), "{}", stderr(&out));
    let publishes: Vec<&String> = calls.iter().filter(|c| c.starts_with("publish")).collect();
    assert_eq!(
        publishes,
        [
            "publish skillopt-darwin-arm64-0.2.0.tgz --access public",
            "publish skillopt-linux-x64-0.2.0.tgz --access public",
            "publish skillopt-0.2.0.tgz --access public",
        ],
        "{calls:#?}"
    );

    // A re-run after one platform package went out publishes only what is missing.
    let (out, calls) = npm_publish(d, &["@skillopt/darwin-arm64@0.2.0"], "");
    assert!(out.status.success(), "{}", stderr(&out));
    let publishes: Vec<&String> = calls.iter().filter(|c| c.starts_with("publish")).collect();
    assert_eq!(
        publishes,
        [
            "publish skillopt-linux-x64-0.2.0.tgz --access public",
            "publish skillopt-0.2.0.tgz --access public",
        ],
        "{calls:#?}"
    );

    // A platform package that fails to publish stops the release before `skillopt`.
    let (out, calls) = npm_publish(d, &[], "linux-x64");
    assert!(!out.status.success(), "{calls:#?}");
    assert!(
        !calls
            .iter()
            .any(|c| c.starts_with("publish skillopt-0.2.0")),
        "{calls:#?}"
    );

    // A prerelease goes out under the `next` tag, never as `latest`.
    let pre = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(pre.path().join("packs")).unwrap();
    fake_npm_package(
        pre.path(),
        "skillopt-0.3.0-rc.1.tgz",
        "skillopt",
        "0.3.0-rc.1",
    );
    fake_npm_package(
        pre.path(),
        "skillopt-linux-x64-0.3.0-rc.1.tgz",
        "@skillopt/linux-x64",
        "0.3.0-rc.1",
    );
    let (out, calls) = npm_publish(pre.path(), &[], "");
    assert!(out.status.success(), "{}", stderr(&out));
    let publishes: Vec<&String> = calls.iter().filter(|c| c.starts_with("publish")).collect();
    assert_eq!(
        publishes,
        [
            "publish skillopt-linux-x64-0.3.0-rc.1.tgz --tag next --access public",
            "publish skillopt-0.3.0-rc.1.tgz --tag next --access public",
        ],
        "{calls:#?}"
    );

    // Without the platform packages nothing is published.
    for f in [
        "skillopt-linux-x64-0.2.0.tgz",
        "skillopt-darwin-arm64-0.2.0.tgz",
    ] {
        std::fs::remove_file(d.join("packs").join(f)).unwrap();
    }
    let (out, calls) = npm_publish(d, &[], "");
    assert!(!out.status.success(), "{calls:#?}");
    assert!(
        calls.iter().all(|c| !c.starts_with("publish")),
        "{calls:#?}"
    );
}

#[test]
fn release_scripts_and_workflow_pass_shellcheck_and_actionlint() {
    let root = repo();
    let scripts = [
        "dist/install.sh",
        "dist/release/tarball.sh",
        "dist/release/npm-publish.sh",
    ];
    let workflow = ".github/workflows/release.yml";
    for f in scripts.iter().chain([&workflow]) {
        assert!(root.join(f).is_file(), "{f} is missing");
    }
    let Some(shellcheck) = linter("shellcheck") else {
        return;
    };
    let out = Command::new(&shellcheck)
        .args(scripts)
        .current_dir(&root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "shellcheck:\n{}{}",
        stdout(&out),
        stderr(&out)
    );
    let Some(actionlint) = linter("actionlint") else {
        return;
    };
    // actionlint also runs shellcheck over every `run:` script.
    let out = Command::new(&actionlint)
        .arg("-shellcheck")
        .arg(&shellcheck)
        .arg(workflow)
        .current_dir(&root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "actionlint:\n{}{}",
        stdout(&out),
        stderr(&out)
    );
}
