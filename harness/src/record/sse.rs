//! `text/event-stream` bodies as a list of events, and back, byte for byte.
//!
//! A recording stores a stream event by event so that a reviewer reads one
//! chunk per line and replay can send one body frame per event. The common
//! event, a single `data: <payload>` line closed by a blank line, is stored
//! as its payload string; anything else (`event:`/`id:` fields, comments,
//! CRLF framing, a trailing unterminated fragment) is stored as its raw text
//! so that re-emitting reproduces the original bytes exactly.

use serde::{Deserialize, Serialize};

/// One event of a stream.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub(crate) enum SseEvent {
    /// `data: <payload>\n\n`; the payload has no line break.
    Data(String),
    /// Any other framing, kept verbatim (terminator included).
    Raw { raw: String },
}

impl SseEvent {
    /// The event's exact bytes on the wire.
    pub(crate) fn to_wire(&self) -> String {
        match self {
            SseEvent::Data(payload) => format!("data: {payload}\n\n"),
            SseEvent::Raw { raw } => raw.clone(),
        }
    }
}

/// Splits a stream into events; `None` when it is not UTF-8 text.
pub(crate) fn parse(body: &[u8]) -> Option<Vec<SseEvent>> {
    let text = std::str::from_utf8(body).ok()?;
    let mut events = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let end = event_end(rest).unwrap_or(rest.len());
        let (block, after) = rest.split_at(end);
        events.push(classify(block));
        rest = after;
    }
    Some(events)
}

/// Joins events back into the stream's bytes.
pub(crate) fn emit(events: &[SseEvent]) -> String {
    events.iter().map(SseEvent::to_wire).collect()
}

/// The byte offset just past the blank line that ends the first event.
fn event_end(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut at_line_start = true;
    while i < bytes.len() {
        let newline = match bytes[i] {
            b'\r' if bytes.get(i + 1) == Some(&b'\n') => 2,
            b'\r' | b'\n' => 1,
            _ => 0,
        };
        if newline == 0 {
            at_line_start = false;
            i += 1;
            continue;
        }
        if at_line_start && i > 0 {
            return Some(i + newline);
        }
        at_line_start = true;
        i += newline;
    }
    None
}

fn classify(block: &str) -> SseEvent {
    if let Some(payload) = block
        .strip_prefix("data: ")
        .and_then(|b| b.strip_suffix("\n\n"))
        && !payload.contains(['\n', '\r'])
    {
        return SseEvent::Data(payload.to_owned());
    }
    SseEvent::Raw {
        raw: block.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(s: &str) -> SseEvent {
        SseEvent::Data(s.to_owned())
    }

    fn raw(s: &str) -> SseEvent {
        SseEvent::Raw { raw: s.to_owned() }
    }

    #[test]
    fn streams_split_into_events_and_re_emit_byte_for_byte() {
        let table: Vec<(&str, Vec<SseEvent>)> = vec![
            ("", vec![]),
            (
                "data: {\"a\":1}\n\ndata: {\"b\":2}\n\ndata: [DONE]\n\n",
                vec![data("{\"a\":1}"), data("{\"b\":2}"), data("[DONE]")],
            ),
            ("data: \n\n", vec![data("")]),
            ("data:x\n\n", vec![raw("data:x\n\n")]),
            (
                "event: ping\ndata: 1\n\ndata: 2\n\n",
                vec![raw("event: ping\ndata: 1\n\n"), data("2")],
            ),
            (
                "data: 1\r\n\r\ndata: 2\r\n\r\n",
                vec![raw("data: 1\r\n\r\n"), raw("data: 2\r\n\r\n")],
            ),
            (
                ": keep-alive\n\ndata: 1\n\n",
                vec![raw(": keep-alive\n\n"), data("1")],
            ),
            ("data: a\ndata: b\n\n", vec![raw("data: a\ndata: b\n\n")]),
            ("data: 1\n\ndata: cut", vec![data("1"), raw("data: cut")]),
            ("\n\ndata: 1\n\n", vec![raw("\n\n"), data("1")]),
        ];
        for (wire, events) in table {
            let parsed = parse(wire.as_bytes()).unwrap();
            assert_eq!(parsed, events, "{wire:?}");
            assert_eq!(emit(&parsed), wire, "{wire:?}");
        }
    }

    #[test]
    fn non_utf8_is_not_a_stream() {
        assert_eq!(parse(b"data: \xff\n\n"), None);
    }

    #[test]
    fn events_serialise_as_payload_strings_or_raw_objects() {
        let events = vec![data("{\"x\":1}"), raw("event: e\ndata: 1\n\n")];
        let json = serde_json::to_string(&events).unwrap();
        assert_eq!(json, r#"["{\"x\":1}",{"raw":"event: e\ndata: 1\n\n"}]"#);
        let back: Vec<SseEvent> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, events);
    }
}
