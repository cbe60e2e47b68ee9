//! `--format json`: libtest's unstable JSON event stream, one object per
//! line, byte-compatible with `rustc --test` 1.95 (`-Z unstable-options
//! --format json --report-time`), which IntelliJ/RustRover and
//! rust-analyzer parse:
//!
//! ```text
//! { "type": "suite", "event": "started", "test_count": 5 }
//! { "type": "test", "event": "started", "name": "a::b" }
//! { "type": "test", "name": "a::b", "event": "ok", "exec_time": 0.0012 }
//! { "type": "test", "name": "a::c", "event": "failed", "exec_time": 0.5, "stdout": "..." }
//! { "type": "test", "name": "a::d", "event": "ignored", "message": "reason" }
//! { "type": "suite", "event": "failed", "passed": 1, "failed": 1, "ignored": 1, "measured": 0, "filtered_out": 0, "exec_time": 0.51 }
//! ```
//!
//! Objects are serde structs (field order = key order, with serde_json's
//! `preserve_order`); [`LibtestFormatter`] gives them libtest's spacing,
//! its number style and its escaping.

use std::io::{self, Write};

use serde::Serialize;

use super::{Event, Outcome, Reporter, failure_text};

pub(super) struct Json {
    out: Box<dyn Write + Send>,
}

impl Json {
    pub(super) fn new(out: Box<dyn Write + Send>) -> Json {
        Json { out }
    }
}

#[derive(Serialize)]
struct SuiteStarted {
    #[serde(rename = "type")]
    kind: &'static str,
    event: &'static str,
    test_count: usize,
}

#[derive(Serialize)]
struct TestStarted<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    event: &'static str,
    name: &'a str,
}

/// libtest puts `name` before `event` here, unlike in `started`.
#[derive(Serialize)]
struct TestResult<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    name: &'a str,
    event: &'static str,
    /// libtest reports no time for an ignored test.
    #[serde(skip_serializing_if = "Option::is_none")]
    exec_time: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stdout: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
}

#[derive(Serialize)]
struct SuiteFinished {
    #[serde(rename = "type")]
    kind: &'static str,
    event: &'static str,
    passed: usize,
    failed: usize,
    ignored: usize,
    measured: usize,
    filtered_out: usize,
    exec_time: f64,
}

impl Reporter for Json {
    fn report(&mut self, event: &Event<'_>) -> io::Result<()> {
        match *event {
            Event::SuiteStarted { test_count, .. } => write_line(
                &mut self.out,
                &SuiteStarted {
                    kind: "suite",
                    event: "started",
                    test_count,
                },
            ),
            Event::TestStarted { name } => write_line(
                &mut self.out,
                &TestStarted {
                    kind: "test",
                    event: "started",
                    name,
                },
            ),
            Event::TestFinished {
                name,
                outcome,
                exec_time,
                output,
            } => {
                let exec_time = Some(exec_time.as_secs_f64());
                let result = match outcome {
                    Outcome::Passed => TestResult {
                        kind: "test",
                        name,
                        event: "ok",
                        exec_time,
                        stdout: (!output.is_empty()).then(|| output.to_owned()),
                        message: None,
                    },
                    Outcome::Failed { message } => TestResult {
                        kind: "test",
                        name,
                        event: "failed",
                        exec_time,
                        stdout: Some(failure_text(output, message)),
                        message: None,
                    },
                    Outcome::Ignored { reason } => TestResult {
                        kind: "test",
                        name,
                        event: "ignored",
                        exec_time: None,
                        stdout: None,
                        message: reason.as_deref(),
                    },
                };
                write_line(&mut self.out, &result)
            }
            Event::SuiteFinished { ref summary } => write_line(
                &mut self.out,
                &SuiteFinished {
                    kind: "suite",
                    event: if summary.failed == 0 { "ok" } else { "failed" },
                    passed: summary.passed,
                    failed: summary.failed,
                    ignored: summary.ignored,
                    measured: 0,
                    filtered_out: summary.filtered_out,
                    exec_time: summary.exec_time.as_secs_f64(),
                },
            ),
        }
    }
}

/// One object on its own line, flushed so an IDE sees it at once.
pub(super) fn write_line(out: &mut dyn Write, value: &impl Serialize) -> io::Result<()> {
    let mut line = Vec::with_capacity(128);
    let mut serializer = serde_json::Serializer::with_formatter(&mut line, LibtestFormatter);
    value.serialize(&mut serializer).map_err(io::Error::other)?;
    line.push(b'\n');
    out.write_all(&line)?;
    out.flush()
}

/// serde_json's compact output reshaped into libtest's hand-written one:
/// `{ "k": v, "k2": v2 }`, floats as Rust's `Display` prints them
/// (`0.000000811`, never `8.11e-7`; `1`, not `1.0`), and DEL escaped as
/// `\u007f` as libtest's escaper does.
struct LibtestFormatter;

