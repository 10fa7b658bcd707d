//! `success-windows/<skill>/<job id>.txt`: the last few judgment windows of a skill that the
//! judge found a `success` on this machine, kept so the verifier can check that a proposed edit
//! would not have broken them. The windows are already redacted by the window builder; each is
//! capped at [`MAX_WINDOW_BYTES`] and only the newest [`KEEP`] per skill are kept. They never
//! leave the machine except inside a verifier prompt to the user's own agent CLI.

use std::path::PathBuf;

use crate::fsutil::{ensure_dir, read_regular, safe_component, write_atomic, FileLock};
use crate::{io_err, Paths, Result};

/// Windows kept per skill.
pub const KEEP: usize = 3;
/// The largest window kept (the head is kept; the judge's window is already elided to fit).
pub const MAX_WINDOW_BYTES: usize = 12 * 1024;

/// One kept window: its id (the judge job's id) and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuccessWindow {
    pub id: String,
    pub text: String,
}

fn dir(paths: &Paths, skill_dir: &str) -> PathBuf {
    paths
        .state_dir
        .join("success-windows")
        .join(safe_component(skill_dir))
}

fn clip(text: &str) -> &str {
    if text.len() <= MAX_WINDOW_BYTES {
        return text;
    }
    let mut end = MAX_WINDOW_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Names in the skill's folder, newest first (job ids are ULIDs: they sort by time).
fn names(dir: &std::path::Path) -> Result<Vec<String>> {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_err(dir)(e)),
    };
    let mut out: Vec<String> = rd
        .flatten()
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|n| n.ends_with(".txt") && !n.starts_with('.'))
        .collect();
    out.sort_unstable_by(|a, b| b.cmp(a));
    Ok(out)
}

/// Keeps a success window of `skill_dir` judged by job `id`, dropping the oldest beyond
/// [`KEEP`].
pub fn keep(paths: &Paths, skill_dir: &str, id: &str, text: &str) -> Result<()> {
    let dir = dir(paths, skill_dir);
    ensure_dir(&dir)?;
    let _lock = FileLock::acquire(&dir.join(".lock"))?;
    write_atomic(
        &dir.join(format!("{}.txt", safe_component(id))),
        clip(text).as_bytes(),
    )?;
    for old in names(&dir)?.into_iter().skip(KEEP) {
        let p = dir.join(old);
        if let Err(e) = std::fs::remove_file(&p) {
            if e.kind() != std::io::ErrorKind::NotFound {
                return Err(io_err(&p)(e));
            }
        }
    }
    Ok(())
}

/// The kept windows of a skill, newest first (unreadable files are skipped).
pub fn list(paths: &Paths, skill_dir: &str) -> Result<Vec<SuccessWindow>> {
    let dir = dir(paths, skill_dir);
    Ok(names(&dir)?
        .into_iter()
        .take(KEEP)
        .filter_map(|n| {
            let bytes = read_regular(&dir.join(&n), MAX_WINDOW_BYTES as u64 * 2)
                .ok()
                .flatten()?;
            Some(SuccessWindow {
                id: n.trim_end_matches(".txt").to_string(),
                text: String::from_utf8_lossy(&bytes).into_owned(),
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_newest_three_capped() {
        let d = tempfile::tempdir().unwrap();
        let paths = Paths::under(d.path());
        for i in 0..5 {
            keep(
                &paths,
                "lint--bob",
                &format!("01J{i}"),
                &format!("window {i}"),
            )
            .unwrap();
        }
        let ids: Vec<String> = list(&paths, "lint--bob")
            .unwrap()
            .into_iter()
            .map(|w| w.id)
            .collect();
        assert_eq!(ids, ["01J4", "01J3", "01J2"]);
        keep(&paths, "lint--bob", "01J9", &"é".repeat(MAX_WINDOW_BYTES)).unwrap();
        let w = &list(&paths, "lint--bob").unwrap()[0];
        assert!(w.text.len() <= MAX_WINDOW_BYTES && w.text.chars().all(|c| c == 'é'));
        assert!(list(&paths, "other--bob").unwrap().is_empty());
        // A hostile id stays one file inside the folder.
        keep(&paths, "lint--bob", "../../x", "t").unwrap();
        assert!(!d.path().join("x.txt").exists());
    }
}
