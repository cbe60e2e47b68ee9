//! What one `#[harness::test]` registers.
//!
//! Registration is distributed with `linkme`, not `inventory`, `ctor` or a
//! build-script list: the linker gathers every [`TestDef`] into one static
//! slice, so there is no code before `main` and no global `Mutex<Vec>` to
//! fill (test-r's approach), and collection costs nothing at start-up. That
//! matters because cargo-nextest starts the binary once per test. The one
//! known linkme hazard (entries dropped from otherwise-unused modules with
//! several codegen units) cannot happen here: every test module is reachable
//! from the target's `main.rs` through the generated module tree, and the
//! registry tests check that every test file is collected.
//!
//! Prior art: `test-r` registers with `ctor` into a global `Mutex<Vec>` and
//! captures output by re-running itself as worker processes. We keep its
//! good ideas (an attribute macro, tags, per-test timeouts, libtest-shaped
//! output) and differ where our domain needs it: a trial's name carries its
//! model parameters and data-driven case (so `-k`, `--exact` and IDE lenses
//! see them), parameters resolve from variables and a defaults file that
//! cargo-nextest's list phase also reads, and the expensive fixture (a real
//! stack) is shared across processes by a supervisor rather than per worker.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use super::cases::Case;
use super::param::Param;
use super::vector_io::Capability;
use crate::client::TestContext;
use crate::stack::identity::Stacks;

/// The type-erased body of a test: the macro wraps the user's `async fn`.
pub type TestFn =
    fn(Arc<TestContext>) -> Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send + 'static>>;

/// Computes a test's cases at collection time (`cases_from = f`).
pub type CaseSource = fn() -> anyhow::Result<Vec<Case>>;

/// A failure a test is known to have (`xfail(reason = .., status = ..,
/// contains = ..)`). It is expected only when the test's own failure matches
/// every part given: the runner reports anything else as the real failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Xfail {
    /// Why: a known bug of the stack or the upstream, for the report.
    pub reason: &'static str,
    /// The test failed on an HTTP answer with this status where it expected
    /// another (a `harness::UnexpectedStatus` in its error chain).
    pub status: Option<u16>,
    /// A substring of the failure's text: the error and its causes.
    pub contains: Option<&'static str>,
    /// The stacks with the bug (`stacks = "llama-stack<0.8"`); on others the
    /// test runs unmarked. `None`: every stack (an upstream's limit, say).
    pub stacks: Option<Stacks>,
}

/// `only(stacks = "..", reason = "..")`: the test applies to these stacks
/// alone and is reported ignored, with the reason, on others.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Only {
    pub stacks: Stacks,
    /// Why the others are left out: what they do differently.
    pub reason: &'static str,
}

/// One registered test function, as the attribute macro writes it.
#[derive(Debug)]
pub struct TestDef {
    /// `module_path!()` of the function, crate name included.
    pub module: &'static str,
    /// The function's identifier.
    pub function: &'static str,
    pub file: &'static str,
    pub line: u32,
    pub needs: &'static [Param],
    pub marks: &'static [&'static str],
    /// A YAML file under `tests/integration/test_cases/` whose cases the
    /// test runs once each.
    pub cases: Option<&'static str>,
    /// A function computing the cases when the tests are collected.
    pub cases_from: Option<CaseSource>,
    /// Expected to fail in this way; passing is then a failure. Several
    /// only when each names its stacks: the first for the session's stack
    /// applies.
    pub xfails: &'static [Xfail],
    /// Runs only on these stacks.
    pub only: Option<Only>,
    /// Never run unless asked (`--ignored`), for this reason.
    pub ignore: Option<&'static str>,
    /// What it needs from its vector-io provider (`needs(keyword_search)`):
    /// a trial whose provider lacks one is ignored, naming it.
    pub capabilities: &'static [Capability],
    /// Overrides `--test-timeout` for this test.
    pub timeout_secs: Option<u64>,
    /// Whether the test talks to the stack (`stack = false` says it does
    /// not, so a run of only such tests starts no server).
    pub needs_stack: bool,
    pub run: TestFn,
}

impl TestDef {
    /// The function's module path without the crate name, as IDEs and
    /// `--exact` spell it: `inference::chat::streaming`.
    pub fn path(&self) -> String {
        let module = self.module.split_once("::").map_or("", |(_, rest)| rest);
        if module.is_empty() {
            self.function.to_owned()
        } else {
            format!("{module}::{}", self.function)
        }
    }
}

/// Every test of the binary, gathered by the linker.
#[linkme::distributed_slice]
pub static TESTS: [TestDef];
