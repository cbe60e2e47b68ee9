//! Record, replay, live and record-if-missing: what each stores and serves.

use super::*;
use crate::record::store::{STARTUP, SseEvent};

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
        .configure(InferenceMode::Replay, dir.path(), true, None)
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
        SseEvent::Data(format!(
            r#"{{"id":"{id}","object":"chat.completion.chunk","created":1700000000,"choices":[{{"index":0,"delta":{{"content":"Hel"}}}}]}}"#
        ))
    );
    assert_eq!(events[3], SseEvent::Data("[DONE]".into()));
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
        .configure(InferenceMode::Replay, dir.path(), true, None)
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
async fn recording_runs_add_their_stack_and_replay_adds_none() {
    let up = fake_upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let (proxy, control) = proxy(InferenceMode::RecordIfMissing, dir.path(), Some(&up.url)).await;
    let (control, path, server) = (&control, dir.path(), &proxy);
    let on = |mode, stack: &str| {
        let stack = stack.to_owned();
        async move {
            control
                .configure(mode, path, true, Some(stack))
                .await
                .unwrap();
            control.test_started("chat::a").await.unwrap();
            send(server, chat("same", false)).await;
            control.test_finished("chat::a").await.unwrap();
        }
    };
    // Recorded on one stack, then replayed while recording on the other.
    on(InferenceMode::RecordIfMissing, "ogx 1.5.0").await;
    on(InferenceMode::RecordIfMissing, "llama-stack 0.7.3").await;
    assert_eq!(up.hits.load(Ordering::SeqCst), 1, "one exchange, shared");
    let file = &list_files(dir.path()).unwrap()[0];
    assert_eq!(
        read_recording(file).unwrap().stacks,
        ["llama-stack 0.7.3", "ogx 1.5.0"]
    );
    let before = std::fs::read(file).unwrap();
    on(InferenceMode::Replay, "ogx 1.6.0").await;
    assert_eq!(std::fs::read(file).unwrap(), before, "replay never writes");
    // The manifest names the stack of its run.
    let manifest = dir.path().join("used.json");
    control.finish_run(&manifest).await.unwrap();
    let usage = crate::record::store::UsageManifest::read(&manifest).unwrap();
    assert_eq!(usage.stack.as_deref(), Some("ogx 1.6.0"));
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
        .configure(InferenceMode::Replay, dir.path(), true, None)
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
