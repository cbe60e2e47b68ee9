//! What the safety tests share: the shield under test and its guard model.
//!
//! The run-configs' shield (`llama-guard`) sends Llama Guard's prompt to
//! `vllm-verdict/smollm2-135m` as an ordinary chat completion, which the
//! proxy records. SmolLM2-135M is no Llama Guard: asked that prompt it
//! lists the categories back instead of answering `safe` or `unsafe`, and
//! llama-guard refuses such an answer with a 400. So the tests that need a
//! verdict are xfail with that failure, and the others check what needs no
//! verdict: registration, routing to the guard, shapes and errors.

use harness::prelude::*;

/// The run-configs' `safety.default_shield_id`.
pub const DEFAULT_SHIELD: &str = "llama-guard";

/// A shield's registration.
pub async fn shield(ctx: &TestContext, id: &str) -> Result<Value> {
    let shield = ctx.get_ok(&format!("/v1/shields/{id}")).await?;
    ensure!(shield["type"] == "shield", "type {}: {shield}", shield["type"]);
    Ok(shield)
}

/// The guard model a shield asks (`provider_resource_id`), which is also
/// the `model` /v1/moderations takes for it.
pub async fn guard_model(ctx: &TestContext, id: &str) -> Result<String> {
    let shield = shield(ctx, id).await?;
    let model = shield["provider_resource_id"]
        .as_str()
        .with_context(|| format!("no provider_resource_id: {shield}"))?;
    Ok(model.to_owned())
}
