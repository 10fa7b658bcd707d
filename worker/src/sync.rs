//! Sync: apply the rollout rules (promote, revert, freeze: [`crate::rollout`]), pull what this
//! machine's channel installs, then upload the outbox. Each outbox event is
//! removed only after the registry accepted it, and the registry's unique keys turn a re-upload
//! (after a crash between the two) into a no-op, so each event lands exactly once.
//!
//! Two kinds of upload failure are told apart. "The registry is down" (unreachable, timed out, a
//! backend error) stops the upload and keeps every event for the next sync. "This event is
//! refused" (the registry will never store it: PostgreSQL refuses a NUL byte, the payload does
//! not parse, the file is torn) moves that one event to `outbox/refused/`, logs it, and the
//! upload goes on with the others; `skillopt status` counts the refused events.
//!
//! The pull is incremental: a sync first reads the registry's revision (one small query, or one
//! small answer from a server) and skips the pull when neither it nor this machine's side of
//! the pull (channel, installed copies) changed since the last full pull ([`pull_mark`]). The
//! rollout rules still run while a candidate is out: outcomes decide them, and outcomes are not
//! part of the revision.
//!
//! Webhook notices wait in the same outbox but are no registry rows: the upload leaves them
//! alone, and [`run`] hands them to [`crate::webhook::deliver_pending`] afterwards (whether or
//! not the registry answered).

use std::collections::BTreeMap;

use serde::Serialize;
use skillopt_shared::SkillRef;
use skillopt_state::machine::{self, Channel};
use skillopt_state::manifest::Manifest;
use skillopt_state::outbox::{self, OutboxEvent};
use skillopt_state::pull_mark::{self, PullMark};
use skillopt_state::{sync_marker, Paths};

use crate::install_skill::{self, Downgrade, InstallReport};
use crate::registry::{
    self, AttributionRow, Registry, SkillFlags, SkillVersion, VersionStatus, DEFAULT_CANARY_PERCENT,
};
use crate::rollout;
use crate::settings::Settings;

/// What a sync did.
#[derive(Debug, Default, Serialize)]
pub struct SyncReport {
    /// Promotions and reverts this machine applied before pulling.
    pub rollout: Vec<rollout::Applied>,
    pub installs: Vec<InstallReport>,
    /// True when the pull was skipped: the registry had nothing new since the last full pull
    /// and nothing changed on this machine.
    pub unchanged: bool,
    pub uploaded: usize,
    pub already_there: usize,
    pub left_in_outbox: usize,
    /// Events moved to `outbox/refused/` by this upload (never uploadable).
    pub refused: usize,
    /// Why the server would not take this machine's events (a reader's token): they wait in
    /// the outbox for a token that may record them, and the sync still counts as done.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upload_forbidden: Option<String>,
    /// What the webhook delivery after the upload did.
    pub notices: crate::webhook::DeliveryReport,
}

/// Why an event was not uploaded.
#[derive(Debug, thiserror::Error)]
enum UploadError {
    /// The registry cannot take anything now: stop, keep everything.
    #[error(transparent)]
    Down(registry::RegistryError),
    /// This event can never be uploaded: move it aside, go on.
    #[error(transparent)]
    Refused(registry::RegistryError),
    /// This machine's token may not upload (a reader's): stop, keep everything, no error.
    #[error(transparent)]
    Forbidden(registry::RegistryError),
}

impl From<registry::RegistryError> for UploadError {
    fn from(e: registry::RegistryError) -> Self {
        use registry::RegistryError as E;
        match e {
            E::Refused(_) | E::Conflict(_) | E::Stale { .. } | E::DuplicateJob(_) => {
                Self::Refused(e)
            }
            _ if e.is_forbidden() => Self::Forbidden(e),
            other => Self::Down(other),
        }
    }
}

/// The version of one skill this machine installs: its candidate on the canary channel or when
/// this machine published it, else the active one.
fn target<'a>(
    active: Option<&'a SkillVersion>,
    candidate: Option<&'a SkillVersion>,
    channel: Channel,
    published_here: bool,
) -> Option<&'a SkillVersion> {
    match candidate {
        Some(c) if channel == Channel::Canary || published_here => Some(c),
        _ => active,
    }
}

/// Pulls (or plans, with `dry_run`) what this machine installs of every org skill: the active
/// version everywhere, a candidate on canary-channel machines and on the machine that published
/// it, and the active version back where the installed one was reverted, or is a candidate this
/// machine should no longer run (it moved to the stable channel, the percent went down).
pub fn pull(
    paths: &Paths,
    reg: &mut dyn Registry,
    dry_run: bool,
) -> anyhow::Result<Vec<InstallReport>> {
    Ok(pull_reporting_candidates(paths, reg, dry_run)?.0)
}

