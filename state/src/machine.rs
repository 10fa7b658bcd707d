//! `machine.json`: this machine's stable random id and its release channel choice.
//!
//! The id is made once (a ULID) and never leaves the machine except as the `machine` of the
//! changesets it publishes; its [`bucket`](skillopt_shared::bucket) (0–99) puts the machine on a
//! skill's canary channel when it is below the skill's canary percent. `skillopt channel
//! canary|stable` overrides that for every skill; `auto` goes back to the bucket.
//!
//! The file may be edited by hand. An id is usable when it is 1–64 of `[A-Za-z0-9_-]` (a ULID,
//! or a name such as `my-laptop`); the channel is read case-insensitively (`"Stable"`). A file
//! that is not JSON, or whose id is unusable, is moved aside to `<state>/corrupt/` (the crate's
//! record of what it could not use: it has no logger) and a new id is made — but a channel
//! choice that still reads is kept, so a machine pinned to `stable` never silently turns
//! `auto`. An unknown channel name reads as `auto`. (A machine's channel is not worth failing
//! for.)

use serde::{Deserialize, Serialize};

use crate::fsutil::{move_aside, read_json, write_json, FileLock};
use crate::{Paths, Result, StateError};

/// What the user chose with `skillopt channel`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChannelChoice {
    /// By bucket and each skill's canary percent.
    #[default]
    Auto,
    /// Early versions of every skill.
    Canary,
    /// Only active versions (plus the candidates this machine published).
    Stable,
}

/// The channel a machine is on for one skill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Canary,
    Stable,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Canary => "canary",
            Channel::Stable => "stable",
        }
    }
}

/// The machine file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Machine {
    pub id: String,
    #[serde(default)]
    pub channel: ChannelChoice,
}

impl Machine {
    /// The machine's bucket, 0–99.
    pub fn bucket(&self) -> u8 {
        skillopt_shared::bucket(&format!("machine:{}", self.id))
    }

    /// Its channel for a skill released to `canary_percent` % of machines.
    pub fn channel_for(&self, canary_percent: u8) -> Channel {
        match self.channel {
            ChannelChoice::Canary => Channel::Canary,
            ChannelChoice::Stable => Channel::Stable,
            ChannelChoice::Auto if self.bucket() < canary_percent => Channel::Canary,
            ChannelChoice::Auto => Channel::Stable,
        }
    }
}

fn file(paths: &Paths) -> std::path::PathBuf {
    paths.state_dir.join("machine.json")
}

fn lock(paths: &Paths) -> std::path::PathBuf {
    paths.state_dir.join("locks").join("machine.lock")
}

impl ChannelChoice {
    /// `auto`, `canary` or `stable`, in any case (a hand-edited file says `"Stable"`).
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Some(ChannelChoice::Auto),
            "canary" => Some(ChannelChoice::Canary),
            "stable" => Some(ChannelChoice::Stable),
            _ => None,
        }
    }
}

/// A usable id: what we make (a ULID) or a short name of `[A-Za-z0-9_-]` a person put there
/// (nothing that could be a path, a control character or a log line).
fn valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// What a stored file holds: the machine when its id is usable, else the channel choice it
/// still names (`None` when there is no file, it is not JSON or names no channel).
enum Stored {
    Usable(Machine),
    Unusable(Option<ChannelChoice>),
}

fn read(path: &std::path::Path) -> Result<Option<Stored>> {
    let v = match read_json::<serde_json::Value>(path) {
        Ok(None) => return Ok(None),
        Ok(Some(v)) => v,
        Err(StateError::Corrupt { .. }) => return Ok(Some(Stored::Unusable(None))),
        Err(e) => return Err(e),
    };
    let channel = v
        .get("channel")
        .and_then(serde_json::Value::as_str)
        .and_then(ChannelChoice::parse);
    Ok(Some(
        match v.get("id").and_then(serde_json::Value::as_str) {
            Some(id) if valid_id(id) => Stored::Usable(Machine {
                id: id.to_string(),
                channel: channel.unwrap_or_default(),
            }),
            _ => Stored::Unusable(channel),
        },
    ))
}

/// Reads the machine file under the lock, making it (or remaking a bad one) first; `change`
/// may alter it, and it is written back when it changed.
fn with_machine(paths: &Paths, change: impl FnOnce(&mut Machine)) -> Result<Machine> {
    let _lock = FileLock::acquire(&lock(paths))?;
    let path = file(paths);
    let fresh = |channel: Option<ChannelChoice>| Machine {
        id: ulid::Ulid::new().to_string(),
        channel: channel.unwrap_or_default(),
    };
    let (stored, mut m) = match read(&path)? {
        Some(Stored::Usable(m)) => (Some(m.clone()), m),
        Some(Stored::Unusable(channel)) => {
            move_aside(&path, &paths.state_dir.join("corrupt"))?;
            (None, fresh(channel))
        }
        None => (None, fresh(None)),
    };
    change(&mut m);
    if stored.as_ref() != Some(&m) {
        write_json(&path, &m)?;
    }
    Ok(m)
}

