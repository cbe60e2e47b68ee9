//! A trial's outcome, decided in one place from everything that happened
//! while it ran: how its body ended, the replay misses and upstream
//! failures its requests caused, the stack's health, its `xfail`, and which
//! stack it ran on.
//!
//! ```text
//! stack died / unreachable / not started ──> failed (the stack's fault, named)
//! timed out ───────────────────────────────> failed (never expected)
//! a miss or upstream failure ──────────────> failed (never expected)
//! skipped ─────────────────────────────────> ignored, with its reason
//! xfail for other stacks (`stacks = ..`) ──> as if unmarked (a failure says so)
//! xfail for stacks, version unknown ───────> failed (cannot tell if it applies)
//! passed ──── xfail? ──yes──> failed ("passed: remove the mark")
//!               └─no───> passed
//! failed ──── xfail matches its failure? ──yes──> ignored ("xfail: reason")
//!               └─no (or no xfail)──> failed, with the real cause
//! ```
//!
//! Before that, [`not_here`] decides whether an `only(stacks = ..)` test
//! runs at all on this stack. Both are pure, so every combination is pinned
//! by the tables below.

use std::time::Duration;

use crate::registry::{Only, Xfail};
use crate::report::Outcome;
use crate::stack::identity::{Applies, Stack, Stacks};

/// What an `xfail` expects: the failure must match every part given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Expectation<'a> {
    /// The stack bug or model limit behind it.
    pub reason: &'a str,
    /// The test fails on an HTTP answer with this status.
    pub status: Option<u16>,
    /// The failure's text contains this.
    pub contains: Option<&'a str>,
    /// The stacks with the bug; `None`: every stack.
    pub stacks: Option<Stacks>,
}

impl Expectation<'_> {
    fn matches(&self, failure: &Failure) -> bool {
        failure.cause == Cause::Test
            && self.status.is_none_or(|s| failure.status == Some(s))
            && self.contains.is_none_or(|c| failure.text.contains(c))
    }

    /// `status 400 and text containing "…"`, for messages.
    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(status) = self.status {
            parts.push(format!("an HTTP {status} answer"));
        }
        if let Some(text) = self.contains {
            parts.push(format!("a failure containing {text:?}"));
        }
        parts.join(" and ")
    }
}

/// Who a failure belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cause {
    /// The test's own assertion or request: an xfail may expect it.
    Test,
    /// The stack died, could not be reached, or never started: never
    /// expected, whatever the test is marked.
    Stack,
}

/// A failed test body, classified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Failure {
    /// The failure as the user reads it (the error chain, or the panic).
    pub text: String,
    /// The status of the HTTP answer the test failed on, if it failed on one.
    pub status: Option<u16>,
    pub cause: Cause,
}

/// How the test body ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Ended {
    Passed,
    Failed(Failure),
    /// A runtime skip (`harness::skip`), with its reason.
    Skipped(String),
    TimedOut(Duration),
}

/// Everything that happened while one trial ran.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Observed {
    pub ended: Ended,
    /// The failures its traffic caused: replay misses, upstream errors.
    pub traffic: Vec<String>,
    /// The stack died while it ran: how, with its log tail.
    pub stack_died: Option<String>,
}

/// Whether an `only(stacks = ..)` test stays out of this run: `Some` with
/// its outcome when `stack` is not one it applies to (or its version,
/// which the declaration bounds, is unknown). Without a stack (the session
/// did not start) the test runs, and fails saying why.
pub(crate) fn not_here(
    only: Option<&Only>,
    stack: Option<&Stack>,
    header: &str,
) -> Option<Outcome> {
    let (only, stack) = (only?, stack?);
    match only.stacks.applies_to(stack) {
        Applies::Yes => None,
        Applies::No => Some(Outcome::Ignored {
            reason: Some(format!(
                "only for {}, not {stack}: {}",
                only.stacks, only.reason
            )),
        }),
        Applies::Unknown => Some(Outcome::Failed {
            message: format!(
                "{header}\nthe test applies only to `{}`, but this {} did not report its version, so whether it is one of them cannot be told",
                only.stacks,
                stack.launcher()
            ),
        }),
    }
}

