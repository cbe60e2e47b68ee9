//! Findings as text: a test failure's list and the markdown report of
//! `stack-harness api diff --markdown`.

use std::fmt::Write as _;

use super::diff::{Finding, Severity, Side};

/// What the two specs are called in messages (`api/openapi-v1.json`, `the served spec`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Names<'a> {
    pub old: &'a str,
    pub new: &'a str,
}

impl Names<'_> {
    fn of(&self, side: Side) -> &str {
        match side {
            Side::Old => self.old,
            Side::New => self.new,
        }
    }
}

/// How many findings are breaking, and how many informational.
pub(crate) fn counts(findings: &[Finding]) -> (usize, usize) {
    let breaking = findings
        .iter()
        .filter(|f| f.severity == Severity::Breaking)
        .count();
    (breaking, findings.len() - breaking)
}

/// One finding per entry, indented: pointer (document), message, operations.
pub(crate) fn lines(findings: &[&Finding], names: Names<'_>) -> String {
    let mut out = String::new();
    for f in findings {
        let ops: Vec<&str> = f.operations.iter().map(String::as_str).collect();
        let _ = write!(
            out,
            "\n  {} (in {}): {}\n      {}",
            f.pointer,
            names.of(f.side),
            f.message,
            ops.join(", ")
        );
    }
    out
}

/// The markdown report of a comparison; `command` regenerates it.
pub(crate) fn markdown(findings: &[Finding], names: Names<'_>, command: &str) -> String {
    let (breaking, info) = counts(findings);
    let mut out = format!(
        "# API differences: {} → {}\n\n\
         The `/v1/` operations of the two OpenAPI specs, compared by stack-harness's rules \
         (`harness/src/api/diff.rs`): paths, methods, parameters, request bodies and response \
         schemas. A pointer is into the old spec for what is gone, into the new one otherwise; \
         a change to a shared schema is listed once, with every operation it reaches.\n\n\
         Regenerate:\n\n```sh\n{command}\n```\n\n\
         | | findings |\n|---|---|\n| breaking | {breaking} |\n| information | {info} |\n",
        names.old, names.new
    );
    for (severity, title) in [
        (Severity::Breaking, "Breaking"),
        (Severity::Info, "Information"),
    ] {
        let group: Vec<&Finding> = findings.iter().filter(|f| f.severity == severity).collect();
        let _ = write!(
            out,
            "\n## {title} ({})\n\n| where | what | operations |\n|---|---|---|\n",
            group.len()
        );
        for f in group {
            let ops: Vec<String> = f.operations.iter().map(|o| format!("`{o}`")).collect();
            let _ = writeln!(
                out,
                "| `{}` ({}) | {} | {} |",
                f.pointer,
                names.of(f.side),
                f.message.replace('|', "\\|"),
                ops.join("<br>").replace('|', "\\|")
            );
        }
    }
    out
}
