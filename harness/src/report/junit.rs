//! `--junit PATH`: a JUnit XML file for CI, written beside the console
//! output by [`Junit`], with `quick-junit` (nextest's serializer). The
//! suite's `stack` property names the stack the run was on, which
//! `stack-harness outcomes diff` reads back.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use super::{Event, Outcome, Reporter, Summary, failure_text};

/// Collects finished trials and writes one `<testsuite>` when the run ends.
///
/// The file is written to a temporary file in the same directory and
/// renamed into place, so a CI reader never sees half a report and an old
/// report survives a crash.
pub(crate) struct Junit {
    path: PathBuf,
    suite_name: String,
    stack: Option<String>,
    cases: Vec<TestCase>,
}

impl Junit {
    /// `suite_name` is the test binary's name (`integration`).
    pub(crate) fn new(path: impl Into<PathBuf>, suite_name: impl Into<String>) -> Junit {
        Junit {
            path: path.into(),
            suite_name: suite_name.into(),
            stack: None,
            cases: Vec::new(),
        }
    }

    fn add(&mut self, name: &str, outcome: &Outcome, exec_time: Duration, output: &str) {
        let status = match outcome {
            Outcome::Passed => TestCaseStatus::success(),
            Outcome::Failed { message } => {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                status
                    .set_message(headline(message))
                    .set_description(failure_text(output, message));
                status
            }
            Outcome::Ignored { reason } => {
                let mut status = TestCaseStatus::skipped();
                if let Some(reason) = reason {
                    status.set_message(reason.as_str());
                }
                status
            }
        };
        let (class, function) = split_name(name);
        let mut case = TestCase::new(function, status);
        case.set_classname(class.unwrap_or(&self.suite_name))
            .set_time(exec_time);
        if matches!(outcome, Outcome::Passed) && !output.is_empty() {
            case.set_system_out(output);
        }
        self.cases.push(case);
    }

    fn to_xml(&self, summary: &Summary) -> Result<String, quick_junit::SerializeError> {
        let mut suite = TestSuite::new(self.suite_name.as_str());
        if let Some(stack) = &self.stack {
            suite.add_property(Property::new(STACK_PROPERTY, stack.as_str()));
        }
        suite
            .set_time(summary.exec_time)
            .add_test_cases(self.cases.iter().cloned());
        let mut report = Report::new(self.suite_name.as_str());
        report.set_time(summary.exec_time).add_test_suite(suite);
        report.to_string()
    }

    fn write(&self, summary: &Summary) -> io::Result<()> {
        let xml = self.to_xml(summary).map_err(io::Error::other)?;
        crate::atomic::write(&self.path, xml.as_bytes()).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!(
                    "cannot write the JUnit report `{}`: {e}; check that its directory is writable or pass another `--junit` path",
                    self.path.display()
                ),
            )
        })
    }
}

impl Reporter for Junit {
    fn report(&mut self, event: &Event<'_>) -> io::Result<()> {
        match *event {
            Event::TestFinished {
                name,
                outcome,
                exec_time,
                output,
            } => {
                self.add(name, outcome, exec_time, output);
                Ok(())
            }
            Event::SuiteFinished { ref summary } => self.write(summary),
            Event::SuiteStarted { stack, .. } => {
                self.stack = stack.map(str::to_owned);
                Ok(())
            }
            Event::TestStarted { .. } => Ok(()),
        }
    }
}

/// The suite property that names the run's stack.
pub(crate) const STACK_PROPERTY: &str = "stack";

/// `inference::chat::streaming[text_model=a::b]` -> class `inference::chat`,
/// test `streaming[text_model=a::b]`: parameters stay with the function even
/// when a value contains `::`.
fn split_name(name: &str) -> (Option<&str>, &str) {
    let path_end = name.find('[').unwrap_or(name.len());
    match name[..path_end].rfind("::") {
        Some(at) => (Some(&name[..at]), &name[at + 2..]),
        None => (None, name),
    }
}

