//! The agent CLI runner: asks the user's own agent CLI (run without tools) a question.
//!
//! Only whitelisted binaries (claude, codex, cursor-agent, hermes, pi) are run, found by walking
//! PATH; argv is built without a shell ([`argv`]); the prompt goes on stdin where the CLI reads
//! it there. The child runs in a fresh empty directory ([`workdir`]) with `SKILLOPT_WORKER=1`, in
//! its own process group, killed with its whole group at the timeout ([`run`]). Its stdout is
//! untrusted: the reply text and the call's token usage and cost are read from it within size
//! caps ([`reply`]). A non-zero exit or an empty reply is an error.
//!
//! Every call a job makes goes through [`metered::Metered`]: the daily budget and the circuit
//! breaker are checked before the call, and the call is written to the machine's ledger after.

mod argv;
pub(crate) mod metered;
mod reply;
mod run;
mod workdir;

use std::time::Duration;

pub use argv::{build, Auth, Invocation};
pub use reply::BadReply;
pub use run::{find_on_path, run};

use crate::settings::Settings;

/// Agent CLIs skillopt may run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentKind {
    Claude,
    Codex,
    CursorAgent,
    Hermes,
    Pi,
}

/// What the agent is asked to do (selects the model).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Judge,
    Proposer,
    /// Checks a gated proposal against the failure and recent successes before publish.
    Verifier,
}

impl Role {
    pub(crate) const ALL: [Role; 3] = [Role::Judge, Role::Proposer, Role::Verifier];

    /// The role in `SKILLOPT_<AGENT>_<ROLE>_MODEL`.
    pub(crate) fn env_name(self) -> &'static str {
        match self {
            Role::Judge => "JUDGE",
            Role::Proposer => "PROPOSER",
            Role::Verifier => "VERIFIER",
        }
    }

    /// Lower-case name (`judge`, `proposer`).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Role::Judge => "judge",
            Role::Proposer => "proposer",
            Role::Verifier => "verifier",
        }
    }
}

/// What one call used, as far as the CLI reports it (`None`: not reported).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Usage {
    /// Prompt tokens, cached ones included.
    pub input_tokens: Option<u64>,
    pub output_tokens: Option<u64>,
    /// What the CLI says the call cost (Claude Code reports it; Codex does not).
    pub cost_usd: Option<f64>,
}

/// An agent's answer, the model it was asked for (`None`: the CLI's default) and what the call
/// used.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Reply {
    pub(crate) text: String,
    pub(crate) model: Option<String>,
    pub(crate) usage: Usage,
}

/// Whose calls these are: the skill and job they are made for (recorded in the ledger).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct CallTag {
    /// The skill's directory name (`name--author`).
    pub(crate) skill: Option<String>,
    pub(crate) job_id: Option<String>,
}

/// Asking an agent CLI a question: [`CliRunner`] runs the real one, [`metered::Metered`] meters
/// another; unit tests script one.
pub(crate) trait AgentCli {
    /// Asks `kind`, in `role`, with a system prompt and a prompt.
    fn ask(
        &self,
        kind: AgentKind,
        role: Role,
        system: &str,
        prompt: &str,
    ) -> Result<Reply, AgentError>;

    /// The same agent with its calls attributed to `tag`; `None` when this agent does not
    /// record calls (use it as it is).
    fn for_job(&self, _tag: &CallTag) -> Option<Box<dyn AgentCli + '_>> {
        None
    }
}

/// The real runner: the whitelisted binary on PATH, the model and timeout from the settings.
pub(crate) struct CliRunner<'a> {
    pub(crate) settings: &'a Settings,
}

