//! A YAML document as a tree of nodes that remember their line, read with
//! `serde-saphyr`.
//!
//! Why serde-saphyr rather than serde_norway: it is pure Rust (no
//! unsafe-libyaml), its errors carry line and column, and its `Spanned<T>`
//! gives the location of every key and value, not only of syntax errors.
//! A run.yaml cannot be deserialised straight into typed structs anyway: the
//! stack substitutes `${env.X}` in the raw tree *before* typing (so
//! `port: ${env.PORT:=8321}` is an integer), so we read a located tree first
//! (this module), substitute on it (`env`), then type it by hand (`model`),
//! which keeps the line of every key for the errors that come much later.
//!
//! Scalars are typed the way serde-saphyr types untagged plain scalars, close
//! to PyYAML's `safe_load` (YAML 1.1 booleans such as `yes`/`off`); quoted
//! scalars stay strings. Unlike PyYAML, a duplicate key is an error rather
//! than a silent "last one wins".

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Number;
use serde_saphyr::Spanned;

/// One YAML value with the 1-based line it starts on.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub(crate) line: u32,
    pub(crate) kind: Kind,
    /// For a scalar produced by `${env...}` substitution: the text before it.
    pub(crate) raw: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    Null,
    Bool(bool),
    Number(Number),
    Str(String),
    /// Items with their index in the file: `${env...}` substitution drops
    /// some items (disabled entries), and key paths in messages must still
    /// count the way the file does.
    Seq(Vec<(usize, Node)>),
    Map(Vec<(Key, Node)>),
}

/// A mapping key: always text, with its own line (a key's line is what an
/// error about that key points at).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Key {
    pub(crate) name: String,
    pub(crate) line: u32,
}

/// A YAML syntax (or shape) error with its position, before any run.yaml
/// meaning is applied.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SyntaxError {
    pub(crate) line: u32,
    pub(crate) column: u32,
    pub(crate) message: String,
}

/// Reads one YAML document. An empty document is `Kind::Null`.
pub(crate) fn parse(text: &str) -> Result<Node, SyntaxError> {
    if text.trim().is_empty() {
        return Ok(Node::new(1, Kind::Null));
    }
    serde_saphyr::from_str::<Node>(text).map_err(|err| {
        let location = err.location();
        let plain = err.without_snippet();
        SyntaxError {
            line: location.map_or(0, |l| to_u32(l.line())),
            column: location.map_or(0, |l| to_u32(l.column())),
            message: strip_location(&plain.to_string()),
        }
    })
}

/// serde-saphyr's `Display` appends ` at line L, column C`; our callers print
/// the position in front, compiler style, so drop the tail. Two messages
/// speak to the library's programmer, not to whoever edits the run.yaml, so
/// they are reworded.
fn strip_location(message: &str) -> String {
    let first = message.lines().next().unwrap_or(message);
    let first = first.rfind(" at line ").map_or(first, |at| &first[..at]);
    if let Some(rest) = first.strip_prefix("duplicate mapping key: ") {
        let key = rest
            .split(", set DuplicateKeyPolicy")
            .next()
            .unwrap_or(rest);
        return format!("duplicate key `{key}`");
    }
    if first.starts_with("multiple YAML documents detected") {
        return "a run.yaml holds one YAML document; remove the second `---`".to_owned();
    }
    first.to_owned()
}

fn to_u32(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl Node {
    pub(crate) fn new(line: u32, kind: Kind) -> Node {
        Node {
            line,
            kind,
            raw: None,
        }
    }

    /// The value of `key` in a mapping node.
    pub(crate) fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|(_, value)| value)
    }

    pub(crate) fn entry(&self, key: &str) -> Option<(&Key, &Node)> {
        match &self.kind {
            Kind::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.name == key)
                .map(|(k, v)| (k, v)),
            _ => None,
        }
    }

    /// What kind of value this is, for "expected X, found Y" messages.
    pub(crate) fn describe(&self) -> String {
        match &self.kind {
            Kind::Null => "null".to_owned(),
            Kind::Bool(b) => format!("boolean `{b}`"),
            Kind::Number(n) => format!("number `{n}`"),
            Kind::Str(s) => format!("string `{s}`"),
            Kind::Seq(_) => "a list".to_owned(),
            Kind::Map(_) => "a mapping".to_owned(),
        }
    }

    /// The node as plain JSON (provider configs and other open maps).
    pub(crate) fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match &self.kind {
            Kind::Null => Value::Null,
            Kind::Bool(b) => Value::Bool(*b),
            Kind::Number(n) => Value::Number(n.clone()),
            Kind::Str(s) => Value::String(s.clone()),
            Kind::Seq(items) => {
                Value::Array(items.iter().map(|(_, item)| item.to_json()).collect())
            }
            Kind::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.name.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<Kind>::deserialize(deserializer)?;
        Ok(Node::new(to_u32(spanned.referenced.line()), spanned.value))
    }
}

impl<'de> Deserialize<'de> for Kind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(KindVisitor)
    }
}

