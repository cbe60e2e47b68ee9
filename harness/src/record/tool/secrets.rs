//! Secret-looking values in a recording, for `recordings verify`: a
//! credential header (the proxy never writes headers, so one can only come
//! from a hand edit or another tool), an OpenAI/Anthropic-style `sk-` key,
//! a `Bearer` token, a session's MCP server token, or the value of a
//! configured secret. Redaction should
//! have removed them all; this is the check that it did.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use crate::record::store::{REDACTED, Redactor, child_path, is_secret_header};

/// `sk-` keys: OpenAI (`sk-proj-…`, `sk-svcacct-…`, older `sk-<48 alnum>`)
/// and Anthropic (`sk-ant-…`).
static SK_KEY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\bsk-[A-Za-z0-9_-]{20,}").expect("constant regex is valid"));

/// `Bearer <token>`; the token must hold a digit, so that prose such as
/// "Bearer authentication" is not taken for a credential.
static BEARER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\bBearer\s+([A-Za-z0-9._~+/-]{16,}=*)").expect("constant regex is valid")
});

/// The bearer token of a session's MCP tool server (`mcptoken-<32 hex>`,
/// random per session): the proxy redacts it, so one in a recording was
/// written by something else.
static MCP_TOKEN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\bmcptoken-[0-9a-f]{32}\b").expect("constant regex is valid"));

/// How many characters of a secret a message shows.
const SHOWN: usize = 4;

/// One secret-looking value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Finding {
    /// Where: a JSONPath such as `$.response.body.choices[0].text`, or
    /// `line N` for a file that is not JSON.
    pub(crate) at: String,
    pub(crate) kind: Kind,
    /// The start of the value and an ellipsis: never the whole secret.
    pub(crate) shown: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Header,
    Pattern,
    Configured,
    SessionToken,
}

impl Finding {
    /// The problem as `verify` prints it after the file name.
    pub(crate) fn message(&self, more: usize) -> String {
        let more = if more > 0 {
            format!(" (and {more} more)")
        } else {
            String::new()
        };
        match self.kind {
            Kind::Header => format!(
                "credential header `{}` stored at `{}`{more}; the proxy never records headers, so delete it",
                self.shown, self.at
            ),
            Kind::Pattern => format!(
                "secret-looking value `{}` at `{}`{more}; add its variable to `redact_env` (or the value to `redact_values`) in `normalize.yaml` and re-record",
                self.shown, self.at
            ),
            Kind::SessionToken => format!(
                "a session's MCP server token `{}` at `{}`{more}; the proxy redacts these, so this recording was written by something else: re-record it",
                self.shown, self.at
            ),
            Kind::Configured => format!(
                "the value of a `redact_env`/`redact_values` secret, `{}`, at `{}`{more}; re-record it so the current rules redact it",
                self.shown, self.at
            ),
        }
    }
}

/// Every finding in a parsed recording file, in document order.
pub(crate) fn in_json(value: &Value, redactor: &Redactor) -> Vec<Finding> {
    let mut findings = Vec::new();
    walk(value, "$".to_owned(), redactor, &mut findings);
    findings
}

/// Every finding in a file that is not JSON, line by line.
pub(crate) fn in_text(text: &str, redactor: &Redactor) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (i, line) in text.lines().enumerate() {
        in_string(line, &format!("line {}", i + 1), redactor, &mut findings);
    }
    findings
}

fn walk(value: &Value, at: String, redactor: &Redactor, out: &mut Vec<Finding>) {
    match value {
        Value::String(s) => in_string(s, &at, redactor, out),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(item, format!("{at}[{i}]"), redactor, out);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                let child = child_path(&at, key);
                let credential = item
                    .as_str()
                    .is_some_and(|v| !v.is_empty() && v != REDACTED);
                if is_secret_header(key) && credential {
                    out.push(Finding {
                        at: at.clone(),
                        kind: Kind::Header,
                        shown: key.clone(),
                    });
                    continue;
                }
                walk(item, child, redactor, out);
            }
        }
        _ => {}
    }
}

