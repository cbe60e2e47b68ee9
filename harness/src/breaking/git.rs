//! Running `git` in a project root, without checking anything out: refs,
//! commit messages, and (for the gates) files as committed.

use std::path::PathBuf;
use std::process::Command;

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error(
        "cannot run `git` (needed to read committed files): {source}; install git and put it on PATH"
    )]
    NoGit {
        #[source]
        source: std::io::Error,
    },
    #[error("`git {args}` failed in `{}`: {stderr}", dir.display())]
    Failed {
        args: String,
        dir: PathBuf,
        stderr: String,
    },
}

/// The git side of a gate, for one project root (which need not be the
/// repository's root).
#[derive(Debug)]
pub(crate) struct Git {
    pub(crate) root: PathBuf,
}

/// One commit of `main..HEAD`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Commit {
    pub(crate) hash: String,
    pub(crate) message: String,
}

impl Git {
    /// Runs git in the project root; its stdout when it succeeds.
    pub(crate) fn run(&self, args: &[&str]) -> Result<Vec<u8>, GitError> {
        let output = Command::new("git")
            .arg("-C")
            .arg(&self.root)
            .args(args)
            .output()
            .map_err(|source| GitError::NoGit { source })?;
        if output.status.success() {
            Ok(output.stdout)
        } else {
            Err(GitError::Failed {
                args: args.join(" "),
                dir: self.root.clone(),
                stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
            })
        }
    }

    pub(crate) fn text(&self, args: &[&str]) -> Result<String, GitError> {
        Ok(String::from_utf8_lossy(&self.run(args)?).trim().to_owned())
    }

    /// The commit `reference` names, `None` when it does not exist.
    pub(crate) fn commit_of(&self, reference: &str) -> Option<String> {
        let spec = format!("{reference}^{{commit}}");
        self.text(&["rev-parse", "--verify", "--quiet", &spec])
            .ok()
            .filter(|commit| !commit.is_empty())
    }

    pub(crate) fn is_shallow(&self) -> bool {
        self.text(&["rev-parse", "--is-shallow-repository"])
            .is_ok_and(|answer| answer == "true")
    }

    /// A file as committed at `commit`; `path` is relative to the project
    /// root. `None` when the commit has no such file.
    pub(crate) fn read_at(&self, commit: &str, path: &str) -> Result<Option<Vec<u8>>, GitError> {
        let object = format!("{commit}:./{path}");
        match self.run(&["cat-file", "-e", &object]) {
            Err(GitError::Failed { .. }) => Ok(None),
            Err(e) => Err(e),
            Ok(_) => self.run(&["cat-file", "blob", &object]).map(Some),
        }
    }

    /// Messages of the commits in `base..HEAD`, newest first.
    pub(crate) fn commits_since(&self, base: &str) -> Result<Vec<Commit>, GitError> {
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
