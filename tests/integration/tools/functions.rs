//! Function tools through `/v1/responses` (upstream's agents tests: there is
//! no Agents API in llama-stack 0.7.3): the model's call comes back as a
//! `function_call` item, the client runs it and sends a
//! `function_call_output`, and the model answers from it.

use harness::prelude::*;

use super::support::{check_function_call, force, time_function, weather_function};
use crate::common::merged;
use crate::responses::support::{
    create_capped, create_raw, ensure_finished, id, item_types, items, only_item, output_text,
    request, short,
};

const QUESTION: &str = "What is the weather in Paris?";
const RESULT: &str = "{\"temperature_c\": 21, \"sky\": \"sunny\"}";

/// A response that must call `get_weather`; the response and its call.
async fn forced_call(ctx: &TestContext) -> Result<(Value, Value)> {
    let extra = json!({"tools": [weather_function()], "tool_choice": force("get_weather")});
    let response = create_raw(ctx, &request(ctx, QUESTION, extra)).await?;
    ensure!(
        response["status"] == "completed",
        "status {}: {response}",
        response["status"]
    );
    let call = only_item(&response, "function_call")?.clone();
    Ok((response, call))
}

#[harness::test(text_model, marks(responses, tools))]
async fn named_tool_choice_returns_one_function_call(ctx: &TestContext) -> Result {
    let (response, call) = forced_call(ctx).await?;
    let arguments = check_function_call(&call, "get_weather")?;
    ensure!(
        arguments["city"].is_string(),
        "the required `city` is missing: {arguments}"
    );
    ensure!(
        items(&response, "message").is_empty(),
        "a message beside the call: {:?}",
        item_types(&response)
    );
    ensure!(
        response["tool_choice"] == force("get_weather"),
        "tool_choice echoed as {}",
        response["tool_choice"]
    );
    Ok(())
}

#[harness::test(text_model, marks(responses, tools))]
async fn function_call_is_stored_with_its_response(ctx: &TestContext) -> Result {
    let (response, call) = forced_call(ctx).await?;
    let stored = ctx
        .get_ok(&format!("/v1/responses/{}", id(&response)?))
        .await?;
    let again = only_item(&stored, "function_call")?;
    ensure!(
        *again == call,
        "stored as {again}\n  but answered as {call}"
    );
    ensure!(
        stored["tools"][0]["name"] == "get_weather",
        "tools stored as {}",
        stored["tools"]
    );
    Ok(())
}

/// The turn that answers a call: its output, keyed by the call's id.
fn output_for(call: &Value, output: Value) -> Value {
    json!({"type": "function_call_output", "call_id": call["call_id"], "output": output})
}

/// A forced call, then its result sent back with `previous_response_id`:
/// the call and the second response.
async fn answered_call(ctx: &TestContext) -> Result<(Value, Value)> {
    let (first, call) = forced_call(ctx).await?;
    let extra = json!({
        "previous_response_id": id(&first)?,
        "tools": [weather_function()],
        "input": [output_for(&call, json!(RESULT))],
    });
    let second = create_raw(ctx, &request(ctx, "", merged(extra, short(32)))).await?;
    Ok((call, second))
}

#[harness::test(
    text_model,
    marks(responses, tools),
    only(
        stacks = "llama-stack",
        reason = "caps the answer with `short`, a body field OGX 1.5 drops (responses/support.rs says why)"
    )
)]
async fn function_call_output_is_answered_in_text(ctx: &TestContext) -> Result {
    let (_, second) = answered_call(ctx).await?;
    ensure_finished(&second)?;
    ensure!(
        items(&second, "function_call").is_empty(),
        "called again instead of answering: {:?}",
        item_types(&second)
    );
    ensure!(
        !output_text(&second)?.trim().is_empty(),
        "no answer to the result: {second}"
    );
    Ok(())
}

#[harness::test(
    text_model,
    marks(responses, tools),
    only(
        stacks = "llama-stack",
        reason = "caps the answer with `short`, a body field OGX 1.5 drops (responses/support.rs says why)"
    )
)]
async fn function_call_output_is_an_input_item_of_the_next_turn(ctx: &TestContext) -> Result {
    let (call, second) = answered_call(ctx).await?;
    let listed = ctx
        .get_ok(&format!("/v1/responses/{}/input_items?order=asc", id(&second)?))
        .await?;
    let data = listed["data"].as_array().context("no `data` list")?;
    let types: Vec<&str> = data.iter().filter_map(|i| i["type"].as_str()).collect();
    ensure!(
        types == ["message", "function_call", "function_call_output"],
        "input items {types:?}"
    );
    ensure!(
        data[1]["call_id"] == call["call_id"] && data[2]["call_id"] == call["call_id"],
        "the call and its output do not share the call id: {listed}"
    );
    ensure!(data[2]["output"] == RESULT, "output listed as {}", data[2]);
    Ok(())
}

