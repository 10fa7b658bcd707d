//! Webhook notices: an optional JSON POST to `SKILLOPT_WEBHOOK_URL` when a version is
//! published, promoted or reverted, a skill is frozen, or a version waits for review.
//!
//! A notice goes through the outbox (`outbox/notice-<event>-<skill>-v<version>.json`, see
//! `skillopt_state::outbox`): [`notify`] queues it and tries to deliver what is pending at once;
//! every sync tries again ([`deliver_pending`], called by `sync::run`). Nothing here ever fails
//! or blocks the pipeline for long: problems are logged, the notice waits for the next sync.
//!
//! The key names the event, so an event queued twice (two machines applying the same
//! promotion, a job run again) is one notice. A notice of something a person can do again to
//! the same version — `freeze`, `unfreeze`, `freeze` — is made [`Notice::unique`]: its key ends
//! with its own id (`…-v<version>-<ulid>`), so each freeze is announced.
//!
//! CLI commands (`freeze`, `review approve|reject`) call [`notify_briefly`]: the notice is
//! queued, and delivery gets [`CLI_BUDGET`] in all (lock wait, connect and request included);
//! whatever is not delivered by then waits for the next sync, so an endpoint that accepts and
//! never answers holds a person's command about two seconds, not [`REQUEST_TIMEOUT`]. The
//! worker (improve, sync) calls [`notify`] with the full timeouts: nobody waits for it.
//!
//! Delivery, oldest first, at most [`MAX_PER_RUN`] POSTs per run, under `locks/webhook.lock`
//! (two workers never POST the same notice):
//! - 2xx: delivered; the key is remembered (`outbox/delivered/`) and the file removed, so the
//!   same notice queued again is not sent twice;
//! - 4xx other than 408/429 (the endpoint will never take it: a revoked Slack hook answers 404):
//!   moved to `outbox/refused/`, logged, the others go on;
//! - anything else (5xx, 408, 429, 3xx, connection refused, timeout): kept, and the run stops
//!   (the endpoint is down; the others would fare no better);
//! - a notice still undelivered after [`MAX_AGE`] is moved aside without a POST: stale news.
//!
//! The body is the notice's payload, `{event, skill, version, status, text, reason, figures,
//! at}`; `text` is one Slack-ready line (`skillopt published deploy--alice v2 (candidate): …`,
//! with `&`, `<`, `>` escaped so a reason can neither mention `@channel` nor forge a link), and
//! the reason is cleaned and redacted like every model reply skillopt stores. The URL itself is
//! never logged (a Slack URL carries its secret in the path): logs name its origin only.

use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;
use skillopt_shared::verdict::clean;
use skillopt_shared::SkillRef;
use skillopt_state::fsutil::FileLock;
use skillopt_state::outbox::{self, NoticeEvent, NoticePayload, OutboxEvent};
use skillopt_state::{now_rfc3339, Paths};

pub(crate) use skillopt_state::outbox::NoticeKind;

use crate::settings::Settings;

/// Connecting to the endpoint: a chat service answers well within this, a dead host does not.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// The whole request (Slack answers in well under a second).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// POSTs per run: bounds one run's time (each try is at most [`REQUEST_TIMEOUT`]) and a burst
/// in a channel; the rest go at the next sync.
pub(crate) const MAX_PER_RUN: usize = 20;
/// A notice older than this is not sent any more (moved aside): a week-old "published" is no
/// news, and a dead endpoint must not grow the outbox for ever.
pub(crate) const MAX_AGE: Duration = Duration::from_secs(7 * 24 * 3600);
/// How long a run waits for another process delivering notices before leaving it to them.
const LOCK_WAIT: Duration = Duration::from_secs(2);
/// All the time a CLI command spends delivering notices: a person waits for it, and Slack
/// answers in well under a second; what is not delivered by then goes at the next sync.
pub(crate) const CLI_BUDGET: Duration = Duration::from_secs(2);
/// A POST is not started with less time than this left in the budget (it could not finish).
const MIN_POST_TIME: Duration = Duration::from_millis(200);

