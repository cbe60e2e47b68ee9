//! What the pretty and terse formats share, as libtest prints it: the
//! `running N tests` header, colors, the `successes:`/`failures:` sections
//! and the `test result:` line.

use std::io::{self, Write};

use super::{Outcome, Summary, failure_text};

#[derive(Clone, Copy)]
pub(super) enum Color {
    Green,
    Red,
    Yellow,
}

/// Writes plain or colored text. libtest's own reset is the terminfo `sgr0`
/// (`ESC(B ESC[m` on xterm); the portable `ESC[0m` looks the same.
pub(super) struct Console {
    out: Box<dyn Write + Send>,
    color: bool,
}

impl Console {
    pub(super) fn new(out: Box<dyn Write + Send>, color: bool) -> Console {
        Console { out, color }
    }

    pub(super) fn plain(&mut self, text: &str) -> io::Result<()> {
        self.out.write_all(text.as_bytes())
    }

    pub(super) fn painted(&mut self, text: &str, color: Color) -> io::Result<()> {
        if !self.color {
            return self.plain(text);
        }
        let code = match color {
            Color::Green => "32",
            Color::Red => "31",
            Color::Yellow => "33",
        };
        write!(self.out, "\x1b[{code}m{text}\x1b[0m")
    }

    /// Results appear as they finish, even when stdout is a pipe.
    pub(super) fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    pub(super) fn running(&mut self, test_count: usize) -> io::Result<()> {
        let noun = if test_count == 1 { "test" } else { "tests" };
        self.plain(&format!("\nrunning {test_count} {noun}\n"))
    }

    pub(super) fn finish(&mut self, tally: &Tally, summary: &Summary) -> io::Result<()> {
        if !tally.successes.is_empty() {
            self.section("successes", &tally.successes)?;
        }
        if !tally.failures.is_empty() {
            self.section("failures", &tally.failures)?;
        }
        self.plain("\ntest result: ")?;
        if summary.failed == 0 {
            self.painted("ok", Color::Green)?;
        } else {
            self.painted("FAILED", Color::Red)?;
        }
        self.plain(&format!(
            ". {} passed; {} failed; {} ignored; 0 measured; {} filtered out; finished in {:.2}s\n\n",
            summary.passed,
            summary.failed,
            summary.ignored,
            summary.filtered_out,
            summary.exec_time.as_secs_f64()
        ))?;
        self.flush()
    }

    /// libtest's layout: the header, each non-empty output block in the
    /// order the trials finished, then the header again over the sorted names.
    fn section(&mut self, title: &str, entries: &[(String, String)]) -> io::Result<()> {
        let mut text = format!("\n{title}:\n");
        let blocks: String = entries
            .iter()
            .filter(|(_, output)| !output.is_empty())
            .map(|(name, output)| format!("---- {name} stdout ----\n{output}\n"))
            .collect();
        if !blocks.is_empty() {
            text.push('\n');
            text.push_str(&blocks);
        }
        text.push_str(&format!("\n{title}:\n"));
        let mut names: Vec<&str> = entries.iter().map(|(name, _)| name.as_str()).collect();
        names.sort_unstable();
        for name in names {
            text.push_str(&format!("    {name}\n"));
        }
        self.plain(&text)
    }
}

/// What the closing sections need, gathered as trials finish.
#[derive(Default)]
pub(super) struct Tally {
    /// Passed trials that carried output (`--show-output`), with it.
    successes: Vec<(String, String)>,
    /// Failed trials with their full failure text.
    failures: Vec<(String, String)>,
}

impl Tally {
    pub(super) fn record(&mut self, name: &str, outcome: &Outcome, output: &str) {
        match outcome {
            Outcome::Passed if !output.is_empty() => {
                self.successes.push((name.to_owned(), output.to_owned()));
            }
            Outcome::Failed { message } => {
                self.failures
                    .push((name.to_owned(), failure_text(output, message)));
            }
            Outcome::Passed | Outcome::Ignored { .. } => {}
        }
    }
}