impl AgentCli for CliRunner<'_> {
    fn ask(
        &self,
        kind: AgentKind,
        role: Role,
        system: &str,
        prompt: &str,
    ) -> Result<Reply, AgentError> {
        let name = kind.binary();
        // Removed (with anything the CLI left in it) when the call returns.
        let workdir = workdir::isolated_workdir(name)?;
        let model = self.settings.model(kind, role);
        let inv = build(
            kind,
            model,
            system,
            prompt,
            workdir.path(),
            Auth::from_env(),
        );
        let parsed = run(&inv, self.settings.agent_timeout.value)?;
        Ok(Reply {
            text: parsed.text,
            model: inv.model,
            usage: parsed.usage,
        })
    }
}

/// Runner failures, and calls the metering refused.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("agent CLI {0} not found on PATH")]
    NotFound(&'static str),
    #[error("{0} timed out after {1:?} (killed with its process group)")]
    Timeout(&'static str, Duration),
    #[error("{name} exited with {code}: {stderr}")]
    Exit {
        name: &'static str,
        code: String,
        stderr: String,
    },
    #[error("{0} replied with nothing")]
    Empty(&'static str),
    #[error("{0} reply unusable: {1}")]
    BadReply(&'static str, #[source] BadReply),
    #[error("running {0}: {1}")]
    Spawn(&'static str, std::io::Error),
    #[error("cannot make an empty working directory for {0}: {1}")]
    Workdir(&'static str, std::io::Error),
    /// Not called: this machine made its agent calls for the (UTC) day.
    #[error(
        "no agent call: {used} of {budget} agent calls made today (SKILLOPT_DAILY_AGENT_CALLS)"
    )]
    OverBudget { used: u32, budget: u32 },
    /// Not called: the circuit breaker is open after repeated agent errors.
    #[error("no agent call: paused until {until} after {errors} agent errors in a row")]
    CircuitOpen {
        until: chrono::DateTime<chrono::Utc>,
        errors: u32,
    },
    /// Not called: the ledger cannot be read, so the budget is unknown.
    #[error("no agent call: cannot read the agent call ledger: {0}")]
    Ledger(#[source] skillopt_state::StateError),
}

impl AgentError {
    /// True when no agent was run: the metering refused the call.
    pub(crate) fn refused(&self) -> bool {
        matches!(
            self,
            AgentError::OverBudget { .. } | AgentError::CircuitOpen { .. } | AgentError::Ledger(_)
        )
    }
}

impl AgentKind {
    pub(crate) const ALL: [AgentKind; 5] = [
        AgentKind::Claude,
        AgentKind::Codex,
        AgentKind::CursorAgent,
        AgentKind::Hermes,
        AgentKind::Pi,
    ];

    /// The binary name.
    pub fn binary(self) -> &'static str {
        match self {
            AgentKind::Claude => "claude",
            AgentKind::Codex => "codex",
            AgentKind::CursorAgent => "cursor-agent",
            AgentKind::Hermes => "hermes",
            AgentKind::Pi => "pi",
        }
    }

    /// The agent in `SKILLOPT_<AGENT>_MODEL`.
    pub(crate) fn env_name(self) -> &'static str {
        match self {
            AgentKind::Claude => "CLAUDE",
            AgentKind::Codex => "CODEX",
            AgentKind::CursorAgent => "CURSOR",
            AgentKind::Hermes => "HERMES",
            AgentKind::Pi => "PI",
        }
    }

    /// Parses a binary or agent name.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "claude" | "claude-code" | "claude_code" => Some(AgentKind::Claude),
            "codex" => Some(AgentKind::Codex),
            "cursor-agent" | "cursor" => Some(AgentKind::CursorAgent),
            "hermes" => Some(AgentKind::Hermes),
            "pi" => Some(AgentKind::Pi),
            _ => None,
        }
    }

    /// The model asked for when no variable names one (`None`: the CLI's own default).
    pub(crate) fn default_model(self, role: Role) -> Option<&'static str> {
        match (self, role) {
            (AgentKind::Claude, Role::Judge) => Some("haiku"),
            (AgentKind::Claude, Role::Proposer | Role::Verifier) => Some("sonnet"),
            _ => None,
        }
    }
}
