//! Atomic writes, private directories and fs4 file locks with a bounded wait.
//!
//! Every write is a temp file renamed into place, so a reader never sees half a file while the
//! machine stays up. Whether the data is also fsynced before the rename is the caller's choice
//! ([`Durability`]): durable records (jobs, outcome events, the manifest, installed skills) are;
//! the files the hooks write on every session and prompt (attribution, pending windows, the
//! sync marker, attribution events) are not, because after a power cut a torn copy of each is
//! already recovered from (rewritten, dropped, defaulted, or moved aside and counted) — and an
//! fsync costs more than the rest of a hook.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::{io_err, Result, StateError};

/// How long a lock is waited for before giving up. Long enough for any read-modify-write we do,
/// short enough that a stuck holder never wedges a hook.
pub const LOCK_WAIT: Duration = Duration::from_secs(5);

/// Creates `dir` and its parents with mode 0700.
pub fn ensure_dir(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(io_err(dir))
}

/// Whether a write waits for the data to reach the disk before it is renamed into place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// fsync, then rename: survives a power cut whole or not at all.
    Synced,
    /// Rename without fsync: atomic for readers, but a power cut may leave the file empty or
    /// torn. Only for files whose torn copy is recovered from.
    Recoverable,
}

/// Writes `data` to `path` atomically: a 0600 temp file in the same directory, fsync, rename.
pub fn write_atomic(path: &Path, data: &[u8]) -> Result<()> {
    write_atomic_mode(path, data, 0o600)
}

/// [`write_atomic`] with an explicit mode (installed SKILL.md files are 0644).
pub fn write_atomic_mode(path: &Path, data: &[u8], mode: u32) -> Result<()> {
    write_atomic_with(path, data, mode, Durability::Synced)
}

/// [`write_atomic_mode`] with an explicit [`Durability`].
pub fn write_atomic_with(
    path: &Path,
    data: &[u8],
    mode: u32,
    durability: Durability,
) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    ensure_dir(dir)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".skillopt-tmp-")
        .tempfile_in(dir)
        .map_err(io_err(dir))?;
    tmp.as_file()
        .set_permissions(fs::Permissions::from_mode(mode))
        .map_err(io_err(path))?;
    tmp.write_all(data).map_err(io_err(path))?;
    if durability == Durability::Synced {
        tmp.as_file().sync_data().map_err(io_err(path))?;
    }
    tmp.persist(path).map_err(|e| StateError::Io {
        path: path.to_path_buf(),
        source: e.error,
    })?;
    Ok(())
}

/// Writes `value` as pretty JSON, atomically and fsynced (0600).
pub fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<()> {
    write_json_with(path, value, Durability::Synced)
}

/// [`write_json`] with an explicit [`Durability`].
pub fn write_json_with<T: serde::Serialize>(
    path: &Path,
    value: &T,
    durability: Durability,
) -> Result<()> {
    let mut data = serde_json::to_vec_pretty(value).map_err(|source| StateError::Encode {
        path: path.to_path_buf(),
        source,
    })?;
    data.push(b'\n');
    write_atomic_with(path, &data, 0o600, durability)
}

/// The most a state file (a job, an event, the manifest) may hold.
pub const MAX_STATE_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// Why [`read_regular`] would not read a file (carried inside its `InvalidData` error).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Unreadable {
    #[error("a symbolic link (never followed)")]
    Link,
    #[error("not a regular file (a FIFO, device or directory)")]
    NotRegular,
    #[error("larger than {0} bytes")]
    TooLarge(u64),
}

impl Unreadable {
    /// The reason inside an error of [`read_regular`], if it is one of these.
    pub fn of(e: &std::io::Error) -> Option<Self> {
        e.get_ref()?.downcast_ref::<Self>().copied()
    }

    fn into_io(self) -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::InvalidData, self)
    }
}

/// Reads a regular file of at most `cap` bytes without following a link and without blocking:
/// a link, a FIFO, a device or a directory planted under a state or skill file name is never
/// opened for a blocking read. Refusals are `InvalidData` errors carrying an [`Unreadable`]. A
/// missing file is `Ok(None)`.
pub fn read_regular(path: &Path, cap: u64) -> std::io::Result<Option<Vec<u8>>> {
    use std::io::Read;
    match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => return Err(Unreadable::Link.into_io()),
        Ok(m) if !m.is_file() => return Err(Unreadable::NotRegular.into_io()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    }
    let file = match fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => return Err(Unreadable::Link.into_io()),
        Err(e) => return Err(e),
    };
    // Checked again on the open handle: a swap between the two checks is caught here.
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(Unreadable::NotRegular.into_io());
    }
    // Sized from the file: a `take` reader gives `read_to_end` no size hint, and without one it
    // grows the buffer, and its reads, in small steps (ten reads for a 15 KB manifest, on every
    // hook run, instead of three). The extra byte leaves room for the read that sees EOF.
    let mut bytes = Vec::with_capacity(meta.len().min(cap) as usize + 1);
    file.take(cap + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap {
        return Err(Unreadable::TooLarge(cap).into_io());
    }
    Ok(Some(bytes))
}

/// Reads JSON; a missing file is `Ok(None)`; a corrupt one, one that is not a regular file or
/// one over [`MAX_STATE_FILE_BYTES`] is `Corrupt` (callers move such files aside).
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Option<T>> {
    let corrupt = |source| StateError::Corrupt {
        path: path.to_path_buf(),
        source,
    };
    match read_regular(path, MAX_STATE_FILE_BYTES) {
        Ok(Some(bytes)) => serde_json::from_slice(&bytes).map(Some).map_err(corrupt),
        Ok(None) => Ok(None),
        Err(e) if Unreadable::of(&e).is_some() => Err(corrupt(serde_json::Error::io(e))),
        Err(e) => Err(io_err(path)(e)),
    }
}

