//! Batches that reach the model: each line's answer in the output file,
//! matched to its request by `custom_id`, for every endpoint a batch takes.

use harness::prelude::*;

use super::support::{
    CHAT, counts, create, create_body, failing_line, finished_as, id, jsonl, line, result_lines,
    upload_input,
};
use crate::common::{chat_request, message_text, user};

/// A line's `response.body`: a JSON document in a string, as OpenAI's batch
/// output has it.
fn body_of(line: &Value) -> Result<Value> {
    let response = &line["response"];
    ensure!(
        response["status_code"] == 200,
        "status_code {}: {line}",
        response["status_code"]
    );
    ensure!(
        response["request_id"] == line["id"],
        "request_id {} for line {}",
        response["request_id"],
        line["id"]
    );
    let text = response["body"]
        .as_str()
        .with_context(|| format!("response.body is not a string: {line}"))?;
    serde_json::from_str(text).with_context(|| format!("response.body is not JSON: {text}"))
}

/// Runs `lines` on `endpoint` to completion; the finished batch.
async fn run(ctx: &TestContext, endpoint: &str, lines: &[Value]) -> Result<Value> {
    let file = upload_input(ctx, &jsonl(lines)).await?;
    let batch = create(ctx, &create_body(&file, endpoint, json!({}))).await?;
    finished_as(ctx, id(&batch)?, "completed").await
}

fn short_chat(ctx: &TestContext, text: &str) -> Value {
    chat_request(ctx, json!([user(text)]), json!({"max_tokens": 8}))
}

#[harness::test(text_model, marks(batches, chat))]
async fn chat_batch_answers_each_line_in_the_output_file(ctx: &TestContext) -> Result {
    let lines = [
        line("capital", CHAT, short_chat(ctx, "What is the capital of France?")),
        failing_line(ctx, "broken"),
        line("colour", CHAT, short_chat(ctx, "What colour is the sky?")),
    ];
    let done = run(ctx, CHAT, &lines).await?;
    let batch_id = id(&done)?;
    ensure!(counts(&done)? == (3, 2, 1), "request_counts {}", done["request_counts"]);
    let output = result_lines(ctx, &done, "output_file_id").await?;
    let ids: Vec<&str> = output.iter().filter_map(|l| l["custom_id"].as_str()).collect();
    ensure!(ids == ["capital", "colour"], "output lines for {ids:?}");
    for (line, n) in output.iter().zip([1, 3]) {
        ensure!(
            line["id"] == format!("batch_req_{batch_id}_{n}"),
            "output line for input line {n} has id {}",
            line["id"]
        );
        let body = body_of(line)?;
        ensure!(body["object"] == "chat.completion", "object {}", body["object"]);
        message_text(&body)?;
    }
    let errors = result_lines(ctx, &done, "error_file_id").await?;
    let failed: Vec<&str> = errors.iter().filter_map(|l| l["custom_id"].as_str()).collect();
    ensure!(failed == ["broken"], "error lines for {failed:?}");
    Ok(())
}

#[harness::test(text_model, marks(batches, chat))]
async fn a_batch_line_answers_as_the_same_request_made_directly(ctx: &TestContext) -> Result {
    let request = short_chat(ctx, "Name a primary colour.");
    let direct = ctx.post_ok(CHAT, &request).await?;
    let done = run(ctx, CHAT, &[line("same", CHAT, request)]).await?;
    let output = result_lines(ctx, &done, "output_file_id").await?;
    let first = output.first().context("no output line")?;
    let batched = body_of(first)?;
    ensure!(
        message_text(&batched)? == message_text(&direct)?,
        "the batch answered {:?} where the same request answered {:?}",
        message_text(&batched)?,
        message_text(&direct)?
    );
    ensure!(
        batched["model"] == direct["model"],
        "model {} in the batch, {} directly",
        batched["model"],
        direct["model"]
    );
    Ok(())
}

#[harness::test(text_model, marks(batches, completions))]
async fn completions_batch_answers_in_the_output_file(ctx: &TestContext) -> Result {
    let url = "/v1/completions";
    let body = json!({
        "model": ctx.text_model(),
        "prompt": "The capital of France is",
        "max_tokens": 8,
        "temperature": 0.0,
        "seed": crate::common::SEED,
    });
    let done = run(ctx, url, &[line("only", url, body)]).await?;
    ensure!(counts(&done)? == (1, 1, 0), "request_counts {}", done["request_counts"]);
    let output = result_lines(ctx, &done, "output_file_id").await?;
    ensure!(output.len() == 1, "{} output lines", output.len());
    let body = body_of(&output[0])?;
    ensure!(body["object"] == "text_completion", "object {}", body["object"]);
    ensure!(
        body["choices"][0]["text"].is_string(),
        "no completion text: {body}"
    );
    Ok(())
}

#[harness::test(embedding_model, embedding_dimension, marks(batches, embeddings))]
async fn embeddings_batch_answers_one_vector_per_input(ctx: &TestContext) -> Result {
    let url = "/v1/embeddings";
    let inputs = [
        json!("The harness records upstream traffic."),
        json!(["one", "two", "three"]),
    ];
    let lines: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(i, input)| {
            line(
                &format!("input-{i}"),
                url,
                json!({"model": ctx.embedding_model(), "input": input}),
            )
        })
        .collect();
    let done = run(ctx, url, &lines).await?;
    ensure!(counts(&done)? == (2, 2, 0), "request_counts {}", done["request_counts"]);
    let output = result_lines(ctx, &done, "output_file_id").await?;
    let dimension = u64::from(ctx.embedding_dimension());
    for (line, expected) in output.iter().zip([1, 3]) {
        let body = body_of(line)?;
        ensure!(body["object"] == "list", "object {}", body["object"]);
        let data = body["data"].as_array().context("no `data` list")?;
        ensure!(
            data.len() == expected,
            "{} vectors for {expected} inputs ({})",
            data.len(),
            line["custom_id"]
        );
        for (i, item) in data.iter().enumerate() {
            ensure!(item["index"] == i, "vector {i} has index {}", item["index"]);
            let length = item["embedding"].as_array().map(Vec::len);
            ensure!(
                length.is_some_and(|l| l as u64 == dimension),
                "vector {i} has {length:?} values, expected {dimension}"
            );
        }
    }
    Ok(())
}
