//! The usage manifest: which recordings a complete run used, and which
//! tests used each, written under `target/` at the end of the run and read
//! by `recordings prune` (which removes unused files and the names of tests
//! that no longer use a recording from its `used_by`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::files::write_atomic;
use super::key::FILE_HASH_LEN;
use crate::record::error::RecordError;
use crate::record::mode::InferenceMode;

/// Who requests outside any test are attributed to, in `used_by` and in
/// the manifest: the stack's own start-up traffic (`GET /v1/models`).
pub(crate) const STARTUP: &str = "(stack start-up)";

/// Where runs write their manifests, relative to the workspace root: one
/// file per stack (`ogx-1.5.0.json`), so that a run on one stack leaves
/// another's manifest, and `prune` reads them all.
pub(crate) const MANIFESTS_DIR: &str = "target/stack-harness/recordings-used";

/// The manifest file of a run on `stack` (`ogx 1.5.0`), in [`MANIFESTS_DIR`].
pub(crate) fn manifest_file(stack: &str) -> String {
    let name: String = stack
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("{MANIFESTS_DIR}/{name}.json")
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct UsageManifest {
    /// The recordings directory the run used, as the proxy saw it.
    pub(crate) dir: PathBuf,
    pub(crate) mode: InferenceMode,
    /// The stack the run was on (`ogx 1.5.0`); `None` from a run that did
    /// not say (an older harness).
    #[serde(default)]
    pub(crate) stack: Option<String>,
    /// Provider → full key replayed or written during the run → the tests
    /// it was attributed to. With tests run in parallel that is a superset
    /// of the tests that really made the request (never a subset).
    pub(crate) used: BTreeMap<String, BTreeMap<String, BTreeSet<String>>>,
}

impl UsageManifest {
    pub(crate) fn record(&mut self, provider: &str, hash: &str, tests: &[String]) {
        self.used
            .entry(provider.to_owned())
            .or_default()
            .entry(hash.to_owned())
            .or_default()
            .extend(tests.iter().cloned());
    }

    /// Keeps the recordings attributed to `user`, with that user alone.
    pub(crate) fn keep_only(&mut self, user: &str) {
        for hashes in self.used.values_mut() {
            hashes.retain(|_, tests| tests.contains(user));
            for tests in hashes.values_mut() {
                tests.retain(|t| t == user);
            }
        }
        self.used.retain(|_, hashes| !hashes.is_empty());
    }

    pub(crate) fn count(&self) -> usize {
        self.used.values().map(BTreeMap::len).sum()
    }

    /// Whether `<dir>/<provider>/<hash16>.json` is one of the used files.
    #[cfg(test)]
    pub(crate) fn uses_file(&self, file: &Path) -> bool {
        self.users_of_file(file).is_some()
    }

    /// The tests that used `<dir>/<provider>/<hash16>.json`; `None` when
    /// the run did not use it.
    pub(crate) fn users_of_file(&self, file: &Path) -> Option<&BTreeSet<String>> {
        let provider = file
            .parent()
            .and_then(Path::file_name)
            .and_then(|n| n.to_str())?;
        let stem = file.file_stem().and_then(|n| n.to_str())?;
        self.used
            .get(provider)?
            .iter()
            .find_map(|(hash, tests)| (hash.get(..FILE_HASH_LEN) == Some(stem)).then_some(tests))
    }

    pub(crate) fn write(&self, path: &Path) -> Result<(), RecordError> {
        let mut bytes = serde_json::to_vec_pretty(self).unwrap_or_default();
        bytes.push(b'\n');
        write_atomic(path, &bytes)
    }

    pub(crate) fn read(path: &Path) -> Result<UsageManifest, RecordError> {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(RecordError::NoManifest {
                    path: path.to_owned(),
                });
            }
            Err(e) => return Err(RecordError::io("cannot read usage manifest", path, e)),
        };
        serde_json::from_slice(&bytes).map_err(|e| {
            let problem = if is_old_format(&bytes) {
                "it is from an older stack-harness, which did not note the tests that used each recording".to_owned()
            } else {
                e.to_string()
            };
            RecordError::Tool(format!(
                "corrupt usage manifest `{}`: {problem}; run the whole suite again to rewrite it",
                path.display()
            ))
        })
    }
}

/// The first format listed only the keys per provider.
fn is_old_format(bytes: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(bytes).is_ok_and(|v| {
        v["used"]
            .as_object()
            .is_some_and(|providers| providers.values().any(serde_json::Value::is_array))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manifest_round_trips_and_matches_files_by_provider_and_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("target/stack-harness/recordings-used.json");
        let mut m = UsageManifest {
            dir: "recordings".into(),
            ..UsageManifest::default()
        };
        let hash = format!("{}{}", "a".repeat(16), "b".repeat(48));
        m.record("vllm", &hash, &["t::b".to_owned()]);
        m.record("vllm", &hash, &["t::a".to_owned(), "t::b".to_owned()]);
        assert_eq!(m.count(), 1);
        m.write(&path).unwrap();
        let back = UsageManifest::read(&path).unwrap();
        assert_eq!(back, m);
        let file = Path::new("recordings/vllm/aaaaaaaaaaaaaaaa.json");
        assert!(back.uses_file(file));
        assert_eq!(
            back.users_of_file(file).unwrap(),
            &BTreeSet::from(["t::a".to_owned(), "t::b".to_owned()])
        );
        assert!(!back.uses_file(Path::new("recordings/ollama/aaaaaaaaaaaaaaaa.json")));
        assert!(!back.uses_file(Path::new("recordings/vllm/aaaaaaaaaaaaaaab.json")));
    }

    #[test]
    fn a_manifest_of_the_first_format_asks_for_a_new_run() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.json");
        std::fs::write(
            &path,
            r#"{"dir": "r", "mode": "replay", "used": {"vllm": ["ab"]}}"#,
        )
        .unwrap();
        assert_eq!(
            UsageManifest::read(&path).unwrap_err().to_string(),
            format!(
                "corrupt usage manifest `{}`: it is from an older stack-harness, which did not note the tests that used each recording; run the whole suite again to rewrite it",
                path.display()
            )
        );
        std::fs::write(&path, "{").unwrap();
        assert_eq!(
            UsageManifest::read(&path).unwrap_err().to_string(),
            format!(
                "corrupt usage manifest `{}`: EOF while parsing an object at line 1 column 1; run the whole suite again to rewrite it",
                path.display()
            )
        );
    }

    #[test]
    fn a_missing_manifest_says_how_to_make_one() {
        let err = UsageManifest::read(Path::new("nope/m.json"))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "no usage manifest at `nope/m.json`; run the whole suite in replay mode first (`cargo test --test integration`) so prune knows which recordings are used"
        );
    }
}
