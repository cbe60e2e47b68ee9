//! `--format terse` / `-q`: one character per trial, as libtest.

use std::io::{self, Write};

use super::console::{Color, Console, Tally};
use super::{Event, Outcome, Reporter};

/// libtest wraps after 87 result characters, leaving room on a 100-column
/// line for a progress count such as ` 11704/12853`.
const MAX_COLUMN: usize = 88;

pub(super) struct Terse {
    console: Console,
    tally: Tally,
    total: usize,
    /// Trials reported so far.
    done: usize,
    /// Result characters on the current line.
    column: usize,
}

impl Terse {
    pub(super) fn new(out: Box<dyn Write + Send>, color: bool) -> Terse {
        Terse {
            console: Console::new(out, color),
            tally: Tally::default(),
            total: 0,
            done: 0,
            column: 0,
        }
    }

    fn progress(&mut self) -> io::Result<()> {
        self.console
            .plain(&format!(" {}/{}\n", self.done, self.total))?;
        self.column = 0;
        Ok(())
    }

    fn short(&mut self, mark: &str, color: Color) -> io::Result<()> {
        self.console.painted(mark, color)?;
        self.done += 1;
        self.column += 1;
        if self.column % MAX_COLUMN == MAX_COLUMN - 1 {
            self.progress()?;
        }
        Ok(())
    }

    /// A failure gets its own line with the name, so it is seen at once;
    /// the line of dots before it is closed with the progress count.
    fn failed(&mut self, name: &str) -> io::Result<()> {
        if self.column != 0 {
            self.progress()?;
        }
        self.done += 1;
        self.console.plain(&format!("{name} --- "))?;
        self.console.painted("FAILED", Color::Red)?;
        self.console.plain("\n")
    }
}

impl Reporter for Terse {
    fn report(&mut self, event: &Event<'_>) -> io::Result<()> {
        match *event {
            Event::SuiteStarted { test_count, .. } => {
                self.total = test_count;
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
                match outcome {
                    Outcome::Passed => self.short(".", Color::Green)?,
                    Outcome::Ignored { .. } => self.short("i", Color::Yellow)?,
                    Outcome::Failed { .. } => self.failed(name)?,
                }
                self.tally.record(name, outcome, output);
                self.console.flush()
            }
            Event::SuiteFinished { ref summary } => self.console.finish(&self.tally, summary),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::testing::{Captured, Trial, empty_run, failing_run, passing_run, run};
    use super::super::{Outcome, Summary};
    use super::*;

    fn new_terse(color: bool) -> (Terse, Captured) {
        let out = Captured::default();
        (Terse::new(Box::new(out.clone()), color), out)
    }

    #[test]
    fn failures_get_their_own_line_and_the_same_closing_sections() {
        let (mut terse, out) = new_terse(false);
        failing_run(&mut terse);
        assert_eq!(
            out.text(),
            r#"
running 5 tests
tests::fails --- FAILED
ii 3/5
tests::inner::nested_fails --- FAILED
.
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
    fn one_pass_and_no_trials() {
        let (mut terse, out) = new_terse(false);
        passing_run(&mut terse, "");
        assert_eq!(
            out.text(),
            "\nrunning 1 test\n.\ntest result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 6 filtered out; finished in 0.00s\n\n"
        );
        let (mut terse, out) = new_terse(false);
        empty_run(&mut terse);
        assert_eq!(
            out.text(),
            "\nrunning 0 tests\n\ntest result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 7 filtered out; finished in 0.00s\n\n"
        );
    }

    /// 200 trials with ignores at 7, 57, 107, 157 and a failure at 150,
    /// compared with libtest's output for the same crate.
    #[test]
    fn lines_wrap_after_87_results_with_a_progress_count() {
        let names: Vec<&'static str> = (0..200)
            .map(|i| &*Box::leak(format!("t::t{i:03}").into_boxed_str()))
            .collect();
        let trials: Vec<Trial> = names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let outcome = if i == 150 {
                    Outcome::Failed {
                        message: "boom".to_owned(),
                    }
                } else if i % 50 == 7 {
                    Outcome::Ignored { reason: None }
                } else {
                    Outcome::Passed
                };
                (*name, outcome, "", 1)
            })
            .collect();
        let summary = Summary {
            passed: 195,
            failed: 1,
            ignored: 4,
            filtered_out: 0,
            exec_time: Duration::from_millis(20),
        };
        let (mut terse, out) = new_terse(false);
        run(&mut terse, &trials, summary);
        let text = out.text();
        let lines: Vec<&str> = text.lines().take(6).collect();
        assert_eq!(
            lines,
            [
                "",
                "running 200 tests",
                ".......i.................................................i............................. 87/200",
                "....................i.......................................... 150/200",
                "t::t150 --- FAILED",
                "......i..........................................",
            ]
        );
    }

    #[test]
    fn colors_wrap_each_mark() {
        let (mut terse, out) = new_terse(true);
        failing_run(&mut terse);
        let text = out.text();
        assert!(text.contains("tests::fails --- \x1b[31mFAILED\x1b[0m\n"));
        assert!(text.contains("\x1b[33mi\x1b[0m\x1b[33mi\x1b[0m 3/5\n"));
        assert!(text.contains("\x1b[32m.\x1b[0m\n"));
    }
}
