//! Every black-box test in one binary (as ripgrep does): cargo links one test executable
//! instead of one per file, and the tests of all modules share the process (one build of the
//! workspace binaries, one install of the real clients, one PostgreSQL sweep).
//!
//! The workspace binaries are built on first use by the harness (`skillopt_tests::bin`), so
//! `cargo test -p skillopt-tests` works without a prior `cargo build --workspace`.
//! Test names keep their file's name as the module: `judge_flow::codex_flow_uses_codex_without_tools`.

mod agent_budget;
mod codex_trust;
mod dashboard;
mod demo;
mod evidence_edges;
mod evidence_loop;
mod gate_corpus;
mod hostile_evidence;
mod hostile_registry;
mod hostile_state;
mod improve_flow;
mod inspect;
mod install_hooks;
mod judge_flow;
mod npm_install;
mod plugin;
mod publish_race;
mod real_clients;
mod registry_cli;
mod release;
mod review_cli;
mod serve;
mod session_start;
mod skill_names;
mod sync_outbox;
mod terminal_output;
mod webhooks;
