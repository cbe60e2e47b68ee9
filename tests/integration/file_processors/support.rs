//! What the file-processor tests share: the request and readers of its
//! chunks.

use harness::prelude::*;
use harness::reqwest::multipart::{Form, Part};

pub const PROCESS: &str = "/v1alpha/file-processors/process";

/// A form carrying `bytes` as the file `name`.
pub fn with_file(name: &str, bytes: Vec<u8>) -> Form {
    Form::new().part("file", Part::bytes(bytes).file_name(name.to_owned()))
}

/// Processes `bytes` uploaded as `name`, chunked as `strategy` says (none:
/// one chunk); the answer, checked to be a 2xx with chunks and metadata.
pub async fn process(
    ctx: &TestContext,
    name: &str,
    bytes: Vec<u8>,
    strategy: Option<Value>,
) -> Result<Value> {
    let mut form = with_file(name, bytes);
    if let Some(strategy) = strategy {
        form = form.text("chunking_strategy", strategy.to_string());
    }
    let answer = ctx.post_multipart(PROCESS, form).await?.ok()?;
    ensure!(answer["chunks"].is_array(), "no `chunks` list: {answer}");
    ensure!(answer["metadata"].is_object(), "no `metadata`: {answer}");
    Ok(answer)
}

/// The chunks of an answer.
pub fn chunks(answer: &Value) -> Result<&Vec<Value>> {
    answer["chunks"].as_array().context("no `chunks` list")
}

/// A static chunking strategy.
pub fn fixed(size: u64, overlap: u64) -> Value {
    json!({"type": "static", "static": {"max_chunk_size_tokens": size, "chunk_overlap_tokens": overlap}})
}

/// A chunk's token window `start-end`, from its `chunk_metadata`.
pub fn window(chunk: &Value) -> Result<(u64, u64)> {
    let text = chunk["chunk_metadata"]["chunk_window"]
        .as_str()
        .with_context(|| format!("no chunk_window: {chunk}"))?;
    let (start, end) = text
        .split_once('-')
        .with_context(|| format!("chunk_window {text} is not start-end"))?;
    Ok((start.parse()?, end.parse()?))
}

/// `n` numbered lines of fixture prose, about 15 tokens each.
pub fn lines(n: usize) -> Vec<String> {
    (1..=n)
        .map(|i| format!("Line {i} of the fixture: the harness replays recorded upstream traffic offline."))
        .collect()
}
