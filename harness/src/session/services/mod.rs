//! Session services: what the supervisor starts so the stack can run — the
//! local model server, the record/replay proxy, and what a run-config
//! variant asks for (a database, a token issuer, a vector store server) —
//! and the stack itself, all as one kind of thing, [`Service`].
//!
//! ```text
//! plan(spec, run.yaml) -> [service, ..., stack]
//! provision each (once per machine, cached under .stack/)
//! start each in order; each adds the ${env.X} values it hands the stack
//! watch all: one that dies ends the session, named with its log tail
//! stop in reverse order (process groups, awaited)
//! ```
//!
//! Which services a session has follows from its spec and its run.yaml, so a
//! user still types only `--stack-config`.

mod chroma;
mod issuer;
mod mcp;
mod model;
mod postgres;
mod proxy;
mod stack;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::SupervisorSpec;
use crate::issuer::IssuerError;
use crate::local_model::LocalModelError;
use crate::process::{OwnedProcess, ProcessError, Progress};
use crate::python::PythonError;
use crate::record::RecordError;
use crate::stack::provision::ProvisionError;
use crate::stack::run_yaml::{BackendType, RunConfig};
use crate::stack::server::ServerError;

pub(crate) use issuer::NAME as ISSUER;
pub(crate) use stack::StackService;

/// The `${env.X}` values the stack is started with, built up service by
/// service: a later service may read and override what an earlier one set
/// (the proxy replaces the model's URLs with its own).
pub(crate) type StackEnv = BTreeMap<String, String>;

/// What every service is given.
pub(crate) struct Context<'a> {
    pub spec: &'a SupervisorSpec,
    /// The run.yaml as the test process validated it: which providers and
    /// stores exist, whatever the values of its variables.
    pub config: &'a RunConfig,
    pub session_dir: &'a Path,
    pub progress: &'a Progress,
    /// For services that run inside the supervisor (the proxy): start and
    /// stop are called off the runtime, so they may block on it.
    pub runtime: tokio::runtime::Handle,
}

/// One thing a session runs.
pub(crate) trait Service: Send {
    /// `local model`, `proxy`, `stack`: in progress lines, errors, `sessions`.
    fn name(&self) -> &'static str;

    /// Installs what it needs, once per machine (cached under `.stack/`);
    /// fast when nothing changed. Runs before any service starts, so a
    /// failed install starts nothing.
    fn provision(&mut self, _cx: &Context<'_>) -> Result<(), ServiceError> {
        Ok(())
    }

    /// Starts it and waits until it is ready; adds to `env` what it hands
    /// the stack.
    fn start(&mut self, cx: &Context<'_>, env: &mut StackEnv) -> Result<Running, ServiceError>;

    /// How it ended, once it has stopped on its own.
    fn exited(&mut self) -> Option<Exit>;

    /// Stops it and waits until it is gone; stopping twice is harmless.
    fn stop(&mut self, progress: &Progress);
}

/// A started service, as `sessions` shows it and the orphan proofs count it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Running {
    pub name: String,
    /// Its process groups (none for a service inside the supervisor).
    pub pids: Vec<u32>,
    /// Where it listens.
    pub address: Option<String>,
    pub log: Option<PathBuf>,
    /// The directory its processes run in, when not inside the session
    /// directory (so `sessions` and the orphan proofs find them).
    #[serde(default)]
    pub workdir: Option<PathBuf>,
    /// A credential its clients need (the MCP server's bearer token), for
    /// the test processes; never printed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<Secret>,
}

/// A value that is published for the test processes but never shown:
/// `Debug` prints a placeholder.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub(crate) struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<hidden>)")
    }
}

/// A service that stopped on its own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Exit {
    /// One line: `the Llama Stack server died (signal: 9 (SIGKILL))`.
    pub headline: String,
    /// The log whose tail tells why.
    pub log: Option<PathBuf>,
}

impl Exit {
    /// How a service's one process ended, once it has: `{what} exited
    /// ({status})`, with its log. `None` while it runs (or never started).
    pub(crate) fn of(process: Option<&mut OwnedProcess>, what: &str) -> Option<Self> {
        let process = process?;
        let status = process.exit_status().ok().flatten()?;
        Some(Self {
            headline: format!("{what} exited ({status})"),
            log: Some(process.log_path().to_owned()),
        })
    }

