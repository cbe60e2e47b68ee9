//! What the stack answered: status and JSON body (or bytes), and the checks
//! tests make on it, with the failure text each needs: the expected and
//! actual status, the words looked for and the message found.

use anyhow::{Context as _, anyhow, bail};
use serde_json::Value;

use super::failure::{UnexpectedStatus, clip, diff};

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

    /// The JSON body if the status is 2xx, else an [`UnexpectedStatus`]
    /// quoting the body.
    pub fn ok(self) -> anyhow::Result<Value> {
        UnexpectedStatus::check(&self.what, None, self.status, &self.text)?;
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

    /// The body (JSON, or `Value::Null` when it is not) if the status is
    /// `status`, else an [`UnexpectedStatus`].
    pub fn expect_status(self, status: u16) -> anyhow::Result<Value> {
        UnexpectedStatus::check(&self.what, Some(status), self.status, &self.text)?;
        Ok(self.body)
    }

    /// Checks an error answer: its status, and a message that mentions every
    /// one of `needles`. The failure names the needles missing and quotes the
    /// message.
    pub fn expect_error(&self, status: u16, needles: &[&str]) -> anyhow::Result<()> {
        let message = self.expect_error_message(status)?;
        let missing: Vec<String> = needles
            .iter()
            .filter(|n| !message.contains(**n))
            .map(|n| format!("`{n}`"))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let wanted: Vec<String> = needles.iter().map(|n| format!("`{n}`")).collect();
        bail!(
            "{} answered {} as expected, but its error message does not mention {}\n  expected: a message mentioning {}\n    actual: {message}",
            self.what,
            self.status,
            missing.join(", "),
            wanted.join(", ")
        )
    }

    /// Checks an error answer: its status, and its whole message. The failure
    /// shows a line diff of the two messages.
    pub fn expect_message(&self, status: u16, expected: &str) -> anyhow::Result<()> {
        let message = self.expect_error_message(status)?;
        if message == expected {
            return Ok(());
        }
        bail!(
            "{} answered {} as expected, but its error message differs (-expected +actual):\n{}",
            self.what,
            self.status,
            diff(expected, &message)
        )
    }

    fn expect_error_message(&self, status: u16) -> anyhow::Result<String> {
        UnexpectedStatus::check(&self.what, Some(status), self.status, &self.text)?;
        self.error_message().ok_or_else(|| {
            anyhow!(
                "{} answered {} as expected, but with no error message (`detail` or `error.message`): {}",
                self.what,
                self.status,
                clip(&self.text)
            )
        })
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

/// A response read as bytes ([`TestContext::get_bytes`](super::TestContext::get_bytes)),
/// for content that is not JSON.
#[derive(Debug, Clone)]
pub struct BytesResponse {
    /// `GET /v1/files/file-1/content`, for messages.
    pub what: String,
    pub status: u16,
    pub bytes: Vec<u8>,
}

impl BytesResponse {
    /// The bytes if the status is 2xx, else an [`UnexpectedStatus`].
    pub fn ok(self) -> anyhow::Result<Vec<u8>> {
        let text = String::from_utf8_lossy(&self.bytes);
        UnexpectedStatus::check(&self.what, None, self.status, &text)?;
        Ok(self.bytes)
    }
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

    /// A response as `ApiResponse::read` makes it from `text`.
    fn answered(what: &str, status: u16, text: &str) -> ApiResponse {
        ApiResponse {
            what: what.into(),
            status,
            body: serde_json::from_str(text).unwrap_or(Value::Null),
            text: text.into(),
        }
    }

    fn not_found() -> ApiResponse {
        answered(
            "GET /v1/models/x",
            404,
            "{\"detail\": \"Model 'x' not found\"}",
        )
    }

    #[test]
    fn ok_quotes_the_body_of_an_error() {
        let r = not_found();
        assert_eq!(r.error_message().as_deref(), Some("Model 'x' not found"));
        let err = r.ok().expect_err("404");
        assert_eq!(
            err.to_string(),
            "GET /v1/models/x answered 404: {\"detail\": \"Model 'x' not found\"}"
        );
        assert_eq!(super::super::failure_status(&err), Some(404));
    }

    #[test]
    fn expect_status_answers_the_body_or_both_statuses() {
        let body = not_found().expect_status(404).expect("404 was expected");
        assert_eq!(body["detail"], "Model 'x' not found");
        let err = not_found().expect_status(200).expect_err("not 200");
        assert_eq!(
            err.to_string(),
            "GET /v1/models/x answered 404 instead of 200: {\"detail\": \"Model 'x' not found\"}"
        );
        assert_eq!(super::super::failure_status(&err), Some(404));
        let r = answered("GET /v1/files/f/content", 200, "plain text");
        assert_eq!(r.expect_status(200).expect("200"), Value::Null);
    }

    #[test]
    fn expect_error_names_what_the_message_lacks() {
        let r = answered(
            "POST /v1/chat/completions",
            400,
            "{\"error\": {\"message\": \"Input should be 'none', 'auto' or 'required'\"}}",
        );
        r.expect_error(400, &["'auto'", "required"])
            .expect("both are mentioned");
        assert_eq!(
            r.expect_error(400, &["tool_choice", "'auto'", "sometimes"])
                .expect_err("two are missing")
                .to_string(),
            "POST /v1/chat/completions answered 400 as expected, but its error message does not mention `tool_choice`, `sometimes`\n  expected: a message mentioning `tool_choice`, `'auto'`, `sometimes`\n    actual: Input should be 'none', 'auto' or 'required'"
        );
        let err = r.expect_error(404, &["auto"]).expect_err("400 is not 404");
        assert_eq!(
            err.to_string(),
            "POST /v1/chat/completions answered 400 instead of 404: {\"error\": {\"message\": \"Input should be 'none', 'auto' or 'required'\"}}"
        );
        assert_eq!(super::super::failure_status(&err), Some(400));
        assert_eq!(
            answered("GET /v1/x", 400, "Bad Request")
                .expect_error(400, &["x"])
                .expect_err("no message")
                .to_string(),
            "GET /v1/x answered 400 as expected, but with no error message (`detail` or `error.message`): Bad Request"
        );
    }

    #[test]
    fn expect_message_diffs_the_whole_message() {
        not_found()
            .expect_message(404, "Model 'x' not found")
            .expect("the same message");
        assert_eq!(
            not_found()
                .expect_message(404, "Model 'x' was not found")
                .expect_err("another message")
                .to_string(),
            "GET /v1/models/x answered 404 as expected, but its error message differs (-expected +actual):\n-Model 'x' was not found\n+Model 'x' not found"
        );
    }

    #[test]
    fn bytes_are_answered_on_2xx_only() {
        let ok = BytesResponse {
            what: "GET /v1/files/f/content".into(),
            status: 200,
            bytes: vec![0, 255],
        };
        assert_eq!(ok.clone().ok().expect("200"), [0, 255]);
        let gone = BytesResponse {
            status: 404,
            bytes: b"{\"detail\": \"gone\"}".to_vec(),
            ..ok
        };
        assert_eq!(
            gone.ok().expect_err("404").to_string(),
            "GET /v1/files/f/content answered 404: {\"detail\": \"gone\"}"
        );
    }
}
