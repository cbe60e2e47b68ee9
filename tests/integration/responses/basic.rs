//! The Responses API: create, retrieve, list, input items, delete, errors.

use harness::prelude::*;

use super::support::{create, id, output_text, request};

const QUESTION: &str = "What is the capital of France?";

#[harness::test(text_model, marks(responses))]
async fn creates_a_completed_assistant_message(ctx: &TestContext) -> Result {
    let response = create(ctx, QUESTION, json!({})).await?;
    id(&response)?;
    ensure!(
        response["object"] == "response",
        "object is {}",
        response["object"]
    );
    ensure!(
        response["model"] == ctx.text_model(),
        "model is {}",
        response["model"]
    );
    ensure!(response["error"].is_null(), "error {}", response["error"]);
    let output = response["output"].as_array().context("no output")?;
    ensure!(
        output.len() == 1 && output[0]["type"] == "message",
        "output {output:?}"
    );
    ensure!(
        output[0]["status"] == "completed",
        "message status {}",
        output[0]["status"]
    );
    ensure!(
        output[0]["id"]
            .as_str()
            .is_some_and(|i| i.starts_with("msg_")),
        "message id {}",
        output[0]["id"]
    );
    ensure!(
        !output_text(&response)?.trim().is_empty(),
        "an empty answer: {response}"
    );
    Ok(())
}

#[harness::test(text_model, marks(responses))]
async fn stored_response_reads_back_and_is_listed(ctx: &TestContext) -> Result {
    let response = create(ctx, QUESTION, json!({})).await?;
    let rid = id(&response)?;
    let stored = ctx.get_ok(&format!("/v1/responses/{rid}")).await?;
    ensure!(
        stored["id"] == rid.as_str(),
        "asked for {rid}, got {}",
        stored["id"]
    );
    ensure!(
        output_text(&stored)? == output_text(&response)?,
        "the stored answer differs"
    );
    let list = ctx.get_ok("/v1/responses?limit=100").await?;
    let data = list["data"].as_array().context("no `data` list")?;
    ensure!(
        data.iter().any(|r| r["id"] == rid.as_str()),
        "{rid} is not among {} listed responses",
        data.len()
    );
    Ok(())
}

#[harness::test(text_model, marks(responses))]
async fn input_items_are_the_input(ctx: &TestContext) -> Result {
    let rid = id(&create(ctx, QUESTION, json!({})).await?)?;
    let items = ctx
        .get_ok(&format!("/v1/responses/{rid}/input_items"))
        .await?;
    let data = items["data"].as_array().context("no `data` list")?;
    ensure!(
        data.len() == 1,
        "{} input items for one input: {items}",
        data.len()
    );
    ensure!(
        data[0]["role"] == "user" && data[0]["type"] == "message",
        "input item {}",
        data[0]
    );
    ensure!(
        data[0].to_string().contains(QUESTION),
        "the input item lost the question: {}",
        data[0]
    );
    Ok(())
}

#[harness::test(text_model, marks(responses))]
async fn deleted_response_is_gone(ctx: &TestContext) -> Result {
    let rid = id(&create(ctx, QUESTION, json!({})).await?)?;
    let deleted = ctx.delete(&format!("/v1/responses/{rid}")).await?.ok()?;
    ensure!(
        deleted["deleted"] == true && deleted["id"] == rid.as_str(),
        "delete answered {deleted}"
    );
    ctx.get(&format!("/v1/responses/{rid}")).await?.expect_error(404, &[&rid])
}

#[harness::test(
    text_model,
    marks(responses),
    xfail(
        reason = "llama-stack 0.7.3 (and OGX 1.5) sends the provider's default max_tokens (512) beside max_completion_tokens, and the upstream honours max_tokens, so max_output_tokens does not cap the answer",
        contains = "with max_output_tokens 16 the answer is"
    )
)]
async fn max_output_tokens_caps_the_answer(ctx: &TestContext) -> Result {
    let response = create(ctx, QUESTION, json!({"max_output_tokens": 16})).await?;
    let capped = output_text(&response)?;
    let body = json!({"model": ctx.text_model(), "messages": [{"role": "user", "content": QUESTION}], "max_tokens": 16, "temperature": 0.0});
    let chat = crate::common::message_text(&ctx.post_ok("/v1/chat/completions", &body).await?)?;
    ensure!(
        capped == chat,
        "with max_output_tokens 16 the answer is {capped:?}; 16 tokens are {chat:?}"
    );
    Ok(())
}

#[harness::test(marks(responses, errors))]
async fn unknown_response_is_404_naming_it(ctx: &TestContext) -> Result {
    let rid = "resp_00000000-0000-0000-0000-000000000000";
    ctx.get(&format!("/v1/responses/{rid}")).await?.expect_error(404, &[rid, "not found"])
}

#[harness::test(marks(responses, errors))]
async fn unknown_model_is_404_naming_it(ctx: &TestContext) -> Result {
    let body = json!({"model": "stack-harness/no-such-model", "input": QUESTION});
    ctx.post("/v1/responses", &body).await?.expect_error(404, &["stack-harness/no-such-model"])
}

#[harness::test(text_model, marks(responses, errors))]
async fn max_output_tokens_below_16_is_a_400(ctx: &TestContext) -> Result {
    let response = ctx
        .post(
            "/v1/responses",
            &request(ctx, QUESTION, json!({"max_output_tokens": 8})),
        )
        .await?;
    response.expect_error(400, &["max_output_tokens", "greater than or equal to 16"])
}
