//! What can be wrong with a run.yaml, and how it is shown: every problem
//! names the file, the line and the key path, compiler style.

use std::fmt;
use std::path::PathBuf;

/// Loading, validating or synthesising a run config failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RunYamlError {
    #[error("cannot read run config `{}`: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{source_name}:{line}:{column}: {message}")]
    Syntax {
        source_name: String,
        line: u32,
        column: u32,
        message: String,
    },
    /// Every problem found in one pass (missing variables, then shape, then
    /// meaning: a later pass runs only when the earlier one found nothing).
    #[error("{}", Rendered { source_name, issues })]
    Invalid {
        source_name: String,
        issues: Vec<Issue>,
    },
    #[error("cannot synthesise a run.yaml: {0}")]
    Synthesize(String),
}

impl RunYamlError {
    /// The problems of an `Invalid` error (empty for the other kinds).
    #[cfg(test)]
    pub(crate) fn issues(&self) -> &[Issue] {
        match self {
            RunYamlError::Invalid { issues, .. } => issues,
            _ => &[],
        }
    }
}

/// One problem at one key.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Issue {
    /// 1-based; 0 when the position is unknown (an empty document).
    pub(crate) line: u32,
    /// The key path as the stack spells it: `providers.inference[0].provider_type`.
    pub(crate) key: String,
    pub(crate) problem: Problem,
}

impl Issue {
    /// `file:line: key: problem`, the form every run.yaml message takes.
    pub(crate) fn display_in<'a>(&'a self, source_name: &'a str) -> impl fmt::Display + 'a {
        IssueIn {
            source_name,
            issue: self,
        }
    }
}

struct IssueIn<'a> {
    source_name: &'a str,
    issue: &'a Issue,
}

impl fmt::Display for IssueIn<'_> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let Issue { line, key, problem } = self.issue;
        match (*line, key.is_empty()) {
            (0, true) => write!(f, "{}: {problem}", self.source_name),
            (0, false) => write!(f, "{}: {key}: {problem}", self.source_name),
            (line, true) => write!(f, "{}:{line}: {problem}", self.source_name),
            (line, false) => write!(f, "{}:{line}: {key}: {problem}", self.source_name),
        }
    }
}

struct Rendered<'a> {
    source_name: &'a str,
    issues: &'a [Issue],
}

impl fmt::Display for Rendered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        for (i, issue) in self.issues.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{}", issue.display_in(self.source_name))?;
        }
        Ok(())
    }
}

/// `, a, b` lists and ` (did you mean `x`?)` hints are built by these.
fn list(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_owned()
    } else {
        items.join(", ")
    }
}

fn did_you_mean(suggestion: &Option<String>) -> String {
    suggestion
        .as_ref()
        .map(|s| format!(" (did you mean `{s}`?)"))
        .unwrap_or_default()
}

