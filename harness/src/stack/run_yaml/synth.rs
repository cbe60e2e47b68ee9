//! A run.yaml for `--stack-config=api=provider,...`, built the way `llama
//! stack run --providers` builds one (each provider gets its
//! `sample_run_config()`, its id is its type's name), but with the state
//! under `${env.SQLITE_STORE_DIR}` (the stack would write to `~/.llama`) and
//! the server on loopback.
//!
//! Every OpenAI-compatible remote provider takes its upstream URL from an
//! environment variable, so the harness can point it at its proxy: the
//! stack's samples already do so except `llama-cpp-server`, which gets
//! `LLAMA_CPP_SERVER_URL`.

use serde_json::{Map, Value, json};

use super::error::RunYamlError;
use super::pinned;
use crate::stack::config::ProviderSpec;

/// The `distro_name` of a synthesised config.
pub(crate) const SYNTHESIZED_DISTRO_NAME: &str = "harness-providers";

/// Upstream URL variables the stack's samples do not define.
const URL_OVERRIDES: &[(&str, &str, &str)] = &[(
    "remote::llama-cpp-server",
    "base_url",
    "${env.LLAMA_CPP_SERVER_URL:=http://localhost:8080/v1}",
)];

/// YAML text of a run config serving exactly `providers`.
pub(crate) fn synthesize(providers: &[ProviderSpec]) -> Result<String, RunYamlError> {
    if providers.is_empty() {
        return Err(RunYamlError::Synthesize(
            "no providers given; expected at least one `api=provider`".to_owned(),
        ));
    }
    let mut apis: Vec<&str> = Vec::new();
    let mut by_api: Map<String, Value> = Map::new();
    for spec in providers {
        let api = spec.api.as_str();
        let Some(sample) = pinned::sample_config(api, &spec.provider_type) else {
            return Err(RunYamlError::Synthesize(format!(
                "unknown provider type `{}` for api `{api}`",
                spec.provider_type
            )));
        };
        let mut config = sample.as_object().cloned().unwrap_or_default();
        for (provider_type, key, value) in URL_OVERRIDES {
            if *provider_type == spec.provider_type {
                config.insert((*key).to_owned(), Value::from(*value));
            }
        }
        for (key, value) in &spec.config {
            config.insert(key.clone(), Value::from(value.as_str()));
        }
        let entry = json!({
            "provider_id": spec.provider_id(),
            "provider_type": spec.provider_type,
            "config": config,
        });
        let list = by_api
            .entry(api.to_owned())
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(list) = list {
            if list.iter().any(|p| p["provider_id"] == spec.provider_id()) {
                return Err(RunYamlError::Synthesize(format!(
                    "provider id `{}` is given twice for api `{api}`",
                    spec.provider_id()
                )));
            }
            list.push(entry);
        }
        if !apis.contains(&api) {
            apis.push(api);
        }
    }
    let document = json!({
        "version": super::model::RUN_CONFIG_VERSION,
        "distro_name": SYNTHESIZED_DISTRO_NAME,
        "apis": apis,
        "providers": by_api,
        "storage": {
            "backends": {
                "kv_default": {"type": "kv_sqlite", "db_path": "${env.SQLITE_STORE_DIR}/kvstore.db"},
                "sql_default": {"type": "sql_sqlite", "db_path": "${env.SQLITE_STORE_DIR}/sql_store.db"},
            },
            "stores": {
                "metadata": {"namespace": "registry", "backend": "kv_default"},
                "inference": {"table_name": "inference_store", "backend": "sql_default"},
                "conversations": {"table_name": "openai_conversations", "backend": "sql_default"},
                "prompts": {"namespace": "prompts", "backend": "kv_default"},
                "connectors": {"namespace": "connectors", "backend": "kv_default"},
            },
        },
        "registered_resources": {"models": []},
        "server": {"host": "127.0.0.1", "port": super::model::DEFAULT_PORT},
    });
    let yaml = serde_saphyr::to_string(&document)
        .map_err(|err| RunYamlError::Synthesize(format!("cannot write YAML: {err}")))?;
    Ok(format!(
        "# synthesised by stack-harness for --stack-config={}\n{yaml}",
        providers
            .iter()
            .map(|p| format!("{}={}", p.api, p.provider_type))
            .collect::<Vec<_>>()
            .join(",")
    ))
}
