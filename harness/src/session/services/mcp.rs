//! An MCP tool server as a session service, for the stack's `/v1/responses`
//! `{"type": "mcp", "server_url": …}` tools: a real MCP server (rmcp's
//! streamable HTTP transport, stateless, plain JSON answers) that runs inside
//! the supervisor like the proxy, on a free loopback port.
//!
//! ```text
//! http://127.0.0.1:PORT/mcp       open
//! http://127.0.0.1:PORT/auth/mcp  the same tools; 401 unless `Authorization: Bearer <token>`
//! ```
//!
//! The stack reaches it directly, not through the record proxy: MCP traffic
//! is not model traffic, and the server is deterministic, so replay needs
//! no recording of it. What the model sees of it (tool names, descriptions,
//! schemas, and the tools' answers in the next turn's messages) is the same
//! on every run, so the model calls it causes hash the same; its random port
//! never reaches the model (the stack gives the model function tools, not
//! URLs).
//!
//! The token is random per session (`mcptoken-<32 hex>`): the supervisor
//! publishes it in the session's `state.json` for the test processes and
//! hands it to the proxy to redact; it is never printed.
//!
//! It starts no process (the orphan proofs have nothing of it to count):
//! it is a task on the supervisor's runtime, gone when the supervisor is.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, ContentBlock, Implementation, ServerCapabilities, ServerConfig};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData, RoleServer, ServerHandler, schemars, tool, tool_handler, tool_router};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::{Context, Exit, Running, Secret, Service, ServiceError, StackEnv};
use crate::process::Progress;

/// The open mount.
pub(crate) const OPEN_PATH: &str = "/mcp";
/// The mount that wants the session's bearer token.
pub(crate) const AUTH_PATH: &str = "/auth/mcp";
/// How the server names itself in MCP's `initialize` answer.
const SERVER_NAME: &str = "stack-harness-tools";
/// How long a stop waits for open connections before dropping them.
const STOP_GRACE: Duration = Duration::from_secs(2);

#[derive(Debug, thiserror::Error)]
pub(crate) enum McpError {
    #[error("cannot bind the MCP tool server to 127.0.0.1: {0}")]
    Bind(std::io::Error),
    #[error("cannot read 16 random bytes for the MCP server's token from /dev/urandom: {0}")]
    Token(std::io::Error),
}

#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
struct WeatherArgs {
    /// The city to get the weather for
    city: String,
}

#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
struct AddArgs {
    /// The first number
    a: f64,
    /// The second number
    b: f64,
}

/// The tools. Every answer is a function of the arguments alone: the
/// answers reach the model in the next turn, so they must hash the same on
/// every run.
#[derive(Clone)]
pub(crate) struct Tools {
    tool_router: ToolRouter<Tools>,
}

#[tool_router]
impl Tools {
    fn new() -> Tools {
        Tools {
            tool_router: Self::tool_router(),
        }
    }

    #[tool(description = "Get the current weather for a city")]
    fn get_weather(
        &self,
        Parameters(WeatherArgs { city }): Parameters<WeatherArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        Ok(text(format!(
            "The weather in {city} is sunny, 21 degrees C."
        )))
    }

    #[tool(description = "Add two numbers")]
    fn add(
        &self,
        Parameters(AddArgs { a, b }): Parameters<AddArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        Ok(text((a + b).to_string()))
    }

    #[tool(description = "List the cities with weather reports")]
    fn list_cities(&self) -> Result<CallToolResult, ErrorData> {
        Ok(text("Paris, Berlin, Tokyo".to_owned()))
    }

    #[tool(description = "A tool that always fails")]
    fn always_fails(&self) -> Result<CallToolResult, ErrorData> {
        Ok(CallToolResult::error(vec![ContentBlock::text(
            "always_fails failed, as it always does",
        )]))
    }

    /// The `x-*` headers the call came with (names and values) and the
    /// scheme of its `Authorization`, never the credential.
    #[tool(description = "Report the HTTP headers this call arrived with")]
    fn seen_headers(&self, cx: RequestContext<RoleServer>) -> Result<CallToolResult, ErrorData> {
        let parts = cx.extensions.get::<axum::http::request::Parts>();
        let headers = parts.map(|p| &p.headers);
        Ok(text(describe_headers(headers)))
    }
}

