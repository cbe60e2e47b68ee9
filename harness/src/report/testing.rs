//! Fixed event sequences and a capturing writer for the reporters' tests.
//!
//! The trials mirror a throwaway libtest crate (`tests::passes`, a failing
//! assertion, a panic, two `#[ignore]`s) so each format can be compared with
//! what `rustc --test` prints for it. Our runner writes no thread id or
//! backtrace note into failure messages, so those are absent here.

use std::io::{self, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{Event, Outcome, Reporter, Summary};

/// A `Write` whose bytes the test can read after handing it to a reporter.
#[derive(Clone, Default)]
pub(super) struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    pub(super) fn text(&self) -> String {
        let bytes = self.0.lock().map(|b| b.clone()).unwrap_or_default();
        String::from_utf8(bytes).expect("reporters write UTF-8")
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| io::Error::other("poisoned"))?
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// One finished trial: name, outcome, output, exec time in nanoseconds.
pub(super) type Trial = (&'static str, Outcome, &'static str, u64);

pub(super) fn run(reporter: &mut dyn Reporter, trials: &[Trial], summary: Summary) {
    let mut feed = |event: Event<'_>| reporter.report(&event).expect("writing to memory");
    feed(Event::SuiteStarted {
        test_count: trials.len(),
        stack: Some("llama-stack 0.7.3"),
    });
    for (name, outcome, output, nanos) in trials {
        feed(Event::TestStarted { name });
        feed(Event::TestFinished {
            name,
            outcome,
            exec_time: Duration::from_nanos(*nanos),
            output,
        });
    }
    feed(Event::SuiteFinished { summary });
}

pub(super) fn failing_trials() -> Vec<Trial> {
    vec![
        (
            "tests::fails",
            Outcome::Failed {
                message: "thread 'tests::fails' panicked at src/lib.rs:6:57:\n\
                          assertion `left == right` failed: numbers differ\n  left: 1\n right: 2\n"
                    .to_owned(),
            },
            "some output\nline \"two\"\n",
            72_469,
        ),
        (
            "tests::ignored_plain",
            Outcome::Ignored { reason: None },
            "",
            0,
        ),
        (
            "tests::ignored_reason",
            Outcome::Ignored {
                reason: Some("needs a server".to_owned()),
            },
            "",
            0,
        ),
        (
            "tests::inner::nested_fails",
            Outcome::Failed {
                // No trailing newline: reporters add it.
                message: "thread 'tests::inner::nested_fails' panicked at src/lib.rs:15:29:\n\
                          boom\twith tab"
                    .to_owned(),
            },
            "",
            6_550,
        ),
        ("tests::passes", Outcome::Passed, "", 811),
    ]
}

pub(super) fn failing_summary() -> Summary {
    Summary {
        passed: 1,
        failed: 2,
        ignored: 2,
        filtered_out: 0,
        exec_time: Duration::from_nanos(60_410_672),
    }
}

/// The five trials above: two failures, two ignored, one pass.
pub(super) fn failing_run(reporter: &mut dyn Reporter) {
    run(reporter, &failing_trials(), failing_summary());
}

/// `tests::passes` alone, six others filtered out, with `output` captured.
pub(super) fn passing_run(reporter: &mut dyn Reporter, output: &'static str) {
    let summary = Summary {
        passed: 1,
        filtered_out: 6,
        exec_time: Duration::from_nanos(3_147_796),
        ..Summary::default()
    };
    run(
        reporter,
        &[("tests::passes", Outcome::Passed, output, 811)],
        summary,
    );
}

/// Every trial filtered out.
pub(super) fn empty_run(reporter: &mut dyn Reporter) {
    let summary = Summary {
        filtered_out: 7,
        ..Summary::default()
    };
    run(reporter, &[], summary);
}
