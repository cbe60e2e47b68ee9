//! Backward compatibility of run-configs: every `run-configs/*/run.yaml` of
//! the working tree, of `main` (the gate) and of the latest release tag `v*`
//! (informational) must still load with this code. Committed revisions are
//! read straight from git (`git ls-tree`, `git cat-file`), nothing is checked
//! out. The `backward_compat` test target drives this through
//! `harness::__compat`; it is not a stable API.
//!
//! A config from `main` that no longer loads fails the gate unless the break
//! is acknowledged: a commit in `main..HEAD` with a `BREAKING CHANGE:` footer
//! (or a `type(scope)!:` subject), or a pull-request title (`PR_TITLE`) of the
//! `type(scope)!:` form. Then it passes with a warning naming the config.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, OnceLock};

use regex::Regex;
use serde_json::{Value, json};

use self::git::{Commit, Git};
use super::{Problem, RunConfig};
use crate::registry::Case;

mod git;

/// Where the configs live, in the project and in every revision.
const RUN_CONFIGS: &str = "run-configs";
/// The branch whose configs are the gate; `origin/main` stands in for it in
/// CI checkouts, which have no local branch.
const BASE: &str = "main";
const BASE_REFS: [&str; 2] = ["refs/heads/main", "refs/remotes/origin/main"];
/// What an upstream URL variable holds when the harness runs a config: the
/// address of its record/replay proxy (this one is never contacted).
const PROXY_URL: &str = "http://127.0.0.1:9/v1";

/// Which copy of the configs a trial checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revision {
    /// `run-configs/` on disk: the project's own configs must load cleanly.
    WorkingTree,
    /// The configs committed on `main`: a break fails unless acknowledged.
    Main,
    /// The latest release tag `v*`: reported, never failing.
    Release,
}

#[derive(Debug, thiserror::Error)]
pub enum CompatError {
    #[error(
        "cannot run `git` (needed to read committed run-configs): {source}; install git and put it on PATH"
    )]
    NoGit {
        #[source]
        source: std::io::Error,
    },
    #[error("`git {args}` failed in `{}`: {stderr}", dir.display())]
    Git {
        args: String,
        dir: PathBuf,
        stderr: String,
    },
    #[error("cannot read `{}`: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("no run-configs to check: `{}` has no `<name>/run.yaml`; the check would pass having checked nothing", dir.display())]
    NoConfigs { dir: PathBuf },
    #[error("{0}")]
    NoBase(String),
    #[error(
        "this trial has no config name in its case data (`{0}`); it must come from the compat cases"
    )]
    BadCase(String),
    /// A config that does not load, with every problem, ready to show.
    #[error("{0}")]
    Broken(String),
}

/// A resolved revision: the name messages use, and its commit.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Rev {
    name: String,
    commit: String,
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

/// What loading one config found: problems break it, notes do not.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Assessment {
    pub(crate) problems: Vec<String>,
    pub(crate) notes: Vec<String>,
}

/// The environment configs are loaded with: what the harness itself sets for
/// the stack, nothing from this machine, so the verdict is the same anywhere.
fn harness_env(name: &str) -> Option<String> {
    super::harness_provided(name).map(str::to_owned)
}

/// Loads a config as the harness would, twice: as written (with only what
/// the harness sets), then with every upstream URL variable set, since the
/// harness points them all at its proxy and that enables providers declared
/// as `${env.X:+id}`. `strict` (the project's own configs) makes every
/// warning a problem; otherwise only a key this code no longer knows is, as
/// the stack would silently drop its value.
pub(crate) fn assess(source_name: &str, text: &str, strict: bool) -> Assessment {
    let mut found = Assessment::default();
    let config = match RunConfig::parse(source_name, text, &harness_env) {
        Ok(config) => config,
        Err(err) => {
            found
                .problems
                .extend(err.to_string().lines().map(str::to_owned));
            return found;
        }
    };
    let vars: BTreeSet<String> = config.upstream_vars().into_iter().map(|u| u.var).collect();
    let config = if vars.is_empty() {
        config
    } else {
        let with_proxy = |name: &str| {
            if vars.contains(name) {
                Some(PROXY_URL.to_owned())
            } else {
                harness_env(name)
            }
        };
        match RunConfig::parse(source_name, text, &with_proxy) {
            Ok(proxied) => proxied,
            Err(err) => {
                let names: Vec<_> = vars.iter().map(|v| format!("`{v}`")).collect();
                found.problems.push(format!(
                    "with its upstream URL variables set, as the harness runs it ({}):",
                    names.join(", ")
                ));
                found
                    .problems
                    .extend(err.to_string().lines().map(|l| format!("  {l}")));
                config
            }
        }
    };
    for warning in &config.warnings {
        let line = warning.display_in(source_name).to_string();
        if strict || matches!(warning.problem, Problem::UnknownKey { .. }) {
            found.problems.push(line);
        } else {
            found.notes.push(line);
        }
    }
    found
}