/// How long one delivery run may take.
#[derive(Debug, Clone, Copy)]
struct Limits {
    lock_wait: Duration,
    connect: Duration,
    request: Duration,
    /// The whole run, lock wait included; `None`: only each POST's own timeouts.
    total: Option<Duration>,
}

/// The worker's run (improve, sync): nobody waits for it.
const WORKER_LIMITS: Limits = Limits {
    lock_wait: LOCK_WAIT,
    connect: CONNECT_TIMEOUT,
    request: REQUEST_TIMEOUT,
    total: None,
};

/// A CLI command's run: [`CLI_BUDGET`] in all.
const CLI_LIMITS: Limits = Limits {
    lock_wait: Duration::from_millis(500),
    connect: Duration::from_secs(1),
    request: CLI_BUDGET,
    total: Some(CLI_BUDGET),
};

/// One notice to send: build it with [`Notice::new`], hand it to [`notify`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Notice {
    payload: NoticePayload,
    /// Set by [`Notice::unique`]: the notice's own id, the end of its key.
    occurrence: Option<String>,
}

impl Notice {
    /// A notice that `kind` happened to `skill` v`version`, now. `status` is the version's
    /// status after the event (`active`, `candidate`, …; may be empty), `reason` a short why
    /// (cleaned and redacted here), `figures` the numbers that decided it (a JSON object; `null`
    /// becomes `{}`, anything else `{"value": …}`).
    pub(crate) fn new(
        kind: NoticeKind,
        skill: &SkillRef,
        version: u32,
        status: &str,
        reason: &str,
        figures: Value,
    ) -> Self {
        let skill = skill.dir_name();
        let status = clean(status);
        let reason = clean(reason);
        let figures = match figures {
            Value::Object(_) => figures,
            Value::Null => Value::Object(Default::default()),
            other => serde_json::json!({ "value": other }),
        };
        let text = text(kind, &skill, version, &status, &reason);
        Notice {
            payload: NoticePayload {
                event: kind,
                skill,
                version,
                status,
                text,
                reason,
                figures,
                at: now_rfc3339(),
            },
            occurrence: None,
        }
    }

    /// The same notice, for an event that can happen again to the same version (a person
    /// freezing a skill, unfreezing it, freezing it again): its key gets the notice's own id,
    /// so each one is sent. Notices of events that happen once per version (publish, promote,
    /// revert, review request, approve, reject) keep [`Notice::new`]'s key, so the same event
    /// queued twice is one POST.
    pub(crate) fn unique(mut self) -> Self {
        self.occurrence = Some(ulid::Ulid::new().to_string());
        self
    }

    /// The outbox key: `notice-<event>-<skill>-v<version>`, then `-<id>` for a
    /// [`unique`](Notice::unique) notice.
    pub(crate) fn key(&self) -> String {
        let key = OutboxEvent::notice_key(
            self.payload.event,
            &self.payload.skill,
            self.payload.version,
        );
        match &self.occurrence {
            Some(id) => format!("{key}-{id}"),
            None => key,
        }
    }

    /// The outbox event that queues it.
    fn event(self) -> OutboxEvent {
        let key = self.key();
        OutboxEvent::Notice(NoticeEvent {
            key,
            created_at: self.payload.at.clone(),
            payload: self.payload,
        })
    }

    /// The JSON body POSTed.
    #[cfg(test)]
    pub(crate) fn payload(&self) -> &NoticePayload {
        &self.payload
    }
}

fn verb(kind: NoticeKind) -> &'static str {
    match kind {
        NoticeKind::Published => "published",
        NoticeKind::Promoted => "promoted",
        NoticeKind::Reverted => "reverted",
        NoticeKind::Frozen => "froze",
        NoticeKind::ReviewRequested => "asks for a review of",
    }
}

/// Slack's three control characters in message text.
fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `skillopt published deploy--alice v2 (candidate): <reason>`.
fn text(kind: NoticeKind, skill: &str, version: u32, status: &str, reason: &str) -> String {
    let mut t = format!("skillopt {} {skill} v{version}", verb(kind));
    if !status.is_empty() {
        t.push_str(&format!(" ({status})"));
    }
    if !reason.is_empty() {
        t.push_str(": ");
        t.push_str(reason);
    }
    slack_escape(&t)
}

