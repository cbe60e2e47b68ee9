//! Text completions (`/v1/completions`), streaming and not.

use harness::prelude::*;

use crate::common::{SEED, chunks, first_choice, usage};

const PROMPT: &str = "The capital of France is";

fn request(ctx: &TestContext, extra: Value) -> Value {
    let mut body = json!({"model": ctx.text_model(), "prompt": PROMPT, "max_tokens": 12, "temperature": 0.0, "seed": SEED});
    crate::common::merge(&mut body, extra);
    body
}

fn text(response: &Value) -> Result<String> {
    Ok(first_choice(response)?["text"]
        .as_str()
        .context("the choice has no text")?
        .to_owned())
}

fn streamed(events: &[StreamEvent]) -> String {
    chunks(events)
        .iter()
        .filter_map(|c| c["choices"][0]["text"].as_str())
        .collect()
}

#[harness::test(text_model, marks(completions))]
async fn completes_the_prompt(ctx: &TestContext) -> Result {
    let response = ctx
        .post_ok("/v1/completions", &request(ctx, json!({})))
        .await?;
    ensure!(
        response["object"] == "text_completion",
        "object is {}",
        response["object"]
    );
    ensure!(
        response["model"] == ctx.text_model(),
        "model is {}",
        response["model"]
    );
    ensure!(
        !text(&response)?.trim().is_empty(),
        "an empty completion: {response}"
    );
    let (_, completion) = usage(&response)?;
    ensure!(completion <= 12, "{completion} tokens for max_tokens 12");
    Ok(())
}

#[harness::test(text_model, marks(completions, max_tokens))]
async fn max_tokens_cuts_the_completion_for_length(ctx: &TestContext) -> Result {
    let response = ctx
        .post_ok("/v1/completions", &request(ctx, json!({"max_tokens": 4})))
        .await?;
    let choice = first_choice(&response)?;
    ensure!(
        choice["finish_reason"] == "length",
        "finish reason {}",
        choice["finish_reason"]
    );
    ensure!(
        usage(&response)?.1 == 4,
        "completion tokens {} for max_tokens 4",
        usage(&response)?.1
    );
    Ok(())
}

#[harness::test(text_model, marks(completions, stop))]
async fn stop_sequence_ends_the_completion_before_it(ctx: &TestContext) -> Result {
    let body = json!({"prompt": "1, 2, 3, 4,", "max_tokens": 30, "stop": [" 7"]});
    let response = ctx.post_ok("/v1/completions", &request(ctx, body)).await?;
    let choice = first_choice(&response)?;
    ensure!(
        choice["finish_reason"] == "stop",
        "finish reason {}",
        choice["finish_reason"]
    );
    let text = text(&response)?;
    ensure!(
        !text.contains(" 7"),
        "the completion went past the stop sequence: {text:?}"
    );
    Ok(())
}

#[harness::test(text_model, marks(completions, streaming))]
async fn streaming_matches_non_streaming(ctx: &TestContext) -> Result {
    let whole = ctx
        .post_ok("/v1/completions", &request(ctx, json!({})))
        .await?;
    let events = ctx
        .post_stream("/v1/completions", &request(ctx, json!({"stream": true})))
        .await?;
    let (streamed, expected) = (streamed(&events), text(&whole)?);
    ensure!(
        streamed == expected,
        "streamed {streamed:?}\n  but non-streaming said {expected:?}"
    );
    let reasons: Vec<&Value> = chunks(&events)
        .iter()
        .map(|c| &c["choices"][0]["finish_reason"])
        .filter(|r| !r.is_null())
        .collect();
    ensure!(
        reasons == [&first_choice(&whole)?["finish_reason"]],
        "stream finish reasons {reasons:?}"
    );
    Ok(())
}

#[harness::test(
    text_model,
    marks(completions, streaming),
    xfail(
        reason = "llama-stack 0.7.3 relays streamed /v1/completions chunks with the provider's model id (`smollm2-135m`), not the stack's (`vllm/smollm2-135m`) as its non-streaming answer and chat chunks do (fixed in OGX 1.5)",
        contains = r#"a chunk names model "smollm2-135m""#,
        stacks = "llama-stack"
    )
)]
async fn streamed_chunks_name_the_requested_model(ctx: &TestContext) -> Result {
    let events = ctx
        .post_stream("/v1/completions", &request(ctx, json!({"stream": true})))
        .await?;
    for chunk in chunks(&events) {
        ensure!(
            chunk["model"] == ctx.text_model(),
            "a chunk names model {}",
            chunk["model"]
        );
    }
    Ok(())
}
