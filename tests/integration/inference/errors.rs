//! Invalid chat requests are refused with a 400 whose message names the
//! problem, before any model is called.

use harness::prelude::*;
use serde::Deserialize;

use crate::common::{chat_request, merge, user};

#[derive(Deserialize)]
struct Invalid {
    set: Value,
    field: Option<String>,
    says: String,
}

#[harness::test(text_model, marks(chat, errors), cases = "inference/invalid_chat.yaml")]
async fn invalid_parameter_is_a_400_naming_it(ctx: &TestContext) -> Result {
    let case: Invalid = ctx.case_as()?;
    let mut body = chat_request(ctx, json!([user("hi")]), json!({"max_tokens": 8}));
    merge(&mut body, case.set);
    let response = ctx.post("/v1/chat/completions", &body).await?;
    let needles: Vec<&str> = case
        .field
        .iter()
        .map(String::as_str)
        .chain([case.says.as_str()])
        .collect();
    response.expect_error(400, &needles)
}

#[harness::test(
    text_model,
    marks(chat, errors),
    xfail(
        reason = "llama-stack 0.7.3 (and OGX 1.5) locates a bad tool_choice in the union's variants (`literal['none','auto','required']`), not in the `tool_choice` field",
        contains = "does not mention `tool_choice`"
    )
)]
async fn unknown_tool_choice_error_names_the_field(ctx: &TestContext) -> Result {
    let body = chat_request(
        ctx,
        json!([user("hi")]),
        json!({"tool_choice": "sometimes"}),
    );
    let response = ctx.post("/v1/chat/completions", &body).await?;
    response.expect_error(400, &["tool_choice"])
}

#[harness::test(marks(chat, errors))]
async fn a_body_that_is_not_json_is_a_400(ctx: &TestContext) -> Result {
    let request = ctx
        .request(harness::reqwest::Method::POST, "/v1/chat/completions")
        .await?;
    let response = request
        .header("content-type", "application/json")
        .body("not json")
        .send()
        .await?;
    let status = response.status().as_u16();
    let text = response.text().await?;
    ensure!(status == 400, "answered {status}: {text}");
    ensure!(
        text.contains("JSON decode error"),
        "the message does not say the JSON is broken: {text}"
    );
    Ok(())
}
