//! Forwarding a provider request to its real upstream (live, record and
//! record-if-missing modes), and storing the exchange as it passes.

use std::io;
use std::sync::Arc;

use bytes::Bytes;
use futures::{SinkExt as _, StreamExt as _};
use http_body_util::{BodyExt as _, StreamBody};
use hyper::body::Frame;
use hyper::header::{self, HeaderMap, HeaderName};
use hyper::{Response, StatusCode};
use url::Url;

use super::answer::{ProxyBody, full, json_error, serve, set_content_type};
use super::miss::Miss;
use super::request::Arrived;
use super::shared::{RunConfig, Shared};
use super::unreachable::UpstreamFailure;
use crate::record::store::{
    Recording, ResponseNormalizer, StoredBody, StoredRequest, StoredResponse, StreamRecorder,
    is_event_stream, recorded_response,
};

/// Request headers never forwarded: hop-by-hop ones, and those the upstream
/// client sets itself. `accept-encoding` is dropped so the upstream answers
/// uncompressed and recordings stay readable.
const NOT_FORWARDED: [&str; 11] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "accept-encoding",
];

fn upstream_url(base: &Url, rest: &str, query: Option<&str>) -> Url {
    let mut url = base.clone();
    let path = format!("{}/{rest}", base.path().trim_end_matches('/'));
    url.set_path(&path);
    url.set_query(query);
    url
}

/// The stack's headers minus hop-by-hop ones (including any the
/// `Connection` header names), `Host` and `Content-Length`.
fn forwarded_headers(headers: &HeaderMap) -> HeaderMap {
    let named_by_connection: Vec<String> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|name| name.trim().to_ascii_lowercase())
        .collect();
    let mut out = HeaderMap::new();
    for (name, value) in headers {
        let name_str = name.as_str();
        if NOT_FORWARDED.contains(&name_str)
            || name == header::CONTENT_LENGTH
            || named_by_connection.iter().any(|n| n == name_str)
        {
            continue;
        }
        out.append(HeaderName::from(name), value.clone());
    }
    out
}

/// Sends the request upstream and answers with its response; when `store`,
/// the exchange is written before the stack sees the end of the response,
/// and the stack sees the response as stored (redacted and normalised), so
/// that it gets the same bytes a later replay serves. Live mode passes the
/// response through untouched.
pub(super) async fn forward(
    shared: &Arc<Shared>,
    config: &Arc<RunConfig>,
    provider: &str,
    base: &Url,
    request: Arrived,
    store: bool,
) -> Response<ProxyBody> {
    let rest = request.parts.path.trim_start_matches('/');
    let url = upstream_url(base, rest, request.head.uri.query());
    let http = match shared.http() {
        Ok(http) => http,
        Err(problem) => {
            return json_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("stack-harness: {problem}"),
            );
        }
    };
    let sent = http
        .request(request.head.method.clone(), url.clone())
        .headers(forwarded_headers(&request.head.headers))
        .body(request.raw_body.clone())
        .send()
        .await;
    let upstream = match sent {
        Ok(response) => response,
        Err(e) => return unreachable(shared, config, provider, &url, &request, &e),
    };
    let status = upstream.status();
    let content_type = upstream
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let pending = store.then(|| Pending {
        shared: shared.clone(),
        config: config.clone(),
        provider: provider.to_owned(),
        url: url.to_string(),
        hash: request.hash.clone(),
        request: StoredRequest {
            body: StoredBody::from_body(&request.parts.body),
            method: request.parts.method.clone(),
            path: request.parts.path.clone(),
            query: request.parts.query.clone(),
        },
        normalized: request.normalized.clone(),
        tests: request.tests.clone(),
    });

    if is_event_stream(content_type.as_deref()) {
        return match pending {
            Some(pending) => record_stream(upstream, status, content_type, pending),
            None => pass_stream(upstream, status, content_type),
        };
    }
    let bytes = match upstream.bytes().await {
        Ok(bytes) => bytes,
        Err(e) => return unreachable(shared, config, provider, &url, &request, &e),
    };
    let Some(pending) = pending else {
        return full(status, content_type.as_deref(), bytes);
    };
    let mut normalizer = ResponseNormalizer::new(config.rules.clone(), &pending.hash);
    let response = recorded_response(status.as_u16(), content_type, &bytes, &mut normalizer);
    let hash = pending.hash.clone();
    match pending.save(response).await {
        Ok(stored) => serve(&stored, &hash),
        Err(problem) => json_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("stack-harness: recording the response failed: {problem}"),
        ),
    }
}

