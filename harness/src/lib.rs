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
//!     -> select (-k, suites) -> runner (plan, tokio, deadlines)
//!     -> report (pretty, terse, json, junit) -> ExitCode
//! ```
//!
//! The stack (`stack`) and the record/replay proxy (`record`) are a session
//! fixture (`session`) started before the first test that needs it and shared,
//! across processes, by every test through the per-test [`TestContext`].
//!
//! Test execution is our own rather than libtest-mimic's: IDEs need libtest's
//! JSON with `started` events at the real start and `exec_time`, failure text
//! beginning with a `thread '..' panicked at` line, ignore reasons, per-test
//! deadlines, several positional filters and a hard error for an `--exact`
//! name that matches nothing; libtest-mimic 0.8 has none of these.

mod api;
mod atomic;
mod breaking;
mod cli;
mod client;
mod issuer;
mod local_model;
mod process;
mod python;
mod record;
mod registry;
mod report;
mod runner;
mod select;
mod session;
mod stack;
#[cfg(test)]
mod testing;
mod tool;

use std::process::ExitCode;

pub use client::{
    ApiResponse, BytesResponse, Client, IssuerStats, KeyRotation, Skip, StreamEvent, TestContext,
    TokenIssuer, UnexpectedStatus, User, skip,
};
pub use issuer::TokenCase;
pub use registry::Case;
pub use reqwest;
pub use stack::identity::Stack;
pub use stack::launcher::LauncherKind;
pub use stack_harness_macros::test;

/// What a test returns: any error fails it, with its context chain.
pub type Result<T = ()> = anyhow::Result<T>;

/// Everything a test file needs: `use harness::prelude::*;`.
pub mod prelude {
    pub use crate::{
        ApiResponse, BytesResponse, Case, LauncherKind, Result, StreamEvent, TestContext,
        TokenCase, UnexpectedStatus, User, skip, test,
    };
    pub use anyhow::{Context as _, anyhow, bail, ensure};
    pub use serde_json::{Value, json};
}

/// Plumbing the `#[harness::test]` expansion refers to; not a stable API.
#[doc(hidden)]
pub mod __private {
    pub use crate::registry::{
        Capability, CaseSource, Only, Param, TESTS, TestDef, TestFn, Xfail, capabilities, params,
    };
    pub use crate::stack::identity::{Bound, Op, StackReq, Stacks, launchers};
    pub use linkme;
}

/// Benchmark hooks (`harness/benches/`); not a stable API.
#[doc(hidden)]
pub mod __bench {
    pub use crate::runner::bench_api::*;
    pub use crate::select::bench_api::*;
    /// The record/replay proxy's (`benches/proxy.rs`).
    pub mod record {
        pub use crate::record::bench_api::*;
    }
}

#[doc(hidden)]
pub use tool::tool_main;

/// The run-config compatibility check (`tests/backward_compat`); not a
/// stable API.
#[doc(hidden)]
pub use stack::run_yaml::compat as __compat;

/// The API conformance gate (`tests/api_conformance`); not a stable API.
#[doc(hidden)]
pub mod __api {
    pub use crate::api::{
        Against, ApiSpec, BASELINE, Conformance, ConformanceError, Finding, Severity, Side,
        SpecError, Verdict, diff, shared,
    };
}

/// The test binary's `main`: `harness::main(env!("CARGO_MANIFEST_DIR"))`.
/// `project_root` is where `run-configs/`, `recordings/`, `tests/` and
/// `stack-harness.toml` are.
///
/// Exit codes: 0 all passed, 101 a test failed (as libtest), 2 bad input
/// (flags, `-k`, configuration), 130 interrupted.
pub fn main(project_root: &str) -> ExitCode {
    main_with(project_root, &[])
}

/// [`main`] for a test binary with defaults of its own, over those of
/// `stack-harness.toml` (a flag or an environment variable still wins);
/// keys are the defaults file's: `harness::main_with(env!("CARGO_MANIFEST_DIR"),
/// &[("stack-config", "external")])` runs a binary's tests on its own config.
pub fn main_with(project_root: &str, defaults: &[(&str, &str)]) -> ExitCode {
    if let Some(spec) = std::env::var_os(session::SUPERVISOR_ENV) {
        return session::supervise(spec);
    }
    let args = match cli::RawArgs::parse_from(std::env::args_os()) {
        Ok(args) => args,
        Err(e) => {
            // clap formats help, version and usage errors itself.
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(runner::EXIT_USAGE)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let root = std::path::PathBuf::from(project_root);
    let config = cli::Defaults::load(&root).and_then(|mut file| {
        file.overlay(defaults)?;
        cli::Config::resolve(args, &|k| std::env::var(k).ok(), &file, &root)
    });
    let config = match config {
        Ok(c) => c,
        Err(e) => return fail(&e),
    };
    match runner::run(config) {
        Ok(code) => code,
        Err(e) => fail(&e),
    }
}

fn fail(error: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("error: {error}");
    ExitCode::from(runner::EXIT_USAGE)
}
