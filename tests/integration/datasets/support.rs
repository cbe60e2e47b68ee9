//! What the datasets tests share: rows, registration, and sources (CSV
//! files and data: URLs) made in the test.

use std::io::Write as _;

use base64::Engine as _;
use harness::prelude::*;

pub const DATASETS: &str = "/v1beta/datasets";

/// Question-answer rows in the columns the scoring functions read.
pub fn qa_rows() -> Value {
    json!([
        {"input_query": "What is the capital of France?", "generated_answer": "Paris", "expected_answer": "Paris"},
        {"input_query": "Who wrote Hamlet?", "generated_answer": "Marlowe", "expected_answer": "Shakespeare"},
        {"input_query": "What is 2 + 2?", "generated_answer": "4", "expected_answer": "4"},
        {"input_query": "What colour is the sky?", "generated_answer": "Blue", "expected_answer": "blue"},
        {"input_query": "Largest planet?", "generated_answer": "Jupiter", "expected_answer": "Jupiter"},
    ])
}

/// A register body for `source`, with `extra` merged in.
pub fn register_body(source: Value, extra: Value) -> Value {
    let mut body = json!({"purpose": "eval/question-answer", "source": source});
    crate::common::merge(&mut body, extra);
    body
}

/// Registers a dataset, unregistered when the test ends; the registration.
pub async fn register(ctx: &TestContext, body: &Value) -> Result<Value> {
    let dataset = ctx.post_ok(DATASETS, body).await?;
    let id = dataset["identifier"]
        .as_str()
        .with_context(|| format!("no identifier: {dataset}"))?;
    ctx.defer_delete(format!("{DATASETS}/{id}"));
    Ok(dataset)
}

/// Registers `rows` under a dataset id unique to this test; the id.
pub async fn register_rows(ctx: &TestContext, rows: Value) -> Result<String> {
    let body = register_body(
        json!({"type": "rows", "rows": rows}),
        json!({"dataset_id": unique_id(ctx)}),
    );
    let dataset = register(ctx, &body).await?;
    Ok(dataset["identifier"].as_str().unwrap_or_default().to_owned())
}

/// Registers a dataset read from `uri` under an id unique to this trial;
/// the id.
pub async fn register_uri(ctx: &TestContext, uri: &str) -> Result<String> {
    let body = register_body(
        json!({"type": "uri", "uri": uri}),
        json!({"dataset_id": unique_id(ctx)}),
    );
    let dataset = register(ctx, &body).await?;
    Ok(dataset["identifier"].as_str().unwrap_or_default().to_owned())
}

/// A dataset id for this trial.
pub fn unique_id(ctx: &TestContext) -> String {
    crate::common::trial_scoped(ctx, "harness-dataset")
}

/// `iterrows` with `query` (`?limit=2`); the page.
pub async fn iterrows(ctx: &TestContext, id: &str, query: &str) -> Result<Value> {
    let page = ctx
        .get_ok(&format!("/v1beta/datasetio/iterrows/{id}{query}"))
        .await?;
    ensure!(page["data"].is_array(), "no `data` list: {page}");
    ensure!(page["has_more"].is_boolean(), "no has_more: {page}");
    Ok(page)
}

/// Every row of a dataset, in one page.
pub async fn all_rows(ctx: &TestContext, id: &str) -> Result<Value> {
    let page = iterrows(ctx, id, "").await?;
    ensure!(page["has_more"] == false, "has_more without a limit: {page}");
    Ok(page["data"].clone())
}

/// A CSV text of `header` and `rows`.
pub fn csv(header: &[&str], rows: &[&[&str]]) -> String {
    let mut text = header.join(",") + "\n";
    for row in rows {
        text.push_str(&row.join(","));
        text.push('\n');
    }
    text
}

/// The CSV every source test reads: three rows, one numeric column.
pub fn scores_csv() -> String {
    csv(
        &["input_query", "expected_answer", "points"],
        &[&["first", "a", "1"], &["second", "b", "2"], &["third", "c", "3"]],
    )
}

/// The rows `scores_csv` holds, as the stack reads them (`points` numeric).
pub fn scores_rows() -> Value {
    json!([
        {"input_query": "first", "expected_answer": "a", "points": 1},
        {"input_query": "second", "expected_answer": "b", "points": 2},
        {"input_query": "third", "expected_answer": "c", "points": 3},
    ])
}

/// `text` as a base64 data: URL of `mime`.
pub fn data_url(mime: &str, text: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(text);
    format!("data:{mime};base64,{encoded}")
}

/// Writes `text` to a new `.csv` file the stack can read (it reads a uri
/// ending in `.csv` as a path on its own machine); the file lives as long
/// as the handle. Skips the test when the stack is not on this machine.
pub async fn local_csv(ctx: &TestContext, text: &str) -> Result<tempfile::NamedTempFile> {
    let base = ctx.base_url().await?;
    if !(base.contains("://127.0.0.1") || base.contains("://localhost")) {
        return harness::skip(format!("the stack at {base} cannot read this machine's files"));
    }
    let mut file = tempfile::Builder::new()
        .prefix("stack-harness-")
        .suffix(".csv")
        .tempfile()?;
    file.write_all(text.as_bytes())?;
    file.flush()?;
    Ok(file)
}
