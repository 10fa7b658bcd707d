//! The outbox: events for the registry (and webhook notices), kept on disk until delivered.
//!
//! One file per event, `outbox/<key>.json`. The key is the event's natural identity
//! (`attribution-<session_hash>`, `outcome-<job_id>`, `notice-<event>-<skill>-v<version>`), so
//! re-recording an event overwrites it instead of duplicating it, and the registry's unique
//! keys make a retried upload a no-op.
//!
//! Events are one tagged type, [`OutboxEvent`], built and read through the same serde shape:
//! `{"kind": "attribution" | "outcome" | "notice", "key", "created_at", "payload": {..}}` — the
//! format the stringly `Event` of earlier versions wrote, so files already queued still read.
//! Build events with [`OutboxEvent::attribution`] / [`OutboxEvent::outcome`] /
//! [`OutboxEvent::notice`] (they derive the key); read them with [`events`] or [`get`].
//!
//! Notices are not registry rows ([`OutboxEvent::is_for_registry`] is false): the worker POSTs
//! them to `SKILLOPT_WEBHOOK_URL` and the registry upload leaves them alone. A delivered
//! notice's key is remembered in `outbox/delivered/<key>` (an empty file, pruned after
//! [`DELIVERED_KEPT`]), so the same notice queued again after its delivery is not sent twice.
//!
//! An event that can never be uploaded (a file that does not parse — an unknown `kind`
//! included —, or one the registry refuses for its content, say a NUL byte PostgreSQL will not
//! store) is moved to `outbox/refused/` by the uploader, so it never blocks the others;
//! `skillopt status` counts both directories.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use skillopt_shared::verdict::Outcome;

use crate::attribution::{AttributedSkill, Attribution};
use crate::fsutil::{
    count_files, move_aside, read_json, safe_component, write_json_with, Durability,
};
use crate::{io_err, Paths, Result, StateError};

/// One queued event for the registry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OutboxEvent {
    /// Which org skills (and versions) a session started with.
    Attribution(AttributionEvent),
    /// The judge's verdict on one use of a skill.
    Outcome(OutcomeEvent),
    /// A webhook notice (a version published, promoted, reverted, …); never uploaded to the
    /// registry.
    Notice(NoticeEvent),
}

/// An attribution event: `attribution-<session_hash>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttributionEvent {
    pub key: String,
    pub created_at: String,
    pub payload: AttributionPayload,
}

/// What an attribution event uploads (no session id: only its hash leaves the machine).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributionPayload {
    pub session_hash: String,
    pub bucket: u8,
    pub agent: String,
    pub started_at: String,
    pub skills: Vec<AttributedSkill>,
}

/// An outcome event: `outcome-<job_id>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutcomeEvent {
    pub key: String,
    pub created_at: String,
    pub payload: OutcomePayload,
}

/// What an outcome event uploads: one judged use of one skill version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutcomePayload {
    pub id: String,
    pub job_id: String,
    pub name: String,
    pub author: String,
    pub version: u32,
    pub bucket: u8,
    pub outcome: Outcome,
    pub skill_at_fault: bool,
    pub confidence: f64,
    pub reason: String,
    pub agent: String,
    pub model: String,
    pub judged_at: String,
}

/// A notice event: `notice-<event>-<skill>-v<version>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoticeEvent {
    pub key: String,
    pub created_at: String,
    pub payload: NoticePayload,
}

/// What happened to a skill version, as a webhook notice names it (`event`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// A new version was published (by the improve step).
    Published,
    /// A candidate became the active version.
    Promoted,
    /// A version was withdrawn.
    Reverted,
    /// Automatic edits of the skill were stopped.
    Frozen,
    /// A proposed version waits for a person.
    ReviewRequested,
}

impl NoticeKind {
    /// Every kind, in declaration order.
    pub const ALL: [NoticeKind; 5] = [
        NoticeKind::Published,
        NoticeKind::Promoted,
        NoticeKind::Reverted,
        NoticeKind::Frozen,
        NoticeKind::ReviewRequested,
    ];

