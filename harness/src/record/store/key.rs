//! The request key: which recording answers a request.
//!
//! `sha256` of the compact canonical JSON
//! `{"body": B, "method": M, "path": P, "provider": V, "query": Q}` where `P`
//! is the upstream path (`/v1/chat/completions`: host, port and the proxy's
//! `/p/<provider>` prefix dropped), `Q` the query pairs sorted, and `B` the
//! normalised body (`null` when empty, `{"bytes_sha256": ...}` when not
//! JSON). Headers are not part of the key: `Host`, `user-agent`,
//! `x-stainless-*` and `authorization` vary between runs and machines.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::normalize::{canonical, normalize};
use super::rules::Rules;

/// How many hex digits of the key name a recording's file (and stand for
/// `{key}` in a response rule).
pub(crate) const FILE_HASH_LEN: usize = 16;

/// A request or response body as the proxy sees it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Body {
    Empty,
    Json(Value),
    /// Not JSON (or not declared as JSON); kept as bytes.
    Bytes(Vec<u8>),
}

impl Body {
    /// Classifies raw bytes: JSON when they parse as JSON.
    pub(crate) fn from_bytes(bytes: &[u8]) -> Body {
        if bytes.is_empty() {
            return Body::Empty;
        }
        match serde_json::from_slice(bytes) {
            Ok(value) => Body::Json(value),
            Err(_) => Body::Bytes(bytes.to_vec()),
        }
    }

    /// The bytes sent on the wire for this body (JSON is compact).
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        match self {
            Body::Empty => Vec::new(),
            Body::Json(value) => value.to_string().into_bytes(),
            Body::Bytes(bytes) => bytes.clone(),
        }
    }
}

/// What identifies a request, after redaction.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct RequestParts {
    pub(crate) method: String,
    /// The upstream path, starting with `/`.
    pub(crate) path: String,
    /// Decoded and sorted.
    pub(crate) query: Vec<(String, String)>,
    pub(crate) body: Body,
}

/// Decodes a raw query string into sorted pairs.
pub(crate) fn sorted_query(raw: Option<&str>) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(raw.unwrap_or("").as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
    pairs.sort();
    pairs
}

/// The body as hashed and as shown in miss diffs.
pub(crate) fn normalized_body(rules: &Rules, body: &Body) -> Value {
    match body {
        Body::Empty => Value::Null,
        Body::Json(value) => normalize(rules, value.clone()),
        Body::Bytes(bytes) => json!({ "bytes_sha256": hex::encode(Sha256::digest(bytes)) }),
    }
}

/// The full hex sha256 key of a request to `provider`.
pub(crate) fn request_key(rules: &Rules, provider: &str, request: &RequestParts) -> String {
    key_of_normalized(provider, request, normalized_body(rules, &request.body))
}

