//! The latest release tag `v*`: its configs are checked for information
//! only; a break is a warning, never a failure.

use harness::__compat::Revision;
use harness::prelude::*;

fn configs() -> Result<Vec<Case>> {
    Ok(crate::compat().cases(Revision::Release))
}

/// One case when there is no release tag, none otherwise: the trial then
/// shows as ignored, with why, instead of the check passing unseen.
fn when_missing() -> Result<Vec<Case>> {
    Ok(match crate::compat().release_tag() {
        Some(_) => Vec::new(),
        None => vec![Case::new("no-tag", Value::Null)],
    })
}

#[harness::test(
    stack = false,
    cases_from = when_missing,
    ignore = "no release tag `v*` in this clone (none yet, or a shallow clone: `git fetch --tags`), so the latest release's run-configs were not checked"
)]
async fn unavailable(ctx: &TestContext) -> Result {
    ctx.log("no release tag `v*`: nothing to check");
    Ok(())
}

#[harness::test(stack = false, cases_from = configs)]
async fn loads(ctx: &TestContext) -> Result {
    for warning in crate::compat().check(Revision::Release, ctx.case())? {
        crate::warn(ctx, &warning);
    }
    Ok(())
}
