//! `machine.json`: this machine's stable random id and its release channel choice.
//!
//! The id is made once (a ULID) and never leaves the machine except as the `machine` of the
//! changesets it publishes; its [`bucket`](skillopt_shared::bucket) (0–99) puts the machine on a
//! skill's canary channel when it is below the skill's canary percent. `skillopt channel
//! canary|stable` overrides that for every skill; `auto` goes back to the bucket. A file that is
//! corrupt is moved aside and a new id is made (a machine's channel is not worth failing for).

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

/// A usable id: what we make (a ULID) or anything short and printable a person put there.
fn valid(m: &Machine) -> bool {
    !m.id.is_empty() && m.id.len() <= 64 && m.id.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Reads the machine file under the lock, making it (or remaking a bad one) first; `change`
/// may alter it, and it is written back when it changed.
fn with_machine(paths: &Paths, change: impl FnOnce(&mut Machine)) -> Result<Machine> {
    let _lock = FileLock::acquire(&lock(paths))?;
    let path = file(paths);
    let stored = match read_json::<Machine>(&path) {
        Ok(m) => m.filter(valid),
        Err(StateError::Corrupt { .. }) => {
            move_aside(&path, &paths.state_dir.join("corrupt"))?;
            None
        }
        Err(e) => return Err(e),
    };
    let mut m = stored.clone().unwrap_or_else(|| Machine {
        id: ulid::Ulid::new().to_string(),
        channel: ChannelChoice::Auto,
    });
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
}
