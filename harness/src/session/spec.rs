//! What a test process asks the supervisor to run (`spec.json`), and how
//! long a supervisor lives without users. Both sides of the session read
//! this file; neither reads the other.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::record::InferenceMode;
use crate::stack::launcher::LauncherKind;

/// The variable that turns the test binary into a supervisor; its value is
/// the path of the spec.
pub(crate) const SUPERVISOR_ENV: &str = "STACK_HARNESS_SUPERVISOR_SPEC";

/// How long a supervisor with no live lease waits before stopping: under
/// cargo-nextest, long enough for it to start the next test process; else
/// just long enough to ride out a moment with no lease (a test process that
/// died, a Ctrl-C during start-up).
pub(crate) const NEXTEST_GRACE: Duration = Duration::from_secs(10);
pub(crate) const GRACE: Duration = Duration::from_secs(2);
/// How long a `--keep-server` supervisor stays up with no lease.
pub(crate) const KEEP_IDLE: Duration = Duration::from_secs(30 * 60);

/// Everything the supervisor is asked to run, as typed values: the test
/// process resolved and checked them, the supervisor only acts on them.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub(crate) struct SupervisorSpec {
    pub session_dir: PathBuf,
    pub project_root: PathBuf,
    pub target_dir: PathBuf,
    /// The run.yaml the stack runs (a synthesised one is written into the
    /// session directory first).
    pub run_yaml: PathBuf,
    /// `--stack-config` as the user would type it, for `sessions` and messages.
    pub shown: String,
    pub port: u16,
    pub launcher: LauncherKind,
    /// The setup's and `--env`'s values for the stack.
    pub env: Vec<(String, String)>,
    pub health_timeout_secs: u64,
    /// How many stack servers to run, each with its own state.
    pub replicas: usize,
    pub mode: InferenceMode,
    pub record_dir: PathBuf,
    /// The harness's proxy records (else the stack's own recorder does).
    pub proxy_recorder: bool,
    /// Start the local SmolLM2 model server as the upstream.
    pub local_model: bool,
    pub config_hash: String,
    /// `--keep-server`: stay up for `KEEP_IDLE` with no lease.
    pub keep: bool,
    pub grace_secs: u64,
}

impl SupervisorSpec {
    /// How long the supervisor waits with no lease before stopping.
    pub(crate) fn idle_limit(&self) -> Duration {
        if self.keep {
            KEEP_IDLE
        } else {
            Duration::from_secs(self.grace_secs)
        }
    }
}
