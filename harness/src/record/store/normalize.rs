//! `normalize`: the one pure function that turns a request body into the
//! form that is hashed — keys sorted, volatile values (random ids) replaced
//! by the rules of `normalize.yaml`.
//!
//! Keys are sorted *before* the rules run so that `{n}` numbering follows a
//! canonical order: two bodies that differ only in key order or in the
//! random ids they carry normalise to the same value.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::rules::{KEY_TOKEN, Rule, Rules};

/// The token a replacement uses for "the how-many-th distinct match".
const ORDINAL: &str = "{n}";

/// Sorts object keys recursively; everything else is kept as is.
pub(crate) fn canonical(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, canonical(v)))
                    .collect::<Map<_, _>>(),
            )
        }
        Value::Array(items) => Value::Array(items.into_iter().map(canonical).collect()),
        other => other,
    }
}

/// The body as it is hashed: canonical, with every rule applied in order.
pub(crate) fn normalize(rules: &Rules, body: Value) -> Value {
    let mut body = canonical(body);
    for rule in &rules.rules {
        apply(rule, &mut body, &mut Ordinals::default(), None);
    }
    body
}

/// Numbers distinct matched texts 1, 2, ... in order of first appearance.
#[derive(Clone, Debug, Default)]
pub(crate) struct Ordinals(HashMap<String, usize>);

impl Ordinals {
    fn of(&mut self, text: &str) -> usize {
        let next = self.0.len() + 1;
        *self.0.entry(text.to_owned()).or_insert(next)
    }
}

/// Applies one rule. `ordinals` is this rule's numbering, which the caller
/// may keep across several values (the events of one stream); `key` is
/// what `{key}` becomes (`None` for request rules, which cannot use it).
pub(crate) fn apply(rule: &Rule, body: &mut Value, ordinals: &mut Ordinals, key: Option<&str>) {
    let mut fill = Fill { ordinals, key };
    match &rule.regex {
        Some(_) if rule.paths.is_empty() => rewrite_strings(rule, body, &mut fill),
        Some(_) => {
            for path in &rule.paths {
                path.for_each_mut(body, &mut |v| rewrite_strings(rule, v, &mut fill));
            }
        }
        None => {
            for path in &rule.paths {
                path.for_each_mut(body, &mut |v| *v = replaced_value(rule, v, &mut fill));
            }
        }
    }
}

/// Fills the `{n}` and `{key}` tokens of an expanded replacement.
struct Fill<'a> {
    ordinals: &'a mut Ordinals,
    key: Option<&'a str>,
}

impl Fill<'_> {
    /// `matched` is the text the ordinal numbers.
    fn fill(&mut self, mut text: String, matched: &str) -> String {
        if text.contains(ORDINAL) {
            text = text.replace(ORDINAL, &self.ordinals.of(matched).to_string());
        }
        if let Some(key) = self.key
            && text.contains(KEY_TOKEN)
        {
            text = text.replace(KEY_TOKEN, key);
        }
        text
    }
}

