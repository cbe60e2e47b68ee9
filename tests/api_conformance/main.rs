//! API conformance: the OpenAPI spec the session's stack serves
//! (`GET /openapi.json`, the pinned stack with the session's run.yaml) holds
//! to the committed baseline `api/openapi-v1.json`: in the working tree
//! (any breaking difference means the baseline is out of date) and as
//! committed on `main` (a breaking difference fails unless acknowledged
//! with `BREAKING CHANGE:` or `type!:`, as in `tests/backward_compat`).
//! Additions are listed in the test's output (`--show-output`).
//!
//! ```sh
//! cargo test --test api_conformance                       # the session's stack, replay mode
//! cargo run -p stack-harness -- api baseline              # write the baseline anew
//! ```

use std::process::ExitCode;

use harness::__api::{Against, Conformance, ConformanceError};
use harness::prelude::*;

/// The project root: `api/` is here, and git runs here.
const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn conformance() -> &'static Conformance {
    harness::__api::shared(ROOT)
}

/// Checks the served spec against one baseline; shows what is not breaking.
async fn holds_to(ctx: &TestContext, against: Against) -> Result {
    let served = ctx.get_ok("/openapi.json").await?.to_string();
    let verdict = match conformance().check(against, &served) {
        Ok(verdict) => verdict,
        // `main` before the baseline landed: nothing to hold the branch to
        // yet, which must show rather than pass. (A clone without `main`
        // fails, saying how to fetch it: a gate that cannot run must not pass.)
        Err(e @ ConformanceError::NoBaselineOnMain { .. }) => return harness::skip(e.to_string()),
        Err(e) => return Err(e.into()),
    };
    ctx.log(&verdict.summary);
    for warning in &verdict.warnings {
        ctx.log(format!("warning: {warning}"));
        eprintln!("warning: {warning}\n  = in {}", ctx.id());
    }
    for line in &verdict.info {
        ctx.log(format!("info: {line}"));
    }
    Ok(())
}

/// The baseline in the working tree: the served API has every operation,
/// parameter and field it promises.
#[harness::test(marks(api))]
async fn working_tree(ctx: &TestContext) -> Result {
    holds_to(ctx, Against::WorkingTree).await
}

/// The gate: the baseline committed on `main`; a break must be acknowledged.
#[harness::test(marks(api))]
async fn main_branch(ctx: &TestContext) -> Result {
    holds_to(ctx, Against::Main).await
}

fn main() -> ExitCode {
    harness::main(ROOT)
}
