//! Registering datasets: what the registration answers, listing, retrieval,
//! unregistration, and re-registering an id.

use harness::prelude::*;

use super::support::{DATASETS, qa_rows, register, register_body, unique_id};
use crate::common::expect_not_found;

fn rows_source() -> Value {
    json!({"type": "rows", "rows": qa_rows()})
}

#[harness::test(
    marks(datasets),
    only(
        stacks = "llama-stack",
        reason = "OGX 1.5 has no datasetio API (its run.yaml cannot enable it)"
    )
)]
async fn registering_rows_answers_the_dataset(ctx: &TestContext) -> Result {
    let body = register_body(rows_source(), json!({"metadata": {"owner": "harness"}}));
    let dataset = register(ctx, &body).await?;
    let id = dataset["identifier"].as_str().unwrap_or_default();
    ensure!(id.starts_with("dataset-"), "a generated id {id} lacks `dataset-`");
    ensure!(dataset["type"] == "dataset", "type {}", dataset["type"]);
    ensure!(dataset["provider_id"] == "localfs", "provider_id {}", dataset["provider_id"]);
    ensure!(
        dataset["purpose"] == "eval/question-answer",
        "purpose {}",
        dataset["purpose"]
    );
    ensure!(dataset["source"] == rows_source(), "source {}", dataset["source"]);
    ensure!(
        dataset["metadata"] == json!({"owner": "harness"}),
        "metadata {}",
        dataset["metadata"]
    );
    Ok(())
}

#[harness::test(
    marks(datasets),
    only(
        stacks = "llama-stack",
        reason = "OGX 1.5 has no datasetio API (its run.yaml cannot enable it)"
    )
)]
async fn a_given_dataset_id_names_the_dataset(ctx: &TestContext) -> Result {
    let id = unique_id(ctx);
    let dataset = register(ctx, &register_body(rows_source(), json!({"dataset_id": id}))).await?;
    ensure!(dataset["identifier"] == id.as_str(), "identifier {}", dataset["identifier"]);
    ensure!(
        dataset["provider_resource_id"] == id.as_str(),
        "provider_resource_id {}",
        dataset["provider_resource_id"]
    );
    Ok(())
}

#[harness::test(
    marks(datasets),
    only(
        stacks = "llama-stack",
        reason = "OGX 1.5 has no datasetio API (its run.yaml cannot enable it)"
    )
)]
async fn a_registered_dataset_is_listed_and_retrieved_as_registered(ctx: &TestContext) -> Result {
    let registered = register(ctx, &register_body(rows_source(), json!({}))).await?;
    let id = registered["identifier"].as_str().unwrap_or_default();
    let retrieved = ctx.get_ok(&format!("{DATASETS}/{id}")).await?;
    ensure!(retrieved == registered, "retrieved {retrieved}\nregistered {registered}");
    let list = ctx.get_ok(DATASETS).await?;
    let data = list["data"].as_array().context("no `data` list")?;
    ensure!(
        data.contains(&registered),
        "{id} is not among the {} listed",
        data.len()
    );
    Ok(())
}

#[harness::test(
    marks(datasets),
    only(
        stacks = "llama-stack",
        reason = "OGX 1.5 has no datasetio API (its run.yaml cannot enable it)"
    )
)]
async fn an_unregistered_dataset_is_gone(ctx: &TestContext) -> Result {
    let registered = register(ctx, &register_body(rows_source(), json!({}))).await?;
    let id = registered["identifier"].as_str().unwrap_or_default();
    let path = format!("{DATASETS}/{id}");
    ctx.delete(&path).await?.ok()?;
    ctx.get(&path).await?.expect_error(404, &[id, "not found"])?;
    let list = ctx.get_ok(DATASETS).await?;
    let data = list["data"].as_array().context("no `data` list")?;
    ensure!(
        !data.iter().any(|d| d["identifier"] == id),
        "{id} is still listed"
    );
    let rows = ctx.get(&format!("/v1beta/datasetio/iterrows/{id}")).await?;
    expect_not_found(&rows, &[id])
}

#[harness::test(
    marks(datasets),
    only(
        stacks = "llama-stack",
        reason = "OGX 1.5 has no datasetio API (its run.yaml cannot enable it)"
    )
)]
async fn registering_the_same_dataset_again_answers_it_unchanged(ctx: &TestContext) -> Result {
    let body = register_body(rows_source(), json!({"dataset_id": unique_id(ctx)}));
    let first = register(ctx, &body).await?;
    let again = ctx.post_ok(DATASETS, &body).await?;
    ensure!(again == first, "again {again}\nfirst {first}");
    Ok(())
}

#[harness::test(
    marks(datasets, errors),
    only(
        stacks = "llama-stack",
        reason = "OGX 1.5 has no datasetio API (its run.yaml cannot enable it)"
    )
)]
async fn reusing_an_id_for_another_source_is_a_400_naming_the_conflict(
    ctx: &TestContext,
) -> Result {
    let id = unique_id(ctx);
    register(ctx, &register_body(rows_source(), json!({"dataset_id": id}))).await?;
    let other = register_body(
        json!({"type": "rows", "rows": [{"input_query": "other"}]}),
        json!({"dataset_id": id}),
    );
    ctx.post(DATASETS, &other)
        .await?
        .expect_error(400, &[&id, "already exists", "source"])
}

#[harness::test(
    marks(datasets, errors),
    xfail(
        reason = "llama-stack 0.7.3 ignores a dataset's unknown provider_id and registers it on localfs (a shield or scoring function on an unknown provider is refused)",
        status = 200
    ),
    only(
        stacks = "llama-stack",
        reason = "OGX 1.5 has no datasetio API (its run.yaml cannot enable it)"
    ),
)]
async fn registering_on_an_unknown_provider_is_a_400_naming_it(ctx: &TestContext) -> Result {
    let body = register_body(
        rows_source(),
        json!({"dataset_id": unique_id(ctx), "provider_id": "stack-harness-no-such-provider"}),
    );
    let response = ctx.post(DATASETS, &body).await?;
    if response.status == 200 {
        // Registered after all: unregister it when the test ends.
        ctx.defer_delete(format!("{DATASETS}/{}", unique_id(ctx)));
    }
    response.expect_error(400, &["stack-harness-no-such-provider"])
}
