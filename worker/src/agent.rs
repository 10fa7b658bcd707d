//! The agent CLI runner (claude, codex, cursor-agent, hermes, pi).