// Upstream's "function call ordering": the history sent whole, with no
// stored response to continue.
#[harness::test(
    text_model,
    marks(responses, tools),
    xfail(
        reason = "llama-stack 0.7.3 sends an inline function_call as an assistant message without `content`, which the local upstream's (llama-cpp-python 0.3.36) chat template cannot render; its stream ends with no events, and the stack reports that as a completed, empty answer",
        contains = "no answer to the inline result"
    ),
    only(
        stacks = "llama-stack",
        reason = "caps the answer with `short`, a body field OGX 1.5 drops (responses/support.rs says why)"
    )
)]
async fn inline_call_and_output_are_answered_without_a_stored_response(
    ctx: &TestContext,
) -> Result {
    let input = json!([
        {"role": "user", "content": QUESTION},
        {"type": "function_call", "call_id": "call_weather_1", "name": "get_weather", "arguments": "{\"city\": \"Paris\"}"},
        {"type": "function_call_output", "call_id": "call_weather_1", "output": RESULT},
    ]);
    let extra = json!({"tools": [weather_function()], "input": input});
    let response = create_raw(ctx, &request(ctx, "", merged(extra, short(32)))).await?;
    ensure_finished(&response)?;
    ensure!(
        !output_text(&response)?.trim().is_empty(),
        "no answer to the inline result: {response}"
    );
    Ok(())
}

// What a turn with parallel calls looks like: two calls, then both outputs.
// The small model never makes two calls at once, so the history is given.
#[harness::test(
    text_model,
    marks(responses, tools),
    xfail(
        reason = "llama-stack 0.7.3 sends each inline function_call as an assistant message without `content` (and splits parallel calls into one message each), which the local upstream's (llama-cpp-python 0.3.36) chat template cannot render; its stream ends with no events, and the stack reports that as a completed, empty answer",
        contains = "no answer to two results"
    ),
    only(
        stacks = "llama-stack",
        reason = "caps the answer with `short`, a body field OGX 1.5 drops (responses/support.rs says why)"
    )
)]
async fn two_parallel_calls_and_their_outputs_are_answered(ctx: &TestContext) -> Result {
    let input = json!([
        {"role": "user", "content": "What are the weather and the time in Paris?"},
        {"type": "function_call", "call_id": "call_w", "name": "get_weather", "arguments": "{\"city\": \"Paris\"}"},
        {"type": "function_call", "call_id": "call_t", "name": "get_time", "arguments": "{\"city\": \"Paris\"}"},
        {"type": "function_call_output", "call_id": "call_w", "output": RESULT},
        {"type": "function_call_output", "call_id": "call_t", "output": "14:00"},
    ]);
    let extra = json!({"tools": [weather_function(), time_function()], "input": input});
    let response = create_raw(ctx, &request(ctx, "", merged(extra, short(32)))).await?;
    ensure_finished(&response)?;
    ensure!(
        !output_text(&response)?.trim().is_empty(),
        "no answer to two results: {response}"
    );
    let listed = ctx
        .get_ok(&format!("/v1/responses/{}/input_items?order=asc", id(&response)?))
        .await?;
    let calls = listed["data"]
        .as_array()
        .context("no `data` list")?
        .iter()
        .filter(|i| i["type"] == "function_call")
        .count();
    ensure!(calls == 2, "{calls} calls among the input items: {listed}");
    Ok(())
}

#[harness::test(text_model, marks(responses, tools))]
async fn function_without_parameters_is_called_with_an_empty_object(ctx: &TestContext) -> Result {
    let tool = json!({
        "type": "function",
        "name": "list_cities",
        "description": "List the cities with weather reports",
        "parameters": {"type": "object", "properties": {}},
    });
    let extra = json!({"tools": [tool], "tool_choice": force("list_cities")});
    let response = create_raw(ctx, &request(ctx, "Which cities have reports?", extra)).await?;
    let arguments = check_function_call(only_item(&response, "function_call")?, "list_cities")?;
    ensure!(
        arguments == json!({}),
        "arguments {arguments} for a function without parameters"
    );
    Ok(())
}

/// A capped response to [`QUESTION`] offering `tools` with `tool_choice`.
async fn choosing(ctx: &TestContext, tools: Value, tool_choice: Value) -> Result<Value> {
    let extra = merged(json!({"tools": tools, "tool_choice": tool_choice}), short(24));
    create_capped(ctx, QUESTION, extra).await
}