/// [`pull`], also telling whether some skill had a candidate out.
fn pull_reporting_candidates(
    paths: &Paths,
    reg: &mut dyn Registry,
    dry_run: bool,
) -> anyhow::Result<(Vec<InstallReport>, bool)> {
    let machine = machine::load(paths)?;
    let flags: BTreeMap<(String, String), SkillFlags> = reg
        .all_flags()?
        .into_iter()
        .map(|(name, author, f)| ((name, author), f))
        .collect();
    let manifest = Manifest::load(paths).unwrap_or_default();
    let mut by_skill: BTreeMap<(String, String), (Option<SkillVersion>, Option<SkillVersion>)> =
        BTreeMap::new();
    for sv in reg.installable()? {
        let slot = by_skill
            .entry((sv.name.clone(), sv.author.clone()))
            .or_default();
        match sv.status {
            VersionStatus::Active => slot.0 = Some(sv),
            VersionStatus::Candidate => slot.1 = Some(sv),
            VersionStatus::Proposed | VersionStatus::Reverted => {}
        }
    }
    let candidates = by_skill.values().any(|(_, c)| c.is_some());
    let mut out = Vec::new();
    for (key, (active, candidate)) in &by_skill {
        let percent = flags
            .get(key)
            .map_or(DEFAULT_CANARY_PERCENT, |f| f.canary_percent);
        let skill = SkillRef::new(&key.0, &key.1).ok();
        let installed = skill
            .as_ref()
            .and_then(|s| manifest.find(s).map(|e| e.version));
        let published_here = match (&skill, candidate) {
            (Some(s), Some(c)) => reg
                .changesets(s)?
                .iter()
                .any(|cs| cs.version == c.version && cs.machine == machine.id),
            _ => false,
        };
        let Some(sv) = target(
            active.as_ref(),
            candidate.as_ref(),
            machine.channel_for(percent),
            published_here,
        ) else {
            continue;
        };
        // Going back is allowed only from a version that is not (or no longer) active: one
        // the registry withdrew, or a candidate this machine should not run.
        let downgrade = match (installed.filter(|&v| v > sv.version), &skill) {
            (Some(v), Some(s)) => match reg.version(s, v) {
                Ok(Some(row)) if row.status != VersionStatus::Active => Downgrade::FromWithdrawn(v),
                _ => Downgrade::Refused,
            },
            _ => Downgrade::Refused,
        };
        // One bad row is reported by name; every other skill still installs.
        let report = install_skill::install_with(paths, sv, dry_run, downgrade)
            .unwrap_or_else(|e| install_skill::skipped(sv, &e));
        out.push(report);
    }
    Ok((out, candidates))
}

/// The machine-side inputs of a pull, digested: this machine's id and channel, the skill roots
/// that exist, and each installed skill's version and the copies of it that still exist, each
/// with its file's stamp (size, times, inode), so a copy edited or replaced since the last full
/// pull gets one again (which repairs it).
fn local_digest(paths: &Paths) -> anyhow::Result<String> {
    use sha2::{Digest, Sha256};
    let machine = machine::load(paths)?;
    let manifest = Manifest::load(paths).unwrap_or_default();
    let roots: Vec<bool> = paths
        .skill_roots()
        .iter()
        .map(|(_, dir)| dir.is_dir())
        .collect();
    let installed: Vec<_> = manifest
        .skills
        .iter()
        .map(|e| {
            let copies: Vec<_> = e
                .existing_paths()
                .map(|p| (p, skillopt_state::manifest::Stamp::of_file(p)))
                .collect();
            (&e.name, &e.author, e.version, copies)
        })
        .collect();
    let inputs = serde_json::to_vec(&(&machine, roots, installed))?;
    Ok(format!("{:x}", Sha256::digest(inputs)))
}

