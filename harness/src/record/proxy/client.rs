//! `ProxyControl`: the test processes' side of the proxy's control API.

use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::api::{ConfigRequest, FinishRequest, ProxyState, RunUsage, TestRequest};
use super::failures::TestFailures;
use crate::record::error::RecordError;
use crate::record::mode::InferenceMode;

/// A client for one proxy's `/__harness/` endpoints.
#[derive(Clone, Debug)]
pub(crate) struct ProxyControl {
    /// `http://127.0.0.1:PORT`, no trailing slash.
    base: String,
    http: reqwest::Client,
}

impl ProxyControl {
    #[cfg(test)]
    pub(crate) fn new(base: impl Into<String>) -> ProxyControl {
        let base = base.into().trim_end_matches('/').to_owned();
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .unwrap_or_default();
        ProxyControl { base, http }
    }

    /// Shares an existing client (and its connection pool); building a new
    /// one costs ~30 ms of TLS set-up.
    pub(crate) fn with_client(base: impl Into<String>, http: reqwest::Client) -> ProxyControl {
        ProxyControl {
            base: base.into().trim_end_matches('/').to_owned(),
            http,
        }
    }

    #[cfg(test)]
    pub(crate) fn base(&self) -> &str {
        &self.base
    }

    /// Whether a proxy answers at this address.
    #[cfg(test)]
    pub(crate) async fn healthy(&self) -> bool {
        self.get::<serde_json::Value>("health").await.is_ok()
    }

    #[cfg(test)]
    pub(crate) async fn state(&self) -> Result<ProxyState, RecordError> {
        self.get("state").await
    }

    /// Sets this run's mode, recordings directory (made absolute here: the
    /// proxy runs in another directory) and stack. `reset` starts a new
    /// run: usage and misses so far are forgotten.
    pub(crate) async fn configure(
        &self,
        mode: InferenceMode,
        dir: &Path,
        reset: bool,
        stack: Option<String>,
    ) -> Result<ProxyState, RecordError> {
        let dir =
            std::path::absolute(dir).map_err(|e| RecordError::io("cannot resolve", dir, e))?;
        self.post(
            "config",
            &ConfigRequest {
                mode,
                dir,
                reset,
                stack,
            },
        )
        .await
    }

    pub(crate) async fn test_started(&self, test: &str) -> Result<(), RecordError> {
        self.post::<serde_json::Value>(
            "test/start",
            &TestRequest {
                test: test.to_owned(),
            },
        )
        .await
        .map(drop)
    }

    /// Announces the end of a test; returns the misses and unreachable
    /// upstreams attributed to it.
    pub(crate) async fn test_finished(&self, test: &str) -> Result<TestFailures, RecordError> {
        self.post(
            "test/end",
            &TestRequest {
                test: test.to_owned(),
            },
        )
        .await
    }

    #[cfg(test)]
    pub(crate) async fn failures(&self, test: &str) -> Result<TestFailures, RecordError> {
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("test", test)
            .finish();
        self.get(&format!("misses?{query}")).await
    }

    /// Ends a complete run: the proxy writes the usage manifest to `manifest`.
    pub(crate) async fn finish_run(&self, manifest: &Path) -> Result<RunUsage, RecordError> {
        let manifest = std::path::absolute(manifest)
            .map_err(|e| RecordError::io("cannot resolve", manifest, e))?;
        self.post("run/finish", &FinishRequest { manifest }).await
    }

    #[cfg(test)]
    async fn get<T: DeserializeOwned>(&self, endpoint: &str) -> Result<T, RecordError> {
        let sent = self
            .http
            .get(format!("{}/__harness/{endpoint}", self.base))
            .send()
            .await;
        self.answer(endpoint, sent).await
    }

    async fn post<T: DeserializeOwned>(
        &self,
        endpoint: &str,
        body: &impl Serialize,
    ) -> Result<T, RecordError> {
        let sent = self
            .http
            .post(format!("{}/__harness/{endpoint}", self.base))
            .json(body)
            .send()
            .await;
        self.answer(endpoint, sent).await
    }

    async fn answer<T: DeserializeOwned>(
        &self,
        endpoint: &str,
        sent: Result<reqwest::Response, reqwest::Error>,
    ) -> Result<T, RecordError> {
        let error = |problem: String| RecordError::Control {
            base: self.base.clone(),
            endpoint: endpoint.split('?').next().unwrap_or(endpoint).to_owned(),
            problem,
        };
        let response = sent.map_err(|e| {
            error(format!(
                "cannot connect ({e}); is the session supervisor running?"
            ))
        })?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| error(e.to_string()))?;
        if !status.is_success() {
            let message = serde_json::from_slice::<serde_json::Value>(&bytes)
                .ok()
                .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
                .unwrap_or_else(|| String::from_utf8_lossy(&bytes).into_owned());
            return Err(error(format!("HTTP {}: {message}", status.as_u16())));
        }
        serde_json::from_slice(&bytes).map_err(|e| error(format!("unexpected answer: {e}")))
    }
}
