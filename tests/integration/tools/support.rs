//! What the tool tests share: function tool definitions, the session's MCP
//! tool server, and readers of tool call items.
//!
//! SmolLM2-135M rarely calls a tool on its own. Every test that needs a
//! call forces it through the API: `tool_choice` naming the function, which
//! llama-cpp-python turns into a grammar the model cannot leave. A test that
//! needs only the call, not an answer to its result, also sets
//! `max_infer_iters: 1`: the stack runs the call and stops (`incomplete`,
//! `max_iterations_exceeded`) instead of sending the result back to the
//! model (see `mcp::mcp_result_is_answered_by_the_model` for why that fails
//! with the local model server).

use harness::prelude::*;

/// The label every MCP tool entry gets.
pub const LABEL: &str = "tools";

/// A client-side function tool: the model calls it, the client runs it.
pub fn weather_function() -> Value {
    json!({
        "type": "function",
        "name": "get_weather",
        "description": "Get the current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "description": "The city"}},
            "required": ["city"],
        },
    })
}

/// A second function tool, so a choice among tools means something.
pub fn time_function() -> Value {
    json!({
        "type": "function",
        "name": "get_time",
        "description": "Get the current time in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    })
}

/// `tool_choice` forcing the function `name`.
pub fn force(name: &str) -> Value {
    json!({"type": "function", "name": name})
}

/// The arguments of a call item, parsed: they must be a JSON object.
pub fn arguments(call: &Value) -> Result<Value> {
    let text = call["arguments"]
        .as_str()
        .with_context(|| format!("arguments are not a string: {call}"))?;
    let parsed: Value = serde_json::from_str(text)
        .with_context(|| format!("arguments are not JSON: {text:?}"))?;
    ensure!(parsed.is_object(), "arguments are not an object: {parsed}");
    Ok(parsed)
}

/// Checks a `function_call` output item's shape; its parsed arguments.
pub fn check_function_call(call: &Value, name: &str) -> Result<Value> {
    ensure!(call["type"] == "function_call", "not a function call: {call}");
    ensure!(call["name"] == name, "a call to {}, not {name}", call["name"]);
    ensure!(
        call["call_id"].as_str().is_some_and(|c| !c.is_empty()),
        "a call without a call_id: {call}"
    );
    ensure!(
        call["id"].as_str().is_some_and(|i| i.starts_with("fc_")),
        "a call item id without the `fc_` prefix: {call}"
    );
    ensure!(
        call["status"] == "completed",
        "call status {}",
        call["status"]
    );
    arguments(call)
}

/// Where the session's MCP tool server listens and the token its second
/// mount wants.
pub struct McpServer {
    /// `http://127.0.0.1:PORT/mcp`: open.
    pub open: String,
    /// `http://127.0.0.1:PORT/auth/mcp`: the same tools behind
    /// `Authorization: Bearer <token>`.
    pub protected: String,
    pub token: String,
}

impl McpServer {
    /// An MCP tool entry for the open mount, with `extra` merged in.
    pub fn tool(&self, extra: Value) -> Value {
        let mut tool = json!({"type": "mcp", "server_label": LABEL, "server_url": self.open});
        crate::common::merge(&mut tool, extra);
        tool
    }

    /// An MCP tool entry for the protected mount, with `extra` merged in.
    pub fn protected_tool(&self, extra: Value) -> Value {
        let mut tool = self.tool(json!({"server_url": self.protected}));
        crate::common::merge(&mut tool, extra);
        tool
    }
}

/// The session's MCP tool server; the test is skipped on a session without
/// one (a stack the harness did not start, or a run-config without the
/// responses API).
pub async fn mcp_server(ctx: &TestContext) -> Result<McpServer> {
    let (Some(base), Some(token)) = (
        ctx.service_address("mcp").await?,
        ctx.service_secret("mcp").await?,
    ) else {
        return harness::skip(
            "the session runs no MCP tool server: the harness starts one for the stacks it runs whose run-config serves the responses API",
        );
    };
    Ok(McpServer {
        open: format!("{base}/mcp"),
        protected: format!("{base}/auth/mcp"),
        token,
    })
}

/// The tools the server offers, as the stack lists them.
pub const MCP_TOOLS: [&str; 5] = [
    "add",
    "always_fails",
    "get_weather",
    "list_cities",
    "seen_headers",
];
