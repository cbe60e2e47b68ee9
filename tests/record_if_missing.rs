//! Requests that carry the stack's random ids hash to the same recording on
//! every run. The suite's file, vector-store and file_search tests make the
//! stack send upstream prompts quoting new random `file-…`, `vs_…` and chunk
//! ids each time; `recordings/normalize.yaml` must map them onto the
//! recordings made in another run. Run those tests twice in
//! `record-if-missing` mode against a copy of the recordings: neither run may
//! add a recording (a miss would also fail, as its upstream is unreachable).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn files_under(dir: &Path) -> BTreeSet<PathBuf> {
    walk(dir)
        .into_iter()
        .map(|p| p.strip_prefix(dir).map(Path::to_path_buf).unwrap_or(p))
        .collect()
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path))
        } else {
            out.push(path)
        }
    }
    out
}

fn copy_dir(from: &Path, to: &Path) {
    for file in walk(from) {
        let dest = to.join(file.strip_prefix(from).expect("under from"));
        std::fs::create_dir_all(dest.parent().expect("a parent")).expect("mkdir");
        std::fs::copy(&file, &dest).expect("copy");
    }
}

#[test]
fn requests_with_new_random_ids_find_the_recordings_of_another_run() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().expect("tempdir");
    copy_dir(&root.join("recordings"), dir.path());
    let before = files_under(dir.path());
    for run in 1..=2 {
        let status = Command::new("cargo")
            .args(["test", "--test", "integration", "--"])
            .args(["-k", "files or vector_stores or file_search"])
            .arg("--inference-mode=record-if-missing")
            .arg(format!("--record-dir={}", dir.path().display()))
            // A real upstream would be needed only for a miss: point it
            // nowhere, with the models the recordings were made with.
            .args([
                "--setup=vllm",
                "--env=VLLM_URL=http://127.0.0.1:9/v1",
                "--env=EMBEDDING_URL=http://127.0.0.1:9/v1",
            ])
            .args([
                "--text-model=vllm/smollm2-135m",
                "--embedding-model=llama-cpp-embed/smollm2-135m-embed",
            ])
            .args([
                "--embedding-dimension=576",
                "--stack-config=server:ci-tests:8332",
            ])
            .current_dir(root)
            .status()
            .expect("cargo runs");
        assert!(
            status.success(),
            "run {run} of the id-carrying tests failed: {status}"
        );
        let after = files_under(dir.path());
        let added: Vec<_> = after
            .difference(&before)
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        assert!(
            added.is_empty(),
            "run {run} recorded new exchanges, so a random id reached a key: {added:?}"
        );
    }
}
