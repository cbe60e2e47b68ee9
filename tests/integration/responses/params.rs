//! Request fields that a response keeps as given (upstream's parameter
//! coverage), whole and streamed, and what some of them do.

use harness::prelude::*;

use super::support::{create_raw, ensure_finished, ensure_framed, request, short, stream_events};
use crate::common::merged;

const INPUT: &str = "Say hello.";

/// Whether `actual` holds `expected`: equal, or for an object every key of
/// `expected` with a value `actual` holds.
fn holds(actual: &Value, expected: &Value) -> bool {
    match (actual, expected) {
        (Value::Object(a), Value::Object(e)) => {
            e.iter().all(|(k, v)| a.get(k).is_some_and(|x| holds(x, v)))
        }
        (Value::Number(a), Value::Number(e)) => a.as_f64() == e.as_f64(),
        _ => actual == expected,
    }
}

/// The case's request: the field set, and a capped answer.
fn case_request(ctx: &TestContext) -> (String, Value, Value) {
    let case = ctx.case();
    let field = case["field"].as_str().unwrap_or_default().to_owned();
    let value = case["value"].clone();
    let body = request(ctx, INPUT, merged(json!({(field.as_str()): value}), short(8)));
    (field, value, body)
}

#[harness::test(
    text_model,
    marks(responses),
    cases = "responses/params.yaml",
    only(
        stacks = "llama-stack",
        reason = "caps the answer with `short`, a body field OGX 1.5 drops (responses/support.rs says why)"
    )
)]
async fn request_field_is_kept_on_the_response(ctx: &TestContext) -> Result {
    let (field, value, body) = case_request(ctx);
    let response = create_raw(ctx, &body).await?;
    ensure_finished(&response)?;
    ensure!(
        holds(&response[&field], &value),
        "sent {field} = {value}, the response has {}",
        response[&field]
    );
    let stored = ctx
        .get_ok(&format!("/v1/responses/{}", super::support::id(&response)?))
        .await?;
    ensure!(
        holds(&stored[&field], &value),
        "stored with {field} = {}",
        stored[&field]
    );
    Ok(())
}

#[harness::test(
    text_model,
    marks(responses, streaming),
    cases = "responses/params.yaml",
    only(
        stacks = "llama-stack",
        reason = "caps the answer with `short`, a body field OGX 1.5 drops (responses/support.rs says why)"
    )
)]
async fn request_field_is_kept_on_the_streamed_response(ctx: &TestContext) -> Result {
    let (field, value, body) = case_request(ctx);
    let events = stream_events(ctx, &body).await?;
    let last = events
        .last()
        .and_then(|e| e["type"].as_str())
        .unwrap_or_default()
        .to_owned();
    ensure!(
        last == "response.completed" || last == "response.incomplete",
        "the stream ends with {last}"
    );
    ensure_framed(&events, &last)?;
    for event in [&events[0], events.last().unwrap_or(&events[0])] {
        ensure!(
            holds(&event["response"][&field], &value),
            "sent {field} = {value}, {} has {}",
            event["type"],
            event["response"][&field]
        );
    }
    Ok(())
}

#[harness::test(
    text_model,
    marks(responses),
    only(
        stacks = "llama-stack",
        reason = "caps the answer with `short`, a body field OGX 1.5 drops (responses/support.rs says why)"
    )
)]
async fn top_logprobs_give_each_token_its_alternatives(ctx: &TestContext) -> Result {
    let body = request(ctx, INPUT, merged(json!({"top_logprobs": 2}), short(8)));
    let response = create_raw(ctx, &body).await?;
    let part = &response["output"][0]["content"][0];
    let logprobs = part["logprobs"].as_array().context("no logprobs list")?;
    ensure!(!logprobs.is_empty(), "no logprobs: {part}");
    for lp in logprobs {
        ensure!(
            lp["token"].is_string() && lp["logprob"].as_f64().is_some_and(|l| l <= 0.0),
            "a malformed logprob {lp}"
        );
        let alternatives = lp["top_logprobs"].as_array().context("no top_logprobs")?;
        ensure!(
            !alternatives.is_empty() && alternatives.len() <= 2,
            "{} alternatives for top_logprobs 2",
            alternatives.len()
        );
    }
    let tokens: String = logprobs.iter().filter_map(|l| l["token"].as_str()).collect();
    ensure!(
        tokens == part["text"].as_str().unwrap_or_default(),
        "the tokens {tokens:?} do not spell the text {}",
        part["text"]
    );
    Ok(())
}

