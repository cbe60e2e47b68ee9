//! `--stack-config`: which stack the tests run against, parsed into a
//! [`StackConfig`].
//!
//! ```text
//! server:<config>[::<run file>][:<port>]
//!                            start the stack on <port> (8321), or reuse a healthy one there
//! http(s)://host:port        use a running stack as is, start nothing
//! <config>[::<run file>] | <path>
//!                            a private stack on a free port, never reused
//! api=provider[,api=provider...]
//!                            a private stack on a run.yaml synthesised from the pairs
//! ```
//!
//! `<config>` is `run-configs/<config>/run.yaml` if that exists, else a path
//! to a run.yaml (or to a directory holding one), relative to the working
//! directory. `<config>::<run file>` picks a variant beside it,
//! `run-configs/<config>/<run file>` (`ci-tests::run-with-postgres-store.yaml`). Providers resolve like `llama stack run --providers`: the exact
//! type, else `inline::<name>`, else `remote::<name>`; `?key=value&...` after
//! a provider sets config keys.

use std::fmt;
use std::path::{Path, PathBuf};

use super::run_yaml::{nearest, providable_apis, provider_types, resolve_provider};

/// What `--stack-config` is when not given.
pub(crate) const DEFAULT_STACK_CONFIG: &str = "server:ci-tests";
/// The stack's own default port (`server.port`, `LLAMA_STACK_PORT`).
pub(crate) const DEFAULT_PORT: u16 = 8321;

const FORMS: &str = "`server:<config>[::<run file>][:<port>]`, `http(s)://<host>:<port>`, `<config>[::<run file>]` or a path to a run.yaml, or `api=provider,...`";

/// The run.yaml of a named config when no `::<run file>` is given.
const DEFAULT_RUN_FILE: &str = "run.yaml";

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StackConfig {
    /// `server:<config>` / `server:<config>:<port>`: start on the port
    /// (default 8321) or reuse a healthy stack already there.
    Server { config: ConfigSource, port: u16 },
    /// `http(s)://...`: use as is, start nothing.
    Url(url::Url),
    /// `<config>` alone or a path to a run.yaml: a private server on a free
    /// port, never reused.
    Private(ConfigSource),
    /// `api=provider,api=provider`: a private server on a synthesised run.yaml.
    Providers(Vec<ProviderSpec>),
}

/// Where a run.yaml comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ConfigSource {
    /// `run-configs/<name>/run.yaml`, or `run-configs/<name>/<variant>`.
    Named {
        name: String,
        /// The `::<run file>`, when not `run.yaml`.
        variant: Option<String>,
        path: PathBuf,
    },
    /// A file given by path.
    Path(PathBuf),
}

impl ConfigSource {
    pub(crate) fn path(&self) -> &Path {
        match self {
            ConfigSource::Named { path, .. } | ConfigSource::Path(path) => path,
        }
    }
}

/// One `api=provider` pair, resolved against the pinned stack's registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ProviderSpec {
    pub(crate) api: String,
    /// Full type, e.g. `remote::vllm`.
    pub(crate) provider_type: String,
    /// `?key=value&...` overrides of the provider's default config; values
    /// stay text, as with the stack's own `--providers`.
    pub(crate) config: Vec<(String, String)>,
}