struct KindVisitor;

impl<'de> Visitor<'de> for KindVisitor {
    type Value = Kind;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_unit<E>(self) -> Result<Kind, E> {
        Ok(Kind::Null)
    }

    fn visit_none<E>(self) -> Result<Kind, E> {
        Ok(Kind::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Kind, D::Error> {
        Kind::deserialize(deserializer)
    }

    fn visit_bool<E>(self, b: bool) -> Result<Kind, E> {
        Ok(Kind::Bool(b))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Kind, E> {
        Ok(Kind::Number(n.into()))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Kind, E> {
        Ok(Kind::Number(n.into()))
    }

    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Kind, E> {
        Number::from_f64(n)
            .map(Kind::Number)
            .ok_or_else(|| E::custom(format!("`{n}` is not a finite number")))
    }

    fn visit_str<E>(self, s: &str) -> Result<Kind, E> {
        Ok(Kind::Str(s.to_owned()))
    }

    fn visit_string<E>(self, s: String) -> Result<Kind, E> {
        Ok(Kind::Str(s))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Kind, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push((items.len(), item));
        }
        Ok(Kind::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Kind, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<KeyText>>()? {
            let value = map.next_value::<Node>()?;
            let key = Key {
                name: key.value.0,
                line: to_u32(key.referenced.line()),
            };
            entries.push((key, value));
        }
        Ok(Kind::Map(entries))
    }
}

/// Any scalar key, as text: `8321: x` has the key `8321`.
struct KeyText(String);

impl<'de> Deserialize<'de> for KeyText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let kind = Kind::deserialize(deserializer)?;
        let text = match kind {
            Kind::Null => "null".to_owned(),
            Kind::Bool(b) => b.to_string(),
            Kind::Number(n) => n.to_string(),
            Kind::Str(s) => s,
            Kind::Seq(_) | Kind::Map(_) => {
                return Err(de::Error::custom(
                    "a mapping key must be a plain value, not a list or mapping",
                ));
            }
        };
        Ok(KeyText(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn str_node(line: u32, s: &str) -> Node {
        Node::new(line, Kind::Str(s.to_owned()))
    }

    #[test]
    fn keys_and_values_keep_their_lines() {
        let text =
            "version: 2\nserver:\n  port: 8321\n  host: \"8321\"\napis:\n- inference\n- files\n";
        let doc = parse(text).expect("valid yaml");
        let (key, server) = doc.entry("server").expect("server");
        assert_eq!(key.line, 2);
        let (port_key, port) = server.entry("port").expect("port");
        assert_eq!((port_key.line, port.line), (3, 3));
        assert_eq!(port.kind, Kind::Number(8321.into()));
        // Quoted scalars stay strings.
        assert_eq!(server.get("host"), Some(&str_node(4, "8321")));
        let apis = doc.get("apis").expect("apis");
        assert_eq!(
            apis.kind,
            Kind::Seq(vec![
                (0, str_node(6, "inference")),
                (1, str_node(7, "files"))
            ])
        );
    }

    #[test]
    fn scalars_are_typed_like_pyyaml() {
        let doc =
            parse("a: yes\nb: ~\nc:\nd: 1.5\ne: -3\nf: ${env.X:=1}\ng: off\n").expect("valid yaml");
        let kinds: Vec<_> = ["a", "b", "c", "d", "e", "f", "g"]
            .iter()
            .map(|k| doc.get(k).map(|n| n.kind.clone()))
            .collect();
        assert_eq!(
            kinds,
            [
                Some(Kind::Bool(true)),
                Some(Kind::Null),
                Some(Kind::Null),
                Number::from_f64(1.5).map(Kind::Number),
                Some(Kind::Number((-3).into())),
                Some(Kind::Str("${env.X:=1}".to_owned())),
                Some(Kind::Bool(false)),
            ]
        );
    }

    #[test]
    fn empty_document_is_null() {
        assert_eq!(
            parse("  \n# only a comment\n").map(|n| n.kind),
            Ok(Kind::Null)
        );
        assert_eq!(parse("").map(|n| n.kind), Ok(Kind::Null));
    }

    #[test]
    fn syntax_errors_have_a_position() {
        let err =
            parse("version: 2\nserver:\n  port: [8321\n").expect_err("unclosed flow sequence");
        let expected = SyntaxError {
            line: 3,
            column: 9,
            message: "unclosed bracket '['".to_owned(),
        };
        assert_eq!(err, expected);
    }

    #[test]
    fn duplicate_keys_are_errors() {
        let err = parse("server:\n  port: 1\n  port: 2\n").expect_err("duplicate key");
        let expected = SyntaxError {
            line: 3,
            column: 3,
            message: "duplicate key `port`".to_owned(),
        };
        assert_eq!(err, expected);
        let err = parse("a: 1\n---\nb: 2\n").expect_err("two documents");
        assert_eq!(
            err.message,
            "a run.yaml holds one YAML document; remove the second `---`"
        );
    }
}
