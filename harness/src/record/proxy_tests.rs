//! End-to-end tests of the proxy on loopback, against a tiny fake upstream.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use http_body_util::{BodyExt as _, StreamBody};
use hyper::body::Frame;
use hyper::{Request, Response};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use super::*;
use crate::record::control::STARTUP;
use crate::record::control_client::ProxyControl;
use crate::record::miss::render;
use crate::record::store::{list_files, read_recording};

const SECRET: &str = "sk-test-secret-123";

/// One client for every test: building one costs ~30 ms. No pooling, since
/// each test has its own runtime and a pooled connection would outlive it.
fn client() -> reqwest::Client {
    static CLIENT: std::sync::LazyLock<reqwest::Client> = std::sync::LazyLock::new(|| {
        reqwest::Client::builder()
            .no_proxy()
            .pool_max_idle_per_host(0)
            .build()
            .unwrap()
    });
    CLIENT.clone()
}

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
        include_str!("../../../recordings/normalize.yaml"),
        Path::new("recordings/normalize.yaml"),
        &|_| None,
    )
    .unwrap()
}

/// Starts a proxy on `dir`, which gets the shipped rules plus [`SECRET`]
/// as a literal secret (the control API reloads the rules from `dir`).
async fn proxy(mode: InferenceMode, dir: &Path, upstream: Option<&Url>) -> (Proxy, ProxyControl) {
    if !dir.join("normalize.yaml").exists() {
        let text = include_str!("../../../recordings/normalize.yaml")
            .replace("redact_values: []", &format!("redact_values: [{SECRET}]"));
        std::fs::write(dir.join("normalize.yaml"), text).unwrap();
    }
    let rules = Rules::load_from_dir(dir).unwrap();
    assert_eq!(rules.redactor.secret_count(), 1);
    let proxy = start(ProxyOptions {
        mode,
        dir: dir.to_owned(),
        upstreams: vec![super::Upstream {
            name: "vllm".into(),
            url: upstream.cloned(),
        }],
        rules,
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

#[tokio::test]
async fn record_then_replay_returns_identical_bytes_without_the_upstream() {
    let up = fake_upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let (proxy, control) = proxy(InferenceMode::Record, dir.path(), Some(&up.url)).await;
    control.test_started("chat::basic").await.unwrap();
    let recorded = send(&proxy, chat("hi", false)).await;
    let recorded_stream = send(&proxy, chat("hi", true)).await;
    assert_eq!(up.hits.load(Ordering::SeqCst), 2);
    assert_eq!(recorded.0, 200);
    let answer: Value = serde_json::from_slice(&recorded.2).unwrap();
    assert_eq!(
        answer["auth_ok"],
        json!(true),
        "authorization is passed upstream"
    );
    // The stack is served what is stored: redacted and normalised.
    assert_eq!(answer["secret"], json!("<redacted>"));
    assert_eq!(answer["created"], json!(1_700_000_000));

    control
        .configure(InferenceMode::Replay, dir.path(), true)
        .await
        .unwrap();
    let replayed = send(&proxy, chat("hi", false)).await;
    let replayed_stream = send(&proxy, chat("hi", true)).await;
    assert_eq!(
        up.hits.load(Ordering::SeqCst),
        2,
        "replay never touches the upstream"
    );
    assert_eq!(replayed, recorded);
    assert_eq!(replayed_stream, recorded_stream);
    assert_eq!(recorded_stream.1, "text/event-stream");

    let files = list_files(dir.path()).unwrap();
    assert_eq!(files.len(), 2);
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        assert!(!text.contains(SECRET), "{text}");
        assert!(
            !text.to_ascii_lowercase().contains("authorization"),
            "{text}"
        );
        let recording = read_recording(file).unwrap();
        assert_eq!(recording.used_by, vec!["chat::basic"]);
        recording.check(file, &shipped_rules()).unwrap();
    }
    control.test_finished("chat::basic").await.unwrap();
    proxy.shutdown().await;
}

/// Every recording file under `dir` with its text, sorted by path.
fn snapshot(dir: &Path) -> Vec<(std::path::PathBuf, String)> {
    list_files(dir)
        .unwrap()
        .into_iter()
        .map(|f| {
            let text = std::fs::read_to_string(&f).unwrap();
            (f, text)
        })
        .collect()
}

#[tokio::test]
async fn re_recording_an_unchanged_exchange_rewrites_identical_bytes() {
    let up = fake_upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let (proxy, control) = proxy(InferenceMode::Record, dir.path(), Some(&up.url)).await;
    let mut runs = Vec::new();
    let mut served = Vec::new();
    for _ in 0..2 {
        control.test_started("chat::basic").await.unwrap();
        let one = send(&proxy, chat("hi", false)).await;
        let stream = send(&proxy, chat("hi", true)).await;
        control.test_finished("chat::basic").await.unwrap();
        runs.push(snapshot(dir.path()));
        served.push((one, stream));
    }
    assert_eq!(
        up.hits.load(Ordering::SeqCst),
        4,
        "both runs hit the upstream"
    );
    assert_eq!(runs[0].len(), 2);
    assert_eq!(runs[0], runs[1], "the second record run changed the files");
    assert_eq!(served[0], served[1], "the stack saw different bytes");

    // The model server's id became the key's prefix, its clock a constant.
    let stream_file = runs[0]
        .iter()
        .map(|(f, _)| read_recording(f).unwrap())
        .find(|r| r.response.events.is_some())
        .unwrap();
    let id = format!("chatcmpl-{}", &stream_file.hash[..16]);
    let events = stream_file.response.events.unwrap();
    assert_eq!(events.len(), 4);
    assert_eq!(
        events[0],
        crate::record::sse::SseEvent::Data(format!(
            r#"{{"id":"{id}","object":"chat.completion.chunk","created":1700000000,"choices":[{{"index":0,"delta":{{"content":"Hel"}}}}]}}"#
        ))
    );
    assert_eq!(
        events[3],
        crate::record::sse::SseEvent::Data("[DONE]".into())
    );
    // What the proxy writes, `recordings verify` accepts.
    let args = crate::record::tool::RecordingsArgs {
        dir: dir.path().to_owned(),
        command: crate::record::tool::Command::Verify,
    };
    let mut out = Vec::new();
    let verified = crate::record::tool::run(&args, &mut out).unwrap();
    assert!(verified, "{}", String::from_utf8_lossy(&out));
    proxy.shutdown().await;
}

#[tokio::test]
async fn live_mode_passes_the_upstream_answer_through_untouched() {
    let up = fake_upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let (proxy, _control) = proxy(InferenceMode::Live, dir.path(), Some(&up.url)).await;
    let (_, _, one) = send(&proxy, chat("hi", false)).await;
    let (_, _, stream) = send(&proxy, chat("hi", true)).await;
    let one: Value = serde_json::from_slice(&one).unwrap();
    assert_eq!(one["secret"], json!(SECRET));
    assert!(one["id"].as_str().unwrap().contains("-0000-4000-8000-"));
    assert_ne!(one["created"], json!(1_700_000_000));
    let stream = String::from_utf8(stream).unwrap();
    assert!(!stream.contains("1700000000"), "{stream}");
    assert_eq!(list_files(dir.path()).unwrap().len(), 0);
    proxy.shutdown().await;
}

#[tokio::test]
async fn a_replay_miss_is_a_404_and_is_reported_to_the_running_test() {
    let dir = tempfile::tempdir().unwrap();
    let (proxy, control) = proxy(InferenceMode::Replay, dir.path(), None).await;
    control
        .test_started("inference::chat::basic")
        .await
        .unwrap();
    let (status, ct, body) = send(&proxy, chat("What is 2+2?", false)).await;
    let misses = control
        .test_finished("inference::chat::basic")
        .await
        .unwrap();
    assert_eq!(misses.len(), 1);
    let short = &misses[0].hash[..16];
    assert_eq!((status, ct.as_str()), (404, "application/json"));
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        body["error"]["message"],
        json!(format!(
            "stack-harness: no recording for POST /v1/chat/completions (provider vllm, hash {short}); see the test output for the diff and the command that records it"
        ))
    );
    assert_eq!(misses[0].tests, vec!["inference::chat::basic"]);
    assert_eq!(
        misses[0].body["messages"][0]["content"],
        json!("What is 2+2?")
    );
    let text = render(
        &misses[0],
        "inference::chat::basic",
        "cargo test --test integration --",
    );
    assert!(text.starts_with(&format!(
        "no recording for POST /v1/chat/completions (provider `vllm`, hash {short}) requested by test `inference::chat::basic`\nthere is no recording"
    )), "{text}");
    assert_eq!(
        control.misses("inference::chat::basic").await.unwrap(),
        misses
    );
    assert_eq!(control.misses("other").await.unwrap(), vec![]);
    proxy.shutdown().await;
}

/// Decodes a raw chunked HTTP/1.1 response into its chunks.
fn chunks_of(raw: &[u8]) -> (String, Vec<String>) {
    let text = String::from_utf8(raw.to_vec()).unwrap();
    let (head, mut rest) = text.split_once("\r\n\r\n").unwrap();
    let mut chunks = Vec::new();
    loop {
        let (size, after) = rest.split_once("\r\n").unwrap();
        let size = usize::from_str_radix(size, 16).unwrap();
        if size == 0 {
            break;
        }
        chunks.push(after[..size].to_owned());
        rest = &after[size + 2..];
    }
    (head.to_owned(), chunks)
}

async fn raw_request(stream: &mut tokio::net::TcpStream, body: &str, close: bool) {
    let req = format!(
        "POST /p/vllm/v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{}\r\n{body}",
        body.len(),
        if close { "Connection: close\r\n" } else { "" }
    );
    stream.write_all(req.as_bytes()).await.unwrap();
}

/// Reads one response with a Content-Length body.
async fn read_sized_response(stream: &mut tokio::net::TcpStream) -> String {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).await.unwrap();
        buf.push(byte[0]);
    }
    let head = String::from_utf8(buf).unwrap();
    let len: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length: ")
                .map(|v| v.trim().parse().unwrap())
        })
        .unwrap();
    let mut body = vec![0; len];
    stream.read_exact(&mut body).await.unwrap();
    String::from_utf8(body).unwrap()
}

