//! `server.auth`, typed after llama-stack 0.7.3's `AuthenticationConfig`
//! (llama_stack/core/datatypes.py) and its access-control rules
//! (llama_stack/core/access_control/datatypes.py, conditions.py): what the
//! stack refuses at start-up is a problem here, with its line, and what the
//! harness needs to know (does the stack take its keys from the session's
//! own token issuer?) is a typed value.
//!
//! Kept typed: the provider's kind, the `oauth2_token` fields the issuer
//! service serves (JWKS URI, issuer, audience, key recheck period, with the
//! text they were written as), and the route rules (the harness waits on
//! `/v1/health`, which a route policy can close). The access policy is
//! checked, not kept: nothing in the harness reads it.

use super::env;
use super::error::Problem;
use super::node::{Kind, Node};
use super::read::{Fields, Reader, join};

/// The variables through which the session's token issuer reaches a
/// run.yaml: a `jwks.uri` written as `${env.STACK_HARNESS_JWKS_URI}` is
/// what asks for the issuer.
pub(crate) const JWKS_URI_VAR: &str = "STACK_HARNESS_JWKS_URI";
pub(crate) const ISSUER_VAR: &str = "STACK_HARNESS_ISSUER";
pub(crate) const AUDIENCE_VAR: &str = "STACK_HARNESS_AUDIENCE";

/// The stack's default `audience`.
pub(crate) const DEFAULT_AUDIENCE: &str = "llama-stack";
/// The stack's default `jwks.key_recheck_period`, seconds.
const DEFAULT_KEY_RECHECK_PERIOD: i64 = 3600;

/// `server.auth`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Auth {
    /// `None` when the block has only policies (or its type resolved empty).
    pub(crate) provider: Option<AuthProvider>,
    pub(crate) route_policy: Vec<RouteRule>,
}

/// `server.auth.provider_config`, by its `type`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum AuthProvider {
    OAuth2Token(OAuth2Token),
    /// `github_token`, `custom` or `kubernetes`: the harness serves nothing
    /// for them.
    Other {
        kind: String,
    },
}

/// A string value with the text it was written as, when that had
/// `${env...}` in it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Written {
    pub(crate) value: String,
    pub(crate) raw: Option<String>,
}

impl Written {
    /// Whether the written text refers to `var`.
    pub(crate) fn refers_to(&self, var: &str) -> bool {
        self.raw
            .as_deref()
            .is_some_and(|raw| env::references(raw).iter().any(|r| r.var == var))
    }

    /// Whether the written text is exactly one reference to `var`, with
    /// nothing around it (a default is fine).
    pub(crate) fn is_only(&self, var: &str) -> bool {
        let Some(raw) = self.raw.as_deref() else {
            return false;
        };
        let references = env::references(raw);
        matches!(references.as_slice(), [r] if r.var == var && r.start == 0 && r.end == raw.len())
    }
}

/// `provider_config` of `type: oauth2_token`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OAuth2Token {
    pub(crate) audience: Written,
    /// `None`: the stack does not check `iss`.
    pub(crate) issuer: Option<Written>,
    /// `None` when the provider uses `introspection` instead.
    pub(crate) jwks: Option<Jwks>,
}

/// `provider_config.jwks`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Jwks {
    pub(crate) uri: Written,
    /// Seconds the stack keeps a fetched key set before it may fetch again.
    pub(crate) key_recheck_period: i64,
}

/// One `route_policy` rule: what the harness needs to tell whether an
/// anonymous caller reaches a route.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RouteRule {
    /// Its key path, `server.auth.route_policy[0]`.
    pub(crate) path: String,
    pub(crate) permit: bool,
    pub(crate) paths: Vec<String>,
    /// A `when` or `unless` condition: such a rule never matches an
    /// anonymous caller (public routes are served without authentication).
    pub(crate) conditional: bool,
}