/// A case id for a config name: the registry allows letters, digits, `_`,
/// `-` and `.`; anything else becomes `_` (the real name is in the data).
/// The configs among `files` (`<folder>/<file>` under run-configs/), as
/// `--stack-config` names them: `<folder>` for a folder's `run.yaml`, and
/// `<folder>::<file>` for each variant beside it. Sorted.
pub(crate) fn config_names<'a>(files: impl Iterator<Item = &'a str>) -> Vec<String> {
    let files: Vec<(&str, &str)> = files
        .filter_map(|f| f.split_once('/'))
        .filter(|(_, file)| !file.contains('/') && file.ends_with(".yaml"))
        .collect();
    let mut names: Vec<String> = files
        .iter()
        .filter(|(folder, file)| *file == "run.yaml" || files.contains(&(*folder, "run.yaml")))
        .map(|(folder, file)| {
            if *file == "run.yaml" {
                (*folder).to_owned()
            } else {
                format!("{folder}::{file}")
            }
        })
        .collect();
    names.sort();
    names
}

/// Where a config named as by [`config_names`] lives, under run-configs/.
fn config_path(name: &str) -> String {
    match name.split_once("::") {
        Some((folder, file)) => format!("{folder}/{file}"),
        None => format!("{name}/run.yaml"),
    }
}