/// Sends a raw streaming request and returns the response head and the
/// body's HTTP chunks.
async fn raw_stream(proxy: &Proxy) -> (String, Vec<String>) {
    let mut stream = tokio::net::TcpStream::connect(proxy.addr()).await.unwrap();
    raw_request(&mut stream, &chat("hi", true), true).await;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    chunks_of(&raw)
}

#[tokio::test]
async fn record_and_replay_send_one_chunk_per_normalised_event_in_order_then_done() {
    let up = fake_upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let (proxy, control) = proxy(InferenceMode::Record, dir.path(), Some(&up.url)).await;
    // The upstream cuts its stream every 37 bytes, across events.
    let (head, recorded) = raw_stream(&proxy).await;
    assert!(head.contains("content-type: text/event-stream"), "{head}");
    control
        .configure(InferenceMode::Replay, dir.path(), true)
        .await
        .unwrap();
    let (head, replayed) = raw_stream(&proxy).await;
    assert!(head.contains("transfer-encoding: chunked"), "{head}");
    assert!(head.contains("content-type: text/event-stream"), "{head}");
    let hash = read_recording(&list_files(dir.path()).unwrap()[0])
        .unwrap()
        .hash;
    let event = |t: &str| {
        format!(
            "data: {{\"id\":\"chatcmpl-{}\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{t}\"}}}}]}}\n\n",
            &hash[..16]
        )
    };
    let expected = vec![
        event("Hel"),
        event("lo"),
        event("!"),
        "data: [DONE]\n\n".to_owned(),
    ];
    assert_eq!(recorded, expected);
    assert_eq!(replayed, expected);
    proxy.shutdown().await;
}

