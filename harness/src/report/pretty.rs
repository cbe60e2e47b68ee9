//! The default format: one `test NAME ... ok` line per trial, as libtest.

use std::io::{self, Write};

use super::console::{Color, Console, Tally};
use super::{Event, Outcome, Reporter};

/// Prints each line when its trial finishes, as libtest does with more than
/// one test thread, so parallel trials never interleave half lines.
pub(super) struct Pretty {
    console: Console,
    tally: Tally,
}

impl Pretty {
    pub(super) fn new(out: Box<dyn Write + Send>, color: bool) -> Pretty {
        Pretty {
            console: Console::new(out, color),
            tally: Tally::default(),
        }
    }
}

impl Reporter for Pretty {
    fn report(&mut self, event: &Event<'_>) -> io::Result<()> {
        match *event {
            Event::SuiteStarted { test_count, .. } => {
                self.console.running(test_count)?;
                self.console.flush()
            }
            Event::TestStarted { .. } => Ok(()),
            Event::TestFinished {
                name,
                outcome,
                output,
                ..
            } => {
                self.console.plain(&format!("test {name} ... "))?;
                match outcome {
                    Outcome::Passed => self.console.painted("ok", Color::Green)?,
                    Outcome::Failed { .. } => self.console.painted("FAILED", Color::Red)?,
                    Outcome::Ignored { reason: None } => {
                        self.console.painted("ignored", Color::Yellow)?;
                    }
                    Outcome::Ignored {
                        reason: Some(reason),
                    } => self
                        .console
                        .painted(&format!("ignored, {reason}"), Color::Yellow)?,
                }
                self.console.plain("\n")?;
                self.tally.record(name, outcome, output);
                self.console.flush()
            }
            Event::SuiteFinished { ref summary } => self.console.finish(&self.tally, summary),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{Captured, failing_run, passing_run};
    use super::*;

    #[test]
    fn a_run_with_failures_prints_libtest_text() {
        let out = Captured::default();
        let mut pretty = Pretty::new(Box::new(out.clone()), false);
        failing_run(&mut pretty);
        // Verbatim from a libtest binary (rustc 1.95) running the same trials.
        assert_eq!(
            out.text(),
            r#"
running 5 tests
test tests::fails ... FAILED
test tests::ignored_plain ... ignored
test tests::ignored_reason ... ignored, needs a server
test tests::inner::nested_fails ... FAILED
test tests::passes ... ok

failures:

---- tests::fails stdout ----
some output
line "two"

thread 'tests::fails' panicked at src/lib.rs:6:57:
assertion `left == right` failed: numbers differ
  left: 1
 right: 2

---- tests::inner::nested_fails stdout ----

thread 'tests::inner::nested_fails' panicked at src/lib.rs:15:29:
boom	with tab


failures:
    tests::fails
    tests::inner::nested_fails

test result: FAILED. 1 passed; 2 failed; 2 ignored; 0 measured; 0 filtered out; finished in 0.06s

"#
        );
    }

    #[test]
    fn passed_output_is_shown_in_a_successes_section() {
        let out = Captured::default();
        let mut pretty = Pretty::new(Box::new(out.clone()), false);
        passing_run(&mut pretty, "hello from passes\n");
        assert_eq!(
            out.text(),
            "
running 1 test
test tests::passes ... ok

successes:

---- tests::passes stdout ----
hello from passes


successes:
    tests::passes

test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 6 filtered out; finished in 0.00s

"
        );
    }

    #[test]
    fn no_trials_still_prints_the_summary() {
        let out = Captured::default();
        let mut pretty = Pretty::new(Box::new(out.clone()), false);
        super::super::testing::empty_run(&mut pretty);
        assert_eq!(
            out.text(),
            "\nrunning 0 tests\n\ntest result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 7 filtered out; finished in 0.00s\n\n"
        );
    }

    #[test]
    fn colors_wrap_only_the_verdicts() {
        let out = Captured::default();
        let mut pretty = Pretty::new(Box::new(out.clone()), true);
        failing_run(&mut pretty);
        let text = out.text();
        assert!(text.contains("test tests::fails ... \x1b[31mFAILED\x1b[0m\n"));
        assert!(text.contains("test tests::ignored_plain ... \x1b[33mignored\x1b[0m\n"));
        assert!(
            text.contains(
                "test tests::ignored_reason ... \x1b[33mignored, needs a server\x1b[0m\n"
            )
        );
        assert!(text.contains("test tests::passes ... \x1b[32mok\x1b[0m\n"));
        assert!(text.contains("\ntest result: \x1b[31mFAILED\x1b[0m. 1 passed;"));
    }
}