/// The rollout rules and the pull of a sync, skipped as far as the [`PullMark`] allows.
fn rules_and_pull(
    paths: &Paths,
    settings: &Settings,
    reg: &mut dyn Registry,
) -> anyhow::Result<SyncReport> {
    // A backend (or an older server) that cannot tell its revision gets a full pull.
    let revision = reg.revision().ok().flatten();
    let local = local_digest(paths)?;
    let mark = pull_mark::load(paths).filter(|m| {
        Some(m.revision) == revision && m.registry == reg.describe() && m.local == local
    });
    // The rules run on what the registry has; a failure here must not stop the pull.
    let rollout = if mark.as_ref().is_some_and(|m| !m.candidates) {
        Vec::new()
    } else {
        rollout::evaluate(reg).unwrap_or_else(|e| {
            tracing::warn!("rollout rules not applied: {e:#}");
            Vec::new()
        })
    };
    rollout::notify(paths, settings, &rollout, false);
    if mark.is_some() && rollout.is_empty() {
        return Ok(SyncReport {
            unchanged: true,
            ..Default::default()
        });
    }
    let (installs, candidates) = pull_reporting_candidates(paths, reg, false)?;
    // Marked only when every skill installed (a skipped one is tried again next time), and
    // with the revision read before the pull: a change in between only costs a full pull.
    let all_installed = !installs
        .iter()
        .any(|r| r.action == install_skill::InstallAction::Skipped);
    match revision.filter(|_| rollout.is_empty() && all_installed) {
        Some(revision) => pull_mark::save(
            paths,
            &PullMark {
                registry: reg.describe(),
                revision,
                local: local_digest(paths)?,
                candidates,
            },
        )?,
        None => pull_mark::clear(paths),
    }
    Ok(SyncReport {
        rollout,
        installs,
        ..Default::default()
    })
}

fn upload_event(reg: &mut dyn Registry, e: &OutboxEvent) -> Result<bool, UploadError> {
    match e {
        OutboxEvent::Attribution(a) => {
            let mut inserted = false;
            for row in AttributionRow::from_event(&a.payload) {
                inserted |= reg.add_attribution(&row)?;
            }
            Ok(inserted)
        }
        OutboxEvent::Outcome(o) => Ok(reg.add_outcome(&o.payload)?),
        // Not a registry row: `upload_outbox` never hands one over.
        OutboxEvent::Notice(_) => Ok(false),
    }
}

/// Uploads every outbox event. Stops at the first "registry down" error (the rest stay queued);
/// an event the registry refuses, or a file that does not parse, is moved aside and the upload
/// goes on. Returns the keys uploaded (or found already there).
pub fn upload_outbox(
    paths: &Paths,
    reg: &mut dyn Registry,
    report: &mut SyncReport,
) -> anyhow::Result<Vec<String>> {
    let scan = outbox::events(paths)?;
    for file in &scan.unreadable {
        let to = outbox::move_aside_file(paths, file)?;
        tracing::warn!(file = %file.display(), to = ?to, "unreadable outbox event moved aside");
        report.refused += 1;
    }
    let mut delivered = Vec::new();
    for e in scan.events.into_iter().filter(OutboxEvent::is_for_registry) {
        match upload_event(reg, &e) {
            Ok(true) => report.uploaded += 1,
            Ok(false) => report.already_there += 1,
            Err(UploadError::Refused(why)) => {
                let to = outbox::move_aside_key(paths, e.key())?;
                tracing::warn!(key = %e.key(), to = ?to, "outbox event refused, moved aside: {why}");
                report.refused += 1;
                continue;
            }
            Err(UploadError::Down(err)) => {
                report.left_in_outbox = outbox::waiting(paths)?;
                return Err(err.into());
            }
            Err(UploadError::Forbidden(why)) => {
                tracing::warn!("the registry takes no events from this machine: {why}");
                report.upload_forbidden = Some(why.to_string());
                break;
            }
        }
        outbox::remove(paths, e.key())?;
        delivered.push(e.key().to_string());
    }
    report.left_in_outbox = outbox::waiting(paths)?;
    Ok(delivered)
}

