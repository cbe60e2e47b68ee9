//! Record/replay of the stack's traffic to its model providers: modes,
//! request keys, normalisation, the recordings store and the loopback proxy.
//!
//! One file per concept: `mode` (replay, record, ...), `rules` (the
//! `normalize.yaml` format) with `jsonpath`, `normalize` (the pure function
//! applied before hashing), `response` (the same rules on recorded
//! responses, so re-recording an unchanged test rewrites identical bytes),
//! `redact` (secrets never written), `key` (the request hash), `sse` (event
//! streams), `store` (one JSON file per exchange, atomic writes, the
//! `used_by` rule), `usage` (the manifest `prune` reads), `miss` (the
//! failure text), `proxy` + `exchange` (the HTTP server and one request
//! through it), `control` + `control_client` (the API the test processes
//! steer the proxy with), `tool` (the `recordings` CLI) with `verify`,
//! `secrets` and `prune`.

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
pub(crate) use control_client::ProxyControl;
pub(crate) use error::RecordError;
pub(crate) use miss::render as render_miss;
pub(crate) use mode::InferenceMode;
pub(crate) use proxy::{Proxy, ProxyOptions, Upstream, start};
pub(crate) use rules::Rules;
pub(crate) use usage::MANIFEST_PATH;

// The `stack-harness` binary's `recordings` command (see crate::tool).
pub(crate) use tool::{RecordingsArgs, run as recordings_main};
