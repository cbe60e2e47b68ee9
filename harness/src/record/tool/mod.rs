//! The `recordings` command of the `stack-harness` binary: `list`, `show`,
//! `verify` (with `secrets`, the check that redaction worked) and `prune`.
//! It reads and edits the store; it never talks to a proxy.

mod commands;
mod output;
mod prune;
mod secrets;
mod verify;

#[cfg(test)]
pub(super) use commands::Command;
pub(crate) use commands::{RecordingsArgs, run};
