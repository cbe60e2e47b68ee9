//! Score requests the stack refuses, and what it says.

use harness::prelude::*;

use super::support::{SCORE, basic, row};
use crate::common::expect_not_found;

#[harness::test(
    marks(scoring, errors),
    only(
        stacks = "llama-stack",
        reason = "OGX 1.5 has no scoring API (its run.yaml cannot enable it)"
    )
)]
async fn an_unknown_function_is_a_400_naming_it_and_the_providers(ctx: &TestContext) -> Result {
    let body = json!({"input_rows": [row("a", "a")], "scoring_functions": {"harness::nothing": null}});
    ctx.post(SCORE, &body)
        .await?
        .expect_error(400, &["harness::nothing", "basic", "llm-as-judge"])
}

#[harness::test(
    marks(scoring, errors),
    only(
        stacks = "llama-stack",
        reason = "OGX 1.5 has no scoring API (its run.yaml cannot enable it)"
    )
)]
async fn an_unknown_aggregation_is_a_400_listing_them(ctx: &TestContext) -> Result {
    let body = json!({
        "input_rows": [row("a", "a")],
        "scoring_functions": {"basic::equality": basic(&["mode"])},
    });
    ctx.post(SCORE, &body).await?.expect_error(
        400,
        &["aggregation_functions", "'average', 'weighted_average', 'median', 'categorical_count' or 'accuracy'"],
    )
}

#[harness::test(
    marks(scoring, errors),
    only(
        stacks = "llama-stack",
        reason = "OGX 1.5 has no scoring API (its run.yaml cannot enable it)"
    )
)]
async fn a_request_without_rows_is_a_400(ctx: &TestContext) -> Result {
    let body = json!({"scoring_functions": {"basic::equality": null}});
    ctx.post(SCORE, &body)
        .await?
        .expect_error(400, &["input_rows", "Field required"])
}

#[harness::test(
    marks(scoring, errors),
    xfail(
        reason = "llama-stack 0.7.3's basic functions assert the row's columns, and the AssertionError comes out as a 500",
        status = 500
    ),
    only(
        stacks = "llama-stack",
        reason = "OGX 1.5 has no scoring API (its run.yaml cannot enable it)"
    ),
)]
async fn a_row_without_the_expected_answer_is_a_400_naming_it(ctx: &TestContext) -> Result {
    let body = json!({
        "input_rows": [{"input_query": "q", "generated_answer": "a"}],
        "scoring_functions": {"basic::equality": basic(&["accuracy"])},
    });
    ctx.post(SCORE, &body)
        .await?
        .expect_error(400, &["expected_answer"])
}

#[harness::test(
    marks(scoring, errors),
    xfail(
        reason = "llama-stack 0.7.3 fails to aggregate zero rows and answers a 500",
        status = 500
    ),
    only(
        stacks = "llama-stack",
        reason = "OGX 1.5 has no scoring API (its run.yaml cannot enable it)"
    ),
)]
async fn no_rows_score_nothing(ctx: &TestContext) -> Result {
    let body = json!({"input_rows": [], "scoring_functions": {"basic::equality": basic(&["accuracy"])}});
    let answer = ctx.post_ok(SCORE, &body).await?;
    let rows = &answer["results"]["basic::equality"]["score_rows"];
    ensure!(*rows == json!([]), "score_rows {rows} for no rows");
    Ok(())
}

#[harness::test(
    marks(scoring, errors, datasets),
    only(
        stacks = "llama-stack",
        reason = "OGX 1.5 has no scoring API (its run.yaml cannot enable it)"
    )
)]
async fn score_batch_of_an_unknown_dataset_names_it(ctx: &TestContext) -> Result {
    let body = json!({
        "dataset_id": "stack-harness-no-such-dataset",
        "scoring_functions": {"basic::equality": basic(&["accuracy"])},
        "save_results_dataset": false,
    });
    let response = ctx.post("/v1/scoring/score-batch", &body).await?;
    expect_not_found(&response, &["stack-harness-no-such-dataset"])
}
