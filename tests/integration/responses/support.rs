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

/// Checks that `response` says what a chat completion over `messages`
/// (greedy, capped at `cap` tokens) says: the stack turns a response into
/// chat calls, so a response over the same turns must answer the same.
pub async fn ensure_answers_like_chat(
    ctx: &TestContext,
    response: &Value,
    messages: Value,
    cap: u64,
) -> Result<()> {
    let body = json!({"model": ctx.text_model(), "messages": messages, "temperature": 0.0, "max_tokens": cap});
    let expected = crate::common::message_text(&ctx.post_ok("/v1/chat/completions", &body).await?)?;
    let text = output_text(response)?;
    ensure!(
        text == expected,
        "answered {text:?}; chat over {messages} answers {expected:?}"
    );
    Ok(())
}

/// A cap on the answer's length, for tests that do not read the answer:
/// `max_tokens` is not a Responses field, but llama-stack 0.7.3 passes
/// unknown body fields to the model call, where it caps the answer
/// (`max_output_tokens` does not: see `basic::max_output_tokens_caps_the_answer`).
/// An answer cut short ends `incomplete`, reason `length`.
///
/// OGX 1.5 drops body fields the Responses API does not define, so there the
/// model answers up to the provider's 512 tokens: another request, and one
/// whose answer SmolLM2 on a shared CPU (1 to 17 tokens a second measured
/// here) is too slow to record. Nothing else caps a response on either stack
/// (`max_output_tokens` does not), so the tests that use this are
/// `only(stacks = "llama-stack")`.
pub fn short(tokens: u64) -> Value {
    json!({"max_tokens": tokens})
}

/// Creates a response with `body` as it is (the helpers above build it);
/// the whole object, whatever its status.
pub async fn create_raw(ctx: &TestContext, body: &Value) -> Result<Value> {
    let response = ctx.post_ok("/v1/responses", body).await?;
    id(&response)?;
    ensure!(
        response["object"] == "response",
        "object is {}",
        response["object"]
    );
    Ok(response)
}

/// Creates a response that may be cut short by [`short`]: its status is
/// `completed` or `incomplete` for `length`.
pub async fn create_capped(ctx: &TestContext, input: &str, extra: Value) -> Result<Value> {
    let response = create_raw(ctx, &request(ctx, input, extra)).await?;
    ensure_finished(&response)?;
    Ok(response)
}

/// The response ended without an error: `completed`, or `incomplete`
/// because its answer reached the cap.
pub fn ensure_finished(response: &Value) -> Result<()> {
    let status = &response["status"];
    let cut = status == "incomplete" && response["incomplete_details"]["reason"] == "length";
    ensure!(
        status == "completed" || cut,
        "status {status} ({}): {response}",
        response["incomplete_details"]
    );
    ensure!(response["error"].is_null(), "error {}", response["error"]);
    Ok(())
}

/// The output items of `kind` (`message`, `function_call`, `mcp_call`, ...).
pub fn items<'a>(response: &'a Value, kind: &str) -> Vec<&'a Value> {
    response["output"]
        .as_array()
        .map(|o| o.iter().filter(|i| i["type"] == kind).collect())
        .unwrap_or_default()
}

/// The types of the output items, in order.
pub fn item_types(response: &Value) -> Vec<String> {
    response["output"]
        .as_array()
        .map(|o| {
            o.iter()
                .map(|i| i["type"].as_str().unwrap_or("?").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// The one output item of `kind`.
pub fn only_item<'a>(response: &'a Value, kind: &str) -> Result<&'a Value> {
    let found = items(response, kind);
    ensure!(
        found.len() == 1,
        "{} `{kind}` items in output {:?}",
        found.len(),
        item_types(response)
    );
    Ok(found[0])
}

/// A streamed response's events (the JSON of each `data:`).
pub async fn stream_events(ctx: &TestContext, body: &Value) -> Result<Vec<Value>> {
    let mut body = body.clone();
    body["stream"] = json!(true);
    let events = ctx.post_stream("/v1/responses", &body).await?;
    Ok(crate::common::chunks(&events).into_iter().cloned().collect())
}

/// The events' types, in order.
pub fn event_types(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .map(|e| e["type"].as_str().unwrap_or("<no type>"))
        .collect()
}

/// Checks what every stream has: numbered from 0 in order, opened by
/// `response.created` and `response.in_progress`, and closed by one
/// terminal event, `last`, naming the same response.
pub fn ensure_framed(events: &[Value], last: &str) -> Result<()> {
    let types = event_types(events);
    ensure!(
        types.starts_with(&["response.created", "response.in_progress"]),
        "the stream starts {:?}",
        &types[..types.len().min(3)]
    );
    ensure!(
        types.last() == Some(&last),
        "the stream ends with {:?}, not {last}: {types:?}",
        types.last()
    );
    for (i, event) in events.iter().enumerate() {
        ensure!(
            event["sequence_number"] == i,
            "event {i} ({}) has sequence_number {}",
            types[i],
            event["sequence_number"]
        );
    }
    let id = &events[0]["response"]["id"];
    ensure!(
        events.last().is_some_and(|e| e["response"]["id"] == *id),
        "the first and last events name different responses"
    );
    Ok(())
}
