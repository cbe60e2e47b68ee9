//! Every option of ours as data: its flag, its environment variable and
//! its key in the defaults file ([`OptionSpec`]), and where a resolved value
//! came from ([`Origin`]), which every error message names.

use std::fmt;

use crate::registry::Param;

/// One option of ours: its flag, variable and defaults-file key.
#[derive(Debug)]
pub(crate) struct OptionSpec {
    pub flag: &'static str,
    pub env: &'static str,
}

impl OptionSpec {
    /// The key in `stack-harness.toml`: the flag without its dashes.
    pub(crate) fn key(&self) -> &'static str {
        self.flag.trim_start_matches('-')
    }
}

macro_rules! options {
    ($($id:ident = $flag:literal, $env:literal, $help:literal;)*) => {
        // The help strings document the table here; the README carries them.
        pub(super) mod opt {
            use super::OptionSpec;
            $(pub(crate) const $id: OptionSpec = OptionSpec { flag: $flag, env: $env };)*
        }
        /// Every option of ours but the model parameters (see
        /// [`every_option`]), in README order.
        pub(crate) const OPTIONS: &[OptionSpec] = &[$(opt::$id),*];
    };
}

options! {
    STACK_CONFIG = "--stack-config", "LLAMA_STACK_CONFIG", "which stack (default `server:ci-tests`)";
    INFERENCE_MODE = "--inference-mode", "LLAMA_STACK_TEST_INFERENCE_MODE", "replay (default), record, record-if-missing, live";
    RECORD_DIR = "--record-dir", "LLAMA_STACK_TEST_RECORDING_DIR", "recordings directory (default `recordings/`)";
    RECORDER = "--recorder", "LLAMA_STACK_TEST_RECORDER", "proxy (default) or stack";
    SETUP = "--setup", "LLAMA_STACK_TEST_SETUP", "model and environment defaults: local, ollama, vllm, gpt";
    SUITE = "--suite", "LLAMA_STACK_TEST_SUITE", "collect one suite: base, responses, vision";
    KEYWORD = "-k", "LLAMA_STACK_TEST_K", "pytest-style keyword expression";
    ENV = "--env", "LLAMA_STACK_TEST_ENV", "KEY=VALUE for the stack (repeatable; the variable takes a comma-separated list)";
    TEST_TIMEOUT = "--test-timeout", "LLAMA_STACK_TEST_TIMEOUT", "per-test deadline in seconds (default 300)";
    JUNIT = "--junit", "LLAMA_STACK_TEST_JUNIT", "write a JUnit XML report to this path";
    KEEP_SERVER = "--keep-server", "LLAMA_STACK_TEST_KEEP_SERVER", "leave the stack running after the run (true/false)";
    LAUNCHER = "--launcher", "LLAMA_STACK_TEST_LAUNCHER", "llama-stack (default) or ogx";
    HEALTH_TIMEOUT = "--health-timeout", "LLAMA_STACK_TEST_HEALTH_TIMEOUT", "seconds to wait for the stack's health (default 180)";
    STACK_REPLICAS = "--stack-replicas", "LLAMA_STACK_TEST_STACK_REPLICAS", "stack servers the tests are spread over (default 1)";
}

/// Every option of ours: [`OPTIONS`] and one per model parameter.
pub(crate) fn every_option() -> impl Iterator<Item = OptionSpec> {
    OPTIONS
        .iter()
        .map(|o| OptionSpec {
            flag: o.flag,
            env: o.env,
        })
        .chain(Param::all().map(option))
}

/// A model parameter's option, from the one table of parameters.
pub(crate) fn option(param: Param) -> OptionSpec {
    OptionSpec {
        flag: param.flag(),
        env: param.spec().env,
    }
}

/// The project defaults file, at the repository root.
pub(crate) const DEFAULTS_FILE: &str = "stack-harness.toml";

/// Where a value came from, for error messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Origin {
    Flag(&'static str),
    Env(&'static str),
    File(&'static str),
    Setup(&'static str),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Flag(flag) => write!(f, "{flag}"),
            Origin::Env(var) => write!(f, "{var}"),
            Origin::File(key) => write!(f, "`{key}` in {DEFAULTS_FILE}"),
            Origin::Setup(name) => write!(f, "--setup={name}"),
        }
    }
}
