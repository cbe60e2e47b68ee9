//! What `harness/benches/proxy.rs` needs: a store of N realistic chat
//! recordings, a replay proxy over it, and the request bodies that hit it.
//!
//! It reaches the bench through `harness::__bench::record` (lib.rs).

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::json;

use super::mode::InferenceMode;
use super::proxy::{Proxy, ProxyOptions, Upstream, start};
use super::store::{
    Body, Recording, Redactor, RequestParts, Rules, StoredBody, StoredRequest, StoredResponse,
    recording_path, request_key,
};

/// The provider name the bench's recordings belong to.
pub const PROVIDER: &str = "vllm";

/// The body of the `i`-th chat request, as the stack would send it.
pub fn chat_body(i: usize) -> String {
    json!({
        "model": "smollm2-135m",
        "messages": [
            {"role": "system", "content": "You are a helpful assistant. Answer in one sentence."},
            {"role": "user", "content": format!("Question number {i}: what is the capital of country {i}?")}
        ],
        "max_tokens": 64,
        "temperature": 0.0
    })
    .to_string()
}

/// A chat completion answer of realistic size (~600 bytes).
pub fn chat_answer(i: usize) -> String {
    json!({
        "id": format!("chatcmpl-{i}"),
        "object": "chat.completion",
        "created": 1_764_000_000,
        "model": "smollm2-135m",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": format!("The capital of country {i} is City {i}, which is also its largest city and main port.")},
            "finish_reason": "stop",
            "logprobs": null
        }],
        "usage": {"prompt_tokens": 41, "completion_tokens": 22, "total_tokens": 63},
        "system_fingerprint": "b1-0000000"
    })
    .to_string()
}

/// Writes `n` recordings under `dir` with the rules in `dir` (plain writes:
/// the bench measures reading, and 10,000 fsyncs would dominate set-up).
pub fn write_recordings(dir: &Path, n: usize) -> std::io::Result<()> {
    let rules = Rules::load_from_dir(dir).map_err(std::io::Error::other)?;
    for i in 0..n {
        let parts = RequestParts {
            method: "POST".into(),
            path: "/v1/chat/completions".into(),
            query: vec![],
            body: Body::from_bytes(chat_body(i).as_bytes()),
        };
        let recording = Recording {
            hash: request_key(&rules, PROVIDER, &parts),
            provider: PROVIDER.into(),
            request: StoredRequest {
                body: StoredBody::from_body(&parts.body),
                method: parts.method,
                path: parts.path,
                query: parts.query,
            },
            response: StoredResponse::from_upstream(
                200,
                Some("application/json".into()),
                chat_answer(i).as_bytes(),
                &Redactor::default(),
            ),
            stacks: Vec::new(),
            used_by: vec![format!("bench::chat[{i}]")],
        };
        let path = recording_path(dir, PROVIDER, &recording.hash);
        if i == 0 {
            std::fs::create_dir_all(path.parent().unwrap_or(dir))?;
        }
        std::fs::write(path, recording.to_file_bytes())?;
    }
    Ok(())
}

/// A replay proxy over a recordings directory.
pub struct BenchProxy {
    proxy: Proxy,
}

impl BenchProxy {
    /// Loads the rules and starts the proxy, returning how long that took.
    pub async fn start(dir: &Path) -> Result<(BenchProxy, Duration), String> {
        let began = Instant::now();
        let rules = Rules::load_from_dir(dir).map_err(|e| e.to_string())?;
        let proxy = start(ProxyOptions {
            mode: InferenceMode::Replay,
            dir: dir.to_owned(),
            upstreams: vec![Upstream {
                name: PROVIDER.into(),
                url: None,
            }],
            rules,
            port: 0,
        })
        .await
        .map_err(|e| e.to_string())?;
        Ok((BenchProxy { proxy }, began.elapsed()))
    }

    pub fn addr(&self) -> SocketAddr {
        self.proxy.addr()
    }

    /// Where the stack would send chat completions.
    pub fn chat_url(&self) -> String {
        format!("{}/chat/completions", self.proxy.base_url(PROVIDER, "/v1"))
    }

    pub async fn shutdown(self) {
        self.proxy.shutdown().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_bench_setup_replays_what_it_wrote() {
        let dir = tempfile::tempdir().unwrap();
        write_recordings(dir.path(), 3).unwrap();
        let (proxy, _) = BenchProxy::start(dir.path()).await.unwrap();
        assert!(
            proxy
                .chat_url()
                .starts_with(&format!("http://{}/p/vllm/v1", proxy.addr()))
        );
        let answer = reqwest::Client::builder()
            .no_proxy()
            .build()
            .unwrap()
            .post(proxy.chat_url())
            .body(chat_body(2))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(answer, chat_answer(2));
        proxy.shutdown().await;
    }
}
