//! How the stack answers for a model it does not have.

use harness::prelude::*;

const MISSING: &str = "stack-harness-no-such-model";

#[harness::test]
async fn retrieving_an_unknown_model_is_404_naming_it(ctx: &TestContext) -> Result {
    let response = ctx.get(&format!("/v1/models/{MISSING}")).await?;
    ensure!(
        response.status == 404,
        "expected 404, got {}: {}",
        response.status,
        response.text
    );
    let message = response.error_message().context("no error message")?;
    ensure!(
        message.contains(MISSING),
        "the message does not name the model: {message}"
    );
    Ok(())
}

#[harness::test]
async fn chat_with_an_unknown_model_is_404_naming_it(ctx: &TestContext) -> Result {
    let body = json!({"model": MISSING, "messages": [{"role": "user", "content": "hi"}]});
    let response = ctx.post("/v1/chat/completions", &body).await?;
    ensure!(
        response.status == 404,
        "expected 404, got {}: {}",
        response.status,
        response.text
    );
    let message = response.error_message().context("no error message")?;
    ensure!(
        message.contains(MISSING),
        "the message does not name the model: {message}"
    );
    Ok(())
}

#[harness::test]
async fn a_request_without_a_model_is_a_400_naming_the_field(ctx: &TestContext) -> Result {
    let response = ctx
        .post(
            "/v1/chat/completions",
            &json!({"messages": [{"role": "user", "content": "hi"}]}),
        )
        .await?;
    ensure!(
        response.status == 400,
        "expected 400, got {}: {}",
        response.status,
        response.text
    );
    let message = response.error_message().context("no error message")?;
    ensure!(
        message.contains("model") && message.contains("Field required"),
        "unexpected message: {message}"
    );
    Ok(())
}
