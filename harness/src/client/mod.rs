//! The per-test context: the trial's id and parameters, captured output,
//! deferred cleanups, and a client for the stack that tags every request with
//! the test id (`X-LlamaStack-Provider-Data: {"__test_id": ...}`) so a stack
//! recording on its own side can scope its recordings per test.

mod api;
mod cleanup;
mod failure;
mod response;
mod user;

use std::fmt::Display;
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::Value;

pub use api::Client;
pub use failure::{Skip, UnexpectedStatus, skip};
pub(crate) use failure::{failure_status, skip_reason};
pub use response::{ApiResponse, BytesResponse, StreamEvent};
pub use user::{IssuerStats, KeyRotation, User};

use crate::issuer::TokenCase;
use crate::registry::{Param, TrialParams, params};
use crate::session::Session;
use crate::stack::identity::Stack;
use user::Identity;

/// What every test receives: `async fn t(ctx: &TestContext) -> harness::Result`.
pub struct TestContext {
    id: String,
    params: TrialParams,
    session: Arc<Session>,
    output: Mutex<String>,
    nocapture: bool,
    cleanups: cleanup::Cleanups<Deferred>,
    /// Which of the session's stack replicas this test talks to.
    replica: usize,
}

impl TestContext {
    pub(crate) fn new(
        id: String,
        params: TrialParams,
        session: Arc<Session>,
        nocapture: bool,
    ) -> Self {
        TestContext {
            replica: session.ordinal_for(&id),
            id,
            params,
            session,
            output: Mutex::new(String::new()),
            nocapture,
            cleanups: cleanup::Cleanups::default(),
        }
    }

    /// The trial's full name, parameters included; the test id the stack sees.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Which stack this run talks to, for a test that states each stack's
    /// truth where they differ:
    ///
    /// ```text
    /// let valid = match ctx.stack()?.launcher() {
    ///     LauncherKind::LlamaStack => "'assistants' or 'batch'",
    ///     LauncherKind::Ogx => "'assistants', 'batch', 'fine-tune', ...",
    /// };
    /// ```
    ///
    /// A test that applies to some stacks only says so with
    /// `only(stacks = "..", reason = "..")` instead, and a known bug of some
    /// stacks is an `xfail(.., stacks = "..")`.
    pub fn stack(&self) -> anyhow::Result<&Stack> {
        self.session.started_stack()
    }

    fn model(&self, param: Param) -> &str {
        match self.params.models.iter().find(|(p, _)| *p == param) {
            Some((_, v)) => v,
            None => self.undeclared(param),
        }
    }

    fn count(&self, param: Param) -> u32 {
        match self.params.counts.iter().find(|(p, _)| *p == param) {
            Some((_, n)) => *n,
            None => self.undeclared(param),
        }
    }

    /// A test reading a parameter it did not declare is a bug in the test,
    /// caught on its first run.
    fn undeclared(&self, param: Param) -> ! {
        panic!(
            "test `{}` reads `{}` but does not declare it: add `{}` to its #[harness::test(...)]",
            self.id,
            param.id(),
            param.id()
        )
    }

    // One accessor per row of the parameter table (`registry::PARAMS`).

    /// The vector-io provider this trial runs on (the test must declare
    /// `vector_io`): its `provider_id` in the stack, for the `provider_id`
    /// of the stores it creates.
    pub fn vector_io(&self) -> &str {
        self.model(params::vector_io)
    }

    /// The `--text-model` this trial runs with (the test must declare `text_model`).
    pub fn text_model(&self) -> &str {
        self.model(params::text_model)
    }
    /// The `--vision-model` this trial runs with.
    pub fn vision_model(&self) -> &str {
        self.model(params::vision_model)
    }
    /// The `--embedding-model` this trial runs with.
    pub fn embedding_model(&self) -> &str {
        self.model(params::embedding_model)
    }
    /// The `--safety-shield` this trial runs with.
    pub fn safety_shield(&self) -> &str {
        self.model(params::safety_shield)
    }
    /// The `--judge-model` this trial runs with.
    pub fn judge_model(&self) -> &str {
        self.model(params::judge_model)
    }
    /// `--embedding-dimension` (the test must declare `embedding_dimension`).
    pub fn embedding_dimension(&self) -> u32 {
        self.count(params::embedding_dimension)
    }

