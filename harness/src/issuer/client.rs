//! The test process's side of the issuer: it asks the session's issuer
//! (found in the session's state) for tokens, and to rotate its keys.

use anyhow::{Context as _, bail};
use serde_json::Value;

use super::token::MintRequest;

/// The issuer of a running session, at its loopback address.
#[derive(Debug, Clone)]
pub(crate) struct IssuerClient {
    url: String,
    http: reqwest::Client,
}

impl IssuerClient {
    pub(crate) fn new(url: String, http: reqwest::Client) -> IssuerClient {
        IssuerClient { url, http }
    }

    async fn call(&self, request: reqwest::RequestBuilder, what: &str) -> anyhow::Result<Value> {
        let response = request.send().await.with_context(|| {
            format!(
                "the session's token issuer at {} did not answer {what}",
                self.url
            )
        })?;
        let status = response.status();
        let body: Value = response
            .json()
            .await
            .with_context(|| format!("the token issuer answered {what} with no JSON"))?;
        if !status.is_success() {
            bail!("the token issuer answered {what} with {status}: {body}");
        }
        Ok(body)
    }

    /// A token as `request` asks (the text is a secret: see `client::Token`).
    pub(crate) async fn mint(&self, request: &MintRequest) -> anyhow::Result<String> {
        let body = self
            .call(
                self.http.post(format!("{}/mint", self.url)).json(request),
                "POST /mint",
            )
            .await?;
        match body["token"].as_str() {
            Some(token) => Ok(token.to_owned()),
            None => bail!("the token issuer's answer to POST /mint has no `token`"),
        }
    }

    /// Makes the next key the signing key; what the issuer says it did.
    pub(crate) async fn rotate(&self) -> anyhow::Result<Value> {
        self.call(
            self.http.post(format!("{}/rotate", self.url)),
            "POST /rotate",
        )
        .await
    }

    /// Key ids and the stack's fetches of the key set.
    pub(crate) async fn stats(&self) -> anyhow::Result<Value> {
        self.call(self.http.get(format!("{}/stats", self.url)), "GET /stats")
            .await
    }
}
