//! [`Client`]: requests to the stack as one identity (the default user, a
//! named user, nobody, an edge-case token), tagged with the test's id.
//! `TestContext`'s own helpers are the default identity's.

use anyhow::{Context as _, anyhow};
use reqwest::Method;
use reqwest::header::{AUTHORIZATION, HeaderValue};
use serde_json::Value;
use tokio::sync::OnceCell;

use super::failure::{self, UnexpectedStatus};
use super::response::{self, ApiResponse, BytesResponse, StreamEvent};
use super::user::{DEFAULT_USER, Identity, User};
use super::{Deferred, TestContext};
use crate::issuer::TokenCase;
use crate::session::LiveStack;

/// Requests to the stack as one identity: what [`TestContext::as_user`],
/// [`TestContext::anonymous`], [`TestContext::with_token`] and
/// [`TestContext::with_authorization`] return. It has the context's
/// helpers (`get`, `post`, ..., `defer_delete`), which send as that
/// identity.
///
/// On a session without the harness's token issuer, every request of a
/// client that is not the context's own skips the test, naming the command
/// that runs it.
pub struct Client<'t> {
    ctx: &'t TestContext,
    identity: Identity,
    /// The token of a [`TestContext::with_token`] client: minted on its
    /// first request, then the same for all of its requests.
    minted: OnceCell<String>,
}

impl<'t> Client<'t> {
    pub(crate) fn new(ctx: &'t TestContext, identity: Identity) -> Client<'t> {
        Client {
            ctx,
            identity,
            minted: OnceCell::new(),
        }
    }

    /// The `Authorization` header this identity sends, if any.
    async fn authorization(&self, stack: &LiveStack) -> anyhow::Result<Option<String>> {
        if stack.issuer.is_none() {
            if self.identity.needs_issuer() {
                return crate::skip(self.ctx.needs_issuer());
            }
            return Ok(None);
        }
        let session = &self.ctx.session;
        let token = match &self.identity {
            Identity::Anonymous => return Ok(None),
            Identity::Header(header) => return Ok(Some(header.clone())),
            Identity::Default => {
                let request = User::named(DEFAULT_USER).mint_request(TokenCase::Valid);
                session.token(&request, true).await?
            }
            Identity::User(user) => {
                session
                    .token(&user.mint_request(TokenCase::Valid), true)
                    .await?
            }
            Identity::Token(case) => {
                let request = User::named(DEFAULT_USER).mint_request(*case);
                let token = self
                    .minted
                    .get_or_try_init(|| async {
                        session
                            .token(&request, false)
                            .await?
                            .context("the session's token issuer is gone")
                    })
                    .await?;
                Some(token.clone())
            }
        };
        Ok(token.map(|t| format!("Bearer {t}")))
    }

    /// A request to the stack as this identity, tagged with the test's id;
    /// the escape hatch for anything the helpers below do not cover.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
    ) -> anyhow::Result<reqwest::RequestBuilder> {
        let stack = self.ctx.session.stack().await?;
        let authorization = self.authorization(&stack).await?;
        let provider_data = serde_json::json!({ "__test_id": self.ctx.id() }).to_string();
        let mut request = stack
            .http
            .request(
                method,
                format!("{}{path}", stack.base_url(self.ctx.replica)),
            )
            .header("X-LlamaStack-Provider-Data", provider_data);
        if let Some(value) = authorization {
            let mut value = HeaderValue::from_str(&value)
                .map_err(|_| anyhow!("an Authorization header must be visible ASCII"))?;
            // Kept out of any debug print of the request.
            value.set_sensitive(true);
            request = request.header(AUTHORIZATION, value);
        }
        Ok(request)
    }

    /// Sends a request; a failure to get an answer says what is known about
    /// the stack.
    async fn connect(
        &self,
        builder: reqwest::RequestBuilder,
        what: &str,
    ) -> anyhow::Result<reqwest::Response> {
        match builder.send().await {
            Ok(r) => Ok(r),
            Err(e) => {
                // Not the error's own text alone: reqwest does not print
                // headers, and the URL carries no token.
                let explained = self
                    .ctx
                    .session
                    .explain(self.ctx.id(), self.ctx.replica, e)
                    .await;
                Err(explained.context(format!("{what} failed")))
            }
        }
    }

