//! The durable job queue: one JSON file per job, moved between state directories by atomic
//! rename.
//!
//! ```text
//! jobs/queued/<ulid>.json  → jobs/running/<ulid>.json → jobs/done/<ulid>.json
//!                                                     ↘ jobs/failed/<ulid>.json
//! ```
//! Claiming is a rename, so exactly one process wins a job. A running job's heartbeat is its
//! file's mtime; [`Queue::requeue_stale`] moves a running job back to `queued` when its
//! heartbeat is older than [`STALE_JOB`](skillopt_shared::config::STALE_JOB) or its worker
//! process is gone. A job survives any crash: at worst it runs again, and every effect it has is
//! keyed by its id.
//!
//! Claiming, the stale-job sweep, finishing and re-queuing all hold `jobs/.lock`, so a sweep
//! never sees a half-claimed job (renamed but not yet stamped with its new owner) and two
//! workers never run the same claim. A job file that does not parse is moved to
//! `jobs/corrupt/` (counted by `skillopt status`) and the queue goes on with the others.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::fsutil::{count_files, ensure_dir, move_aside, read_json, write_json, FileLock};
use crate::{io_err, JobDefect, Paths, Result, StateError};

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// Pull the registry's skills and upload the outbox.
    Sync,
    /// Judge one reaction to one org-skill use.
    Judge,
}

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Queued,
    Running,
    Done,
    Failed,
}

impl JobState {
    pub const ALL: [JobState; 4] = [
        JobState::Queued,
        JobState::Running,
        JobState::Done,
        JobState::Failed,
    ];

    /// `queued`, `running`, `done` or `failed`.
    pub fn as_str(self) -> &'static str {
        self.dir()
    }

    fn dir(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Failed => "failed",
        }
    }
}

/// How a job ended.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JobResult {
    /// e.g. `failure`, `success`, `unclear`, `synced`.
    pub outcome: String,
    /// e.g. `published:v3`, `gated:new-url`, `duplicate`, `recorded`, `none`.
    pub action: String,
    pub reason: String,
    pub started_at: String,
    pub finished_at: String,
    pub duration_ms: u64,
}

/// A job record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub id: String,
    pub kind: JobKind,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// `<name>--<author>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skill: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_use_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transcript_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    /// Claude Code subagent whose transcript holds the skill use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reaction: Option<String>,
    /// The reaction is the Nth user prompt after the skill use (1 = the first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reaction_turn: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket: Option<u8>,
    #[serde(default)]
    pub attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker_pid: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<JobResult>,
}

impl Job {
    /// A new job of `kind` with a fresh ULID.
    pub fn new(kind: JobKind) -> Self {
        Self {
            id: ulid::Ulid::new().to_string(),
            kind,
            created_at: crate::now_rfc3339(),
            session_id: None,
            agent: None,
            skill: None,
            version: None,
            tool_use_id: None,
            transcript_path: None,
            cwd: None,
            agent_id: None,
            reaction: None,
            reaction_turn: None,
            bucket: None,
            attempts: 0,
            worker_pid: None,
            result: None,
        }
    }
}

/// True when a job id is a plain ULID (never a path).
pub fn valid_id(id: &str) -> bool {
    ulid::Ulid::from_string(id).is_ok()
}

/// The queue rooted at `<state>/jobs`.
#[derive(Debug, Clone)]
pub struct Queue {
    root: PathBuf,
}

#[allow(unsafe_code)]
fn process_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: kill with signal 0 only checks for existence and permission; no signal is sent.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

impl Queue {
    /// The queue of a state dir.
    pub fn new(paths: &Paths) -> Self {
        Self {
            root: paths.jobs_dir(),
        }
    }

    fn path(&self, state: JobState, id: &str) -> PathBuf {
        self.root.join(state.dir()).join(format!("{id}.json"))
    }

    /// Writes a new job into `queued/`.
    pub fn enqueue(&self, job: &Job) -> Result<()> {
        write_json(&self.path(JobState::Queued, &job.id), job)
    }

    fn lock(&self) -> Result<FileLock> {
        FileLock::acquire(&self.root.join(".lock"))
    }

    /// Where job files that do not parse are moved.
    pub fn corrupt_dir(&self) -> PathBuf {
        self.root.join("corrupt")
    }

    /// Job files moved aside as corrupt.
    pub fn corrupt_count(&self) -> Result<usize> {
        count_files(&self.corrupt_dir())
    }

