//! Images in, text out: chat completions and responses with a vision model
//! (`--vision-model`). No vision model is packaged for the local setup (see
//! the README's "Vision" note), so these tests are collected and reported
//! ignored ("no --vision-model given") unless one is given. Like the rest
//! of the suite they check the contract, not what the model sees: an
//! answer in text, the image counted in the prompt, streaming equal to
//! non-streaming.

use harness::prelude::*;

use crate::common::{chunks, first_choice, message_text, usage};

/// A 16×16 solid red PNG.
const RED: &str = "iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAIAAACQkWg2AAAAFklEQVR42mO4IyJCEmIY1TCqYfhqAAACcQQQFd0BdQAAAABJRU5ErkJggg==";
/// A 16×16 solid blue PNG.
const BLUE: &str = "iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAIAAACQkWg2AAAAFklEQVR42mMQEblDEmIY1TCqYfhqAAByUwQQMBHYEwAAAABJRU5ErkJggg==";

const QUESTION: &str = "What color is this image? Answer in one word.";

fn data_url(png: &str) -> String {
    format!("data:image/png;base64,{png}")
}

/// A chat request asking about `images`.
fn chat_body(ctx: &TestContext, images: &[&str], stream: bool) -> Value {
    let mut content = vec![json!({"type": "text", "text": QUESTION})];
    content.extend(
        images
            .iter()
            .map(|png| json!({"type": "image_url", "image_url": {"url": data_url(png)}})),
    );
    json!({
        "model": ctx.vision_model(),
        "messages": [{"role": "user", "content": content}],
        "max_tokens": 16,
        "temperature": 0.0,
        "seed": crate::common::SEED,
        "stream": stream,
    })
}

#[harness::test(vision_model, marks(vision, chat))]
async fn chat_with_an_image_answers_in_text(ctx: &TestContext) -> Result {
    let response = ctx
        .post_ok("/v1/chat/completions", &chat_body(ctx, &[RED], false))
        .await?;
    ensure!(
        !message_text(&response)?.trim().is_empty(),
        "no answer: {response}"
    );
    ensure!(
        first_choice(&response)?["message"]["role"] == "assistant",
        "not an assistant message"
    );
    Ok(())
}

#[harness::test(vision_model, marks(vision, chat))]
async fn image_is_counted_in_the_prompt(ctx: &TestContext) -> Result {
    let with = ctx
        .post_ok("/v1/chat/completions", &chat_body(ctx, &[RED], false))
        .await?;
    let mut without = chat_body(ctx, &[], false);
    without["messages"][0]["content"] = json!(QUESTION);
    let without = ctx.post_ok("/v1/chat/completions", &without).await?;
    let (with_prompt, _) = usage(&with)?;
    let (text_prompt, _) = usage(&without)?;
    ensure!(
        with_prompt > text_prompt,
        "the image added no prompt tokens ({with_prompt} vs {text_prompt})"
    );
    Ok(())
}

#[harness::test(vision_model, marks(vision, chat))]
async fn two_images_in_one_message_are_answered(ctx: &TestContext) -> Result {
    let response = ctx
        .post_ok("/v1/chat/completions", &chat_body(ctx, &[RED, BLUE], false))
        .await?;
    ensure!(
        !message_text(&response)?.trim().is_empty(),
        "no answer: {response}"
    );
    Ok(())
}

#[harness::test(vision_model, marks(vision, chat, streaming))]
async fn streamed_image_answer_matches_non_streaming(ctx: &TestContext) -> Result {
    let whole = message_text(
        &ctx.post_ok("/v1/chat/completions", &chat_body(ctx, &[RED], false))
            .await?,
    )?;
    let events = ctx
        .post_stream("/v1/chat/completions", &chat_body(ctx, &[RED], true))
        .await?;
    let streamed: String = chunks(&events)
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    ensure!(streamed == whole, "streamed {streamed:?}, whole {whole:?}");
    Ok(())
}

/// A `/v1/responses` body asking about `png`.
fn response_body(ctx: &TestContext, png: &str) -> Value {
    json!({
        "model": ctx.vision_model(),
        "input": [{"role": "user", "content": [
            {"type": "input_text", "text": QUESTION},
            {"type": "input_image", "image_url": data_url(png)},
        ]}],
        "temperature": 0.0,
        "max_tokens": 16,
    })
}

#[harness::test(vision_model, marks(vision, responses))]
async fn response_with_an_input_image_answers_in_text(ctx: &TestContext) -> Result {
    let response = ctx
        .post_ok("/v1/responses", &response_body(ctx, RED))
        .await?;
    let text = crate::responses::support::output_text(&response)?;
    ensure!(!text.trim().is_empty(), "no answer: {response}");
    let rid = crate::responses::support::id(&response)?;
    let items = ctx
        .get_ok(&format!("/v1/responses/{rid}/input_items"))
        .await?;
    ensure!(
        items.to_string().contains("input_image"),
        "the image is not among the input items: {items}"
    );
    Ok(())
}

#[harness::test(vision_model, marks(vision, responses))]
async fn image_turn_can_be_continued(ctx: &TestContext) -> Result {
    let first = ctx
        .post_ok("/v1/responses", &response_body(ctx, RED))
        .await?;
    let rid = crate::responses::support::id(&first)?;
    let body = json!({
        "model": ctx.vision_model(),
        "input": "And is it a warm or a cold color?",
        "previous_response_id": rid,
        "temperature": 0.0,
        "max_tokens": 16,
    });
    let second = ctx.post_ok("/v1/responses", &body).await?;
    ensure!(
        !crate::responses::support::output_text(&second)?.trim().is_empty(),
        "no answer to the follow-up: {second}"
    );
    Ok(())
}

#[harness::test(vision_model, marks(vision, chat, errors))]
async fn image_that_is_not_base64_is_an_error_naming_the_image(ctx: &TestContext) -> Result {
    let mut body = chat_body(ctx, &[], false);
    body["messages"][0]["content"] = json!([
        {"type": "text", "text": QUESTION},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,!!not base64!!"}},
    ]);
    let answer = ctx.post("/v1/chat/completions", &body).await?;
    ensure!(
        (400..500).contains(&answer.status),
        "a broken image answered {}: {}",
        answer.status,
        answer.text
    );
    Ok(())
}