fn replaced_value(rule: &Rule, old: &Value, fill: &mut Fill<'_>) -> Value {
    match &rule.replace {
        Value::String(template) => {
            let matched = match old {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            Value::String(fill.fill(template.clone(), &matched))
        }
        other => other.clone(),
    }
}

fn rewrite_strings(rule: &Rule, value: &mut Value, fill: &mut Fill<'_>) {
    match value {
        Value::String(s) => {
            if let Some(new) = rewrite(rule, s, fill) {
                *s = new;
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|v| rewrite_strings(rule, v, fill)),
        Value::Object(map) => map
            .values_mut()
            .for_each(|v| rewrite_strings(rule, v, fill)),
        _ => {}
    }
}

fn rewrite(rule: &Rule, text: &str, fill: &mut Fill<'_>) -> Option<String> {
    let regex = rule.regex.as_ref()?;
    let template = rule.replace.as_str().unwrap_or_default();
    if !regex.is_match(text) {
        return None;
    }
    let out = regex.replace_all(text, |caps: &regex::Captures<'_>| {
        let mut expanded = String::new();
        caps.expand(template, &mut expanded);
        fill.fill(expanded, &caps[0])
    });
    Some(out.into_owned())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::json;

    use super::*;

    fn rules(yaml: &str) -> Rules {
        Rules::parse(yaml, Path::new("normalize.yaml"), &|_| None).unwrap()
    }

    #[test]
    fn keys_are_sorted_at_every_depth() {
        let out = normalize(
            &Rules::default(),
            json!({"b": 1, "a": {"z": [{"y": 1, "x": 2}], "c": 0.0}}),
        );
        assert_eq!(
            out.to_string(),
            r#"{"a":{"c":0.0,"z":[{"x":2,"y":1}]},"b":1}"#
        );
    }

    #[test]
    fn rules_apply_in_order_with_captures_and_ordinals() {
        let table: &[(&str, Value, Value)] = &[
            (
                "rules: [{regex: 'file-[0-9a-f]{4}', replace: 'file-{n}'}]",
                json!({"p": "see file-aaaa and file-bbbb, again file-aaaa", "q": ["file-bbbb"]}),
                json!({"p": "see file-1 and file-2, again file-1", "q": ["file-2"]}),
            ),
            (
                "rules: [{regex: 'score: (\\d\\.\\d{2})\\d*', replace: 'score: $1'}]",
                json!({"p": "score: 0.123456, score: 1.5"}),
                json!({"p": "score: 0.12, score: 1.5"}),
            ),
            (
                "rules: [{path: ['$.m[*].tool_call_id', '$.m[*].tool_calls[*].id'], replace: 'call-{n}'}]",
                json!({"m": [{"tool_calls": [{"id": "Xq"}, {"id": "Zz"}]}, {"tool_call_id": "Zz"}, {"tool_call_id": "Xq"}]}),
                json!({"m": [{"tool_calls": [{"id": "call-2"}, {"id": "call-1"}]}, {"tool_call_id": "call-1"}, {"tool_call_id": "call-2"}]}),
            ),
            (
                "rules: [{path: '$.seed', replace: 0}]",
                json!({"seed": 1234, "other": 1234}),
                json!({"other": 1234, "seed": 0}),
            ),
            (
                "rules: [{path: '$.messages', regex: 'id-\\d+', replace: 'id'}]",
                json!({"messages": [{"content": "id-12"}], "user": "id-12"}),
                json!({"messages": [{"content": "id"}], "user": "id-12"}),
            ),
            (
                // A later rule sees the earlier rule's output.
                "rules: [{regex: 'vs_[0-9a-f-]{36}', replace: 'vs_{n}'}, {regex: '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', replace: 'uuid-{n}'}]",
                json!({"p": "vs_0b9a5d3c-1111-4222-8333-444455556666 0b9a5d3c-1111-4222-8333-444455556666"}),
                json!({"p": "vs_1 uuid-1"}),
            ),
            (
                // Keys are never rewritten; non-strings are left alone.
                "rules: [{regex: 'x', replace: 'y'}]",
                json!({"x": "x", "n": 1, "b": true, "z": null}),
                json!({"b": true, "n": 1, "x": "y", "z": null}),
            ),
        ];
        for (yaml, input, expected) in table {
            assert_eq!(normalize(&rules(yaml), input.clone()), *expected, "{yaml}");
        }
    }

    #[test]
    fn ordinals_follow_sorted_key_order_not_wire_order() {
        let r = rules("rules: [{regex: 'file-\\w+', replace: 'file-{n}'}]");
        let a: Value = serde_json::from_str(r#"{"b": "file-one", "a": "file-two"}"#).unwrap();
        let b: Value = serde_json::from_str(r#"{"a": "file-xyz", "b": "file-abc"}"#).unwrap();
        assert_eq!(normalize(&r, a), normalize(&r, b));
    }
    #[test]
    fn the_shipped_rules_neutralise_every_id_llama_stack_generates() {
        let shipped = Rules::parse(
            include_str!("../../../../recordings/normalize.yaml"),
            Path::new("recordings/normalize.yaml"),
            &|_| None,
        )
        .unwrap();
        let u = "0b9a5d3c-1111-4222-8333-444455556666";
        let hex32 = "0123456789abcdef0123456789abcdef";
        let hex48 = "0123456789abcdef0123456789abcdef0123456789abcdef";
        let table = [
            (format!("file-{hex32}"), "file-1"),
            (format!("<|file-{hex32}|>"), "<|file-1|>"),
            (format!("vs_{u}"), "vs_1"),
            (format!("resp_{u}"), "resp_1"),
            (format!("msg_{u}"), "msg_1"),
            (format!("msg_{hex48}"), "msg_1"),
            (format!("conv_{hex48}"), "conv_1"),
            (format!("item_{hex48}"), "item_1"),
            (format!("fc_{u}"), "fc_1"),
            (format!("tc_{u}"), "tc_1"),
            (format!("mcp_list_{u}"), "mcp_list_1"),
            (format!("approval_{u}"), "approval_1"),
            (format!("rs_{hex32}"), "rs_1"),
            ("batch_0123456789abcdef".to_owned(), "batch_1"),
            (format!("batch_{u}"), "batch_1"),
            (format!("modr-{u}"), "modr-1"),
            (format!("cltsd-{u}"), "cltsd-1"),
            (format!("chatcmpl-{u}"), "chatcmpl-1"),
            (format!("dataset-{u}"), "dataset-1"),
            (format!("{{'chunk_id': '{u}'}}"), "{'chunk_id': 'uuid-1'}"),
            (
                "document_id: x, score: 0.812345678".to_owned(),
                "document_id: x, score: 0.8123",
            ),
            // Look-alikes that are not generated ids stay as they are.
            ("file-abc".to_owned(), "file-abc"),
            (
                "profile-0123456789abcdef0123456789abcdef".to_owned(),
                "profile-0123456789abcdef0123456789abcdef",
            ),
            ("score: 0.5".to_owned(), "score: 0.5"),
        ];
        for (input, expected) in table {
            let out = normalize(&shipped, json!({ "content": input }));
            assert_eq!(out["content"], json!(expected), "{input}");
        }
    }
}