/// Which of a test's xfails is its mark on `stack`: the first whose stacks
/// take it (or that names none), else the first, which [`decide`] then reads
/// as another stack's mark, or fails on when the version is unknown.
pub(crate) fn pick<'x>(xfails: &'x [Xfail], stack: Option<&Stack>) -> Option<&'x Xfail> {
    xfails
        .iter()
        .find(|x| match (x.stacks, stack) {
            (None, _) => true,
            (Some(stacks), Some(stack)) => stacks.applies_to(stack) == Applies::Yes,
            (Some(_), None) => false,
        })
        .or(xfails.first())
}

/// The outcome of a trial on `stack`. `header` is libtest's first failure
/// line, `thread '<name>' panicked at <file>:<line>:1:`, which IDEs look for.
pub(crate) fn decide(
    observed: Observed,
    xfail: Option<Expectation<'_>>,
    stack: Option<&Stack>,
    header: &str,
) -> Outcome {
    let failed = |body: String| Outcome::Failed {
        message: format!("{header}\n{body}"),
    };
    let own = match &observed.ended {
        Ended::Failed(f) => Some(f.text.as_str()),
        _ => None,
    };
    let with_traffic = |mut body: String| {
        for text in &observed.traffic {
            body.push_str("\n\n");
            body.push_str(text);
        }
        body
    };

    if let Some(death) = &observed.stack_died {
        let mut body = death.clone();
        if let Some(own) = own.filter(|o| !o.contains(death.as_str())) {
            body.push_str(&format!("\n\nthe test's own failure:\n{own}"));
        }
        return failed(with_traffic(body));
    }
    if let Ended::TimedOut(deadline) = observed.ended {
        return failed(with_traffic(format!(
            "the test did not finish within {} s and was stopped (raise it with --test-timeout or `timeout = SECS` on the test)",
            deadline.as_secs()
        )));
    }
    if let Ended::Failed(f) = &observed.ended
        && f.cause == Cause::Stack
    {
        return failed(with_traffic(f.text.clone()));
    }
    if !observed.traffic.is_empty() {
        let mut body = match (&observed.ended, own) {
            (_, Some(own)) => own.to_owned(),
            (Ended::Skipped(reason), _) => {
                format!("the test skipped itself ({reason}), but its requests failed:")
            }
            _ => "the test passed, but its requests did not all get a recorded answer:".to_owned(),
        };
        if let Some(x) = xfail {
            body.push_str(&format!(
                "\n\n(the test is marked xfail, \"{}\"; a replay miss or an upstream failure is never the expected failure)",
                x.reason
            ));
        }
        return failed(with_traffic(body));
    }
    // An xfail of other stacks is no mark here; a failure says whose it is,
    // so that a bug that reached this stack too reads as such.
    let mut elsewhere = None;
    let xfail = match xfail.and_then(|x| x.stacks.map(|s| (x, s))) {
        None => xfail,
        Some((x, stacks)) => match stack.map(|st| (st, stacks.applies_to(st))) {
            Some((_, Applies::Yes)) => Some(x),
            Some((st, Applies::No)) => {
                elsewhere = Some(format!(
                    "(the test's xfail is for `{stacks}`, not {st}: \"{}\")",
                    x.reason
                ));
                None
            }
            Some((_, Applies::Unknown)) | None => {
                let on = stack.map_or_else(
                    || "the stack".to_owned(),
                    |st| format!("this {}", st.launcher()),
                );
                return failed(format!(
                    "the test is marked xfail for `{stacks}`, but {on} did not report its version, so whether the mark applies cannot be told"
                ));
            }
        },
    };
    match (observed.ended, xfail) {
        (Ended::Skipped(reason), _) => Outcome::Ignored {
            reason: Some(reason),
        },
        (Ended::Passed, None) => Outcome::Passed,
        (Ended::Passed, Some(x)) => failed(format!(
            "the test is marked xfail (\"{}\") but passed: the stack may have been fixed; remove the mark",
            x.reason
        )),
        (Ended::Failed(f), Some(x)) if x.matches(&f) => Outcome::Ignored {
            reason: Some(format!("xfail: {}", x.reason)),
        },
        (Ended::Failed(f), Some(x)) => failed(format!(
            "{}\n\nthe test is marked xfail (\"{}\") expecting {}, but it failed otherwise",
            f.text,
            x.reason,
            x.describe()
        )),
        (Ended::Failed(f), None) => match elsewhere {
            Some(note) => failed(format!("{}\n\n{note}", f.text)),
            None => failed(f.text),
        },
        (Ended::TimedOut(_), _) => unreachable!("handled above"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stack::launcher::LauncherKind;

    const HEADER: &str = "thread 't' panicked at tests/t.rs:3:1:";
    const XFAIL_400: Expectation<'static> = Expectation {
        reason: "bug 1",
        status: Some(400),
        contains: None,
        stacks: None,
    };
    const XFAIL_TEXT: Expectation<'static> = Expectation {
        reason: "bug 2",
        status: None,
        contains: Some("[DONE]"),
        stacks: None,
    };
    const XFAIL_BOTH: Expectation<'static> = Expectation {
        reason: "bug 3",
        status: Some(500),
        contains: Some("json_schema"),
        stacks: None,
    };

    fn own(text: &str, status: Option<u16>) -> Ended {
        Ended::Failed(Failure {
            text: text.to_owned(),
            status,
            cause: Cause::Test,
        })
    }

    fn run(
        ended: Ended,
        traffic: &[&str],
        died: Option<&str>,
        xfail: Option<Expectation<'_>>,
    ) -> Outcome {
        decide(
            Observed {
                ended,
                traffic: traffic.iter().map(|t| (*t).to_owned()).collect(),
                stack_died: died.map(str::to_owned),
            },
            xfail,
            Some(&llama("0.7.3")),
            HEADER,
        )
    }

    fn llama(version: &str) -> Stack {
        Stack::new(LauncherKind::LlamaStack, Some(version))
    }

    fn failed(body: &str) -> Outcome {
        Outcome::Failed {
            message: format!("{HEADER}\n{body}"),
        }
    }

    fn xfailed(reason: &str) -> Outcome {
        Outcome::Ignored {
            reason: Some(format!("xfail: {reason}")),
        }
    }

    #[test]
    fn a_pass_passes_and_an_xfail_that_passes_fails() {
        assert_eq!(run(Ended::Passed, &[], None, None), Outcome::Passed);
        assert_eq!(
            run(Ended::Passed, &[], None, Some(XFAIL_400)),
            failed(
                "the test is marked xfail (\"bug 1\") but passed: the stack may have been fixed; remove the mark"
            )
        );
    }

    #[test]
    fn an_own_failure_fails_unless_the_xfail_names_it() {
        let answer_400 = || own("GET /v1/x answered 400 instead of 404: {}", Some(400));
        assert_eq!(
            run(answer_400(), &[], None, None),
            failed("GET /v1/x answered 400 instead of 404: {}")
        );
        assert_eq!(
            run(answer_400(), &[], None, Some(XFAIL_400)),
            xfailed("bug 1")
        );
        // Another status is not the expected failure.
        assert_eq!(
            run(own("answered 500", Some(500)), &[], None, Some(XFAIL_400)),
            failed(
                "answered 500\n\nthe test is marked xfail (\"bug 1\") expecting an HTTP 400 answer, but it failed otherwise"
            )
        );
        // A failure that is no HTTP answer at all does not match a status.
        assert_eq!(
            run(own("no `choices` list", None), &[], None, Some(XFAIL_400)),
            failed(
                "no `choices` list\n\nthe test is marked xfail (\"bug 1\") expecting an HTTP 400 answer, but it failed otherwise"
            )
        );
        assert_eq!(
            run(
                own("no [DONE] at the end", None),
                &[],
                None,
                Some(XFAIL_TEXT)
            ),
            xfailed("bug 2")
        );
        assert_eq!(
            run(own("a panic", None), &[], None, Some(XFAIL_TEXT)),
            failed(
                "a panic\n\nthe test is marked xfail (\"bug 2\") expecting a failure containing \"[DONE]\", but it failed otherwise"
            )
        );
        // Both parts given: both must hold.
        assert_eq!(
            run(
                own("answered 500: json_schema unsupported", Some(500)),
                &[],
                None,
                Some(XFAIL_BOTH)
            ),
            xfailed("bug 3")
        );
        assert!(matches!(
            run(
                own("answered 500: out of memory", Some(500)),
                &[],
                None,
                Some(XFAIL_BOTH)
            ),
            Outcome::Failed { .. }
        ));
        assert!(matches!(
            run(
                own("answered 400: json_schema", Some(400)),
                &[],
                None,
                Some(XFAIL_BOTH)
            ),
            Outcome::Failed { .. }
        ));
    }

    #[test]
    fn a_miss_fails_the_test_whatever_else_happened() {
        let miss = "stack-harness: no recording for POST /v1/chat/completions";
        let passed_with_miss = format!(
            "the test passed, but its requests did not all get a recorded answer:\n\n{miss}"
        );
        assert_eq!(
            run(Ended::Passed, &[miss], None, None),
            failed(&passed_with_miss)
        );
        // An xfail hides no miss, matching or not.
        let hidden = format!(
            "answered 400\n\n(the test is marked xfail, \"bug 1\"; a replay miss or an upstream failure is never the expected failure)\n\n{miss}"
        );
        assert_eq!(
            run(
                own("answered 400", Some(400)),
                &[miss],
                None,
                Some(XFAIL_400)
            ),
            failed(&hidden)
        );
        assert!(matches!(
            run(Ended::Passed, &[miss], None, Some(XFAIL_400)),
            Outcome::Failed { .. }
        ));
        assert_eq!(
            run(own("answered 404", Some(404)), &[miss], None, None),
            failed(&format!("answered 404\n\n{miss}"))
        );
        assert_eq!(
            run(Ended::Skipped("no judge".into()), &[miss], None, None),
            failed(&format!(
                "the test skipped itself (no judge), but its requests failed:\n\n{miss}"
            ))
        );
    }

    #[test]
    fn a_timeout_fails_even_under_xfail() {
        let text = "the test did not finish within 5 s and was stopped (raise it with --test-timeout or `timeout = SECS` on the test)";
        assert_eq!(
            run(Ended::TimedOut(Duration::from_secs(5)), &[], None, None),
            failed(text)
        );
        assert_eq!(
            run(
                Ended::TimedOut(Duration::from_secs(5)),
                &[],
                None,
                Some(XFAIL_TEXT)
            ),
            failed(text)
        );
        assert_eq!(
            run(
                Ended::TimedOut(Duration::from_secs(5)),
                &["miss"],
                None,
                None
            ),
            failed(&format!("{text}\n\nmiss"))
        );
    }

    #[test]
    fn a_dead_or_unreachable_stack_fails_even_under_xfail_and_is_named() {
        let death = "the Llama Stack server died (signal: 9 (SIGKILL)); the last lines of `stack.log`:\nINFO ...";
        for xfail in [None, Some(XFAIL_400), Some(XFAIL_TEXT)] {
            assert_eq!(run(Ended::Passed, &[], Some(death), xfail), failed(death));
            assert_eq!(
                run(own("connection refused", None), &[], Some(death), xfail),
                failed(&format!(
                    "{death}\n\nthe test's own failure:\nconnection refused"
                ))
            );
            let unreachable = Ended::Failed(Failure {
                text: "the Llama Stack server at http://127.0.0.1:1 could not be reached: refused"
                    .into(),
                status: None,
                cause: Cause::Stack,
            });
            assert_eq!(
                run(unreachable, &[], None, xfail),
                failed(
                    "the Llama Stack server at http://127.0.0.1:1 could not be reached: refused"
                )
            );
        }
        // The own failure is not repeated when it already names the death.
        assert_eq!(
            run(
                own(&format!("{death}\n\nCaused by: refused"), None),
                &[],
                Some(death),
                None
            ),
            failed(death)
        );
        assert_eq!(
            run(Ended::Passed, &["miss"], Some(death), None),
            failed(&format!("{death}\n\nmiss"))
        );
    }

    #[test]
    fn a_skip_is_ignored_with_its_reason() {
        for xfail in [None, Some(XFAIL_400)] {
            assert_eq!(
                run(
                    Ended::Skipped("no vision model here".into()),
                    &[],
                    None,
                    xfail
                ),
                Outcome::Ignored {
                    reason: Some("no vision model here".into())
                }
            );
        }
    }
}