#[tokio::test]
async fn two_requests_share_one_keep_alive_connection() {
    let up = fake_upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let (proxy, _control) = proxy(InferenceMode::Live, dir.path(), Some(&up.url)).await;
    let mut stream = tokio::net::TcpStream::connect(proxy.addr()).await.unwrap();
    raw_request(&mut stream, &chat("one", false), false).await;
    let first = read_sized_response(&mut stream).await;
    raw_request(&mut stream, &chat("two", false), false).await;
    let second = read_sized_response(&mut stream).await;
    assert!(first.contains("\"echo\":\"one\""), "{first}");
    assert!(second.contains("\"echo\":\"two\""), "{second}");
    assert_eq!(up.hits.load(Ordering::SeqCst), 2);
    assert_eq!(
        list_files(dir.path()).unwrap(),
        Vec::<std::path::PathBuf>::new(),
        "live stores nothing"
    );
    proxy.shutdown().await;
}

#[tokio::test]
async fn record_if_missing_replays_hits_and_records_misses() {
    let up = fake_upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let (proxy, _control) = proxy(InferenceMode::RecordIfMissing, dir.path(), Some(&up.url)).await;
    let first = send(&proxy, chat("a", false)).await;
    assert_eq!(up.hits.load(Ordering::SeqCst), 1);
    let again = send(&proxy, chat("a", false)).await;
    assert_eq!(up.hits.load(Ordering::SeqCst), 1, "a hit is replayed");
    assert_eq!(
        again.2,
        String::from_utf8(first.2)
            .unwrap()
            .replace(SECRET, "<redacted>")
            .into_bytes()
    );
    send(&proxy, chat("b", false)).await;
    assert_eq!(up.hits.load(Ordering::SeqCst), 2, "a miss is forwarded");
    assert_eq!(list_files(dir.path()).unwrap().len(), 2);
    // Outside any test, requests belong to the stack's start-up.
    let recording = read_recording(&list_files(dir.path()).unwrap()[0]).unwrap();
    assert_eq!(recording.used_by, vec![STARTUP]);
    proxy.shutdown().await;
}

