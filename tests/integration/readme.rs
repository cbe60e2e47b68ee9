//! The README's examples are quotes of this suite: every `rust` code block of
//! its "Writing a test" section appears, byte for byte, in a file under
//! `tests/integration/`, so an example always compiles and runs, and
//! changing either side without the other fails here.

use std::path::{Path, PathBuf};

use harness::prelude::*;

#[harness::test(stack = false, marks(docs))]
async fn writing_a_test_quotes_tests_of_the_suite(_ctx: &TestContext) -> Result {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).context("reading README.md")?;
    let section = readme
        .split_once("\n## Writing a test\n")
        .context("the README has no `## Writing a test` section")?
        .1;
    let section = section.split("\n## ").next().unwrap_or(section);
    let blocks = rust_blocks(section);
    ensure!(!blocks.is_empty(), "`## Writing a test` shows no example");
    let mut sources = Vec::new();
    for file in rust_files(&root.join("tests/integration"))? {
        sources.push(std::fs::read_to_string(&file).with_context(|| file.display().to_string())?);
    }
    for block in blocks {
        ensure!(
            sources.iter().any(|s| s.contains(block)),
            "this README example is not in any file under tests/integration/ (quote a test of the suite as it is):\n{block}"
        );
    }
    Ok(())
}

/// The contents of the ```` ```rust ```` blocks of `text`, each with its
/// final newline.
fn rust_blocks(text: &str) -> Vec<&str> {
    text.split("```rust\n")
        .skip(1)
        .filter_map(|rest| rest.split_once("```").map(|(code, _)| code))
        .collect()
}

fn rust_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| dir.display().to_string())? {
        let path = entry?.path();
        if path.is_dir() {
            files.extend(rust_files(&path)?);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    Ok(files)
}
