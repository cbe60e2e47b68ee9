//! What a run's stack options mean, checked once before anything is
//! provisioned or spawned: `--stack-config` parsed, the launcher known, and
//! the run.yaml read, substituted and validated. A [`StackTarget`] cannot
//! hold a config that fails to load, so a mistake is one usage error at the
//! start of the run, not a failure repeated under every test.

use std::path::{Path, PathBuf};

use super::config::{ConfigSource, StackConfig, StackConfigError};
use super::launcher::LauncherKind;
use super::run_yaml::{RunConfig, RunYamlError, harness_provided, synthesize};

/// The stack a run talks to.
#[derive(Debug, Clone)]
pub(crate) enum StackTarget {
    /// A stack someone else runs (`http(s)://…`): nothing is started.
    Url(url::Url),
    /// A stack the session supervisor starts (or reuses).
    Supervised(Supervised),
}

/// A stack the harness starts, from a run.yaml that loads.
#[derive(Debug, Clone)]
pub(crate) struct Supervised {
    /// `--stack-config` in its canonical spelling, for messages and for the
    /// command that reproduces the session.
    pub shown: String,
    pub run_yaml: RunYaml,
    /// `Some`: this port, shared with later runs (`server:<config>`);
    /// `None`: a private server on a free port.
    pub port: Option<u16>,
    pub launcher: LauncherKind,
}

