//! What the responses tests share: request bodies and readers of a response.

use harness::prelude::*;

/// A `/v1/responses` body for `input`, greedy, with `extra` merged in.
pub fn request(ctx: &TestContext, input: &str, extra: Value) -> Value {
    let mut body = json!({"model": ctx.text_model(), "input": input, "temperature": 0.0});
    crate::common::merge(&mut body, extra);
    body
}

/// Creates a response; the whole object, checked to be completed.
pub async fn create(ctx: &TestContext, input: &str, extra: Value) -> Result<Value> {
    let response = ctx
        .post_ok("/v1/responses", &request(ctx, input, extra))
        .await?;
    ensure!(
        response["status"] == "completed",
        "status {}: {response}",
        response["status"]
    );
    Ok(response)
}

/// The response's id.
pub fn id(response: &Value) -> Result<String> {
    let id = response["id"]
        .as_str()
        .with_context(|| format!("no id in {response}"))?;
    ensure!(id.starts_with("resp_"), "id {id} lacks the `resp_` prefix");
    Ok(id.to_owned())
}

/// The assistant's text: every `output_text` part of every output message.
pub fn output_text(response: &Value) -> Result<String> {
    let output = response["output"]
        .as_array()
        .with_context(|| format!("no `output` list in {response}"))?;
    let mut text = String::new();
    for item in output.iter().filter(|i| i["type"] == "message") {
        ensure!(
            item["role"] == "assistant",
            "an output message from {}",
            item["role"]
        );
        for part in item["content"]
            .as_array()
            .context("a message without content")?
        {
            if part["type"] == "output_text" {
                text.push_str(
                    part["text"]
                        .as_str()
                        .context("an output_text without text")?,
                );
            }
        }
    }
    Ok(text)
}

/// The text a chat completion gives for `messages`: what a response over the
/// same turns must say, since the stack turns responses into chat calls.
pub async fn chat_text(ctx: &TestContext, messages: Value) -> Result<String> {
    let body = json!({"model": ctx.text_model(), "messages": messages, "temperature": 0.0});
    crate::common::message_text(&ctx.post_ok("/v1/chat/completions", &body).await?)
}
