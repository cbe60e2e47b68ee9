//! The system under test: which stack to use (`--stack-config`), its run.yaml,
//! and provisioning, starting, reusing and stopping the real Llama Stack
//! server.
// Provisioning, launching and running the stack server (see each file).
pub(crate) mod launcher;
pub(crate) mod provision;
pub(crate) mod server;
