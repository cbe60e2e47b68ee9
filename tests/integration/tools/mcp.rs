//! MCP tools through `/v1/responses`, against the MCP tool server the
//! session runs on loopback (`harness/src/session/services/mcp.rs`): the
//! stack lists the server's tools, offers them to the model, runs the call
//! the model makes on the server, and reports both as output items.
//!
//! The server's tools answer from their arguments alone (`add` sums,
//! `get_weather` names the city), so a test checks a call's output against
//! its arguments, never against the model's wording.

use harness::prelude::*;

use super::support::{LABEL, MCP_TOOLS, McpServer, arguments, force, mcp_server};
use crate::common::merged;
use crate::responses::support::{
    create_raw, ensure_finished, ensure_framed, event_types, id, item_types, items, only_item,
    request, short, stream_events,
};

/// A response that must call `tool` on `server` and then stops (one model
/// call: see `support`); `extra` is merged into the request.
fn call_request(ctx: &TestContext, input: &str, tool: Value, name: &str, extra: Value) -> Value {
    let body = json!({"tools": [tool], "tool_choice": force(name), "max_infer_iters": 1});
    request(ctx, input, merged(body, extra))
}

/// Checks a response that called one MCP tool and stopped there; its
/// `mcp_call` item.
fn called(response: &Value, name: &str) -> Result<Value> {
    ensure!(
        response["status"] == "incomplete"
            && response["incomplete_details"]["reason"] == "max_iterations_exceeded",
        "status {} ({}): {response}",
        response["status"],
        response["incomplete_details"]
    );
    ensure!(
        item_types(response) == ["mcp_list_tools", "mcp_call"],
        "output {:?}",
        item_types(response)
    );
    let call = only_item(response, "mcp_call")?;
    ensure!(call["name"] == name, "called {}, not {name}", call["name"]);
    ensure!(
        call["server_label"] == LABEL,
        "server_label {}",
        call["server_label"]
    );
    ensure!(
        call["id"].as_str().is_some_and(|i| !i.is_empty()),
        "a call without an id: {call}"
    );
    Ok(call.clone())
}

/// Creates the response `body` asks for, which must call `name` and stop:
/// the response and its call.
async fn run_call(ctx: &TestContext, body: &Value, name: &str) -> Result<(Value, Value)> {
    let response = create_raw(ctx, body).await?;
    let call = called(&response, name)?;
    Ok((response, call))
}

/// A request that must call `add` on `tool`.
fn add_request(ctx: &TestContext, tool: Value) -> Value {
    call_request(ctx, "Add 2 and 40.", tool, "add", json!({}))
}

/// A request that must call `get_weather` on the open mount.
fn weather_request(ctx: &TestContext, mcp: &McpServer) -> Value {
    call_request(
        ctx,
        "What is the weather in Paris?",
        mcp.tool(json!({})),
        "get_weather",
        json!({}),
    )
}

async fn weather_call(ctx: &TestContext, mcp: &McpServer) -> Result<Value> {
    create_raw(ctx, &weather_request(ctx, mcp)).await
}

/// The call of `always_fails`.
async fn failing_call(ctx: &TestContext, mcp: &McpServer) -> Result<Value> {
    let body = call_request(
        ctx,
        "Run the failing tool.",
        mcp.tool(json!({})),
        "always_fails",
        json!({}),
    );
    Ok(run_call(ctx, &body, "always_fails").await?.1)
}

#[harness::test(text_model, marks(responses, tools, mcp))]
async fn mcp_tools_are_listed_with_their_schemas(ctx: &TestContext) -> Result {
    let mcp = mcp_server(ctx).await?;
    let response = weather_call(ctx, &mcp).await?;
    let listing = only_item(&response, "mcp_list_tools")?;
    ensure!(
        listing["server_label"] == LABEL,
        "server_label {}",
        listing["server_label"]
    );
    let tools = listing["tools"].as_array().context("no `tools` list")?;
    let mut names: Vec<&str> = tools.iter().filter_map(|t| t["name"].as_str()).collect();
    names.sort_unstable();
    ensure!(names == MCP_TOOLS, "listed {names:?}");
    for tool in tools {
        ensure!(
            tool["input_schema"]["type"] == "object",
            "{} has input_schema {}",
            tool["name"],
            tool["input_schema"]
        );
        ensure!(
            tool["description"].as_str().is_some_and(|d| !d.is_empty()),
            "{} has no description",
            tool["name"]
        );
    }
    let weather = tools
        .iter()
        .find(|t| t["name"] == "get_weather")
        .context("no get_weather")?;
    ensure!(
        weather["input_schema"]["required"] == json!(["city"]),
        "get_weather requires {}",
        weather["input_schema"]["required"]
    );
    Ok(())
}

