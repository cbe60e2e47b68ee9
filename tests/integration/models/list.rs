//! The models the run-config registers: listed and retrieved with their type,
//! provider and (for embeddings) dimension.

use harness::prelude::*;

async fn listed(ctx: &TestContext, id: &str) -> Result<Value> {
    let models = ctx.get_ok("/v1/models").await?;
    let data = models["data"].as_array().context("no `data` list")?;
    let model = data.iter().find(|m| m["id"] == id);
    model
        .cloned()
        .with_context(|| format!("{id} is not among the {} listed models", data.len()))
}

#[harness::test(text_model, marks(models))]
async fn text_model_is_listed_as_an_llm(ctx: &TestContext) -> Result {
    let model = listed(ctx, ctx.text_model()).await?;
    ensure!(model["object"] == "model", "object is {}", model["object"]);
    let meta = &model["custom_metadata"];
    ensure!(
        meta["model_type"] == "llm",
        "model_type {}",
        meta["model_type"]
    );
    let (provider, resource) = ctx
        .text_model()
        .split_once('/')
        .context("the model id has no provider prefix")?;
    ensure!(
        meta["provider_id"] == provider,
        "provider_id {}",
        meta["provider_id"]
    );
    ensure!(
        meta["provider_resource_id"] == resource,
        "provider_resource_id {}",
        meta["provider_resource_id"]
    );
    Ok(())
}

#[harness::test(embedding_model, embedding_dimension, marks(models, embeddings))]
async fn embedding_model_is_listed_with_its_dimension(ctx: &TestContext) -> Result {
    let model = listed(ctx, ctx.embedding_model()).await?;
    let meta = &model["custom_metadata"];
    ensure!(
        meta["model_type"] == "embedding",
        "model_type {}",
        meta["model_type"]
    );
    let dimension = meta["embedding_dimension"]
        .as_u64()
        .context("no embedding_dimension")?;
    ensure!(
        dimension == u64::from(ctx.embedding_dimension()),
        "dimension {dimension}, expected {}",
        ctx.embedding_dimension()
    );
    Ok(())
}

#[harness::test(text_model, marks(models))]
async fn retrieving_a_model_gives_its_registration(ctx: &TestContext) -> Result {
    let model = ctx
        .get_ok(&format!("/v1/models/{}", ctx.text_model()))
        .await?;
    ensure!(
        model["identifier"] == ctx.text_model(),
        "identifier {}",
        model["identifier"]
    );
    ensure!(
        model["type"] == "model" && model["model_type"] == "llm",
        "retrieved {model}"
    );
    let (provider, resource) = ctx
        .text_model()
        .split_once('/')
        .context("the model id has no provider prefix")?;
    ensure!(
        model["provider_id"] == provider && model["provider_resource_id"] == resource,
        "retrieved {model}"
    );
    Ok(())
}
