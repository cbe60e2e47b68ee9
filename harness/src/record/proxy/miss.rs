//! What a test failure shows for a request that has no recording: the
//! request, a diff against the nearest recording, and the command that
//! records it.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use similar::TextDiff;

use crate::record::store::{FILE_HASH_LEN, Rules, list_files, normalized_body, read_recording};

/// A request the proxy could not answer from the recordings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Miss {
    /// The tests active when it arrived (see the proxy's attribution rule).
    pub(crate) tests: Vec<String>,
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) provider: String,
    /// The full key.
    pub(crate) hash: String,
    /// The normalised request body, as hashed.
    pub(crate) body: Value,
    pub(crate) nearest: Option<Nearest>,
    /// Why the request failed although it has (or just got) a recording:
    /// a corrupt file, a failed write. A sentence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) problem: Option<String>,
}

/// The most similar recording for the same provider, method and path.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Nearest {
    pub(crate) file: PathBuf,
    /// Its normalised request body.
    pub(crate) body: Value,
}

fn pretty(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}

/// Searches `<dir>/<provider>/` for the recording whose normalised body is
/// most similar (by line diff ratio) to `body`. Unreadable files are skipped:
/// a miss report must not fail because another recording is broken.
pub(crate) fn find_nearest(
    dir: &Path,
    rules: &Rules,
    provider: &str,
    method: &str,
    path: &str,
    body: &Value,
) -> Option<Nearest> {
    let wanted = pretty(body);
    let provider_dir = dir.join(provider);
    let files = list_files(dir).ok()?;
    let mut best: Option<(f32, Nearest)> = None;
    for file in files
        .into_iter()
        .filter(|f| f.parent() == Some(provider_dir.as_path()))
    {
        let Ok(recording) = read_recording(&file) else {
            continue;
        };
        if recording.request.method != method || recording.request.path != path {
            continue;
        }
        let Ok(parts) = recording.request_parts() else {
            continue;
        };
        let candidate = normalized_body(rules, &parts.body);
        let ratio = TextDiff::from_lines(&pretty(&candidate), &wanted).ratio();
        if best.as_ref().is_none_or(|(r, _)| ratio > *r) {
            best = Some((
                ratio,
                Nearest {
                    file,
                    body: candidate,
                },
            ));
        }
    }
    best.map(|(_, nearest)| nearest)
}

/// The line naming the other tests a request was attributed to (empty
/// when `test` ran alone).
pub(super) fn also_running(tests: &[String], test: &str) -> String {
    let others: Vec<&str> = tests
        .iter()
        .map(String::as_str)
        .filter(|t| *t != test)
        .collect();
    if others.is_empty() {
        return String::new();
    }
    format!(
        "(it arrived while these tests were also running: {})\n",
        others.join(", ")
    )
}

