//! The recordings store: one pretty-printed JSON file per exchange.
//!
//! Layout: `<dir>/<provider>/<first 16 hex digits of the key>.json`, the
//! full key inside as `hash`. `verify` recomputes the key from the stored
//! request and checks both. Finding a recording is a path computation plus
//! one small file read, so opening a store of any size costs nothing: there
//! is no index to build at proxy start-up.
//!
//! A file is deterministic: struct keys are sorted, bodies keep the
//! upstream's key order, `used_by` is sorted, there are no timestamps, and
//! the model server's random ids and clocks are replaced by the
//! `response_rules` (`response`), so re-recording an unchanged test
//! rewrites identical bytes. Writes go to a temporary file in the same
//! directory that is renamed over the target, so a reader or a crash never
//! sees half a file.
//!
//! `used_by` rule: recording runs only ever add names (re-recording an
//! exchange merges the file's names with the test recording it, and
//! record-if-missing adds a test that replays it), so a run over a subset
//! of the tests drops nobody; `recordings prune` then keeps only the names
//! the last complete run saw using the recording. Record runs go one test
//! at a time, so the names they add are exact.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::error::RecordError;
use super::key::{Body, RequestParts, request_key};
use super::redact::Redactor;
use super::rules::Rules;
use super::sse::{self, SseEvent};

/// How many hex digits of the key name a file.
pub(crate) const FILE_HASH_LEN: usize = 16;

/// A body in a recording: JSON, UTF-8 text, or base64 bytes (at most one).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct StoredBody {
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub(crate) body: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) body_base64: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) body_text: Option<String>,
}

/// Keeps a literal `null` body apart from an absent one.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

impl StoredBody {
    pub(crate) fn from_body(body: &Body) -> StoredBody {
        match body {
            Body::Empty => StoredBody::default(),
            Body::Json(value) => StoredBody {
                body: Some(value.clone()),
                ..StoredBody::default()
            },
            Body::Bytes(bytes) => match std::str::from_utf8(bytes) {
                Ok(text) => StoredBody {
                    body_text: Some(text.to_owned()),
                    ..StoredBody::default()
                },
                Err(_) => StoredBody {
                    body_base64: Some(base64::engine::general_purpose::STANDARD.encode(bytes)),
                    ..StoredBody::default()
                },
            },
        }
    }

    pub(crate) fn to_body(&self) -> Result<Body, String> {
        match (&self.body, &self.body_text, &self.body_base64) {
            (None, None, None) => Ok(Body::Empty),
            (Some(value), None, None) => Ok(Body::Json(value.clone())),
            (None, Some(text), None) => Ok(Body::Bytes(text.as_bytes().to_vec())),
            (None, None, Some(b64)) => base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map(Body::Bytes)
                .map_err(|e| format!("`body_base64` is not base64: {e}")),
            _ => Err("more than one of `body`, `body_text`, `body_base64`".to_owned()),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct StoredRequest {
    #[serde(flatten)]
    pub(crate) body: StoredBody,
    pub(crate) method: String,
    pub(crate) path: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) query: Vec<(String, String)>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct StoredResponse {
    #[serde(flatten)]
    pub(crate) body: StoredBody,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) content_type: Option<String>,
    /// Set instead of a body for `text/event-stream` responses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) events: Option<Vec<SseEvent>>,
    pub(crate) status: u16,
}

/// One recorded exchange, as stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Recording {
    /// The full request key.
    pub(crate) hash: String,
    pub(crate) provider: String,
    pub(crate) request: StoredRequest,
    pub(crate) response: StoredResponse,
    /// The tests that made or used this request, sorted.
    #[serde(default)]
    pub(crate) used_by: Vec<String>,
}

/// Whether a content type is a server-sent event stream.
pub(crate) fn is_event_stream(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|ct| {
        ct.trim_start()
            .to_ascii_lowercase()
            .starts_with("text/event-stream")
    })
}

