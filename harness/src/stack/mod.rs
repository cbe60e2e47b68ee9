//! The system under test: which stack to use (`--stack-config`), its run.yaml,
//! and provisioning, starting, reusing and stopping the real Llama Stack
//! server.
// The `--stack-config` grammar and the run.yaml model (see each file).
pub(crate) mod config;
// External APIs and providers: what a run.yaml's need installed and placed.
pub(crate) mod external;
pub(crate) mod run_yaml;
// Provisioning, launching and running the stack server (see each file).
pub(crate) mod launcher;
pub(crate) mod provision;
pub(crate) mod server;
// A run's stack options, checked before anything starts.
pub(crate) mod target;
// Which stack and version a session runs, and which declarations apply to it.
pub(crate) mod identity;
