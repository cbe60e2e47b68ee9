//! The recording format: one exchange as stored (`Recording`), its
//! request and response bodies (JSON, text or base64), and the checks that
//! a file is what its name and content say.
//!
//! A file is deterministic: struct keys are sorted, bodies keep the
//! upstream's key order, `stacks` and `used_by` are sorted, there are no timestamps, and
//! the model server's random ids and clocks are replaced by the
//! `response_rules` (`response`), so re-recording an unchanged test
//! rewrites identical bytes.

use std::path::Path;

use base64::Engine as _;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::key::{Body, FILE_HASH_LEN, RequestParts, request_key};
use super::redact::Redactor;
use super::rules::Rules;
use super::sse::{self, SseEvent};
use crate::record::error::RecordError;
use crate::stack::identity::Stack;

/// A body in a recording: JSON, UTF-8 text, or base64 bytes (at most one).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct StoredBody {
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub(crate) body: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) body_base64: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) body_text: Option<String>,
}

/// Keeps a literal `null` body apart from an absent one.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

impl StoredBody {
    pub(crate) fn from_body(body: &Body) -> StoredBody {
        match body {
            Body::Empty => StoredBody::default(),
            Body::Json(value) => StoredBody {
                body: Some(value.clone()),
                ..StoredBody::default()
            },
            Body::Bytes(bytes) => match std::str::from_utf8(bytes) {
                Ok(text) => StoredBody {
                    body_text: Some(text.to_owned()),
                    ..StoredBody::default()
                },
                Err(_) => StoredBody {
                    body_base64: Some(base64::engine::general_purpose::STANDARD.encode(bytes)),
                    ..StoredBody::default()
                },
            },
        }
    }

    pub(crate) fn to_body(&self) -> Result<Body, String> {
        match (&self.body, &self.body_text, &self.body_base64) {
            (None, None, None) => Ok(Body::Empty),
            (Some(value), None, None) => Ok(Body::Json(value.clone())),
            (None, Some(text), None) => Ok(Body::Bytes(text.as_bytes().to_vec())),
            (None, None, Some(b64)) => base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map(Body::Bytes)
                .map_err(|e| format!("`body_base64` is not base64: {e}")),
            _ => Err("more than one of `body`, `body_text`, `body_base64`".to_owned()),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct StoredRequest {
    #[serde(flatten)]
    pub(crate) body: StoredBody,
    pub(crate) method: String,
    pub(crate) path: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) query: Vec<(String, String)>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct StoredResponse {
    #[serde(flatten)]
    pub(crate) body: StoredBody,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) content_type: Option<String>,
    /// Set instead of a body for `text/event-stream` responses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) events: Option<Vec<SseEvent>>,
    pub(crate) status: u16,
}

/// One recorded exchange, as stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Recording {
    /// The full request key.
    pub(crate) hash: String,
    pub(crate) provider: String,
    pub(crate) request: StoredRequest,
    pub(crate) response: StoredResponse,
    /// The stacks whose recording runs made or used this exchange, sorted:
    /// `["llama-stack 0.7.3", "ogx 1.5.0"]`. The key leaves the stack out on
    /// purpose: the upstream's answer depends on the request alone, so an
    /// exchange that two stacks make is one file, and one that a stack makes
    /// alone (its request differs: OGX 1.5 embeds a file's text without its
    /// last newline) has a key of its own beside the others. This field says
    /// which stacks need the file, so that `prune` after a run on one stack
    /// keeps what the others use. Empty in files recorded before it existed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) stacks: Vec<String>,
    /// The tests that made or used this request, sorted.
    #[serde(default)]
    pub(crate) used_by: Vec<String>,
}

/// Whether a content type is a server-sent event stream.
pub(crate) fn is_event_stream(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|ct| {
        ct.trim_start()
            .to_ascii_lowercase()
            .starts_with("text/event-stream")
    })
}

