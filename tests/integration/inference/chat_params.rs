//! Sampling and length parameters of chat completions reach the model and
//! shape its answer: `max_tokens`, `stop`, `temperature`, `seed`, `n`.

use harness::prelude::*;

use crate::common::{
    chat_request, finish_reason, first_choice, message_text, streamed_finish_reason, streamed_text,
    usage, user,
};

const COUNTING: &str = "Count from 1 to 20, separated by commas.";

#[harness::test(text_model, marks(chat, max_tokens))]
async fn max_tokens_cuts_the_answer_for_length(ctx: &TestContext) -> Result {
    let body = chat_request(ctx, json!([user(COUNTING)]), json!({"max_tokens": 5}));
    let response = ctx.post_ok("/v1/chat/completions", &body).await?;
    ensure!(
        finish_reason(&response)? == "length",
        "finish reason {}",
        finish_reason(&response)?
    );
    let (_, completion) = usage(&response)?;
    ensure!(
        completion == 5,
        "{completion} completion tokens for max_tokens 5"
    );
    Ok(())
}

#[harness::test(text_model, marks(chat, max_tokens, streaming))]
async fn max_tokens_cuts_the_stream_for_length(ctx: &TestContext) -> Result {
    let body = chat_request(
        ctx,
        json!([user(COUNTING)]),
        json!({"max_tokens": 5, "stream": true}),
    );
    let events = ctx.post_stream("/v1/chat/completions", &body).await?;
    let reason = streamed_finish_reason(&events)?;
    ensure!(reason == "length", "finish reason {reason}");
    Ok(())
}

#[harness::test(text_model, marks(chat, stop))]
async fn stop_sequence_ends_the_answer_before_it(ctx: &TestContext) -> Result {
    let free = chat_request(ctx, json!([user(COUNTING)]), json!({"max_tokens": 40}));
    let free = message_text(&ctx.post_ok("/v1/chat/completions", &free).await?)?;
    let cut_at = free
        .find('5')
        .with_context(|| format!("the unstopped answer never says 5: {free:?}"))?;

    let stopped = chat_request(
        ctx,
        json!([user(COUNTING)]),
        json!({"max_tokens": 40, "stop": ["5"]}),
    );
    let stopped = ctx.post_ok("/v1/chat/completions", &stopped).await?;
    ensure!(
        finish_reason(&stopped)? == "stop",
        "finish reason {}",
        finish_reason(&stopped)?
    );
    let text = message_text(&stopped)?;
    ensure!(
        text == free[..cut_at],
        "with stop [\"5\"] the answer is {text:?}, expected {:?}",
        &free[..cut_at]
    );
    Ok(())
}

#[harness::test(text_model, marks(chat, stop, streaming))]
async fn stop_sequence_ends_the_stream_before_it(ctx: &TestContext) -> Result {
    let body = chat_request(
        ctx,
        json!([user(COUNTING)]),
        json!({"max_tokens": 40, "stop": ["5"], "stream": true}),
    );
    let events = ctx.post_stream("/v1/chat/completions", &body).await?;
    let text = streamed_text(&events);
    ensure!(
        !text.contains('5'),
        "the stream went past the stop sequence: {text:?}"
    );
    ensure!(
        streamed_finish_reason(&events)? == "stop",
        "the stream did not end for `stop`"
    );
    Ok(())
}

fn sampled(ctx: &TestContext, temperature: f64, seed: u64) -> Value {
    chat_request(
        ctx,
        json!([user("Invent a name for a cat.")]),
        json!({"max_tokens": 16, "temperature": temperature, "seed": seed}),
    )
}

#[harness::test(text_model, marks(chat, sampling))]
async fn seed_reaches_the_model_when_sampling(ctx: &TestContext) -> Result {
    let one = message_text(
        &ctx.post_ok("/v1/chat/completions", &sampled(ctx, 1.0, 1))
            .await?,
    )?;
    let two = message_text(
        &ctx.post_ok("/v1/chat/completions", &sampled(ctx, 1.0, 2))
            .await?,
    )?;
    ensure!(
        one != two,
        "seeds 1 and 2 at temperature 1 gave the same answer: {one:?}"
    );
    Ok(())
}

#[harness::test(text_model, marks(chat, sampling))]
async fn temperature_zero_is_greedy_whatever_the_seed(ctx: &TestContext) -> Result {
    let one = message_text(
        &ctx.post_ok("/v1/chat/completions", &sampled(ctx, 0.0, 1))
            .await?,
    )?;
    let two = message_text(
        &ctx.post_ok("/v1/chat/completions", &sampled(ctx, 0.0, 2))
            .await?,
    )?;
    ensure!(
        one == two,
        "greedy answers differ with the seed:\n  {one:?}\n  {two:?}"
    );
    Ok(())
}

#[harness::test(text_model, marks(chat, sampling))]
async fn n_one_gives_one_choice(ctx: &TestContext) -> Result {
    let body = chat_request(
        ctx,
        json!([user("Say hi.")]),
        json!({"max_tokens": 8, "n": 1}),
    );
    let response = ctx.post_ok("/v1/chat/completions", &body).await?;
    first_choice(&response)?;
    let count = response["choices"].as_array().map_or(0, Vec::len);
    ensure!(count == 1, "{count} choices for n=1");
    Ok(())
}

#[harness::test(
    text_model,
    marks(chat, sampling),
    xfail(
        reason = "the local upstream (llama-cpp-python 0.3) ignores `n` and answers one choice; llama-stack 0.7.3 (and OGX 1.5) relays it as is",
        contains = "choice indexes [0] for n=2"
    )
)]
async fn n_two_gives_two_choices(ctx: &TestContext) -> Result {
    let body = chat_request(
        ctx,
        json!([user("Say hi.")]),
        json!({"max_tokens": 8, "n": 2, "temperature": 1.0}),
    );
    let response = ctx.post_ok("/v1/chat/completions", &body).await?;
    let indexes: Vec<&Value> = response["choices"]
        .as_array()
        .context("no choices")?
        .iter()
        .map(|c| &c["index"])
        .collect();
    ensure!(
        indexes == [&json!(0), &json!(1)],
        "choice indexes {} for n=2",
        json!(indexes)
    );
    Ok(())
}
