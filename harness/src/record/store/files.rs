//! The recordings directory: one pretty-printed JSON file per exchange.
//!
//! Layout: `<dir>/<provider>/<first 16 hex digits of the key>.json`, the
//! full key inside as `hash`. `verify` recomputes the key from the stored
//! request and checks both. Finding a recording is a path computation plus
//! one small file read, so opening a store of any size costs nothing: there
//! is no index to build at proxy start-up. Writes go to a temporary file in
//! the same directory that is renamed over the target, so a reader or a
//! crash never sees half a file.
//!
//! `used_by` rule: recording runs only ever add names (re-recording an
//! exchange merges the file's names with the test recording it, and
//! record-if-missing adds a test that replays it), so a run over a subset
//! of the tests drops nobody; `recordings prune` then keeps only the names
//! the last complete run saw using the recording. Record runs go one test
//! at a time, so the names they add are exact. `stacks` follows the same
//! rule with the stack each recording run was on: every stack whose run
//! makes or replays the exchange is added, and only `prune`, from that
//! stack's own complete run, takes one away.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::key::{FILE_HASH_LEN, request_key};
use super::recording::{Recording, parse_recording};
use super::rules::Rules;
use crate::record::error::RecordError;

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

/// Writes `bytes` to `path` atomically: a temporary file in the same
/// directory, flushed, then renamed over the target. On any failure the
/// temporary file is removed and the target is untouched.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), RecordError> {
    crate::atomic::write(path, bytes).map_err(|e| RecordError::io("cannot write", path, e))
}

/// Who uses a recording: its `used_by` tests and its `stacks`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Users {
    pub(crate) used_by: BTreeSet<String>,
    pub(crate) stacks: BTreeSet<String>,
}

impl Users {
    fn of(recording: &Recording) -> Users {
        Users {
            used_by: recording.used_by.iter().cloned().collect(),
            stacks: recording.stacks.iter().cloned().collect(),
        }
    }
}

/// Changes the `used_by` and `stacks` of the recording at `path`, leaving
/// every other byte as it is (parsing and re-printing a body could change
/// the last digit of a float, which would be a diff nobody asked for).
/// Returns whether the file changed.
pub(crate) fn edit_users(path: &Path, edit: impl FnOnce(&mut Users)) -> Result<bool, RecordError> {
    let bytes =
        std::fs::read(path).map_err(|e| RecordError::io("cannot read recording", path, e))?;
    let recording = parse_recording(path, &bytes)?;
    let mut users = Users::of(&recording);
    edit(&mut users);
    let expected = Recording {
        used_by: users.used_by.into_iter().collect(),
        stacks: users.stacks.into_iter().collect(),
        ..recording.clone()
    };
    if expected == recording {
        return Ok(false);
    }
    let in_place = with_users(&bytes, &expected.stacks, &expected.used_by)
        .filter(|new| parse_recording(path, new).is_ok_and(|r| r == expected));
    let new_bytes = in_place.unwrap_or_else(|| expected.to_file_bytes());
    write_atomic(path, &new_bytes)?;
    Ok(true)
}

