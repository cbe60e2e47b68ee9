//! The proxy on the wire: one HTTP chunk per stream event, keep-alive.

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use super::*;

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
        .configure(InferenceMode::Replay, dir.path(), true, None)
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
