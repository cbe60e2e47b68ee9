//! The conformance gate ([`Conformance`]): the spec the session's stack
//! serves against the baseline in the working tree (any breaking difference
//! fails: the baseline is out of date) and against the baseline committed
//! on `main` (a breaking difference fails unless acknowledged). Additions
//! are information. The `api_conformance` test target drives this through
//! `harness::__api`; it is not a stable API.

use std::path::{Path, PathBuf};

use super::diff::{Finding, Severity, diff};
use super::report::{Names, counts, lines};
use super::spec::{ApiSpec, BASELINE, SpecError};
use crate::breaking::{BASE, Gate, GitError, Subject, short};

const SUBJECT: Subject = Subject {
    what: "the API baseline",
    skip: "cargo test --test api_conformance -- --skip main_branch",
};

/// The command that writes the baseline from the session's stack.
const WRITE_BASELINE: &str = "cargo run -p stack-harness -- api baseline";

/// Which baseline the served spec is held to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Against {
    /// `api/openapi-v1.json` on disk.
    WorkingTree,
    /// `api/openapi-v1.json` as committed on `main`.
    Main,
}

#[derive(Debug, thiserror::Error)]
pub enum ConformanceError {
    #[error(transparent)]
    Spec(#[from] SpecError),
    #[error(transparent)]
    Git(#[from] GitError),
    #[error("no API baseline at `{}`; write it from the session's stack: `{WRITE_BASELINE}`", path.display())]
    NoBaseline { path: PathBuf },
    /// `main` has no baseline yet: nothing to hold the branch to.
    #[error(
        "`{base}` ({commit}) has no `{BASELINE}` yet, so there is nothing to hold this branch to"
    )]
    NoBaselineOnMain { base: String, commit: String },
    #[error("{0}")]
    NoBase(String),
    /// Breaking differences, listed, with what to do.
    #[error("{0}")]
    Broken(String),
}

/// What a passing check found, to show.
#[derive(Debug, Default)]
pub struct Verdict {
    /// One line: what was compared with what, and the counts.
    pub summary: String,
    /// Acknowledged breaking differences.
    pub warnings: Vec<String>,
    /// Additions and other non-breaking differences.
    pub info: Vec<String>,
}

/// The gate for one project.
#[derive(Debug)]
pub struct Conformance {
    root: PathBuf,
    gate: Gate,
}

impl Conformance {
    pub fn open(root: &Path) -> Conformance {
        Conformance {
            root: root.to_owned(),
            gate: Gate::open(root, std::env::var("PR_TITLE").ok(), SUBJECT),
        }
    }