impl StoredResponse {
    /// Builds the stored form of an upstream response, secrets redacted.
    pub(crate) fn from_upstream(
        status: u16,
        content_type: Option<String>,
        bytes: &[u8],
        redactor: &Redactor,
    ) -> StoredResponse {
        let bytes = redactor.redact_bytes(bytes);
        if is_event_stream(content_type.as_deref())
            && let Some(events) = sse::parse(&bytes)
        {
            return StoredResponse {
                body: StoredBody::default(),
                content_type,
                events: Some(events),
                status,
            };
        }
        let is_json = content_type
            .as_deref()
            .is_some_and(|ct| ct.to_ascii_lowercase().contains("json"));
        let body = match Body::from_bytes(&bytes) {
            Body::Json(value) if is_json => Body::Json(value),
            Body::Empty => Body::Empty,
            _ => Body::Bytes(bytes),
        };
        StoredResponse {
            body: StoredBody::from_body(&body),
            content_type,
            events: None,
            status,
        }
    }
}

impl Recording {
    /// The request as keyed: what `verify` rehashes.
    pub(crate) fn request_parts(&self) -> Result<RequestParts, String> {
        Ok(RequestParts {
            method: self.request.method.clone(),
            path: self.request.path.clone(),
            query: self.request.query.clone(),
            body: self.request.body.to_body()?,
        })
    }

    /// Serialises exactly as written to disk.
    pub(crate) fn to_file_bytes(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }

    /// Checks the content against its file: names, hash, bodies.
    pub(crate) fn check(&self, file: &Path, rules: &Rules) -> Result<(), String> {
        let parts = self.request_parts()?;
        self.response.body.to_body()?;
        let recomputed = request_key(rules, &self.provider, &parts);
        if recomputed != self.hash {
            return Err(format!(
                "stored hash `{}` is not the request's key `{recomputed}` under the current rules; re-record it",
                self.hash
            ));
        }
        let expected_name = format!("{}.json", &self.hash[..FILE_HASH_LEN.min(self.hash.len())]);
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name != expected_name {
            return Err(format!(
                "file name should be `{expected_name}` for hash `{}`",
                self.hash
            ));
        }
        if let Some(bad) = self.stacks.iter().find(|s| Stack::from_label(s).is_none()) {
            return Err(format!(
                "`stacks` names `{bad}`, which is no stack: a launcher and its version, `ogx 1.5.0`"
            ));
        }
        if !self.stacks.is_sorted_by(|a, b| a < b) {
            return Err("`stacks` is not sorted, or names a stack twice".to_owned());
        }
        let provider_dir = file
            .parent()
            .and_then(Path::file_name)
            .and_then(|n| n.to_str());
        if provider_dir != Some(self.provider.as_str()) {
            return Err(format!(
                "it belongs in the `{}` provider directory",
                self.provider
            ));
        }
        Ok(())
    }
}

pub(crate) fn parse_recording(path: &Path, bytes: &[u8]) -> Result<Recording, RecordError> {
    serde_json::from_slice(bytes).map_err(|e| RecordError::CorruptRecording {
        file: path.to_owned(),
        problem: e.to_string(),
    })
}

#[cfg(test)]
pub(super) mod tests {
    use serde_json::json;

    use super::*;
    use crate::record::store::key::sorted_query;