/// The upstream gave no answer. The running tests are told (it fails them,
/// naming the URL and what to start), and the stack gets a 424, which the
/// OpenAI SDK does not retry: a 502 would be retried twice, failing the
/// same way, and leave the test to fail on whatever the stack then says.
fn unreachable(
    shared: &Shared,
    config: &RunConfig,
    provider: &str,
    url: &Url,
    request: &Arrived,
    error: &reqwest::Error,
) -> Response<ProxyBody> {
    let error = UpstreamFailure::describe(error);
    let message =
        format!("stack-harness: upstream of provider `{provider}` failed at `{url}`: {error}");
    shared.ledger().add_unreachable(UpstreamFailure {
        tests: request.tests.clone(),
        provider: provider.to_owned(),
        url: url.to_string(),
        method: request.parts.method.clone(),
        path: request.parts.path.clone(),
        error,
        mode: config.mode,
    });
    json_error(StatusCode::FAILED_DEPENDENCY, &message)
}

/// Forwards a stream chunk by chunk as it arrives (live mode).
fn pass_stream(
    upstream: reqwest::Response,
    status: StatusCode,
    content_type: Option<String>,
) -> Response<ProxyBody> {
    let (mut tx, rx) = futures::channel::mpsc::channel::<Result<Frame<Bytes>, io::Error>>(16);
    tokio::spawn(async move {
        let mut chunks = upstream.bytes_stream();
        while let Some(chunk) = chunks.next().await {
            let frame = chunk.map(Frame::data).map_err(io::Error::other);
            let failed = frame.is_err();
            if tx.send(frame).await.is_err() || failed {
                return;
            }
        }
    });
    stream_response(rx, status, content_type.as_deref())
}

/// Forwards a stream event by event as each completes, normalised as it
/// is stored, and writes the exchange when the stream ends.
fn record_stream(
    upstream: reqwest::Response,
    status: StatusCode,
    content_type: Option<String>,
    pending: Pending,
) -> Response<ProxyBody> {
    let (mut tx, rx) = futures::channel::mpsc::channel::<Result<Frame<Bytes>, io::Error>>(16);
    let response = stream_response(rx, status, content_type.as_deref());
    tokio::spawn(async move {
        let normalizer = ResponseNormalizer::new(pending.config.rules.clone(), &pending.hash);
        let mut recorder = StreamRecorder::new(normalizer);
        let mut chunks = upstream.bytes_stream();
        let mut listening = true;
        while let Some(chunk) = chunks.next().await {
            match chunk {
                Ok(bytes) => send_frames(&mut tx, recorder.push(&bytes), &mut listening).await,
                Err(e) => {
                    // An incomplete stream is never stored; the upstream
                    // broke off, which fails the running tests.
                    pending.broke_off(&e);
                    let _ = tx.send(Err(io::Error::other(e))).await;
                    return;
                }
            }
        }
        let (frames, stored) = recorder.finish(status.as_u16(), content_type);
        send_frames(&mut tx, frames, &mut listening).await;
        let _ = pending.save(stored).await;
        drop(tx);
    });
    response
}

/// Sends frames while the stack listens; after it hangs up the recording
/// goes on reading, so that what is stored is complete.
async fn send_frames(
    tx: &mut futures::channel::mpsc::Sender<Result<Frame<Bytes>, io::Error>>,
    frames: Vec<Bytes>,
    listening: &mut bool,
) {
    for frame in frames {
        if *listening && tx.send(Ok(Frame::data(frame))).await.is_err() {
            *listening = false;
        }
    }
}

fn stream_response(
    rx: futures::channel::mpsc::Receiver<Result<Frame<Bytes>, io::Error>>,
    status: StatusCode,
    content_type: Option<&str>,
) -> Response<ProxyBody> {
    let mut response = Response::new(StreamBody::new(rx).boxed_unsync());
    *response.status_mut() = status;
    set_content_type(response.headers_mut(), content_type);
    response
}