    /// Holds `served` (the text of `/openapi.json`) to a baseline.
    pub fn check(&self, against: Against, served: &str) -> Result<Verdict, ConformanceError> {
        let served = ApiSpec::parse("the served spec", served)?;
        let (baseline, name) = match against {
            Against::WorkingTree => {
                let path = self.root.join(BASELINE);
                if !path.is_file() {
                    return Err(ConformanceError::NoBaseline { path });
                }
                (ApiSpec::read(&path)?, BASELINE.to_owned())
            }
            Against::Main => {
                let base = self
                    .gate
                    .base()
                    .map_err(|why| ConformanceError::NoBase(why.to_owned()))?;
                let name = format!("{}:{BASELINE}", base.name);
                let Some(bytes) = self.gate.git.read_at(&base.commit, BASELINE)? else {
                    return Err(ConformanceError::NoBaselineOnMain {
                        base: base.name.clone(),
                        commit: short(&base.commit).to_owned(),
                    });
                };
                let text = String::from_utf8_lossy(&bytes);
                (ApiSpec::parse(&name, &text)?, name)
            }
        };
        let names = Names {
            old: &name,
            new: "the served spec",
        };
        let findings = diff(&baseline.spec, &served.spec);
        let (breaking, info) = counts(&findings);
        let made_from = baseline
            .source()
            .map(|s| format!(" (made from {s})"))
            .unwrap_or_default();
        let mut verdict = Verdict {
            summary: format!(
                "the served spec against `{name}`{made_from}: {breaking} breaking, {info} other difference(s)"
            ),
            warnings: Vec::new(),
            info: findings
                .iter()
                .filter(|f| f.severity == Severity::Info)
                .map(|f| format!("{f} ({})", ops(f)))
                .collect(),
        };
        if against == Against::Main {
            verdict
                .summary
                .push_str(&self.gate.describe_acknowledgment());
        }
        let broken: Vec<&Finding> = findings
            .iter()
            .filter(|f| f.severity == Severity::Breaking)
            .collect();
        if broken.is_empty() {
            return Ok(verdict);
        }
        let listed = lines(&broken, names);
        match against {
            Against::WorkingTree => Err(ConformanceError::Broken(format!(
                "the served API breaks `{name}` in {breaking} place(s):{listed}\n\
                 If the stack's API changed on purpose, write the baseline anew (`{WRITE_BASELINE}`) \
                 and acknowledge the break against `{BASE}`; otherwise the stack (or its pin) changed what clients rely on."
            ))),
            Against::Main => match self.gate.acknowledged() {
                Ok((_, Some(ack))) => {
                    verdict.warnings.push(format!(
                        "the served API breaks `{name}` in {breaking} place(s); accepted as a breaking change by {ack}:{listed}"
                    ));
                    Ok(verdict)
                }
                Ok((count, None)) => Err(ConformanceError::Broken(format!(
                    "the served API breaks `{name}` in {breaking} place(s), so clients written against `{BASE}` would break:{listed}\n\
                     Keep the API, or, if the break is intended, {}",
                    self.gate.how_to_acknowledge(count)
                ))),
                Err(why) => Err(ConformanceError::Broken(format!(
                    "the served API breaks `{name}` in {breaking} place(s):{listed}\n\
                     and whether the break is acknowledged cannot be told: {why}"
                ))),
            },
        }
    }
}

fn ops(f: &Finding) -> String {
    f.operations.iter().cloned().collect::<Vec<_>>().join(", ")
}

/// The one [`Conformance`] of a test binary (its first caller's root wins).
pub fn shared(root: &str) -> &'static Conformance {
    static SHARED: std::sync::OnceLock<Conformance> = std::sync::OnceLock::new();
    SHARED.get_or_init(|| Conformance::open(Path::new(root)))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn spec_with(paths: &[&str]) -> String {
        let paths: serde_json::Map<String, serde_json::Value> = paths
            .iter()
            .map(|p| ((*p).to_owned(), json!({"get": {"responses": {}}})))
            .collect();
        json!({"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": paths})
            .to_string()
    }

    #[test]
    fn the_working_tree_baseline_fails_on_a_break_and_tells_additions() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let conformance = Conformance::open(dir.path());
        let served = spec_with(&["/v1/models", "/v1/new"]);
        assert_eq!(
            conformance
                .check(Against::WorkingTree, &served)
                .unwrap_err()
                .to_string(),
            format!(
                "no API baseline at `{}/api/openapi-v1.json`; write it from the session's stack: \
                 `cargo run -p stack-harness -- api baseline`",
                dir.path().display()
            )
        );
        std::fs::create_dir(dir.path().join("api")).expect("mkdir");
        let baseline = spec_with(&["/v1/models", "/v1/tools"]);
        std::fs::write(dir.path().join(BASELINE), baseline).expect("write");
        assert_eq!(
            conformance
                .check(Against::WorkingTree, &served)
                .unwrap_err()
                .to_string(),
            "the served API breaks `api/openapi-v1.json` in 1 place(s):\n  \
             /paths/~1v1~1tools (in api/openapi-v1.json): removed path `/v1/tools` (GET)\n      \
             GET /v1/tools\n\
             If the stack's API changed on purpose, write the baseline anew (`cargo run -p \
             stack-harness -- api baseline`) and acknowledge the break against `main`; otherwise \
             the stack (or its pin) changed what clients rely on."
        );
        std::fs::write(dir.path().join(BASELINE), spec_with(&["/v1/models"])).expect("write");
        let verdict = conformance
            .check(Against::WorkingTree, &served)
            .expect("additions pass");
        assert_eq!(
            verdict.summary,
            "the served spec against `api/openapi-v1.json`: 0 breaking, 1 other difference(s)"
        );
        assert_eq!(
            verdict.info,
            ["/paths/~1v1~1new: new path `/v1/new` (GET) (GET /v1/new)"]
        );
    }
}
