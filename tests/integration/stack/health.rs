//! The stack is up and is the version the harness pinned.

use harness::prelude::*;

#[harness::test(marks(smoke))]
async fn reports_healthy(ctx: &TestContext) -> Result {
    let health = ctx.get_ok("/v1/health").await?;
    ensure!(health["status"] == "OK", "unexpected health: {health}");
    Ok(())
}

#[harness::test(marks(smoke))]
async fn reports_the_pinned_version(ctx: &TestContext) -> Result {
    let version = ctx.get_ok("/v1/version").await?;
    let version = version["version"].as_str().context("no `version` string")?;
    let pinned = include_str!("../../../requirements/stack.txt")
        .lines()
        .find_map(|l| l.strip_prefix("llama-stack=="))
        .and_then(|rest| rest.split_whitespace().next())
        .context("requirements/stack.txt pins no llama-stack")?;
    ensure!(
        version == pinned,
        "stack reports {version}, requirements pin {pinned}"
    );
    Ok(())
}

#[harness::test]
async fn unknown_routes_are_404(ctx: &TestContext) -> Result {
    let response = ctx.get("/v1/no-such-route").await?;
    ensure!(
        response.status == 404,
        "expected 404, got {}: {}",
        response.status,
        response.text
    );
    Ok(())
}