impl RouteRule {
    /// Whether the rule's paths match `route`, as the stack's
    /// `_route_matches` does: `*`, a `prefix*`, `regex:<re>` (anchored at the
    /// start, like Python's `re.match`) or the exact path.
    pub(crate) fn matches(&self, route: &str) -> bool {
        self.paths.iter().any(|pattern| {
            if pattern == "*" {
                true
            } else if let Some(re) = pattern.strip_prefix("regex:") {
                regex::Regex::new(&format!("^(?:{re})")).is_ok_and(|re| re.is_match(route))
            } else if let Some(prefix) = pattern.strip_suffix('*') {
                route.starts_with(prefix)
            } else {
                pattern == route
            }
        })
    }
}

impl Auth {
    /// Whether an anonymous caller is let through to `route` (llama-stack
    /// serves `/v1/health` and `/v1/version` without authentication, and
    /// then applies the route policy with no user): the first rule that
    /// matches decides; none matching denies; no policy allows all.
    pub(crate) fn anonymous_reaches(&self, route: &str) -> bool {
        if self.route_policy.is_empty() {
            return true;
        }
        self.route_policy
            .iter()
            .find(|rule| !rule.conditional && rule.matches(route))
            .is_some_and(|rule| rule.permit)
    }

    /// The `oauth2_token` provider, if that is the kind.
    pub(crate) fn oauth2_token(&self) -> Option<&OAuth2Token> {
        match &self.provider {
            Some(AuthProvider::OAuth2Token(token)) => Some(token),
            _ => None,
        }
    }
}

const AUTH_KEYS: &[&str] = &["provider_config", "route_policy", "access_policy"];
const PROVIDER_TYPES: [&str; 4] = ["custom", "github_token", "kubernetes", "oauth2_token"];
const OAUTH2_KEYS: &[&str] = &[
    "type",
    "audience",
    "verify_tls",
    "tls_cafile",
    "issuer",
    "claims_mapping",
    "jwks",
    "introspection",
];
const JWKS_KEYS: &[&str] = &["uri", "token", "key_recheck_period"];
const INTROSPECTION_KEYS: &[&str] = &["url", "client_id", "client_secret", "send_secret_in_body"];
const GITHUB_KEYS: &[&str] = &["type", "github_api_base_url", "claims_mapping"];
const CUSTOM_KEYS: &[&str] = &["type", "endpoint"];
const KUBERNETES_KEYS: &[&str] = &[
    "type",
    "api_server_url",
    "verify_tls",
    "tls_cafile",
    "claims_mapping",
];
const RULE_KEYS: &[&str] = &["permit", "forbid", "when", "unless", "description"];
const ROUTE_SCOPE_KEYS: &[&str] = &["paths"];
const SCOPE_KEYS: &[&str] = &["principal", "actions", "resource"];
const ACTIONS: [&str; 4] = ["create", "read", "update", "delete"];

/// The conditions the stack parses (`parse_condition`), for messages.
const CONDITION_FORMS: &str = "`user is owner`, `user is not owner`, `user with <value> in <attribute>`, \
     `user with <value> not in <attribute>`, `user in owners <attribute>`, \
     `user not in owners <attribute>`, `resource is unowned`";

/// Whether the stack's `parse_condition` accepts `condition`.
fn is_condition(condition: &str) -> bool {
    let words: Vec<&str> = condition.split_whitespace().collect();
    matches!(
        words.as_slice(),
        ["user", "is", "owner"]
            | ["user", "is", "not", "owner"]
            | ["user", "with", _, "in", _]
            | ["user", "with", _, "not", "in", _]
            | ["user", "in", "owners", _]
            | ["user", "not", "in", "owners", _]
            | ["resource", "is", "unowned"]
    )
}