fn in_string(text: &str, at: &str, redactor: &Redactor, out: &mut Vec<Finding>) {
    let mut push = |kind, prefix: &str, secret: &str| {
        let start: String = secret.chars().take(SHOWN).collect();
        out.push(Finding {
            at: at.to_owned(),
            kind,
            shown: format!("{prefix}{start}…"),
        });
    };
    for m in SK_KEY.find_iter(text) {
        push(Kind::Pattern, "sk-", &m.as_str()["sk-".len()..]);
    }
    for m in MCP_TOKEN.find_iter(text) {
        push(
            Kind::SessionToken,
            "mcptoken-",
            &m.as_str()["mcptoken-".len()..],
        );
    }
    for caps in BEARER.captures_iter(text) {
        let token = &caps[1];
        if token.chars().any(|c| c.is_ascii_digit()) {
            push(Kind::Pattern, "Bearer ", token);
        }
    }
    if let Some(secret) = redactor.first_secret_in(text) {
        push(Kind::Configured, "", secret);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn finding(at: &str, kind: Kind, shown: &str) -> Finding {
        Finding {
            at: at.into(),
            kind,
            shown: shown.into(),
        }
    }

    #[test]
    fn secrets_are_found_with_their_place_and_never_shown_whole() {
        let redactor = Redactor::new(vec!["hunter2-long-password".into()]);
        let file = json!({
            "request": {
                "body": {"messages": [{"content": "use sk-proj-abcdefghijklmnopqrstuvwx please"}]},
                "headers": {"Authorization": "Bearer abc", "x-api-key": "<redacted>", "accept": "*/*"}
            },
            "response": {
                "events": ["{\"t\":\"Bearer eyJhbGciOiJIUzI1NiJ9.e30\"}"],
                "body_text": "pw hunter2-long-password",
                "a b": "sk-0123456789abcdefghijKL"
            }
        });
        assert_eq!(
            in_json(&file, &redactor),
            vec![
                finding(
                    "$.request.body.messages[0].content",
                    Kind::Pattern,
                    "sk-proj…"
                ),
                finding("$.request.headers", Kind::Header, "Authorization"),
                finding("$.response.events[0]", Kind::Pattern, "Bearer eyJh…"),
                finding("$.response.body_text", Kind::Configured, "hunt…"),
                finding("$.response['a b']", Kind::Pattern, "sk-0123…"),
            ]
        );
    }

    #[test]
    fn a_session_mcp_token_is_found_and_named() {
        let file = json!({"content": "token mcptoken-0123456789abcdef0123456789abcdef"});
        let found = in_json(&file, &Redactor::default());
        assert_eq!(
            found,
            vec![finding("$.content", Kind::SessionToken, "mcptoken-0123…")]
        );
        assert!(found[0].message(0).contains("re-record it"));
        let near = json!({"a": "mcptoken-short", "b": "mcptoken-<redacted>"});
        assert_eq!(in_json(&near, &Redactor::default()), vec![]);
    }

    #[test]
    fn look_alikes_are_not_secrets() {
        let file = json!({
            "a": "ask-abcdefghijklmnopqrstuvwxyz",
            "b": "sk-short",
            "c": "Bearer authentication is described in RFC six seven five zero",
            "d": "Bearer <redacted>",
            "e": "sk-<redacted>",
            "authorization": {"type": "object"},
            "task-0123456789abcdefghijk": 1
        });
        assert_eq!(in_json(&file, &Redactor::default()), vec![]);
    }

    #[test]
    fn text_files_are_scanned_by_line_and_messages_say_what_to_do() {
        let found = in_text(
            "{\n  \"oops\": \"sk-abcdefghijklmnopqrstuvwxyz\"",
            &Redactor::default(),
        );
        assert_eq!(found, vec![finding("line 2", Kind::Pattern, "sk-abcd…")]);
        assert_eq!(
            found[0].message(2),
            "secret-looking value `sk-abcd…` at `line 2` (and 2 more); add its variable to `redact_env` (or the value to `redact_values`) in `normalize.yaml` and re-record"
        );
        assert_eq!(
            finding("$.request.headers", Kind::Header, "Authorization").message(0),
            "credential header `Authorization` stored at `$.request.headers`; the proxy never records headers, so delete it"
        );
        assert_eq!(
            finding("$.x", Kind::Configured, "hunt…").message(0),
            "the value of a `redact_env`/`redact_values` secret, `hunt…`, at `$.x`; re-record it so the current rules redact it"
        );
    }
}