impl ProviderSpec {
    /// The id the stack gives it: the type without its `remote::`/`inline::`.
    pub(crate) fn provider_id(&self) -> &str {
        self.provider_type
            .rsplit("::")
            .next()
            .unwrap_or(&self.provider_type)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum StackConfigError {
    #[error("empty stack config; expected {FORMS} (default: `{DEFAULT_STACK_CONFIG}`)")]
    Empty,
    #[error(
        "missing config name in `{spec}`; expected `server:<config>[:<port>]`, e.g. `server:starter`"
    )]
    MissingServerConfig { spec: String },
    #[error("missing port after `{spec}`; write `{}` for the default port {DEFAULT_PORT}", spec.trim_end_matches(':'))]
    MissingPort { spec: String },
    #[error("invalid port `{port}` in `{spec}`: {reason}; use a port in 1024-65535")]
    BadPort {
        spec: String,
        port: String,
        reason: &'static str,
    },
    #[error("invalid stack URL `{spec}`: {reason}")]
    BadUrl { spec: String, reason: String },
    #[error(
        "unknown stack config `{name}`: no `{}` and no such file; known configs: {}{}",
        looked_at.display(),
        if known.is_empty() { "none".to_owned() } else { known.join(", ") },
        suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default()
    )]
    UnknownConfig {
        name: String,
        looked_at: PathBuf,
        known: Vec<String>,
        suggestion: Option<String>,
    },
    #[error(
        "config `{config}` has no run file `{file}`; its run files: {}{}",
        if known.is_empty() { "none".to_owned() } else { known.join(", ") },
        suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default()
    )]
    UnknownRunFile {
        config: String,
        file: String,
        known: Vec<String>,
        suggestion: Option<String>,
    },
    #[error(
        "missing run file after `{spec}`; write `{config}::<run file>`, e.g. `{config}::run.yaml`"
    )]
    MissingRunFile { spec: String, config: String },
    #[error("`{item}` in `{spec}` names no api; expected `api=provider`, e.g. `inference={item}`")]
    BareProvider { spec: String, item: String },
    #[error("missing provider in `{item}`; expected `api=provider`, e.g. `{item}remote::vllm`")]
    MissingProvider { item: String },
    #[error(
        "unknown api `{api}` in `{item}`; apis that take providers: {}{}",
        known.join(", "),
        suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default()
    )]
    UnknownApi {
        api: String,
        item: String,
        known: Vec<String>,
        suggestion: Option<String>,
    },
    #[error(
        "unknown provider `{provider}` for api `{api}` (tried `{provider}`, `inline::{provider}`, `remote::{provider}`); {}",
        match suggestion {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!("known providers: {}", known.join(", ")),
        }
    )]
    UnknownProvider {
        provider: String,
        api: String,
        known: Vec<String>,
        suggestion: Option<String>,
    },
    #[error("invalid config override `{param}` in `{item}`; expected `?key=value&key=value`")]
    BadOverride { item: String, param: String },
    #[error("provider `{provider_type}` is given twice for api `{api}`; each may appear once")]
    DuplicateProvider { api: String, provider_type: String },
}

impl StackConfig {
    /// Parses a `--stack-config` value; named configs are looked up in
    /// `run_configs_dir`, paths relative to the working directory.
    pub(crate) fn parse(
        spec: &str,
        run_configs_dir: &Path,
    ) -> Result<StackConfig, StackConfigError> {
        let spec = spec.trim();
        if spec.is_empty() {
            return Err(StackConfigError::Empty);
        }
        if spec.starts_with("http://") || spec.starts_with("https://") {
            return parse_url(spec);
        }
        if let Some(rest) = spec.strip_prefix("server:") {
            return parse_server(spec, rest, run_configs_dir);
        }
        if spec.contains('=') && !Path::new(spec).is_file() {
            return parse_providers(spec).map(StackConfig::Providers);
        }
        if let Some((config, file)) = spec.split_once("::")
            && (config == "inline" || config == "remote")
        {
            return Err(StackConfigError::BareProvider {
                spec: spec.to_owned(),
                item: format!("{config}::{file}"),
            });
        }
        resolve_config(spec, spec, run_configs_dir).map(StackConfig::Private)
    }
}

impl fmt::Display for StackConfig {
    /// The canonical spelling, which parses back to the same value.
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let source = |config: &ConfigSource| match config {
            ConfigSource::Named {
                name,
                variant: Some(file),
                ..
            } => format!("{name}::{file}"),
            ConfigSource::Named { name, .. } => name.clone(),
            ConfigSource::Path(path) => path.display().to_string(),
        };
        match self {
            StackConfig::Server { config, port } => write!(f, "server:{}:{port}", source(config)),
            StackConfig::Url(url) => write!(f, "{url}"),
            StackConfig::Private(config) => write!(f, "{}", source(config)),
            StackConfig::Providers(specs) => {
                for (i, spec) in specs.iter().enumerate() {
                    let sep = if i == 0 { "" } else { "," };
                    write!(f, "{sep}{}={}", spec.api, spec.provider_type)?;
                    for (j, (key, value)) in spec.config.iter().enumerate() {
                        write!(f, "{}{key}={value}", if j == 0 { '?' } else { '&' })?;
                    }
                }
                Ok(())
            }
        }
    }
}

fn parse_url(spec: &str) -> Result<StackConfig, StackConfigError> {
    let bad = |reason: String| StackConfigError::BadUrl {
        spec: spec.to_owned(),
        reason,
    };
    let url = url::Url::parse(spec).map_err(|err| bad(err.to_string()))?;
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("no host".to_owned()));
    }
    Ok(StackConfig::Url(url))
}