    pub(crate) fn sample(used_by: &[&str]) -> Recording {
        let rules = Rules::default();
        let parts = RequestParts {
            method: "POST".into(),
            path: "/v1/chat/completions".into(),
            query: sorted_query(None),
            body: Body::Json(
                json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]}),
            ),
        };
        Recording {
            hash: request_key(&rules, "vllm", &parts),
            provider: "vllm".into(),
            request: StoredRequest {
                body: StoredBody::from_body(&parts.body),
                method: parts.method.clone(),
                path: parts.path.clone(),
                query: parts.query.clone(),
            },
            response: StoredResponse::from_upstream(
                200,
                Some("application/json".into()),
                br#"{"id":"x","choices":[]}"#,
                &Redactor::default(),
            ),
            stacks: Vec::new(),
            used_by: used_by.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn the_file_format_is_stable() {
        let text = String::from_utf8(sample(&["t::b", "t::a"]).to_file_bytes()).unwrap();
        let hash = sample(&[]).hash;
        assert_eq!(
            text,
            format!(
                r#"{{
  "hash": "{hash}",
  "provider": "vllm",
  "request": {{
    "body": {{
      "model": "m",
      "messages": [
        {{
          "role": "user",
          "content": "hi"
        }}
      ]
    }},
    "method": "POST",
    "path": "/v1/chat/completions"
  }},
  "response": {{
    "body": {{
      "id": "x",
      "choices": []
    }},
    "content_type": "application/json",
    "status": 200
  }},
  "used_by": [
    "t::b",
    "t::a"
  ]
}}
"#
            )
        );
    }

    #[test]
    fn bodies_round_trip_in_every_form() {
        let table = [
            (Body::Empty, json!({})),
            (Body::Json(json!(null)), json!({"body": null})),
            (Body::Json(json!({"a": 1})), json!({"body": {"a": 1}})),
            (
                Body::Bytes(b"plain".to_vec()),
                json!({"body_text": "plain"}),
            ),
            (
                Body::Bytes(vec![0xff, 0x00]),
                json!({"body_base64": "/wA="}),
            ),
        ];
        for (body, stored) in table {
            let s = StoredBody::from_body(&body);
            assert_eq!(serde_json::to_value(&s).unwrap(), stored, "{body:?}");
            let back: StoredBody = serde_json::from_value(stored).unwrap();
            assert_eq!(back.to_body().unwrap(), body);
        }
        let two: StoredBody = serde_json::from_value(json!({"body": 1, "body_text": "x"})).unwrap();
        assert_eq!(
            two.to_body().unwrap_err(),
            "more than one of `body`, `body_text`, `body_base64`"
        );
    }

    #[test]
    fn responses_are_stored_by_content_type() {
        let r = Redactor::new(vec!["sk-secret-1".into()]);
        let sse = StoredResponse::from_upstream(
            200,
            Some("text/event-stream; charset=utf-8".into()),
            b"data: {\"k\":\"sk-secret-1\"}\n\ndata: [DONE]\n\n",
            &r,
        );
        assert_eq!(
            sse.events,
            Some(vec![
                SseEvent::Data("{\"k\":\"<redacted>\"}".into()),
                SseEvent::Data("[DONE]".into())
            ])
        );
        let text = StoredResponse::from_upstream(500, Some("text/plain".into()), b"{\"a\":1}", &r);
        assert_eq!(text.body.body_text.as_deref(), Some("{\"a\":1}"));
        let json =
            StoredResponse::from_upstream(200, Some("application/json".into()), b"{\"a\":1}", &r);
        assert_eq!(json.body.body, Some(json!({"a": 1})));
        let bad_json =
            StoredResponse::from_upstream(200, Some("application/json".into()), b"{oops", &r);
        assert_eq!(bad_json.body.body_text.as_deref(), Some("{oops"));
    }
}

#[cfg(test)]
mod stacks_tests {
    use super::tests::sample;
    use super::*;

    #[test]
    fn stacks_must_be_sorted_stack_labels() {
        let rec = sample(&[]);
        let file = std::path::PathBuf::from(format!("recordings/vllm/{}.json", &rec.hash[..16]));
        let with = |stacks: &[&str]| Recording {
            stacks: stacks.iter().map(|s| (*s).to_owned()).collect(),
            ..rec.clone()
        };
        let rules = Rules::default();
        assert_eq!(
            with(&["llama-stack 0.7.3", "ogx 1.5.0"]).check(&file, &rules),
            Ok(())
        );
        assert_eq!(
            with(&["ogx"]).check(&file, &rules),
            Err(
                "`stacks` names `ogx`, which is no stack: a launcher and its version, `ogx 1.5.0`"
                    .into()
            )
        );
        for unsorted in [
            &["ogx 1.5.0", "llama-stack 0.7.3"][..],
            &["ogx 1.5.0", "ogx 1.5.0"],
        ] {
            assert_eq!(
                with(unsorted).check(&file, &rules),
                Err("`stacks` is not sorted, or names a stack twice".into())
            );
        }
    }
}
