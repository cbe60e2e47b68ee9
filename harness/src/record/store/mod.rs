//! The recordings on disk and everything that decides their bytes: the
//! `normalize.yaml` rules, the request key, the recording format, the
//! directory that holds them, and the usage manifest `prune` reads.
//!
//! Nothing here knows about the proxy or the `recordings` tool; both build
//! on it.
//!
//! - `rules` — the `normalize.yaml` format, with `jsonpath` (what a rule
//!   selects) and `redact` (secrets never written);
//! - `normalize` — the pure function a request body goes through before
//!   hashing; `key` — the request key (`Body`, `RequestParts`);
//! - `sse` — event streams as a list of events, byte for byte;
//! - `recording` — one exchange as stored (`Recording`);
//! - `response` — `response_rules` applied to a response as it is recorded;
//! - `files` — the recordings directory (`Store`): paths, atomic writes,
//!   the `used_by` and `stacks` rule;
//! - `usage` — the manifest of what a complete run used (`UsageManifest`).

mod files;
mod jsonpath;
mod key;
mod normalize;
mod recording;
mod redact;
mod response;
mod rules;
mod sse;
mod usage;

pub(super) use files::{
    Store, edit_users, is_valid_provider, list_files, read_recording, recording_path,
};
pub(super) use jsonpath::child_path;
pub(super) use key::{
    Body, FILE_HASH_LEN, RequestParts, key_of_normalized, normalized_body, request_key,
    sorted_query,
};
pub(super) use recording::{
    Recording, StoredBody, StoredRequest, StoredResponse, is_event_stream, parse_recording,
};
pub(super) use redact::{REDACTED, Redactor, is_secret_header};
pub(super) use response::{ResponseNormalizer, StreamRecorder, recorded_response};
pub(super) use rules::RULES_FILE;
pub(crate) use rules::Rules;
#[cfg(test)]
pub(super) use sse::SseEvent;
pub(crate) use usage::{MANIFESTS_DIR, manifest_file};
pub(super) use usage::{STARTUP, UsageManifest};
