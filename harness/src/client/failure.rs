//! What a test's error can say beyond its text, for the runner to read: an
//! HTTP answer with another status than the test expected
//! ([`UnexpectedStatus`], which `xfail(status = ..)` matches) and a skip
//! decided while the test ran ([`Skip`]).

use std::fmt;

/// An HTTP answer whose status was not the one the test expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnexpectedStatus {
    /// The request: `GET /v1/models`.
    pub what: String,
    /// The status the test expected: `2xx`, `404`.
    pub expected: String,
    pub actual: u16,
    /// The body, clipped to a readable length.
    pub body: String,
}

impl UnexpectedStatus {
    /// `Ok` if `actual` is what `expected` allows: any 2xx for `None`, else
    /// exactly that status.
    pub(crate) fn check(
        what: &str,
        expected: Option<u16>,
        actual: u16,
        body: &str,
    ) -> Result<(), UnexpectedStatus> {
        let fine = match expected {
            None => (200..300).contains(&actual),
            Some(status) => actual == status,
        };
        if fine {
            return Ok(());
        }
        Err(UnexpectedStatus {
            what: what.to_owned(),
            expected: expected.map_or_else(|| "2xx".to_owned(), |s| s.to_string()),
            actual,
            body: clip(body),
        })
    }
}

impl fmt::Display for UnexpectedStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let UnexpectedStatus {
            what,
            expected,
            actual,
            body,
        } = self;
        if expected == "2xx" {
            write!(f, "{what} answered {actual}: {body}")
        } else {
            write!(f, "{what} answered {actual} instead of {expected}: {body}")
        }
    }
}

impl std::error::Error for UnexpectedStatus {}

/// A test that found, while running, that it cannot run here: reported
/// ignored with its reason, not failed. Made by [`skip`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip {
    reason: String,
}

impl Skip {
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "skipped: {}", self.reason)
    }
}

impl std::error::Error for Skip {}

/// Ends the test as skipped, with a reason the report shows:
/// `return harness::skip("no judge model here");`.
pub fn skip<T>(reason: impl Into<String>) -> crate::Result<T> {
    Err(Skip {
        reason: reason.into(),
    }
    .into())
}

/// The status of the HTTP answer a test failed on, if it failed on one
/// (an [`UnexpectedStatus`] anywhere in its error's chain).
pub(crate) fn failure_status(err: &anyhow::Error) -> Option<u16> {
    err.chain()
        .find_map(|e| e.downcast_ref::<UnexpectedStatus>())
        .map(|u| u.actual)
}

/// Why the test skipped itself, if it did ([`skip`] anywhere in its error's
/// chain).
pub(crate) fn skip_reason(err: &anyhow::Error) -> Option<&str> {
    err.chain()
        .find_map(|e| e.downcast_ref::<Skip>())
        .map(Skip::reason)
}

/// A body for an error message: whole if short, else its start.
pub(crate) fn clip(text: &str) -> String {
    const MAX: usize = 2000;
    if text.len() <= MAX {
        return text.to_owned();
    }
    let cut = (0..=MAX)
        .rev()
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(0);
    format!("{}… ({} bytes in all)", &text[..cut], text.len())
}

/// A compact line diff of two texts, `-` for `expected` and `+` for
/// `actual`, with a little context around each change.
pub(crate) fn diff(expected: &str, actual: &str) -> String {
    let diff = similar::TextDiff::from_lines(expected, actual);
    let mut out = String::new();
    for group in diff.grouped_ops(2) {
        for op in group {
            for change in diff.iter_changes(&op) {
                let sign = match change.tag() {
                    similar::ChangeTag::Delete => '-',
                    similar::ChangeTag::Insert => '+',
                    similar::ChangeTag::Equal => ' ',
                };
                out.push(sign);
                out.push_str(change.value().trim_end_matches('\n'));
                out.push('\n');
            }
        }
    }
    out.pop();
    out
}

#[cfg(test)]
mod tests {
    use anyhow::Context as _;

    use super::*;

    fn status(expected: Option<u16>, actual: u16) -> anyhow::Error {
        UnexpectedStatus::check("GET /v1/x", expected, actual, "{\"detail\": \"gone\"}")
            .expect_err("a mismatch")
            .into()
    }

    #[test]
    fn unexpected_status_reads_as_before() {
        assert_eq!(
            status(None, 404).to_string(),
            "GET /v1/x answered 404: {\"detail\": \"gone\"}"
        );
        assert_eq!(
            status(Some(404), 400).to_string(),
            "GET /v1/x answered 400 instead of 404: {\"detail\": \"gone\"}"
        );
        assert!(UnexpectedStatus::check("GET /v1/x", None, 204, "").is_ok());
        assert!(UnexpectedStatus::check("GET /v1/x", Some(404), 404, "").is_ok());
        let long = "x".repeat(3000);
        let e = UnexpectedStatus::check("GET /v1/x", None, 500, &long).expect_err("500");
        assert_eq!(e.body.len(), 2000 + "… (3000 bytes in all)".len());
    }

    #[test]
    fn the_status_is_found_through_context() {
        assert_eq!(failure_status(&status(Some(404), 400)), Some(400));
        let wrapped = Err::<(), _>(status(None, 500))
            .context("creating the store")
            .context("setting up")
            .expect_err("wrapped");
        assert_eq!(failure_status(&wrapped), Some(500));
        assert_eq!(failure_status(&anyhow::anyhow!("answered 500")), None);
    }

    #[test]
    fn a_skip_carries_its_reason() {
        let err = skip::<()>("no judge model here").expect_err("a skip");
        assert_eq!(err.to_string(), "skipped: no judge model here");
        assert_eq!(skip_reason(&err), Some("no judge model here"));
        let wrapped = Err::<(), _>(err).context("judging").expect_err("wrapped");
        assert_eq!(skip_reason(&wrapped), Some("no judge model here"));
        assert_eq!(skip_reason(&anyhow::anyhow!("skipped: no")), None);
        assert_eq!(failure_status(&wrapped), None);
    }

    #[test]
    fn diff_shows_only_the_lines_that_changed_and_their_neighbours() {
        assert_eq!(
            diff("Model 'x' not found", "Model 'y' not found"),
            "-Model 'x' not found\n+Model 'y' not found"
        );
        assert_eq!(
            diff("a\nb\nc\nd\ne\nf\n", "a\nb\nc\nd\nE\nf\n"),
            " c\n d\n-e\n+E\n f"
        );
        assert_eq!(diff("same", "same"), "");
    }
}
