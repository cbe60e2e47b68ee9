//! Loading whole run.yaml files: the distributions shipped with the pinned
//! stack (copies in `testdata/`, see the first line of each), the model a
//! small config produces, and every validation message, line included.

use serde_json::json;

use super::*;
use crate::stack::config::ProviderSpec;

/// An environment from fixed pairs; nothing from the process.
fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
    move |name| {
        pairs
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    }
}

const HOME: &[(&str, &str)] = &[("HOME", "/home/u")];

fn testdata(name: &str) -> &'static str {
    match name {
        "starter.yaml" => include_str!("testdata/starter.yaml"),
        "postgres-demo.yaml" => include_str!("testdata/postgres-demo.yaml"),
        "watsonx.yaml" => include_str!("testdata/watsonx.yaml"),
        "nvidia-run-with-safety.yaml" => include_str!("testdata/nvidia-run-with-safety.yaml"),
        _ => panic!("no testdata/{name}"),
    }
}

fn load_testdata(
    name: &str,
    pairs: &'static [(&'static str, &'static str)],
) -> Result<RunConfig, RunYamlError> {
    RunConfig::parse(&format!("testdata/{name}"), testdata(name), &env_of(pairs))
}

#[test]
fn shipped_distributions_load() {
    const PG: &[(&str, &str)] = &[("HOME", "/home/u"), ("INFERENCE_MODEL", "m")];
    for (name, pairs, distro, apis, providers) in [
        ("starter.yaml", HOME, "starter", 11, 41),
        ("postgres-demo.yaml", PG, "postgres-demo", 5, 10),
        ("watsonx.yaml", HOME, "watsonx", 9, 15),
    ] {
        let config = load_testdata(name, pairs).unwrap_or_else(|err| panic!("{err}"));
        let count: usize = config.providers.iter().map(|g| g.providers.len()).sum();
        assert_eq!(
            (config.distro_name.as_str(), config.apis.len(), count),
            (distro, apis, providers),
            "{name}"
        );
        // Every shipped config keeps a `vector_dbs` list the stack no longer reads.
        let line = config
            .line_of("registered_resources.vector_dbs")
            .unwrap_or(0);
        let warning = format!(
            "testdata/{name}:{line}: registered_resources.vector_dbs: unknown key, ignored by the stack"
        );
        assert_eq!(config.warning_lines(), [warning], "{name}");
    }
}

#[test]
fn starter_as_the_stack_sees_it() {
    let config = load_testdata("starter.yaml", HOME).unwrap_or_else(|err| panic!("{err}"));
    let enabled: Vec<_> = config
        .providers_of("inference")
        .filter_map(|p| p.provider_id.as_deref())
        .collect();
    assert_eq!(
        enabled,
        [
            "fireworks",
            "together",
            "bedrock",
            "openai",
            "anthropic",
            "gemini",
            "groq",
            "sambanova",
            "sentence-transformers",
            "transformers"
        ]
    );
    assert_eq!(
        config.storage.backend("kv_default"),
        Some(&Backend::KvSqlite {
            namespace: None,
            db_path: "/home/u/.llama/distributions/starter/kvstore.db".to_owned()
        })
    );
    assert_eq!(config.storage.stores.responses, None);
    assert_eq!(config.server, Server::default());
    assert_eq!(config.registered_resources.others[0].0, "shields");
    assert_eq!(config.registered_resources.others[0].1[0].provider_id, None);
    assert_eq!(
        config.line_of("providers.inference[2].provider_id"),
        Some(27)
    );
    assert_eq!(
        config.line_of("vector_stores.default_provider_id"),
        Some(301)
    );
}

#[test]
fn starter_with_vllm_url_enables_vllm_with_typed_config() {
    const VLLM: &[(&str, &str)] = &[("HOME", "/home/u"), ("VLLM_URL", "http://127.0.0.1:9/v1")];
    let config = load_testdata("starter.yaml", VLLM).unwrap_or_else(|err| panic!("{err}"));
    let vllm = config
        .providers_of("inference")
        .find(|p| p.provider_type == "remote::vllm");
    let vllm = vllm.unwrap_or_else(|| panic!("vllm is enabled"));
    assert_eq!(vllm.provider_id.as_deref(), Some("vllm"));
    assert_eq!(
        serde_json::Value::Object(vllm.config.clone()),
        json!({
            "base_url": "http://127.0.0.1:9/v1",
            "max_tokens": 4096,
            "api_token": "fake",
            "network": {"tls": {"verify": true}},
        })
    );
    assert_eq!(
        vllm.raw_provider_id.as_deref(),
        Some("${env.VLLM_URL:+vllm}")
    );
}