    /// The name in the payload's `event` and in the key: `published`, `review_requested`, ….
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::Published => "published",
            NoticeKind::Promoted => "promoted",
            NoticeKind::Reverted => "reverted",
            NoticeKind::Frozen => "frozen",
            NoticeKind::ReviewRequested => "review_requested",
        }
    }
}

/// What a notice POSTs, as is: a JSON object whose `text` reads well in Slack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoticePayload {
    pub event: NoticeKind,
    /// `<name>--<author>`.
    pub skill: String,
    pub version: u32,
    /// The version's status after the event (`active`, `candidate`, …); may be empty.
    pub status: String,
    /// One line for a chat channel.
    pub text: String,
    pub reason: String,
    /// The figures that decided the event (a JSON object).
    pub figures: serde_json::Value,
    /// When it happened (RFC 3339).
    pub at: String,
}

impl OutboxEvent {
    /// The attribution event of a stored session record (created at the session's start).
    pub fn attribution(a: &Attribution) -> Self {
        OutboxEvent::Attribution(AttributionEvent {
            key: Self::attribution_key(&a.session_hash),
            created_at: a.started_at.clone(),
            payload: AttributionPayload {
                session_hash: a.session_hash.clone(),
                bucket: a.bucket,
                agent: a.agent.clone(),
                started_at: a.started_at.clone(),
                skills: a.skills.clone(),
            },
        })
    }

    /// The outcome event of a judged use (created when it was judged).
    pub fn outcome(payload: OutcomePayload) -> Self {
        OutboxEvent::Outcome(OutcomeEvent {
            key: Self::outcome_key(&payload.job_id),
            created_at: payload.judged_at.clone(),
            payload,
        })
    }

    /// The notice event of a payload (created when it happened, `at`).
    pub fn notice(payload: NoticePayload) -> Self {
        OutboxEvent::Notice(NoticeEvent {
            key: Self::notice_key(payload.event, &payload.skill, payload.version),
            created_at: payload.at.clone(),
            payload,
        })
    }

    /// `notice-<event>-<skill>-v<version>`: the event's identity, not its time, so the same
    /// event queued twice is one notice.
    pub fn notice_key(event: NoticeKind, skill: &str, version: u32) -> String {
        format!("notice-{}-{skill}-v{version}", event.as_str())
    }

    /// Whether the registry upload takes this event (a notice goes to the webhook instead).
    pub fn is_for_registry(&self) -> bool {
        !matches!(self, OutboxEvent::Notice(_))
    }

    /// `attribution-<session_hash>`.
    pub fn attribution_key(session_hash: &str) -> String {
        format!("attribution-{session_hash}")
    }

    /// `outcome-<job_id>`.
    pub fn outcome_key(job_id: &str) -> String {
        format!("outcome-{job_id}")
    }

    /// The event's identity (and file name).
    pub fn key(&self) -> &str {
        match self {
            OutboxEvent::Attribution(e) => &e.key,
            OutboxEvent::Outcome(e) => &e.key,
            OutboxEvent::Notice(e) => &e.key,
        }
    }

    /// When the event happened (uploads go oldest first).
    pub fn created_at(&self) -> &str {
        match self {
            OutboxEvent::Attribution(e) => &e.created_at,
            OutboxEvent::Outcome(e) => &e.created_at,
            OutboxEvent::Notice(e) => &e.created_at,
        }
    }

    /// How its file is written. An outcome or a notice is fsynced (a judgment costs an agent
    /// call; a notice is rare and written once). An
    /// attribution is written on every SessionStart, where an fsync would cost more than the
    /// rest of the hook, so it is not: a copy torn by a power cut is moved aside and counted
    /// like any unreadable event, and the session's `attribution.json` still holds the record.
    pub fn durability(&self) -> Durability {
        match self {
            OutboxEvent::Attribution(_) => Durability::Recoverable,
            OutboxEvent::Outcome(_) | OutboxEvent::Notice(_) => Durability::Synced,
        }
    }

