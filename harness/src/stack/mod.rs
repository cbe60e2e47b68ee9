//! The system under test: which stack to use (`--stack-config`), its run.yaml,
//! and provisioning, starting, reusing and stopping the real Llama Stack
//! server.
