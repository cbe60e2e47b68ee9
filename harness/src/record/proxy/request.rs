//! A provider request as the proxy reads it: the raw bytes the upstream
//! gets, and the redacted, normalised and keyed form that the store, the
//! miss report and the ledger see.

use bytes::Bytes;
use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};

use super::answer::{ProxyBody, json_error};
use crate::record::store::{
    Body, RequestParts, Rules, key_of_normalized, normalized_body, sorted_query,
};

/// What a request is, once read.
pub(super) struct Arrived {
    pub(super) head: hyper::http::request::Parts,
    /// As received: this is what the upstream gets.
    pub(super) raw_body: Bytes,
    /// Redacted: this is what is keyed and stored.
    pub(super) parts: RequestParts,
    pub(super) hash: String,
    pub(super) normalized: serde_json::Value,
    pub(super) tests: Vec<String>,
}

impl Arrived {
    /// Reads the body of a request to `provider` for the upstream path
    /// `/<rest>`; `tests` is its attribution, decided on arrival, before
    /// the body is read.
    pub(super) async fn read(
        req: Request<Incoming>,
        provider: &str,
        rest: &str,
        rules: &Rules,
        tests: Vec<String>,
    ) -> Result<Arrived, Response<ProxyBody>> {
        let (head, body) = req.into_parts();
        let raw_body = match body.collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(e) => {
                return Err(json_error(
                    StatusCode::BAD_REQUEST,
                    &format!("stack-harness: cannot read the request body: {e}"),
                ));
            }
        };
        let redactor = &rules.redactor;
        let body = match Body::from_bytes(&raw_body) {
            Body::Json(mut value) => {
                redactor.redact_json(&mut value);
                Body::Json(value)
            }
            Body::Bytes(bytes) => Body::Bytes(redactor.redact_bytes(&bytes)),
            Body::Empty => Body::Empty,
        };
        let query = sorted_query(head.uri.query())
            .into_iter()
            .map(|(k, v)| {
                (
                    redactor.redact_str(&k).into_owned(),
                    redactor.redact_str(&v).into_owned(),
                )
            })
            .collect();
        let parts = RequestParts {
            method: head.method.to_string(),
            path: format!("/{rest}"),
            query,
            body,
        };
        let normalized = normalized_body(rules, &parts.body);
        let hash = key_of_normalized(provider, &parts, normalized.clone());
        Ok(Arrived {
            head,
            raw_body,
            parts,
            hash,
            normalized,
            tests,
        })
    }
}
