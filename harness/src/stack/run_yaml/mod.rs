//! The typed model of Llama Stack's run config (run.yaml): reading with
//! lines, `${env...}` substitution, validation, and synthesis for
//! `--stack-config=api=provider,...`. The main type is [`RunConfig`].
//!
//! Loading runs the stack's own pipeline, in order, stopping at the first
//! stage that finds problems (and reporting all of that stage's problems):
//!
//! ```text
//! text --node--> located YAML tree --env--> substituted tree (raw text kept)
//!      --read--> typed RunConfig (+ warnings) --validate--> RunConfig
//! ```

mod auth;
mod env;
mod error;
mod model;
mod node;
mod pinned;
mod read;
mod storage;
mod synth;
mod validate;

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Map, Value};

pub(crate) use self::auth::{
    AUDIENCE_VAR, DEFAULT_AUDIENCE, ISSUER_VAR, IssuerNeeds, JWKS_URI_VAR,
};
pub(crate) use self::env::{Env, harness_provided};
pub(crate) use self::error::{Issue, Problem, RunYamlError};
pub(crate) use self::model::*;
use self::node::{Kind, Node};
pub(crate) use self::pinned::{nearest, providable_apis, provider_types, resolve_provider};
pub(crate) use self::synth::synthesize;

/// A loaded, validated run config, as the stack will see it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RunConfig {
    /// The file (or `rev:path`) it was read from, as messages name it.
    pub(crate) source_name: String,
    pub(crate) version: i64,
    /// `distro_name`, or the deprecated `image_name` when only that is set.
    pub(crate) distro_name: String,
    pub(crate) image_name: Option<String>,
    pub(crate) container_image: Option<String>,
    pub(crate) apis: Vec<String>,
    pub(crate) providers: Vec<ApiProviders>,
    pub(crate) storage: Storage,
    pub(crate) registered_resources: RegisteredResources,
    pub(crate) server: Server,
    pub(crate) external_providers_dir: Option<String>,
    pub(crate) external_apis_dir: Option<String>,
    /// `logging`, `vector_stores`, `safety`, `connectors` when present.
    pub(crate) other: Map<String, Value>,
    /// Accepted by the stack but probably not meant: unknown keys (which
    /// the stack ignores), deprecated fields.
    pub(crate) warnings: Vec<Issue>,
    /// Line of every key and list item, by key path.
    lines: BTreeMap<String, u32>,
    /// The value, at load time, of every variable the file refers to (and
    /// `HOME`), so later questions are answered for the same environment.
    env: BTreeMap<String, Option<String>>,
}

impl Provider {
    /// The variable a top-level config value is read from, when the value
    /// starts with one: `url: ${env.CHROMADB_URL:=}` gives `CHROMADB_URL`.
    pub(crate) fn config_var(&self, key: &str) -> Option<String> {
        let (_, raw) = self.raw_config.iter().find(|(k, _)| k == key)?;
        env::references(raw)
            .into_iter()
            .next()
            .filter(|r| r.start == 0)
            .map(|r| r.var)
    }
}

/// A provider whose upstream URL comes from an environment variable, which
/// the harness overrides to point the provider at its record/replay proxy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UpstreamVar {
    pub(crate) api: String,
    /// The provider's id once `var` is set: a provider declared as
    /// `provider_id: ${env.VLLM_URL:+vllm}` is `vllm` here, although it is
    /// disabled while `VLLM_URL` is unset.
    pub(crate) provider_id: Option<String>,
    pub(crate) provider_type: String,
    /// `base_url` or `url`.
    pub(crate) key: String,
    pub(crate) var: String,
    /// The `:=` default, if one is given and not empty.
    pub(crate) default: Option<String>,
    /// Text after the reference (`/v1` in `${env.X}/v1`), usually empty.
    pub(crate) suffix: String,
    /// Whether the provider is enabled in the environment it was loaded with.
    pub(crate) enabled: bool,
}

impl RunConfig {
    /// Reads, substitutes and validates the run.yaml at `path`; messages
    /// name the file as `path` is spelled.
    pub(crate) fn load(path: &Path, env: Env) -> Result<RunConfig, RunYamlError> {
        let text = std::fs::read_to_string(path).map_err(|source| RunYamlError::Read {
            path: path.to_owned(),
            source,
        })?;
        RunConfig::parse(&path.display().to_string(), &text, env)
    }

