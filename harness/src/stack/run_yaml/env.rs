//! `${env.VAR}`, `${env.VAR:=default}` and `${env.VAR:+value}` substitution,
//! mirroring `replace_env_vars` in llama_stack/core/stack.py (0.7.3).
//!
//! The stack's rules, kept here on purpose:
//! - only string scalars are substituted (never keys), every match in the
//!   string, left to right; an unmatched `${...}` stays literal text;
//! - a variable set to the empty string counts as unset;
//! - `:=` with an empty default yields `""`, `:+` yields its value only when
//!   the variable is set; each substituted piece has a leading `~` expanded
//!   from `HOME`;
//! - when a substitution happened, the result is retyped: `""` becomes null
//!   (so a provider whose id is `${env.X:+id}` is disabled when X is unset),
//!   `true`/`false` booleans, then integers, then floats;
//! - a list item with a `provider_id` that resolves to `__disabled__` is
//!   dropped before its config is touched (so its missing variables are no
//!   error), and so is a registered resource whose id field resolves empty;
//! - `server.auth` with a `provider_config.type` that resolves empty gets
//!   `provider_config: null` and its other variables are not required.
//!
//! We differ in one way: every missing variable is reported, not just the
//! first. The environment is a function so tests never touch the process's.

use std::sync::LazyLock;

use regex::{Captures, Regex};
use serde_json::Number;

use super::node::{Kind, Node};

/// Looks up an environment variable; `None` when unset.
pub(crate) type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Variables the harness itself sets for the stack (its home and state
/// directories, its token issuer), with the value a run.yaml is checked with before a session
/// exists: a config may require them (`${env.SQLITE_STORE_DIR}`, no default)
/// and must still load when a run is planned.
pub(crate) fn harness_provided(name: &str) -> Option<&'static str> {
    match name {
        "HOME" => Some("/home/user"),
        "SQLITE_STORE_DIR" => Some("/home/user/.stack-harness/state"),
        "FILES_STORAGE_DIR" => Some("/home/user/.stack-harness/state/files"),
        // The session's token issuer (see `services::issuer`); port 9 is
        // never contacted: the session hands the stack the real address.
        super::JWKS_URI_VAR => Some("http://127.0.0.1:9/jwks"),
        super::ISSUER_VAR => Some("http://127.0.0.1:9"),
        super::AUDIENCE_VAR => Some(super::DEFAULT_AUDIENCE),
        _ => None,
    }
}

/// Keys whose empty value drops a registered resource (stack.py `RESOURCE_ID_FIELDS`).
const RESOURCE_ID_FIELDS: [&str; 6] = [
    "vector_store_id",
    "model_id",
    "shield_id",
    "dataset_id",
    "scoring_fn_id",
    "benchmark_id",
];

/// The stack's own pattern, character for character.
static PATTERN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\$\{env\.([A-Z0-9_]+)(?::([=+])([^}]*))?\}").expect("constant regex is valid")
});

/// A required variable (`${env.VAR}`, no default) that is unset or empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MissingVar {
    pub(crate) line: u32,
    /// Where, as the stack spells it: `providers.inference[0].config.api_key`.
    pub(crate) path: String,
    pub(crate) var: String,
}

/// One `${env...}` reference found in a raw string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reference {
    pub(crate) var: String,
    /// `Some` for `${env.VAR:=default}` (possibly empty).
    pub(crate) default: Option<String>,
    /// `Some` for `${env.VAR:+value}` (possibly empty).
    pub(crate) if_set: Option<String>,
    /// Byte range of the reference in the raw text.
    pub(crate) start: usize,
    pub(crate) end: usize,
}

/// Every `${env...}` reference in `raw`, in order.
pub(crate) fn references(raw: &str) -> Vec<Reference> {
    PATTERN
        .captures_iter(raw)
        .map(|caps| {
            let operand = |op: &str| (group(&caps, 2) == op).then(|| group(&caps, 3).to_owned());
            let whole = caps.get(0).map_or(0..0, |m| m.range());
            Reference {
                var: caps[1].to_owned(),
                default: operand("="),
                if_set: operand("+"),
                start: whole.start,
                end: whole.end,
            }
        })
        .collect()
}

/// Resolves one raw string as the stack would: the retyped value, or the
/// required variables that are missing.
pub(crate) fn resolve_text(raw: &str, env: Env) -> Result<Kind, Vec<String>> {
    let mut missing = Vec::new();
    let node = Substitution {
        env,
        missing: &mut missing,
    }
    .scalar(0, raw, "");
    if missing.is_empty() {
        Ok(node.kind)
    } else {
        Err(missing.into_iter().map(|m| m.var).collect())
    }
}

fn group<'h>(caps: &Captures<'h>, i: usize) -> &'h str {
    caps.get(i).map_or("", |m| m.as_str())
}

