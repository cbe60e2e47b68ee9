//! The inference store: chat completions the stack answered can be listed
//! and read back (`GET /v1/chat/completions[/{id}]`).

use harness::prelude::*;

use crate::common::{chat_request, message_text, user};
use crate::wait::until;

async fn complete(ctx: &TestContext, prompt: &str) -> Result<(String, Value)> {
    let body = chat_request(ctx, json!([user(prompt)]), json!({"max_tokens": 12}));
    let answer = ctx.post_ok("/v1/chat/completions", &body).await?;
    let id = answer["id"]
        .as_str()
        .with_context(|| format!("no id in {answer}"))?
        .to_owned();
    Ok((id, answer))
}

/// The stored completion. The stack stores it in a task of its own after
/// answering, so it may take a moment to appear.
async fn stored(ctx: &TestContext, id: &str) -> Result<Value> {
    until(&format!("{id} in the inference store"), || async {
        let response = ctx.get(&format!("/v1/chat/completions/{id}")).await?;
        Ok((response.status == 200).then_some(response.body))
    })
    .await
}

#[harness::test(text_model, marks(chat, inference_store))]
async fn stored_completion_reads_back_with_its_input(ctx: &TestContext) -> Result {
    let prompt = "Name a fruit that is yellow.";
    let (id, answer) = complete(ctx, prompt).await?;
    let stored = stored(ctx, &id).await?;
    ensure!(
        stored["id"] == id.as_str(),
        "asked for {id}, got {}",
        stored["id"]
    );
    ensure!(
        message_text(&stored)? == message_text(&answer)?,
        "the stored answer differs: {stored}"
    );
    let input = stored["input_messages"]
        .as_array()
        .context("no input_messages")?;
    ensure!(
        input.len() == 1,
        "{} input messages stored for one sent",
        input.len()
    );
    ensure!(
        input[0]["role"] == "user" && input[0]["content"] == prompt,
        "stored input {}",
        input[0]
    );
    Ok(())
}

#[harness::test(text_model, marks(chat, inference_store))]
async fn stored_completion_is_listed(ctx: &TestContext) -> Result {
    let (wanted, _) = complete(ctx, "Name an animal that can fly.").await?;
    stored(ctx, &wanted).await?;
    // Other tests store completions concurrently: page through all of them.
    let mut after = String::new();
    for _ in 0..100 {
        let page = ctx
            .get_ok(&format!("/v1/chat/completions?limit=50{after}"))
            .await?;
        let data = page["data"].as_array().context("no `data` list")?;
        if data.iter().any(|c| c["id"] == wanted.as_str()) {
            return Ok(());
        }
        ensure!(
            page["has_more"] == true,
            "{wanted} is not among the stored completions"
        );
        after = format!(
            "&after={}",
            page["last_id"].as_str().context("a page without last_id")?
        );
    }
    bail!("{wanted} not found in 5000 stored completions")
}

#[harness::test(
    marks(chat, inference_store),
    xfail(
        reason = "llama-stack 0.7.3 (and OGX 1.5) answers 400, not 404, for a chat completion id it does not have",
        status = 400,
        contains = "Chat completion with id chatcmpl-stack-harness-missing not found"
    )
)]
async fn unknown_completion_is_404_naming_it(ctx: &TestContext) -> Result {
    let response = ctx
        .get("/v1/chat/completions/chatcmpl-stack-harness-missing")
        .await?;
    response.expect_error(404, &["chatcmpl-stack-harness-missing"])
}