    /// `attribution` | `outcome` | `notice`, as written in the file.
    pub fn kind(&self) -> &'static str {
        match self {
            OutboxEvent::Attribution(_) => "attribution",
            OutboxEvent::Outcome(_) => "outcome",
            OutboxEvent::Notice(_) => "notice",
        }
    }
}

/// Something [`put`] can queue (an [`OutboxEvent`]).
pub trait Queued: Serialize {
    /// The event's identity (and file name).
    fn key(&self) -> &str;
    /// How the file is written: see [`OutboxEvent::durability`].
    fn durability(&self) -> Durability {
        Durability::Synced
    }
}

impl Queued for OutboxEvent {
    fn key(&self) -> &str {
        OutboxEvent::key(self)
    }
    fn durability(&self) -> Durability {
        OutboxEvent::durability(self)
    }
}

fn path_of(paths: &Paths, key: &str) -> PathBuf {
    paths
        .outbox_dir()
        .join(format!("{}.json", safe_component(key)))
}

/// Queues (or replaces) an event. An event already queued byte for byte (a resumed session's
/// unchanged attribution) is left as it is: replacing a file costs more than reading it.
pub fn put(paths: &Paths, event: &impl Queued) -> Result<()> {
    let path = path_of(paths, event.key());
    if let Ok(Some(on_disk)) =
        crate::fsutil::read_regular(&path, crate::fsutil::MAX_STATE_FILE_BYTES)
    {
        let mut bytes = serde_json::to_vec_pretty(event).map_err(|source| StateError::Encode {
            path: path.clone(),
            source,
        })?;
        bytes.push(b'\n');
        if on_disk == bytes {
            return Ok(());
        }
    }
    write_json_with(&path, event, event.durability())
}

/// The queued event with this key, if there is one and it reads.
pub fn get(paths: &Paths, key: &str) -> Result<Option<OutboxEvent>> {
    read_json(&path_of(paths, key))
}

/// What the outbox holds: the events that parse, oldest first, and the files that do not.
#[derive(Debug)]
pub struct Scan<E = OutboxEvent> {
    pub events: Vec<E>,
    /// `*.json` files that cannot be read as an event (torn, corrupt, unreadable, unknown kind).
    pub unreadable: Vec<PathBuf>,
}

impl<E> Default for Scan<E> {
    fn default() -> Self {
        Scan {
            events: Vec::new(),
            unreadable: Vec::new(),
        }
    }
}

fn json_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_err(dir)(e)),
    };
    Ok(rd
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect())
}

fn scan_as<E: serde::de::DeserializeOwned>(
    paths: &Paths,
    order: impl Fn(&E) -> (&str, &str),
) -> Result<Scan<E>> {
    let mut scan = Scan::default();
    for p in json_files(&paths.outbox_dir())? {
        match read_json::<E>(&p) {
            // A file whose name is not its event's key (a copy, a hand-made file, a key with
            // `/`) could never be removed after its upload: it is unreadable, moved aside.
            Ok(Some(e)) if path_of(paths, order(&e).1) != p => scan.unreadable.push(p),
            Ok(Some(e)) => scan.events.push(e),
            Ok(None) => {}
            Err(_) => scan.unreadable.push(p),
        }
    }
    scan.events.sort_by(|a, b| order(a).cmp(&order(b)));
    scan.unreadable.sort();
    Ok(scan)
}

/// Every waiting event file: the events that parse (oldest first) and the files that do not.
pub fn events(paths: &Paths) -> Result<Scan> {
    scan_as(paths, |e: &OutboxEvent| (e.created_at(), e.key()))
}

/// Event files waiting for delivery (to the registry, or the webhook for notices), unreadable
/// ones included.
pub fn waiting(paths: &Paths) -> Result<usize> {
    Ok(json_files(&paths.outbox_dir())?.len())
}

/// Where events that can never be uploaded are kept.
pub fn refused_dir(paths: &Paths) -> PathBuf {
    paths.outbox_dir().join("refused")
}

/// Events moved aside as never uploadable.
pub fn refused(paths: &Paths) -> Result<usize> {
    count_files(&refused_dir(paths))
}