/// Quotes a test id for a POSIX shell.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// The failure text for a miss seen by `test`. `command_prefix` is how the
/// user runs the suite, e.g. `cargo test --test integration --`.
pub(crate) fn render(miss: &Miss, test: &str, command_prefix: &str) -> String {
    let short = &miss.hash[..FILE_HASH_LEN.min(miss.hash.len())];
    let mut out = format!(
        "no recording for {} {} (provider `{}`, hash {short}) requested by test `{test}`\n",
        miss.method, miss.path, miss.provider
    );
    if let Some(problem) = &miss.problem {
        out.push_str(problem);
        out.push('\n');
    }
    out.push_str(&also_running(&miss.tests, test));
    match &miss.nearest {
        Some(nearest) => {
            out.push_str(&format!(
                "diff of the normalised request body against the nearest recording `{}`:\n",
                nearest.file.display()
            ));
            let recorded = pretty(&nearest.body);
            let requested = pretty(&miss.body);
            let diff = TextDiff::from_lines(&recorded, &requested);
            out.push_str(
                &diff
                    .unified_diff()
                    .context_radius(3)
                    .header("recorded", "requested")
                    .to_string(),
            );
        }
        None => {
            out.push_str(&format!(
                "there is no recording of {} {} for provider `{}` to compare with; the request body was:\n",
                miss.method, miss.path, miss.provider
            ));
            out.push_str(&pretty(&miss.body));
        }
    }
    out.push_str(&format!(
        "record it with:\n    {command_prefix} --inference-mode=record-if-missing --exact {}\n",
        shell_quote(test)
    ));
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn miss(nearest: Option<Nearest>) -> Miss {
        Miss {
            tests: vec!["inference::chat::basic".into()],
            method: "POST".into(),
            path: "/v1/chat/completions".into(),
            provider: "vllm".into(),
            hash: "1a2b3c4d5e6f7a8b9c0d".into(),
            body: json!({"messages": [{"content": "What is 2+2?", "role": "user"}], "model": "m", "temperature": 0.0}),
            nearest,
            problem: None,
        }
    }

    const CMD: &str = "cargo test --test integration --";

    #[test]
    fn a_miss_with_a_nearest_recording_shows_the_diff() {
        let nearest = Nearest {
            file: "recordings/vllm/0011223344556677.json".into(),
            body: json!({"messages": [{"content": "What is 2+3?", "role": "user"}], "model": "m", "temperature": 0.0}),
        };
        assert_eq!(
            render(&miss(Some(nearest)), "inference::chat::basic", CMD),
            "no recording for POST /v1/chat/completions (provider `vllm`, hash 1a2b3c4d5e6f7a8b) requested by test `inference::chat::basic`
diff of the normalised request body against the nearest recording `recordings/vllm/0011223344556677.json`:
--- recorded
+++ requested
@@ -1,7 +1,7 @@
 {
   \"messages\": [
     {
-      \"content\": \"What is 2+3?\",
+      \"content\": \"What is 2+2?\",
       \"role\": \"user\"
     }
   ],
record it with:
    cargo test --test integration -- --inference-mode=record-if-missing --exact 'inference::chat::basic'
"
        );
    }

    #[test]
    fn a_miss_without_recordings_shows_the_body_and_other_tests() {
        let mut m = miss(None);
        m.tests.push("it's::parallel".into());
        m.problem =
            Some("the recording exists but cannot be used: corrupt recording `x.json`: EOF".into());
        assert_eq!(
            render(&m, "it's::parallel", CMD),
            "no recording for POST /v1/chat/completions (provider `vllm`, hash 1a2b3c4d5e6f7a8b) requested by test `it's::parallel`
the recording exists but cannot be used: corrupt recording `x.json`: EOF
(it arrived while these tests were also running: inference::chat::basic)
there is no recording of POST /v1/chat/completions for provider `vllm` to compare with; the request body was:
{
  \"messages\": [
    {
      \"content\": \"What is 2+2?\",
      \"role\": \"user\"
    }
  ],
  \"model\": \"m\",
  \"temperature\": 0.0
}
record it with:
    cargo test --test integration -- --inference-mode=record-if-missing --exact 'it'\\''s::parallel'
"
        );
    }

    #[test]
    fn the_nearest_recording_is_the_most_similar_body_for_the_same_route() {
        use crate::record::store::{
            Body, Recording, Redactor, RequestParts, Store, StoredBody, StoredRequest,
            StoredResponse, request_key,
        };

        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        let rules = Rules::default();
        let save = |provider: &str, path: &str, content: &str| {
            let parts = RequestParts {
                method: "POST".into(),
                path: path.into(),
                query: vec![],
                body: Body::Json(
                    json!({"model": "m", "messages": [{"role": "user", "content": content}]}),
                ),
            };
            store
                .save(
                    Recording {
                        hash: request_key(&rules, provider, &parts),
                        provider: provider.into(),
                        request: StoredRequest {
                            body: StoredBody::from_body(&parts.body),
                            method: parts.method,
                            path: parts.path,
                            query: vec![],
                        },
                        response: StoredResponse::from_upstream(
                            200,
                            None,
                            b"",
                            &Redactor::default(),
                        ),
                        stacks: Vec::new(),
                        used_by: vec![],
                    },
                    &rules,
                )
                .unwrap()
        };
        let close = save("vllm", "/v1/chat/completions", "What is 2+3?");
        save(
            "vllm",
            "/v1/chat/completions",
            "Tell me a long story about dragons",
        );
        save("vllm", "/v1/completions", "What is 2+2?");
        save("ollama", "/v1/chat/completions", "What is 2+2?");
        let body = json!({"messages": [{"content": "What is 2+2?", "role": "user"}], "model": "m"});
        let nearest = find_nearest(
            dir.path(),
            &rules,
            "vllm",
            "POST",
            "/v1/chat/completions",
            &body,
        )
        .unwrap();
        assert_eq!(nearest.file, close);
        assert_eq!(
            find_nearest(
                dir.path(),
                &rules,
                "tgi",
                "POST",
                "/v1/chat/completions",
                &body
            ),
            None
        );
    }
}
