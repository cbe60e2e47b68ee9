//! `stack-harness outcomes diff A B`: the tests whose outcome differs
//! between two runs, read back from their JUnit reports (`--junit`), as a
//! Markdown report. It answers the upgrade question, "does our suite pass
//! on the next stack version, and what changed?": run the suite on each
//! version with `--junit`, then diff the two files.
//!
//! An outcome is passed, failed, xfail (a skip whose message is the
//! runner's `xfail: <reason>`) or ignored; a test missing from a run is
//! "not run". The report is deterministic (no times, no paths), so a
//! committed copy can be checked against a fresh one.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use quick_junit::{Report, TestCaseStatus};

use super::junit::STACK_PROPERTY;

/// What a test's outcome was, coarsely: what a change is judged on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Passed,
    Failed,
    Xfail,
    Ignored,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Passed => "passed",
            Kind::Failed => "failed",
            Kind::Xfail => "xfail",
            Kind::Ignored => "ignored",
        })
    }
}

/// One test's outcome and what the report said about it (the failure's
/// first line, the xfail's or the ignore's reason).
#[derive(Clone, Debug, PartialEq, Eq)]
struct TestOutcome {
    kind: Kind,
    detail: Option<String>,
}

impl fmt::Display for TestOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.detail {
            Some(detail) => write!(f, "{}: {detail}", self.kind),
            None => write!(f, "{}", self.kind),
        }
    }
}

/// The outcomes of one run, and what to call it: the stack the report
/// names, else the file's name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RunOutcomes {
    label: String,
    tests: BTreeMap<String, TestOutcome>,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum OutcomesError {
    #[error("cannot read the JUnit report `{}`: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error(
        "`{}` is not a JUnit report ({problem}); give two files that `--junit PATH` wrote",
        path.display()
    )]
    Parse { path: PathBuf, problem: String },
}

impl RunOutcomes {
    pub(crate) fn read(path: &Path) -> Result<RunOutcomes, OutcomesError> {
        let text = std::fs::read_to_string(path).map_err(|source| OutcomesError::Read {
            path: path.to_owned(),
            source,
        })?;
        let report = Report::deserialize_from_str(&text).map_err(|e| OutcomesError::Parse {
            path: path.to_owned(),
            problem: e.to_string(),
        })?;
        let fallback = path.file_stem().map_or_else(
            || path.display().to_string(),
            |s| s.to_string_lossy().into_owned(),
        );
        Ok(RunOutcomes::of(&report, &fallback))
    }

    fn of(report: &Report, fallback_label: &str) -> RunOutcomes {
        let mut label = None;
        let mut tests = BTreeMap::new();
        for suite in &report.test_suites {
            label = label.or_else(|| {
                suite
                    .properties
                    .iter()
                    .find(|p| p.name.as_str() == STACK_PROPERTY)
                    .map(|p| p.value.to_string())
            });
            for case in &suite.test_cases {
                // The writer splits a name into class and test; a test at
                // the top level gets the suite's name as its class.
                let name = match case.classname.as_ref().map(|c| c.as_str()) {
                    Some(class) if class != suite.name.as_str() => {
                        format!("{class}::{}", case.name.as_str())
                    }
                    _ => case.name.as_str().to_owned(),
                };
                tests.insert(name, outcome_of(&case.status));
            }
        }
        RunOutcomes {
            label: label.unwrap_or_else(|| fallback_label.to_owned()),
            tests,
        }
    }
}

fn outcome_of(status: &TestCaseStatus) -> TestOutcome {
    let text = |m: &Option<quick_junit::XmlString>| m.as_ref().map(|m| m.to_string());
    match status {
        TestCaseStatus::Success { .. } => TestOutcome {
            kind: Kind::Passed,
            detail: None,
        },
        TestCaseStatus::NonSuccess { message, .. } => TestOutcome {
            kind: Kind::Failed,
            detail: text(message),
        },
        TestCaseStatus::Skipped { message, .. } => {
            let message = text(message);
            match message.as_deref().and_then(|m| m.strip_prefix("xfail: ")) {
                Some(reason) => TestOutcome {
                    kind: Kind::Xfail,
                    detail: Some(reason.to_owned()),
                },
                None => TestOutcome {
                    kind: Kind::Ignored,
                    detail: message,
                },
            }
        }
    }
}