/// Moves an event that can never be uploaded to `outbox/refused/`; returns where it went.
pub fn move_aside_key(paths: &Paths, key: &str) -> Result<Option<PathBuf>> {
    move_aside(&path_of(paths, key), &refused_dir(paths))
}

/// Moves an unreadable outbox file to `outbox/refused/`; returns where it went.
pub fn move_aside_file(paths: &Paths, file: &Path) -> Result<Option<PathBuf>> {
    move_aside(file, &refused_dir(paths))
}

/// How long a delivered notice's key is remembered (a notice queued again within this time is
/// not sent again). Notices are rare, so the folder stays small.
pub const DELIVERED_KEPT: std::time::Duration = std::time::Duration::from_secs(30 * 24 * 3600);

/// Where the keys of delivered notices are remembered.
pub fn delivered_dir(paths: &Paths) -> PathBuf {
    paths.outbox_dir().join("delivered")
}

fn delivered_path(paths: &Paths, key: &str) -> PathBuf {
    delivered_dir(paths).join(safe_component(key))
}

/// Remembers that the event with this key was delivered (an empty file named by the key).
pub fn mark_delivered(paths: &Paths, key: &str) -> Result<()> {
    let dir = delivered_dir(paths);
    crate::fsutil::ensure_dir(&dir)?;
    let p = delivered_path(paths, key);
    std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&p)
        .map(drop)
        .map_err(io_err(&p))
}

/// Whether the event with this key was delivered (within [`DELIVERED_KEPT`]).
pub fn was_delivered(paths: &Paths, key: &str) -> bool {
    std::fs::symlink_metadata(delivered_path(paths, key)).is_ok_and(|m| m.is_file())
}

/// Forgets delivered keys older than `kept`; returns how many.
pub fn forget_delivered(paths: &Paths, kept: std::time::Duration) -> Result<usize> {
    let dir = delivered_dir(paths);
    let rd = match std::fs::read_dir(&dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(io_err(&dir)(e)),
    };
    let mut forgotten = 0;
    for e in rd.flatten() {
        let old = e
            .metadata()
            .ok()
            .filter(|m| m.is_file())
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > kept);
        if old && std::fs::remove_file(e.path()).is_ok() {
            forgotten += 1;
        }
    }
    Ok(forgotten)
}

