//! Upstream's CI checks of authentication and the route policy
//! (scripts/integration-auth-tests.sh), against `run-with-auth.yaml`: open
//! probes, 401 without a token, 403 for a route the policy closes.

use harness::prelude::*;

#[harness::test(marks(auth))]
async fn version_needs_no_token(ctx: &TestContext) -> Result {
    let version = ctx.anonymous().get_ok("/v1/version").await?;
    ensure!(version["version"].is_string(), "no version in {version}");
    Ok(())
}

#[harness::test(marks(auth))]
async fn providers_without_a_token_are_401_naming_the_issuer(ctx: &TestContext) -> Result {
    let issuer = ctx.issuer().await?.stats().await?;
    ensure!(!issuer.signing_kid.is_empty(), "the issuer has no signing key");
    let response = ctx.anonymous().get("/v1/providers").await?;
    // llama-stack 0.7.3 names the issuer it expects tokens from.
    response.expect_error(
        401,
        &["Authentication required. Please provide a valid OAuth2 Bearer token from http://127.0.0.1:"],
    )
}

#[harness::test(marks(auth))]
async fn providers_with_a_token_are_listed(ctx: &TestContext) -> Result {
    let providers = ctx.as_user("carol").get_ok("/v1/providers").await?;
    let data = providers["data"]
        .as_array()
        .with_context(|| format!("no `data` list in {providers}"))?;
    ensure!(
        data.iter().any(|p| p["api"] == "inference" && p["provider_id"] == "vllm"),
        "no vllm inference provider in {providers}"
    );
    Ok(())
}

#[harness::test(marks(auth))]
async fn restricted_users_are_403_on_routes_the_policy_closes(ctx: &TestContext) -> Result {
    let carol = ctx.as_user(User::named("carol").roles(["restricted"]));
    carol
        .get("/v1/models")
        .await?
        .expect_message(403, "Access denied: insufficient permissions for route /v1/models")?;
    carol
        .get("/v1/conversations/conv_0")
        .await?
        .expect_message(403, "Access denied: insufficient permissions for route /v1/conversations/conv_0")?;
    // Files and providers stay open to them, as the policy says.
    carol.get_ok("/v1/files").await?;
    carol.get_ok("/v1/providers").await?;
    // Anyone else reaches the models.
    ctx.as_user("dave").get_ok("/v1/models").await?;
    Ok(())
}

#[harness::test(marks(auth))]
async fn health_is_open_and_a_token_changes_nothing_there(ctx: &TestContext) -> Result {
    let health = ctx.anonymous().get_ok("/v1/health").await?;
    ensure!(health["status"] == "OK", "health {health}");
    // A public route skips authentication: even a forged token is not looked at.
    let health = ctx.with_token(TokenCase::ForeignKey).get_ok("/v1/health").await?;
    ensure!(health["status"] == "OK", "health {health}");
    Ok(())
}
