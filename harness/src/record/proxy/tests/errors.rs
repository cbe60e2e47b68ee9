//! What the stack and the tests are told when the proxy cannot answer.

use super::*;
use crate::record::proxy::miss::render;

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
async fn bad_provider_names_are_refused_at_start() {
    let options = |names: &[&str]| ProxyOptions {
        mode: InferenceMode::Replay,
        dir: "recordings".into(),
        upstreams: names
            .iter()
            .map(|n| Upstream {
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