/// Queues an event, then tries to deliver the whole outbox right away (best effort). True when
/// the registry has this event.
pub fn record_event(
    paths: &Paths,
    reg: Option<&mut (dyn Registry + '_)>,
    event: OutboxEvent,
) -> anyhow::Result<bool> {
    outbox::put(paths, &event)?;
    let Some(reg) = reg else { return Ok(false) };
    let mut report = SyncReport::default();
    Ok(upload_outbox(paths, reg, &mut report)
        .is_ok_and(|keys| keys.iter().any(|k| k == event.key())))
}

/// The sync job: pull + upload, then the webhook notices. The marker records the registry's
/// success or error.
pub fn run(paths: &Paths, settings: &Settings) -> anyhow::Result<SyncReport> {
    let mut result = (|| {
        let mut reg = settings.open_registry()?;
        let mut report = rules_and_pull(paths, settings, reg.as_mut())?;
        upload_outbox(paths, reg.as_mut(), &mut report)?;
        Ok::<_, anyhow::Error>(report)
    })();
    // Webhook notices go whether or not the registry answered; never an error of the sync.
    let notices = crate::webhook::deliver_pending(paths, settings);
    if let Ok(report) = &mut result {
        report.notices = notices;
        report.left_in_outbox = outbox::waiting(paths).unwrap_or(report.left_in_outbox);
    }
    let _ = sync_marker::record_sync(paths, result.as_ref().err().map(|e| format!("{e:#}")));
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::{
        AttributionRow, Cause, Changeset, Event, NewVersion, OutcomeRow, Policy, RegistryError,
        RegistryUrl, SkillFlags, SkillVersion, Transition, VersionSource, VersionStats,
    };
    use skillopt_shared::SkillRef;

    /// A real SQLite registry that refuses outcomes whose reason holds a NUL (as PostgreSQL
    /// does) and can be switched "down".
    struct Picky {
        inner: Box<dyn Registry>,
        down: bool,
    }

    type R<T> = crate::registry::Result<T>;

    impl Registry for Picky {
        fn describe(&self) -> String {
            self.inner.describe()
        }
        fn latest(&mut self, s: &SkillRef) -> R<Option<SkillVersion>> {
            self.inner.latest(s)
        }
        fn version(&mut self, s: &SkillRef, v: u32) -> R<Option<SkillVersion>> {
            self.inner.version(s, v)
        }
        fn history(&mut self, s: &SkillRef) -> R<Vec<SkillVersion>> {
            self.inner.history(s)
        }
        fn all_latest_active(&mut self) -> R<Vec<SkillVersion>> {
            self.inner.all_latest_active()
        }
        fn publish(&mut self, n: &NewVersion, c: Option<&Changeset>) -> R<SkillVersion> {
            self.inner.publish(n, c)
        }
        fn changesets(&mut self, s: &SkillRef) -> R<Vec<Changeset>> {
            self.inner.changesets(s)
        }
        fn changeset_for_job(&mut self, j: &str) -> R<Option<Changeset>> {
            self.inner.changeset_for_job(j)
        }
        fn fingerprint_exists(&mut self, s: &SkillRef, f: &str) -> R<bool> {
            self.inner.fingerprint_exists(s, f)
        }
        fn versions_since(&mut self, s: &SkillRef, src: VersionSource, since: &str) -> R<u32> {
            self.inner.versions_since(s, src, since)
        }
        fn add_attribution(&mut self, a: &AttributionRow) -> R<bool> {
            self.inner.add_attribution(a)
        }
        fn add_outcome(&mut self, o: &OutcomeRow) -> R<bool> {
            if self.down {
                return Err(RegistryError::Unreachable(Cause::Test("connection reset")));
            }
            if o.reason.contains('\0') {
                return Err(RegistryError::Refused(Cause::Test(
                    "invalid byte sequence: 0x00",
                )));
            }
            self.inner.add_outcome(o)
        }
        fn outcome_for_job(&mut self, j: &str) -> R<Option<OutcomeRow>> {
            self.inner.outcome_for_job(j)
        }
        fn outcomes(&mut self, s: &SkillRef) -> R<Vec<OutcomeRow>> {
            self.inner.outcomes(s)
        }
        fn stats(&mut self) -> R<Vec<VersionStats>> {
            self.inner.stats()
        }
        fn attributions(&mut self, s: &SkillRef) -> R<Vec<AttributionRow>> {
            self.inner.attributions(s)
        }
        fn set_frozen(&mut self, s: &SkillRef, f: bool, why: &str, by: &str) -> R<()> {
            self.inner.set_frozen(s, f, why, by)
        }
        fn head(&mut self, s: &SkillRef) -> R<Option<SkillVersion>> {
            self.inner.head(s)
        }
        fn installable(&mut self) -> R<Vec<SkillVersion>> {
            self.inner.installable()
        }
        fn transition(&mut self, t: &Transition) -> R<bool> {
            self.inner.transition(t)
        }
        fn reject_fingerprint(&mut self, s: &SkillRef, fp: &str, why: &str) -> R<()> {
            self.inner.reject_fingerprint(s, fp, why)
        }
        fn events(&mut self, s: &SkillRef) -> R<Vec<Event>> {
            self.inner.events(s)
        }
        fn set_policy(&mut self, s: &SkillRef, p: &Policy, by: &str) -> R<()> {
            self.inner.set_policy(s, p, by)
        }
        fn flags(&mut self, s: &SkillRef) -> R<SkillFlags> {
            self.inner.flags(s)
        }
        fn all_flags(&mut self) -> R<Vec<(String, String, SkillFlags)>> {
            self.inner.all_flags()
        }
    }

    fn outcome(i: usize, reason: &str) -> OutboxEvent {
        let row = OutcomeRow {
            id: format!("o{i}"),
            job_id: format!("job{i}"),
            name: "lint".into(),
            author: "bob".into(),
            version: 1,
            bucket: 3,
            outcome: skillopt_shared::verdict::Outcome::Failure,
            skill_at_fault: true,
            confidence: 0.9,
            reason: reason.into(),
            agent: "claude-code".into(),
            model: "m".into(),
            judged_at: format!("2024-01-01T00:00:0{i}Z"),
        };
        OutboxEvent::outcome(row)
    }

    /// A webhook notice waits in the same outbox, but the registry upload leaves it alone.
    #[test]
    fn the_upload_leaves_notices_alone() {
        use skillopt_state::outbox::{NoticeKind, NoticePayload};
        let d = tempfile::tempdir().unwrap();
        let paths = Paths::under(d.path());
        let mut reg = RegistryUrl::Sqlite(d.path().join("r.sqlite3"))
            .open()
            .unwrap();
        let notice = OutboxEvent::notice(NoticePayload {
            event: NoticeKind::Published,
            skill: "lint--bob".into(),
            version: 2,
            status: "active".into(),
            text: "skillopt published lint--bob v2".into(),
            reason: String::new(),
            figures: serde_json::json!({}),
            at: "2024-01-01T00:00:00Z".into(),
        });
        outbox::put(&paths, &notice).unwrap();
        outbox::put(&paths, &outcome(1, "fine")).unwrap();
        let mut report = SyncReport::default();
        let keys = upload_outbox(&paths, reg.as_mut(), &mut report).unwrap();
        assert_eq!(keys, vec!["outcome-job1"]);
        assert_eq!(
            (report.uploaded, report.refused, report.left_in_outbox),
            (1, 0, 1)
        );
        assert_eq!(outbox::get(&paths, notice.key()).unwrap(), Some(notice));
    }

    #[test]
    fn a_refused_event_is_moved_aside_and_the_others_still_upload() {
        let d = tempfile::tempdir().unwrap();
        let paths = Paths::under(d.path());
        let inner = RegistryUrl::Sqlite(d.path().join("r.sqlite3"))
            .open()
            .unwrap();
        let mut reg = Picky { inner, down: true };
        // The oldest event carries a NUL from a judge reply; two good ones follow, then a torn
        // file and one of a kind nobody knows.
        outbox::put(&paths, &outcome(0, "bad\0reply")).unwrap();
        outbox::put(&paths, &outcome(1, "fine")).unwrap();
        outbox::put(&paths, &outcome(2, "also fine")).unwrap();
        std::fs::write(paths.outbox_dir().join("torn.json"), b"{\"key\":\"outc").unwrap();
        let mut odd = serde_json::to_value(outcome(3, "x")).unwrap();
        odd["kind"] = "mystery".into();
        std::fs::write(
            paths.outbox_dir().join("outcome-job3.json"),
            odd.to_string(),
        )
        .unwrap();

        // Registry down: only the files that do not read as an event (torn, unknown kind) move
        // aside; nothing is lost.
        let mut report = SyncReport::default();
        assert!(upload_outbox(&paths, &mut reg, &mut report).is_err());
        assert_eq!((report.refused, report.left_in_outbox), (2, 3));
        assert_eq!(
            outbox::waiting(&paths).unwrap() + outbox::refused(&paths).unwrap(),
            5
        );
        assert!(outbox::get(&paths, "outcome-job1").unwrap().is_some());

        // Back up: the good events land, the refused one is moved aside and counted.
        reg.down = false;
        let mut report = SyncReport::default();
        let keys = upload_outbox(&paths, &mut reg, &mut report).unwrap();
        assert_eq!(keys, vec!["outcome-job1", "outcome-job2"]);
        assert_eq!(
            (report.uploaded, report.refused, report.left_in_outbox),
            (2, 1, 0)
        );
        assert_eq!(outbox::refused(&paths).unwrap(), 3);
        assert!(reg.outcome_for_job("job2").unwrap().is_some());
        // A second upload has nothing left to do and nothing blocks it.
        let mut report = SyncReport::default();
        assert!(upload_outbox(&paths, &mut reg, &mut report)
            .unwrap()
            .is_empty());
    }
}