/// Where the run.yaml comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RunYaml {
    File(PathBuf),
    /// Synthesised from `api=provider,...`; written into the session
    /// directory when the server starts.
    Text(String),
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum TargetError {
    #[error("--stack-config: {0}")]
    Config(#[from] StackConfigError),
    #[error("--stack-config: {0}")]
    Synthesize(RunYamlError),
    #[error("{0}")]
    RunYaml(#[from] RunYamlError),
}

impl StackTarget {
    /// Resolves `spec` (a `--stack-config` value) for `launcher`. Named
    /// configs are looked up in `run_configs_dir`; `env` answers the
    /// run.yaml's `${env.X}` as the stack will see it (the setup's and
    /// `--env`'s values, then the process environment), and what the
    /// harness itself provides gets a placeholder.
    pub(crate) fn resolve(
        spec: &str,
        launcher: LauncherKind,
        run_configs_dir: &Path,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<StackTarget, TargetError> {
        let lookup = |name: &str| env(name).or_else(|| harness_provided(name).map(str::to_owned));
        let parsed = StackConfig::parse(spec, run_configs_dir)?;
        let shown = parsed.to_string();
        let (run_yaml, port) = match parsed {
            StackConfig::Url(url) => return Ok(StackTarget::Url(url)),
            StackConfig::Server { config, port } => (file(&config), Some(port)),
            StackConfig::Private(config) => (file(&config), None),
            StackConfig::Providers(providers) => (
                RunYaml::Text(synthesize(&providers).map_err(TargetError::Synthesize)?),
                None,
            ),
        };
        // Loaded to be checked (with the harness's placeholders for what
        // the session provides); the supervisor loads it again with the
        // real values.
        let config = match &run_yaml {
            RunYaml::File(path) => RunConfig::load(path, &lookup)?,
            RunYaml::Text(text) => RunConfig::parse("(synthesised run.yaml)", text, &lookup)
                .map_err(TargetError::Synthesize)?,
        };
        // What the stack would run but a session cannot (a route policy
        // closing the health check the harness waits on, a token issuer
        // variable with text around it): one error now, not a start-up
        // that times out.
        let issues = config.session_issues();
        if !issues.is_empty() {
            return Err(TargetError::RunYaml(RunYamlError::Invalid {
                source_name: config.source_name,
                issues,
            }));
        }
        Ok(StackTarget::Supervised(Supervised {
            shown,
            run_yaml,
            port,
            launcher,
        }))
    }

    /// How the target is spelt in messages and commands.
    pub(crate) fn shown(&self) -> String {
        match self {
            StackTarget::Url(url) => url.to_string(),
            StackTarget::Supervised(s) => s.shown.clone(),
        }
    }
}

fn file(config: &ConfigSource) -> RunYaml {
    RunYaml::File(config.path().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn configs() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tempdir");
        let ci = dir.path().join("ci");
        std::fs::create_dir_all(&ci).expect("mkdir");
        std::fs::write(
            ci.join("run.yaml"),
            "version: 2\ndistro_name: ci\napis: [inference]\nproviders:\n  inference:\n  - provider_id: vllm\n    provider_type: remote::vllm\n    config: {base_url: \"${env.VLLM_URL:=http://127.0.0.1:8000/v1}\"}\nserver: {host: 127.0.0.1}\n",
        )
        .expect("write");
        let bad = dir.path().join("bad");
        std::fs::create_dir_all(&bad).expect("mkdir");
        std::fs::write(
            bad.join("run.yaml"),
            "version: 2\ndistro_name: bad\napis: [inference]\nproviders:\n  inference:\n  - provider_id: x\n    provider_type: remote::nonesuch\n",
        )
        .expect("write");
        dir
    }

    fn resolve(spec: &str, dir: &Path) -> Result<StackTarget, TargetError> {
        StackTarget::resolve(spec, LauncherKind::LlamaStack, dir, &|_| None)
    }

    #[test]
    fn a_server_config_resolves_with_the_harness_placeholders() {
        let dir = configs();
        let StackTarget::Supervised(s) = resolve("server:ci:9000", dir.path()).expect("resolves")
        else {
            panic!("a server config is supervised")
        };
        assert_eq!(s.shown, "server:ci:9000");
        assert_eq!(s.port, Some(9000));
        assert_eq!(s.run_yaml, RunYaml::File(dir.path().join("ci/run.yaml")));
        let StackTarget::Supervised(s) = resolve("ci", dir.path()).expect("resolves") else {
            panic!("a private config is supervised")
        };
        assert_eq!(s.port, None);
    }

    #[test]
    fn a_url_is_used_as_is() {
        let dir = configs();
        assert!(matches!(
            resolve("http://127.0.0.1:5000", dir.path()),
            Ok(StackTarget::Url(_))
        ));
    }

    #[test]
    fn a_run_yaml_that_does_not_load_is_an_error_naming_file_line_and_key() {
        let dir = configs();
        let err = resolve("server:bad", dir.path()).expect_err("invalid provider");
        let text = err.to_string();
        let file = dir.path().join("bad/run.yaml").display().to_string();
        assert!(text.starts_with(&file), "{text}");
        assert!(text.contains(":7:"), "{text}");
        assert!(text.contains("remote::nonesuch"), "{text}");
    }

    #[test]
    fn an_auth_block_a_session_cannot_run_is_an_error_before_anything_starts() {
        let dir = configs();
        let auth = dir.path().join("auth");
        std::fs::create_dir_all(&auth).expect("mkdir");
        let head = "version: 2\ndistro_name: auth\napis: [inference]\nproviders:\n  inference:\n  - provider_id: vllm\n    provider_type: remote::vllm\n    config: {base_url: \"http://127.0.0.1:8000/v1\"}\nserver:\n  auth:\n    provider_config:\n      type: oauth2_token\n";
        let write = |name: &str, rest: &str| {
            std::fs::write(auth.join(name), format!("{head}{rest}")).expect("write");
        };
        write(
            "run.yaml",
            "      jwks: {uri: \"${env.STACK_HARNESS_JWKS_URI}\"}\n    route_policy:\n    - permit: {paths: \"*\"}\n      unless: user with restricted in roles\n",
        );
        write("run-no-uri.yaml", "      jwks: {key_recheck_period: 5}\n");
        let file = |name: &str| auth.join(name).display().to_string();
        assert_eq!(
            resolve("server:auth", dir.path())
                .expect_err("health is closed")
                .to_string(),
            format!(
                "{}:14: server.auth.route_policy: this route policy answers 403 to `/v1/health` without a token \
                 (the stack serves it unauthenticated, so a `when`/`unless` rule never matches it), and the harness waits on \
                 `/v1/health` before any test; put an unconditional `- permit: {{paths: [\"/v1/health\", \"/v1/version\"]}}` first",
                file("run.yaml")
            )
        );
        assert_eq!(
            resolve("server:auth::run-no-uri.yaml", dir.path())
                .expect_err("no uri")
                .to_string(),
            format!(
                "{}:13: server.auth.provider_config.jwks.uri: missing; `jwks` (the URL of the key set) needs it",
                file("run-no-uri.yaml")
            )
        );
    }

    #[test]
    fn an_unknown_config_is_a_stack_config_error() {
        let dir = configs();
        let err = resolve("server:nope", dir.path()).expect_err("unknown");
        assert!(
            err.to_string()
                .starts_with("--stack-config: unknown stack config `nope`"),
            "{err}"
        );
    }
}
