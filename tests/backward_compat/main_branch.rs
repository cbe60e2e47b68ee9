//! The gate: every config committed on `main` (or `origin/main`) still loads
//! with this code, unless the break is acknowledged (`BREAKING CHANGE:` in a
//! commit of `main..HEAD`, or a `type(scope)!:` title in `PR_TITLE`); an
//! acknowledged break passes with a warning naming the config.

use harness::__compat::Revision;
use harness::prelude::*;

fn configs() -> Result<Vec<Case>> {
    Ok(crate::compat().cases(Revision::Main))
}

/// `main` can be read. In a clone without it (a shallow CI checkout) this
/// fails, saying how to fetch it: a gate that cannot run must not pass.
#[harness::test(stack = false)]
async fn found(ctx: &TestContext) -> Result {
    ctx.log(crate::compat().describe(Revision::Main)?);
    Ok(())
}

#[harness::test(stack = false, cases_from = configs)]
async fn loads(ctx: &TestContext) -> Result {
    for warning in crate::compat().check(Revision::Main, ctx.case())? {
        crate::warn(ctx, &warning);
    }
    Ok(())
}