fn parse_server(
    spec: &str,
    rest: &str,
    run_configs_dir: &Path,
) -> Result<StackConfig, StackConfigError> {
    // `<config>::<run file>:<port>`: the port follows the last single `:`.
    let (head, tail) = match rest.split_once("::") {
        Some((config, after)) => (Some(config), after),
        None => (None, rest),
    };
    let (last, port) = match tail.rsplit_once(':') {
        Some((before, port)) => (before, Some(port)),
        None => (tail, None),
    };
    let joined;
    let config = match head {
        Some(config) => {
            joined = format!("{config}::{last}");
            joined.as_str()
        }
        None => last,
    };
    if config.is_empty() {
        return Err(StackConfigError::MissingServerConfig {
            spec: spec.to_owned(),
        });
    }
    let port = match port {
        None => DEFAULT_PORT,
        Some("") => {
            return Err(StackConfigError::MissingPort {
                spec: spec.to_owned(),
            });
        }
        Some(port) => parse_port(spec, port)?,
    };
    let config = resolve_config(spec, config, run_configs_dir)?;
    Ok(StackConfig::Server { config, port })
}

fn parse_port(spec: &str, text: &str) -> Result<u16, StackConfigError> {
    let bad = |reason| StackConfigError::BadPort {
        spec: spec.to_owned(),
        port: text.to_owned(),
        reason,
    };
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad("not a number"));
    }
    match text.parse::<u16>() {
        Ok(port) if port >= 1024 => Ok(port),
        Ok(_) => Err(bad("the stack refuses ports below 1024")),
        Err(_) => Err(bad("ports go up to 65535")),
    }
}

/// `config` as a named config (`<name>` or `<name>::<run file>`) or a path;
/// `spec` is the whole `--stack-config`, for messages.
fn resolve_config(
    spec: &str,
    config: &str,
    run_configs_dir: &Path,
) -> Result<ConfigSource, StackConfigError> {
    if let Some((name, file)) = config.split_once("::") {
        return resolve_variant(spec, name, file, run_configs_dir);
    }
    // Only a plain name is a named config: `a/b` and absolute paths are paths.
    let plain = !config.contains(['/', '\\']) && config != "." && config != "..";
    let named = run_configs_dir.join(config).join(DEFAULT_RUN_FILE);
    if plain && named.is_file() {
        return Ok(ConfigSource::Named {
            name: config.to_owned(),
            variant: None,
            path: named,
        });
    }
    let path = Path::new(config);
    if path.is_file() {
        return Ok(ConfigSource::Path(path.to_owned()));
    }
    if path.join(DEFAULT_RUN_FILE).is_file() {
        return Ok(ConfigSource::Path(path.join(DEFAULT_RUN_FILE)));
    }
    let known = known_configs(run_configs_dir);
    Err(StackConfigError::UnknownConfig {
        name: config.to_owned(),
        looked_at: named,
        suggestion: nearest(config, known.iter().map(String::as_str)).map(str::to_owned),
        known,
    })
}

/// `run-configs/<name>/<file>`: a variant of a named config.
fn resolve_variant(
    spec: &str,
    name: &str,
    file: &str,
    run_configs_dir: &Path,
) -> Result<ConfigSource, StackConfigError> {
    let dir = run_configs_dir.join(name);
    let plain = |s: &str| !s.is_empty() && !s.contains(['/', '\\']) && s != "." && s != "..";
    if !plain(name) || !dir.join(DEFAULT_RUN_FILE).is_file() {
        let known = known_configs(run_configs_dir);
        return Err(StackConfigError::UnknownConfig {
            name: name.to_owned(),
            looked_at: dir.join(DEFAULT_RUN_FILE),
            suggestion: nearest(name, known.iter().map(String::as_str)).map(str::to_owned),
            known,
        });
    }
    if file.is_empty() {
        return Err(StackConfigError::MissingRunFile {
            spec: spec.to_owned(),
            config: name.to_owned(),
        });
    }
    let path = dir.join(file);
    if !plain(file) || !path.is_file() {
        let known = run_files(&dir);
        return Err(StackConfigError::UnknownRunFile {
            config: name.to_owned(),
            file: file.to_owned(),
            suggestion: nearest(file, known.iter().map(String::as_str)).map(str::to_owned),
            known,
        });
    }
    Ok(ConfigSource::Named {
        name: name.to_owned(),
        variant: (file != DEFAULT_RUN_FILE).then(|| file.to_owned()),
        path,
    })
}

