//! Data-driven cases: YAML files under `tests/integration/test_cases/`,
//! found with walkdir. A test that names a file runs once per case, the case
//! id in its name.
//!
//! ```yaml
//! cases:
//!   - id: capital            # letters, digits, `_`, `-`, `.`; unique in the file
//!     prompt: What is the capital of France?
//!     expect: {finish_reason: stop}
//! ```

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;
use walkdir::WalkDir;

/// One case: its id (in the trial's name) and its data, for the test to read.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    pub id: String,
    pub data: serde_json::Value,
}

impl Case {
    pub fn new(id: impl Into<String>, data: serde_json::Value) -> Case {
        Case {
            id: id.into(),
            data,
        }
    }
}

/// Whether `id` may name a case: letters, digits, `_`, `-`, `.`.
pub(crate) fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
}

/// The cases of one file, keyed by its path relative to the cases directory
/// (`inference/chat.yaml`).
#[derive(Debug, PartialEq)]
pub(crate) struct CaseFile {
    pub cases: Vec<Arc<Case>>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub(crate) enum CaseError {
    #[error("cannot read {path}: {message}")]
    Read { path: String, message: String },
    #[error("{path}: {message}")]
    Yaml { path: String, message: String },
    #[error("{path}: case {index} has no `id` (every case needs a unique `id: <name>`)")]
    MissingId { path: String, index: usize },
    #[error("{path}: case id `{id}` may only use letters, digits, `_`, `-` and `.`")]
    BadId { path: String, id: String },
    #[error("{path}: case id `{id}` appears twice")]
    DuplicateId { path: String, id: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Document {
    cases: Vec<serde_json::Map<String, serde_json::Value>>,
}

/// Loads every `*.yaml`/`*.yml` file under `dir` (none if it does not exist).
pub(crate) fn load_cases(dir: &Path) -> Result<BTreeMap<String, CaseFile>, CaseError> {
    let mut files = BTreeMap::new();
    if !dir.is_dir() {
        return Ok(files);
    }
    for entry in WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.map_err(|e| CaseError::Read {
            path: dir.display().to_string(),
            message: e.to_string(),
        })?;
        let path = entry.path();
        if !path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            continue;
        }
        let rel = path
            .strip_prefix(dir)
            .unwrap_or(path)
            .to_string_lossy()
            .replace('\\', "/");
        let shown = format!("tests/integration/test_cases/{rel}");
        let text = std::fs::read_to_string(path).map_err(|e| CaseError::Read {
            path: shown.clone(),
            message: e.to_string(),
        })?;
        files.insert(rel, parse_cases(&shown, &text)?);
    }
    Ok(files)
}

/// Parses one cases file; `path` is only for messages.
pub(crate) fn parse_cases(path: &str, text: &str) -> Result<CaseFile, CaseError> {
    let doc: Document = serde_saphyr::from_str(text).map_err(|e| CaseError::Yaml {
        path: path.to_owned(),
        message: e.to_string(),
    })?;
    let mut cases: Vec<Arc<Case>> = Vec::with_capacity(doc.cases.len());
    for (index, mut map) in doc.cases.into_iter().enumerate() {
        let id = match map.remove("id") {
            Some(serde_json::Value::String(id)) => id,
            Some(other) if other.is_number() => other.to_string(),
            _ => {
                return Err(CaseError::MissingId {
                    path: path.to_owned(),
                    index: index + 1,
                });
            }
        };
        if id.is_empty()
            || !id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
        {
            return Err(CaseError::BadId {
                path: path.to_owned(),
                id,
            });
        }
        if cases.iter().any(|c| c.id == id) {
            return Err(CaseError::DuplicateId {
                path: path.to_owned(),
                id,
            });
        }
        cases.push(Arc::new(Case {
            id,
            data: serde_json::Value::Object(map),
        }));
    }
    Ok(CaseFile { cases })
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: &str = "tests/integration/test_cases/x.yaml";

    #[test]
    fn parses_cases_with_their_data() {
        let file = parse_cases(
            P,
            "cases:\n  - id: a\n    prompt: hi\n  - id: b-2.x\n    n: 3\n",
        )
        .expect("valid file");
        assert_eq!(file.cases.len(), 2);
        assert_eq!(file.cases[0].id, "a");
        assert_eq!(file.cases[0].data, serde_json::json!({"prompt": "hi"}));
        assert_eq!(file.cases[1].data, serde_json::json!({"n": 3}));
    }

    #[test]
    fn bad_files_name_the_file_and_the_case() {
        let err = |text: &str| parse_cases(P, text).expect_err("invalid").to_string();
        assert_eq!(
            err("cases:\n  - prompt: hi\n"),
            "tests/integration/test_cases/x.yaml: case 1 has no `id` (every case needs a unique `id: <name>`)"
        );
        assert_eq!(
            err("cases:\n  - id: a b\n"),
            "tests/integration/test_cases/x.yaml: case id `a b` may only use letters, digits, `_`, `-` and `.`"
        );
        assert_eq!(
            err("cases:\n  - id: a\n  - id: a\n"),
            "tests/integration/test_cases/x.yaml: case id `a` appears twice"
        );
        assert!(err("kases: []\n").starts_with("tests/integration/test_cases/x.yaml: "));
    }

    #[test]
    fn walks_a_directory_tree() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("inference")).expect("mkdir");
        std::fs::write(
            dir.path().join("inference/chat.yaml"),
            "cases:\n  - id: a\n",
        )
        .expect("write");
        std::fs::write(dir.path().join("notes.txt"), "not yaml").expect("write");
        let files = load_cases(dir.path()).expect("loads");
        assert_eq!(files.keys().collect::<Vec<_>>(), ["inference/chat.yaml"]);
        assert!(
            load_cases(&dir.path().join("missing"))
                .expect("no dir is fine")
                .is_empty()
        );
    }
}
