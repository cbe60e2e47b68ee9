//! `text/event-stream` bodies as a list of events, and back, byte for byte.
//!
//! A recording stores a stream event by event so that a reviewer reads one
//! chunk per line and replay can send one body frame per event. The common
//! event, a single `data: <payload>` line closed by a blank line, is stored
//! as its payload string; anything else (`event:`/`id:` fields, comments,
//! CRLF framing, a trailing unterminated fragment) is stored as its raw text
//! so that re-emitting reproduces the original bytes exactly. (Recording
//! leaves out comment-only events, keep-alives: see `response`.)

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
    /// Whether it is comment lines only (`: ping - <time>`), which carry no
    /// data: keep-alives a server sends while an answer is slow in coming.
    pub(crate) fn is_comment(&self) -> bool {
        match self {
            SseEvent::Data(_) => false,
            SseEvent::Raw { raw } => {
                let mut lines = raw.lines().filter(|l| !l.trim_end().is_empty());
                let first = lines.next();
                first.is_some_and(|l| l.starts_with(':')) && lines.all(|l| l.starts_with(':'))
            }
        }
    }

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
        let end = event_end(rest.as_bytes()).unwrap_or(rest.len());
        let (block, after) = rest.split_at(end);
        events.push(classify(block));
        rest = after;
    }
    Some(events)
}

/// Joins events back into the stream's bytes.
/// The inverse of [`parse`], for the round-trip tests.
#[cfg(test)]
pub(crate) fn emit(events: &[SseEvent]) -> String {
    events.iter().map(SseEvent::to_wire).collect()
}

/// The byte offset just past the blank line that ends the first event.
/// Line ends are ASCII, so this works on bytes that are not (yet) whole
/// UTF-8 text.
fn event_end(bytes: &[u8]) -> Option<usize> {
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

/// Cuts a stream that arrives in arbitrary chunks into the same event
/// blocks [`parse`] finds in the whole stream, so events can be handled
/// one by one as they pass.
#[derive(Debug, Default)]
pub(crate) struct Splitter {
    pending: Vec<u8>,
}

impl Splitter {
    /// Adds a chunk; returns the blocks it completed, terminators included.
    pub(crate) fn push(&mut self, chunk: &[u8]) -> Vec<Vec<u8>> {
        self.pending.extend_from_slice(chunk);
        let mut blocks = Vec::new();
        let mut start = 0;
        while let Some(len) = event_end(&self.pending[start..]) {
            let end = start + len;
            // A final `\r` may be half of a `\r\n` still in flight: in the
            // whole stream that pair would end the event one byte later.
            if end == self.pending.len() && self.pending[end - 1] == b'\r' {
                break;
            }
            blocks.push(self.pending[start..end].to_vec());
            start = end;
        }
        self.pending.drain(..start);
        blocks
    }

    /// The blocks left when the stream ends: a held-back `\r`-terminated
    /// event and then an unterminated fragment, as [`parse`] would cut them.
    pub(crate) fn finish(self) -> Vec<Vec<u8>> {
        let mut blocks = Vec::new();
        let mut rest = self.pending.as_slice();
        while !rest.is_empty() {
            let end = event_end(rest).unwrap_or(rest.len());
            blocks.push(rest[..end].to_vec());
            rest = &rest[end..];
        }
        blocks
    }
}

/// One block as an event; `None` when it is not UTF-8 text.
pub(crate) fn classify_bytes(block: &[u8]) -> Option<SseEvent> {
    std::str::from_utf8(block).ok().map(classify)
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
    fn comment_only_events_are_told_apart() {
        assert!(raw(": ping - 2026-12-04 06:44:59.482286+00:00\n\n").is_comment());
        assert!(raw(":a\r\n:b\r\n\r\n").is_comment());
        assert!(!raw(": note\ndata: {}\n\n").is_comment());
        assert!(!raw("event: x\n\n").is_comment());
        assert!(!raw("\n\n").is_comment());
        assert!(!data(": not a comment").is_comment());
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
    fn a_stream_split_anywhere_yields_the_blocks_of_the_whole() {
        let wires = [
            "data: {\"a\":1}\n\ndata: {\"b\":2}\n\ndata: [DONE]\n\n",
            "data: 1\r\n\r\ndata: 2\r\n\r\n",
            "event: ping\ndata: 1\n\n: c\n\ndata: é\n\ndata: cut",
            "\n\ndata: 1\r\r",
        ];
        for wire in wires {
            let whole = parse(wire.as_bytes()).unwrap();
            // Every way of cutting the stream in two, and byte by byte.
            let mut cuts: Vec<Vec<&[u8]>> = (0..=wire.len())
                .map(|i| vec![&wire.as_bytes()[..i], &wire.as_bytes()[i..]])
                .collect();
            cuts.push(wire.as_bytes().chunks(1).collect());
            for chunks in cuts {
                let mut splitter = Splitter::default();
                let mut blocks = Vec::new();
                for chunk in &chunks {
                    blocks.extend(splitter.push(chunk));
                }
                blocks.extend(splitter.finish());
                let events: Vec<SseEvent> =
                    blocks.iter().map(|b| classify_bytes(b).unwrap()).collect();
                assert_eq!(events, whole, "{wire:?} cut as {chunks:?}");
            }
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