/// The `*.yaml` files of a named config's folder, sorted.
fn run_files(dir: &Path) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|name| name.ends_with(".yaml") || name.ends_with(".yml"))
        .collect();
    files.sort();
    files
}

/// Names of `run_configs_dir/<name>/run.yaml`, sorted.
pub(crate) fn known_configs(run_configs_dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(run_configs_dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|entry| entry.path().join("run.yaml").is_file())
        .filter_map(|entry| entry.file_name().into_string().ok())
        .collect();
    names.sort();
    names
}

fn parse_providers(spec: &str) -> Result<Vec<ProviderSpec>, StackConfigError> {
    let mut specs: Vec<ProviderSpec> = Vec::new();
    // The stack accepts `;` as a separator too.
    for item in spec
        .split([',', ';'])
        .map(str::trim)
        .filter(|item| !item.is_empty())
    {
        let Some((api, provider)) = item.split_once('=') else {
            return Err(StackConfigError::BareProvider {
                spec: spec.to_owned(),
                item: item.to_owned(),
            });
        };
        let (api, provider) = (api.trim(), provider.trim());
        let (provider, params) = match provider.split_once('?') {
            Some((provider, params)) => (provider, Some(params)),
            None => (provider, None),
        };
        if provider.is_empty() {
            return Err(StackConfigError::MissingProvider {
                item: format!("{api}="),
            });
        }
        let known_apis = providable_apis();
        if !known_apis.contains(&api) {
            return Err(StackConfigError::UnknownApi {
                api: api.to_owned(),
                item: item.to_owned(),
                suggestion: nearest(api, known_apis.iter().copied()).map(str::to_owned),
                known: known_apis.into_iter().map(str::to_owned).collect(),
            });
        }
        let Some(provider_type) = resolve_provider(api, provider) else {
            let known = provider_types(api);
            return Err(StackConfigError::UnknownProvider {
                provider: provider.to_owned(),
                api: api.to_owned(),
                suggestion: nearest(provider, known.iter().copied()).map(str::to_owned),
                known: known.iter().map(|t| (*t).to_owned()).collect(),
            });
        };
        if specs
            .iter()
            .any(|s| s.api == api && s.provider_type == provider_type)
        {
            return Err(StackConfigError::DuplicateProvider {
                api: api.to_owned(),
                provider_type: provider_type.to_owned(),
            });
        }
        let mut config = Vec::new();
        for param in params
            .into_iter()
            .flat_map(|p| p.split('&'))
            .filter(|p| !p.is_empty())
        {
            match param.split_once('=') {
                Some((key, value)) if !key.is_empty() => {
                    config.push((key.to_owned(), value.to_owned()))
                }
                _ => {
                    return Err(StackConfigError::BadOverride {
                        item: item.to_owned(),
                        param: param.to_owned(),
                    });
                }
            }
        }
        specs.push(ProviderSpec {
            api: api.to_owned(),
            provider_type: provider_type.to_owned(),
            config,
        });
    }
    Ok(specs)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run-configs directory holding `ci-tests` and `starter`, plus a
    /// loose `custom.yaml` and a `dir/run.yaml` beside it.
    fn fixture() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tempdir");
        for name in [
            "run-configs/ci-tests",
            "run-configs/starter",
            "run-configs/no-yaml-here",
            "dir",
        ] {
            std::fs::create_dir_all(dir.path().join(name)).expect("mkdir");
        }
        for file in [
            "run-configs/ci-tests/run.yaml",
            "run-configs/ci-tests/run-with-postgres-store.yaml",
            "run-configs/ci-tests/run-with-auth.yaml",
            "run-configs/starter/run.yaml",
            "custom.yaml",
            "dir/run.yaml",
        ] {
            std::fs::write(dir.path().join(file), "version: 2\n").expect("write");
        }
        dir
    }

    fn parse_in(dir: &tempfile::TempDir, spec: &str) -> Result<StackConfig, StackConfigError> {
        StackConfig::parse(spec, &dir.path().join("run-configs"))
    }

    fn named(dir: &tempfile::TempDir, name: &str) -> ConfigSource {
        let path = dir.path().join("run-configs").join(name).join("run.yaml");
        ConfigSource::Named {
            name: name.to_owned(),
            variant: None,
            path,
        }
    }

    fn provider(api: &str, provider_type: &str) -> ProviderSpec {
        ProviderSpec {
            api: api.to_owned(),
            provider_type: provider_type.to_owned(),
            config: Vec::new(),
        }
    }

    #[test]
    fn server_forms() {
        let dir = fixture();
        let cases = [
            (
                "server:starter",
                StackConfig::Server {
                    config: named(&dir, "starter"),
                    port: 8321,
                },
            ),
            (
                "server:ci-tests:8322",
                StackConfig::Server {
                    config: named(&dir, "ci-tests"),
                    port: 8322,
                },
            ),
            (
                " server:starter:1024 ",
                StackConfig::Server {
                    config: named(&dir, "starter"),
                    port: 1024,
                },
            ),
            (
                "server:starter:65535",
                StackConfig::Server {
                    config: named(&dir, "starter"),
                    port: 65535,
                },
            ),
        ];
        for (spec, expected) in cases {
            assert_eq!(parse_in(&dir, spec), Ok(expected), "{spec}");
        }
        let custom = dir.path().join("custom.yaml");
        let spec = format!("server:{}:9000", custom.display());
        assert_eq!(
            parse_in(&dir, &spec),
            Ok(StackConfig::Server {
                config: ConfigSource::Path(custom),
                port: 9000
            })
        );
    }

    #[test]
    fn url_forms() {
        let dir = fixture();
        for spec in [
            "http://localhost:8321",
            "https://stack.example:443/",
            "http://127.0.0.1:8321/v1",
        ] {
            let expected = url::Url::parse(spec)
                .map(StackConfig::Url)
                .expect("valid url");
            assert_eq!(parse_in(&dir, spec), Ok(expected), "{spec}");
        }
    }

    fn variant(dir: &tempfile::TempDir, name: &str, file: &str) -> ConfigSource {
        ConfigSource::Named {
            name: name.to_owned(),
            variant: Some(file.to_owned()),
            path: dir.path().join("run-configs").join(name).join(file),
        }
    }

    #[test]
    fn variant_forms_pick_a_run_file_beside_the_config() {
        let dir = fixture();
        let postgres = "run-with-postgres-store.yaml";
        let cases = [
            (
                "server:ci-tests::run-with-postgres-store.yaml",
                StackConfig::Server {
                    config: variant(&dir, "ci-tests", postgres),
                    port: 8321,
                },
            ),
            (
                "server:ci-tests::run-with-postgres-store.yaml:8400",
                StackConfig::Server {
                    config: variant(&dir, "ci-tests", postgres),
                    port: 8400,
                },
            ),
            (
                "ci-tests::run-with-auth.yaml",
                StackConfig::Private(variant(&dir, "ci-tests", "run-with-auth.yaml")),
            ),
            // `::run.yaml` is the config itself.
            (
                "server:ci-tests::run.yaml",
                StackConfig::Server {
                    config: named(&dir, "ci-tests"),
                    port: 8321,
                },
            ),
        ];
        for (spec, expected) in cases {
            let parsed = parse_in(&dir, spec).expect(spec);
            assert_eq!(parsed, expected, "{spec}");
            // The canonical spelling parses back to the same value.
            assert_eq!(parse_in(&dir, &parsed.to_string()), Ok(expected), "{spec}");
        }
        assert_eq!(
            parse_in(&dir, "server:ci-tests::run-with-postgres-store.yaml:8400")
                .expect("parses")
                .to_string(),
            "server:ci-tests::run-with-postgres-store.yaml:8400"
        );
    }

    #[test]
    fn variant_errors_list_what_exists() {
        let dir = fixture();
        let looked_at = |name: &str| {
            dir.path()
                .join("run-configs")
                .join(name)
                .join("run.yaml")
                .display()
                .to_string()
        };
        let cases = [
            (
                "server:ci-tests::run-with-postgres-stor.yaml",
                "config `ci-tests` has no run file `run-with-postgres-stor.yaml`; its run files: run-with-auth.yaml, run-with-postgres-store.yaml, run.yaml (did you mean `run-with-postgres-store.yaml`?)".to_owned(),
            ),
            (
                "ci-tests::nothing.yaml",
                "config `ci-tests` has no run file `nothing.yaml`; its run files: run-with-auth.yaml, run-with-postgres-store.yaml, run.yaml".to_owned(),
            ),
            (
                "server:ci-tests::",
                "missing run file after `server:ci-tests::`; write `ci-tests::<run file>`, e.g. `ci-tests::run.yaml`".to_owned(),
            ),
            (
                "server:ci-test::run.yaml",
                format!("unknown stack config `ci-test`: no `{}` and no such file; known configs: ci-tests, starter (did you mean `ci-tests`?)", looked_at("ci-test")),
            ),
            (
                "server:ci-tests::../starter/run.yaml",
                "config `ci-tests` has no run file `../starter/run.yaml`; its run files: run-with-auth.yaml, run-with-postgres-store.yaml, run.yaml".to_owned(),
            ),
        ];
        for (spec, expected) in cases {
            let err = parse_in(&dir, spec).expect_err(spec);
            assert_eq!(err.to_string(), expected, "{spec}");
        }
    }

    #[test]
    fn private_forms() {
        let dir = fixture();
        assert_eq!(
            parse_in(&dir, "starter"),
            Ok(StackConfig::Private(named(&dir, "starter")))
        );
        let custom = dir.path().join("custom.yaml");
        let spec = custom.display().to_string();
        assert_eq!(
            parse_in(&dir, &spec),
            Ok(StackConfig::Private(ConfigSource::Path(custom)))
        );
        let in_dir = dir.path().join("dir");
        let spec = in_dir.display().to_string();
        assert_eq!(
            parse_in(&dir, &spec),
            Ok(StackConfig::Private(ConfigSource::Path(
                in_dir.join("run.yaml")
            )))
        );
        assert_eq!(
            named(&dir, "starter").path(),
            dir.path().join("run-configs/starter/run.yaml")
        );
        assert_eq!(ConfigSource::Path(in_dir.clone()).path(), in_dir.as_path());
    }

    #[test]
    fn provider_forms() {
        let dir = fixture();
        let cases = [
            (
                "inference=remote::vllm",
                vec![provider("inference", "remote::vllm")],
            ),
            (
                "inference=vllm",
                vec![provider("inference", "remote::vllm")],
            ),
            ("files=localfs", vec![provider("files", "inline::localfs")]),
            (
                "inference=vllm, inference=ollama;vector_io=inline::faiss,",
                vec![
                    provider("inference", "remote::vllm"),
                    provider("inference", "remote::ollama"),
                    provider("vector_io", "inline::faiss"),
                ],
            ),
            (
                "inference=vllm?base_url=http://h:1/v1&max_tokens=64",
                vec![ProviderSpec {
                    config: vec![
                        ("base_url".to_owned(), "http://h:1/v1".to_owned()),
                        ("max_tokens".to_owned(), "64".to_owned()),
                    ],
                    ..provider("inference", "remote::vllm")
                }],
            ),
        ];
        for (spec, expected) in cases {
            assert_eq!(
                parse_in(&dir, spec),
                Ok(StackConfig::Providers(expected)),
                "{spec}"
            );
        }
        assert_eq!(
            provider("inference", "remote::llama-cpp-server").provider_id(),
            "llama-cpp-server"
        );
    }

    #[test]
    fn display_round_trips() {
        let dir = fixture();
        for spec in [
            "server:starter:8321",
            "http://localhost:8321/",
            "starter",
            "inference=remote::vllm?max_tokens=64&api_token=x,vector_io=inline::faiss",
        ] {
            let parsed = parse_in(&dir, spec).expect("valid spec");
            assert_eq!(parsed.to_string(), spec);
            assert_eq!(parse_in(&dir, &parsed.to_string()), Ok(parsed));
        }
    }

    #[test]
    fn every_error_text() {
        let dir = fixture();
        let looked_at = |name: &str| {
            dir.path()
                .join("run-configs")
                .join(name)
                .join("run.yaml")
                .display()
                .to_string()
        };
        let inference_types = provider_types("inference").join(", ");
        let cases: Vec<(&str, String)> = vec![
            (
                "",
                "empty stack config; expected `server:<config>[::<run file>][:<port>]`, `http(s)://<host>:<port>`, `<config>[::<run file>]` or a path to a run.yaml, or `api=provider,...` (default: `server:ci-tests`)".to_owned(),
            ),
            ("  ", "empty stack config; expected `server:<config>[::<run file>][:<port>]`, `http(s)://<host>:<port>`, `<config>[::<run file>]` or a path to a run.yaml, or `api=provider,...` (default: `server:ci-tests`)".to_owned()),
            (
                "startr",
                format!("unknown stack config `startr`: no `{}` and no such file; known configs: ci-tests, starter (did you mean `starter`?)", looked_at("startr")),
            ),
            (
                "server:nothing-like-it",
                format!("unknown stack config `nothing-like-it`: no `{}` and no such file; known configs: ci-tests, starter", looked_at("nothing-like-it")),
            ),
            (
                "no-yaml-here",
                format!("unknown stack config `no-yaml-here`: no `{}` and no such file; known configs: ci-tests, starter", looked_at("no-yaml-here")),
            ),
            ("server:", "missing config name in `server:`; expected `server:<config>[:<port>]`, e.g. `server:starter`".to_owned()),
            ("server::8321", "missing config name in `server::8321`; expected `server:<config>[:<port>]`, e.g. `server:starter`".to_owned()),
            ("server:starter:", "missing port after `server:starter:`; write `server:starter` for the default port 8321".to_owned()),
            ("server:starter:abc", "invalid port `abc` in `server:starter:abc`: not a number; use a port in 1024-65535".to_owned()),
            ("server:starter:-1", "invalid port `-1` in `server:starter:-1`: not a number; use a port in 1024-65535".to_owned()),
            ("server:starter:0", "invalid port `0` in `server:starter:0`: the stack refuses ports below 1024; use a port in 1024-65535".to_owned()),
            ("server:starter:80", "invalid port `80` in `server:starter:80`: the stack refuses ports below 1024; use a port in 1024-65535".to_owned()),
            ("server:starter:70000", "invalid port `70000` in `server:starter:70000`: ports go up to 65535; use a port in 1024-65535".to_owned()),
            ("http://", "invalid stack URL `http://`: empty host".to_owned()),
            ("http://:8321", "invalid stack URL `http://:8321`: empty host".to_owned()),
            ("http://localhost:99999", "invalid stack URL `http://localhost:99999`: invalid port number".to_owned()),
            (
                "remote::vllm",
                "`remote::vllm` in `remote::vllm` names no api; expected `api=provider`, e.g. `inference=remote::vllm`".to_owned(),
            ),
            (
                "inference=vllm,ollama",
                "`ollama` in `inference=vllm,ollama` names no api; expected `api=provider`, e.g. `inference=ollama`".to_owned(),
            ),
            ("inference=", "missing provider in `inference=`; expected `api=provider`, e.g. `inference=remote::vllm`".to_owned()),
            (
                "inferense=vllm",
                "unknown api `inferense` in `inferense=vllm`; apis that take providers: batches, datasetio, eval, file_processors, files, inference, responses, safety, scoring, tool_runtime, vector_io (did you mean `inference`?)".to_owned(),
            ),
            (
                "models=vllm",
                "unknown api `models` in `models=vllm`; apis that take providers: batches, datasetio, eval, file_processors, files, inference, responses, safety, scoring, tool_runtime, vector_io".to_owned(),
            ),
            (
                "inference=vlm",
                "unknown provider `vlm` for api `inference` (tried `vlm`, `inline::vlm`, `remote::vlm`); did you mean `remote::vllm`?".to_owned(),
            ),
            (
                "inference=qqqqqqqq",
                format!("unknown provider `qqqqqqqq` for api `inference` (tried `qqqqqqqq`, `inline::qqqqqqqq`, `remote::qqqqqqqq`); known providers: {inference_types}"),
            ),
            (
                "inference=vllm?max_tokens",
                "invalid config override `max_tokens` in `inference=vllm?max_tokens`; expected `?key=value&key=value`".to_owned(),
            ),
            (
                "inference=vllm,inference=remote::vllm",
                "provider `remote::vllm` is given twice for api `inference`; each may appear once".to_owned(),
            ),
        ];
        for (spec, expected) in cases {
            let err = parse_in(&dir, spec).expect_err(spec);
            assert_eq!(err.to_string(), expected, "{spec}");
        }
    }

    #[test]
    fn no_run_configs_at_all() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = StackConfig::parse("starter", &dir.path().join("run-configs"))
            .expect_err("nothing exists");
        let looked_at = dir.path().join("run-configs/starter/run.yaml");
        let expected = format!(
            "unknown stack config `starter`: no `{}` and no such file; known configs: none",
            looked_at.display()
        );
        assert_eq!(err.to_string(), expected);
    }
}
