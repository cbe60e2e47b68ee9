//! Output: one [`Reporter`] per format, fed the runner's [`Event`]s. The
//! runner decides outcomes and never prints; reporters print and never decide.
//!
//! Formats mirror libtest so IDEs and cargo-nextest can parse us:
//! `pretty` (default), `terse` (`-q`), `json` (libtest's unstable JSON event
//! stream) and a JUnit XML file (`--junit PATH`) written beside any of them.
//! `--list` output is [`write_list`]; `outcomes` reads JUnit reports back
//! to compare two runs (`stack-harness outcomes diff`). The unit tests pin every console and
//! list format byte for byte to what a real libtest binary (rustc 1.95)
//! prints for the same trials.

mod console;
mod json;
mod junit;
mod list;
mod outcomes;
mod pretty;
mod terse;
#[cfg(test)]
mod testing;

use std::io::{self, IsTerminal as _, Write};
use std::time::Duration;

pub(crate) use junit::Junit;
pub(crate) use list::write_list;
pub(crate) use outcomes::{OutcomesArgs, outcomes_main};

/// How a trial ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Passed,
    /// The full failure text, starting with a libtest-style
    /// `thread '<name>' panicked at <file>:<line>:<col>:` line (RustRover
    /// shows failure text only from such a line).
    Failed {
        message: String,
    },
    /// Not run, or an expected failure; `reason` is shown by every format.
    Ignored {
        reason: Option<String>,
    },
}

/// The run's totals, as libtest's summary line prints them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Summary {
    pub passed: usize,
    pub failed: usize,
    pub ignored: usize,
    pub filtered_out: usize,
    pub exec_time: Duration,
}

/// One trial as listed by `--list`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Listed<'a> {
    pub name: &'a str,
    pub ignored: bool,
    pub ignore_reason: Option<&'a str>,
    pub file: &'a str,
    pub line: u32,
}

/// The only contract between the runner and the reporters.
#[derive(Clone, Debug)]
pub(crate) enum Event<'a> {
    /// The filtered-out count is only in [`Summary`]: libtest's formats
    /// print it only in the final summary.
    SuiteStarted {
        test_count: usize,
        /// The stack the run is on (`ogx 1.5.0`), when it has one: the
        /// JUnit report records it, for `outcomes diff`.
        stack: Option<&'a str>,
    },
    TestStarted {
        name: &'a str,
    },
    TestFinished {
        name: &'a str,
        outcome: &'a Outcome,
        exec_time: Duration,
        output: &'a str,
    },
    SuiteFinished {
        summary: Summary,
    },
}

/// The output format (`--format`, `-q`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Format {
    #[default]
    Pretty,
    Terse,
    Json,
}

/// When to color the pretty and terse output (`--color`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum ColorChoice {
    /// Only when stdout is a terminal, as libtest decides.
    #[default]
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    fn enabled(self) -> bool {
        match self {
            ColorChoice::Auto => io::stdout().is_terminal(),
            ColorChoice::Always => true,
            ColorChoice::Never => false,
        }
    }
}

/// Prints (or records) a run as it happens. Events arrive in order from one
/// thread; a reporter never decides an outcome, it only renders one.
pub(crate) trait Reporter: Send {
    fn report(&mut self, event: &Event<'_>) -> io::Result<()>;
}

/// The console reporter for `format`, writing to `out` (normally stdout).
///
/// Output of a passed test is printed (libtest's `--show-output`) when the
/// event carries any: the runner passes it only when asked to.
pub(crate) fn reporter(
    format: Format,
    color: ColorChoice,
    out: Box<dyn Write + Send>,
) -> Box<dyn Reporter> {
    match format {
        Format::Pretty => Box::new(pretty::Pretty::new(out, color.enabled())),
        Format::Terse => Box::new(terse::Terse::new(out, color.enabled())),
        Format::Json => Box::new(json::Json::new(out)),
    }
}

/// Several reporters fed the same events, e.g. the console and `--junit`.
/// Every reporter sees every event even if one fails; the first error wins.
impl Reporter for Vec<Box<dyn Reporter>> {
    fn report(&mut self, event: &Event<'_>) -> io::Result<()> {
        let mut first_error = None;
        for reporter in self.iter_mut() {
            if let Err(e) = reporter.report(event) {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

/// A failed trial's full text as libtest shows it: the captured output,
/// then the failure message on a fresh line (libtest's panic hook starts
/// its message with a newline), always ending in a newline.
pub(crate) fn failure_text(output: &str, message: &str) -> String {
    let mut text = String::with_capacity(output.len() + message.len() + 2);
    text.push_str(output);
    text.push('\n');
    text.push_str(message);
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::testing::{Captured, passing_run};
    use super::*;

    #[test]
    fn each_format_gets_its_reporter() {
        let cases = [
            (
                Format::Pretty,
                ColorChoice::Never,
                "test tests::passes ... ok\n",
            ),
            (
                Format::Pretty,
                ColorChoice::Always,
                "test tests::passes ... \x1b[32mok\x1b[0m\n",
            ),
            (Format::Terse, ColorChoice::Never, "\nrunning 1 test\n.\n"),
            (
                Format::Json,
                ColorChoice::Always,
                r#"{ "type": "test", "event": "started", "name": "tests::passes" }"#,
            ),
        ];
        for (format, color, expected) in cases {
            let out = Captured::default();
            let mut reporter = reporter(format, color, Box::new(out.clone()));
            passing_run(reporter.as_mut(), "");
            assert!(
                out.text().contains(expected),
                "{format:?}/{color:?}:\n{}",
                out.text()
            );
        }
        // Tests never run on a terminal's stdout, so `auto` means no color.
        assert!(!ColorChoice::Auto.enabled());
        assert_eq!(Format::default(), Format::Pretty);
    }

    #[test]
    fn a_vec_of_reporters_feeds_all_and_keeps_the_first_error() {
        struct Broken(&'static str);
        impl Reporter for Broken {
            fn report(&mut self, _: &Event<'_>) -> io::Result<()> {
                Err(io::Error::other(self.0))
            }
        }
        let out = Captured::default();
        let mut all: Vec<Box<dyn Reporter>> = vec![
            Box::new(Broken("first")),
            reporter(Format::Terse, ColorChoice::Never, Box::new(out.clone())),
            Box::new(Broken("second")),
        ];
        let err = all
            .report(&Event::SuiteStarted {
                test_count: 2,
                stack: None,
            })
            .expect_err("a reporter failed");
        assert_eq!(err.to_string(), "first");
        assert_eq!(out.text(), "\nrunning 2 tests\n");
    }

    #[test]
    fn failure_text_puts_the_message_on_its_own_line() {
        assert_eq!(failure_text("", "boom"), "\nboom\n");
        assert_eq!(failure_text("out\n", "boom\n"), "out\n\nboom\n");
        assert_eq!(failure_text("out", ""), "out\n");
    }
}