    /// The data-driven case this trial runs (the test must name a `cases` file).
    pub fn case(&self) -> &Value {
        match &self.params.case {
            Some(c) => &c.data,
            None => panic!(
                "test `{}` reads a case but names no `cases = \"...\"` file",
                self.id
            ),
        }
    }

    /// The case's id.
    pub fn case_id(&self) -> &str {
        self.params.case.as_ref().map_or("", |c| c.id.as_str())
    }

    /// The case deserialised into the test's own type.
    pub fn case_as<T: DeserializeOwned>(&self) -> anyhow::Result<T> {
        serde_json::from_value(self.case().clone()).with_context(|| {
            format!(
                "case `{}` does not have the shape this test expects",
                self.case_id()
            )
        })
    }

    /// Test output: shown when the test fails (or with --show-output), or at
    /// once with --nocapture.
    pub fn log(&self, message: impl Display) {
        if self.nocapture {
            eprintln!("[{}] {message}", self.id);
        } else if let Ok(mut out) = self.output.lock() {
            out.push_str(&message.to_string());
            out.push('\n');
        }
    }

    /// Deletes `path` (`/v1/files/file-…`) once the test has ended, however
    /// it ended: after an early `?`, a panic or its deadline too. Deferred
    /// deletes run newest first; one that fails is logged, not failed, and a
    /// path already gone (404) is fine.
    pub fn defer_delete(&self, path: impl Into<String>) {
        self.client().defer_delete(path);
    }

    /// Runs the deferred cleanups, within their own deadline; the runner
    /// calls it once the test body has ended, before deciding the outcome.
    pub(crate) async fn run_cleanups(&self) {
        let delete =
            |d: Deferred| async move { Client::new(self, d.identity).delete(&d.path).await };
        let log = |message: String| self.log(message);
        cleanup::run(self.cleanups.take(), cleanup::DEADLINE, delete, &log).await;
    }

    pub(crate) fn take_output(&self) -> String {
        self.output
            .lock()
            .map(|mut o| std::mem::take(&mut *o))
            .unwrap_or_default()
    }

    /// The stack's base URL (`http://127.0.0.1:8321`), starting the session's
    /// stack on first use.
    pub async fn base_url(&self) -> anyhow::Result<String> {
        Ok(self
            .session
            .stack()
            .await?
            .base_url(self.replica)
            .to_owned())
    }

    /// Where the session's `name` service listens, if it runs one: for
    /// `postgres`, `postgresql://llamastack@127.0.0.1:PORT/llamastack`.
    /// `None` on a session without it (a test then skips itself, saying
    /// which `--stack-config` runs it).
    pub async fn service_address(&self, name: &str) -> anyhow::Result<Option<String>> {
        self.session.service_address(name).await
    }

    /// The credential the session's `name` service wants of its clients:
    /// for `mcp`, the bearer token of its `/auth/mcp` mount. A per-session
    /// random value; keep it out of anything a test prints.
    pub async fn service_secret(&self, name: &str) -> anyhow::Result<Option<String>> {
        self.session.service_secret(name).await
    }

    /// Restarts the stack within its session (the services it uses, such
    /// as its database, and their data stay), and returns once it is ready
    /// again. Every test running at that moment sees the stack go away: use
    /// it in a test that runs alone.
    pub async fn restart_stack(&self) -> anyhow::Result<()> {
        self.session.restart_stack().await
    }

