//! Datasets the stack cannot register or read, and what it says.

use harness::prelude::*;
use serde::Deserialize;

use super::support::{DATASETS, local_csv, qa_rows, register_rows, register_uri};
use crate::common::expect_not_found;

const MISSING: &str = "stack-harness-no-such-dataset";

#[derive(Deserialize)]
struct Invalid {
    body: Value,
    says: Vec<String>,
}

#[harness::test(
    marks(datasets, errors),
    cases = "datasets/invalid_register.yaml",
    only(
        stacks = "llama-stack",
        reason = "OGX 1.5 has no datasetio API (its run.yaml cannot enable it)"
    )
)]
async fn invalid_registration_is_a_400_naming_the_field(ctx: &TestContext) -> Result {
    let case: Invalid = ctx.case_as()?;
    let needles: Vec<&str> = case.says.iter().map(String::as_str).collect();
    ctx.post(DATASETS, &case.body)
        .await?
        .expect_error(400, &needles)
}

#[harness::test(
    marks(datasets, errors),
    only(
        stacks = "llama-stack",
        reason = "OGX 1.5 has no datasetio API (its run.yaml cannot enable it)"
    )
)]
async fn retrieving_an_unknown_dataset_is_404_naming_it(ctx: &TestContext) -> Result {
    ctx.get(&format!("{DATASETS}/{MISSING}"))
        .await?
        .expect_error(404, &[MISSING, "not found"])
}

#[harness::test(
    marks(datasets, errors),
    only(
        stacks = "llama-stack",
        reason = "OGX 1.5 has no datasetio API (its run.yaml cannot enable it)"
    )
)]
async fn unregistering_an_unknown_dataset_is_404_naming_it(ctx: &TestContext) -> Result {
    ctx.delete(&format!("{DATASETS}/{MISSING}"))
        .await?
        .expect_error(404, &[MISSING, "not found"])
}

#[harness::test(
    marks(datasets, errors),
    xfail(
        reason = "llama-stack 0.7.3 answers 400, not 404, for the rows of a dataset it does not have",
        status = 400,
        contains = "not served by provider"
    ),
    only(
        stacks = "llama-stack",
        reason = "OGX 1.5 has no datasetio API (its run.yaml cannot enable it)"
    ),
)]
async fn the_rows_of_an_unknown_dataset_are_404_naming_it(ctx: &TestContext) -> Result {
    ctx.get(&format!("/v1beta/datasetio/iterrows/{MISSING}"))
        .await?
        .expect_error(404, &[MISSING])
}

#[harness::test(
    marks(datasets, errors),
    only(
        stacks = "llama-stack",
        reason = "OGX 1.5 has no datasetio API (its run.yaml cannot enable it)"
    )
)]
async fn appending_to_an_unknown_dataset_is_refused_naming_it(ctx: &TestContext) -> Result {
    let response = ctx
        .post(
            &format!("/v1beta/datasetio/append-rows/{MISSING}"),
            &json!({"rows": [{"a": 1}]}),
        )
        .await?;
    expect_not_found(&response, &[MISSING])
}

#[harness::test(
    marks(datasets, errors),
    only(
        stacks = "llama-stack",
        reason = "OGX 1.5 has no datasetio API (its run.yaml cannot enable it)"
    )
)]
async fn appending_without_rows_is_a_400(ctx: &TestContext) -> Result {
    let id = register_rows(ctx, qa_rows()).await?;
    ctx.post(&format!("/v1beta/datasetio/append-rows/{id}"), &json!({}))
        .await?
        .expect_error(400, &["rows", "Field required"])
}

#[harness::test(
    marks(datasets, errors),
    only(
        stacks = "llama-stack",
        reason = "OGX 1.5 has no datasetio API (its run.yaml cannot enable it)"
    )
)]
async fn a_file_type_it_cannot_read_is_a_400_naming_it(ctx: &TestContext) -> Result {
    // Registration takes any uri; reading is where the type matters.
    let uri = "/tmp/stack-harness-rows.json";
    let id = register_uri(ctx, uri).await?;
    ctx.get(&format!("/v1beta/datasetio/iterrows/{id}"))
        .await?
        .expect_error(400, &["Unsupported file type", uri])
}

#[harness::test(
    marks(datasets, errors),
    xfail(
        reason = "llama-stack 0.7.3 lets pandas' FileNotFoundError out as a 500 when a dataset's CSV file is missing",
        status = 500
    ),
    only(
        stacks = "llama-stack",
        reason = "OGX 1.5 has no datasetio API (its run.yaml cannot enable it)"
    ),
)]
async fn a_missing_csv_file_is_an_error_naming_it(ctx: &TestContext) -> Result {
    // A path that existed: made, then removed.
    let path = local_csv(ctx, "a\n1\n").await?.path().display().to_string();
    let id = register_uri(ctx, &path).await?;
    let response = ctx.get(&format!("/v1beta/datasetio/iterrows/{id}")).await?;
    expect_not_found(&response, &[&path])
}

#[harness::test(
    marks(datasets, errors),
    xfail(
        reason = "llama-stack 0.7.3 slices rows from a negative start_index ([-1:0]) and answers an empty page with has_more: true",
        status = 200
    ),
    only(
        stacks = "llama-stack",
        reason = "OGX 1.5 has no datasetio API (its run.yaml cannot enable it)"
    ),
)]
async fn a_negative_start_index_is_a_400(ctx: &TestContext) -> Result {
    let id = register_rows(ctx, qa_rows()).await?;
    ctx.get(&format!("/v1beta/datasetio/iterrows/{id}?start_index=-1&limit=2"))
        .await?
        .expect_error(400, &["start_index"])
}
