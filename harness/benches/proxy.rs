//! Benchmark of the record/replay proxy: start-up over 10,000 recordings,
//! replay latency (p50/p99) and throughput at 8 concurrent clients, each
//! beside the same figures for a trivial hyper server on loopback, the
//! floor any HTTP proxy sits on.
//!
//! `cargo bench -p stack-harness --bench proxy` (optional arguments:
//! recordings, sequential requests, requests per client).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use harness::__bench::record::{BenchProxy, chat_answer, chat_body, write_recordings};
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

const CLIENTS: usize = 8;

struct Figures {
    p50: Duration,
    p99: Duration,
    per_second: f64,
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

/// The `i`-th request of a run: spread over all recordings, repeatable.
fn pick(i: usize, recordings: usize) -> usize {
    (i * 7919) % recordings
}

async fn latency(
    client: &reqwest::Client,
    url: &str,
    recordings: usize,
    requests: usize,
) -> (Duration, Duration) {
    for i in 0..200 {
        send(client, url, pick(i, recordings)).await;
    }
    let mut times = Vec::with_capacity(requests);
    for i in 0..requests {
        let began = Instant::now();
        send(client, url, pick(i + 200, recordings)).await;
        times.push(began.elapsed());
    }
    times.sort();
    (times[times.len() / 2], times[times.len() * 99 / 100])
}

async fn throughput(
    client: &reqwest::Client,
    url: &str,
    recordings: usize,
    per_client: usize,
) -> f64 {
    let began = Instant::now();
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (client, url) = (client.clone(), url.to_owned());
            tokio::spawn(async move {
                for i in 0..per_client {
                    send(&client, &url, pick(c * per_client + i, recordings)).await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("a client task failed");
    }
    (CLIENTS * per_client) as f64 / began.elapsed().as_secs_f64()
}

async fn send(client: &reqwest::Client, url: &str, i: usize) {
    let response = client
        .post(url)
        .header("content-type", "application/json")
        .body(chat_body(i))
        .send()
        .await
        .expect("request failed");
    assert!(
        response.status().is_success(),
        "HTTP {} for request {i}",
        response.status()
    );
    response.bytes().await.expect("body failed");
}

/// A server that reads the request and answers a fixed chat completion.
async fn baseline_server() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let answer = Bytes::from(chat_answer(0));
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let _ = stream.set_nodelay(true);
            let answer = answer.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req: Request<Incoming>| {
                    let answer = answer.clone();
                    async move {
                        let _ = req.into_body().collect().await;
                        let mut response = Response::new(Full::new(answer));
                        response.headers_mut().insert(
                            "content-type",
                            hyper::header::HeaderValue::from_static("application/json"),
                        );
                        Ok::<_, Infallible>(response)
                    }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

async fn measure(
    client: &reqwest::Client,
    url: &str,
    recordings: usize,
    sequential: usize,
    per_client: usize,
) -> Figures {
    let (p50, p99) = latency(client, url, recordings, sequential).await;
    let per_second = throughput(client, url, recordings, per_client).await;
    Figures {
        p50,
        p99,
        per_second,
    }
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let recordings = args.first().copied().unwrap_or(10_000);
    let sequential = args.get(1).copied().unwrap_or(3_000);
    let per_client = args.get(2).copied().unwrap_or(500);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("normalize.yaml"),
            include_str!("../../recordings/normalize.yaml"),
        )
        .expect("rules");
        let began = Instant::now();
        write_recordings(dir.path(), recordings).expect("writing recordings");
        println!(
            "proxy bench: {recordings} recordings written in {:.2} s; {sequential} sequential requests, {CLIENTS} clients x {per_client}",
            began.elapsed().as_secs_f64()
        );

        let mut starts = Vec::new();
        for _ in 0..21 {
            let (proxy, took) = BenchProxy::start(dir.path()).await.expect("proxy start");
            starts.push(took);
            proxy.shutdown().await;
        }
        starts.sort();
        println!(
            "start-up (load normalize.yaml, bind, serve) over {recordings} recordings: median {}, max {}",
            ms(starts[starts.len() / 2]),
            ms(starts[starts.len() - 1])
        );

        let client = reqwest::Client::builder().no_proxy().build().expect("client");
        let base = format!("http://{}/v1/chat/completions", baseline_server().await);
        let baseline = measure(&client, &base, recordings, sequential, per_client).await;
        let (proxy, _) = BenchProxy::start(dir.path()).await.expect("proxy start");
        let replay = measure(&client, &proxy.chat_url(), recordings, sequential, per_client).await;
        proxy.shutdown().await;

        println!("{:<22}{:>12}{:>12}{:>22}", "", "p50", "p99", "8 clients");
        for (name, f) in [("baseline (hyper)", &baseline), ("replay proxy", &replay)] {
            println!(
                "{name:<22}{:>12}{:>12}{:>16.0} req/s",
                ms(f.p50),
                ms(f.p99),
                f.per_second
            );
        }
        println!(
            "{:<22}{:>11.2}x{:>11.2}x{:>21.2}x",
            "replay / baseline",
            replay.p50.as_secs_f64() / baseline.p50.as_secs_f64(),
            replay.p99.as_secs_f64() / baseline.p99.as_secs_f64(),
            replay.per_second / baseline.per_second
        );
    });
}
