//! stack-harness: a libtest-compatible harness for integration-testing a
//! Llama Stack server, with record/replay of the traffic to its model
//! providers.
//!
//! A test target with `harness = false` calls [`main`]; tests are `async fn`s
//! marked [`test`] anywhere under `tests/integration/<area>/`. A run flows one
//! way, one module per stage:
//!
//! ```text
//! cli (flags, env, defaults file) -> registry (catalog of trials)
//!     -> select (-k, suites, name filters) -> runner (tokio, deadlines)
//!     -> report (pretty, terse, json, junit) -> ExitCode
//! ```
//!
//! The stack (`stack`) and the record/replay proxy (`record`) are a session
//! fixture started lazily by the first test that talks to the stack, through
//! the per-test [`TestContext`] (`client`).

mod cli;
mod client;
mod local_model;
mod process;
mod python;
mod record;
mod registry;
mod report;
mod runner;
mod select;
mod stack;

pub use client::TestContext;
pub use stack_harness_macros::test;

/// What a test returns: any error fails it, with its context chain.
pub type Result<T = ()> = anyhow::Result<T>;

/// Everything a test file needs: `use harness::prelude::*;`.
pub mod prelude {
    pub use crate::{Result, TestContext, test};
    pub use anyhow::{Context as _, bail, ensure};
    pub use serde_json::{Value, json};
}

/// Plumbing the `#[harness::test]` expansion refers to; not a stable API.
#[doc(hidden)]
pub mod __private {
    pub use crate::registry::{Param, TESTS, TestDef, TestFn};
    pub use linkme;
}