/// The file's bytes with its trailing `stacks` and `used_by` fields
/// replaced (the last two, in that order, as `Recording` prints them).
fn with_users(bytes: &[u8], stacks: &[String], used_by: &[String]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(bytes).ok()?;
    // A top-level field is indented by two spaces; a newline inside a
    // string is escaped, so this can only be the field itself.
    let at = text
        .rfind("\n  \"stacks\": ")
        .or_else(|| text.rfind("\n  \"used_by\": "))?;
    let mut tail = serde_json::Map::new();
    if !stacks.is_empty() {
        tail.insert("stacks".into(), serde_json::json!(stacks));
    }
    tail.insert("used_by".into(), serde_json::json!(used_by));
    let fields = serde_json::to_string_pretty(&tail).ok()?;
    let mut out = text[..at].to_owned();
    out.push_str(fields.strip_prefix('{')?);
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

    /// Writes a recording, keeping the tests and stacks that used the
    /// previous one, and its request if that still has this key under
    /// `rules`: the two
    /// differ only in what the rules call volatile (the stack's random
    /// ids), so re-recording an unchanged test leaves the request's bytes.
    pub(crate) fn save(
        &self,
        mut recording: Recording,
        rules: &Rules,
    ) -> Result<PathBuf, RecordError> {
        let path = recording_path(&self.dir, &recording.provider, &recording.hash);
        let lock = self.lock(&path);
        let _guard = lock.lock().unwrap_or_else(|p| p.into_inner());
        let mut users = Users::of(&recording);
        if let Ok(Some(previous)) = self.load(&recording.provider, &recording.hash) {
            let still_keyed = previous.request_parts().is_ok_and(|parts| {
                request_key(rules, &previous.provider, &parts) == recording.hash
            });
            let Users { used_by, stacks } = Users::of(&previous);
            users.used_by.extend(used_by);
            users.stacks.extend(stacks);
            if still_keyed {
                recording.request = previous.request;
            }
        }
        recording.used_by = users.used_by.into_iter().collect();
        recording.stacks = users.stacks.into_iter().collect();
        write_atomic(&path, &recording.to_file_bytes())?;
        Ok(path)
    }

    /// Adds the tests that just replayed `recording` to its `used_by`, and
    /// the stack they ran on to its `stacks`; writes nothing when they are
    /// all listed already.
    pub(crate) fn add_users(
        &self,
        recording: &Recording,
        tests: &[String],
        stack: Option<&str>,
    ) -> Result<(), RecordError> {
        if tests.iter().all(|t| recording.used_by.contains(t))
            && stack.is_none_or(|s| recording.stacks.iter().any(|k| k == s))
        {
            return Ok(());
        }
        let path = recording_path(&self.dir, &recording.provider, &recording.hash);
        let lock = self.lock(&path);
        let _guard = lock.lock().unwrap_or_else(|p| p.into_inner());
        edit_users(&path, |users| {
            users.used_by.extend(tests.iter().cloned());
            users.stacks.extend(stack.map(str::to_owned));
        })
        .map(drop)
    }

    /// Serialises writes of one file within this process.
    fn lock(&self, path: &Path) -> Arc<Mutex<()>> {
        let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        locks.entry(path.to_owned()).or_default().clone()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::record::store::recording::tests::sample;

    #[test]
    fn save_then_load_and_merge_users() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        let rec = sample(&["t::b"]);
        assert_eq!(store.load("vllm", &rec.hash).unwrap(), None);
        let path = store.save(rec.clone(), &Rules::default()).unwrap();
        assert_eq!(
            path,
            dir.path()
                .join("vllm")
                .join(format!("{}.json", &rec.hash[..16]))
        );
        let first_bytes = std::fs::read(&path).unwrap();
        // Re-recording the identical exchange rewrites identical bytes.
        store.save(rec.clone(), &Rules::default()).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), first_bytes);
        store.save(sample(&["t::a"]), &Rules::default()).unwrap();
        let loaded = store.load("vllm", &rec.hash).unwrap().unwrap();
        assert_eq!(loaded.used_by, vec!["t::a", "t::b"]);
        loaded.check(&path, &Rules::default()).unwrap();
        assert_eq!(list_files(dir.path()).unwrap(), vec![path]);
        // Another key with the same 16-digit prefix is not this recording.
        let other = format!("{}{}", &rec.hash[..16], "0".repeat(48));
        assert_eq!(store.load("vllm", &other).unwrap(), None);
    }

    #[test]
    fn re_recording_keeps_a_request_that_differs_only_in_random_ids() {
        use crate::record::store::key::{Body, RequestParts};
        use crate::record::store::recording::StoredBody;

        let rules = Rules::parse(
            "rules: [{regex: 'file-[0-9a-f]{4}', replace: 'file-{n}'}]",
            Path::new("normalize.yaml"),
            &|_| None,
        )
        .unwrap();
        let asking = |file: &str| {
            let mut rec = sample(&[]);
            let body = Body::Json(
                serde_json::json!({"model": "m", "messages": [{"role": "user", "content": format!("read {file}")}]}),
            );
            rec.hash = request_key(
                &rules,
                "vllm",
                &RequestParts {
                    body: body.clone(),
                    ..rec.request_parts().unwrap()
                },
            );
            rec.request.body = StoredBody::from_body(&body);
            rec
        };
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        let first = asking("file-aaaa");
        let path = store.save(first.clone(), &rules).unwrap();
        let again = asking("file-bbbb");
        assert_eq!(again.hash, first.hash);
        store.save(again.clone(), &rules).unwrap();
        assert_eq!(read_recording(&path).unwrap().request, first.request);
        // Under rules that no longer give the stored request this key, the
        // new request replaces it.
        store.save(again.clone(), &Rules::default()).unwrap();
        assert_eq!(read_recording(&path).unwrap().request, again.request);
    }

    #[test]
    fn editing_users_keeps_every_other_byte() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        let rec = sample(&["t::b"]);
        let path = store.save(rec.clone(), &Rules::default()).unwrap();
        // Numbers as a server printed them, which a parse and re-print
        // would change (`0.10` -> `0.1`, `1e2` -> `100.0`).
        let text = std::fs::read_to_string(&path).unwrap().replace(
            "\"choices\": []",
            "\"choices\": [],\n      \"p\": [0.10, 1e2]",
        );
        std::fs::write(&path, &text).unwrap();

        // What a replay by `tests` on `stack` does to the file as it is now.
        let replayed = |tests: &[&str], stack: Option<&str>| {
            let loaded = store.load("vllm", &rec.hash).unwrap().unwrap();
            let tests: Vec<String> = tests.iter().map(|t| (*t).to_owned()).collect();
            store.add_users(&loaded, &tests, stack).unwrap();
        };
        replayed(&["t::b"], None);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text, "nothing new");
        replayed(&["t::c", "t::a"], None);
        let edited = std::fs::read_to_string(&path).unwrap();
        let field = text.rfind("\n  \"used_by\"").unwrap();
        assert_eq!(edited[..field], text[..field]);
        assert_eq!(
            &edited[field..],
            "\n  \"used_by\": [\n    \"t::a\",\n    \"t::b\",\n    \"t::c\"\n  ]\n}\n"
        );
        // A stack joins before `used_by`, and the same bytes stay before it.
        replayed(&["t::a"], Some("ogx 1.5.0"));
        let with_stack = std::fs::read_to_string(&path).unwrap();
        assert_eq!(with_stack[..field], text[..field]);
        assert_eq!(
            &with_stack[field..],
            "\n  \"stacks\": [\n    \"ogx 1.5.0\"\n  ],\n  \"used_by\": [\n    \"t::a\",\n    \"t::b\",\n    \"t::c\"\n  ]\n}\n"
        );
        replayed(&["t::a"], Some("llama-stack 0.7.3"));
        assert_eq!(
            read_recording(&path).unwrap().stacks,
            ["llama-stack 0.7.3", "ogx 1.5.0"]
        );
        let add = |name: &str| {
            let name = name.to_owned();
            move |users: &mut Users| {
                users.used_by.insert(name);
            }
        };
        assert!(!edit_users(&path, add("t::a")).unwrap(), "already listed");
        assert!(edit_users(&path, |u| *u = Users::default()).unwrap());
        assert_eq!(
            std::fs::read_to_string(&path).unwrap()[..field],
            text[..field]
        );
        assert!(
            std::fs::read_to_string(&path)
                .unwrap()
                .ends_with("\n  },\n  \"used_by\": []\n}\n")
        );

        // A file without the field is written whole.
        let mut value: Value = serde_json::from_str(&text).unwrap();
        value.as_object_mut().unwrap().remove("used_by");
        std::fs::write(&path, serde_json::to_vec(&value).unwrap()).unwrap();
        assert!(edit_users(&path, add("t::z")).unwrap());
        assert_eq!(read_recording(&path).unwrap().used_by, vec!["t::z"]);
    }

    #[test]
    fn re_recording_keeps_the_stacks_that_used_the_exchange() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        let on = |stack: &str, test: &str| Recording {
            stacks: vec![stack.to_owned()],
            ..sample(&[test])
        };
        store
            .save(on("llama-stack 0.7.3", "t::a"), &Rules::default())
            .unwrap();
        let path = store
            .save(on("ogx 1.5.0", "t::b"), &Rules::default())
            .unwrap();
        let saved = read_recording(&path).unwrap();
        assert_eq!(saved.stacks, ["llama-stack 0.7.3", "ogx 1.5.0"]);
        assert_eq!(saved.used_by, ["t::a", "t::b"]);
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
