//! Output: one [`Reporter`] per format, fed the runner's [`Event`]s. The
//! runner decides outcomes and never prints; reporters print and never decide.
//!
//! Formats mirror libtest so IDEs and cargo-nextest can parse us:
//! `pretty` (default), `terse` (`-q`), `json` (libtest's unstable JSON event
//! stream) and a JUnit XML file (`--junit PATH`) written beside any of them.

use std::time::Duration;

/// How a trial ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Passed,
    /// The full failure text, starting with a libtest-style
    /// `thread '<name>' panicked at <file>:<line>:<col>:` line (RustRover
    /// shows failure text only from such a line).
    Failed { message: String },
    /// Not run, or an expected failure; `reason` is shown by every format.
    Ignored { reason: Option<String> },
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
    SuiteStarted { test_count: usize, filtered_out: usize },
    TestStarted { name: &'a str },
    TestFinished { name: &'a str, outcome: &'a Outcome, exec_time: Duration, output: &'a str },
    SuiteFinished { summary: Summary },
}
