//! The backward-compatibility check of run-configs: every
//! `run-configs/*/run.yaml` of the working tree, of `main` (the gate) and of
//! the latest release tag `v*` (informational) must load with this code.
//! Committed configs are read from git; nothing is checked out. See
//! `tests/backward_compat/README.md` for the rules and the second layer (the
//! smoke suite against `main`'s `ci-tests` config).
//!
//! Trials are named after the revision and the config, so `-k` and IDEs pick
//! one: `main_branch::loads[case=starter]`.

mod main_branch;
mod release_tag;
mod working_tree;

use std::process::ExitCode;

use harness::__compat::Compat;
use harness::TestContext;

/// The project root: `run-configs/` is here, and git runs here.
const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Revisions are resolved once per process, when the tests are collected.
fn compat() -> &'static Compat {
    harness::__compat::shared(ROOT)
}

/// A warning from a passing trial. libtest shows a passing test's output only
/// with `--show-output`, so it also goes to stderr at once (stdout may be
/// `--format json`), rustc style, which CI turns into an annotation.
fn warn(ctx: &TestContext, warning: &str) {
    ctx.log(format!("warning: {warning}"));
    eprintln!("warning: {warning}\n  = in {}", ctx.id());
}

fn main() -> ExitCode {
    harness::main(ROOT)
}