#[tokio::test]
async fn record_if_missing_adds_a_test_that_replays_a_recording_to_its_users() {
    let up = fake_upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let (proxy, control) = proxy(InferenceMode::RecordIfMissing, dir.path(), Some(&up.url)).await;
    for test in ["chat::b", "chat::a", "chat::b"] {
        control.test_started(test).await.unwrap();
        send(&proxy, chat("same", false)).await;
        control.test_finished(test).await.unwrap();
    }
    assert_eq!(up.hits.load(Ordering::SeqCst), 1, "recorded once");
    let file = &list_files(dir.path()).unwrap()[0];
    assert_eq!(
        read_recording(file).unwrap().used_by,
        vec!["chat::a", "chat::b"]
    );
    // Replay never writes.
    control
        .configure(InferenceMode::Replay, dir.path(), true)
        .await
        .unwrap();
    let before = std::fs::read(file).unwrap();
    control.test_started("chat::c").await.unwrap();
    send(&proxy, chat("same", false)).await;
    control.test_finished("chat::c").await.unwrap();
    assert_eq!(std::fs::read(file).unwrap(), before);
    proxy.shutdown().await;
}

#[tokio::test]
async fn a_different_random_file_id_replays_the_same_recording() {
    let up = fake_upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let (proxy, control) = proxy(InferenceMode::Record, dir.path(), Some(&up.url)).await;
    let prompt = |id: &str| format!("[1] document_id: file-{id}, score: 0.9 cite as <|file-{id}|>");
    send(
        &proxy,
        chat(&prompt("0123456789abcdef0123456789abcdef"), false),
    )
    .await;
    control
        .configure(InferenceMode::Replay, dir.path(), true)
        .await
        .unwrap();
    let (status, _, body) = send(
        &proxy,
        chat(&prompt("fedcba9876543210fedcba9876543210"), false),
    )
    .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(up.hits.load(Ordering::SeqCst), 1);
    proxy.shutdown().await;
}

#[tokio::test]
async fn concurrent_identical_requests_write_one_valid_file() {
    let up = fake_upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let (proxy, _control) = proxy(InferenceMode::Record, dir.path(), Some(&up.url)).await;
    let proxy = Arc::new(proxy);
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let proxy = proxy.clone();
        tasks.push(tokio::spawn(async move {
            send(&proxy, chat("same", false)).await.0
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), 200);
    }
    let files = list_files(dir.path()).unwrap();
    assert_eq!(files.len(), 1);
    read_recording(&files[0])
        .unwrap()
        .check(&files[0], &shipped_rules())
        .unwrap();
    let leftovers: Vec<_> = std::fs::read_dir(files[0].parent().unwrap())
        .unwrap()
        .collect();
    assert_eq!(leftovers.len(), 1, "no temporary files left");
}