#[harness::test(text_model, marks(responses, tools, mcp))]
async fn mcp_call_runs_the_tool_on_the_server(ctx: &TestContext) -> Result {
    let mcp = mcp_server(ctx).await?;
    let call = called(&weather_call(ctx, &mcp).await?, "get_weather")?;
    let city = arguments(&call)?["city"]
        .as_str()
        .context("no city argument")?
        .to_owned();
    ensure!(call["error"].is_null(), "the call failed: {call}");
    ensure!(
        call["output"] == format!("The weather in {city} is sunny, 21 degrees C."),
        "the server's answer for {city:?} is not the output: {}",
        call["output"]
    );
    Ok(())
}

#[harness::test(text_model, marks(responses, tools, mcp))]
async fn mcp_add_answers_the_sum_of_its_arguments(ctx: &TestContext) -> Result {
    let mcp = mcp_server(ctx).await?;
    let body = add_request(ctx, mcp.tool(json!({})));
    let (_, call) = run_call(ctx, &body, "add").await?;
    let args = arguments(&call)?;
    let (a, b) = (
        args["a"].as_f64().context("no number a")?,
        args["b"].as_f64().context("no number b")?,
    );
    let output: f64 = call["output"]
        .as_str()
        .context("no output")?
        .parse()
        .with_context(|| format!("output {} is not a number", call["output"]))?;
    ensure!(
        (output - (a + b)).abs() < 1e-9,
        "{a} + {b} gave {output}"
    );
    Ok(())
}

#[harness::test(text_model, marks(responses, tools, mcp))]
async fn mcp_call_is_stored_with_its_response(ctx: &TestContext) -> Result {
    let mcp = mcp_server(ctx).await?;
    let response = weather_call(ctx, &mcp).await?;
    let stored = ctx
        .get_ok(&format!("/v1/responses/{}", id(&response)?))
        .await?;
    ensure!(
        stored["output"] == response["output"],
        "stored output {}\n  answered {}",
        stored["output"],
        response["output"]
    );
    Ok(())
}

#[harness::test(text_model, marks(responses, tools, mcp))]
async fn failing_mcp_tool_is_a_call_with_an_error(ctx: &TestContext) -> Result {
    let mcp = mcp_server(ctx).await?;
    let call = failing_call(ctx, &mcp).await?;
    ensure!(
        call["error"].as_str().is_some_and(|e| !e.is_empty()),
        "a failed call without an error: {call}"
    );
    ensure!(call["output"].is_null(), "a failed call with output {}", call["output"]);
    Ok(())
}

#[harness::test(
    text_model,
    marks(responses, tools, mcp),
    xfail(
        reason = "llama-stack 0.7.3 turns a tool's error result (isError: true) into `Error (code 1): None`, dropping the text the tool gave",
        contains = "`Error (code 1): None`"
    )
)]
async fn failing_mcp_tool_error_quotes_the_tool(ctx: &TestContext) -> Result {
    let mcp = mcp_server(ctx).await?;
    let call = failing_call(ctx, &mcp).await?;
    let error = call["error"].as_str().unwrap_or_default();
    ensure!(
        error.contains("always_fails failed, as it always does"),
        "the error does not quote the tool: `{error}`"
    );
    Ok(())
}

