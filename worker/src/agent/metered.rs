//! Metering: an [`AgentCli`] around another that keeps this machine's agent calls within bounds
//! and on the record.
//!
//! Before a call: an open circuit breaker ([`health`]) refuses it
//! ([`AgentError::CircuitOpen`]), and so does a spent daily budget — the calls already in
//! today's (UTC) ledger file against `SKILLOPT_DAILY_AGENT_CALLS` ([`AgentError::OverBudget`]).
//! A ledger that cannot be read refuses too ([`AgentError::Ledger`]): an unknown budget is not
//! spent blindly. After a call that ran: one ledger record (role, agent, model, the skill and job
//! it was for, ok or the error, tokens, cost, duration) and the breaker updated (any error
//! counts, a success resets). A refused call is neither recorded nor counted.
//!
//! Two workers checking at the same moment may both make the last call of the day: the budget
//! can be overshot by the number of jobs running at once, never more.

use std::time::Instant;

use chrono::{DateTime, Utc};
use serde::Serialize;
use skillopt_state::agent_ledger::{self, health, CallRecord};
use skillopt_state::Paths;

use super::{AgentCli, AgentError, AgentKind, CallTag, Reply, Role};
use crate::settings::Settings;

/// Meters the calls of `inner`, tagging them with `tag`.
pub(crate) struct Metered<'a> {
    inner: &'a dyn AgentCli,
    paths: &'a Paths,
    settings: &'a Settings,
    tag: CallTag,
}

impl<'a> Metered<'a> {
    /// Meters `inner`'s calls, not tagged with any job (see [`AgentCli::for_job`]).
    pub(crate) fn new(inner: &'a dyn AgentCli, paths: &'a Paths, settings: &'a Settings) -> Self {
        Self {
            inner,
            paths,
            settings,
            tag: CallTag::default(),
        }
    }

    /// Refuses a call the breaker or the budget does not allow now.
    fn admit(&self) -> Result<(), AgentError> {
        let now = Utc::now();
        let h = health::load(self.paths);
        if let Some(until) = h.open_at(now) {
            return Err(AgentError::CircuitOpen {
                until,
                errors: h.consecutive_errors,
            });
        }
        let budget = self.settings.daily_agent_calls.value;
        let used = agent_ledger::calls_on(self.paths, agent_ledger::day_of(now))
            .map_err(AgentError::Ledger)?;
        if used >= budget {
            return Err(AgentError::OverBudget { used, budget });
        }
        Ok(())
    }

    /// Writes the ledger record and updates the breaker for a call that ran.
    fn record(&self, kind: AgentKind, role: Role, result: &Result<Reply, AgentError>, t0: Instant) {
        let now = Utc::now();
        let (model, usage) = match result {
            Ok(r) => (r.model.clone(), r.usage),
            Err(_) => (self.settings.model(kind, role), Default::default()),
        };
        let error = result.as_ref().err().map(ToString::to_string);
        let rec = CallRecord {
            at: now,
            day: agent_ledger::day_of(now),
            role: role.name().into(),
            agent: kind.binary().into(),
            model,
            skill: self.tag.skill.clone(),
            job_id: self.tag.job_id.clone(),
            ok: result.is_ok(),
            error: error.clone(),
            input_tokens: usage.input_tokens,
            output_tokens: usage.output_tokens,
            cost_usd: usage.cost_usd,
            duration_ms: u64::try_from(t0.elapsed().as_millis()).unwrap_or(u64::MAX),
        };
        if let Err(e) = agent_ledger::append(self.paths, &rec) {
            tracing::warn!("agent call not written to the ledger: {e}");
        }
        match health::record(self.paths, now, error.as_deref().map_or(Ok(()), Err)) {
            Ok(h) if h.open_at(now).is_some() && error.is_some() => tracing::warn!(
                errors = h.consecutive_errors,
                "agent calls paused for {:?} after repeated agent errors",
                health::OPEN_FOR
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!("agent health not updated: {e}"),
        }
    }
}

impl AgentCli for Metered<'_> {
    fn ask(
        &self,
        kind: AgentKind,
        role: Role,
        system: &str,
        prompt: &str,
    ) -> Result<Reply, AgentError> {
        self.admit()?;
        let t0 = Instant::now();
        let result = self.inner.ask(kind, role, system, prompt);
        if !result.as_ref().is_err_and(AgentError::refused) {
            self.record(kind, role, &result, t0);
        }
        result
    }

    fn for_job(&self, tag: &CallTag) -> Option<Box<dyn AgentCli + '_>> {
        Some(Box::new(Metered {
            inner: self.inner,
            paths: self.paths,
            settings: self.settings,
            tag: tag.clone(),
        }))
    }
}

/// The metering's state now, as `skillopt status` shows it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Snapshot {
    /// Agent calls made today (UTC); `None` when the ledger cannot be read.
    pub(crate) today: Option<u32>,
    /// `SKILLOPT_DAILY_AGENT_CALLS`.
    pub(crate) budget: u32,
    pub(crate) circuit: Circuit,
}

/// The circuit breaker, as `skillopt status` shows it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Circuit {
    pub(crate) open: bool,
    /// While open: no agent call before this time.
    pub(crate) until: Option<DateTime<Utc>>,
    pub(crate) consecutive_errors: u32,
    pub(crate) last_error: Option<String>,
}

