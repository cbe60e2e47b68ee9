//! Tool calling through chat completions: the structure of the calls the
//! stack returns, whatever the small model chooses to say.

use harness::prelude::*;

use crate::common::{
    chat_request, chunks, finish_reason, first_choice, message_text, streamed_finish_reason, user,
};

const QUESTION: &str = "What is the weather in Paris?";

fn weather_tool() -> Value {
    json!({
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Get the current weather for a city",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    })
}

fn request(ctx: &TestContext, tool_choice: Value, stream: bool) -> Value {
    chat_request(
        ctx,
        json!([user(QUESTION)]),
        json!({"max_tokens": 48, "tools": [weather_tool()], "tool_choice": tool_choice, "stream": stream}),
    )
}

fn forced() -> Value {
    json!({"type": "function", "function": {"name": "get_weather"}})
}

/// Checks one tool call's structure; its parsed arguments.
fn check_call(call: &Value) -> Result<Value> {
    ensure!(
        call["type"] == "function",
        "a tool call of type {}",
        call["type"]
    );
    ensure!(
        call["id"].as_str().is_some_and(|id| !id.is_empty()),
        "a tool call without an id: {call}"
    );
    ensure!(
        call["function"]["name"] == "get_weather",
        "a call to an unknown tool: {call}"
    );
    let arguments = call["function"]["arguments"]
        .as_str()
        .context("arguments are not a string")?;
    let parsed: Value = serde_json::from_str(arguments)
        .with_context(|| format!("arguments are not JSON: {arguments:?}"))?;
    ensure!(parsed.is_object(), "arguments are not an object: {parsed}");
    Ok(parsed)
}

#[harness::test(text_model, marks(chat, tools))]
async fn named_tool_choice_calls_that_tool(ctx: &TestContext) -> Result {
    let response = ctx
        .post_ok("/v1/chat/completions", &request(ctx, forced(), false))
        .await?;
    ensure!(
        finish_reason(&response)? == "tool_calls",
        "finish reason {}",
        finish_reason(&response)?
    );
    let calls = first_choice(&response)?["message"]["tool_calls"]
        .as_array()
        .context("no tool_calls")?;
    ensure!(calls.len() == 1, "{} tool calls", calls.len());
    let arguments = check_call(&calls[0])?;
    ensure!(
        arguments["city"].is_string(),
        "the required `city` argument is missing: {arguments}"
    );
    Ok(())
}

#[harness::test(text_model, marks(chat, tools))]
async fn tool_choice_none_answers_in_text(ctx: &TestContext) -> Result {
    let response = ctx
        .post_ok("/v1/chat/completions", &request(ctx, json!("none"), false))
        .await?;
    let message = &first_choice(&response)?["message"];
    ensure!(
        message["tool_calls"].as_array().is_none_or(Vec::is_empty),
        "called a tool: {message}"
    );
    ensure!(
        !message_text(&response)?.trim().is_empty(),
        "no text either: {message}"
    );
    ensure!(
        finish_reason(&response)? != "tool_calls",
        "finish reason tool_calls without a call"
    );
    Ok(())
}

#[harness::test(text_model, marks(chat, tools))]
async fn tool_choice_auto_answers_a_call_or_text(ctx: &TestContext) -> Result {
    let response = ctx
        .post_ok("/v1/chat/completions", &request(ctx, json!("auto"), false))
        .await?;
    let message = &first_choice(&response)?["message"];
    match message["tool_calls"].as_array().filter(|c| !c.is_empty()) {
        Some(calls) => {
            for call in calls {
                check_call(call)?;
            }
            ensure!(
                finish_reason(&response)? == "tool_calls",
                "calls ended by {}",
                finish_reason(&response)?
            );
        }
        None => ensure!(
            !message_text(&response)?.trim().is_empty(),
            "neither a call nor text: {message}"
        ),
    }
    Ok(())
}

#[harness::test(text_model, marks(chat, tools, streaming))]
async fn streamed_tool_call_matches_non_streaming(ctx: &TestContext) -> Result {
    let whole = ctx
        .post_ok("/v1/chat/completions", &request(ctx, forced(), false))
        .await?;
    let expected = &first_choice(&whole)?["message"]["tool_calls"][0]["function"];
    let events = ctx
        .post_stream("/v1/chat/completions", &request(ctx, forced(), true))
        .await?;
    let deltas: Vec<&Value> = chunks(&events)
        .into_iter()
        .filter_map(|c| c["choices"][0]["delta"]["tool_calls"].as_array())
        .flatten()
        .collect();
    ensure!(!deltas.is_empty(), "the stream carried no tool call");
    ensure!(
        deltas.iter().all(|d| d["index"] == 0),
        "deltas for several calls: {deltas:?}"
    );
    let arguments: String = deltas
        .iter()
        .filter_map(|d| d["function"]["arguments"].as_str())
        .collect();
    ensure!(
        arguments == expected["arguments"],
        "streamed arguments {arguments:?}, whole {}",
        expected["arguments"]
    );
    ensure!(
        deltas
            .iter()
            .any(|d| d["function"]["name"] == expected["name"]),
        "the stream never names the tool"
    );
    ensure!(
        streamed_finish_reason(&events)? == "tool_calls",
        "the stream did not end for tool_calls"
    );
    Ok(())
}

#[harness::test(text_model, marks(chat, tools))]
async fn tool_result_turn_is_answered_in_text(ctx: &TestContext) -> Result {
    let call = json!({
        "id": "call_weather_1",
        "type": "function",
        "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"},
    });
    // `content: ""`, not null: the stack drops a null content, and the local
    // upstream's chat template then fails on the missing key.
    let messages = json!([
        user(QUESTION),
        {"role": "assistant", "content": "", "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "call_weather_1", "content": "{\"temperature_c\": 21, \"sky\": \"sunny\"}"},
    ]);
    let body = chat_request(
        ctx,
        messages,
        json!({"max_tokens": 32, "tools": [weather_tool()]}),
    );
    let response = ctx.post_ok("/v1/chat/completions", &body).await?;
    ensure!(
        !message_text(&response)?.trim().is_empty(),
        "no answer to the tool result: {response}"
    );
    Ok(())
}