/// The problem itself; the text reads after `file:line: key: `.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub(crate) enum Problem {
    #[error(
        "environment variable `{var}` is not set; set it, or give a default with `${{env.{var}:=default}}`"
    )]
    MissingEnvVar { var: String },
    #[error("expected {expected}, found {found}")]
    WrongType {
        expected: &'static str,
        found: String,
    },
    #[error("missing; {needed_by} needs it")]
    Missing { needed_by: String },
    #[error(
        "missing; name the distribution with `distro_name: <name>` (or the deprecated `image_name`)"
    )]
    MissingDistroName,
    #[error("unknown key, ignored by the stack{}", did_you_mean(suggestion))]
    UnknownKey { suggestion: Option<String> },
    #[error("deprecated; {advice}")]
    Deprecated { advice: String },
    #[error(
        "port `{port}` is out of range; the stack accepts 1024-65535 (ports below 1024 are refused)"
    )]
    PortOutOfRange { port: i64 },
    #[error(
        "unknown api `{name}`; known apis: {}{}",
        list(known),
        did_you_mean(suggestion)
    )]
    UnknownApi {
        name: String,
        known: Vec<String>,
        suggestion: Option<String>,
    },
    #[error("api `{api}` cannot take providers: {why}")]
    NotProvidable { api: String, why: String },
    #[error(
        "providers are listed for api `{api}`, which is not in `apis` ({}); add `{api}` to `apis` or remove these providers",
        list(apis)
    )]
    ApiNotServed { api: String, apis: Vec<String> },
    #[error(
        "provider type `{found}` must be `remote::<name>` or `inline::<name>`{}",
        did_you_mean(suggestion)
    )]
    ProviderTypeFormat {
        found: String,
        suggestion: Option<String>,
    },
    #[error("unknown provider type `{found}` for api `{api}`; {}", match suggestion {
        Some(s) => format!("did you mean `{s}`?"),
        None => format!("known types: {}", list(known)),
    })]
    UnknownProviderType {
        found: String,
        api: String,
        suggestion: Option<String>,
        known: Vec<String>,
    },
    #[error("duplicate provider id `{id}` for api `{api}`; the first is on line {first_line}")]
    DuplicateProviderId {
        id: String,
        api: String,
        first_line: u32,
    },
    #[error("unknown backend type `{found}`; valid types: {}", list(valid))]
    UnknownBackendType { found: String, valid: Vec<String> },
    #[error(
        "unknown backend `{name}`{}; backends defined: {}",
        if *defaulted { " (the stack's default for this store)" } else { "" },
        list(defined)
    )]
    UnknownBackend {
        name: String,
        defined: Vec<String>,
        defaulted: bool,
    },
    #[error("backend `{name}` is a `{kind}` backend, but this store needs a {needs} backend")]
    WrongBackendKind {
        name: String,
        kind: String,
        needs: &'static str,
    },
    #[error("unknown model type `{found}`; valid types: embedding, llm, rerank")]
    UnknownModelType { found: String },
    #[error("unknown auth provider type `{found}`; known types: {}", list(known))]
    UnknownAuthProvider { found: String, known: Vec<String> },
    #[error("given together with `{other}`; the stack takes only one of the two")]
    Exclusive { other: String },
    #[error("the stack cannot parse the condition `{condition}`; it knows {forms}")]
    UnknownCondition {
        condition: String,
        forms: &'static str,
    },
    #[error("unknown action `{found}`; actions: create, read, update, delete")]
    UnknownAction { found: String },
    #[error(
        "this route policy answers 403 to `{route}` without a token (the stack serves it unauthenticated, so a `when`/`unless` rule never matches it), \
         and the harness waits on `/v1/health` before any test; put an unconditional `- permit: {{paths: [\"/v1/health\", \"/v1/version\"]}}` first"
    )]
    RouteClosed { route: &'static str },
    #[error(
        "must be exactly `${{env.{var}}}`: the session's token issuer hands the stack this value whole, and anything around it points the stack elsewhere"
    )]
    NotOnlyVar { var: &'static str },
    #[error(
        "unknown provider `{id}` for api `{api}`; {api} providers: {}{}",
        list(known),
        disabled_note(id, disabled_by)
    )]
    UnknownProviderRef {
        id: String,
        api: String,
        known: Vec<String>,
        disabled_by: Option<String>,
    },
}

fn disabled_note(id: &str, disabled_by: &Option<String>) -> String {
    disabled_by
        .as_ref()
        .map(|var| format!(" (provider `{id}` is disabled because `{var}` is not set)"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issue(line: u32, key: &str, problem: Problem) -> Issue {
        Issue {
            line,
            key: key.to_owned(),
            problem,
        }
    }

    #[test]
    fn issues_render_as_file_line_key_problem() {
        let err = RunYamlError::Invalid {
            source_name: "run-configs/starter/run.yaml".to_owned(),
            issues: vec![
                issue(
                    23,
                    "storage.stores.inference.backend",
                    Problem::UnknownBackend {
                        name: "sql_defualt".to_owned(),
                        defined: vec!["kv_default".to_owned(), "sql_default".to_owned()],
                        defaulted: false,
                    },
                ),
                issue(0, "distro_name", Problem::MissingDistroName),
            ],
        };
        assert_eq!(
            err.to_string(),
            "run-configs/starter/run.yaml:23: storage.stores.inference.backend: unknown backend `sql_defualt`; backends defined: kv_default, sql_default\n\
             run-configs/starter/run.yaml: distro_name: missing; name the distribution with `distro_name: <name>` (or the deprecated `image_name`)"
        );
    }

    #[test]
    fn syntax_and_read_errors() {
        let err = RunYamlError::Syntax {
            source_name: "a.yaml".to_owned(),
            line: 3,
            column: 9,
            message: "unclosed bracket '['".to_owned(),
        };
        assert_eq!(err.to_string(), "a.yaml:3:9: unclosed bracket '['");
        let err = RunYamlError::Read {
            path: PathBuf::from("nope/run.yaml"),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        };
        assert_eq!(
            err.to_string(),
            "cannot read run config `nope/run.yaml`: entity not found"
        );
    }
}