impl StoredResponse {
    /// Builds the stored form of an upstream response, secrets redacted.
    pub(crate) fn from_upstream(
        status: u16,
        content_type: Option<String>,
        bytes: &[u8],
        redactor: &Redactor,
    ) -> StoredResponse {
        let bytes = redactor.redact_bytes(bytes);
        if is_event_stream(content_type.as_deref())
            && let Some(events) = sse::parse(&bytes)
        {
            return StoredResponse {
                body: StoredBody::default(),
                content_type,
                events: Some(events),
                status,
            };
        }
        let is_json = content_type
            .as_deref()
            .is_some_and(|ct| ct.to_ascii_lowercase().contains("json"));
        let body = match Body::from_bytes(&bytes) {
            Body::Json(value) if is_json => Body::Json(value),
            Body::Empty => Body::Empty,
            _ => Body::Bytes(bytes),
        };
        StoredResponse {
            body: StoredBody::from_body(&body),
            content_type,
            events: None,
            status,
        }
    }
}

impl Recording {
    /// The request as keyed: what `verify` rehashes.
    pub(crate) fn request_parts(&self) -> Result<RequestParts, String> {
        Ok(RequestParts {
            method: self.request.method.clone(),
            path: self.request.path.clone(),
            query: self.request.query.clone(),
            body: self.request.body.to_body()?,
        })
    }

    /// Serialises exactly as written to disk.
    pub(crate) fn to_file_bytes(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }

    /// Checks the content against its file: names, hash, bodies.
    pub(crate) fn check(&self, file: &Path, rules: &Rules) -> Result<(), String> {
        let parts = self.request_parts()?;
        self.response.body.to_body()?;
        let recomputed = request_key(rules, &self.provider, &parts);
        if recomputed != self.hash {
            return Err(format!(
                "stored hash `{}` is not the request's key `{recomputed}` under the current rules; re-record it",
                self.hash
            ));
        }
        let expected_name = format!("{}.json", &self.hash[..FILE_HASH_LEN.min(self.hash.len())]);
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name != expected_name {
            return Err(format!(
                "file name should be `{expected_name}` for hash `{}`",
                self.hash
            ));
        }
        let provider_dir = file
            .parent()
            .and_then(Path::file_name)
            .and_then(|n| n.to_str());
        if provider_dir != Some(self.provider.as_str()) {
            return Err(format!(
                "it belongs in the `{}` provider directory",
                self.provider
            ));
        }
        Ok(())
    }
}

/// Whether a provider name is safe as a directory name and a URL segment.
pub(crate) fn is_valid_provider(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Where the recording for a key lives.
pub(crate) fn recording_path(dir: &Path, provider: &str, hash: &str) -> PathBuf {
    dir.join(provider)
        .join(format!("{}.json", &hash[..FILE_HASH_LEN.min(hash.len())]))
}

/// Reads and parses one recording; any problem names the file.
pub(crate) fn read_recording(path: &Path) -> Result<Recording, RecordError> {
    let bytes =
        std::fs::read(path).map_err(|e| RecordError::io("cannot read recording", path, e))?;
    parse_recording(path, &bytes)
}

pub(crate) fn parse_recording(path: &Path, bytes: &[u8]) -> Result<Recording, RecordError> {
    serde_json::from_slice(bytes).map_err(|e| RecordError::CorruptRecording {
        file: path.to_owned(),
        problem: e.to_string(),
    })
}

/// Writes `bytes` to `path` atomically: a temporary file in the same
/// directory, flushed, then renamed over the target. On any failure the
/// temporary file is removed and the target is untouched.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), RecordError> {
    crate::atomic::write(path, bytes).map_err(|e| RecordError::io("cannot write", path, e))
}

/// Changes the `used_by` of the recording at `path`, leaving every other
/// byte as it is (parsing and re-printing a body could change the last
/// digit of a float, which would be a diff nobody asked for). Returns
/// whether the file changed.
pub(crate) fn edit_used_by(
    path: &Path,
    edit: impl FnOnce(&mut BTreeSet<String>),
) -> Result<bool, RecordError> {
    let bytes =
        std::fs::read(path).map_err(|e| RecordError::io("cannot read recording", path, e))?;
    let recording = parse_recording(path, &bytes)?;
    let mut users: BTreeSet<String> = recording.used_by.iter().cloned().collect();
    edit(&mut users);
    let used_by: Vec<String> = users.into_iter().collect();
    if used_by == recording.used_by {
        return Ok(false);
    }
    let expected = Recording {
        used_by,
        ..recording
    };
    let in_place = with_used_by(&bytes, &expected.used_by)
        .filter(|new| parse_recording(path, new).is_ok_and(|r| r == expected));
    let new_bytes = in_place.unwrap_or_else(|| expected.to_file_bytes());
    write_atomic(path, &new_bytes)?;
    Ok(true)
}

