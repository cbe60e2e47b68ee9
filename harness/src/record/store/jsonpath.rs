//! The small JSONPath subset normalisation rules select values with:
//! `$`, `.key`, `['key']`, `[N]`, `[*]` / `.*` (every child) and `..key`
//! (`key` at any depth).

use std::fmt;

use serde_json::Value;

/// One step of a path.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
    /// Every child of an object or an array.
    Children,
    /// `key` in this value or any value below it.
    Descend(String),
}

/// A parsed path such as `$.messages[*].tool_calls[*].id`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct JsonPath {
    text: String,
    steps: Vec<Step>,
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

impl JsonPath {
    /// Parses a path; the error says what was expected at which character.
    pub(crate) fn parse(text: &str) -> Result<JsonPath, String> {
        let Some(mut rest) = text.strip_prefix('$') else {
            return Err(format!("path `{text}` must start with `$`"));
        };
        let mut steps = Vec::new();
        let at = |rest: &str| text.len() - rest.len();
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix("..") {
                let name: String = after.chars().take_while(|c| is_name_char(*c)).collect();
                if name.is_empty() {
                    return Err(format!(
                        "path `{text}`: expected a key name after `..` at character {}",
                        at(after)
                    ));
                }
                rest = &after[name.len()..];
                steps.push(Step::Descend(name));
            } else if let Some(after) = rest.strip_prefix(".*") {
                rest = after;
                steps.push(Step::Children);
            } else if let Some(after) = rest.strip_prefix('.') {
                let name: String = after.chars().take_while(|c| is_name_char(*c)).collect();
                if name.is_empty() {
                    return Err(format!(
                        "path `{text}`: expected a key name or `*` after `.` at character {}",
                        at(after)
                    ));
                }
                rest = &after[name.len()..];
                steps.push(Step::Key(name));
            } else if let Some(after) = rest.strip_prefix('[') {
                let Some(close) = after.find(']') else {
                    return Err(format!(
                        "path `{text}`: `[` at character {} is never closed",
                        at(rest)
                    ));
                };
                let inner = &after[..close];
                steps.push(parse_bracket(inner).map_err(|problem| {
                    format!("path `{text}`: {problem} at character {}", at(after))
                })?);
                rest = &after[close + 1..];
            } else {
                return Err(format!(
                    "path `{text}`: expected `.`, `..` or `[` at character {}",
                    at(rest)
                ));
            }
        }
        Ok(JsonPath {
            text: text.to_owned(),
            steps,
        })
    }

    /// Calls `f` on every value the path selects, in document order.
    pub(crate) fn for_each_mut(&self, root: &mut Value, f: &mut dyn FnMut(&mut Value)) {
        visit(root, &self.steps, f);
    }
}

/// The path of `key` under `at`, in the syntax rules are written in:
/// `$.a.b`, or `$['a b']` for a key that is not a plain name.
pub(crate) fn child_path(at: &str, key: &str) -> String {
    if !key.is_empty() && key.chars().all(is_name_char) {
        format!("{at}.{key}")
    } else {
        format!("{at}['{key}']")
    }
}

fn parse_bracket(inner: &str) -> Result<Step, String> {
    if inner == "*" {
        return Ok(Step::Children);
    }
    for quote in ['\'', '"'] {
        if let Some(name) = inner
            .strip_prefix(quote)
            .and_then(|s| s.strip_suffix(quote))
        {
            return Ok(Step::Key(name.to_owned()));
        }
    }
    inner
        .parse::<usize>()
        .map(Step::Index)
        .map_err(|_| format!("expected `*`, an index or a quoted key inside `[{inner}]`"))
}

fn visit(value: &mut Value, steps: &[Step], f: &mut dyn FnMut(&mut Value)) {
    let Some((step, rest)) = steps.split_first() else {
        f(value);
        return;
    };
    match step {
        Step::Key(key) => {
            if let Some(child) = value.as_object_mut().and_then(|map| map.get_mut(key)) {
                visit(child, rest, f);
            }
        }
        Step::Index(index) => {
            if let Some(child) = value.as_array_mut().and_then(|items| items.get_mut(*index)) {
                visit(child, rest, f);
            }
        }
        Step::Children => match value {
            Value::Object(map) => map.values_mut().for_each(|child| visit(child, rest, f)),
            Value::Array(items) => items.iter_mut().for_each(|child| visit(child, rest, f)),
            _ => {}
        },
        Step::Descend(key) => descend(value, key, rest, f),
    }
}

fn descend(value: &mut Value, key: &str, rest: &[Step], f: &mut dyn FnMut(&mut Value)) {
    match value {
        Value::Object(map) => {
            for (name, child) in map.iter_mut() {
                if name == key {
                    visit(child, rest, f);
                } else {
                    descend(child, key, rest, f);
                }
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|child| descend(child, key, rest, f)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn selected(path: &str, mut doc: Value) -> Vec<Value> {
        let path = JsonPath::parse(path).unwrap();
        let mut out = Vec::new();
        path.for_each_mut(&mut doc, &mut |v| out.push(v.clone()));
        out
    }

    #[test]
    fn selects_by_key_index_wildcard_and_descent() {
        let doc = json!({
            "messages": [
                {"role": "user", "content": "hi"},
                {"role": "assistant", "tool_calls": [{"id": "a"}, {"id": "b"}]},
                {"role": "tool", "tool_call_id": "a"}
            ],
            "odd key": 1
        });
        let table: &[(&str, Value)] = &[
            ("$", json!([doc.clone()])),
            ("$.messages[0].role", json!(["user"])),
            ("$.messages[*].role", json!(["user", "assistant", "tool"])),
            ("$.messages.*.tool_call_id", json!(["a"])),
            ("$.messages[*].tool_calls[*].id", json!(["a", "b"])),
            ("$..id", json!(["a", "b"])),
            ("$['odd key']", json!([1])),
            ("$[\"odd key\"]", json!([1])),
            ("$.messages[9].role", json!([])),
            ("$.missing.deeper", json!([])),
        ];
        for (path, expected) in table {
            assert_eq!(
                Value::Array(selected(path, doc.clone())),
                *expected,
                "{path}"
            );
        }
    }

    #[test]
    fn bad_paths_say_what_was_expected_where() {
        let table = [
            ("messages", "path `messages` must start with `$`"),
            (
                "$.",
                "path `$.`: expected a key name or `*` after `.` at character 2",
            ),
            (
                "$..",
                "path `$..`: expected a key name after `..` at character 3",
            ),
            ("$[1", "path `$[1`: `[` at character 1 is never closed"),
            (
                "$[x]",
                "path `$[x]`: expected `*`, an index or a quoted key inside `[x]` at character 2",
            ),
            ("$a", "path `$a`: expected `.`, `..` or `[` at character 1"),
        ];
        for (path, message) in table {
            assert_eq!(JsonPath::parse(path).unwrap_err(), message, "{path}");
        }
    }
}
