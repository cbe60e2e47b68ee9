//! Record/replay of the stack's traffic to its model providers: modes,
//! request keys, normalisation, the recordings store and the loopback proxy.
//!
//! One file per concept: `mode` (replay, record, ...), `rules` (the
//! `normalize.yaml` format) with `jsonpath`, `normalize` (the pure function
//! applied before hashing), `response` (the same rules on recorded
//! responses, so re-recording is byte-stable), `redact` (secrets never
//! written), `key` (the
//! request hash), `sse` (event streams), `store` (one JSON file per
//! exchange, atomic writes), `usage` (the manifest `prune` reads), `miss`
//! (the failure text), `proxy` + `exchange` (the HTTP server and one
//! request through it), `control` + `control_client` (the API the test
//! processes steer the proxy with), `tool` (the `recordings` CLI).
#![cfg_attr(not(test), allow(dead_code))] // wired in by the runner; remove when used

#[doc(hidden)]
pub(crate) mod bench_api;
mod control;
mod control_client;
mod error;
mod exchange;
mod jsonpath;
mod key;
mod miss;
mod mode;
mod normalize;
mod proxy;
mod prune;
mod redact;
mod response;
mod rules;
mod secrets;
mod sse;
mod store;
mod tool;
mod usage;
mod verify;

// The runner, the stack fixture and the client use these.
#[allow(unused_imports)]
pub(crate) use control::{ProxyState, RunUsage, STARTUP};
#[allow(unused_imports)]
pub(crate) use control_client::ProxyControl;
#[allow(unused_imports)]
pub(crate) use error::RecordError;
#[allow(unused_imports)]
pub(crate) use miss::{Miss, render as render_miss};
#[allow(unused_imports)]
pub(crate) use mode::InferenceMode;
#[allow(unused_imports)]
pub(crate) use proxy::{Proxy, ProxyOptions, Upstream, start};
#[allow(unused_imports)]
pub(crate) use rules::{RULES_FILE, Rules};
#[allow(unused_imports)]
pub(crate) use usage::MANIFEST_PATH;

// The `stack-harness` binary calls this through lib.rs
// (`#[doc(hidden)] pub use record::tool_main;`).
#[allow(unused_imports)]
pub use tool::tool_main;