#[harness::test(text_model, marks(responses, tools, mcp))]
async fn allowed_tools_narrow_the_listing(ctx: &TestContext) -> Result {
    let mcp = mcp_server(ctx).await?;
    let tool = mcp.tool(json!({"allowed_tools": ["add"]}));
    let body = add_request(ctx, tool);
    let (response, _) = run_call(ctx, &body, "add").await?;
    let listed: Vec<&Value> = only_item(&response, "mcp_list_tools")?["tools"]
        .as_array()
        .context("no tools listed")?
        .iter()
        .map(|t| &t["name"])
        .collect();
    ensure!(listed == [&json!("add")], "listed {listed:?}");
    ensure!(
        response["tools"][0]["allowed_tools"] == json!(["add"]),
        "the response's tool entry {}",
        response["tools"][0]
    );
    Ok(())
}

#[harness::test(text_model, marks(responses, tools, mcp))]
async fn mcp_tool_choice_by_server_label_forces_the_tool(ctx: &TestContext) -> Result {
    let mcp = mcp_server(ctx).await?;
    let choice = json!({"type": "mcp", "server_label": LABEL, "name": "add"});
    let body = request(
        ctx,
        "Add 2 and 40.",
        json!({"tools": [mcp.tool(json!({}))], "tool_choice": choice, "max_infer_iters": 1}),
    );
    run_call(ctx, &body, "add").await?;
    Ok(())
}

#[harness::test(text_model, marks(responses, tools, mcp))]
async fn max_tool_calls_still_lets_the_first_call_run(ctx: &TestContext) -> Result {
    let mcp = mcp_server(ctx).await?;
    let body = call_request(
        ctx,
        "Add 2 and 40.",
        mcp.tool(json!({})),
        "add",
        json!({"max_tool_calls": 1}),
    );
    let (response, call) = run_call(ctx, &body, "add").await?;
    ensure!(call["error"].is_null(), "the first call was refused: {call}");
    ensure!(
        response["max_tool_calls"] == 1,
        "max_tool_calls echoed as {}",
        response["max_tool_calls"]
    );
    Ok(())
}

#[harness::test(text_model, marks(responses, tools, mcp))]
async fn tools_answer_lists_the_server_by_label_only(ctx: &TestContext) -> Result {
    let mcp = mcp_server(ctx).await?;
    let response = weather_call(ctx, &mcp).await?;
    let tool = &response["tools"][0];
    ensure!(
        tool["type"] == "mcp" && tool["server_label"] == LABEL,
        "tool entry {tool}"
    );
    ensure!(
        !response.to_string().contains(&mcp.open),
        "the response quotes the server's URL: {tool}"
    );
    Ok(())
}

async fn approval_request(ctx: &TestContext, mcp: &McpServer) -> Result<(Value, Value)> {
    let body = request(
        ctx,
        "Add 2 and 40.",
        json!({"tools": [mcp.tool(json!({"require_approval": "always"}))], "tool_choice": force("add")}),
    );
    let response = create_raw(ctx, &body).await?;
    let approval = only_item(&response, "mcp_approval_request")?.clone();
    Ok((response, approval))
}

/// The answer to an approval request, continuing `response`.
async fn answer_approval(
    ctx: &TestContext,
    mcp: &McpServer,
    response: &Value,
    approval: &Value,
    approve: bool,
) -> Result<Value> {
    let answer = json!({"type": "mcp_approval_response", "approval_request_id": approval["id"], "approve": approve});
    let body = call_request(
        ctx,
        "",
        mcp.tool(json!({"require_approval": "always"})),
        "add",
        json!({"previous_response_id": id(response)?, "input": [answer]}),
    );
    create_raw(ctx, &body).await
}

#[harness::test(text_model, marks(responses, tools, mcp))]
async fn required_approval_asks_before_calling(ctx: &TestContext) -> Result {
    let mcp = mcp_server(ctx).await?;
    let (response, approval) = approval_request(ctx, &mcp).await?;
    ensure!(
        items(&response, "mcp_call").is_empty(),
        "called before approval: {:?}",
        item_types(&response)
    );
    ensure!(
        approval["name"] == "add" && approval["server_label"] == LABEL,
        "approval request {approval}"
    );
    ensure!(
        approval["id"]
            .as_str()
            .is_some_and(|i| i.starts_with("approval_")),
        "approval id {}",
        approval["id"]
    );
    arguments(&approval)?;
    Ok(())
}