impl Reader<'_> {
    pub(super) fn auth(&mut self, node: &Node, path: &str) -> Option<Auth> {
        let f = self.fields(node, path, AUTH_KEYS)?;
        let provider = match f.get("provider_config") {
            None
            | Some(Node {
                kind: Kind::Null, ..
            }) => None,
            Some(node) => self.auth_provider(node, &f.path("provider_config")),
        };
        let route_policy = self
            .list(&f, "route_policy")
            .iter()
            .filter_map(|(i, rule)| self.route_rule(rule, format!("{path}.route_policy[{i}]")))
            .collect();
        for (i, rule) in self.list(&f, "access_policy") {
            self.access_rule(rule, format!("{path}.access_policy[{i}]"));
        }
        Some(Auth {
            provider,
            route_policy,
        })
    }

    fn auth_provider(&mut self, node: &Node, path: &str) -> Option<AuthProvider> {
        // The stack picks the class by `type` (a pydantic discriminator), so
        // the type is read before the keys it decides.
        let Some(kind) = node.get("type") else {
            let line = node.line;
            self.issue(
                line,
                join(path, "type"),
                Problem::Missing {
                    needed_by: format!("the auth provider (one of {})", PROVIDER_TYPES.join(", ")),
                },
            );
            return None;
        };
        let kind = self.string(kind, &join(path, "type"))?;
        let known = match kind.as_str() {
            "oauth2_token" => OAUTH2_KEYS,
            "github_token" => GITHUB_KEYS,
            "custom" => CUSTOM_KEYS,
            "kubernetes" => KUBERNETES_KEYS,
            _ => {
                let line = node.entry("type").map_or(node.line, |(key, _)| key.line);
                self.issue(
                    line,
                    join(path, "type"),
                    Problem::UnknownAuthProvider {
                        found: kind,
                        known: PROVIDER_TYPES.map(str::to_owned).to_vec(),
                    },
                );
                return None;
            }
        };
        let f = self.fields(node, path, known)?;
        match kind.as_str() {
            "oauth2_token" => self.oauth2_token(&f).map(AuthProvider::OAuth2Token),
            "custom" => {
                self.required_string(&f, "endpoint", "the `custom` auth provider")?;
                Some(AuthProvider::Other { kind })
            }
            _ => Some(AuthProvider::Other { kind }),
        }
    }

    fn written(&mut self, f: &Fields, key: &str) -> Option<Written> {
        let node = f.get(key).filter(|n| n.kind != Kind::Null)?;
        let value = self.string(node, &f.path(key))?;
        Some(Written {
            value,
            raw: node.raw.clone(),
        })
    }

    fn oauth2_token(&mut self, f: &Fields) -> Option<OAuth2Token> {
        let audience = self.written(f, "audience").unwrap_or(Written {
            value: DEFAULT_AUDIENCE.to_owned(),
            raw: None,
        });
        let issuer = self.written(f, "issuer");
        let _ = self.bool_or(f, "verify_tls", true);
        for (claim, attribute) in self.open_map(f, "claims_mapping") {
            if attribute.as_str().is_none_or(str::is_empty) {
                self.issue(
                    f.line("claims_mapping"),
                    join(&f.path("claims_mapping"), &claim),
                    Problem::WrongType {
                        expected: "the name of a user attribute (`roles`, `teams`, ...)",
                        found: attribute.to_string(),
                    },
                );
            }
        }
        let needed_by =
            "the `oauth2_token` auth provider (give `jwks: {uri: ...}` or `introspection`)";
        let (is_jwks, node) =
            self.one_of(f, ("jwks", "introspection"), f.line("type"), needed_by)?;
        let jwks = if is_jwks {
            Some(self.jwks(node, &f.path("jwks"))?)
        } else {
            let i = self.fields(node, &f.path("introspection"), INTROSPECTION_KEYS)?;
            for key in ["url", "client_id", "client_secret"] {
                self.required_string(&i, key, "token introspection");
            }
            None
        };
        Some(OAuth2Token {
            audience,
            issuer,
            jwks,
        })
    }

    /// Exactly one of the keys `a` and `b`, as the stack's validators want:
    /// whether it is `a`, and its value. Neither is reported at `line`.
    fn one_of<'n>(
        &mut self,
        f: &Fields<'n>,
        (a, b): (&str, &str),
        line: u32,
        needed_by: &str,
    ) -> Option<(bool, &'n Node)> {
        let given = |key: &str| f.get(key).filter(|n| n.kind != Kind::Null);
        match (given(a), given(b)) {
            (Some(node), None) => Some((true, node)),
            (None, Some(node)) => Some((false, node)),
            (None, None) => {
                let needed_by = needed_by.to_owned();
                self.issue(line, f.path(a), Problem::Missing { needed_by });
                None
            }
            (Some(_), Some(_)) => {
                let other = a.to_owned();
                self.issue(f.line(b), f.path(b), Problem::Exclusive { other });
                None
            }
        }
    }

    fn jwks(&mut self, node: &Node, path: &str) -> Option<Jwks> {
        let f = self.fields(node, path, JWKS_KEYS)?;
        self.required_string(&f, "uri", "`jwks` (the URL of the key set)")?;
        let uri = self.written(&f, "uri")?;
        let _ = self.optional_string(&f, "token");
        let key_recheck_period = self.int_or(&f, "key_recheck_period", DEFAULT_KEY_RECHECK_PERIOD);
        Some(Jwks {
            uri,
            key_recheck_period,
        })
    }

    /// `permit`/`forbid` (exactly one), `when`/`unless` (at most one), each
    /// condition one the stack parses. The scope is checked by `scope`.
    fn rule<'n>(&mut self, node: &'n Node, path: &str) -> Option<(bool, &'n Node, bool)> {
        let f = self.fields(node, path, RULE_KEYS)?;
        let (is_permit, scope) = self.one_of(
            &f,
            ("permit", "forbid"),
            node.line,
            "every rule (or `forbid`)",
        )?;
        let when = f.get("when").filter(|n| n.kind != Kind::Null);
        let unless = f.get("unless").filter(|n| n.kind != Kind::Null);
        if when.is_some() && unless.is_some() {
            self.issue(
                f.line("unless"),
                f.path("unless"),
                Problem::Exclusive {
                    other: "when".to_owned(),
                },
            );
        }
        for (key, node) in [("when", when), ("unless", unless)] {
            let Some(node) = node else { continue };
            let conditions: Vec<(String, &Node)> = match &node.kind {
                Kind::Seq(items) => items
                    .iter()
                    .map(|(i, item)| (format!("{}[{i}]", f.path(key)), item))
                    .collect(),
                _ => vec![(f.path(key), node)],
            };
            for (path, condition) in conditions {
                let Some(text) = self.string(condition, &path) else {
                    continue;
                };
                if !is_condition(&text) {
                    self.issue(
                        condition.line,
                        path,
                        Problem::UnknownCondition {
                            condition: text,
                            forms: CONDITION_FORMS,
                        },
                    );
                }
            }
        }
        Some((is_permit, scope, when.is_some() || unless.is_some()))
    }

    fn route_rule(&mut self, node: &Node, path: String) -> Option<RouteRule> {
        let (permit, scope, conditional) = self.rule(node, &path)?;
        let scope_path = join(&path, if permit { "permit" } else { "forbid" });
        let f = self.fields(scope, &scope_path, ROUTE_SCOPE_KEYS)?;
        let Some(paths) = f.get("paths") else {
            self.issue(
                scope.line,
                f.path("paths"),
                Problem::Missing {
                    needed_by: "a route rule (`\"*\"`, a path, `/prefix*` or `regex:...`)"
                        .to_owned(),
                },
            );
            return None;
        };
        let paths = match &paths.kind {
            Kind::Seq(items) => items
                .iter()
                .filter_map(|(i, item)| self.string(item, &format!("{}[{i}]", f.path("paths"))))
                .collect(),
            _ => vec![self.string(paths, &f.path("paths"))?],
        };
        Some(RouteRule {
            path,
            permit,
            paths,
            conditional,
        })
    }

    fn access_rule(&mut self, node: &Node, path: String) {
        let Some((permit, scope, _)) = self.rule(node, &path) else {
            return;
        };
        let scope_path = join(&path, if permit { "permit" } else { "forbid" });
        let Some(f) = self.fields(scope, &scope_path, SCOPE_KEYS) else {
            return;
        };
        let Some(actions) = f.get("actions") else {
            self.issue(
                scope.line,
                f.path("actions"),
                Problem::Missing {
                    needed_by: "an access rule (`[create, read, update, delete]` or some of them)"
                        .to_owned(),
                },
            );
            return;
        };
        let actions: Vec<(String, &Node)> = match &actions.kind {
            Kind::Seq(items) => items
                .iter()
                .map(|(i, item)| (format!("{}[{i}]", f.path("actions")), item))
                .collect(),
            _ => vec![(f.path("actions"), actions)],
        };
        for (path, action) in actions {
            if let Some(name) = self.string(action, &path)
                && !ACTIONS.contains(&name.as_str())
            {
                self.issue(action.line, path, Problem::UnknownAction { found: name });
            }
        }
        let _ = self.optional_string(&f, "principal");
        let _ = self.optional_string(&f, "resource");
    }
}

