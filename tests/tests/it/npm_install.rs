//! skillopt as npm installs it (`dist/npm/pack.sh`, then `npm install -g skillopt` from a
//! loopback registry into a fresh prefix; see `skillopt_tests::npm_dist`), run on a PATH with
//! neither cargo nor node: `--version`, `install all`, native hooks after a normal install,
//! working `sh` launchers with install scripts off. And `--version`'s commit, and `doctor`'s
//! warnings about a hook binary of another build or left a launcher.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use skillopt_tests::npm_dist::{self, NpmInstall, BINARIES};
use skillopt_tests::{bin, stdout, Sandbox};

const HOOKS: [(&str, &str); 3] = [
    (
        "skillopt-session-start",
        r#"{"session_id":"npm-1","transcript_path":"/t/npm.jsonl","hook_event_name":"SessionStart","source":"startup"}"#,
    ),
    (
        "skillopt-pre-tool-use",
        r#"{"session_id":"npm-1","hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"ls"}}"#,
    ),
    (
        "skillopt-user-prompt-submit",
        r#"{"session_id":"npm-1","hook_event_name":"UserPromptSubmit","prompt":"thanks"}"#,
    ),
];

/// Runs `program args` with the sandbox's environment on `path`, `stdin` fed in.
fn run_on(sb: &Sandbox, path: &str, program: &Path, args: &[&str], stdin: &[u8]) -> Output {
    let mut child = sb
        .cmd_at(program)
        .args(args)
        .env("PATH", path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e}", program.display()));
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    let _ = writer.join();
    out
}

fn ok(out: &Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what}: {}{}",
        stdout(out),
        String::from_utf8_lossy(&out.stderr)
    );
    stdout(out)
}

/// The file npm's link in `<prefix>/bin` leads to.
fn target(inst: &NpmInstall, name: &str) -> PathBuf {
    let t = std::fs::canonicalize(inst.bin(name)).unwrap();
    assert!(t.starts_with(inst.prefix.canonicalize().unwrap()), "{t:?}");
    t
}

fn head(p: &Path, n: usize) -> Vec<u8> {
    let mut bytes = std::fs::read(p).unwrap();
    bytes.truncate(n);
    bytes
}

/// `skillopt --version` of the cargo-built binary: `skillopt VERSION (COMMIT)`.
fn cargo_built_version() -> String {
    let out = Command::new(bin("skillopt"))
        .arg("--version")
        .output()
        .unwrap();
    ok(&out, "skillopt --version").trim().to_string()
}

/// Each binary's `--version` on `inst`'s PATH is the cargo-built CLI's line (under its name).
fn assert_versions(sb: &Sandbox, inst: &NpmInstall) {
    let expected = cargo_built_version();
    let (_, version) = expected.split_once(' ').unwrap();
    for name in BINARIES {
        let out = run_on(sb, &inst.path(), &inst.bin(name), &["--version"], b"");
        let line = ok(&out, &format!("{name} --version"));
        assert_eq!(line.trim(), format!("{name} {version}"), "{name}");
    }
}

/// Each hook, fed a real payload through the npm install: exit 0, nothing on stdout, and the
/// native body ran (SessionStart wrote the session's folder).
fn assert_hooks_run(sb: &Sandbox, inst: &NpmInstall) {
    for (name, payload) in HOOKS {
        let out = run_on(sb, &inst.path(), &inst.bin(name), &[], payload.as_bytes());
        assert!(out.status.success(), "{name}: {out:?}");
        assert!(out.stdout.is_empty(), "{name} wrote to stdout: {out:?}");
    }
    assert!(
        sb.session_dir("npm-1").is_dir(),
        "SessionStart through the npm install recorded no session"
    );
}

