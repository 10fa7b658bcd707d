//! `skillopt doctor`: checks that the hooks can run and the registry answers.

use std::process::ExitCode;

use skillopt_state::Paths;

use crate::registry::RegistryUrl;

fn on_path(bin: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(bin))
        .find(|p| p.is_file())
}

fn mentions(file: &std::path::Path, needle: &str) -> bool {
    std::fs::read_to_string(file)
        .map(|t| t.contains(needle))
        .unwrap_or(false)
}

pub fn run(paths: &Paths) -> anyhow::Result<ExitCode> {
    let mut ok = true;
    let mut check = |good: bool, what: String| {
        println!("[{}] {what}", if good { " ok " } else { "FAIL" });
        ok &= good;
    };
    for bin in [
        "skillopt-session-start",
        "skillopt-pre-tool-use",
        "skillopt-user-prompt-submit",
        "skillopt",
    ] {
        let found = on_path(bin);
        check(
            found.is_some(),
            format!(
                "{bin} on PATH{}",
                found
                    .map(|p| format!(" ({})", p.display()))
                    .unwrap_or_default()
            ),
        );
    }
    let url = RegistryUrl::from_env(paths)?;
    match url.open() {
        Ok(_) => check(true, format!("registry {} answers", url.redacted())),
        Err(e) => check(false, format!("registry {}: {e}", url.redacted())),
    }
    check(
        mentions(&paths.claude_settings(), "skillopt-session-start"),
        format!(
            "Claude Code hooks in {} (skillopt install claude)",
            paths.claude_settings().display()
        ),
    );
    check(
        mentions(&paths.codex_hooks(), "skillopt-session-start"),
        format!(
            "Codex hooks in {} (skillopt install codex)",
            paths.codex_hooks().display()
        ),
    );
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