#[harness::test(text_model, marks(responses, tools, mcp))]
async fn approved_call_runs_with_the_approved_arguments(ctx: &TestContext) -> Result {
    let mcp = mcp_server(ctx).await?;
    let (first, approval) = approval_request(ctx, &mcp).await?;
    let second = answer_approval(ctx, &mcp, &first, &approval, true).await?;
    let call = called(&second, "add")?;
    ensure!(
        call["arguments"] == approval["arguments"],
        "approved {}, ran {}",
        approval["arguments"],
        call["arguments"]
    );
    ensure!(call["error"].is_null(), "the approved call failed: {call}");
    Ok(())
}

#[harness::test(text_model, marks(responses, tools, mcp))]
async fn denied_call_does_not_run(ctx: &TestContext) -> Result {
    let mcp = mcp_server(ctx).await?;
    let (first, approval) = approval_request(ctx, &mcp).await?;
    let second = answer_approval(ctx, &mcp, &first, &approval, false).await?;
    ensure!(
        items(&second, "mcp_call").is_empty(),
        "a denied call ran: {:?}",
        item_types(&second)
    );
    Ok(())
}

#[harness::test(text_model, marks(responses, tools, mcp, streaming))]
async fn streamed_mcp_call_events_come_in_order(ctx: &TestContext) -> Result {
    let mcp = mcp_server(ctx).await?;
    let body = weather_request(ctx, &mcp);
    let events = stream_events(ctx, &body).await?;
    let types = event_types(&events);
    ensure!(
        types.first() == Some(&"response.created") && types.last() == Some(&"response.incomplete"),
        "the stream runs from {:?} to {:?}",
        types.first(),
        types.last()
    );
    let order = [
        "response.mcp_list_tools.in_progress",
        "response.mcp_list_tools.completed",
        "response.mcp_call.arguments.done",
        "response.mcp_call.in_progress",
        "response.mcp_call.completed",
    ];
    let positions: Vec<Option<usize>> = order
        .iter()
        .map(|t| types.iter().position(|x| x == t))
        .collect();
    ensure!(
        positions.iter().all(Option::is_some) && positions.is_sorted(),
        "expected {order:?} in this order among {types:?}"
    );
    let done: Vec<&Value> = events
        .iter()
        .filter(|e| e["type"] == "response.output_item.done")
        .map(|e| &e["item"])
        .collect();
    let final_output: Vec<&Value> = events.last().context("an empty stream")?["response"]["output"]
        .as_array()
        .context("no output")?
        .iter()
        .collect();
    ensure!(
        done == final_output,
        "the items done in the stream differ from the final output"
    );
    Ok(())
}

#[harness::test(
    text_model,
    marks(responses, tools, mcp, streaming),
    xfail(
        reason = "llama-stack 0.7.3 skips a sequence number in a stream with an MCP call (the arguments delta comes one number late)",
        contains = "has sequence_number"
    )
)]
async fn streamed_mcp_events_are_numbered_in_sequence(ctx: &TestContext) -> Result {
    let mcp = mcp_server(ctx).await?;
    let body = weather_request(ctx, &mcp);
    ensure_framed(&stream_events(ctx, &body).await?, "response.incomplete")
}

#[harness::test(text_model, marks(responses, tools, mcp, auth))]
async fn protected_server_is_used_with_its_token(ctx: &TestContext) -> Result {
    let mcp = mcp_server(ctx).await?;
    let tool = mcp.protected_tool(json!({"authorization": mcp.token}));
    let body = add_request(ctx, tool);
    let (_, call) = run_call(ctx, &body, "add").await?;
    ensure!(call["error"].is_null(), "the call failed: {call}");
    Ok(())
}

#[harness::test(text_model, marks(responses, tools, mcp, auth))]
async fn token_and_headers_reach_the_server(ctx: &TestContext) -> Result {
    let mcp = mcp_server(ctx).await?;
    let tool = mcp.protected_tool(json!({"authorization": mcp.token, "headers": {"X-Tenant": "t1"}}));
    let body = call_request(ctx, "Which headers did you see?", tool, "seen_headers", json!({}));
    let (_, call) = run_call(ctx, &body, "seen_headers").await?;
    // The server reports the scheme, never the token.
    ensure!(
        call["output"] == "authorization=Bearer x-tenant=t1",
        "the server saw {}",
        call["output"]
    );
    Ok(())
}

