//! The project's own configs, as on disk: they must load, without warnings.

use harness::__compat::Revision;
use harness::prelude::*;

fn configs() -> Result<Vec<Case>> {
    Ok(crate::compat().cases(Revision::WorkingTree))
}

/// There are configs to check: an empty `run-configs/` fails rather than
/// passing having checked nothing.
#[harness::test(stack = false)]
async fn found(ctx: &TestContext) -> Result {
    ctx.log(crate::compat().describe(Revision::WorkingTree)?);
    Ok(())
}

#[harness::test(stack = false, cases_from = configs)]
async fn loads(ctx: &TestContext) -> Result {
    for warning in crate::compat().check(Revision::WorkingTree, ctx.case())? {
        crate::warn(ctx, &warning);
    }
    Ok(())
}
