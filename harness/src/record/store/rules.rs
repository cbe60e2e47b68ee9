//! The normalisation and redaction rules file (`recordings/normalize.yaml`):
//! its format, loading and validation. Applying the rules is `normalize`'s
//! and `redact`'s job.
//!
//! Format (every key optional):
//!
//! ```yaml
//! redact_env: [OPENAI_API_KEY]   # values of these variables never reach a recording
//! redact_values: [sk-literal]    # nor these literal strings
//! rules:                         # applied in order, before hashing
//!   - name: file ids             # shown in errors
//!     regex: 'file-[0-9a-f]{32}' # on every string value (or those under `path`)
//!     replace: 'file-{n}'        # `$1`/`${name}` captures; `{n}` = 1, 2, ... per distinct match
//!     responses: true            # also applied to recorded responses, after `response_rules`
//!   - name: tool call ids
//!     path: ['$.messages[*].tool_call_id', '$.messages[*].tool_calls[*].id']
//!     replace: 'call-{n}'        # without `regex`: the whole selected value is replaced
//! response_rules:                # the same syntax, applied to recorded responses
//!   - path: '$.id'
//!     regex: '^(chatcmpl|cmpl)-.*$'
//!     replace: '${1}-{key}'      # `{key}`: the first 16 hex digits of the request key
//! ```
//!
//! `responses: true` is for the stack's own random ids: they reach the
//! upstream in a prompt, and come back quoted in its answer (an error text
//! that echoes the request, a model that cites a file), so one rule keeps
//! both the key and the recorded answer stable.

use std::path::{Path, PathBuf};

use regex::Regex;
use serde::Deserialize;
use serde_json::Value;

use super::jsonpath::JsonPath;
use super::redact::Redactor;
use crate::record::error::RecordError;

/// The rules file inside a recordings directory.
pub(crate) const RULES_FILE: &str = "normalize.yaml";

/// The template token for the exchange's request key (its first 16 hex
/// digits, as in the file name). Only responses can use it: a request's
/// key is what the request rules help compute.
pub(crate) const KEY_TOKEN: &str = "{key}";

/// Environment values shorter than this are not treated as secrets: dummy
/// keys such as `fake` would otherwise be replaced inside ordinary text.
const MIN_ENV_SECRET_LEN: usize = 8;

/// One normalisation rule, validated.
#[derive(Clone, Debug)]
pub(crate) struct Rule {
    /// Empty: the rule applies to the whole body.
    pub(crate) paths: Vec<JsonPath>,
    pub(crate) regex: Option<Regex>,
    /// A string template for regex rules; any JSON value for path rules.
    pub(crate) replace: Value,
    /// A request rule that also applies to recorded responses.
    pub(crate) responses: bool,
}

/// Everything `normalize.yaml` configures: normalisers and redactions.
#[derive(Clone, Debug, Default)]
pub(crate) struct Rules {
    /// Where the rules came from, for messages; `None` for built-in empty rules.
    pub(crate) source: Option<PathBuf>,
    /// Applied to the request body before hashing.
    pub(crate) rules: Vec<Rule>,
    /// Applied to a response (its JSON body, or each JSON event of its
    /// stream) before it is stored and served, in record modes only: the
    /// file's `response_rules`, then the `rules` marked `responses: true`.
    pub(crate) response_rules: Vec<Rule>,
    pub(crate) redactor: Redactor,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    redact_env: Vec<String>,
    #[serde(default)]
    redact_values: Vec<String>,
    #[serde(default)]
    rules: Vec<Value>,
    #[serde(default)]
    response_rules: Vec<Value>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    name: Option<String>,
    path: Option<OneOrMany>,
    regex: Option<String>,
    /// `replace: null` is a value (a path rule may blank a field), not an
    /// absent `replace`.
    #[serde(default, deserialize_with = "present")]
    replace: Option<Value>,
    #[serde(default)]
    responses: bool,
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

impl Rules {
    /// Loads `<dir>/normalize.yaml`, or no rules at all when it does not exist.
    pub(crate) fn load_from_dir(dir: &Path) -> Result<Rules, RecordError> {
        let file = dir.join(RULES_FILE);
        if file.exists() {
            Rules::load(&file)
        } else {
            Ok(Rules::default())
        }
    }

    /// Loads a rules file, reading `redact_env` variables from the process.
    pub(crate) fn load(file: &Path) -> Result<Rules, RecordError> {
        let text = std::fs::read_to_string(file).map_err(|source| RecordError::RulesRead {
            file: file.to_owned(),
            source,
        })?;
        Rules::parse(&text, file, &|name| std::env::var(name).ok())
    }

