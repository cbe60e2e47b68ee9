//! The control API as the test processes use it.

use super::*;
use crate::record::store::{STARTUP, UsageManifest};

#[tokio::test]
async fn finishing_a_run_writes_the_usage_manifest() {
    let up = fake_upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let (proxy, control) = proxy(InferenceMode::Record, dir.path(), Some(&up.url)).await;
    send(&proxy, chat("a", false)).await;
    control
        .configure(InferenceMode::Replay, dir.path(), true, None)
        .await
        .unwrap();
    send(&proxy, chat("a", false)).await;
    send(&proxy, chat("missing", false)).await;
    let manifest = dir.path().join("target/stack-harness/recordings-used.json");
    let usage = control.finish_run(&manifest).await.unwrap();
    assert_eq!(usage.recordings, 1);
    let written = UsageManifest::read(&manifest).unwrap();
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
        .configure(InferenceMode::Replay, dir.path(), true, None)
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
