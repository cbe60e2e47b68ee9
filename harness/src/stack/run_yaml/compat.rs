//! Backward compatibility of run-configs: every `run-configs/*/run.yaml` of
//! the working tree, of `main` (the gate) and of the latest release tag `v*`
//! (informational) must still load with this code. Committed revisions are
//! read straight from git (`git ls-tree`, `git cat-file`), nothing is checked
//! out. The `backward_compat` test target drives this through
//! `harness::__compat`; it is not a stable API.
//!
//! A config from `main` that no longer loads fails the gate unless the break
//! is acknowledged (see `crate::breaking`); then it passes with a warning
//! naming the config.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::{Value, json};

use super::{Problem, RunConfig};
use crate::breaking::{BASE, Gate, GitError, Rev, Subject, short};
use crate::registry::Case;

mod git;

/// Where the configs live, in the project and in every revision.
const RUN_CONFIGS: &str = "run-configs";
/// How messages name this gate's subject, and how to skip it.
const SUBJECT: Subject = Subject {
    what: "run-configs",
    skip: "cargo test --test backward_compat -- --skip main_branch::",
};
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
    #[error(transparent)]
    Git(#[from] GitError),
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
    gate: Gate,
    release: Option<Rev>,
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
        let gate = Gate::open(root, pr_title, SUBJECT);
        let release = gate
            .git
            .latest_release()
            .map(|(name, commit)| Rev { name, commit });
        Compat { gate, release }
    }

    /// The latest release tag, `None` in a clone without one.
    pub fn release_tag(&self) -> Option<&str> {
        self.release.as_ref().map(|r| r.name.as_str())
    }

    fn rev(&self, revision: Revision) -> Result<Option<&Rev>, CompatError> {
        match revision {
            Revision::WorkingTree => Ok(None),
            Revision::Main => self
                .gate
                .base()
                .map(Some)
                .map_err(|reason| CompatError::NoBase(reason.to_owned())),
            Revision::Release => Ok(self.release.as_ref()),
        }
    }

    fn names(&self, revision: Revision) -> Result<Vec<String>, CompatError> {
        match (revision, self.rev(revision)?) {
            (Revision::WorkingTree, _) => {
                let dir = self.gate.git.root.join(RUN_CONFIGS);
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
            (_, Some(rev)) => Ok(self.gate.git.configs_at(&rev.commit)?),
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
                dir: self.gate.git.root.join(RUN_CONFIGS),
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
            described.push_str(&self.gate.describe_acknowledgment());
        }
        Ok(described)
    }

    /// Checks one case; `Ok` holds warnings to show (an acknowledged break,
    /// a break of the release, a newly deprecated field).
    pub fn check(&self, revision: Revision, case: &Value) -> Result<Vec<String>, CompatError> {
        let name = case["config"]
            .as_str()
            .ok_or_else(|| CompatError::BadCase(case.to_string()))?;
        let (source_name, bytes) = match self.rev(revision)? {
            None => {
                let path = self.gate.git.root.join(RUN_CONFIGS).join(config_path(name));
                let bytes = std::fs::read(&path).map_err(|source| CompatError::Read {
                    path: path.clone(),
                    source,
                })?;
                (format!("{RUN_CONFIGS}/{}", config_path(name)), bytes)
            }
            Some(rev) => (
                format!("{}:{RUN_CONFIGS}/{}", rev.name, config_path(name)),
                self.gate.git.config_at(&rev.commit, &config_path(name))?,
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
            Revision::Main => match self.gate.acknowledged() {
                Ok((_, Some(ack))) => {
                    warnings.push(format!(
                        "run-config `{name}` on `{rev_name}` no longer loads with this code; accepted as a breaking change by {ack}:{shown}"
                    ));
                    Ok(warnings)
                }
                Ok((count, None)) => Err(CompatError::Broken(format!(
                    "run-config `{name}` on `{rev_name}` no longer loads with this code, so users' copies of it would break:{shown}\n\
                     Keep the old form loading, or, if the break is intended, {}",
                    self.gate.how_to_acknowledge(count)
                ))),
                Err(why) => Err(CompatError::Broken(format!(
                    "run-config `{name}` on `{rev_name}` no longer loads with this code:{shown}\n\
                     and whether the break is acknowledged cannot be told: {why}"
                ))),
            },
        }
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