/// Substitutes the whole document; all missing variables, or the new tree.
pub(crate) fn substitute(root: &Node, env: Env) -> Result<Node, Vec<MissingVar>> {
    let mut missing = Vec::new();
    let resolved = Substitution {
        env,
        missing: &mut missing,
    }
    .node(root, "");
    if missing.is_empty() {
        Ok(resolved)
    } else {
        Err(missing)
    }
}

struct Substitution<'a, 'm> {
    env: Env<'a>,
    missing: &'m mut Vec<MissingVar>,
}

impl Substitution<'_, '_> {
    fn node(&mut self, node: &Node, path: &str) -> Node {
        match &node.kind {
            Kind::Str(text) => self.scalar(node.line, text, path),
            Kind::Map(entries) => {
                let auth_disabled = path == "server.auth" && self.auth_disabled(node, path);
                let entries = entries
                    .iter()
                    .map(|(key, value)| {
                        let value = if auth_disabled && key.name == "provider_config" {
                            Node::new(value.line, Kind::Null)
                        } else {
                            self.node(value, &join(path, &key.name))
                        };
                        (key.clone(), value)
                    })
                    .collect();
                Node::new(node.line, Kind::Map(entries))
            }
            Kind::Seq(items) => {
                let mut kept = Vec::with_capacity(items.len());
                for (index, item) in items {
                    let item_path = format!("{path}[{index}]");
                    if !self.dropped(item, &item_path) {
                        kept.push((*index, self.node(item, &item_path)));
                    }
                }
                Node::new(node.line, Kind::Seq(kept))
            }
            Kind::Null | Kind::Bool(_) | Kind::Number(_) => node.clone(),
        }
    }

    /// Resolves a scalar on the side, without recording missing variables:
    /// the stack's look-ahead checks swallow errors too.
    fn peek(&self, node: &Node, path: &str) -> Option<Kind> {
        let mut ignored = Vec::new();
        let kind = Substitution {
            env: self.env,
            missing: &mut ignored,
        }
        .node(node, path)
        .kind;
        ignored.is_empty().then_some(kind)
    }

    fn auth_disabled(&self, auth: &Node, path: &str) -> bool {
        let Some(kind) = auth.get("provider_config").and_then(|p| p.get("type")) else {
            return false;
        };
        matches!(
            self.peek(kind, &format!("{path}.provider_config.type")),
            Some(Kind::Null)
        )
    }

    fn dropped(&self, item: &Node, path: &str) -> bool {
        if let Some(id) = item.get("provider_id")
            && let Some(Kind::Str(id)) = self.peek(id, &format!("{path}.provider_id"))
            && id == "__disabled__"
        {
            return true;
        }
        RESOURCE_ID_FIELDS.iter().any(|field| {
            item.get(field).is_some_and(|id| {
                matches!(self.peek(id, &format!("{path}.{field}")), Some(Kind::Null))
            })
        })
    }

    fn scalar(&mut self, line: u32, text: &str, path: &str) -> Node {
        let mut missing_here = Vec::new();
        let result = PATTERN.replace_all(text, |caps: &Captures| {
            let var = &caps[1];
            let value = (self.env)(var).filter(|v| !v.is_empty());
            let piece = match (caps.get(2).map(|m| m.as_str()), value) {
                (Some("="), Some(value)) => value,
                (Some("="), None) => match group(caps, 3) {
                    "" => return String::new(),
                    default => default.to_owned(),
                },
                (Some("+"), Some(_)) => match group(caps, 3) {
                    "" => return String::new(),
                    value => value.to_owned(),
                },
                (Some(_), None) => String::new(),
                (_, Some(value)) => value,
                (_, None) => {
                    missing_here.push(var.to_owned());
                    return String::new();
                }
            };
            self.expand_home(piece)
        });
        for var in missing_here {
            self.missing.push(MissingVar {
                line,
                path: path.to_owned(),
                var,
            });
        }
        if result == text {
            return Node::new(line, Kind::Str(text.to_owned()));
        }
        Node {
            line,
            kind: retype(&result),
            raw: Some(text.to_owned()),
        }
    }