/// `stack-harness outcomes …`.
#[derive(Debug, clap::Args)]
pub(crate) struct OutcomesArgs {
    #[command(subcommand)]
    command: OutcomesCommand,
}

#[derive(Debug, clap::Subcommand)]
enum OutcomesCommand {
    /// Print, as Markdown, the tests whose outcome differs between two runs
    /// (the JUnit files `--junit` wrote), e.g. one on each stack version.
    Diff {
        /// The earlier run's JUnit report.
        before: PathBuf,
        /// The later run's JUnit report.
        after: PathBuf,
    },
}

/// Runs an `outcomes` command, writing to `out`.
pub(crate) fn outcomes_main(args: &OutcomesArgs, out: &mut dyn Write) -> Result<(), String> {
    match &args.command {
        OutcomesCommand::Diff { before, after } => {
            let before = RunOutcomes::read(before).map_err(|e| e.to_string())?;
            let after = RunOutcomes::read(after).map_err(|e| e.to_string())?;
            write_diff(&before, &after, out).map_err(|e| format!("cannot write the report: {e}"))
        }
    }
}

/// Writes the Markdown report of what changed from `a` to `b`.
pub(crate) fn write_diff(a: &RunOutcomes, b: &RunOutcomes, out: &mut dyn Write) -> io::Result<()> {
    let names: std::collections::BTreeSet<&String> = a.tests.keys().chain(b.tests.keys()).collect();
    let mut changed = Vec::new();
    let mut same: BTreeMap<Kind, usize> = BTreeMap::new();
    let mut transitions: BTreeMap<(String, String), usize> = BTreeMap::new();
    for name in &names {
        let (before, after) = (a.tests.get(*name), b.tests.get(*name));
        match (before, after) {
            (Some(x), Some(y)) if x.kind == y.kind => *same.entry(x.kind).or_default() += 1,
            _ => {
                let kind = |o: Option<&TestOutcome>| {
                    o.map_or("not run".to_owned(), |o| o.kind.to_string())
                };
                *transitions.entry((kind(before), kind(after))).or_default() += 1;
                changed.push((*name, before, after));
            }
        }
    }
    writeln!(out, "# Test outcomes: {} → {}", a.label, b.label)?;
    writeln!(out)?;
    writeln!(
        out,
        "Of {} tests, {} changed outcome{}",
        names.len(),
        changed.len(),
        if changed.is_empty() { "." } else { ":" }
    )?;
    if !changed.is_empty() {
        writeln!(out)?;
        for ((from, to), n) in &transitions {
            writeln!(out, "- {from} → {to}: {n}")?;
        }
        writeln!(out)?;
        writeln!(out, "| test | {} | {} |", cell(&a.label), cell(&b.label))?;
        writeln!(out, "| --- | --- | --- |")?;
        let shown =
            |o: Option<&TestOutcome>| o.map_or("not run".to_owned(), |o| cell(&o.to_string()));
        for (name, before, after) in &changed {
            writeln!(out, "| `{name}` | {} | {} |", shown(*before), shown(*after))?;
        }
    }
    if !same.is_empty() {
        let counts: Vec<String> = same.iter().map(|(k, n)| format!("{n} {k}")).collect();
        writeln!(out)?;
        writeln!(out, "The same on both: {}.", counts.join(", "))?;
    }
    Ok(())
}

