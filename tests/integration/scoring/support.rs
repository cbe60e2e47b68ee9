//! What the scoring tests share: score requests and readers of results.
//!
//! llama-stack 0.7.3 keeps the params a request gives a function as that
//! function's defaults for every later request (see
//! `basic::aggregation_params_apply_to_their_request_only`), so a test that
//! reads aggregated results names its aggregation functions itself.

use harness::prelude::*;

pub const SCORE: &str = "/v1/scoring/score";

/// Basic params asking for `aggregations`.
pub fn basic(aggregations: &[&str]) -> Value {
    json!({"type": "basic", "aggregation_functions": aggregations})
}

/// A row with a generated and an expected answer.
pub fn row(generated: &str, expected: &str) -> Value {
    json!({"input_query": "q", "generated_answer": generated, "expected_answer": expected})
}

/// Scores `rows` with `functions` (`{id: params}`); `results`, with one
/// score row per input row for each function.
pub async fn score(ctx: &TestContext, rows: &Value, functions: Value) -> Result<Value> {
    let body = json!({"input_rows": rows, "scoring_functions": functions});
    let answer = ctx.post_ok(SCORE, &body).await?;
    let results = answer["results"].clone();
    let n = rows.as_array().map_or(0, Vec::len);
    for (function, result) in results.as_object().context("no `results` object")? {
        let scored = result["score_rows"].as_array().map(Vec::len);
        ensure!(
            scored == Some(n),
            "{function} scored {scored:?} rows of {n}: {result}"
        );
    }
    Ok(results)
}

/// The scores of one function's result.
pub fn scores(result: &Value) -> Vec<Value> {
    result["score_rows"]
        .as_array()
        .map(|rows| rows.iter().map(|r| r["score"].clone()).collect())
        .unwrap_or_default()
}
