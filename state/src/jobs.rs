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

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::fsutil::{ensure_dir, read_json, write_json, FileLock};
use crate::{io_err, Paths, Result, StateError};

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

    /// Moves a queued job to `running/` and stamps it with this process; `None` when another
    /// process got it first (or it is not queued).
    pub fn claim(&self, id: &str) -> Result<Option<Job>> {
        if !valid_id(id) {
            return Err(StateError::NoJob(id.to_string()));
        }
        let from = self.path(JobState::Queued, id);
        let to = self.path(JobState::Running, id);
        ensure_dir(to.parent().unwrap_or(&self.root))?;
        match std::fs::rename(&from, &to) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_err(&from)(e)),
        }
        let Some(mut job) = read_json::<Job>(&to)? else {
            return Ok(None);
        };
        job.attempts += 1;
        job.worker_pid = Some(std::process::id());
        write_json(&to, &job)?;
        Ok(Some(job))
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
    pub fn finish(&self, job: &Job, result: JobResult, ok: bool) -> Result<()> {
        let from = self.path(JobState::Running, &job.id);
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
        let from = self.path(JobState::Running, &job.id);
        let to = self.path(JobState::Queued, &job.id);
        let mut job = job.clone();
        job.result = Some(result);
        job.worker_pid = None;
        write_json(&from, &job)?;
        std::fs::rename(&from, &to).map_err(io_err(&from))
    }

    /// Moves running jobs back to `queued/` when their heartbeat is older than `stale` or their
    /// worker process is gone. Returns the re-queued ids.
    pub fn requeue_stale(&self, stale: Duration) -> Result<Vec<String>> {
        let _lock = FileLock::acquire(&self.root.join(".lock"))?;
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
            let owner_gone = read_json::<Job>(&path)
                .ok()
                .flatten()
                .and_then(|j| j.worker_pid)
                .is_some_and(|pid| pid != std::process::id() && !process_alive(pid));
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

    #[test]
    fn ids_are_never_paths() {
        let (_d, q) = queue();
        assert!(q.claim("../../etc/passwd").is_err());
        assert!(q.find("../x").unwrap().is_none());
    }
}
