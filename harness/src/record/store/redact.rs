//! Secrets never reach a recording: credential headers are dropped and
//! configured secret values are replaced by `<redacted>` in bodies, queries
//! and headers before anything is written (or hashed, so that `verify` can
//! recompute a key from what is on disk).

use std::borrow::Cow;

use serde_json::Value;

/// What a secret becomes in a recording.
pub(crate) const REDACTED: &str = "<redacted>";

/// Header names whose values are credentials, whatever they contain.
const SECRET_HEADERS: [&str; 6] = [
    "authorization",
    "proxy-authorization",
    "api-key",
    "x-api-key",
    "cookie",
    "set-cookie",
];

/// Whether a header carries a credential and must never be written.
pub(crate) fn is_secret_header(name: &str) -> bool {
    SECRET_HEADERS.iter().any(|h| h.eq_ignore_ascii_case(name))
}

/// Replaces configured secret values.
#[derive(Clone, Debug, Default)]
pub(crate) struct Redactor {
    /// Longest first, so a secret containing another is replaced whole.
    secrets: Vec<String>,
}

impl Redactor {
    pub(crate) fn new(mut secrets: Vec<String>) -> Redactor {
        secrets.retain(|s| !s.is_empty());
        secrets.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        secrets.dedup();
        Redactor { secrets }
    }

    /// These secrets and `more`.
    pub(crate) fn with(&self, more: &[String]) -> Redactor {
        Redactor::new(self.secrets.iter().chain(more).cloned().collect())
    }

    #[cfg(test)]
    pub(crate) fn secret_count(&self) -> usize {
        self.secrets.len()
    }

    pub(crate) fn redact_str<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut out = Cow::Borrowed(text);
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = Cow::Owned(out.replace(secret.as_str(), REDACTED));
            }
        }
        out
    }

    /// The first configured secret `text` contains, if any.
    pub(crate) fn first_secret_in(&self, text: &str) -> Option<&str> {
        self.secrets
            .iter()
            .find(|s| text.contains(s.as_str()))
            .map(String::as_str)
    }

    /// Redacts every string in a JSON value, object keys included.
    pub(crate) fn redact_json(&self, value: &mut Value) {
        if self.secrets.is_empty() {
            return;
        }
        match value {
            Value::String(s) => {
                if let Cow::Owned(new) = self.redact_str(s) {
                    *s = new;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.redact_json(v)),
            Value::Object(map) => {
                let needs_key_change = map
                    .keys()
                    .any(|k| matches!(self.redact_str(k), Cow::Owned(_)));
                if needs_key_change {
                    let old = std::mem::take(map);
                    for (k, v) in old {
                        map.insert(self.redact_str(&k).into_owned(), v);
                    }
                }
                map.values_mut().for_each(|v| self.redact_json(v));
            }
            _ => {}
        }
    }

    /// Redacts raw bytes (non-JSON bodies); non-UTF-8 input is searched as bytes.
    pub(crate) fn redact_bytes(&self, bytes: &[u8]) -> Vec<u8> {
        let mut out = bytes.to_vec();
        for secret in &self.secrets {
            let needle = secret.as_bytes();
            let mut result = Vec::with_capacity(out.len());
            let mut i = 0;
            while i < out.len() {
                if out[i..].starts_with(needle) {
                    result.extend_from_slice(REDACTED.as_bytes());
                    i += needle.len();
                } else {
                    result.push(out[i]);
                    i += 1;
                }
            }
            out = result;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn redactor() -> Redactor {
        Redactor::new(vec![
            "sk-abc".into(),
            "sk-abc-longer".into(),
            String::new(),
            "sk-abc".into(),
        ])
    }

    #[test]
    fn secrets_are_replaced_in_strings_keys_and_bytes() {
        let r = redactor();
        assert_eq!(r.secret_count(), 2);
        let table = [
            ("plain", "plain"),
            ("sk-abc", "<redacted>"),
            ("key=sk-abc-longer;", "key=<redacted>;"),
            ("sk-abcsk-abc", "<redacted><redacted>"),
        ];
        for (input, expected) in table {
            assert_eq!(r.redact_str(input), expected, "{input}");
            assert_eq!(
                r.redact_bytes(input.as_bytes()),
                expected.as_bytes(),
                "{input}"
            );
        }
        let mut body = json!({"a": ["x sk-abc y", 1, null], "sk-abc": {"n": "sk-abc-longer"}});
        r.redact_json(&mut body);
        assert_eq!(
            body,
            json!({"a": ["x <redacted> y", 1, null], "<redacted>": {"n": "<redacted>"}})
        );
    }

    #[test]
    fn no_secrets_changes_nothing() {
        let r = Redactor::default();
        let mut body = json!({"a": "sk-abc"});
        r.redact_json(&mut body);
        assert_eq!(body, json!({"a": "sk-abc"}));
        assert!(matches!(r.redact_str("sk-abc"), Cow::Borrowed(_)));
    }
}