/// What the session's token issuer must put in its tokens for a run.yaml
/// whose `oauth2_token` provider takes its keys from the issuer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IssuerNeeds {
    /// `aud`: the file's own audience, or `None` when the file leaves it to
    /// the issuer (`${env.STACK_HARNESS_AUDIENCE}`).
    pub(crate) audience: Option<String>,
    /// `iss`: the file's own issuer, or `None` when it is the issuer's URL
    /// (`${env.STACK_HARNESS_ISSUER}`, or no `issuer`: not checked).
    pub(crate) issuer: Option<String>,
    /// `jwks.key_recheck_period`: how long the stack may keep a key set
    /// before a key it lacks makes it fetch again.
    pub(crate) key_recheck_period: i64,
}

impl super::RunConfig {
    /// Whether the stack takes its keys from the session's token issuer:
    /// an `oauth2_token` provider whose `jwks.uri` is written as
    /// `${env.STACK_HARNESS_JWKS_URI}`.
    pub(crate) fn harness_issuer(&self) -> Option<IssuerNeeds> {
        let token = self.server.auth.as_ref()?.oauth2_token()?;
        let jwks = token.jwks.as_ref()?;
        if !jwks.uri.refers_to(JWKS_URI_VAR) {
            return None;
        }
        let own =
            |written: &Written, var: &str| (!written.refers_to(var)).then(|| written.value.clone());
        Some(IssuerNeeds {
            audience: own(&token.audience, AUDIENCE_VAR),
            issuer: token.issuer.as_ref().and_then(|i| own(i, ISSUER_VAR)),
            key_recheck_period: jwks.key_recheck_period,
        })
    }