#[tokio::test]
async fn unknown_routes_providers_and_unreachable_upstreams_are_explained() {
    let dir = tempfile::tempdir().unwrap();
    let dead = Url::parse("http://127.0.0.1:9").unwrap();
    let (proxy, _control) = proxy(InferenceMode::Live, dir.path(), Some(&dead)).await;
    let http = client();
    let message = |r: reqwest::Response| async move {
        let status = r.status().as_u16();
        let v: Value = r.json().await.unwrap();
        (status, v["error"]["message"].as_str().unwrap().to_owned())
    };
    let r = http
        .get(format!("http://{}/v1/models", proxy.addr()))
        .send()
        .await
        .unwrap();
    assert_eq!(
        message(r).await,
        (404, "stack-harness: unknown route `/v1/models`; providers are served under /p/<provider>/ and the control API under /__harness/".to_owned())
    );
    let r = http
        .get(format!("http://{}/p/tgi/v1/models", proxy.addr()))
        .send()
        .await
        .unwrap();
    assert_eq!(
        message(r).await,
        (
            404,
            "stack-harness: unknown provider `tgi`; the proxy knows: vllm".to_owned()
        )
    );
    let r = http
        .get(format!("{}/models", proxy.base_url("vllm", "/v1")))
        .send()
        .await
        .unwrap();
    let (status, text) = message(r).await;
    assert_eq!(status, 502);
    assert!(
        text.starts_with(
            "stack-harness: upstream of provider `vllm` failed at `http://127.0.0.1:9/v1/models`: "
        ),
        "{text}"
    );
    proxy.shutdown().await;
}

#[tokio::test]
async fn finishing_a_run_writes_the_usage_manifest() {
    let up = fake_upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let (proxy, control) = proxy(InferenceMode::Record, dir.path(), Some(&up.url)).await;
    send(&proxy, chat("a", false)).await;
    control
        .configure(InferenceMode::Replay, dir.path(), true)
        .await
        .unwrap();
    send(&proxy, chat("a", false)).await;
    send(&proxy, chat("missing", false)).await;
    let manifest = dir.path().join("target/stack-harness/recordings-used.json");
    let usage = control.finish_run(&manifest).await.unwrap();
    assert_eq!(usage.recordings, 1);
    let written = crate::record::usage::UsageManifest::read(&manifest).unwrap();
    assert_eq!(written.mode, InferenceMode::Replay);
    let users = written.users_of_file(&list_files(dir.path()).unwrap()[0]);
    assert_eq!(
        users.map(|u| u.iter().map(String::as_str).collect::<Vec<_>>()),
        Some(vec![STARTUP])
    );
    let state = control.state().await.unwrap();
    assert_eq!(
        (state.used, state.misses, state.providers),
        (1, 1, vec!["vllm".to_owned()])
    );
    proxy.shutdown().await;
}

#[tokio::test]
async fn a_control_error_names_the_proxy_and_the_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    let (proxy, control) = proxy(InferenceMode::Replay, dir.path(), None).await;
    std::fs::write(dir.path().join("normalize.yaml"), "rules: [{regex: 'a'}]").unwrap();
    let err = control
        .configure(InferenceMode::Replay, dir.path(), true)
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        format!(
            "the recording proxy at `{}` failed on `config`: HTTP 400: stack-harness: invalid normalisation rule `rules[0]` in `{}`: `replace` is missing; say what the matched text becomes",
            proxy.control_url(),
            dir.path().join("normalize.yaml").display()
        )
    );
    proxy.shutdown().await;
    let gone = ProxyControl::with_client("http://127.0.0.1:9/", client());
    assert_eq!(gone.base(), "http://127.0.0.1:9");
    assert!(!gone.healthy().await);
    assert_eq!(
        ProxyControl::new("http://127.0.0.1:9/").base(),
        "http://127.0.0.1:9"
    );
}

#[test]
fn a_provider_base_url_splits_into_origin_and_base_path() {
    let base = Url::parse("http://127.0.0.1:8080/v1/?x=1").unwrap();
    let (upstream, path) = super::Upstream::from_base_url("vllm", &base);
    assert_eq!(upstream.url.unwrap().as_str(), "http://127.0.0.1:8080/");
    assert_eq!(path, "/v1");
    let (_, path) =
        super::Upstream::from_base_url("o", &Url::parse("https://api.openai.com").unwrap());
    assert_eq!(path, "");
}

#[tokio::test]
async fn bad_provider_names_are_refused_at_start() {
    let options = |names: &[&str]| ProxyOptions {
        mode: InferenceMode::Replay,
        dir: "recordings".into(),
        upstreams: names
            .iter()
            .map(|n| super::Upstream {
                name: n.to_string(),
                url: None,
            })
            .collect(),
        rules: Rules::default(),
        port: 0,
    };
    let err = start(options(&["a/b"])).await.unwrap_err().to_string();
    assert_eq!(
        err,
        "provider name `a/b` cannot name a recordings directory; use letters, digits, `-`, `_` or `.`"
    );
    let err = start(options(&["a", "a"])).await.unwrap_err().to_string();
    assert_eq!(
        err,
        "provider `a` is given twice; give each provider one upstream"
    );
}