#[test]
fn upstream_vars_of_starter() {
    let config = load_testdata("starter.yaml", HOME).unwrap_or_else(|err| panic!("{err}"));
    let found: Vec<_> = config
        .upstream_vars()
        .into_iter()
        .map(|u| (u.api, u.provider_id, u.key, u.var, u.default, u.enabled))
        .collect();
    let s = |t: &str| t.to_owned();
    let o = |t: &str| Some(t.to_owned());
    assert_eq!(
        found,
        [
            (
                s("inference"),
                o("ollama"),
                s("base_url"),
                s("OLLAMA_URL"),
                o("http://localhost:11434/v1"),
                false
            ),
            (
                s("inference"),
                o("vllm"),
                s("base_url"),
                s("VLLM_URL"),
                None,
                false
            ),
            // NVIDIA is switched on by its API key, not by its URL.
            (
                s("inference"),
                None,
                s("base_url"),
                s("NVIDIA_BASE_URL"),
                o("https://integrate.api.nvidia.com/v1"),
                false
            ),
            (
                s("inference"),
                o("openai"),
                s("base_url"),
                s("OPENAI_BASE_URL"),
                o("https://api.openai.com/v1"),
                true
            ),
            (
                s("inference"),
                None,
                s("base_url"),
                s("AZURE_API_BASE"),
                None,
                false
            ),
            // No vector_io entry: chromadb's and infinispan's `url`s are
            // database servers, never pointed at the proxy.
        ]
    );
}

#[test]
fn shipped_nvidia_safety_config_has_a_duplicate_provider_id() {
    // The stack lets the second `nvidia` silently replace the first.
    const ENV: &[(&str, &str)] = &[
        ("HOME", "/home/u"),
        ("INFERENCE_MODEL", "m"),
        ("SAFETY_MODEL", "s"),
    ];
    let err = load_testdata("nvidia-run-with-safety.yaml", ENV).expect_err("duplicate id");
    assert_eq!(
        err.to_string(),
        "testdata/nvidia-run-with-safety.yaml:21: providers.inference[1].provider_id: duplicate provider id `nvidia` for api `inference`; the first is on line 16"
    );
}

#[test]
fn a_missing_variable_names_file_line_key_and_variable() {
    let err = load_testdata("postgres-demo.yaml", HOME).expect_err("INFERENCE_MODEL is required");
    assert_eq!(
        err.to_string(),
        "testdata/postgres-demo.yaml:99: registered_resources.models[0].model_id: environment variable `INFERENCE_MODEL` is not set; set it, or give a default with `${env.INFERENCE_MODEL:=default}`"
    );
    assert_eq!(
        err.issues()[0].problem,
        Problem::MissingEnvVar {
            var: "INFERENCE_MODEL".to_owned()
        }
    );
}