/// The budget and the breaker now.
pub(crate) fn snapshot(paths: &Paths, settings: &Settings) -> Snapshot {
    let now = Utc::now();
    let h = health::load(paths);
    let until = h.open_at(now);
    Snapshot {
        today: agent_ledger::calls_on(paths, agent_ledger::day_of(now)).ok(),
        budget: settings.daily_agent_calls.value,
        circuit: Circuit {
            open: until.is_some(),
            until,
            consecutive_errors: h.consecutive_errors,
            last_error: h.last_error,
        },
    }
}

impl Snapshot {
    /// A line for the human `status` when agent calls are stopped (circuit open, budget spent).
    pub(crate) fn warning(&self) -> Option<String> {
        if let Some(until) = self.circuit.until {
            return Some(format!(
                "agent calls paused until {} after {} agent errors in a row{}",
                until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                self.circuit.consecutive_errors,
                self.circuit
                    .last_error
                    .as_deref()
                    .map(|e| format!(" (last: {})", skillopt_shared::text::preview(e, 120)))
                    .unwrap_or_default()
            ));
        }
        match self.today {
            Some(n) if n >= self.budget => Some(format!(
                "{n} of {} agent calls made today: none until 00:00 UTC (SKILLOPT_DAILY_AGENT_CALLS)",
                self.budget
            )),
            None => Some("the agent call ledger cannot be read: no agent calls".into()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;
    use crate::agent::Usage;

    /// Answers or fails as told, counting the calls it got.
    struct Fake {
        fail: Cell<bool>,
        asked: Cell<u32>,
    }

    impl AgentCli for Fake {
        fn ask(&self, kind: AgentKind, _: Role, _: &str, _: &str) -> Result<Reply, AgentError> {
            self.asked.set(self.asked.get() + 1);
            if self.fail.get() {
                return Err(AgentError::Empty(kind.binary()));
            }
            Ok(Reply {
                text: "ok".into(),
                model: Some("haiku".into()),
                usage: Usage {
                    input_tokens: Some(100),
                    output_tokens: Some(20),
                    cost_usd: Some(0.01),
                },
            })
        }
    }

    fn setup(budget: u32) -> (tempfile::TempDir, Paths, Settings, Fake) {
        let d = tempfile::tempdir().unwrap();
        let paths = Paths::under(d.path());
        let mut settings = Settings::defaults(&paths);
        settings.daily_agent_calls.value = budget;
        let fake = Fake {
            fail: Cell::new(false),
            asked: Cell::new(0),
        };
        (d, paths, settings, fake)
    }

    fn tag() -> CallTag {
        CallTag {
            skill: Some("deploy--alice".into()),
            job_id: Some("01JOB".into()),
        }
    }

    #[test]
    fn the_budget_refuses_the_call_after_the_last_one() {
        let (_d, paths, settings, fake) = setup(2);
        let m = Metered::new(&fake, &paths, &settings);
        let job = m.for_job(&tag()).unwrap();
        for _ in 0..2 {
            job.ask(AgentKind::Claude, Role::Judge, "s", "p").unwrap();
        }
        let err = job
            .ask(AgentKind::Claude, Role::Proposer, "s", "p")
            .unwrap_err();
        assert!(
            matches!(err, AgentError::OverBudget { used: 2, budget: 2 }),
            "{err}"
        );
        assert_eq!(fake.asked.get(), 2, "the refused call never ran");
        let recs = agent_ledger::records_since(&paths, agent_ledger::day_of(Utc::now()));
        assert_eq!(recs.len(), 2, "refusals are not recorded");
        let r = &recs[0];
        assert_eq!(
            (r.skill.as_deref(), r.job_id.as_deref(), r.role.as_str()),
            (Some("deploy--alice"), Some("01JOB"), "judge")
        );
        assert_eq!(
            (r.input_tokens, r.output_tokens, r.cost_usd, r.ok),
            (Some(100), Some(20), Some(0.01), true)
        );
    }

    #[test]
    fn five_errors_open_the_circuit_and_a_success_resets_the_count() {
        let (_d, paths, settings, fake) = setup(100);
        let m = Metered::new(&fake, &paths, &settings);
        fake.fail.set(true);
        for _ in 0..4 {
            assert!(!m
                .ask(AgentKind::Codex, Role::Judge, "s", "p")
                .unwrap_err()
                .refused());
        }
        fake.fail.set(false);
        m.ask(AgentKind::Codex, Role::Judge, "s", "p").unwrap();
        assert_eq!(health::load(&paths).consecutive_errors, 0);
        fake.fail.set(true);
        for _ in 0..5 {
            let _ = m.ask(AgentKind::Codex, Role::Judge, "s", "p");
        }
        assert_eq!(fake.asked.get(), 10);
        let err = m.ask(AgentKind::Codex, Role::Judge, "s", "p").unwrap_err();
        assert!(
            matches!(err, AgentError::CircuitOpen { errors: 5, .. }),
            "{err}"
        );
        assert_eq!(fake.asked.get(), 10, "no call while the circuit is open");
        let recs = agent_ledger::records_since(&paths, agent_ledger::day_of(Utc::now()));
        assert_eq!(recs.iter().filter(|r| !r.ok).count(), 9);
        assert!(recs.iter().all(|r| r.skill.is_none() && r.agent == "codex"));
    }

    #[test]
    fn a_budget_of_zero_makes_no_call() {
        let (_d, paths, settings, fake) = setup(0);
        let m = Metered::new(&fake, &paths, &settings);
        assert!(m
            .ask(AgentKind::Claude, Role::Judge, "s", "p")
            .unwrap_err()
            .refused());
        assert_eq!(fake.asked.get(), 0);
    }
}