/// What one delivery run did.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct DeliveryReport {
    /// POSTs the endpoint accepted (2xx).
    pub delivered: usize,
    /// Notices the endpoint refused for good (4xx), moved to `outbox/refused/`.
    pub refused: usize,
    /// Notices older than [`MAX_AGE`], moved aside unsent.
    pub expired: usize,
    /// Notices still waiting for the next run.
    pub left: usize,
}

/// Queues a notice and tries to deliver the pending ones right away, with the worker's
/// timeouts (for the worker's own steps; a CLI command calls [`notify_briefly`]). Does nothing
/// without `SKILLOPT_WEBHOOK_URL`; never fails (problems are logged; the notice waits for the
/// next sync). A notice already queued, or already delivered, is not queued again.
pub(crate) fn notify(paths: &Paths, settings: &Settings, notice: Notice) {
    queue_and_deliver(paths, settings, notice, WORKER_LIMITS);
}

/// [`notify`] for a CLI command a person waits for: delivery stops after [`CLI_BUDGET`], and
/// what is left goes at the next sync.
pub(crate) fn notify_briefly(paths: &Paths, settings: &Settings, notice: Notice) {
    queue_and_deliver(paths, settings, notice, CLI_LIMITS);
}

fn queue_and_deliver(paths: &Paths, settings: &Settings, notice: Notice, limits: Limits) {
    let Some(url) = settings.webhook_url.value.as_deref() else {
        return;
    };
    let key = notice.key();
    if outbox::was_delivered(paths, &key) {
        tracing::debug!(%key, "webhook notice already delivered");
        return;
    }
    if matches!(outbox::get(paths, &key), Ok(Some(_))) {
        tracing::debug!(%key, "webhook notice already queued");
    } else if let Err(e) = outbox::put(paths, &notice.event()) {
        tracing::warn!(%key, "webhook notice not queued: {e}");
        return;
    }
    deliver(paths, url, MAX_PER_RUN, limits);
}

/// Delivers the notices waiting in the outbox (best effort, see the module doc). Without
/// `SKILLOPT_WEBHOOK_URL` the notices stay queued and nothing is sent.
pub(crate) fn deliver_pending(paths: &Paths, settings: &Settings) -> DeliveryReport {
    match settings.webhook_url.value.as_deref() {
        Some(url) => deliver(paths, url, MAX_PER_RUN, WORKER_LIMITS),
        None => DeliveryReport {
            left: pending(paths).len(),
            ..Default::default()
        },
    }
}

/// The notices in the outbox, oldest first (files that do not read are the registry upload's
/// to move aside).
fn pending(paths: &Paths) -> Vec<NoticeEvent> {
    match outbox::events(paths) {
        Ok(scan) => scan
            .events
            .into_iter()
            .filter_map(|e| match e {
                OutboxEvent::Notice(n) => Some(n),
                _ => None,
            })
            .collect(),
        Err(e) => {
            tracing::warn!("outbox unreadable, no webhook notice delivered: {e}");
            Vec::new()
        }
    }
}

/// What the endpoint's answer means for a notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    /// 2xx: done.
    Delivered,
    /// A 4xx other than 408/429: it will never be taken.
    Refused,
    /// Anything else: try again at the next sync.
    Retry,
}

fn classify(status: u16) -> Answer {
    match status {
        200..=299 => Answer::Delivered,
        408 | 429 => Answer::Retry,
        400..=499 => Answer::Refused,
        _ => Answer::Retry,
    }
}

/// Why a POST did not get an answer.
#[derive(Debug, thiserror::Error)]
enum PostError {
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
    #[error("{0}")]
    Transport(String),
}