#[harness::test(
    text_model,
    marks(responses),
    xfail(
        reason = "llama-stack 0.7.3 asks the model call for `logprobs: true` without `top_logprobs`, and the local upstream (llama-cpp-python 0.3.36) returns logprobs only when top_logprobs is given",
        contains = "no logprobs with include message.output_text.logprobs"
    ),
    only(
        stacks = "llama-stack",
        reason = "caps the answer with `short`, a body field OGX 1.5 drops (responses/support.rs says why)"
    )
)]
async fn include_logprobs_gives_token_logprobs(ctx: &TestContext) -> Result {
    let extra = json!({"include": ["message.output_text.logprobs"]});
    let response = create_raw(ctx, &request(ctx, INPUT, merged(extra, short(8)))).await?;
    let part = &response["output"][0]["content"][0];
    ensure!(
        part["logprobs"].as_array().is_some_and(|l| !l.is_empty()),
        "no logprobs with include message.output_text.logprobs: {part}"
    );
    Ok(())
}

#[harness::test(
    text_model,
    marks(responses),
    only(
        stacks = "llama-stack",
        reason = "caps the answer with `short`, a body field OGX 1.5 drops (responses/support.rs says why)"
    )
)]
async fn capped_answer_is_incomplete_for_length(ctx: &TestContext) -> Result {
    let response = create_raw(ctx, &request(ctx, "Tell me about Paris.", short(8))).await?;
    ensure!(
        response["status"] == "incomplete",
        "status {}",
        response["status"]
    );
    ensure!(
        response["incomplete_details"] == json!({"reason": "length"}),
        "incomplete_details {}",
        response["incomplete_details"]
    );
    ensure!(response["error"].is_null(), "an error beside: {}", response["error"]);
    Ok(())
}

#[harness::test(
    text_model,
    marks(responses, streaming),
    only(
        stacks = "llama-stack",
        reason = "caps the answer with `short`, a body field OGX 1.5 drops (responses/support.rs says why)"
    )
)]
async fn capped_stream_ends_with_response_incomplete(ctx: &TestContext) -> Result {
    let events = stream_events(ctx, &request(ctx, "Tell me about Paris.", short(8))).await?;
    ensure_framed(&events, "response.incomplete")?;
    let last = &events.last().context("an empty stream")?["response"];
    ensure!(
        last["incomplete_details"]["reason"] == "length" && last["error"].is_null(),
        "the incomplete response says {} / {}",
        last["incomplete_details"],
        last["error"]
    );
    Ok(())
}

#[harness::test(text_model, marks(responses))]
async fn completed_answer_has_no_incomplete_details(ctx: &TestContext) -> Result {
    // The question the basic tests ask, which SmolLM2 answers in full.
    let question = "What is the capital of France?";
    let response = create_raw(ctx, &request(ctx, question, json!({}))).await?;
    ensure!(
        response["status"] == "completed",
        "status {}",
        response["status"]
    );
    ensure!(
        response["incomplete_details"].is_null() && response["error"].is_null(),
        "incomplete_details {}, error {}",
        response["incomplete_details"],
        response["error"]
    );
    ensure!(
        response["completed_at"].as_u64() >= response["created_at"].as_u64(),
        "completed_at {} before created_at {}",
        response["completed_at"],
        response["created_at"]
    );
    Ok(())
}
