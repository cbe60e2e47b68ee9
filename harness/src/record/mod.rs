//! Record/replay of the stack's traffic to its model providers, in three
//! parts whose imports run one way:
//!
//! ```text
//!        proxy ──┐
//!                ├──▶ store ──▶ mode, error
//!        tool  ──┘
//! ```
//!
//! - `store` — the recordings on disk and what decides their bytes: the
//!   `normalize.yaml` rules, request keys, the recording format, the
//!   directory, the usage manifest;
//! - `proxy` — the loopback HTTP server the stack's providers point at,
//!   one exchange through it, misses and unreachable upstreams, and the
//!   control API with its client;
//! - `tool` — the `recordings` command (list, show, verify, prune);
//! - `mode` — replay, record, record-if-missing, live; `error` —
//!   `RecordError`, every failure of the three parts.

#[doc(hidden)]
pub(crate) mod bench_api;
mod error;
mod mode;
mod proxy;
mod store;
mod tool;

// The runner, the stack fixture and the client use these.
pub(crate) use error::RecordError;
pub(crate) use mode::InferenceMode;
pub(crate) use proxy::{FailureContext, Proxy, ProxyControl, ProxyOptions, Upstream, start};
pub(crate) use store::{Rules, manifest_file};

// The `stack-harness` binary's `recordings` command (see crate::tool).
pub(crate) use tool::{RecordingsArgs, run as recordings_main};