    /// What the stack would accept but a harness session cannot run: a
    /// route policy that closes `/v1/health` to the harness's health wait,
    /// and a harness variable with text around it.
    pub(crate) fn session_issues(&self) -> Vec<super::Issue> {
        let Some(auth) = &self.server.auth else {
            return Vec::new();
        };
        let mut issues = Vec::new();
        let mut push = |key: String, problem: Problem| {
            let line = self.line_of(&key).unwrap_or(0);
            issues.push(super::Issue { line, key, problem });
        };
        if !auth.anonymous_reaches("/v1/health") {
            push(
                "server.auth.route_policy".to_owned(),
                Problem::RouteClosed {
                    route: "/v1/health",
                },
            );
        }
        if let Some(token) = auth.oauth2_token() {
            let base = "server.auth.provider_config";
            let written = [
                (
                    token.jwks.as_ref().map(|j| &j.uri),
                    "jwks.uri",
                    JWKS_URI_VAR,
                ),
                (token.issuer.as_ref(), "issuer", ISSUER_VAR),
                (Some(&token.audience), "audience", AUDIENCE_VAR),
            ];
            for (value, key, var) in written {
                if let Some(value) = value
                    && value.refers_to(var)
                    && !value.is_only(var)
                {
                    push(format!("{base}.{key}"), Problem::NotOnlyVar { var });
                }
            }
        }
        issues
    }
}