/// This machine (made on first use).
pub fn load(paths: &Paths) -> Result<Machine> {
    with_machine(paths, |_| {})
}

/// Sets the channel choice.
pub fn set_channel(paths: &Paths, choice: ChannelChoice) -> Result<Machine> {
    with_machine(paths, |m| m.channel = choice)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_id_is_stable_and_the_choice_overrides_the_bucket() {
        let d = tempfile::tempdir().unwrap();
        let paths = Paths::under(d.path());
        let m = load(&paths).unwrap();
        assert_eq!(load(&paths).unwrap().id, m.id);
        assert!(m.bucket() < 100);
        assert_eq!(m.channel_for(100), Channel::Canary);
        assert_eq!(m.channel_for(0), Channel::Stable);
        let m = set_channel(&paths, ChannelChoice::Stable).unwrap();
        assert_eq!(m.channel_for(100), Channel::Stable);
        let m = set_channel(&paths, ChannelChoice::Canary).unwrap();
        assert_eq!(m.channel_for(0), Channel::Canary);
        assert_eq!(load(&paths).unwrap().channel, ChannelChoice::Canary);
    }

    #[test]
    fn a_corrupt_or_hostile_file_gets_a_new_id() {
        let d = tempfile::tempdir().unwrap();
        let paths = Paths::under(d.path());
        std::fs::create_dir_all(&paths.state_dir).unwrap();
        std::fs::write(file(&paths), b"{not json").unwrap();
        let m = load(&paths).unwrap();
        assert_eq!(m.id.len(), 26);
        std::fs::write(file(&paths), br#"{"id":"../../etc\n","channel":"stable"}"#).unwrap();
        assert_ne!(load(&paths).unwrap().id, "../../etc\n");
    }

    /// A hand-edited file keeps its id when it is a plain name and its channel choice always
    /// (in any case); an unusable id is replaced, the old file kept aside.
    #[test]
    fn a_hand_edited_file_keeps_its_channel() {
        let d = tempfile::tempdir().unwrap();
        let paths = Paths::under(d.path());
        std::fs::create_dir_all(&paths.state_dir).unwrap();
        for (text, id, channel) in [
            (
                r#"{"id":"my-laptop","channel":"stable"}"#,
                Some("my-laptop"),
                ChannelChoice::Stable,
            ),
            (
                r#"{"id":"my_laptop_2","channel":"Stable"}"#,
                Some("my_laptop_2"),
                ChannelChoice::Stable,
            ),
            (
                r#"{"id":"box","channel":" CANARY "}"#,
                Some("box"),
                ChannelChoice::Canary,
            ),
            (
                r#"{"id":"box","channel":"beta"}"#,
                Some("box"),
                ChannelChoice::Auto,
            ),
            (r#"{"id":"box"}"#, Some("box"), ChannelChoice::Auto),
            (
                r#"{"id":"my laptop","channel":"Stable"}"#,
                None,
                ChannelChoice::Stable,
            ),
            (
                r#"{"id":"../../etc","channel":"canary"}"#,
                None,
                ChannelChoice::Canary,
            ),
            (
                r#"{"id":42,"channel":"stable"}"#,
                None,
                ChannelChoice::Stable,
            ),
            (r#"{"channel":"STABLE"}"#, None, ChannelChoice::Stable),
        ] {
            std::fs::write(file(&paths), text).unwrap();
            let m = load(&paths).unwrap();
            assert_eq!(m.channel, channel, "{text}");
            match id {
                Some(id) => assert_eq!(m.id, id, "{text}"),
                None => {
                    assert_eq!(m.id.len(), 26, "a new ULID for {text}");
                    // Remade once, then stable, with the choice written down.
                    assert_eq!(load(&paths).unwrap(), m, "{text}");
                    let on_disk: Machine =
                        serde_json::from_slice(&std::fs::read(file(&paths)).unwrap()).unwrap();
                    assert_eq!(on_disk, m, "{text}");
                }
            }
        }
        // Every unusable file was kept aside, not lost.
        let aside = std::fs::read_dir(paths.state_dir.join("corrupt"))
            .unwrap()
            .count();
        assert_eq!(aside, 4);
        assert!(valid_id(&"a".repeat(64)) && !valid_id(&"a".repeat(65)) && !valid_id(""));
    }
}
