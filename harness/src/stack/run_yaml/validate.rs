//! What a well-typed run config can still get wrong, checked before the
//! stack is started so the mistake is reported with its line instead of a
//! Python traceback after a few seconds of start-up.
//!
//! The stack itself checks some of these (store backends, unknown provider
//! types, unknown apis, the port); others it lets pass and then misbehaves
//! (a duplicate provider id silently replaces the first; providers for an API
//! left out of `apis` are not served; a model registered for a missing
//! provider fails at registration).

use std::collections::HashMap;

use serde_json::Value;

use super::RunConfig;
use super::env;
use super::error::{Issue, Problem};
use super::model::{Provider, RESOURCE_KINDS, StoreRef};
use super::pinned::{self, ApiKind};
use super::read::join;

pub(super) fn validate(config: &RunConfig) -> Vec<Issue> {
    let mut checks = Checks {
        config,
        issues: Vec::new(),
    };
    checks.apis();
    checks.providers();
    checks.stores();
    checks.resources();
    checks.issues
}

struct Checks<'c> {
    config: &'c RunConfig,
    issues: Vec<Issue>,
}

impl Checks<'_> {
    fn push(&mut self, key: String, problem: Problem) {
        let line = self.config.line_of(&key).unwrap_or(0);
        self.issues.push(Issue { line, key, problem });
    }

    fn unknown_api(name: &str, known: Vec<&str>) -> Problem {
        Problem::UnknownApi {
            name: name.to_owned(),
            suggestion: pinned::nearest(name, known.iter().copied()).map(str::to_owned),
            known: known.into_iter().map(str::to_owned).collect(),
        }
    }

    fn apis(&mut self) {
        // External APIs add names the pinned registry cannot know.
        if self.config.external_apis_dir.is_some() {
            return;
        }
        for (i, api) in self.config.apis.iter().enumerate() {
            if pinned::api_kind(api).is_none() {
                self.push(
                    format!("apis[{i}]"),
                    Self::unknown_api(api, pinned::all_apis()),
                );
            }
        }
    }

    fn providers(&mut self) {
        let config = self.config;
        for group in &config.providers {
            let api = group.api.as_str();
            let key = join("providers", api);
            let kind = pinned::api_kind(api);
            match kind {
                None if config.external_apis_dir.is_none() => {
                    self.push(
                        key.clone(),
                        Self::unknown_api(api, pinned::providable_apis()),
                    );
                }
                Some(ApiKind::RoutingTable) => {
                    let router = router_of(api);
                    let why = format!("the stack serves it automatically along with `{router}`");
                    self.push(
                        key.clone(),
                        Problem::NotProvidable {
                            api: api.to_owned(),
                            why,
                        },
                    );
                }
                Some(ApiKind::Internal) => {
                    let why = "the stack serves it itself".to_owned();
                    self.push(
                        key.clone(),
                        Problem::NotProvidable {
                            api: api.to_owned(),
                            why,
                        },
                    );
                }
                _ => {}
            }
            if !config.apis.is_empty() && !config.apis.iter().any(|a| a == api) {
                let apis = config.apis.clone();
                self.push(
                    key,
                    Problem::ApiNotServed {
                        api: api.to_owned(),
                        apis,
                    },
                );
            }
            let mut first_line_of: HashMap<&str, u32> = HashMap::new();
            for provider in &group.providers {
                self.provider_type(api, kind, provider);
                if let Some(id) = provider
                    .provider_id
                    .as_deref()
                    .filter(|_| provider.is_enabled())
                {
                    let key = join(&provider.path, "provider_id");
                    let line = config.line_of(&key).unwrap_or(0);
                    match first_line_of.get(id) {
                        Some(&first_line) => {
                            let problem = Problem::DuplicateProviderId {
                                id: id.to_owned(),
                                api: api.to_owned(),
                                first_line,
                            };
                            self.push(key, problem);
                        }
                        None => {
                            first_line_of.insert(id, line);
                        }
                    }
                }
                if provider.is_enabled() {
                    self.provider_store_refs(provider);
                }
            }
        }
    }

    fn provider_type(&mut self, api: &str, kind: Option<ApiKind>, provider: &Provider) {
        let key = join(&provider.path, "provider_type");
        let found = provider.provider_type.as_str();
        let well_formed = found.split_once("::").is_some_and(|(prefix, name)| {
            matches!(prefix, "remote" | "inline") && !name.is_empty()
        });
        let known = pinned::provider_types(api);
        if !well_formed {
            let suggestion = pinned::resolve_provider(api, found)
                .or_else(|| pinned::nearest(found, known.iter().copied()))
                .map(str::to_owned);
            self.push(
                key,
                Problem::ProviderTypeFormat {
                    found: found.to_owned(),
                    suggestion,
                },
            );
            return;
        }
        // External providers (a `module`, or a providers directory) bring
        // types the pinned registry cannot know.
        let external = provider.module.is_some() || self.config.external_providers_dir.is_some();
        if kind == Some(ApiKind::Providable) && !external && !pinned::is_known_provider(api, found)
        {
            let problem = Problem::UnknownProviderType {
                found: found.to_owned(),
                api: api.to_owned(),
                suggestion: pinned::nearest(found, known.iter().copied()).map(str::to_owned),
                known: known.iter().map(|t| (*t).to_owned()).collect(),
            };
            self.push(key, problem);
        }
    }

    /// Checks one reference to a storage backend.
    fn backend_ref(&mut self, key: String, backend: &str, kv: bool, defaulted: bool) {
        let storage = &self.config.storage;
        let Some(found) = storage.backend(backend) else {
            let mut defined: Vec<String> = storage
                .backends
                .iter()
                .map(|(name, _)| name.clone())
                .collect();
            defined.sort();
            self.push(
                key,
                Problem::UnknownBackend {
                    name: backend.to_owned(),
                    defined,
                    defaulted,
                },
            );
            return;
        };
        let kind = found.backend_type();
        if kind.is_kv() != kv {
            let needs = if kv {
                "key-value (`kv_*`)"
            } else {
                "SQL (`sql_*`)"
            };
            let problem = Problem::WrongBackendKind {
                name: backend.to_owned(),
                kind: kind.name().to_owned(),
                needs,
            };
            self.push(key, problem);
        }
    }

    fn stores(&mut self) {
        let stores = self.config.storage.stores.clone();
        for (name, kv, store) in stores.each() {
            let Some(StoreRef {
                backend, defaulted, ..
            }) = store
            else {
                continue;
            };
            let key = format!("storage.stores.{name}.backend");
            self.backend_ref(key, backend, kv, *defaulted);
        }
    }

    /// Provider configs refer to backends too (`persistence`, `kvstore`,
    /// `metadata_store`...): any `{backend, namespace}` or `{backend,
    /// table_name}` mapping inside the config.
    fn provider_store_refs(&mut self, provider: &Provider) {
        let mut refs = Vec::new();
        collect_store_refs(
            &Value::Object(provider.config.clone()),
            &join(&provider.path, "config"),
            &mut refs,
        );
        for (key, backend, kv) in refs {
            self.backend_ref(key, &backend, kv, false);
        }
    }

    fn resources(&mut self) {
        let config = self.config;
        let models = config
            .registered_resources
            .models
            .iter()
            .map(|m| (&m.path, &m.provider_id, "inference"));
        let others = config
            .registered_resources
            .others
            .iter()
            .flat_map(|(list, resources)| {
                let api = RESOURCE_KINDS
                    .iter()
                    .find(|(l, _, _)| l == list)
                    .map_or("", |(_, _, api)| *api);
                resources
                    .iter()
                    .map(move |r| (&r.path, &r.provider_id, api))
            });
        for (path, provider_id, api) in models.chain(others).collect::<Vec<_>>() {
            let Some(id) = provider_id else {
                continue;
            };
            let providers: &[Provider] = config
                .providers
                .iter()
                .find(|g| g.api == api)
                .map_or(&[], |g| &g.providers);
            if providers
                .iter()
                .any(|p| p.is_enabled() && p.provider_id.as_deref() == Some(id))
            {
                continue;
            }
            let known = providers
                .iter()
                .filter(|p| p.is_enabled())
                .filter_map(|p| p.provider_id.clone())
                .collect();
            let disabled_by = providers.iter().filter(|p| !p.is_enabled()).find_map(|p| {
                let raw = p.raw_provider_id.as_deref()?;
                env::references(raw)
                    .into_iter()
                    .find(|r| r.if_set.as_deref() == Some(id.as_str()))
                    .map(|r| r.var)
            });
            let problem = Problem::UnknownProviderRef {
                id: id.clone(),
                api: api.to_owned(),
                known,
                disabled_by,
            };
            self.push(join(path, "provider_id"), problem);
        }
    }
}

/// The API whose router serves a routing-table API.
fn router_of(api: &str) -> &'static str {
    match api {
        "models" => "inference",
        "shields" => "safety",
        "vector_stores" => "vector_io",
        "datasets" => "datasetio",
        "scoring_functions" => "scoring",
        "benchmarks" => "eval",
        "tool_groups" => "tool_runtime",
        _ => "another api",
    }
}

fn collect_store_refs(value: &Value, path: &str, out: &mut Vec<(String, String, bool)>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(backend)) = map.get("backend") {
                let kv = map.contains_key("namespace");
                if kv || map.contains_key("table_name") {
                    out.push((join(path, "backend"), backend.clone(), kv));
                }
            }
            for (key, child) in map {
                collect_store_refs(child, &join(path, key), out);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                collect_store_refs(item, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}
