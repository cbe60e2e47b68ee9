//! The stack is up and is the version the harness pinned.

use harness::prelude::*;

#[harness::test(marks(smoke))]
async fn reports_healthy(ctx: &TestContext) -> Result {
    let health = ctx.get_ok("/v1/health").await?;
    ensure!(health["status"] == "OK", "unexpected health: {health}");
    Ok(())
}

/// The version `name==` pins in a requirements file.
fn pin<'a>(requirements: &'a str, name: &str) -> Option<&'a str> {
    let prefix = format!("{name}==");
    requirements
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|rest| rest.split_whitespace().next())
}

#[harness::test(marks(smoke))]
async fn reports_the_pinned_version(ctx: &TestContext) -> Result {
    let version = ctx.get_ok("/v1/version").await?;
    let version = version["version"].as_str().context("no `version` string")?;
    // Llama Stack by default; OGX under `--launcher ogx`.
    let pins = [
        pin(include_str!("../../../requirements/stack.txt"), "llama-stack").context("stack.txt pins no llama-stack")?,
        pin(include_str!("../../../requirements/ogx.txt"), "ogx").context("ogx.txt pins no ogx")?,
    ];
    ensure!(pins.contains(&version), "the stack reports {version}; the requirements pin {pins:?}");
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