#[test]
fn npm_install_puts_native_binaries_on_path_without_cargo_or_node() {
    let Some(inst) = npm_dist::npm_installed() else {
        return;
    };
    let path = inst.path();
    for tool in ["cargo", "node", "npm"] {
        assert!(
            std::env::split_paths(&path).all(|d| !d.join(tool).exists()),
            "{tool} is on the test PATH {path}"
        );
    }
    // As from npmjs.com: the one platform package that fits, nested under `skillopt`.
    let platforms = inst
        .prefix
        .join("lib/node_modules/skillopt/node_modules/@skillopt");
    let names: Vec<String> = std::fs::read_dir(&platforms)
        .unwrap_or_else(|e| panic!("{}: {e}", platforms.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    // Every bin entry leads to an ELF executable: a hook starts no sh and no node.
    for name in BINARIES {
        let t = target(&inst, name);
        assert_eq!(head(&t, 4), b"\x7fELF", "{name} -> {t:?} is not native");
    }
    let sb = Sandbox::new();
    assert_versions(&sb, &inst);
    let out = run_on(&sb, &path, &inst.bin("skillopt"), &["install", "all"], b"");
    ok(&out, "skillopt install all");
    // The installed hook commands resolve to the npm install on this PATH.
    let claude = sb.json(&sb.home().join(".claude/settings.json"));
    let text = claude.to_string();
    for (name, _) in HOOKS {
        assert!(text.contains(&format!("\"{name}")), "{name} in {claude:#}");
        assert!(inst.bin(name).is_file());
    }
    assert_hooks_run(&sb, &inst);
    let out = run_on(&sb, &path, &inst.bin("skillopt"), &["doctor"], b"");
    let doctor = stdout(&out);
    for name in BINARIES {
        let line = format!("[ ok ] {name} on PATH ({})", inst.bin(name).display());
        assert!(doctor.contains(&line), "{line} in {doctor}");
    }
    assert!(!doctor.contains("[warn] skillopt"), "{doctor}");
}

#[test]
fn with_install_scripts_off_the_sh_launchers_run_the_native_binaries() {
    let Some(inst) = npm_dist::npm_installed_without_scripts() else {
        return;
    };
    for name in BINARIES {
        let t = target(&inst, name);
        let launcher = std::fs::read_to_string(&t).unwrap();
        assert!(launcher.starts_with("#!/bin/sh\n"), "{name}: {launcher}");
        assert!(
            !launcher.contains("node "),
            "{name} starts node: {launcher}"
        );
    }
    let sb = Sandbox::new();
    assert_versions(&sb, &inst);
    assert_hooks_run(&sb, &inst);
    // doctor says how to make them native.
    let out = run_on(&sb, &inst.path(), &inst.bin("skillopt"), &["doctor"], b"");
    let doctor = stdout(&out);
    for name in BINARIES {
        let line = format!(
            "[warn] {name} ({}) is the npm package's sh launcher",
            inst.bin(name).display()
        );
        assert!(doctor.contains(&line), "{line} in {doctor}");
    }
    assert!(doctor.contains("`npm rebuild -g skillopt`"), "{doctor}");
    // A launcher away from any platform package: a hook stays silent and exits 0, the CLI says
    // what is missing.
    let lost = sb.path().join("lost");
    std::fs::create_dir_all(&lost).unwrap();
    for name in ["skillopt", "skillopt-session-start"] {
        std::fs::copy(target(&inst, name), lost.join(name)).unwrap();
    }
    let (_, payload) = HOOKS[0];
    let out = run_on(
        &sb,
        &inst.path(),
        &lost.join("skillopt-session-start"),
        &[],
        payload.as_bytes(),
    );
    assert!(out.status.success() && out.stdout.is_empty(), "{out:?}");
    assert!(out.stderr.is_empty(), "{out:?}");
    let out = run_on(
        &sb,
        &inst.path(),
        &lost.join("skillopt"),
        &["--version"],
        b"",
    );
    assert!(!out.status.success(), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("npm install -g skillopt"), "{err}");
}

/// `--version` names the commit the binaries were built from (this checkout's, or one before
/// it when another commit landed since the build).
#[test]
fn version_names_the_commit_built_from() {
    let line = cargo_built_version();
    let rest = line
        .strip_prefix(&format!("skillopt {} (", env!("CARGO_PKG_VERSION")))
        .and_then(|r| r.strip_suffix(')'))
        .unwrap_or_else(|| panic!("{line}"));
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(&workspace)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !git(&["rev-parse", "--git-dir"]) {
        eprintln!("not a git checkout: the commit is {rest}");
        return;
    }
    assert!(
        rest.len() >= 7 && rest.bytes().all(|b| b.is_ascii_hexdigit()),
        "{line}"
    );
    assert!(
        git(&["merge-base", "--is-ancestor", rest, "HEAD"]),
        "{rest} is not a commit of this checkout's history"
    );
}

#[test]
fn doctor_warns_when_a_hook_on_path_is_of_another_build() {
    let sb = Sandbox::new();
    // A PreToolUse hook of another release first on PATH, the others of this build.
    let other = sb.path().join("other-release");
    std::fs::create_dir_all(&other).unwrap();
    let fake = other.join("skillopt-pre-tool-use");
    std::fs::write(
        &fake,
        "#!/bin/sh\necho 'skillopt-pre-tool-use 0.0.1 (abc1234)'\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}:/usr/bin:/bin",
        other.display(),
        bin("skillopt").parent().unwrap().display()
    );
    let out = run_on(&sb, &path, &bin("skillopt"), &["doctor"], b"");
    let doctor = stdout(&out);
    let ours = cargo_built_version();
    let (_, version) = ours.split_once(' ').unwrap();
    let warning = format!(
        "[warn] skillopt-pre-tool-use ({}) is version 0.0.1 (abc1234), this skillopt is {version}",
        fake.display()
    );
    assert!(doctor.contains(&warning), "{warning} in {doctor}");
    // The hooks of this build: no warning.
    for name in ["skillopt-session-start", "skillopt-user-prompt-submit"] {
        assert!(!doctor.contains(&format!("[warn] {name}")), "{doctor}");
    }
}

/// npm without the install script (npm 12 runs none it was not told to allow): `skillopt install
/// all` does the script's job, and the hooks on PATH are the native binaries from then on.
#[test]
fn install_all_replaces_the_sh_launchers_with_the_native_binaries() {
    let Some(inst) = npm_dist::npm_installed_fresh_without_scripts("no-scripts-then-install")
    else {
        return;
    };
    let sb = Sandbox::new();
    let said = install_all(&sb, &inst);
    for name in BINARIES {
        assert!(
            said.contains(&format!(
                "{name}: npm's sh launcher replaced by the native binary"
            )),
            "{name}: {said}"
        );
        assert_eq!(
            head(&target(&inst, name), 4),
            b"\x7fELF",
            "{name} is native now"
        );
    }
    assert_versions(&sb, &inst);
    assert_hooks_run(&sb, &inst);
    // Done once: a second install finds nothing to replace.
    assert!(!install_all(&sb, &inst).contains("replaced"));
}

/// A registry that has skillopt but not its platform package (a mirror that lags behind an
/// upgrade): npm's install fails and says why, instead of leaving hooks that silently do
/// nothing.
#[test]
fn without_its_platform_package_the_install_fails_and_says_why() {
    let Some(got) = npm_dist::install_without_the_platform_package("no-platform-package") else {
        return;
    };
    let Err(why) = got else {
        panic!("the install must fail without the platform package");
    };
    assert!(why.contains("@skillopt/"), "{why}");
    assert!(why.contains("was not installed"), "{why}");
}

/// `skillopt install all` through the npm install, which must succeed: what it said.
fn install_all(sb: &Sandbox, inst: &NpmInstall) -> String {
    let out = run_on(
        sb,
        &inst.path(),
        &inst.bin("skillopt"),
        &["install", "all"],
        b"",
    );
    ok(&out, "skillopt install all")
}

/// A half-finished swap (the CLI native, the hooks still launchers): `skillopt install all`,
/// run from the native CLI in the `skillopt` package, finds the hooks' binaries in the platform
/// package and finishes it.
#[test]
fn install_all_finishes_a_half_done_swap() {
    let Some(inst) = npm_dist::npm_installed_fresh_without_scripts("half-swapped") else {
        return;
    };
    let cli = target(&inst, "skillopt");
    let platform_bin = std::fs::read_dir(cli.parent().unwrap().join("../node_modules/@skillopt"))
        .unwrap()
        .flatten()
        .map(|e| e.path().join("bin"))
        .next()
        .expect("the platform package");
    std::fs::copy(platform_bin.join("skillopt"), &cli).unwrap();
    assert_eq!(head(&cli, 4), b"\x7fELF");
    let sb = Sandbox::new();
    let said = install_all(&sb, &inst);
    for (name, _) in HOOKS {
        assert_eq!(head(&target(&inst, name), 4), b"\x7fELF", "{name}: {said}");
    }
    assert_hooks_run(&sb, &inst);
}