fn text(s: String) -> CallToolResult {
    CallToolResult::success(vec![ContentBlock::text(s)])
}

fn describe_headers(headers: Option<&axum::http::HeaderMap>) -> String {
    let Some(headers) = headers else {
        return "no headers".to_owned();
    };
    let mut seen: Vec<String> = headers
        .iter()
        .filter(|(name, _)| name.as_str().starts_with("x-"))
        .map(|(name, value)| format!("{name}={}", value.to_str().unwrap_or("?")))
        .collect();
    let scheme = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(' ').next().unwrap_or_default().to_owned());
    seen.push(format!(
        "authorization={}",
        scheme.as_deref().unwrap_or("none")
    ));
    seen.sort();
    seen.join(" ")
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Tools {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new(SERVER_NAME, env!("CARGO_PKG_VERSION")))
            .with_instructions("Deterministic tools for stack-harness tests")
    }
}

/// One mount: stateless (no `Mcp-Session-Id`, so nothing to clean up and
/// nothing for the stack's client to close), JSON answers rather than
/// one-event SSE streams.
fn mount() -> StreamableHttpService<Tools, NeverSessionManager> {
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true);
    StreamableHttpService::new(|| Ok(Tools::new()), Default::default(), config)
}

async fn require_bearer(State(token): State<Arc<String>>, req: Request, next: Next) -> Response {
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if given == Some(token.as_str()) {
        next.run(req).await
    } else {
        let challenge = [(header::WWW_AUTHENTICATE, "Bearer")];
        (
            StatusCode::UNAUTHORIZED,
            challenge,
            "a bearer token is required",
        )
            .into_response()
    }
}

/// A running server; [`McpServer::shutdown`] stops it.
pub(crate) struct McpServer {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl McpServer {
    /// Binds a free loopback port and serves both mounts; `token` guards
    /// the second.
    pub(crate) async fn start(token: &str) -> Result<McpServer, McpError> {
        // `route_layer`, not `layer`: the check wraps the mount only, so an
        // unknown path is a 404, not a 401.
        let protected = Router::new().nest_service(AUTH_PATH, mount()).route_layer(
            middleware::from_fn_with_state(Arc::new(token.to_owned()), require_bearer),
        );
        let app = Router::new()
            .nest_service(OPEN_PATH, mount())
            .merge(protected);
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(McpError::Bind)?;
        let addr = listener.local_addr().map_err(McpError::Bind)?;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            let _ = serve.await;
        });
        Ok(McpServer {
            addr,
            stop: Some(stop),
            task,
        })
    }

    /// `http://127.0.0.1:PORT`; the mounts are [`OPEN_PATH`] and [`AUTH_PATH`] under it.
    pub(crate) fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting and waits (briefly) for the connections to end.
    pub(crate) async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if tokio::time::timeout(STOP_GRACE, &mut self.task)
            .await
            .is_err()
        {
            self.task.abort();
        }
    }
}

impl Drop for McpServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A fresh token: `mcptoken-` and 32 hex digits from the OS's random source.
fn new_token() -> Result<String, McpError> {
    use std::io::Read as _;
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(McpError::Token)?;
    Ok(format!("mcptoken-{}", hex::encode(bytes)))
}

/// The service: the token is made when the session is planned, so the
/// proxy, planned after it, can be told to redact it.
pub(super) struct McpService {
    token: Result<String, String>,
    server: Option<McpServer>,
    runtime: Option<tokio::runtime::Handle>,
}

impl McpService {
    pub(super) fn new() -> McpService {
        McpService {
            token: new_token().map_err(|e| e.to_string()),
            server: None,
            runtime: None,
        }
    }

    /// The token, for the proxy's redaction.
    pub(super) fn token(&self) -> Option<&str> {
        self.token.as_deref().ok()
    }
}