/// A small valid config; tests replace one piece of text to break it.
const BASE: &str = "\
version: 2
distro_name: test
apis:
- inference
- vector_io
providers:
  inference:
  - provider_id: vllm
    provider_type: remote::vllm
    config:
      base_url: ${env.VLLM_URL:=http://127.0.0.1:18080/v1}
  - provider_id: ${env.OLLAMA_URL:+ollama}
    provider_type: remote::ollama
    config:
      base_url: ${env.OLLAMA_URL:=http://localhost:11434/v1}
  vector_io:
  - provider_id: faiss
    provider_type: inline::faiss
    config:
      persistence: {namespace: vector_io::faiss, backend: kv_default}
storage:
  backends:
    kv_default: {type: kv_sqlite, db_path: /tmp/s/kv.db}
    sql_default: {type: sql_sqlite, db_path: /tmp/s/sql.db}
  stores:
    metadata: {namespace: registry, backend: kv_default}
    inference: {table_name: inference_store, backend: sql_default}
registered_resources:
  models:
  - model_id: smollm2-135m
    provider_id: vllm
server:
  port: 8321
";

fn with(old: &str, new: &str) -> String {
    assert!(BASE.contains(old), "`{old}` is not in BASE");
    BASE.replacen(old, new, 1)
}

fn load(text: &str) -> Result<RunConfig, RunYamlError> {
    RunConfig::parse("run.yaml", text, &env_of(HOME))
}

fn error_of(text: &str) -> String {
    match load(text) {
        Ok(_) => panic!("expected an error for:\n{text}"),
        Err(err) => err.to_string(),
    }
}

#[test]
fn the_base_config_loads_into_the_model() {
    let config = load(BASE).unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(config.source_name, "run.yaml");
    assert_eq!(config.apis, ["inference", "vector_io"]);
    let vllm = &config.providers[0].providers[0];
    assert_eq!(vllm.path, "providers.inference[0]");
    assert_eq!(
        vllm.raw_config,
        [(
            "base_url".to_owned(),
            "${env.VLLM_URL:=http://127.0.0.1:18080/v1}".to_owned()
        )]
    );
    assert!(!config.providers[0].providers[1].is_enabled());
    let model = &config.registered_resources.models[0];
    assert_eq!(
        (
            model.model_id.as_str(),
            model.provider_id.as_deref(),
            model.model_type
        ),
        ("smollm2-135m", Some("vllm"), Some(ModelType::Llm))
    );
    // Stores left out get the stack's defaults.
    let prompts = config
        .storage
        .stores
        .prompts
        .as_ref()
        .map(|s| (s.backend.as_str(), s.defaulted));
    assert_eq!(prompts, Some(("kv_default", true)));
    assert_eq!(
        config
            .storage
            .stores
            .inference
            .as_ref()
            .and_then(|s| s.num_writers),
        Some(4)
    );
    assert_eq!(config.line_of("server.port"), Some(33));
    assert_eq!(config.line_of("storage.stores.prompts.backend"), Some(25));
    assert!(config.warnings.is_empty(), "{:?}", config.warning_lines());
}

#[test]
fn every_validation_message() {
    let inference_types = provider_types("inference").join(", ");
    let cases: Vec<(String, String)> = vec![
        (
            with("inference: {table_name: inference_store, backend: sql_default}", "inference: {table_name: inference_store, backend: sql_defualt}"),
            "run.yaml:27: storage.stores.inference.backend: unknown backend `sql_defualt`; backends defined: kv_default, sql_default".to_owned(),
        ),
        (
            with("metadata: {namespace: registry, backend: kv_default}", "metadata: {namespace: registry, backend: sql_default}"),
            "run.yaml:26: storage.stores.metadata.backend: backend `sql_default` is a `sql_sqlite` backend, but this store needs a key-value (`kv_*`) backend".to_owned(),
        ),
        (
            with("    kv_default: {type: kv_sqlite, db_path: /tmp/s/kv.db}\n", "    kv_main: {type: kv_sqlite, db_path: /tmp/s/kv.db}\n")
                .replace("backend: kv_default", "backend: kv_main"),
            "run.yaml:25: storage.stores.prompts.backend: unknown backend `kv_default` (the stack's default for this store); backends defined: kv_main, sql_default\n\
             run.yaml:25: storage.stores.connectors.backend: unknown backend `kv_default` (the stack's default for this store); backends defined: kv_main, sql_default".to_owned(),
        ),
        (
            with("backend: kv_default}", "backend: kv_defaults}"),
            "run.yaml:20: providers.vector_io[0].config.persistence.backend: unknown backend `kv_defaults`; backends defined: kv_default, sql_default".to_owned(),
        ),
        (
            with("  - provider_id: ${env.OLLAMA_URL:+ollama}", "  - provider_id: vllm"),
            "run.yaml:12: providers.inference[1].provider_id: duplicate provider id `vllm` for api `inference`; the first is on line 8".to_owned(),
        ),
        (
            with("- vector_io\n", ""),
            "run.yaml:15: providers.vector_io: providers are listed for api `vector_io`, which is not in `apis` (inference); add `vector_io` to `apis` or remove these providers".to_owned(),
        ),
        (
            with("distro_name: test\n", ""),
            "run.yaml:1: distro_name: missing; name the distribution with `distro_name: <name>` (or the deprecated `image_name`)".to_owned(),
        ),
        (
            with("  port: 8321", "  port: 80"),
            "run.yaml:33: server.port: port `80` is out of range; the stack accepts 1024-65535 (ports below 1024 are refused)".to_owned(),
        ),
        (
            with("  port: 8321", "  port: 70000"),
            "run.yaml:33: server.port: port `70000` is out of range; the stack accepts 1024-65535 (ports below 1024 are refused)".to_owned(),
        ),
        (
            with("  port: 8321", "  port: eighty"),
            "run.yaml:33: server.port: expected an integer, found string `eighty`".to_owned(),
        ),
        (
            with("    provider_id: vllm\nserver", "    provider_id: vlm\nserver"),
            "run.yaml:31: registered_resources.models[0].provider_id: unknown provider `vlm` for api `inference`; inference providers: vllm".to_owned(),
        ),
        (
            with("    provider_id: vllm\nserver", "    provider_id: ollama\nserver"),
            "run.yaml:31: registered_resources.models[0].provider_id: unknown provider `ollama` for api `inference`; inference providers: vllm (provider `ollama` is disabled because `OLLAMA_URL` is not set)".to_owned(),
        ),
        (
            with("provider_type: remote::vllm", "provider_type: vllm"),
            "run.yaml:9: providers.inference[0].provider_type: provider type `vllm` must be `remote::<name>` or `inline::<name>` (did you mean `remote::vllm`?)".to_owned(),
        ),
        (
            with("provider_type: remote::vllm", "provider_type: remote::vlm"),
            "run.yaml:9: providers.inference[0].provider_type: unknown provider type `remote::vlm` for api `inference`; did you mean `remote::vllm`?".to_owned(),
        ),
        (
            with("provider_type: remote::vllm", "provider_type: remote::qqqqqqqqqqqq"),
            format!("run.yaml:9: providers.inference[0].provider_type: unknown provider type `remote::qqqqqqqqqqqq` for api `inference`; known types: {inference_types}"),
        ),
        (
            with("- vector_io\n", "- vector_io\n- infrence\n"),
            "run.yaml:6: apis[2]: unknown api `infrence`; known apis: admin, batches, benchmarks, connectors, conversations, datasetio, datasets, eval, file_processors, files, inference, inspect, models, prompts, providers, responses, safety, scoring, scoring_functions, shields, tool_groups, tool_runtime, vector_io, vector_stores (did you mean `inference`?)".to_owned(),
        ),
        (
            with("  vector_io:\n", "  models: []\n  inspect: []\n  vector_io:\n"),
            "run.yaml:16: providers.models: api `models` cannot take providers: the stack serves it automatically along with `inference`\n\
             run.yaml:16: providers.models: providers are listed for api `models`, which is not in `apis` (inference, vector_io); add `models` to `apis` or remove these providers\n\
             run.yaml:17: providers.inspect: api `inspect` cannot take providers: the stack serves it itself\n\
             run.yaml:17: providers.inspect: providers are listed for api `inspect`, which is not in `apis` (inference, vector_io); add `inspect` to `apis` or remove these providers".to_owned(),
        ),
        (
            with("- vector_io\n", "- vector_io\n- agents\n").replace("  vector_io:\n", "  agents: []\n  vector_io:\n"),
            "run.yaml:6: apis[2]: unknown api `agents`; known apis: admin, batches, benchmarks, connectors, conversations, datasetio, datasets, eval, file_processors, files, inference, inspect, models, prompts, providers, responses, safety, scoring, scoring_functions, shields, tool_groups, tool_runtime, vector_io, vector_stores\n\
             run.yaml:17: providers.agents: unknown api `agents`; known apis: batches, datasetio, eval, file_processors, files, inference, responses, safety, scoring, tool_runtime, vector_io".to_owned(),
        ),
        (
            with("type: kv_sqlite,", "type: kv_sqlit,"),
            "run.yaml:23: storage.backends.kv_default.type: unknown backend type `kv_sqlit`; valid types: kv_mongodb, kv_postgres, kv_redis, kv_sqlite, sql_postgres, sql_sqlite".to_owned(),
        ),
        (
            with("{type: kv_sqlite, db_path: /tmp/s/kv.db}", "{type: kv_sqlite}"),
            "run.yaml:23: storage.backends.kv_default.db_path: missing; a `kv_sqlite` backend needs it".to_owned(),
        ),
        (
            with("db_path: /tmp/s/sql.db}", "db_path: /tmp/s/sql.db, pool_pre_ping: maybe}"),
            "run.yaml:24: storage.backends.sql_default.pool_pre_ping: expected a boolean, found string `maybe`".to_owned(),
        ),
        (
            with("    config:\n      base_url: ${env.VLLM_URL:=http://127.0.0.1:18080/v1}\n", "    config: null\n"),
            "run.yaml:10: providers.inference[0].config: expected a mapping, found null".to_owned(),
        ),
        (
            with("    provider_id: vllm\nserver", "    provider_id: vllm\n    model_type: chat\nserver"),
            "run.yaml:32: registered_resources.models[0].model_type: unknown model type `chat`; valid types: embedding, llm, rerank".to_owned(),
        ),
        (
            with("apis:\n- inference\n- vector_io\n", "apis: inference\n"),
            "run.yaml:3: apis: expected a list, found string `inference`".to_owned(),
        ),
        (
            with("    provider_type: remote::ollama\n", ""),
            "run.yaml:12: providers.inference[1].provider_type: missing; every provider needs it".to_owned(),
        ),
        (
            "version: 2\ndistro_name: x\n".to_owned(),
            "run.yaml:1: providers: missing; every run config needs it".to_owned(),
        ),
        ("".to_owned(), "run.yaml:1: expected a mapping, found null".to_owned()),
        ("- a\n- b\n".to_owned(), "run.yaml:1: expected a mapping, found a list".to_owned()),
        (
            with("distro_name: test", "distro_name: [test]")
                .replace("  port: 8321", "  port: 80"),
            "run.yaml:2: distro_name: expected a string, found a list\n\
             run.yaml:33: server.port: port `80` is out of range; the stack accepts 1024-65535 (ports below 1024 are refused)".to_owned(),
        ),
        (
            with("  port: 8321", "  port: 8321\n  port: 8322"),
            "run.yaml:34:3: duplicate key `port`".to_owned(),
        ),
        (
            with("persistence: {namespace", "persistence: [namespace"),
            "run.yaml:20:20: mismatched bracket '[' closed by '}'".to_owned(),
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(error_of(&text), expected, "for:\n{text}");
    }
}

#[test]
fn what_loads_anyway() {
    // Values from the environment are typed before validation.
    const PORT: &[(&str, &str)] = &[("PORT", "9000")];
    let config = RunConfig::parse(
        "run.yaml",
        &with("  port: 8321", "  port: ${env.PORT:=8321}"),
        &env_of(PORT),
    );
    assert_eq!(
        config.map(|c| c.server.port).map_err(|e| e.to_string()),
        Ok(9000)
    );
    // pydantic's lax mode takes a quoted number.
    assert_eq!(
        load(&with("  port: 8321", "  port: '8322'"))
            .map(|c| c.server.port)
            .ok(),
        Some(8322)
    );
    // An external provider's type is not in the pinned registry.
    let external = with(
        "provider_type: remote::vllm\n",
        "provider_type: remote::ramalama\n    module: ramalama_stack\n",
    );
    assert!(load(&external).is_ok());
    // `apis` may be left out: then the stack serves every configured api.
    assert!(load(&with("apis:\n- inference\n- vector_io\n", "")).is_ok());
    // A disabled provider needs no unique id.
    assert!(
        load(&with(
            "  - provider_id: ${env.OLLAMA_URL:+ollama}",
            "  - provider_id: ${env.OLLAMA_URL:+vllm}"
        ))
        .is_ok()
    );
}

#[test]
fn warnings_for_what_the_stack_ignores() {
    let text = with(
        "distro_name: test\n",
        "image_name: test\nservr:\n  port: 1\n",
    )
    .replace(
        "    provider_id: vllm\nserver",
        "    provider_id: vllm\n    model_typ: llm\nserver",
    );
    let config = load(&text).unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(config.distro_name, "test");
    assert_eq!(
        config.warning_lines(),
        [
            "run.yaml:3: servr: unknown key, ignored by the stack (did you mean `server`?)",
            "run.yaml:2: image_name: deprecated; use `distro_name` instead",
            "run.yaml:34: registered_resources.models[0].model_typ: unknown key, ignored by the stack (did you mean `model_type`?)",
        ]
    );
}

#[test]
fn source_names_are_the_callers() {
    let err = RunConfig::parse(
        "main:run-configs/starter/run.yaml",
        &with("  port: 8321", "  port: 80"),
        &env_of(HOME),
    );
    let message = err.map(|_| ()).map_err(|e| e.to_string());
    assert_eq!(
        message,
        Err("main:run-configs/starter/run.yaml:33: server.port: port `80` is out of range; the stack accepts 1024-65535 (ports below 1024 are refused)".to_owned())
    );
}

#[test]
fn load_reads_files_and_names_them() {
    let dir = tempfile::tempdir().unwrap_or_else(|err| panic!("{err}"));
    let path = dir.path().join("run.yaml");
    let missing = RunConfig::load(&path, &env_of(HOME))
        .map(|_| ())
        .map_err(|e| e.to_string());
    assert_eq!(
        missing,
        Err(format!(
            "cannot read run config `{}`: No such file or directory (os error 2)",
            path.display()
        ))
    );
    std::fs::write(&path, with("  port: 8321", "  port: 80")).unwrap_or_else(|err| panic!("{err}"));
    let invalid = RunConfig::load(&path, &env_of(HOME))
        .map(|_| ())
        .map_err(|e| e.to_string());
    let expected = format!(
        "{}:33: server.port: port `80` is out of range; the stack accepts 1024-65535 (ports below 1024 are refused)",
        path.display()
    );
    assert_eq!(invalid, Err(expected));
}

fn spec(api: &str, provider_type: &str) -> ProviderSpec {
    ProviderSpec {
        api: api.to_owned(),
        provider_type: provider_type.to_owned(),
        config: Vec::new(),
    }
}

#[test]
fn synthesised_configs_load_and_expose_their_upstreams() {
    let mut vllm = spec("inference", "remote::vllm");
    vllm.config.push(("max_tokens".to_owned(), "64".to_owned()));
    let specs = [
        vllm,
        spec("inference", "remote::llama-cpp-server"),
        spec("vector_io", "inline::faiss"),
    ];
    let text = synthesize(&specs).unwrap_or_else(|err| panic!("{err}"));
    const STATE: &[(&str, &str)] = &[("SQLITE_STORE_DIR", "/state")];
    let config = RunConfig::parse("synthesised", &text, &env_of(STATE))
        .unwrap_or_else(|err| panic!("{err}\n{text}"));
    assert_eq!(config.distro_name, "harness-providers");
    assert_eq!(config.apis, ["inference", "vector_io"]);
    assert_eq!(config.server.host.as_deref(), Some("127.0.0.1"));
    let vllm = &config.providers[0].providers[0];
    assert_eq!(vllm.config.get("max_tokens"), Some(&json!("64")));
    let vars: Vec<_> = config
        .upstream_vars()
        .into_iter()
        .map(|u| (u.provider_id, u.var))
        .collect();
    assert_eq!(
        vars,
        [
            (Some("vllm".to_owned()), "VLLM_URL".to_owned()),
            (
                Some("llama-cpp-server".to_owned()),
                "LLAMA_CPP_SERVER_URL".to_owned()
            ),
        ]
    );
    assert_eq!(
        config.storage.backend("kv_default"),
        Some(&Backend::KvSqlite {
            namespace: None,
            db_path: "/state/kvstore.db".to_owned()
        })
    );
}

#[test]
fn every_known_provider_synthesises_a_loadable_config() {
    // Some samples require variables (`${env.PASSTHROUGH_URL}`); set them all.
    let everything_set = |_: &str| Some("1".to_owned());
    for api in providable_apis() {
        for provider_type in provider_types(api) {
            let text =
                synthesize(&[spec(api, provider_type)]).unwrap_or_else(|err| panic!("{err}"));
            if let Err(err) = RunConfig::parse("synthesised", &text, &everything_set) {
                panic!("{api}={provider_type}: {err}\n{text}");
            }
        }
    }
}

#[test]
fn synthesis_errors() {
    let message = |specs: &[ProviderSpec]| synthesize(specs).map(|_| ()).map_err(|e| e.to_string());
    assert_eq!(
        message(&[]),
        Err("cannot synthesise a run.yaml: no providers given; expected at least one `api=provider`".to_owned())
    );
    assert_eq!(
        message(&[spec("inference", "remote::vlm")]),
        Err(
            "cannot synthesise a run.yaml: unknown provider type `remote::vlm` for api `inference`"
                .to_owned()
        )
    );
    assert_eq!(
        message(&[
            spec("inference", "remote::vllm"),
            spec("inference", "remote::vllm")
        ]),
        Err(
            "cannot synthesise a run.yaml: provider id `vllm` is given twice for api `inference`"
                .to_owned()
        )
    );
}

/// The project's own run-configs (written by another engineer) must load.
#[test]
fn project_run_configs_load() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../run-configs");
    // What the harness always sets; the rest keeps its defaults.
    const HARNESS: &[(&str, &str)] = &[("HOME", "/home/u"), ("SQLITE_STORE_DIR", "/state")];
    for name in crate::stack::config::known_configs(&root) {
        let path = root.join(&name).join("run.yaml");
        match RunConfig::load(&path, &env_of(HARNESS)) {
            Ok(config) => assert_eq!(config.warning_lines(), Vec::<String>::new()),
            Err(err) => panic!("{err}"),
        }
    }
}