impl serde_json::ser::Formatter for LibtestFormatter {
    fn begin_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b"{ ")
    }

    fn end_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b" }")
    }

    fn begin_object_key<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first {
            Ok(())
        } else {
            writer.write_all(b", ")
        }
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b": ")
    }

    fn write_f64<W: ?Sized + Write>(&mut self, writer: &mut W, value: f64) -> io::Result<()> {
        write!(writer, "{value}")
    }

    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut rest = fragment;
        while let Some(del) = rest.find('\x7f') {
            writer.write_all(&rest.as_bytes()[..del])?;
            writer.write_all(b"\\u007f")?;
            rest = &rest[del + 1..];
        }
        writer.write_all(rest.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{Captured, failing_run, passing_run, run};
    use super::super::{Outcome, Summary};
    use super::*;

    fn new_json() -> (Json, Captured) {
        let out = Captured::default();
        (Json::new(Box::new(out.clone())), out)
    }

    #[test]
    fn a_run_with_failures_prints_libtest_events() {
        let (mut json, out) = new_json();
        failing_run(&mut json);
        // libtest's lines for the same trials (times fixed, no thread id).
        assert_eq!(
            out.text(),
            r#"{ "type": "suite", "event": "started", "test_count": 5 }
{ "type": "test", "event": "started", "name": "tests::fails" }
{ "type": "test", "name": "tests::fails", "event": "failed", "exec_time": 0.000072469, "stdout": "some output\nline \"two\"\n\nthread 'tests::fails' panicked at src/lib.rs:6:57:\nassertion `left == right` failed: numbers differ\n  left: 1\n right: 2\n" }
{ "type": "test", "event": "started", "name": "tests::ignored_plain" }
{ "type": "test", "name": "tests::ignored_plain", "event": "ignored" }
{ "type": "test", "event": "started", "name": "tests::ignored_reason" }
{ "type": "test", "name": "tests::ignored_reason", "event": "ignored", "message": "needs a server" }
{ "type": "test", "event": "started", "name": "tests::inner::nested_fails" }
{ "type": "test", "name": "tests::inner::nested_fails", "event": "failed", "exec_time": 0.00000655, "stdout": "\nthread 'tests::inner::nested_fails' panicked at src/lib.rs:15:29:\nboom\twith tab\n" }
{ "type": "test", "event": "started", "name": "tests::passes" }
{ "type": "test", "name": "tests::passes", "event": "ok", "exec_time": 0.000000811 }
{ "type": "suite", "event": "failed", "passed": 1, "failed": 2, "ignored": 2, "measured": 0, "filtered_out": 0, "exec_time": 0.060410672 }
"#
        );
    }

    #[test]
    fn passed_output_is_included_when_the_runner_passes_it() {
        let (mut json, out) = new_json();
        passing_run(&mut json, "hello from passes\n");
        assert_eq!(
            out.text(),
            r#"{ "type": "suite", "event": "started", "test_count": 1 }
{ "type": "test", "event": "started", "name": "tests::passes" }
{ "type": "test", "name": "tests::passes", "event": "ok", "exec_time": 0.000000811, "stdout": "hello from passes\n" }
{ "type": "suite", "event": "ok", "passed": 1, "failed": 0, "ignored": 0, "measured": 0, "filtered_out": 6, "exec_time": 0.003147796 }
"#
        );
    }

    /// Escapes as libtest: `\"`, `\\`, the short forms, `\u00XX` for other
    /// control characters and DEL; non-ASCII passes through.
    #[test]
    fn strings_are_escaped_like_libtest() {
        let (mut json, out) = new_json();
        let message = "a\x01b\x0bc\x0cd\x08e\x7ff\r/\\ é\x7f".to_owned();
        let trials = [
            ("esc::ctrl", Outcome::Failed { message }, "", 1_000_000_000),
            (
                "esc::ig",
                Outcome::Ignored {
                    reason: Some("q\"uote\nnl".to_owned()),
                },
                "",
                0,
            ),
        ];
        run(&mut json, &trials, Summary::default());
        let text = out.text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[2],
            r#"{ "type": "test", "name": "esc::ctrl", "event": "failed", "exec_time": 1, "stdout": "\na\u0001b\u000bc\fd\be\u007ff\r/\\ é\u007f\n" }"#
        );
        assert_eq!(
            lines[4],
            r#"{ "type": "test", "name": "esc::ig", "event": "ignored", "message": "q\"uote\nnl" }"#
        );
        assert_eq!(
            lines[5],
            r#"{ "type": "suite", "event": "ok", "passed": 0, "failed": 0, "ignored": 0, "measured": 0, "filtered_out": 0, "exec_time": 0 }"#
        );
        for line in lines {
            let value: serde_json::Value = serde_json::from_str(line).expect("valid JSON");
            assert!(value.is_object());
        }
    }
}