/// The file's bytes with its trailing `used_by` field replaced.
fn with_used_by(bytes: &[u8], used_by: &[String]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(bytes).ok()?;
    // A top-level field is indented by two spaces; a newline inside a
    // string is escaped, so this can only be the field itself.
    let at = text.rfind("\n  \"used_by\": ")?;
    let field = serde_json::to_string_pretty(&serde_json::json!({ "used_by": used_by })).ok()?;
    let mut out = text[..at].to_owned();
    out.push_str(field.strip_prefix('{')?);
    out.push('\n');
    Some(out.into_bytes())
}

/// Every recording file under `dir`, sorted: `<dir>/<provider>/*.json`.
pub(crate) fn list_files(dir: &Path) -> Result<Vec<PathBuf>, RecordError> {
    let read = |d: &Path| -> Result<Vec<PathBuf>, RecordError> {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(d)
            .map_err(|e| RecordError::io("cannot list", d, e))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .collect();
        paths.sort();
        Ok(paths)
    };
    let mut files = Vec::new();
    for provider_dir in read(dir)?.into_iter().filter(|p| p.is_dir()) {
        files.extend(
            read(&provider_dir)?
                .into_iter()
                .filter(|p| p.extension().is_some_and(|e| e == "json") && p.is_file()),
        );
    }
    Ok(files)
}

/// A recordings directory, with writes to the same key serialised.
#[derive(Debug)]
pub(crate) struct Store {
    dir: PathBuf,
    locks: Mutex<HashMap<PathBuf, Arc<Mutex<()>>>>,
}