/// Removes an uploaded event.
pub fn remove(paths: &Paths, key: &str) -> Result<()> {
    let p = path_of(paths, key);
    match std::fs::remove_file(&p) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io_err(&p)(e)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn paths(d: &Path) -> Paths {
        Paths::under(d)
    }

    fn outcome(i: usize) -> OutboxEvent {
        OutboxEvent::outcome(OutcomePayload {
            id: format!("o{i}"),
            job_id: format!("job{i}"),
            name: "lint".into(),
            author: "bob".into(),
            version: 1,
            bucket: 3,
            outcome: Outcome::Failure,
            skill_at_fault: true,
            confidence: 0.9,
            reason: "r".into(),
            agent: "claude-code".into(),
            model: "m".into(),
            judged_at: format!("2024-01-01T00:00:0{i}Z"),
        })
    }

    #[test]
    fn a_file_not_named_by_its_key_is_unreadable() {
        let d = tempfile::tempdir().unwrap();
        let p = paths(d.path());
        let ev = OutboxEvent::outcome(OutcomePayload {
            id: "i".into(),
            job_id: "J1".into(),
            name: "a".into(),
            author: "b".into(),
            version: 1,
            bucket: 0,
            outcome: skillopt_shared::verdict::Outcome::Failure,
            skill_at_fault: true,
            confidence: 0.9,
            reason: "r".into(),
            agent: "claude".into(),
            model: "m".into(),
            judged_at: "2026-11-27T00:00:00Z".into(),
        });
        put(&p, &ev).unwrap();
        let original = path_of(&p, ev.key());
        std::fs::copy(&original, p.outbox_dir().join("outcome-DUP copy.json")).unwrap();
        let scan = events(&p).unwrap();
        assert_eq!(scan.events.len(), 1);
        assert_eq!(scan.unreadable.len(), 1, "{:?}", scan.unreadable);
    }

    #[test]
    fn unreadable_events_are_counted_and_moved_aside() {
        let d = tempfile::tempdir().unwrap();
        let p = paths(d.path());
        put(&p, &outcome(2)).unwrap();
        put(&p, &outcome(1)).unwrap();
        std::fs::write(p.outbox_dir().join("torn.json"), b"{\"key\":").unwrap();
        std::fs::write(
            p.outbox_dir().join("odd.json"),
            br#"{"key":"odd","kind":"mystery","created_at":"2020","payload":null}"#,
        )
        .unwrap();
        let s = events(&p).unwrap();
        assert_eq!((s.events.len(), s.unreadable.len()), (2, 2));
        assert_eq!(s.events[0].key(), "outcome-job1");
        assert_eq!(waiting(&p).unwrap(), 4);
        for f in &s.unreadable {
            move_aside_file(&p, f).unwrap();
        }
        move_aside_key(&p, "outcome-job1").unwrap();
        assert_eq!((waiting(&p).unwrap(), refused(&p).unwrap()), (1, 3));
        assert_eq!(events(&p).unwrap().events, vec![outcome(2)]);
        assert_eq!(get(&p, "outcome-job2").unwrap(), Some(outcome(2)));
        remove(&p, "outcome-job2").unwrap();
        assert_eq!(get(&p, "outcome-job2").unwrap(), None);
    }

    fn notice(kind: NoticeKind, version: u32, at: &str) -> OutboxEvent {
        OutboxEvent::notice(NoticePayload {
            event: kind,
            skill: "deploy--alice".into(),
            version,
            status: "candidate".into(),
            text: "skillopt published deploy--alice v2".into(),
            reason: "r".into(),
            figures: serde_json::json!({"edits": 1}),
            at: at.into(),
        })
    }

    /// A notice is keyed by what happened, not when: queued twice it is one file; it reads
    /// back as itself, is not for the registry, and is counted as waiting.
    #[test]
    fn a_notice_is_keyed_by_its_identity() {
        let d = tempfile::tempdir().unwrap();
        let p = paths(d.path());
        let first = notice(NoticeKind::Published, 2, "2026-01-01T00:00:00.000Z");
        assert_eq!(first.key(), "notice-published-deploy--alice-v2");
        assert_eq!(first.kind(), "notice");
        assert!(!first.is_for_registry() && outcome(1).is_for_registry());
        put(&p, &first).unwrap();
        put(
            &p,
            &notice(NoticeKind::Published, 2, "2026-01-01T00:05:00.000Z"),
        )
        .unwrap();
        put(&p, &outcome(1)).unwrap();
        assert_eq!(waiting(&p).unwrap(), 2);
        let keys: Vec<_> = NoticeKind::ALL
            .iter()
            .map(|k| OutboxEvent::notice_key(*k, "deploy--alice", 2))
            .chain([OutboxEvent::notice_key(
                NoticeKind::Published,
                "deploy--alice",
                3,
            )])
            .collect();
        let distinct: std::collections::BTreeSet<_> = keys.iter().collect();
        assert_eq!(distinct.len(), keys.len(), "{keys:?}");
        assert!(keys.contains(&"notice-review_requested-deploy--alice-v2".to_string()));
        let on_disk: Value = serde_json::from_slice(
            &std::fs::read(
                p.outbox_dir()
                    .join("notice-published-deploy--alice-v2.json"),
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(on_disk["kind"], "notice");
        assert_eq!(on_disk["payload"]["event"], "published");
        assert_eq!(on_disk["payload"]["figures"]["edits"], 1);
        let scan = events(&p).unwrap();
        assert!(scan.unreadable.is_empty());
        assert_eq!(scan.events.len(), 2);
        assert!(matches!(
            get(&p, "notice-published-deploy--alice-v2").unwrap(),
            Some(OutboxEvent::Notice(n)) if n.payload.at == "2026-01-01T00:05:00.000Z"
        ));
    }

    #[test]
    fn delivered_keys_are_remembered_then_forgotten() {
        let d = tempfile::tempdir().unwrap();
        let p = paths(d.path());
        let key = OutboxEvent::notice_key(NoticeKind::Frozen, "deploy--alice", 1);
        assert!(!was_delivered(&p, &key));
        mark_delivered(&p, &key).unwrap();
        mark_delivered(&p, &key).unwrap();
        assert!(was_delivered(&p, &key));
        assert!(!was_delivered(&p, "notice-frozen-deploy--alice-v2"));
        // The ledger is no outbox file: nothing waits, nothing is refused.
        assert_eq!((waiting(&p).unwrap(), refused(&p).unwrap()), (0, 0));
        assert_eq!(forget_delivered(&p, DELIVERED_KEPT).unwrap(), 0);
        assert!(was_delivered(&p, &key));
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert_eq!(
            forget_delivered(&p, std::time::Duration::from_millis(1)).unwrap(),
            1
        );
        assert!(!was_delivered(&p, &key));
    }

    /// Files queued by the stringly `Event` of earlier versions (the exact bytes it wrote)
    /// read as typed events, and a typed event writes the same shape back.
    #[test]
    fn files_written_by_the_old_envelope_still_read() {
        let d = tempfile::tempdir().unwrap();
        let p = paths(d.path());
        let attribution = r#"{
  "key": "attribution-abc",
  "kind": "attribution",
  "created_at": "2024-01-01T00:00:00.000Z",
  "payload": {
    "agent": "codex",
    "bucket": 7,
    "session_hash": "abc",
    "skills": [
      {
        "author": "bob",
        "name": "lint",
        "sha256": "00ff",
        "version": 3
      }
    ],
    "started_at": "2024-01-01T00:00:00.000Z"
  }
}
"#;
        let outcome_file = r#"{
  "key": "outcome-job1",
  "kind": "outcome",
  "created_at": "2024-01-01T00:00:01Z",
  "payload": {
    "id": "o1",
    "job_id": "job1",
    "name": "lint",
    "author": "bob",
    "version": 1,
    "bucket": 3,
    "outcome": "failure",
    "skill_at_fault": true,
    "confidence": 0.9,
    "reason": "r",
    "agent": "claude-code",
    "model": "m",
    "judged_at": "2024-01-01T00:00:01Z"
  }
}
"#;
        crate::fsutil::ensure_dir(&p.outbox_dir()).unwrap();
        std::fs::write(p.outbox_dir().join("attribution-abc.json"), attribution).unwrap();
        std::fs::write(p.outbox_dir().join("outcome-job1.json"), outcome_file).unwrap();
        let s = events(&p).unwrap();
        assert!(s.unreadable.is_empty());
        let stored = Attribution {
            session_id: "sid".into(),
            session_hash: "abc".into(),
            bucket: 7,
            agent: "codex".into(),
            source: "startup".into(),
            started_at: "2024-01-01T00:00:00.000Z".into(),
            updated_at: "2024-01-01T00:00:00.000Z".into(),
            skills: vec![AttributedSkill {
                name: "lint".into(),
                author: "bob".into(),
                version: 3,
                sha256: "00ff".into(),
            }],
        };
        assert_eq!(
            s.events,
            vec![OutboxEvent::attribution(&stored), outcome(1)]
        );
        // Written back, both read as the old envelope with the same fields.
        for e in &s.events {
            put(&p, e).unwrap();
        }
        let old: Vec<Value> = ["attribution-abc", "outcome-job1"]
            .iter()
            .map(|k| {
                serde_json::from_slice(
                    &std::fs::read(p.outbox_dir().join(format!("{k}.json"))).unwrap(),
                )
                .unwrap()
            })
            .collect();
        assert_eq!(old[0], serde_json::from_str::<Value>(attribution).unwrap());
        assert_eq!(old[1], serde_json::from_str::<Value>(outcome_file).unwrap());
    }
}