#[cfg(test)]
mod tests {
    use super::super::{RunConfig, harness_provided};
    use super::*;

    const HEAD: &str = "version: 2\ndistro_name: t\napis: [inference]\nproviders:\n  inference:\n  - provider_id: vllm\n    provider_type: remote::vllm\n    config: {base_url: \"http://127.0.0.1:8000/v1\"}\nserver:\n  auth:\n";

    fn load(auth: &str) -> Result<RunConfig, String> {
        let env = |name: &str| harness_provided(name).map(str::to_owned);
        RunConfig::parse("run.yaml", &format!("{HEAD}{auth}"), &env).map_err(|e| e.to_string())
    }

    const ISSUER_AUTH: &str = "    provider_config:\n      type: oauth2_token\n      jwks: {uri: \"${env.STACK_HARNESS_JWKS_URI}\"}\n      issuer: ${env.STACK_HARNESS_ISSUER}\n      audience: ${env.STACK_HARNESS_AUDIENCE}\n";

    #[test]
    fn a_jwks_uri_of_the_harness_variable_asks_for_the_issuer() {
        let config = load(ISSUER_AUTH).expect("loads");
        assert_eq!(
            config.harness_issuer(),
            Some(IssuerNeeds {
                audience: None,
                issuer: None,
                key_recheck_period: 3600
            })
        );
        assert!(config.session_issues().is_empty());

        let own = "    provider_config:\n      type: oauth2_token\n      jwks: {uri: \"${env.STACK_HARNESS_JWKS_URI}\", key_recheck_period: 5}\n      issuer: https://idp.example\n      audience: my-stack\n";
        assert_eq!(
            load(own).expect("loads").harness_issuer(),
            Some(IssuerNeeds {
                audience: Some("my-stack".to_owned()),
                issuer: Some("https://idp.example".to_owned()),
                key_recheck_period: 5
            })
        );
        let elsewhere = "    provider_config:\n      type: oauth2_token\n      jwks: {uri: \"https://idp.example/jwks\"}\n";
        assert_eq!(load(elsewhere).expect("loads").harness_issuer(), None);
    }