#[harness::test(
    text_model,
    marks(responses, tools),
    only(
        stacks = "llama-stack",
        reason = "caps the answer with `short`, a body field OGX 1.5 drops (responses/support.rs says why)"
    )
)]
async fn tool_choice_none_answers_in_text(ctx: &TestContext) -> Result {
    let response = choosing(ctx, json!([weather_function()]), json!("none")).await?;
    ensure!(
        item_types(&response) == ["message"],
        "output {:?}",
        item_types(&response)
    );
    ensure!(
        !output_text(&response)?.trim().is_empty(),
        "no text: {response}"
    );
    Ok(())
}

#[harness::test(
    text_model,
    marks(responses, tools),
    only(
        stacks = "llama-stack",
        reason = "caps the answer with `short`, a body field OGX 1.5 drops (responses/support.rs says why)"
    )
)]
async fn tool_choice_auto_answers_a_call_or_text(ctx: &TestContext) -> Result {
    let response = choosing(ctx, json!([weather_function()]), json!("auto")).await?;
    let calls = items(&response, "function_call");
    if calls.is_empty() {
        ensure!(
            !output_text(&response)?.trim().is_empty(),
            "neither a call nor text: {response}"
        );
    }
    for call in calls {
        check_function_call(call, "get_weather")?;
    }
    Ok(())
}

#[harness::test(
    text_model,
    marks(responses, tools),
    xfail(
        reason = "llama-cpp-python 0.3.36 (the local model server) enforces a named tool_choice with a grammar but ignores `required`, so SmolLM2-135M answers in text",
        contains = "tool_choice `required` answered with [\"message\"]"
    ),
    only(
        stacks = "llama-stack",
        reason = "caps the answer with `short`, a body field OGX 1.5 drops (responses/support.rs says why)"
    )
)]
async fn tool_choice_required_makes_a_call(ctx: &TestContext) -> Result {
    let response = choosing(ctx, json!([weather_function()]), json!("required")).await?;
    ensure!(
        !items(&response, "function_call").is_empty(),
        "tool_choice `required` answered with {:?}",
        item_types(&response)
    );
    Ok(())
}

#[harness::test(
    text_model,
    marks(responses, tools),
    only(
        stacks = "llama-stack",
        reason = "caps the answer with `short`, a body field OGX 1.5 drops (responses/support.rs says why)"
    )
)]
async fn allowed_tools_choice_offers_only_the_allowed_function(ctx: &TestContext) -> Result {
    let choice = json!({"type": "allowed_tools", "mode": "auto", "tools": [{"type": "function", "name": "get_time"}]});
    let response = choosing(ctx, json!([weather_function(), time_function()]), json!(choice)).await?;
    for call in items(&response, "function_call") {
        check_function_call(call, "get_time")?;
    }
    ensure!(
        response["tools"].as_array().map(Vec::len) == Some(2),
        "the response lists {} tools; both were given",
        response["tools"]
    );
    Ok(())
}

#[harness::test(text_model, marks(responses, tools))]
async fn parallel_tool_calls_false_is_kept_and_one_call_is_made(ctx: &TestContext) -> Result {
    let extra = json!({
        "tools": [weather_function(), time_function()],
        "tool_choice": force("get_weather"),
        "parallel_tool_calls": false,
    });
    let response = create_raw(ctx, &request(ctx, QUESTION, extra)).await?;
    ensure!(
        response["parallel_tool_calls"] == false,
        "parallel_tool_calls echoed as {}",
        response["parallel_tool_calls"]
    );
    check_function_call(only_item(&response, "function_call")?, "get_weather")?;
    Ok(())
}

#[harness::test(text_model, marks(responses, tools))]
async fn parallel_tool_calls_default_to_true(ctx: &TestContext) -> Result {
    let (response, _) = forced_call(ctx).await?;
    ensure!(
        response["parallel_tool_calls"] == true,
        "parallel_tool_calls defaults to {}",
        response["parallel_tool_calls"]
    );
    Ok(())
}

// `max_tool_calls` counts built-in and MCP calls; a client-side function
// call is the client's to run, so the limit does not stop it.
#[harness::test(text_model, marks(responses, tools))]
async fn max_tool_calls_is_kept_and_does_not_block_function_calls(ctx: &TestContext) -> Result {
    let extra = json!({
        "tools": [weather_function()],
        "tool_choice": force("get_weather"),
        "max_tool_calls": 1,
    });
    let response = create_raw(ctx, &request(ctx, QUESTION, extra)).await?;
    ensure!(
        response["max_tool_calls"] == 1,
        "max_tool_calls echoed as {}",
        response["max_tool_calls"]
    );
    check_function_call(only_item(&response, "function_call")?, "get_weather")?;
    Ok(())
}

