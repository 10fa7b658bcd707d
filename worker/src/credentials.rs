//! Tokens stored by `skillopt login`, per server: `<config dir>/skillopt/credentials.json`
//! (`$XDG_CONFIG_HOME`, else `~/.config`), written atomically with mode 0600 in a 0700
//! directory: `{"servers": {"<base URL>": {"token": …, "saved_at": …}}}`. Read by the settings
//! when `SKILLOPT_REGISTRY` names a server and `SKILLOPT_TOKEN` is unset.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The credentials file.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Credentials {
    #[serde(default)]
    servers: std::collections::BTreeMap<String, Stored>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Stored {
    token: String,
    saved_at: String,
}

/// `<config dir>/skillopt/credentials.json`; `xdg_config_home` is `$XDG_CONFIG_HOME` (used only
/// when absolute).
pub(crate) fn credentials_path(home: &Path, xdg_config_home: Option<&str>) -> PathBuf {
    xdg_config_home
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .unwrap_or_else(|| home.join(".config"))
        .join("skillopt/credentials.json")
}

/// The token stored for the server at `base` (as [`RegistryUrl::Http`] holds it), if any.
pub(crate) fn stored_token(path: &Path, base: &str) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let creds: Credentials = serde_json::from_str(&text).ok()?;
    creds
        .servers
        .get(base)
        .map(|s| s.token.clone())
        .filter(|t| !t.is_empty())
}

pub(crate) fn save(path: &Path, base: &str, token: &str) -> anyhow::Result<()> {
    let dir = path.parent().expect("a file in a directory");
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    let mut creds: Credentials = std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    creds.servers.insert(
        base.to_string(),
        Stored {
            token: token.to_string(),
            saved_at: skillopt_state::now_rfc3339(),
        },
    );
    let tmp = dir.join(format!(".credentials.json.{}", std::process::id()));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(serde_json::to_string_pretty(&creds)?.as_bytes())?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn stored_tokens_are_private_and_per_server() {
        let d = tempfile::tempdir().unwrap();
        let path = credentials_path(d.path(), None);
        assert_eq!(path, d.path().join(".config/skillopt/credentials.json"));
        save(&path, "https://a.example", "tok-a").unwrap();
        save(&path, "http://127.0.0.1:1", "tok-b").unwrap();
        save(&path, "https://a.example", "tok-a2").unwrap();
        assert_eq!(
            stored_token(&path, "https://a.example").as_deref(),
            Some("tok-a2")
        );
        assert_eq!(
            stored_token(&path, "http://127.0.0.1:1").as_deref(),
            Some("tok-b")
        );
        assert_eq!(stored_token(&path, "https://b.example"), None);
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().unwrap()), 0o700);
        assert_eq!(
            credentials_path(d.path(), Some("/x/cfg")),
            Path::new("/x/cfg/skillopt/credentials.json")
        );
        assert_eq!(
            credentials_path(d.path(), Some("relative")),
            d.path().join(".config/skillopt/credentials.json")
        );
    }
}
