//! What went wrong with a test's traffic, as the proxy saw it (the answer
//! to `test/end`), and the failure texts that tell the user how to fix it.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::miss::{self, Miss};
use super::unreachable::{self, Runner, UpstreamFailure};

/// The misses and unreachable upstreams attributed to one test.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct TestFailures {
    pub(crate) misses: Vec<Miss>,
    /// Absent from the answer of a proxy older than this field.
    #[serde(default)]
    pub(crate) unreachable: Vec<UpstreamFailure>,
}

/// What the failure texts need to know about the run they tell how to fix.
#[derive(Clone, Debug, Default)]
pub(crate) struct FailureContext {
    /// How the user runs the suite (`cargo test --test integration --
    /// --stack-config=…`); a miss adds the flags that record its test.
    pub(crate) command: String,
    /// The harness starts the model server itself (`--setup=local`), so an
    /// unreachable upstream means that server died or never started...
    pub(crate) local_model: bool,
    /// ...unless `--env` pointed the provider at one of these values (all
    /// the `--env` values: a URL the user gave is the user's server).
    pub(crate) given: Vec<String>,
    /// The supervisor's log, which records the local model server's start
    /// and death.
    pub(crate) supervisor_log: Option<PathBuf>,
}

impl TestFailures {
    /// One failure text per miss and per unreachable upstream; each fails
    /// `test`.
    pub(crate) fn render(&self, test: &str, context: &FailureContext) -> Vec<String> {
        let misses = self
            .misses
            .iter()
            .map(|m| miss::render(m, test, &context.command));
        let unreachable = self.unreachable.iter().map(|f| {
            let runner = match (context.local_model, f.sent_to_any(&context.given)) {
                (false, _) => Runner::User,
                (true, true) => Runner::UserOverLocal,
                (true, false) => Runner::Harness {
                    supervisor_log: context.supervisor_log.as_deref(),
                },
            };
            unreachable::render(f, test, runner)
        });
        misses.chain(unreachable).collect()
    }
}
