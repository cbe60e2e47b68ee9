//! Response normalisation at record time: `response_rules` applied to a
//! JSON body, or to each JSON `data:` event of a stream as it passes, so
//! that re-recording an unchanged test rewrites identical bytes even though
//! the model server mints a fresh `id` and `created` for every answer.
//!
//! The stack is served exactly what is stored (redacted, then normalised),
//! so a record run and a later replay run hand the tests the same data.
//! Redaction comes first: a rule that rewrote part of a secret would stop
//! the redactor from recognising the rest of it.

use std::sync::Arc;

use bytes::Bytes;
use serde_json::Value;

use super::normalize::{Ordinals, apply};
use super::rules::{Rules, key_token_value};
use super::sse::{self, Splitter, SseEvent};
use super::store::{StoredBody, StoredResponse};

/// The stream terminator OpenAI-compatible servers send; never rewritten.
const DONE: &str = "[DONE]";

/// Applies `response_rules` to the parts of one exchange's response.
///
/// `{n}` numbering runs across the whole exchange, not per event: a tool
/// call id that appears in the 3rd and the 9th event of a stream gets one
/// number, and two different tool calls get two.
#[derive(Debug)]
pub(crate) struct ResponseNormalizer {
    rules: Arc<Rules>,
    key: String,
    /// One numbering per rule, as for a request body.
    ordinals: Vec<Ordinals>,
}

impl ResponseNormalizer {
    /// For the exchange whose full request key is `hash`.
    pub(crate) fn new(rules: Arc<Rules>, hash: &str) -> ResponseNormalizer {
        let ordinals = vec![Ordinals::default(); rules.response_rules.len()];
        ResponseNormalizer {
            key: key_token_value(hash).to_owned(),
            rules,
            ordinals,
        }
    }

    /// Rewrites a JSON value in place.
    pub(crate) fn json(&mut self, value: &mut Value) {
        for (rule, ordinals) in self.rules.response_rules.iter().zip(&mut self.ordinals) {
            apply(rule, value, ordinals, Some(&self.key));
        }
    }

    /// One stream event: a JSON `data:` payload is rewritten (compact JSON
    /// when a rule changed it, the original text otherwise); `[DONE]`,
    /// comments and other fields keep their bytes. Framing is kept.
    pub(crate) fn event(&mut self, event: SseEvent) -> SseEvent {
        match event {
            SseEvent::Data(payload) => SseEvent::Data(self.payload(payload)),
            SseEvent::Raw { raw } => SseEvent::Raw {
                raw: self.raw_event(&raw),
            },
        }
    }

    fn payload(&mut self, payload: String) -> String {
        if payload.trim() == DONE || self.rules.response_rules.is_empty() {
            return payload;
        }
        let Ok(original) = serde_json::from_str::<Value>(&payload) else {
            return payload;
        };
        let mut value = original.clone();
        self.json(&mut value);
        if value == original {
            payload
        } else {
            value.to_string()
        }
    }

    /// An event stored verbatim (`event:` fields, CRLF framing): each of
    /// its `data:` lines is rewritten on its own, line ends kept.
    fn raw_event(&mut self, raw: &str) -> String {
        raw.split_inclusive('\n')
            .map(|line| {
                let body = line.trim_end_matches(['\r', '\n']);
                let end = &line[body.len()..];
                let Some(payload) = body.strip_prefix("data:") else {
                    return line.to_owned();
                };
                let (space, payload) = match payload.strip_prefix(' ') {
                    Some(rest) => (" ", rest),
                    None => ("", payload),
                };
                format!("data:{space}{}{end}", self.payload(payload.to_owned()))
            })
            .collect()
    }

    /// A whole stored response: its JSON body or each of its events.
    pub(crate) fn stored(&mut self, response: &mut StoredResponse) {
        if let Some(body) = &mut response.body.body {
            self.json(body);
        }
        if let Some(events) = &mut response.events {
            *events = std::mem::take(events)
                .into_iter()
                .map(|e| self.event(e))
                .collect();
        }
    }
}

/// A response as it will be stored and served: redacted, then normalised.
pub(crate) fn recorded_response(
    status: u16,
    content_type: Option<String>,
    bytes: &[u8],
    normalizer: &mut ResponseNormalizer,
) -> StoredResponse {
    let mut response =
        StoredResponse::from_upstream(status, content_type, bytes, &normalizer.rules.redactor);
    normalizer.stored(&mut response);
    response
}

/// Records a streamed response event by event as it passes: each complete
/// event is redacted and normalised, then both forwarded and kept.
#[derive(Debug)]
pub(crate) struct StreamRecorder {
    normalizer: ResponseNormalizer,
    splitter: Splitter,
    events: Vec<SseEvent>,
    /// Everything as received, for a stream that turns out not to be text.
    received: Vec<u8>,
    /// Set once a block is not UTF-8: the rest passes through as is.
    not_text: bool,
}

impl StreamRecorder {
    pub(crate) fn new(normalizer: ResponseNormalizer) -> StreamRecorder {
        StreamRecorder {
            normalizer,
            splitter: Splitter::default(),
            events: Vec::new(),
            received: Vec::new(),
            not_text: false,
        }
    }

    /// Takes a chunk from the upstream; returns the frames to send on,
    /// one per completed event.
    pub(crate) fn push(&mut self, chunk: &[u8]) -> Vec<Bytes> {
        self.received.extend_from_slice(chunk);
        if self.not_text {
            return vec![Bytes::copy_from_slice(chunk)];
        }
        let blocks = self.splitter.push(chunk);
        self.events_of(blocks)
    }

    /// The stream ended: the frames still held back, and what to store.
    pub(crate) fn finish(
        mut self,
        status: u16,
        content_type: Option<String>,
    ) -> (Vec<Bytes>, StoredResponse) {
        let rest = std::mem::take(&mut self.splitter).finish();
        let frames = if self.not_text {
            Vec::new()
        } else {
            self.events_of(rest)
        };
        let stored = if self.not_text {
            // Not an event stream after all: stored like any other body
            // (base64), unnormalised; only the text before it was rewritten.
            StoredResponse::from_upstream(
                status,
                content_type,
                &self.received,
                &self.normalizer.rules.redactor,
            )
        } else {
            StoredResponse {
                body: StoredBody::default(),
                content_type,
                events: Some(self.events),
                status,
            }
        };
        (frames, stored)
    }

    fn events_of(&mut self, blocks: Vec<Vec<u8>>) -> Vec<Bytes> {
        let mut frames = Vec::new();
        let mut blocks = blocks.into_iter();
        for block in blocks.by_ref() {
            let redacted = self.normalizer.rules.redactor.redact_bytes(&block);
            let Some(event) = sse::classify_bytes(&redacted) else {
                self.not_text = true;
                frames.push(Bytes::from(block));
                break;
            };
            let event = self.normalizer.event(event);
            frames.push(Bytes::from(event.to_wire()));
            self.events.push(event);
        }
        // After a non-text block, the rest of this chunk goes on unchanged.
        frames.extend(blocks.map(Bytes::from));
        if self.not_text {
            frames.extend(
                std::mem::take(&mut self.splitter)
                    .finish()
                    .into_iter()
                    .map(Bytes::from),
            );
        }
        frames
    }
}