    /// The headline with the log's last lines.
    pub(crate) fn describe(&self) -> String {
        match &self.log {
            Some(log) => format!(
                "{}; the last lines of `{}`:\n{}",
                self.headline,
                log.display(),
                crate::process::log_tail(log, crate::process::LOG_TAIL_LINES)
            ),
            None => self.headline.clone(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum ServiceError {
    #[error(transparent)]
    LocalModel(#[from] LocalModelError),
    #[error(transparent)]
    Provision(#[from] ProvisionError),
    #[error(transparent)]
    Server(#[from] ServerError),
    #[error(transparent)]
    Record(#[from] RecordError),
    #[error(transparent)]
    Postgres(#[from] postgres::PostgresError),
    #[error(transparent)]
    Mcp(#[from] mcp::McpError),
    #[error(transparent)]
    Python(#[from] PythonError),
    #[error(transparent)]
    Process(#[from] ProcessError),
    #[error(
        "`{}` is missing: the {service}'s pinned requirements are committed there; restore it with \
         `git checkout -- {file}`",
        path.display()
    )]
    NoRequirements {
        service: &'static str,
        path: PathBuf,
        file: &'static str,
    },
    #[error("the {0} was started before it was provisioned")]
    NotProvisioned(&'static str),
    #[error("cannot {action} `{}`: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Issuer(#[from] IssuerError),
    #[error(transparent)]
    RunYaml(#[from] crate::stack::run_yaml::RunYamlError),
    #[error("{var}: the upstream URL of provider `{provider}` is not a URL: {source}")]
    UpstreamUrl {
        var: String,
        provider: String,
        source: url::ParseError,
    },
    #[error(
        "the stack's SQL stores were still not ready 60 s after start-up (GET {url} answered 500); see `{}`",
        log.display()
    )]
    StoresNotReady { url: String, log: PathBuf },
    #[error("cannot get a token to probe the stack with: {0:#}")]
    Probe(anyhow::Error),
}

/// Whether the session runs its own PostgreSQL: a store or the pgvector
/// provider uses one, and the user did not point `POSTGRES_HOST` (with
/// `--env` or a setup) at a server of their own.
fn needs_postgres(spec: &SupervisorSpec, config: &RunConfig) -> bool {
    let stores = config.storage.backends.iter().any(|(_, backend)| {
        matches!(
            backend.backend_type(),
            BackendType::KvPostgres | BackendType::SqlPostgres
        )
    });
    let pgvector = config
        .providers_of("vector_io")
        .any(|p| p.provider_type == "remote::pgvector" && p.provider_id.is_some());
    let given = spec.env.iter().any(|(k, _)| k == "POSTGRES_HOST");
    (stores || pgvector) && !given
}

/// Whether the session runs the MCP tool server: whenever the stack serves
/// `/v1/responses`, the only way llama-stack 0.7.3 reaches an MCP server
/// (a `{"type": "mcp", "server_url": …}` tool names it per request, so the
/// stack itself needs no configuration). It runs inside the supervisor and
/// costs one loopback port, so there is no reason to ask for it.
fn needs_mcp(config: &RunConfig) -> bool {
    config.apis.iter().any(|api| api == "responses")
}

/// The services a session runs before its stack, in the order they start:
/// what the spec asks for (a local model to record from, the proxy) and
/// what the run.yaml needs (its stores' database, its token issuer, an MCP
/// server for its responses API, its vector store server, ...).
pub(crate) fn plan(spec: &SupervisorSpec, config: &RunConfig) -> Vec<Box<dyn Service>> {
    let mut services: Vec<Box<dyn Service>> = Vec::new();
    // Secrets the services mint, for the proxy to redact should one ever
    // reach a recording.
    let mut secrets = Vec::new();
    if spec.local_model {
        services.push(Box::new(model::LocalModelService::default()));
    }
    if needs_postgres(spec, config) {
        services.push(Box::new(postgres::PostgresService::default()));
    }
    if needs_mcp(config) {
        let mcp = mcp::McpService::new();
        secrets.extend(mcp.token().map(str::to_owned));
        services.push(Box::new(mcp));
    }
    if spec.proxy_recorder {
        services.push(Box::new(proxy::ProxyService::new(secrets)));
    }
    if chroma::wanted(spec, config) {
        services.push(Box::new(chroma::ChromaService::default()));
    }
    if let Some(needs) = config.harness_issuer() {
        services.push(Box::new(issuer::IssuerService::new(needs)));
    }
    services
}
