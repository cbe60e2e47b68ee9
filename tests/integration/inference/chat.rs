//! Chat completions, streaming and not, for the conversations in `inference/chat.yaml`.

use harness::prelude::*;

use crate::common::{
    chat_request, chunks, finish_reason, message_text, streamed_finish_reason, streamed_text,
    usage, user,
};

fn request(ctx: &TestContext, stream: bool) -> Value {
    let case = ctx.case();
    chat_request(
        ctx,
        case["messages"].clone(),
        json!({"max_tokens": case["max_tokens"], "stream": stream}),
    )
}

#[harness::test(text_model, marks(chat), cases = "inference/chat.yaml")]
async fn answers_as_the_assistant(ctx: &TestContext) -> Result {
    let response = ctx
        .post_ok("/v1/chat/completions", &request(ctx, false))
        .await?;
    ensure!(
        response["object"] == "chat.completion",
        "object is {}",
        response["object"]
    );
    ensure!(
        response["model"] == ctx.text_model(),
        "model is {}, asked for {}",
        response["model"],
        ctx.text_model()
    );
    ensure!(
        response["id"].as_str().is_some_and(|id| !id.is_empty()),
        "no id: {response}"
    );
    ensure!(
        response["created"].is_u64(),
        "no `created` timestamp: {response}"
    );
    ensure!(
        !message_text(&response)?.trim().is_empty(),
        "empty answer: {response}"
    );
    let reason = finish_reason(&response)?;
    ensure!(
        reason == "stop" || reason == "length",
        "finish reason {reason}"
    );
    Ok(())
}

#[harness::test(text_model, marks(chat, streaming), cases = "inference/chat.yaml")]
async fn streaming_matches_non_streaming(ctx: &TestContext) -> Result {
    let whole = ctx
        .post_ok("/v1/chat/completions", &request(ctx, false))
        .await?;
    let events = ctx
        .post_stream("/v1/chat/completions", &request(ctx, true))
        .await?;
    let streamed = streamed_text(&events);
    let expected = message_text(&whole)?;
    ensure!(
        streamed == expected,
        "streamed {streamed:?}\n  but non-streaming said {expected:?}"
    );
    ensure!(
        streamed_finish_reason(&events)? == finish_reason(&whole)?,
        "the stream and the whole answer end for different reasons"
    );
    Ok(())
}

// The README quotes this test as its example: it uses only the prelude.
#[harness::test(text_model, marks(chat, streaming), cases = "inference/chat.yaml")]
async fn stream_chunks_are_one_assistant_message(ctx: &TestContext) -> Result {
    let case = ctx.case();
    let body = json!({
        "model": ctx.text_model(),
        "messages": case["messages"],
        "max_tokens": case["max_tokens"],
        "temperature": 0.0,
        "seed": 42,
        "stream": true,
    });
    let events = ctx.post_stream("/v1/chat/completions", &body).await?;
    let chunks: Vec<&Value> = events.iter().filter_map(StreamEvent::data).collect();
    ensure!(chunks.len() > 1, "only {} chunks", chunks.len());
    for chunk in &chunks {
        ensure!(chunk["object"] == "chat.completion.chunk", "not a chunk: {chunk}");
        ensure!(chunk["id"] == chunks[0]["id"], "chunk ids differ: {chunk}");
        ensure!(chunk["model"] == ctx.text_model(), "another model: {chunk}");
        ensure!(chunk["choices"][0]["index"] == 0, "another choice: {chunk}");
    }
    let delta = &chunks[0]["choices"][0]["delta"];
    ensure!(delta["role"] == "assistant", "the first delta is {delta}");
    Ok(())
}