#[cfg(test)]
mod stacks_tests {
    use super::*;
    use crate::stack::identity::{Bound, Op, StackReq};
    use crate::stack::launcher::LauncherKind;

    const HEADER: &str = "thread 't' panicked at tests/t.rs:3:1:";
    /// `llama-stack<0.8`: a bug fixed in 0.8 (and never in OGX).
    const OLD_LLAMA: Stacks = Stacks(&[StackReq {
        launcher: LauncherKind::LlamaStack,
        bounds: &[Bound {
            op: Op::Lt,
            version: &[0, 8],
        }],
    }]);
    const BUG_400: Expectation<'static> = Expectation {
        reason: "400, not 404",
        status: Some(400),
        contains: None,
        stacks: Some(OLD_LLAMA),
    };

    fn on(launcher: LauncherKind, version: Option<&str>) -> Stack {
        Stack::new(launcher, version)
    }

    fn outcome(ended: Ended, stack: Option<&Stack>) -> Outcome {
        let observed = Observed {
            ended,
            traffic: Vec::new(),
            stack_died: None,
        };
        decide(observed, Some(BUG_400), stack, HEADER)
    }

    fn answer_400() -> Ended {
        Ended::Failed(Failure {
            text: "GET /v1/x answered 400 instead of 404".into(),
            status: Some(400),
            cause: Cause::Test,
        })
    }

    fn failed(body: &str) -> Outcome {
        Outcome::Failed {
            message: format!("{HEADER}\n{body}"),
        }
    }

    #[test]
    fn an_xfail_of_some_stacks_is_expected_there_and_absent_elsewhere() {
        let old = on(LauncherKind::LlamaStack, Some("0.7.3"));
        let new = on(LauncherKind::LlamaStack, Some("0.8.0"));
        let ogx = on(LauncherKind::Ogx, Some("1.5.0"));
        let not_for = |st: &Stack| {
            format!("(the test's xfail is for `llama-stack<0.8`, not {st}: \"400, not 404\")")
        };
        let table: Vec<(Ended, &Stack, Outcome)> = vec![
            // The old version still has the bug...
            (
                answer_400(),
                &old,
                Outcome::Ignored {
                    reason: Some("xfail: 400, not 404".into()),
                },
            ),
            (
                Ended::Passed,
                &old,
                failed(
                    "the test is marked xfail (\"400, not 404\") but passed: the stack may have been fixed; remove the mark",
                ),
            ),
            // ...the fixed ones pass unmarked,
            (Ended::Passed, &new, Outcome::Passed),
            (Ended::Passed, &ogx, Outcome::Passed),
            // and a failure there is the test's own, saying whose mark it is.
            (
                answer_400(),
                &new,
                failed(&format!(
                    "GET /v1/x answered 400 instead of 404\n\n{}",
                    not_for(&new)
                )),
            ),
            (
                answer_400(),
                &ogx,
                failed(&format!(
                    "GET /v1/x answered 400 instead of 404\n\n{}",
                    not_for(&ogx)
                )),
            ),
            // A skip is a skip on any stack.
            (
                Ended::Skipped("no judge".into()),
                &ogx,
                Outcome::Ignored {
                    reason: Some("no judge".into()),
                },
            ),
        ];
        for (ended, stack, expected) in table {
            assert_eq!(
                outcome(ended.clone(), Some(stack)),
                expected,
                "{ended:?} on {stack}"
            );
        }
    }

    #[test]
    fn each_stack_gets_its_own_xfail() {
        const LLAMA: Stacks = Stacks(&[StackReq {
            launcher: LauncherKind::LlamaStack,
            bounds: &[],
        }]);
        const OGX: Stacks = Stacks(&[StackReq {
            launcher: LauncherKind::Ogx,
            bounds: &[],
        }]);
        let mark = |reason, stacks| Xfail {
            reason,
            status: Some(500),
            contains: None,
            stacks: Some(stacks),
        };
        let marks = [mark("0.7.3's bug", LLAMA), mark("OGX's bug", OGX)];
        let llama = on(LauncherKind::LlamaStack, Some("0.7.3"));
        let ogx = on(LauncherKind::Ogx, Some("1.5.0"));
        let reason = |st| pick(&marks, Some(st)).map(|x| x.reason);
        assert_eq!(reason(&llama), Some("0.7.3's bug"));
        assert_eq!(reason(&ogx), Some("OGX's bug"));
        assert_eq!(
            pick(&marks[..1], Some(&ogx)).map(|x| x.reason),
            Some("0.7.3's bug")
        );
        assert_eq!(pick(&[], Some(&ogx)), None);
    }

    #[test]
    fn an_xfail_bounding_versions_cannot_be_judged_without_one() {
        let unknown = on(LauncherKind::LlamaStack, None);
        let expected = failed(
            "the test is marked xfail for `llama-stack<0.8`, but this llama-stack did not report its version, so whether the mark applies cannot be told",
        );
        assert_eq!(outcome(Ended::Passed, Some(&unknown)), expected);
        assert_eq!(outcome(answer_400(), Some(&unknown)), expected);
        // Another launcher's unknown version is still not `llama-stack<0.8`.
        assert_eq!(
            outcome(Ended::Passed, Some(&on(LauncherKind::Ogx, None))),
            Outcome::Passed
        );
    }

    #[test]
    fn only_keeps_a_test_to_its_stacks_with_the_reason() {
        let only = Only {
            stacks: OLD_LLAMA,
            reason: "OGX 1.5 moved it",
        };
        let old = on(LauncherKind::LlamaStack, Some("0.7.3"));
        assert_eq!(not_here(Some(&only), Some(&old), HEADER), None);
        assert_eq!(not_here(None, Some(&old), HEADER), None);
        assert_eq!(
            not_here(
                Some(&only),
                Some(&on(LauncherKind::Ogx, Some("1.5.0"))),
                HEADER
            ),
            Some(Outcome::Ignored {
                reason: Some("only for llama-stack<0.8, not ogx 1.5.0: OGX 1.5 moved it".into())
            })
        );
        assert_eq!(
            not_here(
                Some(&only),
                Some(&on(LauncherKind::LlamaStack, Some("0.8.1"))),
                HEADER
            ),
            Some(Outcome::Ignored {
                reason: Some(
                    "only for llama-stack<0.8, not llama-stack 0.8.1: OGX 1.5 moved it".into()
                )
            })
        );
        assert_eq!(
            not_here(
                Some(&only),
                Some(&on(LauncherKind::LlamaStack, None)),
                HEADER
            ),
            Some(failed(
                "the test applies only to `llama-stack<0.8`, but this llama-stack did not report its version, so whether it is one of them cannot be told"
            ))
        );
        // No session, no stack: the test runs and fails for that reason.
        assert_eq!(not_here(Some(&only), None, HEADER), None);
    }
}