    async fn send(
        &self,
        builder: reqwest::RequestBuilder,
        what: String,
    ) -> anyhow::Result<ApiResponse> {
        let response = self.connect(builder, &what).await?;
        ApiResponse::read(what, response).await
    }

    /// `GET path`, any status.
    pub async fn get(&self, path: &str) -> anyhow::Result<ApiResponse> {
        let req = self.request(Method::GET, path).await?;
        self.send(req, format!("GET {path}")).await
    }

    /// `DELETE path`, any status.
    pub async fn delete(&self, path: &str) -> anyhow::Result<ApiResponse> {
        let req = self.request(Method::DELETE, path).await?;
        self.send(req, format!("DELETE {path}")).await
    }

    /// `POST path` with a JSON body, any status.
    pub async fn post(&self, path: &str, body: &Value) -> anyhow::Result<ApiResponse> {
        let req = self.request(Method::POST, path).await?.json(body);
        self.send(req, format!("POST {path}")).await
    }

    /// `POST path` with a multipart form (file uploads), any status.
    pub async fn post_multipart(
        &self,
        path: &str,
        form: reqwest::multipart::Form,
    ) -> anyhow::Result<ApiResponse> {
        let req = self.request(Method::POST, path).await?.multipart(form);
        self.send(req, format!("POST {path}")).await
    }

    /// `GET path`, any status, the body as bytes (file contents, say).
    pub async fn get_bytes(&self, path: &str) -> anyhow::Result<BytesResponse> {
        let what = format!("GET {path}");
        let req = self.request(Method::GET, path).await?;
        let response = self.connect(req, &what).await?;
        let status = response.status().as_u16();
        let bytes = response
            .bytes()
            .await
            .with_context(|| format!("{what}: reading the body"))?;
        Ok(BytesResponse {
            what,
            status,
            bytes: bytes.to_vec(),
        })
    }

    /// `GET path`, expecting 2xx; the JSON body.
    pub async fn get_ok(&self, path: &str) -> anyhow::Result<Value> {
        self.get(path).await?.ok()
    }

    /// `POST path`, expecting 2xx; the JSON body.
    pub async fn post_ok(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        self.post(path, body).await?.ok()
    }

    /// `POST path` expecting a server-sent-event stream; its `data:` events in
    /// order, parsed as JSON (a final `[DONE]` is reported, not parsed).
    pub async fn post_stream(&self, path: &str, body: &Value) -> anyhow::Result<Vec<StreamEvent>> {
        let req = self.request(Method::POST, path).await?.json(body);
        let what = format!("POST {path} (stream)");
        let response = self.connect(req, &what).await?;
        let status = response.status().as_u16();
        let is_sse = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        let text = response
            .text()
            .await
            .with_context(|| format!("{what}: reading the stream"))?;
        UnexpectedStatus::check(&what, None, status, &text)?;
        if !is_sse {
            return Err(anyhow!(
                "{what} answered {status} with no event stream: {}",
                failure::clip(&text)
            ));
        }
        response::parse_events(&text).with_context(|| format!("{what}: malformed event stream"))
    }

    /// Deletes `path` as this identity once the test has ended (see
    /// [`TestContext::defer_delete`]): what a user made, only that user
    /// may delete.
    pub fn defer_delete(&self, path: impl Into<String>) {
        self.ctx.cleanups.push(Deferred {
            path: path.into(),
            identity: self.identity.clone(),
        });
    }
}

impl std::fmt::Debug for Client<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let identity = match &self.identity {
            Identity::Default => "the default user".to_owned(),
            Identity::Anonymous => "nobody".to_owned(),
            Identity::User(user) => format!("user `{}`", user.name()),
            Identity::Token(case) => format!("a {case:?} token"),
            Identity::Header(_) => "a raw Authorization header".to_owned(),
        };
        f.debug_struct("Client")
            .field("test", &self.ctx.id())
            .field("as", &identity)
            .finish()
    }
}