#[harness::test(text_model, marks(chat, usage), cases = "inference/chat.yaml")]
async fn usage_adds_up(ctx: &TestContext) -> Result {
    let response = ctx
        .post_ok("/v1/chat/completions", &request(ctx, false))
        .await?;
    let (_, completion) = usage(&response)?;
    let max_tokens = ctx.case()["max_tokens"]
        .as_u64()
        .context("the case has no max_tokens")?;
    ensure!(
        completion > 0 && completion <= max_tokens,
        "{completion} completion tokens for max_tokens {max_tokens}"
    );
    if finish_reason(&response)? == "length" {
        ensure!(
            completion == max_tokens,
            "cut for length after {completion} of {max_tokens} tokens"
        );
    }
    Ok(())
}

// SmolLM2's chat template adds a default system prompt when there is none,
// so the comparison is between two system prompts, not with and without.
#[harness::test(text_model, marks(chat, usage))]
async fn system_prompt_reaches_the_model(ctx: &TestContext) -> Result {
    let ask = |system: &str| {
        let messages = json!([{"role": "system", "content": system}, user("Where do you keep your treasure?")]);
        chat_request(ctx, messages, json!({"max_tokens": 8}))
    };
    let short = ctx
        .post_ok("/v1/chat/completions", &ask("Be brief."))
        .await?;
    let long = ask(
        "You are a pirate sailing the seven seas. Answer every question in one short sentence.",
    );
    let long = ctx.post_ok("/v1/chat/completions", &long).await?;
    let (short, long) = (usage(&short)?.0, usage(&long)?.0);
    ensure!(
        long > short,
        "a longer system prompt gave no more prompt tokens ({long} vs {short})"
    );
    Ok(())
}

#[harness::test(text_model, marks(chat, usage))]
async fn earlier_turns_reach_the_model(ctx: &TestContext) -> Result {
    let history = json!([
        {"role": "user", "content": "My name is Ada."},
        {"role": "assistant", "content": "Nice to meet you, Ada!"},
    ]);
    let question = user("What is my name?");
    let mut turns = history.as_array().cloned().unwrap_or_default();
    turns.push(question.clone());
    let extra = json!({"max_tokens": 8});
    let alone = ctx
        .post_ok(
            "/v1/chat/completions",
            &chat_request(ctx, json!([question]), extra.clone()),
        )
        .await?;
    let all = ctx
        .post_ok(
            "/v1/chat/completions",
            &chat_request(ctx, Value::Array(turns), extra),
        )
        .await?;
    let (alone, all) = (usage(&alone)?.0, usage(&all)?.0);
    ensure!(
        all > alone,
        "the earlier turns added no prompt tokens ({all} vs {alone})"
    );
    Ok(())
}

#[harness::test(
    text_model,
    marks(chat, streaming),
    xfail(
        reason = "llama-stack 0.7.3 (and OGX 1.5) ends its chat event stream without the `data: [DONE]` event OpenAI sends (the upstream's own stream has it)",
        contains = "the stream does not end with [DONE]"
    )
)]
async fn stream_ends_with_done(ctx: &TestContext) -> Result {
    let body = chat_request(
        ctx,
        json!([user("Say hi.")]),
        json!({"max_tokens": 8, "stream": true}),
    );
    let events = ctx.post_stream("/v1/chat/completions", &body).await?;
    ensure!(
        events.last() == Some(&StreamEvent::Done),
        "the stream does not end with [DONE]"
    );
    Ok(())
}

#[harness::test(
    text_model,
    marks(chat, streaming, usage),
    xfail(
        reason = "the local upstream (llama-cpp-python 0.3) ignores stream_options.include_usage and llama-stack 0.7.3 (and OGX 1.5) does not add the usage chunk itself",
        contains = "the last chunk carries no usage"
    )
)]
async fn stream_reports_usage_when_asked(ctx: &TestContext) -> Result {
    let body = chat_request(
        ctx,
        json!([user("Say hi.")]),
        json!({"max_tokens": 8, "stream": true, "stream_options": {"include_usage": true}}),
    );
    let events = ctx.post_stream("/v1/chat/completions", &body).await?;
    let last = chunks(&events).last().copied().context("an empty stream")?;
    usage(last).context("the last chunk carries no usage")?;
    Ok(())
}
