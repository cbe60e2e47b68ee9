//! The proxy's answers: a whole body, an OpenAI-shaped error, and a stored
//! response as replay serves it (one body frame per stream event).

use std::io;

use bytes::Bytes;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt as _, Full, StreamBody};
use hyper::body::Frame;
use hyper::header::{CONTENT_TYPE, HeaderMap, HeaderValue};
use hyper::{Response, StatusCode};

use crate::record::store::{Recording, StoredResponse};

/// Every response body the proxy sends: whole or streamed frame by frame.
pub(super) type ProxyBody = UnsyncBoxBody<Bytes, std::io::Error>;

/// A whole body with an optional content type.
pub(super) fn full(
    status: StatusCode,
    content_type: Option<&str>,
    bytes: impl Into<Bytes>,
) -> Response<ProxyBody> {
    let mut response = Response::new(
        Full::new(bytes.into())
            .map_err(|never| match never {})
            .boxed_unsync(),
    );
    *response.status_mut() = status;
    if let Some(ct) = content_type.and_then(|ct| HeaderValue::from_str(ct).ok()) {
        response.headers_mut().insert(CONTENT_TYPE, ct);
    }
    response
}

/// An OpenAI-shaped error, so the stack's SDK reports the message.
pub(super) fn json_error(status: StatusCode, message: &str) -> Response<ProxyBody> {
    let body = serde_json::json!({"error": {"message": message, "type": "stack_harness", "code": status.as_u16()}});
    full(status, Some("application/json"), body.to_string())
}

/// A JSON success body.
pub(super) fn json_ok(value: &impl serde::Serialize) -> Response<ProxyBody> {
    let body = serde_json::to_vec(value).unwrap_or_default();
    full(StatusCode::OK, Some("application/json"), body)
}

/// Answers from a recording.
pub(super) fn replay(recording: &Recording) -> Response<ProxyBody> {
    serve(&recording.response, &recording.hash)
}

/// What replay sends for a stored response, one body frame per stream
/// event; record modes answer a non-streamed response the same way.
pub(super) fn serve(response: &StoredResponse, hash: &str) -> Response<ProxyBody> {
    let status = StatusCode::from_u16(response.status).unwrap_or(StatusCode::OK);
    let content_type = response.content_type.as_deref();
    if let Some(events) = &response.events {
        let frames: Vec<Result<Frame<Bytes>, io::Error>> = events
            .iter()
            .map(|e| Ok(Frame::data(Bytes::from(e.to_wire()))))
            .collect();
        let body = StreamBody::new(futures::stream::iter(frames)).boxed_unsync();
        let mut response = Response::new(body);
        *response.status_mut() = status;
        set_content_type(response.headers_mut(), content_type);
        return response;
    }
    match response.body.to_body() {
        Ok(body) => full(status, content_type, body.to_bytes()),
        Err(problem) => json_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("stack-harness: recording {hash} is corrupt: {problem}"),
        ),
    }
}

pub(super) fn set_content_type(headers: &mut HeaderMap, content_type: Option<&str>) {
    if let Some(value) = content_type.and_then(|ct| HeaderValue::from_str(ct).ok()) {
        headers.insert(CONTENT_TYPE, value);
    }
}
