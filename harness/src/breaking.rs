//! Acknowledging breaking changes, for the gates that compare this branch
//! with `main`: the run-configs (`stack::run_yaml::compat`) and the served
//! API (`api`). A break from `main` fails its gate unless something says it
//! is intended: a commit in `main..HEAD` with a `BREAKING CHANGE:` footer
//! (or a `type(scope)!:` subject), or a pull-request title (`PR_TITLE`) of
//! the `type(scope)!:` form, as in Conventional Commits. The main type is
//! [`Gate`]: `main` resolved once, its commits read once.

use std::path::Path;
use std::sync::{LazyLock, OnceLock};

use regex::Regex;

pub(crate) mod git;

pub(crate) use git::{Commit, Git, GitError};

/// The branch the gates compare with; `origin/main` stands in for it in CI
/// checkouts, which have no local branch.
pub(crate) const BASE: &str = "main";
const BASE_REFS: [&str; 2] = ["refs/heads/main", "refs/remotes/origin/main"];

/// A resolved revision: the name messages use, and its commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rev {
    pub(crate) name: String,
    pub(crate) commit: String,
}

/// Why a break from `main` is accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Acknowledgment {
    Commit { hash: String, subject: String },
    PrTitle(String),
}

impl std::fmt::Display for Acknowledgment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Acknowledgment::Commit { hash, subject } => write!(f, "commit {hash} (\"{subject}\")"),
            Acknowledgment::PrTitle(title) => write!(f, "the pull request title \"{title}\""),
        }
    }
}

/// Conventional commits: `type(scope)!: description` marks a breaking change.
static BANG_SUBJECT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[A-Za-z][A-Za-z0-9_-]*(\([^()\r\n]*\))?!: *\S").expect("constant regex is valid")
});

fn is_bang(subject: &str) -> bool {
    BANG_SUBJECT.is_match(subject.trim())
}

/// The first acknowledgment of a breaking change: a commit (newest first)
/// with a `BREAKING CHANGE:` (or `BREAKING-CHANGE:`) footer line or a
/// `type(scope)!:` subject, else a `type(scope)!:` pull-request title. The
/// footer must start its line and be upper case, as the conventional-commits
/// spec says, so prose that merely mentions it does not count.
pub(crate) fn acknowledgment(commits: &[Commit], pr_title: Option<&str>) -> Option<Acknowledgment> {
    let found = commits.iter().find(|commit| {
        commit.message.lines().next().is_some_and(is_bang)
            || commit.message.lines().any(|line| {
                line.starts_with("BREAKING CHANGE:") || line.starts_with("BREAKING-CHANGE:")
            })
    });
    if let Some(commit) = found {
        return Some(Acknowledgment::Commit {
            hash: commit.hash.clone(),
            subject: commit.message.lines().next().unwrap_or_default().to_owned(),
        });
    }
    pr_title
        .filter(|title| is_bang(title))
        .map(|title| Acknowledgment::PrTitle(title.trim().to_owned()))
}

/// What a gate checks against `main`, for messages: `run-configs`, `the API
/// baseline`; and how to skip it where that is really meant.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Subject {
    pub(crate) what: &'static str,
    pub(crate) skip: &'static str,
}

/// `main` and what acknowledges a break from it, for one project root.
#[derive(Debug)]
pub(crate) struct Gate {
    pub(crate) git: Git,
    base: Result<Rev, String>,
    pr_title: Option<String>,
    acknowledged: OnceLock<Result<(usize, Option<Acknowledgment>), String>>,
}

impl Gate {
    /// Resolves `main` in the git repository holding `root`; a missing one
    /// is remembered with the reason (see [`Gate::base`]), not an error.
    pub(crate) fn open(root: &Path, pr_title: Option<String>, subject: Subject) -> Gate {
        let git = Git {
            root: root.to_owned(),
        };
        let base = BASE_REFS
            .iter()
            .find_map(|reference| {
                let commit = git.commit_of(reference)?;
                let name = reference
                    .trim_start_matches("refs/heads/")
                    .trim_start_matches("refs/remotes/");
                Some(Rev {
                    name: name.to_owned(),
                    commit,
                })
            })
            .ok_or_else(|| no_base_reason(&git, subject));
        Gate {
            git,
            base,
            pr_title: pr_title.filter(|t| !t.trim().is_empty()),
            acknowledged: OnceLock::new(),
        }
    }

    /// `main` (or `origin/main`), or why this clone has none and how to fix it.
    pub(crate) fn base(&self) -> Result<&Rev, &str> {
        self.base.as_ref().map_err(String::as_str)
    }

    /// How many commits `main..HEAD` has, and what acknowledges a break.
    pub(crate) fn acknowledged(&self) -> Result<(usize, Option<Acknowledgment>), String> {
        self.acknowledged
            .get_or_init(|| {
                let base = self.base.as_ref().map_err(Clone::clone)?;
                let commits = self
                    .git
                    .commits_since(&base.commit)
                    .map_err(|e| e.to_string())?;
                Ok((
                    commits.len(),
                    acknowledgment(&commits, self.pr_title.as_deref()),
                ))
            })
            .clone()
    }