/// The key when the normalised body is already at hand.
pub(crate) fn key_of_normalized(
    provider: &str,
    request: &RequestParts,
    normalized: Value,
) -> String {
    let query: Vec<Value> = request.query.iter().map(|(k, v)| json!([k, v])).collect();
    let document = canonical(json!({
        "method": request.method,
        "provider": provider,
        "path": request.path,
        "query": query,
        "body": normalized,
    }));
    hex::encode(Sha256::digest(document.to_string().as_bytes()))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn parts(method: &str, path: &str, query: Option<&str>, body: &str) -> RequestParts {
        RequestParts {
            method: method.to_owned(),
            path: path.to_owned(),
            query: sorted_query(query),
            body: Body::from_bytes(body.as_bytes()),
        }
    }

    fn shipped_rules() -> Rules {
        let text = include_str!("../../../../recordings/normalize.yaml");
        Rules::parse(text, Path::new("recordings/normalize.yaml"), &|_| None).unwrap()
    }

    #[test]
    fn the_key_is_a_known_sha256_of_the_canonical_document() {
        let request = parts("GET", "/v1/models", None, "");
        // sha256 of {"body":null,"method":"GET","path":"/v1/models","provider":"vllm","query":[]}
        let expected = hex::encode(Sha256::digest(
            br#"{"body":null,"method":"GET","path":"/v1/models","provider":"vllm","query":[]}"#,
        ));
        assert_eq!(request_key(&Rules::default(), "vllm", &request), expected);
    }

    #[test]
    fn what_changes_the_key_and_what_does_not() {
        let rules = Rules::default();
        let base = parts(
            "POST",
            "/v1/chat/completions",
            Some("a=1&b=2"),
            r#"{"model":"m","temperature":0.0}"#,
        );
        let key = |p: &RequestParts, provider: &str| request_key(&rules, provider, p);
        let same = [
            parts(
                "POST",
                "/v1/chat/completions",
                Some("b=2&a=1"),
                r#"{"model":"m","temperature":0.0}"#,
            ),
            parts(
                "POST",
                "/v1/chat/completions",
                Some("a=1&b=2"),
                r#"{ "temperature": 0.0, "model": "m" }"#,
            ),
        ];
        for p in &same {
            assert_eq!(key(p, "vllm"), key(&base, "vllm"), "{p:?}");
        }
        let different = [
            parts(
                "PUT",
                "/v1/chat/completions",
                Some("a=1&b=2"),
                r#"{"model":"m","temperature":0.0}"#,
            ),
            parts(
                "POST",
                "/v1/completions",
                Some("a=1&b=2"),
                r#"{"model":"m","temperature":0.0}"#,
            ),
            parts(
                "POST",
                "/v1/chat/completions",
                Some("a=1"),
                r#"{"model":"m","temperature":0.0}"#,
            ),
            parts(
                "POST",
                "/v1/chat/completions",
                Some("a=1&b=2"),
                r#"{"model":"m","temperature":0.5}"#,
            ),
            parts(
                "POST",
                "/v1/chat/completions",
                Some("a=1&b=2"),
                r#"{"model":"m"}"#,
            ),
        ];
        for p in &different {
            assert_ne!(key(p, "vllm"), key(&base, "vllm"), "{p:?}");
        }
        assert_ne!(key(&base, "ollama"), key(&base, "vllm"));
    }

    #[test]
    fn non_json_bodies_are_hashed_as_bytes() {
        let rules = Rules::default();
        let a = parts("POST", "/upload", None, "not json {");
        let b = parts("POST", "/upload", None, "not json {!");
        assert_eq!(a.body, Body::Bytes(b"not json {".to_vec()));
        assert_ne!(request_key(&rules, "p", &a), request_key(&rules, "p", &b));
        assert_eq!(
            normalized_body(&rules, &a.body),
            json!({"bytes_sha256": hex::encode(Sha256::digest(b"not json {"))})
        );
    }

    #[test]
    fn random_ids_from_the_stack_map_to_the_same_key_under_the_shipped_rules() {
        let rules = shipped_rules();
        // The same file-search turn from two runs: the stack generated
        // different file, vector store and tool call ids each time.
        let run = |file: &str, vs: &str, call: &str, msg: &str| {
            let body = json!({
                "model": "smollm2-135m",
                "messages": [
                    {"role": "user", "content": format!("search {vs} please")},
                    {"role": "assistant", "content": "", "tool_calls": [{"id": call, "type": "function", "function": {"name": "file_search", "arguments": "{}"}}]},
                    {"role": "tool", "tool_call_id": call, "content": format!("[1] document_id: {file}, score: 0.8123456789\nParis <|{file}|> ({msg})")}
                ],
                "temperature": 0.0
            });
            parts("POST", "/v1/chat/completions", None, &body.to_string())
        };
        let first = run(
            "file-0123456789abcdef0123456789abcdef",
            "vs_0b9a5d3c-1111-4222-8333-444455556666",
            "call_ZXCVbnm1234567890asdfghj",
            "msg_5b0f1a2e-9c3d-4e5f-8a7b-6c5d4e3f2a1b",
        );
        let second = run(
            "file-fedcba9876543210fedcba9876543210",
            "vs_77777777-2222-4333-8444-555555555555",
            "3kJt0pQr8sUvWxYz1a2B3c4D5e6F7g8H",
            "msg_0123abcd-0000-4000-8000-123412341234",
        );
        assert_ne!(first.body, second.body);
        assert_eq!(
            request_key(&rules, "vllm", &first),
            request_key(&rules, "vllm", &second)
        );
        let different_question = run(
            "file-fedcba9876543210fedcba9876543210",
            "vs_77777777-2222-4333-8444-555555555555",
            "x",
            "msg_0123abcd-0000-4000-8000-123412341234",
        );
        // The tool call id is normalised, so this still matches...
        assert_eq!(
            request_key(&rules, "vllm", &first),
            request_key(&rules, "vllm", &different_question)
        );
        // ...but real content does not.
        let mut changed = first.clone();
        if let Body::Json(v) = &mut changed.body {
            v["messages"][0]["content"] = json!("another question");
        }
        assert_ne!(
            request_key(&rules, "vllm", &first),
            request_key(&rules, "vllm", &changed)
        );
    }
}
