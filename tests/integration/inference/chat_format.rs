//! Structured output: `response_format` constrains the answer to JSON.

use harness::prelude::*;

use crate::common::{chat_request, finish_reason, message_text, user};

const PERSON: &str = "Give the name and age of a fictional person as JSON.";

#[harness::test(text_model, marks(chat, response_format))]
async fn json_object_format_answers_a_json_object(ctx: &TestContext) -> Result {
    let body = chat_request(
        ctx,
        json!([user(PERSON)]),
        json!({"max_tokens": 60, "response_format": {"type": "json_object"}}),
    );
    let response = ctx.post_ok("/v1/chat/completions", &body).await?;
    ensure!(
        finish_reason(&response)? == "stop",
        "the JSON was cut: {response}"
    );
    let text = message_text(&response)?;
    let parsed: Value =
        serde_json::from_str(&text).with_context(|| format!("the answer is not JSON: {text:?}"))?;
    ensure!(
        parsed.is_object(),
        "the answer is JSON but not an object: {parsed}"
    );
    Ok(())
}

#[harness::test(
    text_model,
    marks(chat, response_format),
    xfail(
        reason = "the local upstream (llama-cpp-python 0.3) rejects response_format type `json_schema` with a 500, which llama-stack 0.7.3 (and OGX 1.5) relays",
        status = 500,
        contains = "Input should be 'text' or 'json_object'"
    )
)]
async fn json_schema_format_answers_the_schema(ctx: &TestContext) -> Result {
    let schema = json!({
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
        "required": ["name", "age"],
    });
    let format =
        json!({"type": "json_schema", "json_schema": {"name": "person", "schema": schema}});
    let body = chat_request(
        ctx,
        json!([user(PERSON)]),
        json!({"max_tokens": 60, "response_format": format}),
    );
    let response = ctx.post_ok("/v1/chat/completions", &body).await?;
    let text = message_text(&response)?;
    let person: Value =
        serde_json::from_str(&text).with_context(|| format!("the answer is not JSON: {text:?}"))?;
    ensure!(
        person["name"].is_string() && person["age"].is_i64(),
        "the answer does not follow the schema: {person}"
    );
    Ok(())
}