    /// Parses rules text; `file` is only used in messages.
    pub(crate) fn parse(
        text: &str,
        file: &Path,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Rules, RecordError> {
        let file_error = |problem: String| RecordError::RulesFile {
            file: file.to_owned(),
            problem,
        };
        let raw: RawFile = if text.trim().is_empty() {
            RawFile {
                redact_env: Vec::new(),
                redact_values: Vec::new(),
                rules: Vec::new(),
                response_rules: Vec::new(),
            }
        } else {
            serde_saphyr::from_str(text).map_err(|e| file_error(one_line(&e.to_string())))?
        };
        let section = |section: Section, values: Vec<Value>| {
            values
                .into_iter()
                .enumerate()
                .map(|(index, value)| {
                    parse_rule(value, section).map_err(|problem| RecordError::Rule {
                        file: file.to_owned(),
                        section: section.name(),
                        index,
                        problem,
                    })
                })
                .collect::<Result<Vec<_>, _>>()
        };
        let rules = section(Section::Request, raw.rules)?;
        let mut response_rules = section(Section::Response, raw.response_rules)?;
        response_rules.extend(rules.iter().filter(|r| r.responses).cloned());
        let mut secrets = raw.redact_values;
        secrets.retain(|s| !s.is_empty());
        for name in &raw.redact_env {
            if let Some(value) = env(name).filter(|v| v.len() >= MIN_ENV_SECRET_LEN) {
                secrets.push(value);
            }
        }
        Ok(Rules {
            source: Some(file.to_owned()),
            rules,
            response_rules,
            redactor: Redactor::new(secrets),
        })
    }
}

impl Rules {
    /// These rules, also redacting `secrets`: values the session minted
    /// (the MCP server's token), which no `normalize.yaml` can name.
    pub(crate) fn with_secrets(mut self, secrets: &[String]) -> Rules {
        if !secrets.is_empty() {
            self.redactor = self.redactor.with(secrets);
        }
        self
    }
}

fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// The last line of a regex error ("error: unclosed group"), which is
/// the useful part of its multi-line rendering.
fn regex_problem(error: &regex::Error) -> String {
    let text = error.to_string();
    let last = text
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or_default();
    last.strip_prefix("error: ").unwrap_or(last).to_owned()
}

/// Which list of the file a rule is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Section {
    Request,
    Response,
}

impl Section {
    fn name(self) -> &'static str {
        match self {
            Section::Request => "rules",
            Section::Response => "response_rules",
        }
    }
}

fn parse_rule(value: Value, section: Section) -> Result<Rule, String> {
    let raw: RawRule = serde_json::from_value(value)
        .map_err(|e| format!("{e}; a rule has `name`, `path` and/or `regex`, and `replace`"))?;
    // The name is there for the reader of the file and of this message.
    let name = raw.name.clone();
    build_rule(raw, section).map_err(|problem| match name {
        Some(name) => format!("(`{name}`) {problem}"),
        None => problem,
    })
}