impl Service for McpService {
    fn name(&self) -> &'static str {
        "mcp"
    }

    fn start(&mut self, cx: &Context<'_>, _env: &mut StackEnv) -> Result<Running, ServiceError> {
        let token = match &self.token {
            Ok(token) => token.clone(),
            Err(why) => {
                return Err(ServiceError::Mcp(McpError::Token(std::io::Error::other(
                    why.clone(),
                ))));
            }
        };
        let server = cx.runtime.block_on(McpServer::start(&token))?;
        let base = server.base_url();
        cx.progress.say(format!(
            "MCP tool server on {base}{OPEN_PATH} (and {AUTH_PATH}, which wants a bearer token)"
        ));
        self.server = Some(server);
        self.runtime = Some(cx.runtime.clone());
        Ok(Running {
            name: self.name().to_owned(),
            pids: Vec::new(),
            address: Some(base),
            log: None,
            secret: Some(Secret(token)),
            ..Running::default()
        })
    }

    fn exited(&mut self) -> Option<Exit> {
        // It lives and dies with the supervisor.
        None
    }

    fn stop(&mut self, _progress: &Progress) {
        if let (Some(server), Some(runtime)) = (self.server.take(), &self.runtime) {
            runtime.block_on(server.shutdown());
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::testing::http_client as client;

    const TOKEN: &str = "mcptoken-0123456789abcdef0123456789abcdef";

    /// One JSON-RPC call as the stack's client makes it (stateless: no
    /// session, so no `initialize` is needed first); status and body.
    async fn call(url: &str, bearer: Option<&str>, method: &str, params: Value) -> (u16, Value) {
        let mut req = client()
            .post(url)
            .header("Accept", "application/json, text/event-stream")
            .header("MCP-Protocol-Version", "2025-11-25")
            .json(&json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}));
        if let Some(token) = bearer {
            req = req.bearer_auth(token);
        }
        let response = req.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    #[tokio::test]
    async fn open_mount_lists_and_calls_its_tools() {
        let server = McpServer::start(TOKEN).await.unwrap();
        let url = format!("{}{OPEN_PATH}", server.base_url());

        let (status, init) = call(
            &url,
            None,
            "initialize",
            json!({"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}),
        )
        .await;
        assert_eq!(status, 200, "{init}");
        assert_eq!(init["result"]["serverInfo"]["name"], SERVER_NAME);

        let (status, list) = call(&url, None, "tools/list", json!({})).await;
        assert_eq!(status, 200, "{list}");
        let mut names: Vec<&str> = list["result"]["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        names.sort_unstable();
        assert_eq!(
            names,
            [
                "add",
                "always_fails",
                "get_weather",
                "list_cities",
                "seen_headers"
            ]
        );

        let (_, sum) = call(
            &url,
            None,
            "tools/call",
            json!({"name": "add", "arguments": {"a": 2, "b": 40}}),
        )
        .await;
        assert_eq!(sum["result"]["content"][0]["text"], "42", "{sum}");
        assert_eq!(sum["result"]["isError"], false);

        let (_, failed) = call(
            &url,
            None,
            "tools/call",
            json!({"name": "always_fails", "arguments": {}}),
        )
        .await;
        assert_eq!(failed["result"]["isError"], true, "{failed}");
        server.shutdown().await;
    }

    #[tokio::test]
    async fn auth_mount_wants_the_token() {
        let server = McpServer::start(TOKEN).await.unwrap();
        let url = format!("{}{AUTH_PATH}", server.base_url());
        for bearer in [None, Some("mcptoken-wrong")] {
            let (status, _) = call(&url, bearer, "tools/list", json!({})).await;
            assert_eq!(status, 401, "with {bearer:?}");
        }
        let (status, list) = call(&url, Some(TOKEN), "tools/list", json!({})).await;
        assert_eq!(status, 200, "{list}");
        assert_eq!(list["result"]["tools"].as_array().unwrap().len(), 5);

        let (_, seen) = call(
            &url,
            Some(TOKEN),
            "tools/call",
            json!({"name": "seen_headers", "arguments": {}}),
        )
        .await;
        let seen = seen["result"]["content"][0]["text"].as_str().unwrap();
        assert_eq!(seen, "authorization=Bearer");
        assert!(!seen.contains(TOKEN));

        let unknown = client()
            .get(format!("{}/nowhere", server.base_url()))
            .send()
            .await
            .unwrap();
        assert_eq!(
            unknown.status().as_u16(),
            404,
            "an unknown path is not a 401"
        );
        server.shutdown().await;
    }

    #[test]
    fn tokens_are_fresh_and_shaped_for_the_secret_scan() {
        let (a, b) = (new_token().unwrap(), new_token().unwrap());
        assert_ne!(a, b);
        assert!(a.starts_with("mcptoken-") && a.len() == "mcptoken-".len() + 32);
    }
}
