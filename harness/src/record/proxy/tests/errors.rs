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
    let failures = control
        .test_finished("inference::chat::basic")
        .await
        .unwrap();
    assert_eq!(failures.unreachable, vec![]);
    let misses = &failures.misses;
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
        control.failures("inference::chat::basic").await.unwrap(),
        failures
    );
    assert_eq!(
        control.failures("other").await.unwrap(),
        TestFailures::default()
    );
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
    assert_eq!(status, 424);
    assert!(
        text.starts_with(
            "stack-harness: upstream of provider `vllm` failed at `http://127.0.0.1:9/v1/models`: "
        ),
        "{text}"
    );
    proxy.shutdown().await;
}

/// A loopback port nothing listens on.
async fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test]
async fn an_unreachable_upstream_fails_the_running_test_with_what_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let port = closed_port().await;
    let dead = Url::parse(&format!("http://127.0.0.1:{port}")).unwrap();
    let (proxy, control) = proxy(InferenceMode::RecordIfMissing, dir.path(), Some(&dead)).await;
    control.test_started("chat::basic").await.unwrap();
    let (status, _, body) = send(&proxy, chat("hi", false)).await;
    // Not a 5xx, which the stack's OpenAI SDK would retry.
    assert_eq!(status, 424, "{}", String::from_utf8_lossy(&body));
    // A second request to the same dead server is not a second failure.
    send(&proxy, chat("again", true)).await;
    let failures = control.test_finished("chat::basic").await.unwrap();
    assert_eq!(failures.misses, vec![]);
    let context = FailureContext {
        command: "cargo test --test integration -- --stack-config=server:ci-tests".into(),
        ..FailureContext::default()
    };
    let expected = vec![format!(
            "the upstream of provider `vllm` could not be reached: POST /v1/chat/completions requested by test `chat::basic` was sent to http://127.0.0.1:{port}/v1/chat/completions and got no answer
    error sending request for url (http://127.0.0.1:{port}/v1/chat/completions): client error (Connect): tcp connect error: Connection refused (os error 111)
start your model server at http://127.0.0.1:{port} (or record with --setup=local, which starts SmolLM2 on this machine)
"
    )];
    assert_eq!(failures.render("chat::basic", &context), expected);
    // With --setup=local the harness runs the server, unless --env pointed
    // the provider elsewhere.
    let local = FailureContext {
        local_model: true,
        supervisor_log: Some("sessions/k/supervisor.log".into()),
        ..context
    };
    let [text] = &failures.render("chat::basic", &local)[..] else {
        panic!("one failure");
    };
    assert!(text.ends_with("the local model server that --setup=local starts for this run died or was not started; see sessions/k/supervisor.log\n"), "{text}");
    let elsewhere = FailureContext {
        given: vec![format!("http://127.0.0.1:{port}/v1")],
        ..local
    };
    let [text] = &failures.render("chat::basic", &elsewhere)[..] else {
        panic!("one failure");
    };
    assert!(text.ends_with(&format!("start your model server at http://127.0.0.1:{port} (--env points the provider there instead of at the SmolLM2 that --setup=local starts)\n")), "{text}");
    assert_eq!(list_files(dir.path()).unwrap().len(), 0, "nothing recorded");
    // Another test starts with a clean slate.
    assert_eq!(
        control.failures("chat::other").await.unwrap(),
        TestFailures::default()
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
        secrets: Vec::new(),
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
