//! What the stack says about itself: its providers and routes, as configured
//! by the run-config under test.

use harness::prelude::*;

#[harness::test]
async fn lists_the_configured_inference_provider(ctx: &TestContext) -> Result {
    let providers = ctx.get_ok("/v1/providers").await?;
    let data = providers["data"].as_array().context("no `data` list")?;
    let inference: Vec<&Value> = data.iter().filter(|p| p["api"] == "inference").collect();
    ensure!(
        !inference.is_empty(),
        "no inference provider in {providers}"
    );
    for p in &inference {
        ensure!(
            p["provider_id"].is_string() && p["provider_type"].is_string(),
            "malformed provider {p}"
        );
    }
    ensure!(
        inference
            .iter()
            .any(|p| p["provider_type"] == "remote::vllm"),
        "the run-configs use remote::vllm for inference; got {inference:?}"
    );
    Ok(())
}

#[harness::test]
async fn secrets_in_provider_config_are_masked(ctx: &TestContext) -> Result {
    let providers = ctx.get_ok("/v1/providers").await?;
    for p in providers["data"].as_array().context("no `data` list")? {
        if let Some(token) = p["config"].get("api_token").and_then(Value::as_str) {
            ensure!(
                token.chars().all(|c| c == '*'),
                "provider {} shows its api_token",
                p["provider_id"]
            );
        }
    }
    Ok(())
}

#[harness::test]
async fn routes_cover_the_openai_surface(ctx: &TestContext) -> Result {
    let routes = ctx.get_ok("/v1/inspect/routes").await?;
    let routes = routes["data"].as_array().context("no `data` list")?;
    let has = |method: &str, route: &str| {
        routes
            .iter()
            .any(|r| r["method"] == method && r["route"] == route)
    };
    for (method, route) in [
        ("POST", "/v1/chat/completions"),
        ("POST", "/v1/completions"),
        ("POST", "/v1/embeddings"),
        ("GET", "/v1/models"),
        ("GET", "/v1/health"),
    ] {
        ensure!(
            has(method, route),
            "{method} {route} is not among the {} routes",
            routes.len()
        );
    }
    Ok(())
}