fn build_rule(raw: RawRule, section: Section) -> Result<Rule, String> {
    let paths = match raw.path {
        None => Vec::new(),
        Some(OneOrMany::One(path)) => vec![path],
        Some(OneOrMany::Many(paths)) => paths,
    }
    .iter()
    .map(|p| JsonPath::parse(p))
    .collect::<Result<Vec<_>, _>>()?;
    let regex = raw
        .regex
        .map(|pattern| {
            if pattern.is_empty() {
                return Err("`regex` is empty; it would match everywhere".to_owned());
            }
            Regex::new(&pattern)
                .map_err(|e| format!("bad `regex` `{pattern}`: {}", regex_problem(&e)))
        })
        .transpose()?;
    if regex.is_none() && paths.is_empty() {
        return Err("it needs a `path` or a `regex` (or both) to say what it replaces".to_owned());
    }
    let Some(replace) = raw.replace else {
        return Err("`replace` is missing; say what the matched text becomes".to_owned());
    };
    if regex.is_some() && !replace.is_string() {
        return Err(format!(
            "`replace` must be a string for a `regex` rule, not `{replace}`"
        ));
    }
    if section == Section::Response && raw.responses {
        return Err(
            "`responses` marks a request rule that also applies to responses; a response rule always does"
                .to_owned(),
        );
    }
    if section == Section::Request && replace.as_str().is_some_and(|t| t.contains(KEY_TOKEN)) {
        return Err(format!(
            "`{KEY_TOKEN}` is the request's key, which these rules help compute; use it in `response_rules` only"
        ));
    }
    Ok(Rule {
        paths,
        regex,
        replace,
        responses: raw.responses,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Rules, String> {
        Rules::parse(
            text,
            Path::new("recordings/normalize.yaml"),
            &|name| match name {
                "OPENAI_API_KEY" => Some("sk-live-123456789".to_owned()),
                "SHORT" => Some("fake".to_owned()),
                _ => None,
            },
        )
        .map_err(|e| e.to_string())
    }

    #[test]
    fn a_full_file_loads() {
        let rules = parse(
            "redact_env: [OPENAI_API_KEY, SHORT, UNSET]\nredact_values: [lit-secret]\nrules:\n  - name: files\n    regex: 'file-[0-9a-f]{32}'\n    replace: 'file-{n}'\n  - path: ['$.a', '$.b[*]']\n    replace: 0\n",
        )
        .unwrap();
        assert_eq!(rules.rules.len(), 2);
        assert_eq!(rules.rules[1].paths.len(), 2);
        assert_eq!(rules.rules[1].replace, serde_json::json!(0));
        // Short and unset variables are not secrets.
        assert_eq!(rules.redactor.secret_count(), 2);
    }

    #[test]
    fn response_rules_load_beside_request_rules_and_may_replace_with_null() {
        let rules = parse(
            "rules: [{path: '$.seed', replace: 0}]\nresponse_rules:\n  - path: '$.timings'\n    replace: null\n  - {path: '$.id', regex: '^(c)-.*$', replace: '${1}-{key}-{n}'}\n",
        )
        .unwrap();
        assert_eq!(rules.rules.len(), 1);
        assert_eq!(rules.response_rules.len(), 2);
        assert_eq!(rules.response_rules[0].replace, Value::Null);
    }

    #[test]
    fn request_rules_marked_responses_follow_the_response_rules() {
        let rules = parse(
            "rules:\n  - {regex: 'a', replace: b}\n  - {regex: 'c', replace: d, responses: true}\nresponse_rules:\n  - {path: '$.id', replace: x}\n",
        )
        .unwrap();
        assert_eq!(rules.rules.len(), 2);
        let response: Vec<String> = rules
            .response_rules
            .iter()
            .map(|r| match &r.regex {
                Some(regex) => regex.to_string(),
                None => r.replace.to_string(),
            })
            .collect();
        assert_eq!(response, ["\"x\"", "c"]);
    }

    #[test]
    fn an_empty_file_is_no_rules() {
        let rules = parse("# nothing yet\n").unwrap();
        assert!(rules.rules.is_empty());
    }

    #[test]
    fn broken_rules_name_the_file_the_index_and_the_problem() {
        let table = [
            (
                "rules:\n  - regex: 'a'\n    replace: b\n  - name: x\n    replace: y\n",
                "invalid normalisation rule `rules[1]` in `recordings/normalize.yaml`: (`x`) it needs a `path` or a `regex` (or both) to say what it replaces",
            ),
            (
                "rules:\n  - regex: 'file-('\n    replace: x\n",
                "invalid normalisation rule `rules[0]` in `recordings/normalize.yaml`: bad `regex` `file-(`: unclosed group",
            ),
            (
                "rules:\n  - regex: 'a'\n",
                "invalid normalisation rule `rules[0]` in `recordings/normalize.yaml`: `replace` is missing; say what the matched text becomes",
            ),
            (
                "rules:\n  - regex: 'a'\n    replace: 3\n",
                "invalid normalisation rule `rules[0]` in `recordings/normalize.yaml`: `replace` must be a string for a `regex` rule, not `3`",
            ),
            (
                "rules:\n  - path: 'messages'\n    replace: x\n",
                "invalid normalisation rule `rules[0]` in `recordings/normalize.yaml`: path `messages` must start with `$`",
            ),
            (
                "rules:\n  - regex: ''\n    replace: x\n",
                "invalid normalisation rule `rules[0]` in `recordings/normalize.yaml`: `regex` is empty; it would match everywhere",
            ),
            (
                "rules:\n  - path: '$.id'\n    replace: 'id-{key}'\n",
                "invalid normalisation rule `rules[0]` in `recordings/normalize.yaml`: `{key}` is the request's key, which these rules help compute; use it in `response_rules` only",
            ),
            (
                "response_rules:\n  - path: '$.id'\n    replace: 'id-{key}'\n  - path: '$.created'\n",
                "invalid normalisation rule `response_rules[1]` in `recordings/normalize.yaml`: `replace` is missing; say what the matched text becomes",
            ),
            (
                "rules:\n  - regx: 'a'\n    replace: x\n",
                "invalid normalisation rule `rules[0]` in `recordings/normalize.yaml`: unknown field `regx`, expected one of `name`, `path`, `regex`, `replace`, `responses`; a rule has `name`, `path` and/or `regex`, and `replace`",
            ),
            (
                "response_rules:\n  - {path: '$.id', replace: x, responses: true}\n",
                "invalid normalisation rule `response_rules[0]` in `recordings/normalize.yaml`: `responses` marks a request rule that also applies to responses; a response rule always does",
            ),
        ];
        for (text, message) in table {
            assert_eq!(parse(text).unwrap_err(), message, "{text}");
        }
    }

    #[test]
    fn a_malformed_file_names_the_file() {
        let err = parse("rules: [\n").unwrap_err();
        assert!(
            err.starts_with("invalid normalisation rules file `recordings/normalize.yaml`: "),
            "{err}"
        );
        let err = parse("rulez: []\n").unwrap_err();
        assert!(err.contains("unknown field `rulez`"), "{err}");
    }

    #[test]
    fn a_missing_file_in_a_dir_means_no_rules() {
        let dir = tempfile::tempdir().unwrap();
        assert!(Rules::load_from_dir(dir.path()).unwrap().rules.is_empty());
        let err = Rules::load(&dir.path().join("nope.yaml"))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("cannot read the normalisation rules `"),
            "{err}"
        );
    }
}