/// Moves a file that can never be used (torn, corrupt, refused) into `aside_dir`, keeping its
/// name (a numbered suffix when that name is taken), and returns where it went. The file is
/// kept for inspection, never deleted; a file already gone is `Ok(None)`.
pub fn move_aside(path: &Path, aside_dir: &Path) -> Result<Option<PathBuf>> {
    ensure_dir(aside_dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "unnamed".into());
    let mut to = aside_dir.join(&name);
    let mut n = 1u32;
    while to.exists() && n < 1000 {
        to = aside_dir.join(format!("{name}.{n}"));
        n += 1;
    }
    match fs::rename(path, &to) {
        Ok(()) => Ok(Some(to)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_err(path)(e)),
    }
}

/// Files directly in `dir` (not in subdirectories); a missing dir has none.
pub fn count_files(dir: &Path) -> Result<usize> {
    match fs::read_dir(dir) {
        Ok(rd) => Ok(rd
            .flatten()
            // Every entry but folders and our own hidden temp files: a FIFO or a link planted
            // under a job or event name is waiting (or set aside) too, and must be counted.
            .filter(|e| e.file_type().is_ok_and(|t| !t.is_dir()))
            .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
            .count()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
        Err(e) => Err(io_err(dir)(e)),
    }
}

/// An exclusive fs4 lock on a lock file, released on drop.
#[derive(Debug)]
pub struct FileLock {
    _file: File,
    path: PathBuf,
}

impl FileLock {
    /// Takes the lock, waiting at most [`LOCK_WAIT`].
    pub fn acquire(path: &Path) -> Result<Self> {
        Self::acquire_within(path, LOCK_WAIT)
    }

    /// Takes the lock, waiting at most `wait`.
    pub fn acquire_within(path: &Path, wait: Duration) -> Result<Self> {
        if let Some(dir) = path.parent() {
            ensure_dir(dir)?;
        }
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .mode(0o600)
            .open(path)
            .map_err(io_err(path))?;
        let deadline = Instant::now() + wait;
        let mut pause = Duration::from_micros(200);
        loop {
            if fs4::fs_std::FileExt::try_lock_exclusive(&file).map_err(io_err(path))? {
                return Ok(Self {
                    _file: file,
                    path: path.to_path_buf(),
                });
            }
            if Instant::now() >= deadline {
                return Err(StateError::LockTimeout(path.to_path_buf()));
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(20));
        }
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Makes an arbitrary id safe as one path component: `[A-Za-z0-9_-]` kept, everything else
/// `_`; if anything changed (or it was long), a short hash keeps distinct ids distinct.
pub fn safe_component(id: &str) -> String {
    let mut out: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(96)
        .collect();
    if out != id || out.is_empty() {
        let h = skillopt_shared::sha256_hex(id);
        out.push('-');
        out.push_str(&h[..12]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_are_read_and_never_block() {
        let d = tempfile::tempdir().unwrap();
        let fifo = d.path().join("job.json");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            // Would block forever on a plain open.
            assert!(read_regular(&fifo, 100).is_err());
            assert!(matches!(
                read_json::<serde_json::Value>(&fifo),
                Err(StateError::Corrupt { .. })
            ));
        }
        let link = d.path().join("zero.json");
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        assert!(
            read_regular(&link, 100).is_err(),
            "a link is never followed"
        );
        let big = d.path().join("big.json");
        std::fs::write(&big, vec![b' '; 101]).unwrap();
        assert!(read_regular(&big, 100).is_err());
        assert_eq!(read_regular(&d.path().join("gone"), 100).unwrap(), None);
        std::fs::write(&big, b"[]").unwrap();
        assert_eq!(read_regular(&big, 100).unwrap().unwrap(), b"[]");
    }

    #[test]
    fn atomic_write_is_private() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("a/b/c.json");
        write_atomic(&p, b"hi").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"hi");
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            fs::metadata(d.path().join("a"))
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o700
        );
    }

    #[test]
    fn lock_is_exclusive_and_bounded() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join(".lock");
        let held = FileLock::acquire(&p).unwrap();
        let err = FileLock::acquire_within(&p, Duration::from_millis(50)).unwrap_err();
        assert!(matches!(err, StateError::LockTimeout(_)));
        drop(held);
        FileLock::acquire_within(&p, Duration::from_millis(50)).unwrap();
    }

    #[test]
    fn move_aside_keeps_every_file() {
        let d = tempfile::tempdir().unwrap();
        let aside = d.path().join("aside");
        for i in 0..3 {
            let p = d.path().join("x.json");
            fs::write(&p, format!("{i}")).unwrap();
            assert!(move_aside(&p, &aside).unwrap().is_some());
        }
        assert_eq!(count_files(&aside).unwrap(), 3);
        assert!(move_aside(&d.path().join("gone"), &aside)
            .unwrap()
            .is_none());
        assert_eq!(count_files(&d.path().join("missing")).unwrap(), 0);
    }

    #[test]
    fn safe_component_keeps_distinct_ids_distinct() {
        assert_eq!(safe_component("abc-123"), "abc-123");
        assert_ne!(safe_component("a/b"), safe_component("a_b"));
        assert!(!safe_component("../../etc").contains('/'));
    }
}