    /// Moves an unparseable job file aside and returns the error that says so.
    fn quarantine(&self, id: &str, path: &Path, defect: JobDefect) -> Result<StateError> {
        let moved_to = move_aside(path, &self.corrupt_dir())?.unwrap_or_else(|| path.into());
        Ok(StateError::CorruptJob {
            id: id.to_string(),
            moved_to,
            defect,
        })
    }

    /// Moves a queued job to `running/` and stamps it with this process; `None` when another
    /// process got it first (or it is not queued). A job file that does not parse is moved to
    /// `jobs/corrupt/` and reported as [`StateError::CorruptJob`].
    pub fn claim(&self, id: &str) -> Result<Option<Job>> {
        if !valid_id(id) {
            return Err(StateError::NoJob(id.to_string()));
        }
        let from = self.path(JobState::Queued, id);
        if !from.exists() {
            return Ok(None);
        }
        let to = self.path(JobState::Running, id);
        ensure_dir(to.parent().unwrap_or(&self.root))?;
        // Rename and stamp under the queue lock: the sweep must never see this job running
        // with its old heartbeat and its previous (dead) owner.
        let _lock = self.lock()?;
        match std::fs::rename(&from, &to) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_err(&from)(e)),
        }
        let mut job = match read_json::<Job>(&to) {
            Ok(Some(job)) if job.id == id => job,
            Ok(None) => return Ok(None),
            Ok(Some(job)) => {
                return Err(self.quarantine(id, &to, JobDefect::WrongId(job.id))?);
            }
            Err(StateError::Corrupt { source, .. }) => {
                return Err(self.quarantine(id, &to, JobDefect::Json(source))?)
            }
            Err(e) => return Err(e),
        };
        job.attempts = job.attempts.saturating_add(1);
        job.worker_pid = Some(std::process::id());
        write_json(&to, &job)?;
        Ok(Some(job))
    }

    /// Checks, under the queue lock, that `job` is still this worker's claim.
    fn still_ours(&self, job: &Job) -> Result<PathBuf> {
        let p = self.path(JobState::Running, &job.id);
        match read_json::<Job>(&p) {
            Ok(Some(cur)) if cur.worker_pid == job.worker_pid && cur.attempts == job.attempts => {
                Ok(p)
            }
            Ok(_) | Err(StateError::Corrupt { .. }) => Err(StateError::LostJob(job.id.clone())),
            Err(e) => Err(e),
        }
    }

    /// Refreshes a running job's heartbeat (its file's mtime).
    pub fn heartbeat(&self, id: &str) -> Result<()> {
        let p = self.path(JobState::Running, id);
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(&p)
            .map_err(io_err(&p))?;
        f.set_modified(SystemTime::now()).map_err(io_err(&p))
    }

    /// Writes the result and moves the job to `done/` or `failed/`.
    /// [`StateError::LostJob`] when the job is no longer this worker's claim.
    pub fn finish(&self, job: &Job, result: JobResult, ok: bool) -> Result<()> {
        let _lock = self.lock()?;
        let from = self.still_ours(job)?;
        let state = if ok { JobState::Done } else { JobState::Failed };
        let to = self.path(state, &job.id);
        let mut job = job.clone();
        job.result = Some(result);
        write_json(&from, &job)?;
        ensure_dir(to.parent().unwrap_or(&self.root))?;
        std::fs::rename(&from, &to).map_err(io_err(&from))
    }

    /// Puts a running job back in `queued/` with its last result (a retry later, e.g. when the
    /// registry is back).
    pub fn requeue(&self, job: &Job, result: JobResult) -> Result<()> {
        let _lock = self.lock()?;
        let from = self.still_ours(job)?;
        let to = self.path(JobState::Queued, &job.id);
        let mut job = job.clone();
        job.result = Some(result);
        job.worker_pid = None;
        write_json(&from, &job)?;
        std::fs::rename(&from, &to).map_err(io_err(&from))
    }

    /// Moves running jobs back to `queued/` when their heartbeat is older than `stale` or their
    /// worker process is gone. Returns the re-queued ids. A running job file that does not
    /// parse is moved to `jobs/corrupt/`.
    pub fn requeue_stale(&self, stale: Duration) -> Result<Vec<String>> {
        let _lock = self.lock()?;
        let mut out = Vec::new();
        for (id, path) in self.files(JobState::Running)? {
            let Ok(meta) = std::fs::metadata(&path) else {
                continue;
            };
            let age = meta
                .modified()
                .ok()
                .and_then(|m| SystemTime::now().duration_since(m).ok())
                .unwrap_or_default();
            let owner = match read_json::<Job>(&path) {
                Ok(job) => job.and_then(|j| j.worker_pid),
                Err(StateError::Corrupt { source, .. }) => {
                    self.quarantine(&id, &path, JobDefect::Json(source))?;
                    continue;
                }
                Err(_) => None,
            };
            let owner_gone =
                owner.is_some_and(|pid| pid != std::process::id() && !process_alive(pid));
            if age >= stale || owner_gone {
                let to = self.path(JobState::Queued, &id);
                ensure_dir(to.parent().unwrap_or(&self.root))?;
                if std::fs::rename(&path, &to).is_ok() {
                    out.push(id);
                }
            }
        }
        Ok(out)
    }

    fn files(&self, state: JobState) -> Result<Vec<(String, PathBuf)>> {
        let dir = self.root.join(state.dir());
        let rd = match std::fs::read_dir(&dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_err(&dir)(e)),
        };
        let mut v: Vec<(String, PathBuf)> = rd
            .flatten()
            .filter_map(|e| {
                let p = e.path();
                let id = p.file_stem()?.to_str()?.to_string();
                (p.extension()? == "json" && valid_id(&id)).then_some((id, p))
            })
            .collect();
        v.sort();
        Ok(v)
    }

    /// Ids in a state, oldest first (ULIDs sort by time).
    pub fn ids(&self, state: JobState) -> Result<Vec<String>> {
        Ok(self.files(state)?.into_iter().map(|(id, _)| id).collect())
    }

    /// Jobs in a state, oldest first.
    pub fn list(&self, state: JobState) -> Result<Vec<Job>> {
        Ok(self
            .files(state)?
            .into_iter()
            .filter_map(|(_, p)| read_json::<Job>(&p).ok().flatten())
            .collect())
    }

    /// Where a job is, and its record.
    pub fn find(&self, id: &str) -> Result<Option<(JobState, Job)>> {
        if !valid_id(id) {
            return Ok(None);
        }
        for state in JobState::ALL {
            if let Some(job) = read_json::<Job>(&self.path(state, id))? {
                return Ok(Some((state, job)));
            }
        }
        Ok(None)
    }

    /// The job directory (for tests and status).
    pub fn root(&self) -> &Path {
        &self.root
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queue() -> (tempfile::TempDir, Queue) {
        let d = tempfile::tempdir().unwrap();
        let q = Queue {
            root: d.path().join("jobs"),
        };
        (d, q)
    }

    #[test]
    fn lifecycle() {
        let (_d, q) = queue();
        let job = Job::new(JobKind::Sync);
        q.enqueue(&job).unwrap();
        assert_eq!(q.ids(JobState::Queued).unwrap(), vec![job.id.clone()]);
        let claimed = q.claim(&job.id).unwrap().unwrap();
        assert_eq!(claimed.attempts, 1);
        assert!(q.claim(&job.id).unwrap().is_none(), "claimed twice");
        q.finish(&claimed, JobResult::default(), true).unwrap();
        let (state, done) = q.find(&job.id).unwrap().unwrap();
        assert_eq!(state, JobState::Done);
        assert!(done.result.is_some());
    }

    #[test]
    fn stale_running_jobs_are_requeued() {
        let (_d, q) = queue();
        let job = Job::new(JobKind::Sync);
        q.enqueue(&job).unwrap();
        q.claim(&job.id).unwrap().unwrap();
        // Our own live claim with a fresh heartbeat stays put.
        assert!(q
            .requeue_stale(Duration::from_secs(600))
            .unwrap()
            .is_empty());
        // An old heartbeat is stale.
        let p = q.path(JobState::Running, &job.id);
        let f = std::fs::OpenOptions::new().write(true).open(&p).unwrap();
        f.set_modified(SystemTime::now() - Duration::from_secs(601))
            .unwrap();
        assert_eq!(
            q.requeue_stale(Duration::from_secs(600)).unwrap(),
            vec![job.id.clone()]
        );
        assert_eq!(q.ids(JobState::Queued).unwrap(), vec![job.id]);
    }

    #[test]
    fn dead_owner_is_requeued() {
        let (_d, q) = queue();
        let mut job = Job::new(JobKind::Sync);
        q.enqueue(&job).unwrap();
        q.claim(&job.id).unwrap();
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        job.worker_pid = Some(pid);
        write_json(&q.path(JobState::Running, &job.id), &job).unwrap();
        assert_eq!(
            q.requeue_stale(Duration::from_secs(600)).unwrap(),
            vec![job.id]
        );
    }

    fn dead_pid() -> u32 {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        pid
    }

    #[test]
    fn the_sweep_and_concurrent_claims_never_run_a_job_twice() {
        let (_d, q) = queue();
        // Jobs that waited in the queue after a dead worker's attempt: an old file and a dead
        // owner, exactly what the sweep re-queues when it sees them in `running/`.
        let dead = dead_pid();
        let mut ids = Vec::new();
        for _ in 0..150 {
            let mut job = Job::new(JobKind::Judge);
            job.worker_pid = Some(dead);
            job.attempts = 1;
            q.enqueue(&job).unwrap();
            let f = std::fs::OpenOptions::new()
                .write(true)
                .open(q.path(JobState::Queued, &job.id))
                .unwrap();
            f.set_modified(SystemTime::now() - Duration::from_secs(3600))
                .unwrap();
            ids.push(job.id);
        }
        let claims = std::sync::Mutex::new(std::collections::HashMap::<String, u32>::new());
        let sweeping = std::sync::atomic::AtomicBool::new(true);
        std::thread::scope(|s| {
            s.spawn(|| {
                for _ in 0..400 {
                    q.requeue_stale(Duration::from_secs(600)).unwrap();
                }
                sweeping.store(false, std::sync::atomic::Ordering::SeqCst);
            });
            for _ in 0..3 {
                s.spawn(|| loop {
                    let done = !sweeping.load(std::sync::atomic::Ordering::SeqCst);
                    for id in q.ids(JobState::Queued).unwrap() {
                        if let Some(job) = q.claim(&id).unwrap() {
                            *claims.lock().unwrap().entry(job.id).or_default() += 1;
                        }
                    }
                    if done {
                        break;
                    }
                });
            }
        });
        let claims = claims.into_inner().unwrap();
        let twice: Vec<_> = claims.iter().filter(|(_, n)| **n > 1).collect();
        assert!(twice.is_empty(), "claimed more than once: {twice:?}");
        assert_eq!(claims.len(), ids.len());
        assert!(q.ids(JobState::Queued).unwrap().is_empty());
    }

    #[test]
    fn a_worker_whose_job_was_swept_does_not_record_it() {
        let (_d, q) = queue();
        let job = Job::new(JobKind::Sync);
        q.enqueue(&job).unwrap();
        let first = q.claim(&job.id).unwrap().unwrap();
        // The sweep hands it to a second worker while the first still runs it.
        let p = q.path(JobState::Running, &job.id);
        std::fs::rename(&p, q.path(JobState::Queued, &job.id)).unwrap();
        let second = q.claim(&job.id).unwrap().unwrap();
        assert!(matches!(
            q.finish(&first, JobResult::default(), true),
            Err(StateError::LostJob(_))
        ));
        q.finish(&second, JobResult::default(), true).unwrap();
        assert_eq!(q.find(&job.id).unwrap().unwrap().0, JobState::Done);
        assert!(matches!(
            q.requeue(&first, JobResult::default()),
            Err(StateError::LostJob(_))
        ));
    }

    #[test]
    fn torn_job_files_are_moved_aside_and_the_rest_run() {
        let (_d, q) = queue();
        let jobs: Vec<Job> = (0..3).map(|_| Job::new(JobKind::Sync)).collect();
        for j in &jobs {
            q.enqueue(j).unwrap();
        }
        std::fs::write(q.path(JobState::Queued, &jobs[1].id), b"{\"id\": \"01").unwrap();
        let mut ran = 0;
        let mut corrupt = 0;
        for id in q.ids(JobState::Queued).unwrap() {
            match q.claim(&id) {
                Ok(Some(_)) => ran += 1,
                Err(StateError::CorruptJob { moved_to, .. }) => {
                    assert!(moved_to.starts_with(q.corrupt_dir()));
                    corrupt += 1;
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!((ran, corrupt), (2, 1));
        assert_eq!(q.corrupt_count().unwrap(), 1);
        assert!(q.ids(JobState::Running).unwrap().len() == 2);
        // A corrupt file in `running/` is moved aside by the sweep.
        std::fs::write(q.path(JobState::Running, &jobs[0].id), b"\0\0").unwrap();
        q.requeue_stale(Duration::from_secs(600)).unwrap();
        assert_eq!(q.corrupt_count().unwrap(), 2);
    }

    #[test]
    fn ids_are_never_paths() {
        let (_d, q) = queue();
        assert!(q.claim("../../etc/passwd").is_err());
        assert!(q.find("../x").unwrap().is_none());
    }
}
