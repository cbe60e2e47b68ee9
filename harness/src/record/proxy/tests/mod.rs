//! End-to-end tests of the proxy on loopback, against a tiny fake upstream:
//! the fixtures here, the tests by theme in the sub-modules.

mod control;
mod errors;
mod modes;
mod wire;

use std::convert::Infallible;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use http_body_util::{BodyExt as _, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use url::Url;

use super::answer::{ProxyBody, full};
use super::client::ProxyControl;
use super::failures::{FailureContext, TestFailures};
use super::server::{Proxy, ProxyOptions, Upstream, start};
use crate::record::mode::InferenceMode;
use crate::record::store::{Rules, list_files, read_recording};
use crate::testing::http_client as client;

const SECRET: &str = "sk-test-secret-123";

/// A fake OpenAI-compatible server: counts requests, echoes the prompt,
/// streams three chunks and `[DONE]` when asked to stream (cut into
/// network chunks that split events). Like llama-cpp-python, every answer
/// has a fresh `id` and the current `created`.
struct Upstream_ {
    url: Url,
    hits: Arc<AtomicUsize>,
}

async fn fake_upstream() -> Upstream_ {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let counter = counter.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req: Request<Incoming>| {
                    let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
                    async move { Ok::<_, Infallible>(fake_answer(n, req).await) }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Upstream_ { url, hits }
}

async fn fake_answer(n: usize, req: Request<Incoming>) -> Response<ProxyBody> {
    let auth_ok = req
        .headers()
        .get("authorization")
        .is_some_and(|v| v == &format!("Bearer {SECRET}")[..]);
    let path = req.uri().path().to_owned();
    let body: Value = serde_json::from_slice(&req.into_body().collect().await.unwrap().to_bytes())
        .unwrap_or(json!(null));
    if path == "/v1/models" {
        return full(
            StatusCode::OK,
            Some("application/json"),
            r#"{"object":"list","data":[{"id":"m"}]}"#,
        );
    }
    let prompt = body["messages"][0]["content"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    let (id, created) = random_id_and_clock(n);
    if body["stream"] == json!(true) {
        let wire: String = ["Hel", "lo", "!"]
            .iter()
            .map(|t| {
                let chunk = json!({"id": id, "object": "chat.completion.chunk", "created": created, "choices": [{"index": 0, "delta": {"content": t}}]});
                format!("data: {chunk}\n\n")
            })
            .chain(["data: [DONE]\n\n".to_owned()])
            .collect();
        let chunks: Vec<Result<Frame<Bytes>, std::io::Error>> = wire
            .as_bytes()
            .chunks(37)
            .map(|c| Ok(Frame::data(Bytes::copy_from_slice(c))))
            .collect();
        let mut r = Response::new(StreamBody::new(futures::stream::iter(chunks)).boxed_unsync());
        r.headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
        return r;
    }
    let answer =
        json!({"id": id, "created": created, "echo": prompt, "auth_ok": auth_ok, "secret": SECRET});
    full(StatusCode::OK, Some("application/json"), answer.to_string())
}

/// A `chatcmpl-<uuid>` and a clock that differ on every call, as a real
/// model server's do.
fn random_id_and_clock(n: usize) -> (String, u64) {
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, Ordering::SeqCst) + n;
    let id = format!("chatcmpl-{:08x}-0000-4000-8000-{:012x}", call * 7919, call);
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    (id, since_epoch + call as u64)
}

fn shipped_rules() -> Rules {
    Rules::parse(
        include_str!("../../../../../recordings/normalize.yaml"),
        Path::new("recordings/normalize.yaml"),
        &|_| None,
    )
    .unwrap()
}

/// Starts a proxy on `dir`, which gets the shipped rules plus [`SECRET`]
/// as a literal secret (the control API reloads the rules from `dir`).
async fn proxy(mode: InferenceMode, dir: &Path, upstream: Option<&Url>) -> (Proxy, ProxyControl) {
    proxy_with_secrets(mode, dir, upstream, Vec::new()).await
}

/// [`proxy`], also redacting `secrets` minted by the session.
async fn proxy_with_secrets(
    mode: InferenceMode,
    dir: &Path,
    upstream: Option<&Url>,
    secrets: Vec<String>,
) -> (Proxy, ProxyControl) {
    if !dir.join("normalize.yaml").exists() {
        let text = include_str!("../../../../../recordings/normalize.yaml")
            .replace("redact_values: []", &format!("redact_values: [{SECRET}]"));
        std::fs::write(dir.join("normalize.yaml"), text).unwrap();
    }
    let rules = Rules::load_from_dir(dir).unwrap();
    assert_eq!(rules.redactor.secret_count(), 1);
    let proxy = start(ProxyOptions {
        mode,
        dir: dir.to_owned(),
        upstreams: vec![Upstream {
            name: "vllm".into(),
            url: upstream.cloned(),
        }],
        rules,
        secrets,
        port: 0,
    })
    .await
    .unwrap();
    let control = ProxyControl::with_client(proxy.control_url(), client());
    (proxy, control)
}

fn chat(content: &str, stream: bool) -> String {
    let mut body = json!({"model": "m", "messages": [{"role": "user", "content": content}], "temperature": 0.0});
    if stream {
        body["stream"] = json!(true);
    }
    body.to_string()
}

/// Sends a chat request through the proxy; returns status, content type, body.
async fn send(proxy: &Proxy, body: String) -> (u16, String, Vec<u8>) {
    let url = format!("{}/chat/completions", proxy.base_url("vllm", "/v1"));
    let r = client()
        .post(url)
        .header("authorization", format!("Bearer {SECRET}"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (r.status().as_u16(), ct, r.bytes().await.unwrap().to_vec())
}
