//! The run-configs and release tags as committed, read with `git` from the
//! project root without checking anything out.

use super::{CompatError, RUN_CONFIGS};
use crate::breaking::{Git, GitError};

impl Git {
    /// Names of `run-configs/<name>/run.yaml` at `commit`, sorted. Paths are
    /// relative to the project root, which need not be the repository's.
    pub(super) fn configs_at(&self, commit: &str) -> Result<Vec<String>, GitError> {
        let listing = self.run(&[
            "ls-tree",
            "-r",
            "-z",
            "--name-only",
            commit,
            "--",
            RUN_CONFIGS,
        ])?;
        let files: Vec<&str> = listing
            .split(|b| *b == 0)
            .filter_map(|path| std::str::from_utf8(path).ok())
            .filter_map(|path| path.strip_prefix("run-configs/"))
            .collect();
        Ok(super::config_names(files.into_iter()))
    }

    /// `path` is relative to run-configs/: `ci-tests/run.yaml`.
    pub(super) fn config_at(&self, commit: &str, path: &str) -> Result<Vec<u8>, CompatError> {
        Ok(self.run(&[
            "cat-file",
            "blob",
            &format!("{commit}:./{RUN_CONFIGS}/{path}"),
        ])?)
    }

    /// The highest `v<digit>...` tag by version order, with its commit.
    pub(super) fn latest_release(&self) -> Option<(String, String)> {
        let tags = self
            .text(&["tag", "--list", "v*", "--sort=-v:refname"])
            .ok()?;
        let tag = tags
            .lines()
            .find(|tag| tag[1..].starts_with(|c: char| c.is_ascii_digit()))?;
        let commit = self.commit_of(&format!("refs/tags/{tag}"))?;
        Some((tag.to_owned(), commit))
    }
}