impl Store {
    pub(crate) fn new(dir: impl Into<PathBuf>) -> Store {
        Store {
            dir: dir.into(),
            locks: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// The recording for a key, `None` when there is none. A file whose
    /// full hash differs (a 64-bit prefix collision) is not a match.
    pub(crate) fn load(
        &self,
        provider: &str,
        hash: &str,
    ) -> Result<Option<Recording>, RecordError> {
        let path = recording_path(&self.dir, provider, hash);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(RecordError::io("cannot read recording", path, e)),
        };
        let recording = parse_recording(&path, &bytes)?;
        Ok((recording.hash == hash).then_some(recording))
    }

    /// Writes a recording, keeping the tests that used the previous one.
    pub(crate) fn save(&self, mut recording: Recording) -> Result<PathBuf, RecordError> {
        let path = recording_path(&self.dir, &recording.provider, &recording.hash);
        let lock = self.lock(&path);
        let _guard = lock.lock().unwrap_or_else(|p| p.into_inner());
        let mut used_by: BTreeSet<String> = recording.used_by.drain(..).collect();
        if let Ok(Some(previous)) = self.load(&recording.provider, &recording.hash) {
            used_by.extend(previous.used_by);
        }
        recording.used_by = used_by.into_iter().collect();
        write_atomic(&path, &recording.to_file_bytes())?;
        Ok(path)
    }

    /// Adds the tests that just replayed `recording` to its `used_by`;
    /// writes nothing when they are all listed already.
    pub(crate) fn add_users(
        &self,
        recording: &Recording,
        tests: &[String],
    ) -> Result<(), RecordError> {
        if tests.iter().all(|t| recording.used_by.contains(t)) {
            return Ok(());
        }
        let path = recording_path(&self.dir, &recording.provider, &recording.hash);
        let lock = self.lock(&path);
        let _guard = lock.lock().unwrap_or_else(|p| p.into_inner());
        edit_used_by(&path, |users| users.extend(tests.iter().cloned())).map(drop)
    }

    /// Serialises writes of one file within this process.
    fn lock(&self, path: &Path) -> Arc<Mutex<()>> {
        let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        locks.entry(path.to_owned()).or_default().clone()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::record::key::sorted_query;

    pub(crate) fn sample(used_by: &[&str]) -> Recording {
        let rules = Rules::default();
        let parts = RequestParts {
            method: "POST".into(),
            path: "/v1/chat/completions".into(),
            query: sorted_query(None),
            body: Body::Json(
                json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]}),
            ),
        };
        Recording {
            hash: request_key(&rules, "vllm", &parts),
            provider: "vllm".into(),
            request: StoredRequest {
                body: StoredBody::from_body(&parts.body),
                method: parts.method.clone(),
                path: parts.path.clone(),
                query: parts.query.clone(),
            },
            response: StoredResponse::from_upstream(
                200,
                Some("application/json".into()),
                br#"{"id":"x","choices":[]}"#,
                &Redactor::default(),
            ),
            used_by: used_by.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn the_file_format_is_stable() {
        let text = String::from_utf8(sample(&["t::b", "t::a"]).to_file_bytes()).unwrap();
        let hash = sample(&[]).hash;
        assert_eq!(
            text,
            format!(
                r#"{{
  "hash": "{hash}",
  "provider": "vllm",
  "request": {{
    "body": {{
      "model": "m",
      "messages": [
        {{
          "role": "user",
          "content": "hi"
        }}
      ]
    }},
    "method": "POST",
    "path": "/v1/chat/completions"
  }},
  "response": {{
    "body": {{
      "id": "x",
      "choices": []
    }},
    "content_type": "application/json",
    "status": 200
  }},
  "used_by": [
    "t::b",
    "t::a"
  ]
}}
"#
            )
        );
    }

    #[test]
    fn bodies_round_trip_in_every_form() {
        let table = [
            (Body::Empty, json!({})),
            (Body::Json(json!(null)), json!({"body": null})),
            (Body::Json(json!({"a": 1})), json!({"body": {"a": 1}})),
            (
                Body::Bytes(b"plain".to_vec()),
                json!({"body_text": "plain"}),
            ),
            (
                Body::Bytes(vec![0xff, 0x00]),
                json!({"body_base64": "/wA="}),
            ),
        ];
        for (body, stored) in table {
            let s = StoredBody::from_body(&body);
            assert_eq!(serde_json::to_value(&s).unwrap(), stored, "{body:?}");
            let back: StoredBody = serde_json::from_value(stored).unwrap();
            assert_eq!(back.to_body().unwrap(), body);
        }
        let two: StoredBody = serde_json::from_value(json!({"body": 1, "body_text": "x"})).unwrap();
        assert_eq!(
            two.to_body().unwrap_err(),
            "more than one of `body`, `body_text`, `body_base64`"
        );
    }

    #[test]
    fn responses_are_stored_by_content_type() {
        let r = Redactor::new(vec!["sk-secret-1".into()]);
        let sse = StoredResponse::from_upstream(
            200,
            Some("text/event-stream; charset=utf-8".into()),
            b"data: {\"k\":\"sk-secret-1\"}\n\ndata: [DONE]\n\n",
            &r,
        );
        assert_eq!(
            sse.events,
            Some(vec![
                SseEvent::Data("{\"k\":\"<redacted>\"}".into()),
                SseEvent::Data("[DONE]".into())
            ])
        );
        let text = StoredResponse::from_upstream(500, Some("text/plain".into()), b"{\"a\":1}", &r);
        assert_eq!(text.body.body_text.as_deref(), Some("{\"a\":1}"));
        let json =
            StoredResponse::from_upstream(200, Some("application/json".into()), b"{\"a\":1}", &r);
        assert_eq!(json.body.body, Some(json!({"a": 1})));
        let bad_json =
            StoredResponse::from_upstream(200, Some("application/json".into()), b"{oops", &r);
        assert_eq!(bad_json.body.body_text.as_deref(), Some("{oops"));
    }

    #[test]
    fn save_then_load_and_merge_users() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        let rec = sample(&["t::b"]);
        assert_eq!(store.load("vllm", &rec.hash).unwrap(), None);
        let path = store.save(rec.clone()).unwrap();
        assert_eq!(
            path,
            dir.path()
                .join("vllm")
                .join(format!("{}.json", &rec.hash[..16]))
        );
        let first_bytes = std::fs::read(&path).unwrap();
        // Re-recording the identical exchange rewrites identical bytes.
        store.save(rec.clone()).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), first_bytes);
        store.save(sample(&["t::a"])).unwrap();
        let loaded = store.load("vllm", &rec.hash).unwrap().unwrap();
        assert_eq!(loaded.used_by, vec!["t::a", "t::b"]);
        loaded.check(&path, &Rules::default()).unwrap();
        assert_eq!(list_files(dir.path()).unwrap(), vec![path]);
        // Another key with the same 16-digit prefix is not this recording.
        let other = format!("{}{}", &rec.hash[..16], "0".repeat(48));
        assert_eq!(store.load("vllm", &other).unwrap(), None);
    }

    #[test]
    fn editing_used_by_keeps_every_other_byte() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        let rec = sample(&["t::b"]);
        let path = store.save(rec.clone()).unwrap();
        // Numbers as a server printed them, which a parse and re-print
        // would change (`0.10` -> `0.1`, `1e2` -> `100.0`).
        let text = std::fs::read_to_string(&path).unwrap().replace(
            "\"choices\": []",
            "\"choices\": [],\n      \"p\": [0.10, 1e2]",
        );
        std::fs::write(&path, &text).unwrap();

        store.add_users(&rec, &["t::b".to_owned()]).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text, "nothing new");
        let loaded = store.load("vllm", &rec.hash).unwrap().unwrap();
        store
            .add_users(&loaded, &["t::c".to_owned(), "t::a".to_owned()])
            .unwrap();
        let edited = std::fs::read_to_string(&path).unwrap();
        let field = text.rfind("\n  \"used_by\"").unwrap();
        assert_eq!(edited[..field], text[..field]);
        assert_eq!(
            &edited[field..],
            "\n  \"used_by\": [\n    \"t::a\",\n    \"t::b\",\n    \"t::c\"\n  ]\n}\n"
        );
        let add = |name: &str| {
            let name = name.to_owned();
            move |names: &mut BTreeSet<String>| {
                names.insert(name);
            }
        };
        assert!(!edit_used_by(&path, add("t::a")).unwrap(), "already listed");
        assert!(edit_used_by(&path, BTreeSet::clear).unwrap());
        assert!(
            std::fs::read_to_string(&path)
                .unwrap()
                .ends_with("\n  \"used_by\": []\n}\n")
        );

        // A file without the field is written whole.
        let mut value: Value = serde_json::from_str(&text).unwrap();
        value.as_object_mut().unwrap().remove("used_by");
        std::fs::write(&path, serde_json::to_vec(&value).unwrap()).unwrap();
        assert!(edit_used_by(&path, add("t::z")).unwrap());
        assert_eq!(read_recording(&path).unwrap().used_by, vec!["t::z"]);
    }

    #[test]
    fn a_failed_write_leaves_no_file_and_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("taken");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("inside"), b"x").unwrap();
        let err = write_atomic(&target, b"new").unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("cannot write `{}`: ", target.display())),
            "{err}"
        );
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("taken")]);
    }

    #[test]
    fn corrupt_and_misplaced_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        let rec = sample(&[]);
        let path = recording_path(dir.path(), "vllm", &rec.hash);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, b"{\"hash\": \"x\"").unwrap();
        let err = store.load("vllm", &rec.hash).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "corrupt recording `{}`: EOF while parsing an object at line 1 column 12; delete it and re-record with --inference-mode=record-if-missing",
                path.display()
            )
        );
        let moved = dir.path().join("ollama").join("x.json");
        assert_eq!(
            rec.check(&moved, &Rules::default()).unwrap_err(),
            format!(
                "file name should be `{}.json` for hash `{}`",
                &rec.hash[..16],
                rec.hash
            )
        );
        let mut edited = rec.clone();
        edited.request.path = "/v1/completions".into();
        assert!(
            edited
                .check(&path, &Rules::default())
                .unwrap_err()
                .starts_with("stored hash `")
        );
    }

    #[test]
    fn provider_names_must_be_safe_directory_names() {
        for ok in ["vllm", "llama-cpp", "my_openai.2"] {
            assert!(is_valid_provider(ok), "{ok}");
        }
        for bad in ["", ".", "..", ".hidden", "a/b", "a b", "ü"] {
            assert!(!is_valid_provider(bad), "{bad}");
        }
    }
}
