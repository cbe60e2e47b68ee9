//! One chat completion, streaming and not, through the stack to the model.

use harness::prelude::*;

fn request(ctx: &TestContext, stream: bool) -> Value {
    json!({
        "model": ctx.text_model(),
        "messages": [{"role": "user", "content": "What is the capital of France? Answer in one word."}],
        "max_tokens": 16,
        "temperature": 0.0,
        "stream": stream,
    })
}

#[harness::test(text_model, marks(chat))]
async fn non_streaming(ctx: &TestContext) -> Result {
    let response = ctx.post_ok("/v1/chat/completions", &request(ctx, false)).await?;
    let choice = &response["choices"][0];
    ensure!(choice["message"]["role"] == "assistant", "unexpected choice: {choice}");
    let content = choice["message"]["content"].as_str().context("no content")?;
    ensure!(!content.trim().is_empty(), "empty answer");
    ensure!(response["object"] == "chat.completion", "object is {}", response["object"]);
    Ok(())
}

#[harness::test(text_model, marks(chat, streaming))]
async fn streaming(ctx: &TestContext) -> Result {
    let events = ctx.post_stream("/v1/chat/completions", &request(ctx, true)).await?;
    let chunks: Vec<&Value> = events.iter().filter_map(StreamEvent::data).collect();
    ensure!(chunks.len() > 1, "expected several chunks, got {}", chunks.len());
    ensure!(chunks.iter().all(|c| c["object"] == "chat.completion.chunk"), "not all chunks are chunks");
    let text: String = chunks.iter().filter_map(|c| c["choices"][0]["delta"]["content"].as_str()).collect();
    ensure!(!text.trim().is_empty(), "the stream carried no text");
    let last_reason = chunks.iter().rev().find_map(|c| c["choices"][0]["finish_reason"].as_str());
    ensure!(matches!(last_reason, Some("stop" | "length")), "finish reason {last_reason:?}");
    Ok(())
}
