//! Reading committed run-configs, tags and commit messages with the `git`
//! command, from the project root, without checking anything out.

use std::path::PathBuf;
use std::process::Command;

use super::{CompatError, RUN_CONFIGS};

/// The git side of the check, for one project root.
#[derive(Debug)]
pub(super) struct Git {
    pub(super) root: PathBuf,
}

impl Git {
    /// Runs git in the project root; its stdout when it succeeds.
    pub(super) fn run(&self, args: &[&str]) -> Result<Vec<u8>, CompatError> {
        let output = Command::new("git")
            .arg("-C")
            .arg(&self.root)
            .args(args)
            .output()
            .map_err(|source| CompatError::NoGit { source })?;
        if output.status.success() {
            Ok(output.stdout)
        } else {
            Err(CompatError::Git {
                args: args.join(" "),
                dir: self.root.clone(),
                stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
            })
        }
    }

    pub(super) fn text(&self, args: &[&str]) -> Result<String, CompatError> {
        Ok(String::from_utf8_lossy(&self.run(args)?).trim().to_owned())
    }

    /// The commit `reference` names, `None` when it does not exist.
    pub(super) fn commit_of(&self, reference: &str) -> Option<String> {
        let spec = format!("{reference}^{{commit}}");
        self.text(&["rev-parse", "--verify", "--quiet", &spec])
            .ok()
            .filter(|commit| !commit.is_empty())
    }

    pub(super) fn is_shallow(&self) -> bool {
        self.text(&["rev-parse", "--is-shallow-repository"])
            .is_ok_and(|answer| answer == "true")
    }

    /// Names of `run-configs/<name>/run.yaml` at `commit`, sorted. Paths are
    /// relative to the project root, which need not be the repository's.
    pub(super) fn configs_at(&self, commit: &str) -> Result<Vec<String>, CompatError> {
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
    pub(super) fn read_at(&self, commit: &str, path: &str) -> Result<Vec<u8>, CompatError> {
        self.run(&[
            "cat-file",
            "blob",
            &format!("{commit}:./{RUN_CONFIGS}/{path}"),
        ])
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

    /// Messages of the commits in `base..HEAD`, newest first.
    pub(super) fn commits_since(&self, base: &str) -> Result<Vec<Commit>, CompatError> {
        let log = self.run(&["log", "-z", "--format=%h%n%B", &format!("{base}..HEAD")])?;
        Ok(String::from_utf8_lossy(&log)
            .split('\0')
            .filter(|record| !record.trim().is_empty())
            .map(|record| {
                let (hash, message) = record.split_once('\n').unwrap_or((record, ""));
                Commit {
                    hash: hash.trim().to_owned(),
                    message: message.trim_end().to_owned(),
                }
            })
            .collect())
    }
}

/// One commit of `main..HEAD`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Commit {
    pub(crate) hash: String,
    pub(crate) message: String,
}