#[harness::test(text_model, marks(responses, tools, mcp, auth))]
async fn token_is_never_echoed_or_stored(ctx: &TestContext) -> Result {
    let mcp = mcp_server(ctx).await?;
    let tool = mcp.protected_tool(json!({"authorization": mcp.token}));
    let body = add_request(ctx, tool);
    let response = create_raw(ctx, &body).await?;
    let stored = ctx
        .get(&format!("/v1/responses/{}", id(&response)?))
        .await?;
    let items = ctx
        .get(&format!("/v1/responses/{}/input_items", id(&response)?))
        .await?;
    for (what, text) in [
        ("the answer", response.to_string()),
        ("the stored response", stored.text),
        ("the input items", items.text),
    ] {
        ensure!(!text.contains(&mcp.token), "{what} holds the MCP token");
    }
    Ok(())
}

#[harness::test(text_model, marks(responses, tools, mcp, auth, errors))]
async fn protected_server_without_a_token_is_a_401(ctx: &TestContext) -> Result {
    let mcp = mcp_server(ctx).await?;
    let body = add_request(ctx, mcp.protected_tool(json!({})));
    ctx.post("/v1/responses", &body)
        .await?
        .expect_error(401, &["401 Unauthorized", &mcp.protected])
}

#[harness::test(text_model, marks(responses, tools, mcp, auth, errors))]
async fn protected_server_with_a_wrong_token_is_a_401(ctx: &TestContext) -> Result {
    let mcp = mcp_server(ctx).await?;
    let tool = mcp.protected_tool(json!({"authorization": "mcptoken-wrong"}));
    let body = add_request(ctx, tool);
    ctx.post("/v1/responses", &body)
        .await?
        .expect_error(401, &["401 Unauthorized"])
}

#[harness::test(text_model, marks(responses, tools, mcp, auth, errors))]
async fn authorization_in_headers_is_a_400_pointing_at_the_field(ctx: &TestContext) -> Result {
    let mcp = mcp_server(ctx).await?;
    let bearer = format!("Bearer {}", mcp.token);
    let tool = mcp.protected_tool(json!({"headers": {"Authorization": bearer}}));
    let body = add_request(ctx, tool);
    let answer = ctx.post("/v1/responses", &body).await?;
    ensure!(
        !answer.text.contains(&mcp.token),
        "the error quotes the token"
    );
    answer.expect_error(
        400,
        &["headers", "must be passed via the 'authorization' parameter"],
    )
}

#[harness::test(
    text_model,
    marks(responses, tools, mcp, auth, streaming, errors),
    xfail(
        reason = "llama-stack 0.7.3 answers a streamed response whose MCP server refuses it with an event that has no type (`{\"error\": {\"message\": \"Internal server error…\"}}`) instead of `response.failed`",
        contains = "the stream ends with None, not response.failed",
        stacks = "llama-stack"
    ),
    xfail(
        reason = "OGX 1.5 answers a streamed response whose MCP server refuses it with an `error` event (server_error, `Internal server error`) instead of `response.failed`",
        contains = "the stream ends with Some(\"error\"), not response.failed",
        stacks = "ogx"
    )
)]
async fn streamed_401_from_the_server_fails_the_response(ctx: &TestContext) -> Result {
    let mcp = mcp_server(ctx).await?;
    let body = add_request(ctx, mcp.protected_tool(json!({})));
    let mut body = body;
    body["stream"] = json!(true);
    let events = ctx.post_stream("/v1/responses", &body).await?;
    let events: Vec<Value> = crate::common::chunks(&events).into_iter().cloned().collect();
    let last = events.last().and_then(|e| e["type"].as_str());
    ensure!(
        last == Some("response.failed"),
        "the stream ends with {last:?}, not response.failed: {:?}",
        events.last()
    );
    Ok(())
}