    /// `os.path.expanduser` for `~` and `~/...` from `HOME`; `~user` and an
    /// unset `HOME` (Python would ask the password database) stay as they are.
    fn expand_home(&self, value: String) -> String {
        let rest = match value.strip_prefix('~') {
            Some(rest) if rest.is_empty() || rest.starts_with('/') => rest,
            _ => return value,
        };
        let Some(home) = (self.env)("HOME") else {
            return value;
        };
        let expanded = format!("{}{rest}", home.trim_end_matches('/'));
        if expanded.is_empty() {
            "/".to_owned()
        } else {
            expanded
        }
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// `_convert_string_to_proper_type`: what a substituted string becomes.
fn retype(value: &str) -> Kind {
    if value.is_empty() {
        return Kind::Null;
    }
    match value.to_lowercase().as_str() {
        "true" => return Kind::Bool(true),
        "false" => return Kind::Bool(false),
        _ => {}
    }
    // Python's int()/float() ignore surrounding whitespace and allow `_`
    // between digits.
    let trimmed = value.trim();
    let Some(number) = python_number_text(trimmed) else {
        return Kind::Str(value.to_owned());
    };
    if let Ok(n) = number.parse::<i64>() {
        return Kind::Number(n.into());
    }
    if let Ok(n) = number.parse::<u64>() {
        return Kind::Number(n.into());
    }
    // Rust's float grammar matches Python's float() on what matters here:
    // `1e3`, `.5`, `5.`, `inf`, `nan`, no hex.
    if let Ok(f) = number.parse::<f64>()
        && let Some(n) = Number::from_f64(f)
    {
        return Kind::Number(n);
    }
    // Python would make NaN, infinities and huge integers numbers; JSON cannot
    // hold the first two, so they stay text.
    Kind::Str(value.to_owned())
}

/// The text without `_` separators, if every `_` sits between two digits.
fn python_number_text(text: &str) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        if *c == '_' {
            let before = i.checked_sub(1).and_then(|b| chars.get(b));
            let after = chars.get(i + 1);
            if !before.is_some_and(char::is_ascii_digit) || !after.is_some_and(char::is_ascii_digit)
            {
                return None;
            }
        }
    }
    Some(text.replace('_', ""))
}

#[cfg(test)]
mod tests {
    use super::super::node::parse;
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    /// Substitutes `value: <text>` and returns what `value` became.
    fn one(
        text: &str,
        pairs: &'static [(&'static str, &'static str)],
    ) -> Result<Kind, Vec<MissingVar>> {
        let doc = parse(&format!("value: {text}\n")).expect("valid yaml");
        let resolved = substitute(&doc, &env_of(pairs))?;
        Ok(resolved
            .get("value")
            .map(|n| n.kind.clone())
            .unwrap_or(Kind::Null))
    }

    fn s(text: &str) -> Kind {
        Kind::Str(text.to_owned())
    }

    #[test]
    fn every_form() {
        let set: &[(&str, &str)] = &[
            ("URL", "http://h:1/v1"),
            ("EMPTY", ""),
            ("HOME", "/home/me/"),
        ];
        let cases: &[(&str, Kind)] = &[
            ("${env.URL}", s("http://h:1/v1")),
            ("${env.URL:=http://default}", s("http://h:1/v1")),
            ("${env.NOPE:=http://default}", s("http://default")),
            ("${env.EMPTY:=http://default}", s("http://default")),
            ("${env.NOPE:=}", Kind::Null),
            ("${env.URL:+vllm}", s("vllm")),
            ("${env.NOPE:+vllm}", Kind::Null),
            ("${env.EMPTY:+vllm}", Kind::Null),
            ("${env.URL:+}", Kind::Null),
            ("${env.NOPE:=~/state}/kv.db", s("/home/me/state/kv.db")),
            ("${env.NOPE:=~other/x}", s("~other/x")),
            ("pre-${env.URL}-post", s("pre-http://h:1/v1-post")),
            ("${env.lower}", s("${env.lower}")),
            ("${env.BING:}", s("${env.BING:}")),
            ("no substitution", s("no substitution")),
            ("\"\"", s("")),
        ];
        for (text, expected) in cases {
            assert_eq!(one(text, set).as_ref(), Ok(expected), "{text}");
        }
    }

    #[test]
    fn substituted_values_are_retyped() {
        let none: &[(&str, &str)] = &[];
        let cases: &[(&str, Kind)] = &[
            ("${env.P:=8321}", Kind::Number(8321.into())),
            ("${env.P:=-1}", Kind::Number((-1).into())),
            ("${env.P:=1_000}", Kind::Number(1000.into())),
            (
                "${env.P:=0.5}",
                Number::from_f64(0.5).map_or(Kind::Null, Kind::Number),
            ),
            (
                "${env.P:=1e3}",
                Number::from_f64(1000.0).map_or(Kind::Null, Kind::Number),
            ),
            ("${env.P:=TRUE}", Kind::Bool(true)),
            ("${env.P:=false}", Kind::Bool(false)),
            ("${env.P:=yes}", s("yes")),
            ("${env.P:=nan}", s("nan")),
            ("${env.P:=0x10}", s("0x10")),
            ("${env.P:=1_}", s("1_")),
            ("'8321'", s("8321")),
        ];
        for (text, expected) in cases {
            assert_eq!(one(text, none).as_ref(), Ok(expected), "{text}");
        }
    }