    /// The context's own client: the default user on a session with a token
    /// issuer, else no `Authorization` at all.
    fn client(&self) -> Client<'_> {
        Client::new(self, Identity::Default)
    }

    /// A client whose requests carry `user`'s bearer token, from the
    /// session's issuer: `ctx.as_user("alice")`,
    /// `ctx.as_user(User::named("carol").roles(["restricted"]))`.
    pub fn as_user(&self, user: impl Into<User>) -> Client<'_> {
        Client::new(self, Identity::User(user.into()))
    }

    /// A client whose requests carry no `Authorization` header.
    pub fn anonymous(&self) -> Client<'_> {
        Client::new(self, Identity::Anonymous)
    }

    /// A client whose requests carry a token of this kind for the default
    /// user, minted fresh for this client (`TokenCase::Expired`, ...).
    pub fn with_token(&self, case: TokenCase) -> Client<'_> {
        Client::new(self, Identity::Token(case))
    }

    /// A client whose requests carry exactly this `Authorization` header
    /// (`"Token abc"`, `"bearer abc"`): for malformed headers.
    pub fn with_authorization(&self, header: impl Into<String>) -> Client<'_> {
        Client::new(self, Identity::Header(header.into()))
    }

    /// The session's token issuer: key rotation and what the stack fetched.
    pub async fn issuer(&self) -> anyhow::Result<TokenIssuer> {
        match self.session.stack().await?.issuer.clone() {
            Some(client) => Ok(TokenIssuer { client }),
            None => crate::skip(self.needs_issuer()),
        }
    }

    /// Why a test that acts as users cannot run here, and what runs it.
    fn needs_issuer(&self) -> String {
        format!(
            "this test acts as users and needs the session's token issuer, which `{}` does not have; \
             run it with `cargo test --test integration -- --stack-config={AUTH_CONFIG} --exact '{}'`",
            self.session.shown(),
            self.id
        )
    }

    /// A request to the stack, tagged with this test's id; the escape hatch
    /// for anything the helpers below do not cover.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
    ) -> anyhow::Result<reqwest::RequestBuilder> {
        self.client().request(method, path).await
    }

    /// `GET path`, any status.
    pub async fn get(&self, path: &str) -> anyhow::Result<ApiResponse> {
        self.client().get(path).await
    }

    /// `DELETE path`, any status.
    pub async fn delete(&self, path: &str) -> anyhow::Result<ApiResponse> {
        self.client().delete(path).await
    }

    /// `POST path` with a JSON body, any status.
    pub async fn post(&self, path: &str, body: &Value) -> anyhow::Result<ApiResponse> {
        self.client().post(path, body).await
    }

    /// `POST path` with a multipart form (file uploads), any status.
    pub async fn post_multipart(
        &self,
        path: &str,
        form: reqwest::multipart::Form,
    ) -> anyhow::Result<ApiResponse> {
        self.client().post_multipart(path, form).await
    }

    /// `GET path`, any status, the body as bytes (file contents, say).
    pub async fn get_bytes(&self, path: &str) -> anyhow::Result<BytesResponse> {
        self.client().get_bytes(path).await
    }

    /// `GET path`, expecting 2xx; the JSON body.
    pub async fn get_ok(&self, path: &str) -> anyhow::Result<Value> {
        self.client().get_ok(path).await
    }

    /// `POST path`, expecting 2xx; the JSON body.
    pub async fn post_ok(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        self.client().post_ok(path, body).await
    }

    /// `POST path` expecting a server-sent-event stream; its `data:` events in
    /// order, parsed as JSON (a final `[DONE]` is reported, not parsed).
    pub async fn post_stream(&self, path: &str, body: &Value) -> anyhow::Result<Vec<StreamEvent>> {
        self.client().post_stream(path, body).await
    }
}

/// The run-config variant whose stack checks tokens against the session's
/// issuer, for the command a skipped test names.
const AUTH_CONFIG: &str = "server:ci-tests::run-with-auth.yaml";

/// A deletion a test deferred, and who sends it.
#[derive(Clone, Debug)]
pub(crate) struct Deferred {
    path: String,
    identity: Identity,
}

impl AsRef<str> for Deferred {
    fn as_ref(&self) -> &str {
        &self.path
    }
}

/// The session's token issuer, for tests of key rotation.
#[derive(Debug, Clone)]
pub struct TokenIssuer {
    client: crate::issuer::IssuerClient,
}

impl TokenIssuer {
    /// Makes the published next key the signing key and publishes a new
    /// next key; the old key stays published.
    pub async fn rotate(&self) -> anyhow::Result<KeyRotation> {
        let answer = self.client.rotate().await?;
        serde_json::from_value(answer).context("the issuer's rotation report")
    }

    /// The issuer's keys and the stack's fetches of them.
    pub async fn stats(&self) -> anyhow::Result<IssuerStats> {
        let answer = self.client.stats().await?;
        serde_json::from_value(answer).context("the issuer's stats")
    }
}

impl std::fmt::Debug for TestContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestContext")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}
