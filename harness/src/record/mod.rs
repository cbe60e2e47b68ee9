//! Record/replay of the stack's traffic to its model providers: modes,
//! request keys, normalisation, the recordings store and the loopback proxy.
#![cfg_attr(not(test), allow(dead_code))] // wired in by the runner; remove when used

mod error;
mod jsonpath;
mod key;
mod miss;
mod mode;
mod normalize;
mod redact;
mod rules;
mod sse;
mod store;
mod usage;

pub(crate) use error::RecordError;
pub(crate) use mode::InferenceMode;
pub(crate) use normalize::normalize;
pub(crate) use rules::Rules;
