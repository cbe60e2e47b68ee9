//! The record/replay proxy: an HTTP/1.1 server on 127.0.0.1 that the
//! stack's provider base URLs point at, and the control API the test
//! processes steer it with.
//!
//! ```text
//!  stack ──HTTP──▶ /p/<provider>/<rest>  ──┬─ replay: recordings/<provider>/<key16>.json
//!                                           ├─ record: ──reqwest──▶ <upstream origin>/<rest>  (+ store)
//!                                           └─ live:   ──reqwest──▶ <upstream origin>/<rest>
//!  tests ──HTTP──▶ /__harness/...          (mode, recordings dir, test start/end, misses, run end)
//! ```
//!
//! - `server` — binding, connections, routing (`Proxy`, `start`);
//! - `shared` — what every connection shares (`Shared`, `RunConfig`);
//! - `ledger` — running tests, the misses and unreachable upstreams they
//!   met, and the recordings they used;
//! - `request` — a provider request as read, redacted and keyed;
//! - `exchange` — one provider request, by mode; `forward` — to the real
//!   upstream, storing the exchange as it passes; `answer` — the proxy's
//!   responses;
//! - `miss` — a request with no recording, `unreachable` — an upstream
//!   that gave no answer, and their failure texts; `failures` — both, for
//!   one test (`TestFailures`, rendered with a `FailureContext`);
//! - `api` — the control API's wire format; `control` — its endpoints;
//!   `client` — the test processes' side (`ProxyControl`).

mod answer;
mod api;
mod client;
mod control;
mod exchange;
mod failures;
mod forward;
mod ledger;
mod miss;
mod request;
mod server;
mod shared;
mod unreachable;

#[cfg(test)]
mod tests;

pub(crate) use client::ProxyControl;
pub(crate) use failures::FailureContext;
pub(crate) use server::{Proxy, ProxyOptions, Upstream, start};