fn case_id(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_-.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn indent(lines: &[String]) -> String {
    lines.iter().map(|l| format!("\n    {l}")).collect()
}

/// The check for one project: revisions resolved once, commits read once.
#[derive(Debug)]
pub struct Compat {
    git: Git,
    base: Result<Rev, String>,
    release: Option<Rev>,
    pr_title: Option<String>,
    acknowledged: OnceLock<Result<(usize, Option<Acknowledgment>), String>>,
}

impl Compat {
    /// Resolves `main` and the latest release in the git repository holding
    /// `root`; a missing one is remembered, not an error, so the working
    /// tree is still checked.
    // Reached through `harness::__compat` once lib.rs re-exports this module.
    #[cfg_attr(test, allow(dead_code))]
    pub fn open(root: &Path) -> Compat {
        Compat::with_pr_title(root, std::env::var("PR_TITLE").ok())
    }

    fn with_pr_title(root: &Path, pr_title: Option<String>) -> Compat {
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
            .ok_or_else(|| no_base_reason(&git));
        let release = git
            .latest_release()
            .map(|(name, commit)| Rev { name, commit });
        Compat {
            git,
            base,
            release,
            pr_title: pr_title.filter(|t| !t.trim().is_empty()),
            acknowledged: OnceLock::new(),
        }
    }

    /// The latest release tag, `None` in a clone without one.
    pub fn release_tag(&self) -> Option<&str> {
        self.release.as_ref().map(|r| r.name.as_str())
    }

    fn rev(&self, revision: Revision) -> Result<Option<&Rev>, CompatError> {
        match revision {
            Revision::WorkingTree => Ok(None),
            Revision::Main => self
                .base
                .as_ref()
                .map(Some)
                .map_err(|reason| CompatError::NoBase(reason.clone())),
            Revision::Release => Ok(self.release.as_ref()),
        }
    }

    fn names(&self, revision: Revision) -> Result<Vec<String>, CompatError> {
        match (revision, self.rev(revision)?) {
            (Revision::WorkingTree, _) => {
                let dir = self.git.root.join(RUN_CONFIGS);
                let entries = std::fs::read_dir(&dir).map_err(|source| CompatError::Read {
                    path: dir.clone(),
                    source,
                })?;
                let mut files = Vec::new();
                for entry in entries.filter_map(Result::ok) {
                    let Ok(folder) = entry.file_name().into_string() else {
                        continue;
                    };
                    for file in std::fs::read_dir(entry.path())
                        .into_iter()
                        .flatten()
                        .flatten()
                    {
                        if let Ok(file) = file.file_name().into_string() {
                            files.push(format!("{folder}/{file}"));
                        }
                    }
                }
                Ok(config_names(files.iter().map(String::as_str)))
            }
            (_, Some(rev)) => self.git.configs_at(&rev.commit),
            (_, None) => Ok(Vec::new()),
        }
    }

    /// One case per config of `revision`; none when the revision is missing
    /// or unreadable, which [`Compat::describe`] reports (so listing the
    /// tests never fails over git).
    pub fn cases(&self, revision: Revision) -> Vec<Case> {
        self.names(revision)
            .unwrap_or_default()
            .into_iter()
            .map(|name| Case::new(case_id(&name), json!({ "config": name })))
            .collect()
    }

    /// What a revision holds, for the log; an error when the check of it
    /// cannot run (no `main`, no configs in the working tree, git failing).
    pub fn describe(&self, revision: Revision) -> Result<String, CompatError> {
        let names = self.names(revision)?;
        if revision == Revision::WorkingTree && names.is_empty() {
            return Err(CompatError::NoConfigs {
                dir: self.git.root.join(RUN_CONFIGS),
            });
        }
        let listed = if names.is_empty() {
            "none".to_owned()
        } else {
            names.join(", ")
        };
        let Some(rev) = self.rev(revision)? else {
            return Ok(match revision {
                Revision::Release => "no release tag `v*` in this clone".to_owned(),
                _ => format!("run-configs in the working tree: {listed}"),
            });
        };
        let mut described = format!(
            "`{}` is {}; run-configs: {listed}",
            rev.name,
            short(&rev.commit)
        );
        if revision == Revision::Main {
            let base = &rev.name;
            described.push_str(&match self.acknowledged() {
                Ok((count, Some(ack))) => format!(
                    "; {count} commit(s) in `{base}..HEAD`; breaking changes acknowledged by {ack}"
                ),
                Ok((count, None)) => format!(
                    "; {count} commit(s) in `{base}..HEAD`; no breaking change acknowledged"
                ),
                Err(why) => format!("; cannot list `{base}..HEAD`: {why}"),
            });
        }
        Ok(described)
    }

    /// How many commits `main..HEAD` has, and what acknowledges a break.
    fn acknowledged(&self) -> Result<(usize, Option<Acknowledgment>), String> {
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

    /// Checks one case; `Ok` holds warnings to show (an acknowledged break,
    /// a break of the release, a newly deprecated field).
    pub fn check(&self, revision: Revision, case: &Value) -> Result<Vec<String>, CompatError> {
        let name = case["config"]
            .as_str()
            .ok_or_else(|| CompatError::BadCase(case.to_string()))?;
        let (source_name, bytes) = match self.rev(revision)? {
            None => {
                let path = self.git.root.join(RUN_CONFIGS).join(config_path(name));
                let bytes = std::fs::read(&path).map_err(|source| CompatError::Read {
                    path: path.clone(),
                    source,
                })?;
                (format!("{RUN_CONFIGS}/{}", config_path(name)), bytes)
            }
            Some(rev) => (
                format!("{}:{RUN_CONFIGS}/{}", rev.name, config_path(name)),
                self.git.read_at(&rev.commit, &config_path(name))?,
            ),
        };
        let found = match String::from_utf8(bytes) {
            Ok(text) => assess(&source_name, &text, revision == Revision::WorkingTree),
            Err(_) => Assessment {
                problems: vec![format!("{source_name}: not UTF-8 text")],
                notes: Vec::new(),
            },
        };
        self.verdict(revision, name, found)
    }

    fn verdict(
        &self,
        revision: Revision,
        name: &str,
        found: Assessment,
    ) -> Result<Vec<String>, CompatError> {
        let Assessment { problems, notes } = found;
        let rev_name = self.rev(revision)?.map_or("", |r| r.name.as_str());
        let mut warnings: Vec<String> = notes
            .iter()
            .map(|n| format!("run-config `{name}` still loads, but: {n}"))
            .collect();
        if problems.is_empty() {
            return Ok(warnings);
        }
        let shown = indent(&problems);
        match revision {
            Revision::WorkingTree => Err(CompatError::Broken(format!(
                "run-config `{name}` does not load cleanly with this code:{shown}"
            ))),
            Revision::Release => {
                warnings.push(format!(
                    "run-config `{name}` of release `{rev_name}` no longer loads with this code (informational: only `{BASE}` is a gate):{shown}"
                ));
                Ok(warnings)
            }
            Revision::Main => match self.acknowledged() {
                Ok((_, Some(ack))) => {
                    warnings.push(format!(
                        "run-config `{name}` on `{rev_name}` no longer loads with this code; accepted as a breaking change by {ack}:{shown}"
                    ));
                    Ok(warnings)
                }
                Ok((count, None)) => Err(CompatError::Broken(unacknowledged(
                    name,
                    rev_name,
                    &shown,
                    count,
                    self.pr_title.as_deref(),
                ))),
                Err(why) => Err(CompatError::Broken(format!(
                    "run-config `{name}` on `{rev_name}` no longer loads with this code:{shown}\n\
                     and whether the break is acknowledged cannot be told: {why}"
                ))),
            },
        }
    }
}

/// The failure of the gate, with what acknowledging would take.
fn unacknowledged(
    name: &str,
    base: &str,
    shown: &str,
    commits: usize,
    pr_title: Option<&str>,
) -> String {
    let title = match pr_title {
        Some(title) => format!("is \"{title}\""),
        None => "is not set".to_owned(),
    };
    format!(
        "run-config `{name}` on `{base}` no longer loads with this code, so users' copies of it would break:{shown}\n\
         Keep the old form loading, or, if the break is intended, acknowledge it: add a `BREAKING CHANGE: <what users must change>` \
         footer to a commit message (none of the {commits} commit(s) in `{base}..HEAD` has one), or title the pull request \
         `type(scope)!: ...` (PR_TITLE {title})."
    )
}

fn short(commit: &str) -> &str {
    commit.get(..7).unwrap_or(commit)
}

/// Why there is no `main` to check, and how to get one.
fn no_base_reason(git: &Git) -> String {
    let fix = |fetch: &str| {
        format!(
            "fetch it (`{fetch}`; in GitHub Actions, `actions/checkout` with `fetch-depth: 0`), \
             or skip the gate: `cargo test --test backward_compat -- --skip main_branch::`"
        )
    };
    match git.text(&["rev-parse", "--git-dir"]) {
        Err(CompatError::NoGit { source }) => format!(
            "cannot run `git` ({source}), so run-configs on `{BASE}` cannot be checked; install git"
        ),
        Err(_) => format!(
            "`{}` is not in a git repository, so run-configs on `{BASE}` cannot be checked against this code; \
             check it from a clone",
            git.root.display()
        ),
        // Unshallowing too, so that `main..HEAD` holds only this branch's commits.
        Ok(_) if git.is_shallow() => format!(
            "this clone is shallow and has no `{BASE}` branch (nor `origin/{BASE}`), so run-configs on `{BASE}` \
             cannot be checked against this code; {}",
            fix("git fetch --unshallow origin main:main")
        ),
        Ok(_) => format!(
            "this clone has no `{BASE}` branch (nor `origin/{BASE}`), so run-configs on `{BASE}` cannot be checked \
             against this code; {}",
            fix("git fetch origin main:main")
        ),
    }
}

/// The one [`Compat`] of a test binary (its first caller's root wins).
#[cfg_attr(test, allow(dead_code))] // see `Compat::open`
pub fn shared(root: &str) -> &'static Compat {
    static SHARED: OnceLock<Compat> = OnceLock::new();
    SHARED.get_or_init(|| Compat::open(Path::new(root)))
}

#[cfg(test)]
mod tests;