    #[test]
    fn raw_text_is_kept_for_substituted_scalars() {
        let doc = parse("a: ${env.X:=http://d}\nb: plain\n").expect("valid yaml");
        let resolved = substitute(&doc, &env_of(&[])).expect("no required vars");
        assert_eq!(
            resolved.get("a").and_then(|n| n.raw.as_deref()),
            Some("${env.X:=http://d}")
        );
        assert_eq!(resolved.get("b").and_then(|n| n.raw.as_deref()), None);
    }

    #[test]
    fn every_missing_variable_is_reported_with_line_and_path() {
        let text = "providers:\n  inference:\n  - provider_id: x\n    config:\n      api_key: ${env.KEY}\n      url: ${env.A}${env.B}\n";
        let doc = parse(text).expect("valid yaml");
        let missing = substitute(&doc, &env_of(&[("B", "set")])).expect_err("KEY and A are unset");
        let path = |p: &str| p.to_owned();
        assert_eq!(
            missing,
            [
                MissingVar {
                    line: 5,
                    path: path("providers.inference[0].config.api_key"),
                    var: "KEY".into()
                },
                MissingVar {
                    line: 6,
                    path: path("providers.inference[0].config.url"),
                    var: "A".into()
                },
            ]
        );
    }

    #[test]
    fn disabled_providers_and_empty_resources_are_dropped() {
        let text = "\
providers:
  inference:
  - provider_id: ${env.P:=__disabled__}
    config: {api_key: '${env.NEEDED}'}
  - provider_id: kept
registered_resources:
  models:
  - model_id: ${env.M:+m1}
  - model_id: m2
";
        let doc = parse(text).expect("valid yaml");
        let resolved =
            substitute(&doc, &env_of(&[])).expect("the disabled provider's variable is not needed");
        let inference = resolved
            .get("providers")
            .and_then(|p| p.get("inference"))
            .map(|n| n.kind.clone());
        let Some(Kind::Seq(items)) = inference else {
            panic!("inference is a list")
        };
        assert_eq!(items.iter().map(|(i, _)| *i).collect::<Vec<_>>(), [1]);
        let models = resolved
            .get("registered_resources")
            .and_then(|r| r.get("models"))
            .map(|n| n.kind.clone());
        let Some(Kind::Seq(items)) = models else {
            panic!("models is a list")
        };
        assert_eq!(items.iter().map(|(i, _)| *i).collect::<Vec<_>>(), [1]);
    }

    #[test]
    fn an_empty_provider_id_disables_but_still_needs_its_variables() {
        let text = "providers:\n  inference:\n  - provider_id: ${env.P:+p}\n    config: {key: '${env.K}'}\n";
        let doc = parse(text).expect("valid yaml");
        let missing = substitute(&doc, &env_of(&[])).expect_err("K is still required");
        assert_eq!(
            missing.iter().map(|m| m.var.as_str()).collect::<Vec<_>>(),
            ["K"]
        );
    }

    #[test]
    fn auth_with_an_empty_type_is_switched_off() {
        let text = "server:\n  auth:\n    provider_config:\n      type: ${env.AUTH:+oauth2_token}\n      issuer: ${env.ISSUER}\n";
        let doc = parse(text).expect("valid yaml");
        let resolved = substitute(&doc, &env_of(&[])).expect("ISSUER is not needed with auth off");
        let config = resolved
            .get("server")
            .and_then(|s| s.get("auth"))
            .and_then(|a| a.get("provider_config"));
        assert_eq!(config.map(|n| &n.kind), Some(&Kind::Null));
        let missing =
            substitute(&doc, &env_of(&[("AUTH", "1")])).expect_err("auth on needs ISSUER");
        assert_eq!(
            missing.iter().map(|m| m.var.as_str()).collect::<Vec<_>>(),
            ["ISSUER"]
        );
    }

    #[test]
    fn references_are_listed_with_their_operands() {
        let r = |var: &str, default: Option<&str>, if_set: Option<&str>, start, end| Reference {
            var: var.into(),
            default: default.map(Into::into),
            if_set: if_set.map(Into::into),
            start,
            end,
        };
        assert_eq!(
            references("${env.A}/${env.B:=x}${env.C:+y}${env.D:=}"),
            [
                r("A", None, None, 0, 8),
                r("B", Some("x"), None, 9, 20),
                r("C", None, Some("y"), 20, 31),
                r("D", Some(""), None, 31, 41),
            ]
        );
    }

    #[test]
    fn resolve_text_alone() {
        let env = env_of(&[("U", "u")]);
        assert_eq!(resolve_text("${env.U:+on}", &env), Ok(s("on")));
        assert_eq!(resolve_text("${env.V:+on}", &env), Ok(Kind::Null));
        assert_eq!(
            resolve_text("${env.V}${env.W}", &env),
            Err(vec!["V".to_owned(), "W".to_owned()])
        );
    }
}