/// Text fit for one Markdown table cell: one line, pipes escaped.
fn cell(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A JUnit report as `--junit` writes it, with these cases.
    fn report(stack: Option<&str>, cases: &str) -> String {
        let properties = stack.map_or(String::new(), |s| {
            format!("<properties><property name=\"stack\" value=\"{s}\"/></properties>")
        });
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="integration" tests="1" failures="0" errors="0">
    <testsuite name="integration" tests="1" disabled="0" errors="0" failures="0">
        {properties}
        {cases}
    </testsuite>
</testsuites>
"#
        )
    }

    fn outcomes(stack: Option<&str>, cases: &str) -> RunOutcomes {
        let report = Report::deserialize_from_str(&report(stack, cases)).expect("parses");
        RunOutcomes::of(&report, "file")
    }

    fn diff(a: &RunOutcomes, b: &RunOutcomes) -> String {
        let mut out = Vec::new();
        write_diff(a, b, &mut out).expect("writes to memory");
        String::from_utf8(out).expect("utf-8")
    }

    const OLD: &str = r#"
        <testcase name="fixed" classname="conversations::crud"><skipped message="xfail: 0.7.3 orders them wrong"/></testcase>
        <testcase name="same" classname="models::list"></testcase>
        <testcase name="broke" classname="files::crud"></testcase>
        <testcase name="xfail_both" classname="inference::chat"><skipped message="xfail: the upstream | has no [DONE]"/></testcase>
        <testcase name="only_old[text_model=a::b]" classname="tools"></testcase>
        <testcase name="top_level" classname="integration"><skipped message="no judge model"/></testcase>
    "#;
    const NEW: &str = r#"
        <testcase name="fixed" classname="conversations::crud"></testcase>
        <testcase name="same" classname="models::list"></testcase>
        <testcase name="broke" classname="files::crud"><failure message="POST /v1/files answered 400">
long text</failure></testcase>
        <testcase name="xfail_both" classname="inference::chat"><skipped message="xfail: another reason"/></testcase>
        <testcase name="top_level" classname="integration"><skipped message="only for ogx, not llama-stack 0.7.3: moved"/></testcase>
        <testcase name="only_new" classname="admin"></testcase>
    "#;

    #[test]
    fn outcomes_read_back_from_a_junit_report() {
        let run = outcomes(Some("llama-stack 0.7.3"), OLD);
        assert_eq!(run.label, "llama-stack 0.7.3");
        let shown: Vec<String> = run
            .tests
            .iter()
            .map(|(name, o)| format!("{name}: {o}"))
            .collect();
        assert_eq!(
            shown,
            [
                "conversations::crud::fixed: xfail: 0.7.3 orders them wrong",
                "files::crud::broke: passed",
                "inference::chat::xfail_both: xfail: the upstream | has no [DONE]",
                "models::list::same: passed",
                "tools::only_old[text_model=a::b]: passed",
                "top_level: ignored: no judge model",
            ]
        );
        // Without the stack property (nextest's JUnit, say), the file names it.
        assert_eq!(outcomes(None, OLD).label, "file");
    }

    #[test]
    fn the_report_lists_each_change_and_counts_the_rest() {
        let old = outcomes(Some("llama-stack 0.7.3"), OLD);
        let new = outcomes(Some("ogx 1.5.0"), NEW);
        assert_eq!(
            diff(&old, &new),
            "# Test outcomes: llama-stack 0.7.3 → ogx 1.5.0

Of 7 tests, 4 changed outcome:

- not run → passed: 1
- passed → failed: 1
- passed → not run: 1
- xfail → passed: 1

| test | llama-stack 0.7.3 | ogx 1.5.0 |
| --- | --- | --- |
| `admin::only_new` | not run | passed |
| `conversations::crud::fixed` | xfail: 0.7.3 orders them wrong | passed |
| `files::crud::broke` | passed | failed: POST /v1/files answered 400 |
| `tools::only_old[text_model=a::b]` | passed | not run |

The same on both: 1 passed, 1 xfail, 1 ignored.
"
        );
        assert_eq!(
            diff(&old, &old),
            "# Test outcomes: llama-stack 0.7.3 → llama-stack 0.7.3

Of 6 tests, 0 changed outcome.

The same on both: 3 passed, 2 xfail, 1 ignored.
"
        );
    }

    #[test]
    fn a_file_that_is_not_a_report_is_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = dir.path().join("nope.xml");
        assert_eq!(
            RunOutcomes::read(&missing).unwrap_err().to_string(),
            format!(
                "cannot read the JUnit report `{}`: No such file or directory (os error 2)",
                missing.display()
            )
        );
        let garbage = dir.path().join("x.xml");
        std::fs::write(&garbage, "not xml").expect("write");
        let err = RunOutcomes::read(&garbage).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("`{}` is not a JUnit report (", garbage.display())),
            "{err}"
        );
        assert!(
            err.ends_with("); give two files that `--junit PATH` wrote"),
            "{err}"
        );
        let file = dir.path().join("ogx.xml");
        std::fs::write(&file, report(None, OLD)).expect("write");
        assert_eq!(RunOutcomes::read(&file).expect("reads").label, "ogx");
    }
}
