//! What the pinned Llama Stack knows: its APIs, its provider types and their
//! sample configs, generated from the installed package by
//! `scripts/gen-provider-registry.py` and embedded at compile time.
//!
//! Embedding (rather than asking the stack at run time) lets `--stack-config`
//! and run.yaml mistakes be reported before a virtual environment even exists.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde_json::{Map, Value};

const APIS: &str = include_str!("apis.txt");
const PROVIDERS: &str = include_str!("providers.txt");
const SAMPLES: &str = include_str!("provider-samples.json");

/// How the stack treats an API name (`llama_stack.core.distribution`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ApiKind {
    /// Takes providers in a run.yaml (`inference`, `vector_io`, ...).
    Providable,
    /// Served automatically when its router API is (`models`, `shields`, ...).
    RoutingTable,
    /// Always served by the stack itself (`inspect`, `providers`, ...).
    Internal,
}

/// Non-comment lines of a generated `a<TAB>b` file.
fn pairs(text: &'static str) -> impl Iterator<Item = (&'static str, &'static str)> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .filter_map(|line| line.split_once('\t'))
}

static API_KINDS: LazyLock<BTreeMap<&'static str, ApiKind>> = LazyLock::new(|| {
    pairs(APIS)
        .filter_map(|(api, kind)| {
            let kind = match kind {
                "providable" => ApiKind::Providable,
                "routing_table" => ApiKind::RoutingTable,
                "internal" => ApiKind::Internal,
                _ => return None,
            };
            Some((api, kind))
        })
        .collect()
});

static PROVIDER_TYPES: LazyLock<BTreeMap<&'static str, Vec<&'static str>>> = LazyLock::new(|| {
    let mut by_api: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (api, provider_type) in pairs(PROVIDERS) {
        by_api.entry(api).or_default().push(provider_type);
    }
    by_api
});

static SAMPLE_CONFIGS: LazyLock<Map<String, Value>> = LazyLock::new(|| {
    // A committed, generated file: a parse failure is a build defect that the
    // unit tests below catch, so an empty table is only a safety net.
    serde_json::from_str::<Value>(SAMPLES)
        .ok()
        .and_then(|mut doc| match doc.get_mut("samples").map(Value::take) {
            Some(Value::Object(map)) => Some(map),
            _ => None,
        })
        .unwrap_or_default()
});

/// The kind of a known API name, `None` when the pinned stack has no such API.
pub(crate) fn api_kind(api: &str) -> Option<ApiKind> {
    API_KINDS.get(api).copied()
}

/// Every API name the stack accepts in `apis:`, sorted.
pub(crate) fn all_apis() -> Vec<&'static str> {
    API_KINDS.keys().copied().collect()
}

/// API names that take providers, sorted.
pub(crate) fn providable_apis() -> Vec<&'static str> {
    API_KINDS
        .iter()
        .filter(|(_, kind)| **kind == ApiKind::Providable)
        .map(|(api, _)| *api)
        .collect()
}

/// Provider types known for `api`, sorted; empty for an unknown API.
pub(crate) fn provider_types(api: &str) -> &'static [&'static str] {
    PROVIDER_TYPES.get(api).map(Vec::as_slice).unwrap_or(&[])
}

pub(crate) fn is_known_provider(api: &str, provider_type: &str) -> bool {
    provider_types(api).contains(&provider_type)
}

/// Resolves a provider name the way `llama stack run --providers` does: the
/// exact type first, then `inline::<name>`, then `remote::<name>`.
pub(crate) fn resolve_provider(api: &str, name: &str) -> Option<&'static str> {
    let known = provider_types(api);
    [
        name.to_owned(),
        format!("inline::{name}"),
        format!("remote::{name}"),
    ]
    .into_iter()
    .find_map(|candidate| known.iter().copied().find(|known| *known == candidate))
}

/// The config `sample_run_config()` gives a provider type, as the stack would
/// write it for `--providers`.
pub(crate) fn sample_config(api: &str, provider_type: &str) -> Option<&'static Value> {
    SAMPLE_CONFIGS.get(api)?.get(provider_type)
}

/// The candidate nearest to `word`, if one is close enough to be a typo.
///
/// A candidate `kind::name` also matches on `name` alone, so `vlm` suggests
/// `remote::vllm`. Ties go to the first candidate in the given order.
pub(crate) fn nearest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let budget = (word.chars().count() / 3).max(1);
    let mut best: Option<(usize, &str)> = None;
    for candidate in candidates {
        let mut distance = strsim::osa_distance(word, candidate);
        if !word.contains("::")
            && let Some((_, name)) = candidate.split_once("::")
        {
            distance = distance.min(strsim::osa_distance(word, name));
        }
        if distance <= budget && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, candidate)| candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_files_parse() {
        assert!(all_apis().len() > 10, "apis.txt is empty or unreadable");
        assert_eq!(
            providable_apis(),
            [
                "batches",
                "datasetio",
                "eval",
                "file_processors",
                "files",
                "inference",
                "responses",
                "safety",
                "scoring",
                "tool_runtime",
                "vector_io"
            ]
        );
        assert_eq!(api_kind("models"), Some(ApiKind::RoutingTable));
        assert_eq!(api_kind("inspect"), Some(ApiKind::Internal));
        assert_eq!(api_kind("agents"), None);
        assert!(is_known_provider("inference", "remote::vllm"));
        assert!(!is_known_provider("inference", "remote::vlm"));
        // Every provider type has a sample config, and every sample a type.
        for api in providable_apis() {
            for provider_type in provider_types(api) {
                assert!(
                    sample_config(api, provider_type).is_some(),
                    "{api} {provider_type}"
                );
            }
        }
        let samples: usize = SAMPLE_CONFIGS
            .values()
            .map(|types| types.as_object().map_or(0, Map::len))
            .sum();
        let types: usize = PROVIDER_TYPES.values().map(Vec::len).sum();
        assert_eq!(samples, types);
    }

    #[test]
    fn generated_files_are_sorted_without_duplicates() {
        for text in [APIS, PROVIDERS] {
            let lines: Vec<_> = pairs(text).collect();
            let mut sorted = lines.clone();
            sorted.sort();
            sorted.dedup();
            assert_eq!(lines, sorted);
        }
    }

    #[test]
    fn resolve_provider_prefers_exact_then_inline_then_remote() {
        assert_eq!(
            resolve_provider("inference", "remote::vllm"),
            Some("remote::vllm")
        );
        assert_eq!(resolve_provider("inference", "vllm"), Some("remote::vllm"));
        // `localfs` exists only inline for files; `huggingface` only remote.
        assert_eq!(
            resolve_provider("files", "localfs"),
            Some("inline::localfs")
        );
        assert_eq!(
            resolve_provider("datasetio", "huggingface"),
            Some("remote::huggingface")
        );
        assert_eq!(resolve_provider("inference", "vlm"), None);
        assert_eq!(resolve_provider("agents", "builtin"), None);
    }

    #[test]
    fn nearest_finds_typos_only() {
        let names = ["ci-tests", "starter"];
        assert_eq!(nearest("startr", names), Some("starter"));
        assert_eq!(nearest("ci-test", names), Some("ci-tests"));
        assert_eq!(nearest("zzz", names), None);
        assert_eq!(
            nearest("sql_defualt", ["kv_default", "sql_default"]),
            Some("sql_default")
        );
        assert_eq!(
            nearest("vlm", provider_types("inference").iter().copied()),
            Some("remote::vllm")
        );
        assert_eq!(
            nearest("remote::vlm", provider_types("inference").iter().copied()),
            Some("remote::vllm")
        );
    }
}
