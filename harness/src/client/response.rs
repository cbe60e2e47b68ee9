//! What the stack answered: status and JSON body, with the error text a test
//! failure needs when the status was not the expected one.

use anyhow::{Context as _, bail};
use serde_json::Value;

/// A response from the stack, read whole.
#[derive(Debug, Clone)]
pub struct ApiResponse {
    /// `GET /v1/models`, for messages.
    pub what: String,
    pub status: u16,
    /// The body as JSON, or `Value::Null` when it was not JSON.
    pub body: Value,
    /// The body as text.
    pub text: String,
}

/// One server-sent event's `data:`.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    Data(Value),
    /// `data: [DONE]`.
    Done,
}

impl StreamEvent {
    /// The event's JSON, if it is not `[DONE]`.
    pub fn data(&self) -> Option<&Value> {
        match self {
            StreamEvent::Data(v) => Some(v),
            StreamEvent::Done => None,
        }
    }
}

impl ApiResponse {
    pub(crate) async fn read(
        what: String,
        response: reqwest::Response,
    ) -> anyhow::Result<ApiResponse> {
        let status = response.status().as_u16();
        let text = response
            .text()
            .await
            .with_context(|| format!("{what}: reading the body"))?;
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Ok(ApiResponse {
            what,
            status,
            body,
            text,
        })
    }

    /// The JSON body if the status is 2xx, else an error quoting the body.
    pub fn ok(self) -> anyhow::Result<Value> {
        if !(200..300).contains(&self.status) {
            bail!(
                "{} answered {}: {}",
                self.what,
                self.status,
                clip(&self.text)
            );
        }
        if self.body.is_null() && !self.text.trim().is_empty() && self.text.trim() != "null" {
            bail!(
                "{} answered {} with a body that is not JSON: {}",
                self.what,
                self.status,
                clip(&self.text)
            );
        }
        Ok(self.body)
    }

    /// The error message of an error response (`{"detail": ...}` or
    /// `{"error": {"message": ...}}`), for asserting on error shapes.
    pub fn error_message(&self) -> Option<String> {
        let detail = self.body.get("detail");
        let from_error = self.body.pointer("/error/message");
        match detail.or(from_error)? {
            Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        }
    }
}

/// A body for an error message: whole if short, else its start.
pub(crate) fn clip(text: &str) -> String {
    const MAX: usize = 2000;
    if text.len() <= MAX {
        return text.to_owned();
    }
    let cut = (0..=MAX)
        .rev()
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(0);
    format!("{}… ({} bytes in all)", &text[..cut], text.len())
}

/// Splits an event stream into its `data:` payloads.
pub(crate) fn parse_events(text: &str) -> anyhow::Result<Vec<StreamEvent>> {
    let mut events = Vec::new();
    for block in text.replace("\r\n", "\n").split("\n\n") {
        let data: Vec<&str> = block
            .lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .map(|d| d.strip_prefix(' ').unwrap_or(d))
            .collect();
        if data.is_empty() {
            continue;
        }
        let payload = data.join("\n");
        if payload.trim() == "[DONE]" {
            events.push(StreamEvent::Done);
        } else {
            let value = serde_json::from_str(&payload)
                .with_context(|| format!("event is not JSON: {}", clip(&payload)))?;
            events.push(StreamEvent::Data(value));
        }
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_data_events_and_done() {
        let events =
            parse_events("data: {\"a\":1}\n\n: comment\n\ndata: {\"a\":2}\r\n\r\ndata: [DONE]\n\n")
                .expect("valid");
        assert_eq!(
            events,
            [
                StreamEvent::Data(serde_json::json!({"a":1})),
                StreamEvent::Data(serde_json::json!({"a":2})),
                StreamEvent::Done
            ]
        );
        let err = parse_events("data: {oops\n\n").expect_err("invalid");
        assert_eq!(err.to_string(), "event is not JSON: {oops");
    }

    #[test]
    fn ok_quotes_the_body_of_an_error() {
        let r = ApiResponse {
            what: "GET /v1/models/x".into(),
            status: 404,
            body: serde_json::json!({"detail": "Model 'x' not found"}),
            text: "{\"detail\": \"Model 'x' not found\"}".into(),
        };
        assert_eq!(r.error_message().as_deref(), Some("Model 'x' not found"));
        assert_eq!(
            r.ok().expect_err("404").to_string(),
            "GET /v1/models/x answered 404: {\"detail\": \"Model 'x' not found\"}"
        );
    }
}
