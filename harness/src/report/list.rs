//! `--list`: the trial names in libtest's list formats. cargo-nextest and
//! IDEs read the terse form, so it prints nothing but `NAME: test` lines.

use std::io::{self, Write};

use serde::Serialize;

use super::json::write_line;
use super::{Format, Listed};

/// Writes `listed` in `format`:
/// - terse: `NAME: test` lines only;
/// - pretty: those lines, a blank line, then `N tests, 0 benchmarks`;
/// - json: libtest's discovery events (`-Z unstable-options --list --format json`).
pub(crate) fn write_list(
    format: Format,
    listed: &[Listed<'_>],
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Terse => names(listed, out)?,
        Format::Pretty => {
            names(listed, out)?;
            let noun = if listed.len() == 1 { "test" } else { "tests" };
            writeln!(out, "\n{} {noun}, 0 benchmarks", listed.len())?;
        }
        Format::Json => discovery(listed, out)?,
    }
    out.flush()
}

fn names(listed: &[Listed<'_>], out: &mut dyn Write) -> io::Result<()> {
    // One buffer, one write: listing ten thousand trials must stay cheap
    // even on an unbuffered stdout.
    let mut text = String::with_capacity(listed.iter().map(|l| l.name.len() + 7).sum());
    for trial in listed {
        text.push_str(trial.name);
        text.push_str(": test\n");
    }
    out.write_all(text.as_bytes())
}

#[derive(Serialize)]
struct Discovery {
    #[serde(rename = "type")]
    kind: &'static str,
    event: &'static str,
}

/// libtest also gives the span of the function's name; we know only its
/// line, so the span is that line's first column.
#[derive(Serialize)]
struct Discovered<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    event: &'static str,
    name: &'a str,
    ignore: bool,
    ignore_message: &'a str,
    source_path: &'a str,
    start_line: u32,
    start_col: u32,
    end_line: u32,
    end_col: u32,
}

#[derive(Serialize)]
struct Completed {
    #[serde(rename = "type")]
    kind: &'static str,
    event: &'static str,
    tests: usize,
    benchmarks: usize,
    total: usize,
    ignored: usize,
}

fn discovery(listed: &[Listed<'_>], out: &mut dyn Write) -> io::Result<()> {
    write_line(
        out,
        &Discovery {
            kind: "suite",
            event: "discovery",
        },
    )?;
    for trial in listed {
        write_line(
            out,
            &Discovered {
                kind: "test",
                event: "discovered",
                name: trial.name,
                ignore: trial.ignored,
                ignore_message: trial.ignore_reason.unwrap_or(""),
                source_path: trial.file,
                start_line: trial.line,
                start_col: 1,
                end_line: trial.line,
                end_col: 1,
            },
        )?;
    }
    write_line(
        out,
        &Completed {
            kind: "suite",
            event: "completed",
            tests: listed.len(),
            benchmarks: 0,
            total: listed.len(),
            ignored: listed.iter().filter(|l| l.ignored).count(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed() -> Vec<Listed<'static>> {
        vec![
            Listed {
                name: "tests::fails",
                ignored: false,
                ignore_reason: None,
                file: "src/lib.rs",
                line: 6,
            },
            Listed {
                name: "tests::ignored_plain",
                ignored: true,
                ignore_reason: None,
                file: "src/lib.rs",
                line: 12,
            },
            Listed {
                name: "tests::ignored_reason",
                ignored: true,
                ignore_reason: Some("needs \"a\" server"),
                file: "src/lib.rs",
                line: 9,
            },
        ]
    }

    fn list(format: Format, listed: &[Listed<'_>]) -> String {
        let mut out = Vec::new();
        write_list(format, listed, &mut out).expect("writing to memory");
        String::from_utf8(out).expect("UTF-8")
    }

    #[test]
    fn terse_is_only_name_lines() {
        assert_eq!(
            list(Format::Terse, &listed()),
            "tests::fails: test\ntests::ignored_plain: test\ntests::ignored_reason: test\n"
        );
        assert_eq!(list(Format::Terse, &[]), "");
    }

    #[test]
    fn pretty_adds_the_count() {
        assert_eq!(
            list(Format::Pretty, &listed()),
            "tests::fails: test\ntests::ignored_plain: test\ntests::ignored_reason: test\n\n3 tests, 0 benchmarks\n"
        );
        assert_eq!(
            list(Format::Pretty, &listed()[..1]),
            "tests::fails: test\n\n1 test, 0 benchmarks\n"
        );
        assert_eq!(list(Format::Pretty, &[]), "\n0 tests, 0 benchmarks\n");
    }

    /// libtest's shape; unlike libtest (which writes `ignore_message` raw),
    /// the message is escaped, so every line is valid JSON.
    #[test]
    fn json_is_libtest_discovery() {
        assert_eq!(
            list(Format::Json, &listed()),
            r#"{ "type": "suite", "event": "discovery" }
{ "type": "test", "event": "discovered", "name": "tests::fails", "ignore": false, "ignore_message": "", "source_path": "src/lib.rs", "start_line": 6, "start_col": 1, "end_line": 6, "end_col": 1 }
{ "type": "test", "event": "discovered", "name": "tests::ignored_plain", "ignore": true, "ignore_message": "", "source_path": "src/lib.rs", "start_line": 12, "start_col": 1, "end_line": 12, "end_col": 1 }
{ "type": "test", "event": "discovered", "name": "tests::ignored_reason", "ignore": true, "ignore_message": "needs \"a\" server", "source_path": "src/lib.rs", "start_line": 9, "start_col": 1, "end_line": 9, "end_col": 1 }
{ "type": "suite", "event": "completed", "tests": 3, "benchmarks": 0, "total": 3, "ignored": 2 }
"#
        );
    }
}