/// The line a CI summary shows: the first one after the runner's
/// `thread '...' panicked at FILE:LINE:COL:` header, which says only where.
fn headline(message: &str) -> &str {
    let mut lines = message.lines().filter(|l| !l.trim().is_empty());
    let first = lines.next().unwrap_or("");
    if first.starts_with("thread '") && first.contains("' panicked at ") {
        lines.next().unwrap_or(first)
    } else {
        first
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{failing_run, failing_summary, failing_trials};
    use super::*;

    #[test]
    fn names_split_into_class_and_test() {
        assert_eq!(split_name("a::b::c"), (Some("a::b"), "c"));
        assert_eq!(
            split_name("inference::chat::streaming[text_model=ollama::llama3]"),
            (
                Some("inference::chat"),
                "streaming[text_model=ollama::llama3]"
            )
        );
        assert_eq!(split_name("top[x=1]"), (None, "top[x=1]"));
        assert_eq!(split_name(""), (None, ""));
    }

    #[test]
    fn headline_skips_the_panic_location() {
        assert_eq!(
            headline("thread 't' panicked at a.rs:1:2:\nboom\nmore"),
            "boom"
        );
        assert_eq!(
            headline("thread 't' panicked at a.rs:1:2:"),
            "thread 't' panicked at a.rs:1:2:"
        );
        assert_eq!(headline("\nplain error\n"), "plain error");
        assert_eq!(headline(""), "");
    }

    /// quick-junit strips ANSI escapes and control characters from text,
    /// tabs included (`boom\twith tab` becomes `boomwith tab`).
    #[test]
    fn the_report_has_one_case_per_trial() {
        let mut junit = Junit::new("unused.xml", "integration");
        for (name, outcome, output, nanos) in failing_trials() {
            junit.add(name, &outcome, Duration::from_nanos(nanos), output);
        }
        junit.add(
            "top_level",
            &Outcome::Passed,
            Duration::from_millis(1500),
            "said <hi> & bye\n",
        );
        let xml = junit.to_xml(&failing_summary()).expect("serializes");
        assert_eq!(
            xml,
            r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="integration" tests="6" failures="2" errors="0" time="0.060">
    <testsuite name="integration" tests="6" disabled="2" errors="0" failures="2" time="0.060">
        <testcase name="fails" classname="tests" time="0.000">
            <failure message="assertion `left == right` failed: numbers differ">some output
line &quot;two&quot;

thread &apos;tests::fails&apos; panicked at src/lib.rs:6:57:
assertion `left == right` failed: numbers differ
  left: 1
 right: 2
</failure>
        </testcase>
        <testcase name="ignored_plain" classname="tests" time="0.000">
            <skipped/>
        </testcase>
        <testcase name="ignored_reason" classname="tests" time="0.000">
            <skipped message="needs a server"/>
        </testcase>
        <testcase name="nested_fails" classname="tests::inner" time="0.000">
            <failure message="boomwith tab">
thread &apos;tests::inner::nested_fails&apos; panicked at src/lib.rs:15:29:
boomwith tab
</failure>
        </testcase>
        <testcase name="passes" classname="tests" time="0.000">
        </testcase>
        <testcase name="top_level" classname="integration" time="1.500">
            <system-out>said &lt;hi&gt; &amp; bye
</system-out>
        </testcase>
    </testsuite>
</testsuites>
"#
        );
    }

    #[test]
    fn the_file_is_written_when_the_suite_finishes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("reports/junit.xml");
        let mut junit = Junit::new(&path, "integration");
        failing_run(&mut junit);
        let written = std::fs::read_to_string(&path).expect("report written");
        assert!(written.starts_with("<?xml"), "{written}");
        assert!(written.contains(r#"<testcase name="passes" classname="tests""#));
        // The stack the run was on, from the suite's start.
        assert!(
            written.contains(
                r#"<properties>
            <property name="stack" value="llama-stack 0.7.3"/>
        </properties>"#
            ),
            "{written}"
        );
        // Only the report itself is left: the temporary file was renamed.
        let entries: Vec<_> = std::fs::read_dir(dir.path().join("reports"))
            .expect("dir")
            .map(|e| e.map(|e| e.file_name()))
            .collect::<Result<_, _>>()
            .expect("entries");
        assert_eq!(entries, ["junit.xml"]);
    }

    #[test]
    fn an_unwritable_path_is_an_error_naming_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let blocker = dir.path().join("file");
        std::fs::write(&blocker, "not a directory").expect("write");
        let path = blocker.join("junit.xml");
        let mut junit = Junit::new(&path, "integration");
        let err = junit
            .report(&Event::SuiteFinished {
                summary: Summary::default(),
            })
            .expect_err("cannot create a directory under a file");
        let message = err.to_string();
        let expected_start = format!("cannot write the JUnit report `{}`: ", path.display());
        assert!(message.starts_with(&expected_start), "{message}");
        assert!(
            message
                .ends_with("; check that its directory is writable or pass another `--junit` path"),
            "{message}"
        );
    }
}