/// `scheme://host[:port]/…`: the URL without its path, query or credentials, for logs.
pub(crate) fn origin(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("?", url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or_default();
    format!("{scheme}://{host}/…")
}

/// A reqwest error as text, without the URL it carries (and its sources, which do not).
fn describe(e: reqwest::Error) -> String {
    let timed_out = e.is_timeout();
    let e = e.without_url();
    let mut s = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(c) = source {
        s.push_str(": ");
        s.push_str(&c.to_string());
        source = c.source();
    }
    if timed_out {
        s.push_str(" (timed out)");
    }
    s
}

fn client(limits: Limits) -> Result<reqwest::blocking::Client, PostError> {
    reqwest::blocking::Client::builder()
        .connect_timeout(limits.connect)
        .timeout(limits.request)
        .user_agent(concat!(
            "skillopt/",
            env!("CARGO_PKG_VERSION"),
            " (webhook)"
        ))
        // A redirected POST would turn into a GET (or carry the notice elsewhere): a 3xx is
        // an answer like any other non-2xx.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| PostError::Client(describe(e)))
}

fn post(
    client: &reqwest::blocking::Client,
    url: &str,
    body: &NoticePayload,
    timeout: Duration,
) -> Result<u16, PostError> {
    client
        .post(url)
        .json(body)
        .timeout(timeout)
        .send()
        .map(|r| r.status().as_u16())
        .map_err(|e| PostError::Transport(describe(e)))
}

fn age(at: &str) -> Option<Duration> {
    let t = chrono::DateTime::parse_from_rfc3339(at).ok()?;
    (chrono::Utc::now() - t.with_timezone(&chrono::Utc))
        .to_std()
        .ok()
}

fn deliver(paths: &Paths, url: &str, max: usize, limits: Limits) -> DeliveryReport {
    let target = origin(url);
    let mut report = DeliveryReport::default();
    let deadline = limits.total.map(|t| Instant::now() + t);
    let lock_path = paths.state_dir.join("locks").join("webhook.lock");
    let lock_wait = limits
        .total
        .map_or(limits.lock_wait, |t| limits.lock_wait.min(t));
    let _lock = match FileLock::acquire_within(&lock_path, lock_wait) {
        Ok(l) => l,
        Err(e) => {
            tracing::info!(%target, "webhook delivery left to another worker: {e}");
            report.left = pending(paths).len();
            return report;
        }
    };
    if let Err(e) = outbox::forget_delivered(paths, outbox::DELIVERED_KEPT) {
        tracing::warn!("delivered webhook keys not pruned: {e}");
    }
    let notices = pending(paths);
    let mut client = None;
    let mut tries = 0;
    for (i, n) in notices.iter().enumerate() {
        let key = n.key.as_str();
        if outbox::was_delivered(paths, key) {
            // Delivered by a run that stopped before removing the file.
            remove(paths, key);
            continue;
        }
        if age(&n.payload.at).is_some_and(|a| a > MAX_AGE) {
            let to = outbox::move_aside_key(paths, key);
            tracing::warn!(%key, ?to, "webhook notice older than {} days, not sent", MAX_AGE.as_secs() / 86_400);
            report.expired += 1;
            continue;
        }
        // Time for this POST: its own timeout, within what is left of the run's budget.
        let timeout = match deadline {
            None => limits.request,
            Some(d) => d
                .saturating_duration_since(Instant::now())
                .min(limits.request),
        };
        if tries >= max || timeout < MIN_POST_TIME {
            if timeout < MIN_POST_TIME {
                tracing::info!(%target, "webhook delivery out of time, notices kept for the next sync");
            }
            report.left = notices.len() - i;
            break;
        }
        tries += 1;
        let http = match client.take().map_or_else(|| self::client(limits), Ok) {
            Ok(c) => client.insert(c),
            Err(e) => {
                tracing::warn!(%target, "webhook notices not sent: {e}");
                report.left = notices.len() - i;
                break;
            }
        };
        let sent = post(http, url, &n.payload, timeout);
        let status = sent.as_ref().ok().copied().unwrap_or_default();
        match sent.as_ref().map_or(Answer::Retry, |s| classify(*s)) {
            Answer::Delivered => {
                if let Err(e) = outbox::mark_delivered(paths, key) {
                    tracing::warn!(%key, "delivered webhook notice not remembered: {e}");
                }
                remove(paths, key);
                tracing::info!(%key, %target, status, "webhook notice delivered");
                report.delivered += 1;
            }
            Answer::Refused => {
                let to = outbox::move_aside_key(paths, key);
                tracing::warn!(%key, %target, status, ?to, "webhook refused the notice, moved aside");
                report.refused += 1;
            }
            Answer::Retry => {
                let why = match sent {
                    Ok(status) => format!("HTTP {status}"),
                    Err(e) => e.to_string(),
                };
                tracing::warn!(%key, %target, "webhook unavailable, notices kept for the next sync: {why}");
                report.left = notices.len() - i;
                break;
            }
        }
    }
    report
}

fn remove(paths: &Paths, key: &str) {
    if let Err(e) = outbox::remove(paths, key) {
        tracing::warn!(%key, "delivered webhook notice not removed from the outbox: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Setting;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;
    use std::sync::{Arc, Mutex};

    fn skill() -> SkillRef {
        SkillRef::new("deploy", "alice").unwrap()
    }

    fn notice(version: u32) -> Notice {
        Notice::new(
            NoticeKind::Published,
            &skill(),
            version,
            "candidate",
            "The skill said to skip the migration.",
            serde_json::json!({"edits": 2}),
        )
    }

    fn settings(paths: &Paths, url: Option<String>) -> Settings {
        let mut s = Settings::defaults(paths);
        s.webhook_url = Setting::new(url);
        s
    }

    fn notice_files(paths: &Paths) -> Vec<String> {
        std::fs::read_dir(paths.outbox_dir())
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.starts_with("notice-"))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A one-thread HTTP/1.1 endpoint on 127.0.0.1 that answers each request with the next
    /// status of `answers` (then 200) and records the bodies.
    struct Endpoint {
        url: String,
        bodies: Arc<Mutex<Vec<Value>>>,
    }

    impl Endpoint {
        fn start(answers: &[u16]) -> Self {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let url = format!(
                "http://user:pw@{}/services/T000/B000/SECRET",
                listener.local_addr().unwrap()
            );
            let bodies = Arc::new(Mutex::new(Vec::new()));
            let (log, mut answers) = (
                bodies.clone(),
                answers
                    .iter()
                    .copied()
                    .collect::<std::collections::VecDeque<_>>(),
            );
            std::thread::spawn(move || {
                for conn in listener.incoming() {
                    let Ok(mut conn) = conn else { return };
                    let mut reader = BufReader::new(conn.try_clone().unwrap());
                    let mut len = 0;
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                            break;
                        }
                        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                            len = v.trim().parse().unwrap_or(0);
                        }
                    }
                    let mut body = vec![0; len];
                    let _ = reader.read_exact(&mut body);
                    log.lock()
                        .unwrap()
                        .push(serde_json::from_slice(&body).unwrap_or(Value::Null));
                    let status = answers.pop_front().unwrap_or(200);
                    let _ = write!(
                        conn,
                        "HTTP/1.1 {status} X\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"
                    );
                }
            });
            Endpoint { url, bodies }
        }

        fn bodies(&self) -> Vec<Value> {
            self.bodies.lock().unwrap().clone()
        }
    }

    #[test]
    fn answers_are_delivered_refused_or_retried() {
        for s in [200, 201, 204, 299] {
            assert_eq!(classify(s), Answer::Delivered, "{s}");
        }
        for s in [400, 401, 403, 404, 410, 413, 422] {
            assert_eq!(classify(s), Answer::Refused, "{s}");
        }
        for s in [100, 301, 302, 308, 408, 429, 500, 502, 503, 504, 0, 999] {
            assert_eq!(classify(s), Answer::Retry, "{s}");
        }
    }

    #[test]
    fn the_text_reads_well_in_slack_and_carries_no_secret() {
        let n = notice(2);
        assert_eq!(
            n.payload().text,
            "skillopt published deploy--alice v2 (candidate): The skill said to skip the migration."
        );
        assert_eq!(n.key(), "notice-published-deploy--alice-v2");
        let sneaky = Notice::new(
            NoticeKind::ReviewRequested,
            &skill(),
            3,
            "",
            "<!channel> see <https://evil.example|docs> & use key sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789",
            Value::Null,
        );
        let t = &sneaky.payload().text;
        assert!(
            t.starts_with("skillopt asks for a review of deploy--alice v3: "),
            "{t}"
        );
        assert!(
            !t.contains('<') && !t.contains('>') && t.contains("&lt;!channel&gt;"),
            "{t}"
        );
        assert!(t.contains(" &amp; "), "{t}");
        assert!(!t.contains("abcdefghijklmnopqrstuvwxyz0123456789"), "{t}");
        assert_eq!(sneaky.payload().figures, serde_json::json!({}));
        assert_eq!(
            Notice::new(
                NoticeKind::Frozen,
                &skill(),
                1,
                "",
                "",
                serde_json::json!(3)
            )
            .payload()
            .figures,
            serde_json::json!({"value": 3})
        );
        assert_eq!(
            origin("https://hooks.slack.com/services/T0/B0/XYZ?x=1"),
            "https://hooks.slack.com/…"
        );
        assert_eq!(origin("http://u:p@127.0.0.1:9/a"), "http://127.0.0.1:9/…");
    }

    #[test]
    fn without_a_url_nothing_is_queued() {
        let d = tempfile::tempdir().unwrap();
        let paths = Paths::under(d.path());
        notify(&paths, &settings(&paths, None), notice(2));
        assert!(notice_files(&paths).is_empty());
        assert_eq!(
            deliver_pending(&paths, &settings(&paths, None)),
            DeliveryReport::default()
        );
    }

    /// The same event queued twice, before and after its delivery, is one POST.
    #[test]
    fn one_event_is_one_post() {
        let d = tempfile::tempdir().unwrap();
        let paths = Paths::under(d.path());
        let ep = Endpoint::start(&[]);
        let s = settings(&paths, Some(ep.url.clone()));
        notify(&paths, &s, notice(2));
        notify(&paths, &s, notice(2));
        assert_eq!(deliver_pending(&paths, &s), DeliveryReport::default());
        let bodies = ep.bodies();
        assert_eq!(bodies.len(), 1, "{bodies:?}");
        assert_eq!(bodies[0]["event"], "published");
        assert_eq!(bodies[0]["figures"]["edits"], 2);
        assert!(notice_files(&paths).is_empty());
        assert!(outbox::was_delivered(
            &paths,
            "notice-published-deploy--alice-v2"
        ));
        // v3 is another event.
        notify(&paths, &s, notice(3));
        assert_eq!(ep.bodies().len(), 2);
    }

    /// 500 and a closed port keep the notice; a 404 moves it aside; nothing is sent twice.
    #[test]
    fn failures_keep_or_refuse_the_notice() {
        let d = tempfile::tempdir().unwrap();
        let paths = Paths::under(d.path());
        let ep = Endpoint::start(&[500, 503]);
        let s = settings(&paths, Some(ep.url.clone()));
        notify(&paths, &s, notice(2));
        notify(&paths, &s, notice(3));
        // The first 500 stops the run; the second notice was not tried (v2's retry got 503).
        assert_eq!(ep.bodies().len(), 2);
        assert_eq!(notice_files(&paths).len(), 2);
        let r = deliver_pending(&paths, &s);
        assert_eq!((r.delivered, r.left), (2, 0), "{r:?}");
        assert_eq!(ep.bodies().len(), 4);
        assert_eq!(deliver_pending(&paths, &s), DeliveryReport::default());
        assert_eq!(ep.bodies().len(), 4);

        // A closed port: kept.
        let closed = TcpListener::bind("127.0.0.1:0").unwrap();
        let dead = format!("http://{}/hook", closed.local_addr().unwrap());
        drop(closed);
        let s = settings(&paths, Some(dead));
        notify(&paths, &s, notice(4));
        assert_eq!(deliver_pending(&paths, &s).left, 1);
        assert_eq!(notice_files(&paths).len(), 1);

        // Refused for good: moved aside, counted, not retried.
        let gone = Endpoint::start(&[404]);
        let s = settings(&paths, Some(gone.url.clone()));
        let r = deliver_pending(&paths, &s);
        assert_eq!((r.refused, r.left), (1, 0), "{r:?}");
        assert!(notice_files(&paths).is_empty());
        assert_eq!(outbox::refused(&paths).unwrap(), 1);
        assert_eq!(deliver_pending(&paths, &s), DeliveryReport::default());
        assert_eq!(gone.bodies().len(), 1);
    }

    fn frozen(version: u32) -> Notice {
        Notice::new(
            NoticeKind::Frozen,
            &skill(),
            version,
            "",
            "frozen by bob",
            Value::Null,
        )
    }

    /// A person freezing a skill again at the same version is news again; a rollout's event
    /// (or a job run twice) is not.
    #[test]
    fn a_unique_notice_is_sent_each_time() {
        let d = tempfile::tempdir().unwrap();
        let paths = Paths::under(d.path());
        let ep = Endpoint::start(&[]);
        let s = settings(&paths, Some(ep.url.clone()));
        let (a, b) = (frozen(3).unique(), frozen(3).unique());
        assert_ne!(a.key(), b.key());
        assert!(
            a.key().starts_with("notice-frozen-deploy--alice-v3-"),
            "{}",
            a.key()
        );
        notify_briefly(&paths, &s, a);
        notify_briefly(&paths, &s, b);
        assert_eq!(ep.bodies().len(), 2, "{:?}", ep.bodies());
        assert!(ep
            .bodies()
            .iter()
            .all(|b| b["event"] == "frozen" && b["version"] == 3));
        // The idempotent kind stays one POST per (event, skill, version).
        notify(&paths, &s, frozen(3));
        notify(&paths, &s, frozen(3));
        assert_eq!(ep.bodies().len(), 3);
        assert_eq!(frozen(3).key(), "notice-frozen-deploy--alice-v3");
        assert!(notice_files(&paths).is_empty());
    }

    /// An endpoint that accepts the connection and never answers holds a CLI command for the
    /// CLI budget only (measured loosely: well under the worker's 10 s request timeout), and
    /// the notice waits for the next sync.
    #[test]
    fn a_hanging_endpoint_holds_a_cli_command_briefly() {
        let d = tempfile::tempdir().unwrap();
        let paths = Paths::under(d.path());
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let held = std::thread::spawn(move || {
            // Accept, read nothing, answer nothing, until the client gives up.
            let conns: Vec<_> = listener.incoming().take(1).flatten().collect();
            std::thread::sleep(Duration::from_secs(5));
            drop(conns);
        });
        let s = settings(&paths, Some(url));
        let t = Instant::now();
        notify_briefly(&paths, &s, frozen(1).unique());
        let took = t.elapsed();
        assert!(took < Duration::from_secs(8), "{took:?}");
        assert_eq!(notice_files(&paths).len(), 1, "kept for the next sync");
        let _ = held.join();
    }

    #[test]
    fn a_run_is_capped_and_stale_notices_are_dropped() {
        let d = tempfile::tempdir().unwrap();
        let paths = Paths::under(d.path());
        for v in 1..=5 {
            outbox::put(&paths, &notice(v).event()).unwrap();
        }
        let mut old = notice(9).payload;
        old.at = "2020-01-01T00:00:00Z".into();
        outbox::put(&paths, &OutboxEvent::notice(old)).unwrap();
        let ep = Endpoint::start(&[]);
        let r = deliver(&paths, &ep.url, 3, WORKER_LIMITS);
        assert_eq!(
            r,
            DeliveryReport {
                delivered: 3,
                refused: 0,
                expired: 1,
                left: 2
            }
        );
        let versions: Vec<_> = ep.bodies().iter().map(|b| b["version"].clone()).collect();
        assert_eq!(versions, [1, 2, 3], "oldest first");
        assert_eq!(deliver(&paths, &ep.url, 3, WORKER_LIMITS).delivered, 2);
    }
}