#[harness::test(text_model, marks(responses, tools, streaming))]
async fn streamed_call_arguments_add_up_to_the_call(ctx: &TestContext) -> Result {
    let extra = json!({"tools": [weather_function()], "tool_choice": force("get_weather")});
    let events = crate::responses::support::stream_events(ctx, &request(ctx, QUESTION, extra)).await?;
    crate::responses::support::ensure_framed(&events, "response.completed")?;
    let of = |kind: &str| -> Vec<&Value> { events.iter().filter(|e| e["type"] == kind).collect() };
    let deltas: String = of("response.function_call_arguments.delta")
        .iter()
        .filter_map(|e| e["delta"].as_str())
        .collect();
    let done = of("response.function_call_arguments.done");
    ensure!(done.len() == 1, "{} arguments.done events", done.len());
    ensure!(
        done[0]["arguments"] == deltas.as_str(),
        "deltas {deltas:?}, done {}",
        done[0]["arguments"]
    );
    let completed = &events.last().context("an empty stream")?["response"];
    let call = only_item(completed, "function_call")?;
    ensure!(
        call["arguments"] == deltas.as_str(),
        "the completed call has {}, the deltas {deltas:?}",
        call["arguments"]
    );
    ensure!(
        done[0]["item_id"] == call["id"],
        "arguments.done names item {}, the call is {}",
        done[0]["item_id"],
        call["id"]
    );
    let added = of("response.output_item.added");
    ensure!(
        added.iter().any(|e| e["item"]["type"] == "function_call"),
        "no output_item.added for the call"
    );
    Ok(())
}

#[harness::test(
    text_model,
    marks(responses, tools),
    xfail(
        reason = "llama-stack 0.7.3 sends a function_call_output given as a list of input_text parts on as a tool message whose content is a list; the local upstream (llama-cpp-python 0.3.36) accepts only a string there",
        status = 500,
        contains = "Input should be a valid string"
    ),
    only(
        stacks = "llama-stack",
        reason = "caps the answer with `short`, a body field OGX 1.5 drops (responses/support.rs says why)"
    )
)]
async fn function_call_output_as_text_parts_is_answered(ctx: &TestContext) -> Result {
    let (first, call) = forced_call(ctx).await?;
    let parts = json!([{"type": "input_text", "text": "It is sunny."}, {"type": "input_text", "text": "21 degrees C."}]);
    let extra = json!({
        "previous_response_id": id(&first)?,
        "tools": [weather_function()],
        "input": [output_for(&call, parts)],
    });
    let second = create_raw(ctx, &request(ctx, "", merged(extra, short(24)))).await?;
    ensure_finished(&second)?;
    ensure!(
        !output_text(&second)?.trim().is_empty(),
        "no answer to the result: {second}"
    );
    Ok(())
}

#[harness::test(text_model, marks(responses, tools, errors))]
async fn unknown_tool_choice_mode_is_a_400_naming_the_modes(ctx: &TestContext) -> Result {
    let extra = json!({"tools": [weather_function()], "tool_choice": "sometimes"});
    ctx.post("/v1/responses", &request(ctx, QUESTION, extra))
        .await?
        .expect_error(400, &["tool_choice", "'auto', 'required' or 'none'"])
}

#[harness::test(text_model, marks(responses, tools, errors))]
async fn max_tool_calls_below_1_is_a_400(ctx: &TestContext) -> Result {
    let extra = json!({"tools": [weather_function()], "max_tool_calls": 0});
    ctx.post("/v1/responses", &request(ctx, QUESTION, extra))
        .await?
        .expect_error(400, &["max_tool_calls", "greater than or equal to 1"])
}

// OpenAI's free-form `custom` tools are not among llama-stack 0.7.3's tool
// types (web_search, file_search, function, mcp).
#[harness::test(text_model, marks(responses, tools, errors))]
async fn custom_tool_type_is_a_400_naming_the_known_types(ctx: &TestContext) -> Result {
    let tool = json!({"type": "custom", "name": "get_weather", "description": "Weather, free-form"});
    ctx.post("/v1/responses", &request(ctx, QUESTION, json!({"tools": [tool]})))
        .await?
        .expect_error(400, &["tools", "'function'", "'mcp'"])
}

#[harness::test(text_model, marks(responses, tools, errors))]
async fn function_tool_without_a_name_is_a_400(ctx: &TestContext) -> Result {
    let tool = json!({"type": "function", "parameters": {"type": "object", "properties": {}}});
    ctx.post("/v1/responses", &request(ctx, QUESTION, json!({"tools": [tool]})))
        .await?
        .expect_error(400, &["tools", "name", "Field required"])
}