    #[test]
    fn the_project_variant_asks_for_the_issuer_and_keeps_health_open() {
        let env = |name: &str| harness_provided(name).map(str::to_owned);
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../run-configs/ci-tests/run-with-auth.yaml"
        );
        let config = RunConfig::load(std::path::Path::new(path), &env).expect("loads");
        assert!(config.harness_issuer().is_some());
        let auth = config.server.auth.as_ref().expect("auth");
        assert!(auth.anonymous_reaches("/v1/health") && auth.anonymous_reaches("/v1/version"));
        assert!(
            !auth.anonymous_reaches("/v1/models"),
            "conditional rules never match anonymous"
        );
        let plain = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../run-configs/ci-tests/run.yaml"
        );
        let plain = RunConfig::load(std::path::Path::new(plain), &env).expect("loads");
        assert_eq!(plain.harness_issuer(), None);
    }

    #[test]
    fn what_the_stack_refuses_is_one_problem_each_with_its_line() {
        let cases = [
            (
                "    provider_config:\n      audience: x\n",
                "run.yaml:12: server.auth.provider_config.type: missing; the auth provider (one of custom, github_token, kubernetes, oauth2_token) needs it",
            ),
            (
                "    provider_config:\n      type: oauth3\n",
                "run.yaml:12: server.auth.provider_config.type: unknown auth provider type `oauth3`; known types: custom, github_token, kubernetes, oauth2_token",
            ),
            (
                "    provider_config:\n      type: oauth2_token\n      issuer: x\n",
                "run.yaml:12: server.auth.provider_config.jwks: missing; the `oauth2_token` auth provider (give `jwks: {uri: ...}` or `introspection`) needs it",
            ),
            (
                "    provider_config:\n      type: oauth2_token\n      jwks:\n        key_recheck_period: 5\n",
                "run.yaml:14: server.auth.provider_config.jwks.uri: missing; `jwks` (the URL of the key set) needs it",
            ),
            (
                "    provider_config:\n      type: oauth2_token\n      jwks: {uri: x}\n      introspection: {url: y}\n",
                "run.yaml:14: server.auth.provider_config.introspection: given together with `jwks`; the stack takes only one of the two",
            ),
            (
                "    provider_config:\n      type: custom\n",
                "run.yaml:12: server.auth.provider_config.endpoint: missing; the `custom` auth provider needs it",
            ),
            (
                "    route_policy:\n    - description: nothing\n",
                "run.yaml:12: server.auth.route_policy[0].permit: missing; every rule (or `forbid`) needs it",
            ),
            (
                "    access_policy:\n    - permit: {actions: [read]}\n      when: user owns it\n",
                "run.yaml:13: server.auth.access_policy[0].when: the stack cannot parse the condition `user owns it`; it knows `user is owner`, `user is not owner`, `user with <value> in <attribute>`, `user with <value> not in <attribute>`, `user in owners <attribute>`, `user not in owners <attribute>`, `resource is unowned`",
            ),
            (
                "    access_policy:\n    - permit: {actions: [read, erase]}\n",
                "run.yaml:12: server.auth.access_policy[0].permit.actions[1]: unknown action `erase`; actions: create, read, update, delete",
            ),
            (
                "    access_policy:\n    - permit: {resource: x}\n",
                "run.yaml:12: server.auth.access_policy[0].permit.actions: missing; an access rule (`[create, read, update, delete]` or some of them) needs it",
            ),
        ];
        let found: Vec<String> = cases
            .iter()
            .map(|(auth, _)| load(auth).expect_err(auth))
            .collect();
        let expected: Vec<&str> = cases.iter().map(|(_, e)| *e).collect();
        assert_eq!(found, expected);
    }

    /// What a session cannot run in this `auth` block, as shown.
    fn session_issues(auth: &str) -> Vec<String> {
        let config = load(auth).expect("the stack runs it");
        config
            .session_issues()
            .iter()
            .map(|i| i.display_in("run.yaml").to_string())
            .collect()
    }

    #[test]
    fn what_a_session_cannot_run_is_named() {
        let closed = format!(
            "{ISSUER_AUTH}    route_policy:\n    - permit: {{paths: \"*\"}}\n      when: user with admin in roles\n"
        );
        assert_eq!(
            session_issues(&closed),
            [
                "run.yaml:16: server.auth.route_policy: this route policy answers 403 to `/v1/health` without a token (the stack serves it unauthenticated, so a `when`/`unless` rule never matches it), and the harness waits on `/v1/health` before any test; put an unconditional `- permit: {paths: [\"/v1/health\", \"/v1/version\"]}` first"
            ]
        );
        let suffixed = ISSUER_AUTH.replace("JWKS_URI}", "JWKS_URI}/keys");
        assert_eq!(
            session_issues(&suffixed),
            [
                "run.yaml:13: server.auth.provider_config.jwks.uri: must be exactly `${env.STACK_HARNESS_JWKS_URI}`: the session's token issuer hands the stack this value whole, and anything around it points the stack elsewhere"
            ]
        );
    }

    #[test]
    fn route_patterns_match_as_the_stack_matches_them() {
        let rule = |paths: &[&str]| RouteRule {
            path: String::new(),
            permit: true,
            paths: paths.iter().map(|p| (*p).to_owned()).collect(),
            conditional: false,
        };
        assert!(rule(&["*"]).matches("/v1/anything"));
        assert!(rule(&["/v1/files*"]).matches("/v1/files"));
        assert!(rule(&["/v1/files*"]).matches("/v1/files/f-1/content"));
        assert!(!rule(&["/v1/files"]).matches("/v1/files/f-1"));
        assert!(rule(&["regex:/v1/(files|providers)"]).matches("/v1/providers/x"));
        assert!(!rule(&["regex:/v1/(files|providers)"]).matches("/x/v1/files"));
    }
}
