//! An upstream the proxy could not reach (connection refused, DNS, a
//! timeout, an answer cut off) while forwarding a request: kept for the
//! tests that were running, like a miss, so that they fail with the URL and
//! what to start rather than with whatever the stack made of the error.

use std::path::Path;

use serde::{Deserialize, Serialize};
use url::Url;

use super::miss::also_running;
use crate::record::mode::InferenceMode;

/// A request the proxy forwarded and got no answer for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct UpstreamFailure {
    /// The tests active when it arrived (see the ledger's attribution rule).
    pub(crate) tests: Vec<String>,
    pub(crate) provider: String,
    /// The URL the request was sent to.
    pub(crate) url: String,
    pub(crate) method: String,
    /// The upstream path, as in a recording.
    pub(crate) path: String,
    /// The error and its causes, one line.
    pub(crate) error: String,
    /// The mode that forwarded it.
    pub(crate) mode: InferenceMode,
}

impl UpstreamFailure {
    /// The error of a request that got no answer, with its causes.
    pub(crate) fn describe(error: &reqwest::Error) -> String {
        let mut text = error.to_string();
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            text.push_str(&format!(": {cause}"));
            source = cause.source();
        }
        text
    }

    /// Whether it was sent under one of these base URLs.
    pub(crate) fn sent_to_any(&self, bases: &[String]) -> bool {
        bases.iter().any(|base| {
            let base = base.trim_end_matches('/');
            !base.is_empty()
                && self.url.strip_prefix(base).is_some_and(|rest| {
                    rest.is_empty() || rest.starts_with('/') || rest.starts_with('?')
                })
        })
    }

    /// The server to start: the URL's origin (`http://127.0.0.1:8000`).
    fn server(&self) -> String {
        Url::parse(&self.url)
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_else(|_| self.url.clone())
    }
}

/// Who runs the server that gave no answer, which decides what to start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Runner<'a> {
    /// The user.
    User,
    /// The user, although the run has `--setup=local`: `--env` pointed the
    /// provider at this server instead of the SmolLM2 the harness starts.
    UserOverLocal,
    /// The harness (`--setup=local`); the supervisor's log records the
    /// local model server's start and death.
    Harness { supervisor_log: Option<&'a Path> },
}

/// The failure text for `failure` seen by `test`.
pub(crate) fn render(failure: &UpstreamFailure, test: &str, runner: Runner<'_>) -> String {
    let mut out = format!(
        "the upstream of provider `{}` could not be reached: {} {} requested by test `{test}` was sent to {} and got no answer\n    {}\n",
        failure.provider, failure.method, failure.path, failure.url, failure.error
    );
    out.push_str(&also_running(&failure.tests, test));
    let server = failure.server();
    let how = if failure.mode.writes() {
        "record"
    } else {
        "run"
    };
    out.push_str(&match runner {
        Runner::User => format!(
            "start your model server at {server} (or {how} with --setup=local, which starts SmolLM2 on this machine)\n"
        ),
        Runner::UserOverLocal => format!(
            "start your model server at {server} (--env points the provider there instead of at the SmolLM2 that --setup=local starts)\n"
        ),
        Runner::Harness { supervisor_log } => format!(
            "the local model server that --setup=local starts for this run died or was not started; see {}\n",
            supervisor_log.map_or_else(
                || "supervisor.log in the session directory".to_owned(),
                |log| log.display().to_string()
            )
        ),
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(mode: InferenceMode, tests: &[&str]) -> UpstreamFailure {
        UpstreamFailure {
            tests: tests.iter().map(|t| t.to_string()).collect(),
            provider: "vllm".into(),
            url: "http://127.0.0.1:8000/v1/chat/completions".into(),
            method: "POST".into(),
            path: "/v1/chat/completions".into(),
            error: "error sending request: connection refused".into(),
            mode,
        }
    }

    #[test]
    fn without_the_local_model_it_says_which_server_to_start() {
        let text = render(
            &failure(InferenceMode::RecordIfMissing, &["chat::a", "chat::b"]),
            "chat::a",
            Runner::User,
        );
        assert_eq!(
            text,
            "the upstream of provider `vllm` could not be reached: POST /v1/chat/completions requested by test `chat::a` was sent to http://127.0.0.1:8000/v1/chat/completions and got no answer
    error sending request: connection refused
(it arrived while these tests were also running: chat::b)
start your model server at http://127.0.0.1:8000 (or record with --setup=local, which starts SmolLM2 on this machine)
"
        );
        let live = render(&failure(InferenceMode::Live, &["t"]), "t", Runner::User);
        assert!(
            live.ends_with("(or run with --setup=local, which starts SmolLM2 on this machine)\n"),
            "{live}"
        );
        let elsewhere = render(
            &failure(InferenceMode::Record, &["t"]),
            "t",
            Runner::UserOverLocal,
        );
        assert!(
            elsewhere.ends_with("start your model server at http://127.0.0.1:8000 (--env points the provider there instead of at the SmolLM2 that --setup=local starts)\n"),
            "{elsewhere}"
        );
    }

    #[test]
    fn a_failure_knows_the_base_urls_it_was_sent_under() {
        let f = failure(InferenceMode::Record, &["t"]);
        let sent = |bases: &[&str]| {
            f.sent_to_any(&bases.iter().map(|b| b.to_string()).collect::<Vec<_>>())
        };
        assert!(sent(&["http://127.0.0.1:8000/v1"]));
        assert!(sent(&["x", "http://127.0.0.1:8000/"]));
        assert!(!sent(&["http://127.0.0.1:80"]));
        assert!(!sent(&["", "/v1", "true"]));
    }

    #[test]
    fn with_the_local_model_it_points_at_the_supervisor_log() {
        let text = render(
            &failure(InferenceMode::Record, &["t"]),
            "t",
            Runner::Harness {
                supervisor_log: Some(Path::new("target/stack-harness/sessions/k/supervisor.log")),
            },
        );
        assert_eq!(
            text,
            "the upstream of provider `vllm` could not be reached: POST /v1/chat/completions requested by test `t` was sent to http://127.0.0.1:8000/v1/chat/completions and got no answer
    error sending request: connection refused
the local model server that --setup=local starts for this run died or was not started; see target/stack-harness/sessions/k/supervisor.log
"
        );
    }
}