    /// Like [`RunConfig::load`] from text in memory. `source_name` is what
    /// messages call it: a path, or `main:run-configs/starter/run.yaml` for
    /// the backward-compatibility check reading a committed revision.
    pub(crate) fn parse(
        source_name: &str,
        text: &str,
        env: Env,
    ) -> Result<RunConfig, RunYamlError> {
        let invalid = |issues| RunYamlError::Invalid {
            source_name: source_name.to_owned(),
            issues,
        };
        let raw = node::parse(text).map_err(|err| RunYamlError::Syntax {
            source_name: source_name.to_owned(),
            line: err.line,
            column: err.column,
            message: err.message,
        })?;
        let resolved = env::substitute(&raw, env).map_err(|missing| {
            invalid(
                missing
                    .into_iter()
                    .map(|m| Issue {
                        line: m.line,
                        key: m.path,
                        problem: Problem::MissingEnvVar { var: m.var },
                    })
                    .collect(),
            )
        })?;
        let mut reader = read::Reader::new(env);
        let read = reader.read(&resolved);
        let read = match read {
            Some(read) if reader.issues.is_empty() => read,
            _ => return Err(invalid(reader.issues)),
        };
        let mut lines = BTreeMap::new();
        index_lines(&resolved, "", &mut lines);
        let mut snapshot = BTreeMap::from([("HOME".to_owned(), env("HOME"))]);
        snapshot_env(&raw, env, &mut snapshot);
        let config = RunConfig {
            source_name: source_name.to_owned(),
            version: read.version,
            distro_name: read.distro_name,
            image_name: read.image_name,
            container_image: read.container_image,
            apis: read.apis,
            providers: read.providers,
            storage: read.storage,
            registered_resources: read.registered_resources,
            server: read.server,
            external_providers_dir: read.external_providers_dir,
            external_apis_dir: read.external_apis_dir,
            other: read.other,
            warnings: reader.warnings,
            lines,
            env: snapshot,
        };
        let issues = validate::validate(&config);
        if issues.is_empty() {
            Ok(config)
        } else {
            Err(invalid(issues))
        }
    }

    /// The line of a key path (`server.port`, `providers.inference[0]`), or
    /// of its nearest written ancestor for a key the file leaves to a default.
    pub(crate) fn line_of(&self, path: &str) -> Option<u32> {
        let mut path = path;
        loop {
            if let Some(line) = self.lines.get(path) {
                return Some(*line);
            }
            let cut = path.rfind(['.', '['])?;
            path = &path[..cut];
        }
    }

    /// Warnings as `file:line: key: problem` lines.
    pub(crate) fn warning_lines(&self) -> Vec<String> {
        self.warnings
            .iter()
            .map(|w| w.display_in(&self.source_name).to_string())
            .collect()
    }

    /// Providers whose `base_url` or `url` is written as `${env.X...}`
    /// (possibly followed by more text), in file order, disabled ones
    /// included: setting X is what enables many of them (`starter`).
    /// Vector stores are left out: a `url` there is a database server
    /// (chroma, infinispan), whose traffic is state, not model traffic to
    /// record, and which a proxy in between would break.
    pub(crate) fn upstream_vars(&self) -> Vec<UpstreamVar> {
        let env = |name: &str| self.env.get(name).cloned().flatten();
        let mut found = Vec::new();
        for group in self.providers.iter().filter(|g| g.api != "vector_io") {
            for provider in &group.providers {
                for (key, raw) in &provider.raw_config {
                    if key != "base_url" && key != "url" {
                        continue;
                    }
                    let Some(reference) = env::references(raw)
                        .into_iter()
                        .next()
                        .filter(|r| r.start == 0)
                    else {
                        continue;
                    };
                    let var = reference.var;
                    let with_var = |name: &str| {
                        if name == var {
                            Some("set".to_owned())
                        } else {
                            env(name)
                        }
                    };
                    let provider_id = match provider.raw_provider_id.as_deref() {
                        Some(raw_id) => match env::resolve_text(raw_id, &with_var) {
                            Ok(Kind::Str(id)) => Some(id),
                            _ => None,
                        },
                        None => provider.provider_id.clone(),
                    };
                    found.push(UpstreamVar {
                        api: group.api.clone(),
                        provider_id,
                        provider_type: provider.provider_type.clone(),
                        key: key.clone(),
                        default: reference.default.filter(|d| !d.is_empty()),
                        suffix: raw[reference.end..].to_owned(),
                        enabled: provider.is_enabled(),
                        var,
                    });
                }
            }
        }
        found
    }

    /// The enabled providers of one API.
    pub(crate) fn providers_of(&self, api: &str) -> impl Iterator<Item = &Provider> {
        self.providers
            .iter()
            .filter(move |g| g.api == api)
            .flat_map(|g| &g.providers)
            .filter(|p| p.is_enabled())
    }
}

fn snapshot_env(node: &Node, env: Env, snapshot: &mut BTreeMap<String, Option<String>>) {
    match &node.kind {
        Kind::Str(text) => {
            for reference in env::references(text) {
                snapshot
                    .entry(reference.var)
                    .or_insert_with_key(|var| env(var));
            }
        }
        Kind::Map(entries) => entries
            .iter()
            .for_each(|(_, value)| snapshot_env(value, env, snapshot)),
        Kind::Seq(items) => items
            .iter()
            .for_each(|(_, item)| snapshot_env(item, env, snapshot)),
        _ => {}
    }
}

fn index_lines(node: &Node, path: &str, lines: &mut BTreeMap<String, u32>) {
    match &node.kind {
        Kind::Map(entries) => {
            for (key, value) in entries {
                let child = read::join(path, &key.name);
                lines.insert(child.clone(), key.line);
                index_lines(value, &child, lines);
            }
        }
        Kind::Seq(items) => {
            for (index, item) in items {
                let child = format!("{path}[{index}]");
                lines.insert(child.clone(), item.line);
                index_lines(item, &child, lines);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests;

/// The backward-compatibility check of run-configs (`harness::__compat`).
pub mod compat;