    /// For a description of the gate: `; 2 commit(s) in `main..HEAD`; ...`.
    pub(crate) fn describe_acknowledgment(&self) -> String {
        let base = self.base.as_ref().map_or(BASE, |rev| rev.name.as_str());
        match self.acknowledged() {
            Ok((count, Some(ack))) => format!(
                "; {count} commit(s) in `{base}..HEAD`; breaking changes acknowledged by {ack}"
            ),
            Ok((count, None)) => {
                format!("; {count} commit(s) in `{base}..HEAD`; no breaking change acknowledged")
            }
            Err(why) => format!("; cannot list `{base}..HEAD`: {why}"),
        }
    }

    /// What acknowledging a break would take, as the end of a failure.
    pub(crate) fn how_to_acknowledge(&self, commits: usize) -> String {
        let base = self.base.as_ref().map_or(BASE, |rev| rev.name.as_str());
        let title = match &self.pr_title {
            Some(title) => format!("is \"{title}\""),
            None => "is not set".to_owned(),
        };
        format!(
            "acknowledge it: add a `BREAKING CHANGE: <what users must change>` footer to a commit message \
             (none of the {commits} commit(s) in `{base}..HEAD` has one), or title the pull request \
             `type(scope)!: ...` (PR_TITLE {title})."
        )
    }
}

pub(crate) fn short(commit: &str) -> &str {
    commit.get(..7).unwrap_or(commit)
}

/// Why there is no `main` to check, and how to get one.
fn no_base_reason(git: &Git, subject: Subject) -> String {
    let what = subject.what;
    let fix = |fetch: &str| {
        format!(
            "fetch it (`{fetch}`; in GitHub Actions, `actions/checkout` with `fetch-depth: 0`), \
             or skip the gate: `{}`",
            subject.skip
        )
    };
    match git.text(&["rev-parse", "--git-dir"]) {
        Err(GitError::NoGit { source }) => format!(
            "cannot run `git` ({source}), so {what} on `{BASE}` cannot be checked; install git"
        ),
        Err(_) => format!(
            "`{}` is not in a git repository, so {what} on `{BASE}` cannot be checked against this code; \
             check it from a clone",
            git.root.display()
        ),
        // Unshallowing too, so that `main..HEAD` holds only this branch's commits.
        Ok(_) if git.is_shallow() => format!(
            "this clone is shallow and has no `{BASE}` branch (nor `origin/{BASE}`), so {what} on `{BASE}` \
             cannot be checked against this code; {}",
            fix("git fetch --unshallow origin main:main")
        ),
        Ok(_) => format!(
            "this clone has no `{BASE}` branch (nor `origin/{BASE}`), so {what} on `{BASE}` cannot be checked \
             against this code; {}",
            fix("git fetch origin main:main")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commit(hash: &str, message: &str) -> Commit {
        Commit {
            hash: hash.to_owned(),
            message: message.to_owned(),
        }
    }

    fn acknowledged_by(messages: &[&str], pr_title: Option<&str>) -> Option<String> {
        let commits: Vec<Commit> = messages
            .iter()
            .enumerate()
            .map(|(i, m)| commit(&format!("c{i}"), m))
            .collect();
        acknowledgment(&commits, pr_title).map(|ack| ack.to_string())
    }

    #[test]
    fn a_breaking_change_footer_acknowledges() {
        let footer = "run_yaml: require `storage`\n\nBREAKING CHANGE: add a `storage` section";
        assert_eq!(
            acknowledged_by(&["docs: typo", footer], None),
            Some("commit c1 (\"run_yaml: require `storage`\")".to_owned())
        );
        let hyphen = "run_yaml: x\n\nBREAKING-CHANGE: y";
        assert_eq!(
            acknowledged_by(&[hyphen], None),
            Some("commit c0 (\"run_yaml: x\")".to_owned())
        );
    }

    #[test]
    fn a_footer_must_be_upper_case_and_start_its_line() {
        for message in [
            "run_yaml: x\n\nbreaking change: y",
            "run_yaml: x\n\nThis is not a BREAKING CHANGE: y",
            "run_yaml: x\n\n  BREAKING CHANGE: indented",
            "BREAKING CHANGES: plural",
        ] {
            assert_eq!(acknowledged_by(&[message], None), None, "{message}");
        }
    }

    #[test]
    fn a_bang_subject_or_pr_title_acknowledges() {
        assert_eq!(
            acknowledged_by(&["feat(run_yaml)!: rename `image_name`"], None),
            Some("commit c0 (\"feat(run_yaml)!: rename `image_name`\")".to_owned())
        );
        assert_eq!(
            acknowledged_by(&["fix: x"], Some("refactor!: drop the v1 format")),
            Some("the pull request title \"refactor!: drop the v1 format\"".to_owned())
        );
        // A commit wins over the title; the newest commit over older ones.
        assert_eq!(
            acknowledged_by(&["feat!: new", "feat!: old"], Some("chore!: t")),
            Some("commit c0 (\"feat!: new\")".to_owned())
        );
        for not_breaking in [
            "feat(run_yaml): add a field",
            "feat!:",
            "feat! : spaced",
            "(scope)!: no type",
            "Revert \"feat!: x\"",
            "",
        ] {
            assert_eq!(
                acknowledged_by(&[not_breaking], Some(not_breaking)),
                None,
                "{not_breaking:?}"
            );
        }
    }
}
