//! The wire format of the proxy's control API under `/__harness/`, shared
//! by the proxy (`control`) and the test processes' client (`client`).
//! [`TestFailures`] (`failures`) is `{"misses": [Miss], "unreachable":
//! [UpstreamFailure]}`.
//!
//! | method | path                         | body / query          | answer                 |
//! |--------|------------------------------|-----------------------|------------------------|
//! | GET    | `/__harness/health`          |                       | `{"ok": true}`         |
//! | GET    | `/__harness/state`           |                       | [`ProxyState`]         |
//! | POST   | `/__harness/config`          | [`ConfigRequest`]     | [`ProxyState`]         |
//! | POST   | `/__harness/test/start`      | `{"test": id}`        | `{}`                   |
//! | POST   | `/__harness/test/end`        | `{"test": id}`        | [`TestFailures`]       |
//! | GET    | `/__harness/misses?test=id`  |                       | [`TestFailures`]       |
//! | POST   | `/__harness/run/finish`      | `{"manifest": path}`  | [`RunUsage`]           |

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

#[cfg(doc)]
use super::failures::TestFailures;

use crate::record::mode::InferenceMode;

/// `POST /__harness/config`: this run's mode and recordings directory.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct ConfigRequest {
    pub(crate) mode: InferenceMode,
    /// Absolute; `normalize.yaml` in it is (re)loaded.
    pub(crate) dir: PathBuf,
    /// Forget usage and misses so far: the start of a new run.
    #[serde(default)]
    pub(crate) reset: bool,
    /// The stack the run is on, `ogx 1.5.0`: recording runs add it to the
    /// `stacks` of what they write or replay, and the usage manifest names it.
    #[serde(default)]
    pub(crate) stack: Option<String>,
}

/// What the proxy is doing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct ProxyState {
    pub(crate) mode: InferenceMode,
    pub(crate) dir: PathBuf,
    pub(crate) providers: Vec<String>,
    pub(crate) running_tests: Vec<String>,
    /// Recordings replayed or written since the last reset.
    pub(crate) used: usize,
    pub(crate) misses: usize,
}

/// `POST /__harness/run/finish`'s answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct RunUsage {
    pub(crate) manifest: PathBuf,
    pub(crate) recordings: usize,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct TestRequest {
    pub(crate) test: String,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct FinishRequest {
    pub(crate) manifest: PathBuf,
}
