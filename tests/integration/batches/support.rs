//! What the batches tests share: input lines, their upload, creation, and
//! reading a finished batch's output.

use harness::prelude::*;

use crate::common::upload;
use crate::wait::until;

pub const CHAT: &str = "/v1/chat/completions";

/// One request line of a batch input file.
pub fn line(custom_id: &str, url: &str, body: Value) -> Value {
    json!({"custom_id": custom_id, "method": "POST", "url": url, "body": body})
}

/// A chat line the stack accepts at validation and fails by itself when it
/// runs it (its message has no `role`), so it reaches no model: batches made
/// of these need no recording, and end `completed` with every line in the
/// error file.
pub fn failing_line(ctx: &TestContext, custom_id: &str) -> Value {
    line(
        custom_id,
        CHAT,
        json!({"model": ctx.text_model(), "messages": [{"rolez": "user", "contentz": "hi"}]}),
    )
}

/// Lines as JSONL text.
pub fn jsonl(lines: &[Value]) -> String {
    lines.iter().map(|l| format!("{l}\n")).collect()
}

/// Uploads `text` as a batch input file, deleted when the test ends; its id.
pub async fn upload_input(ctx: &TestContext, text: &str) -> Result<String> {
    let id = upload(ctx, "batch-input.jsonl", text.as_bytes(), "batch").await?;
    ctx.defer_delete(format!("/v1/files/{id}"));
    Ok(id)
}

/// A create body for `file_id` on `endpoint`, with `extra` merged in.
pub fn create_body(file_id: &str, endpoint: &str, extra: Value) -> Value {
    let mut body = json!({
        "input_file_id": file_id,
        "endpoint": endpoint,
        "completion_window": "24h",
    });
    crate::common::merge(&mut body, extra);
    body
}

/// Creates a batch; the created object, checked to be a batch.
pub async fn create(ctx: &TestContext, body: &Value) -> Result<Value> {
    let batch = ctx.post_ok("/v1/batches", body).await?;
    ensure!(batch["object"] == "batch", "object is {}: {batch}", batch["object"]);
    let id = batch["id"].as_str().context("the batch has no id")?;
    ensure!(id.starts_with("batch_"), "id {id} lacks the `batch_` prefix");
    Ok(batch)
}

/// Uploads `lines` and creates a chat batch of them; the created batch.
pub async fn create_of(ctx: &TestContext, lines: &[Value]) -> Result<Value> {
    let file = upload_input(ctx, &jsonl(lines)).await?;
    create(ctx, &create_body(&file, CHAT, json!({}))).await
}

/// The batch's id.
pub fn id(batch: &Value) -> Result<&str> {
    batch["id"]
        .as_str()
        .with_context(|| format!("no id in {batch}"))
}

/// Statuses a batch does not leave.
const FINAL: [&str; 4] = ["completed", "failed", "cancelled", "expired"];

/// Polls the batch until it reaches a final status; the batch then. Its
/// output and error files are deleted when the test ends.
pub async fn finished(ctx: &TestContext, batch_id: &str) -> Result<Value> {
    let path = format!("/v1/batches/{batch_id}");
    let batch = until(&format!("batch {batch_id} to finish"), || async {
        let batch = ctx.get_ok(&path).await?;
        let done = FINAL.iter().any(|s| batch["status"] == *s);
        Ok(done.then_some(batch))
    })
    .await?;
    for key in ["output_file_id", "error_file_id"] {
        if let Some(file) = batch[key].as_str() {
            ctx.defer_delete(format!("/v1/files/{file}"));
        }
    }
    Ok(batch)
}

/// Waits for the batch and checks it ended with `status`.
pub async fn finished_as(ctx: &TestContext, batch_id: &str, status: &str) -> Result<Value> {
    let batch = finished(ctx, batch_id).await?;
    ensure!(
        batch["status"] == status,
        "batch {batch_id} ended {} instead of {status}: {batch}",
        batch["status"]
    );
    Ok(batch)
}

/// The JSON lines of a file the batch wrote (`output_file_id` or
/// `error_file_id`).
pub async fn result_lines(ctx: &TestContext, batch: &Value, key: &str) -> Result<Vec<Value>> {
    let file = batch[key]
        .as_str()
        .with_context(|| format!("the batch has no {key}: {batch}"))?;
    let bytes = ctx
        .get_bytes(&format!("/v1/files/{file}/content"))
        .await?
        .ok()?;
    let text = String::from_utf8(bytes).context("the file is not UTF-8")?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).with_context(|| format!("{key} line is not JSON: {l}")))
        .collect()
}

/// `request_counts` as `(total, completed, failed)`.
pub fn counts(batch: &Value) -> Result<(u64, u64, u64)> {
    let counts = &batch["request_counts"];
    let n = |key: &str| {
        counts[key]
            .as_u64()
            .with_context(|| format!("request_counts has no `{key}`: {batch}"))
    };
    Ok((n("total")?, n("completed")?, n("failed")?))
}

/// The validation errors of a failed batch: `errors.data`.
pub fn errors(batch: &Value) -> Result<&Vec<Value>> {
    batch["errors"]["data"]
        .as_array()
        .with_context(|| format!("the failed batch lists no errors.data: {batch}"))
}
