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

use super::key::FILE_HASH_LEN;
use super::normalize::{Ordinals, apply};
use super::recording::{StoredBody, StoredResponse};
use super::rules::Rules;
use super::sse::{self, Splitter, SseEvent};

/// What `{key}` stands for in a response rule of the exchange keyed `hash`.
pub(crate) fn key_token_value(hash: &str) -> &str {
    &hash[..FILE_HASH_LEN.min(hash.len())]
}

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

    /// A whole stored response: its JSON body or each of its events, keep-
    /// alive comments dropped (see [`StreamRecorder`]).
    pub(crate) fn stored(&mut self, response: &mut StoredResponse) {
        if let Some(body) = &mut response.body.body {
            self.json(body);
        }
        if let Some(events) = &mut response.events {
            *events = std::mem::take(events)
                .into_iter()
                .filter(|e| !e.is_comment())
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
/// event is redacted and normalised, then both forwarded and kept. A
/// comment-only event is forwarded but not kept: a keep-alive such as the
/// `: ping - <time>` llama-cpp-python's server sends every 15 s of a slow
/// answer carries no data, and whether one comes depends on how busy the
/// machine is, so storing it would make re-recording differ.
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
            if event.is_comment() {
                frames.push(Bytes::from(redacted));
                continue;
            }
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::json;

    use super::*;
    use crate::record::store::redact::Redactor;

    const HASH: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn normalizer(yaml: &str) -> ResponseNormalizer {
        let rules = Rules::parse(yaml, Path::new("normalize.yaml"), &|_| None).unwrap();
        ResponseNormalizer::new(Arc::new(rules), HASH)
    }

    fn shipped() -> ResponseNormalizer {
        let mut rules = Rules::parse(
            include_str!("../../../../recordings/normalize.yaml"),
            Path::new("recordings/normalize.yaml"),
            &|_| None,
        )
        .unwrap();
        rules.redactor = Redactor::new(vec!["sk-test-secret-1".into()]);
        ResponseNormalizer::new(Arc::new(rules), HASH)
    }

    fn data(s: &str) -> SseEvent {
        SseEvent::Data(s.to_owned())
    }

    #[test]
    fn the_key_token_is_the_recording_file_name() {
        assert_eq!(key_token_value("0123456789abcdef0123"), "0123456789abcdef");
    }

    #[test]
    fn the_shipped_rules_pin_what_a_model_server_randomises() {
        let mut body = json!({
            "id": "chatcmpl-263fafbb-d8c3-4928-925b-87053ab12e1d",
            "object": "chat.completion",
            "created": 1795676983,
            "model": "smollm2-135m",
            "system_fingerprint": "b4600-a1b2c3d",
            "choices": [{"index": 0, "message": {"role": "assistant", "tool_calls": [
                {"id": "call__0_get_weather_cmpl-263fafbb-d8c3-4928-925b-87053ab12e1d", "type": "function"},
                {"id": "Xy9zQ", "type": "function"}
            ]}}],
            "usage": {"prompt_tokens": 37, "completion_tokens": 3, "total_tokens": 40,
                      "prompt_tokens_details": {"cached_tokens": 12}},
            "timings": {"prompt_ms": 12.5, "predicted_per_second": 70.1}
        });
        shipped().json(&mut body);
        assert_eq!(
            body,
            json!({
                "id": "chatcmpl-0123456789abcdef",
                "object": "chat.completion",
                "created": 1700000000,
                "model": "smollm2-135m",
                "system_fingerprint": "fp_recorded",
                "choices": [{"index": 0, "message": {"role": "assistant", "tool_calls": [
                    {"id": "call_0123456789abcdef_1", "type": "function"},
                    {"id": "call_0123456789abcdef_2", "type": "function"}
                ]}}],
                "usage": {"prompt_tokens": 37, "completion_tokens": 3, "total_tokens": 40,
                          "prompt_tokens_details": null},
                "timings": null
            })
        );
        // Completions keep their prefix; models and embeddings are left alone.
        let mut completion = json!({"id": "cmpl-38e1b929-10fc-4291-87b7-c1dd1a10902e"});
        shipped().json(&mut completion);
        assert_eq!(completion, json!({"id": "cmpl-0123456789abcdef"}));
        let models = json!({"object": "list", "data": [{"id": "smollm2-135m", "object": "model", "created": 1795676000}]});
        let mut listed = models.clone();
        shipped().json(&mut listed);
        assert_eq!(listed["data"][0]["id"], json!("smollm2-135m"));
        assert_eq!(listed["data"][0]["created"], json!(1700000000));
        let embedding = json!({"object": "list", "data": [{"object": "embedding", "embedding": [0.5, -0.25], "index": 0}],
                               "model": "m", "usage": {"prompt_tokens": 3, "total_tokens": 3}});
        let mut same = embedding.clone();
        shipped().json(&mut same);
        assert_eq!(same, embedding);
    }

    #[test]
    fn the_stacks_random_ids_quoted_back_by_the_upstream_are_pinned() {
        // llama-cpp-python refusing the file_search turn quotes the tool
        // message: random file ids, a chunk id derived from them, and a
        // token count that moves with their digits.
        let quoted = |file: &str, chunk: &str, count: u32| {
            format!(
                "1 validation error: {{'text': \"[1] document_id: {file}, score: 0.000951472023156822, attributes: {{'file_id': '{file}', 'chunk_id': '{chunk}', 'token_count': 11.0, 'metadata_token_count': {count}.0}} cite as <|{file}|>\"}}"
            )
        };
        let first = quoted(
            "file-c43a10e03da44f92827f05eef04cbefe",
            "f48ca133-a197-8543-abf6-7e7377b58297",
            32,
        );
        let second = quoted(
            "file-3233e010f4784310aa2f81e5c009a776",
            "0b9a5d3c-1111-4222-8333-444455556666",
            33,
        );
        let normalised = |message: String| {
            let mut body = json!({"error": {"message": message, "type": "internal_server_error"}});
            shipped().json(&mut body);
            body
        };
        let pinned = normalised(first);
        assert_eq!(pinned, normalised(second));
        assert_eq!(
            pinned["error"]["message"],
            json!(
                "1 validation error: {'text': \"[1] document_id: file-1, score: 0.0009, attributes: {'file_id': 'file-1', 'chunk_id': 'uuid-1', 'token_count': 11.0, 'metadata_token_count': N} cite as <|file-1|>\"}"
            )
        );
        // Normalising twice changes nothing (what `recordings verify` checks).
        let mut again = pinned.clone();
        shipped().json(&mut again);
        assert_eq!(again, pinned);
    }

    #[test]
    fn numbering_runs_across_the_events_of_one_stream() {
        let mut n = shipped();
        let chunk = |id: &str, index: usize| {
            format!(
                r#"{{"id":"chatcmpl-r","choices":[{{"index":0,"delta":{{"tool_calls":[{{"index":{index},"id":"{id}"}}]}}}}]}}"#
            )
        };
        let out: Vec<SseEvent> = [chunk("A1", 0), chunk("B2", 1), chunk("A1", 0)]
            .iter()
            .map(|c| n.event(data(c)))
            .collect();
        let expected = |id: &str, index: usize| {
            data(&format!(
                r#"{{"id":"chatcmpl-0123456789abcdef","choices":[{{"index":0,"delta":{{"tool_calls":[{{"index":{index},"id":"{id}"}}]}}}}]}}"#
            ))
        };
        assert_eq!(
            out,
            vec![
                expected("call_0123456789abcdef_1", 0),
                expected("call_0123456789abcdef_2", 1),
                expected("call_0123456789abcdef_1", 0),
            ]
        );
    }

    #[test]
    fn events_keep_their_framing_and_untouched_payloads_keep_their_bytes() {
        let mut n = normalizer("response_rules: [{path: '$.id', replace: 'x-{key}'}]");
        let table = [
            (data("[DONE]"), data("[DONE]")),
            (data("not json"), data("not json")),
            // Python's `json.dumps` spacing survives when nothing changes.
            (
                data(r#"{"a": 1, "b": [1, 2]}"#),
                data(r#"{"a": 1, "b": [1, 2]}"#),
            ),
            (
                data(r#"{"id": "r1", "a": 1}"#),
                data(r#"{"id":"x-0123456789abcdef","a":1}"#),
            ),
            (
                SseEvent::Raw {
                    raw: "event: chunk\r\ndata: {\"id\": 7}\r\nid: 3\r\n\r\n".into(),
                },
                SseEvent::Raw {
                    raw: "event: chunk\r\ndata: {\"id\":\"x-0123456789abcdef\"}\r\nid: 3\r\n\r\n"
                        .into(),
                },
            ),
            (
                SseEvent::Raw {
                    raw: ": keep-alive\n\n".into(),
                },
                SseEvent::Raw {
                    raw: ": keep-alive\n\n".into(),
                },
            ),
            (
                SseEvent::Raw {
                    raw: "data:{\"id\":1}\n\n".into(),
                },
                SseEvent::Raw {
                    raw: "data:{\"id\":\"x-0123456789abcdef\"}\n\n".into(),
                },
            ),
        ];
        for (input, expected) in table {
            assert_eq!(n.event(input.clone()), expected, "{input:?}");
        }
    }

    #[test]
    fn a_recorded_stream_is_redacted_then_normalised_event_by_event() {
        let wire = "data: {\"id\":\"chatcmpl-9\",\"k\":\"sk-test-secret-1\"}\n\ndata: {\"id\":\"chatcmpl-9\"}\n\ndata: [DONE]\n\n";
        let mut recorder = StreamRecorder::new(shipped());
        let mut frames = Vec::new();
        for chunk in wire.as_bytes().chunks(5) {
            frames.extend(recorder.push(chunk));
        }
        let (rest, stored) = recorder.finish(200, Some("text/event-stream".into()));
        frames.extend(rest);
        let frames: Vec<String> = frames
            .iter()
            .map(|f| String::from_utf8(f.to_vec()).unwrap())
            .collect();
        assert_eq!(
            frames,
            vec![
                "data: {\"id\":\"chatcmpl-0123456789abcdef\",\"k\":\"<redacted>\"}\n\n",
                "data: {\"id\":\"chatcmpl-0123456789abcdef\"}\n\n",
                "data: [DONE]\n\n",
            ]
        );
        // What is stored re-emits exactly what was forwarded.
        let events = stored.events.unwrap();
        assert_eq!(sse::emit(&events), frames.concat());
    }

    #[test]
    fn keep_alive_comments_are_forwarded_but_not_stored() {
        let wire = "data: {\"id\":\"chatcmpl-9\"}\n\n: ping - 2026-12-04 06:44:59.482286+00:00\n\ndata: [DONE]\n\n";
        let mut recorder = StreamRecorder::new(shipped());
        let mut frames = recorder.push(wire.as_bytes());
        let (rest, stored) = recorder.finish(200, Some("text/event-stream".into()));
        frames.extend(rest);
        assert_eq!(
            frames.concat(),
            b"data: {\"id\":\"chatcmpl-0123456789abcdef\"}\n\n: ping - 2026-12-04 06:44:59.482286+00:00\n\ndata: [DONE]\n\n".to_vec()
        );
        let stored_events = vec![
            data(r#"{"id":"chatcmpl-0123456789abcdef"}"#),
            data("[DONE]"),
        ];
        assert_eq!(stored.events.as_ref(), Some(&stored_events));
        // A stored ping is what `recordings verify` flags as not normalised.
        let mut with_ping = stored.clone();
        with_ping.events.as_mut().unwrap().insert(
            1,
            SseEvent::Raw {
                raw: ": ping\n\n".into(),
            },
        );
        shipped().stored(&mut with_ping);
        assert_eq!(with_ping, stored);
    }

    #[test]
    fn a_stream_that_is_not_text_passes_through_and_is_stored_as_bytes() {
        let mut recorder = StreamRecorder::new(shipped());
        let mut frames = recorder.push(b"data: {\"id\":\"chatcmpl-9\"}\n\ndata: \xff\n\ndata: x");
        frames.extend(recorder.push(b"yz\n\n"));
        let (rest, stored) = recorder.finish(200, Some("text/event-stream".into()));
        frames.extend(rest);
        assert_eq!(
            frames.concat(),
            b"data: {\"id\":\"chatcmpl-0123456789abcdef\"}\n\ndata: \xff\n\ndata: xyz\n\n".to_vec()
        );
        assert_eq!(stored.events, None);
        assert!(stored.body.body_base64.is_some());
    }

    #[test]
    fn a_json_body_is_redacted_and_normalised_before_it_is_stored() {
        let stored = recorded_response(
            200,
            Some("application/json".into()),
            br#"{"id":"chatcmpl-1","created":5,"echo":"sk-test-secret-1"}"#,
            &mut shipped(),
        );
        assert_eq!(
            stored.body.body,
            Some(
                json!({"id": "chatcmpl-0123456789abcdef", "created": 1700000000, "echo": "<redacted>"})
            )
        );
    }
}