#[harness::test(text_model, marks(responses, tools, mcp, errors))]
async fn unreachable_server_is_a_502_naming_it(ctx: &TestContext) -> Result {
    // Port 9 (discard) on loopback: nothing listens there.
    let url = "http://127.0.0.1:9/mcp";
    let tool = json!({"type": "mcp", "server_label": LABEL, "server_url": url});
    let body = add_request(ctx, tool);
    ctx.post("/v1/responses", &body)
        .await?
        .expect_error(502, &["Failed to connect to MCP server", url])
}

#[harness::test(
    text_model,
    marks(responses, tools, mcp, errors),
    xfail(
        reason = "llama-stack 0.7.3 maps only refused connections, timeouts and 401s from an MCP server; a 404 ends in an exception group its error handler does not unwrap, so the answer is a generic 500",
        status = 500,
        contains = "Internal server error: An unexpected error occurred."
    )
)]
async fn server_answering_404_is_a_502_naming_it(ctx: &TestContext) -> Result {
    let mcp = mcp_server(ctx).await?;
    let url = mcp.open.replace("/mcp", "/no-such-mount");
    let tool = mcp.tool(json!({"server_url": url}));
    let body = add_request(ctx, tool);
    ctx.post("/v1/responses", &body)
        .await?
        .expect_error(502, &[&url])
}

#[harness::test(text_model, marks(responses, tools, mcp, errors))]
async fn mcp_tool_without_url_or_connector_is_a_400(ctx: &TestContext) -> Result {
    let tool = json!({"type": "mcp", "server_label": LABEL});
    let body = request(ctx, "Add 2 and 40.", json!({"tools": [tool]}));
    ctx.post("/v1/responses", &body)
        .await?
        .expect_error(400, &["Either 'server_url' or 'connector_id' must be provided"])
}

#[harness::test(text_model, marks(responses, tools, mcp, errors))]
async fn unknown_connector_is_a_404_naming_it(ctx: &TestContext) -> Result {
    let tool = json!({"type": "mcp", "server_label": LABEL, "connector_id": "no-such-connector"});
    let body = request(ctx, "Add 2 and 40.", json!({"tools": [tool]}));
    ctx.post("/v1/responses", &body)
        .await?
        .expect_error(404, &["Connector 'no-such-connector' not found"])
}

// With a model server that takes a list of text parts as a tool message's
// content, the second model call answers from the tool's output.
#[harness::test(
    text_model,
    marks(responses, tools, mcp),
    xfail(
        reason = "llama-stack 0.7.3 sends an MCP result back to the model as a tool message whose content is a list of text parts; the local upstream (llama-cpp-python 0.3.36) accepts only a string there",
        status = 500,
        contains = "Input should be a valid string"
    ),
    only(
        stacks = "llama-stack",
        reason = "caps the answer with `short`, a body field OGX 1.5 drops (responses/support.rs says why)"
    )
)]
async fn mcp_result_is_answered_by_the_model(ctx: &TestContext) -> Result {
    let mcp = mcp_server(ctx).await?;
    let body = request(
        ctx,
        "Add 2 and 40.",
        merged(
            json!({"tools": [mcp.tool(json!({}))], "tool_choice": force("add")}),
            short(24),
        ),
    );
    let response = create_raw(ctx, &body).await?;
    ensure_finished(&response)?;
    ensure!(
        item_types(&response).last().map(String::as_str) == Some("message"),
        "output {:?}",
        item_types(&response)
    );
    Ok(())
}

// Upstream's sequential MCP calls: the second turn continues the first, whose
// call result is in its history.
#[harness::test(
    text_model,
    marks(responses, tools, mcp),
    xfail(
        reason = "llama-stack 0.7.3 replays an earlier MCP result to the model as a tool message whose content is a list of text parts; the local upstream (llama-cpp-python 0.3.36) accepts only a string there",
        status = 500,
        contains = "Input should be a valid string"
    )
)]
async fn second_turn_after_an_mcp_call_calls_again(ctx: &TestContext) -> Result {
    let mcp = mcp_server(ctx).await?;
    let first = weather_call(ctx, &mcp).await?;
    let body = call_request(
        ctx,
        "And in Berlin?",
        mcp.tool(json!({})),
        "get_weather",
        json!({"previous_response_id": id(&first)?}),
    );
    run_call(ctx, &body, "get_weather").await?;
    Ok(())
}