/// An exchange waiting for its response body before being written.
struct Pending {
    shared: Arc<Shared>,
    config: Arc<RunConfig>,
    provider: String,
    /// Where the request went.
    url: String,
    hash: String,
    request: StoredRequest,
    normalized: serde_json::Value,
    tests: Vec<String>,
}

impl Pending {
    /// The upstream's answer broke off before its end.
    fn broke_off(&self, error: &reqwest::Error) {
        self.shared.ledger().add_unreachable(UpstreamFailure {
            tests: self.tests.clone(),
            provider: self.provider.clone(),
            url: self.url.clone(),
            method: self.request.method.clone(),
            path: self.request.path.clone(),
            error: UpstreamFailure::describe(error),
            mode: self.config.mode,
        });
    }

    /// Writes the exchange and returns the response as a later replay will
    /// read it back (JSON numbers go through their text form); a failure is
    /// also reported to the running tests as a miss, since a streamed
    /// answer has already begun.
    async fn save(self, response: StoredResponse) -> Result<StoredResponse, String> {
        let response = serde_json::to_vec(&response)
            .ok()
            .and_then(|text| serde_json::from_slice(&text).ok())
            .unwrap_or(response);
        let recording = Recording {
            hash: self.hash.clone(),
            provider: self.provider.clone(),
            request: self.request.clone(),
            response: response.clone(),
            stacks: self.config.stack.iter().cloned().collect(),
            used_by: self.tests.clone(),
        };
        let (store, rules) = (self.config.store.clone(), self.config.rules.clone());
        let saved = match tokio::task::spawn_blocking(move || store.save(recording, &rules)).await {
            Ok(Ok(_)) => Ok(response),
            Ok(Err(e)) => Err(e.to_string()),
            Err(e) => Err(format!("the task writing it failed: {e}")),
        };
        let mut ledger = self.shared.ledger();
        match &saved {
            Ok(_) => ledger.used(&self.provider, &self.hash, &self.tests),
            Err(e) => ledger.add_miss(Miss {
                tests: self.tests,
                method: self.request.method,
                path: self.request.path,
                provider: self.provider,
                hash: self.hash,
                body: self.normalized,
                nearest: None,
                problem: Some(format!("recording the response failed: {e}")),
            }),
        }
        saved
    }
}

#[cfg(test)]
mod tests {
    use hyper::header::HeaderValue;

    use super::*;

    #[test]
    fn only_end_to_end_headers_are_forwarded() {
        let mut headers = HeaderMap::new();
        for (name, value) in [
            ("host", "127.0.0.1:4000"),
            ("connection", "keep-alive, x-hop"),
            ("x-hop", "1"),
            ("keep-alive", "timeout=5"),
            ("accept-encoding", "gzip, deflate"),
            ("content-length", "12"),
            ("transfer-encoding", "chunked"),
            ("authorization", "Bearer fake"),
            ("content-type", "application/json"),
            ("accept", "application/json"),
            ("x-stainless-retry-count", "0"),
        ] {
            headers.append(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
        let forwarded = forwarded_headers(&headers);
        let names: Vec<&str> = forwarded.keys().map(HeaderName::as_str).collect();
        assert_eq!(
            names,
            [
                "authorization",
                "content-type",
                "accept",
                "x-stainless-retry-count"
            ]
        );
    }

    #[test]
    fn the_upstream_url_keeps_the_origin_path_and_the_query() {
        let table = [
            (
                "http://127.0.0.1:8080",
                "v1/models",
                None,
                "http://127.0.0.1:8080/v1/models",
            ),
            (
                "http://127.0.0.1:8080/",
                "v1/chat/completions",
                Some("a=1"),
                "http://127.0.0.1:8080/v1/chat/completions?a=1",
            ),
            (
                "https://example.com/openai/",
                "v1/x",
                None,
                "https://example.com/openai/v1/x",
            ),
        ];
        for (base, rest, query, expected) in table {
            let url = upstream_url(&Url::parse(base).unwrap(), rest, query);
            assert_eq!(url.as_str(), expected, "{base} + {rest}");
        }
    }
}
