//! The Llama Stack server, the system under test, as the session's last
//! service: provisioned from the launcher's pinned requirements, started
//! with everything the other services handed it, ready once its health
//! endpoint and its SQL stores answer.

use std::time::Duration;

use super::{Context, Exit, Running, Service, ServiceError, StackEnv};
use crate::issuer::{IssuerClient, MintRequest};
use crate::process::Progress;
use crate::stack::external::{self, External};
use crate::stack::provision::{StackInstall, ensure_stack};
use crate::stack::run_yaml::{JWKS_URI_VAR, RunConfig, harness_provided};
use crate::stack::server::{ServerError, ServerOptions, StackServer, home_dir};

#[derive(Default)]
pub(crate) struct StackService {
    install: Option<StackInstall>,
    server: Option<StackServer>,
    /// The run.yaml's external APIs and providers, and the overlay that
    /// holds their packages.
    external: Option<(External, Option<std::path::PathBuf>)>,
    /// It ran before in this session: a start is a restart, which keeps
    /// the state the stack wrote (uploaded files, SQLite stores).
    started_before: bool,
    /// Which of the session's stacks this is (`--stack-replicas`); each has
    /// its own port, state and log, and all share the session's services.
    replica: usize,
    /// The port it got at its first start, kept across restarts.
    port: Option<u16>,
}

impl StackService {
    pub(crate) fn replica(replica: usize) -> StackService {
        StackService {
            replica,
            ..StackService::default()
        }
    }

    /// `name` for the first stack, `name-2`, `name-3`... for the others.
    fn numbered(&self, name: &str) -> String {
        match self.replica {
            0 => name.to_owned(),
            n => format!("{name}-{}", n + 1),
        }
    }

    /// Where this stack keeps its state (its HOME among it) in the session.
    fn state_dir(&self, cx: &Context<'_>) -> std::path::PathBuf {
        cx.session_dir.join(self.numbered("state"))
    }

    /// The started server's address, pid and installed version.
    pub(crate) fn server(&self) -> Option<&StackServer> {
        self.server.as_ref()
    }

    pub(crate) fn version(&self) -> Option<&str> {
        self.install.as_ref().map(|i| i.version.as_str())
    }
}

impl Service for StackService {
    fn name(&self) -> &'static str {
        "stack"
    }

    fn provision(&mut self, cx: &Context<'_>) -> Result<(), ServiceError> {
        let install = ensure_stack(&cx.spec.project_root, cx.spec.launcher, cx.progress)?;
        if external::wanted(cx.config) {
            let spec = cx.spec;
            // As the stack will read it: its HOME is the session's.
            let home = home_dir(&self.state_dir(cx));
            let home = std::path::absolute(&home).unwrap_or(home);
            let lookup = |name: &str| {
                if name == "HOME" {
                    return Some(home.display().to_string());
                }
                spec.env
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.clone())
                    .or_else(|| harness_provided(name).map(str::to_owned))
            };
            let config = RunConfig::load(&spec.run_yaml, &lookup)?;
            let plan = External::plan(&spec.run_yaml, &config, &home, &spec.project_root);
            let overlay = plan.provision(
                &install.venv,
                &crate::python::stack_dir(&spec.project_root).join("overlays"),
                cx.progress,
            )?;
            self.external = Some((plan, overlay));
        }
        self.install = Some(install);
        Ok(())
    }

    fn start(&mut self, cx: &Context<'_>, env: &mut StackEnv) -> Result<Running, ServiceError> {
        let spec = cx.spec;
        if !spec.proxy_recorder {
            // The stack's own recorder: it reads these at start-up.
            env.insert(
                "LLAMA_STACK_TEST_INFERENCE_MODE".into(),
                spec.mode.to_string(),
            );
            env.insert(
                "LLAMA_STACK_TEST_RECORDING_DIR".into(),
                spec.record_dir.display().to_string(),
            );
            env.insert("LLAMA_STACK_TEST_STACK_CONFIG_TYPE".into(), "server".into());
        }
        let install = match &self.install {
            Some(install) => install.clone(),
            None => ensure_stack(&spec.project_root, spec.launcher, cx.progress)?,
        };
        // The first stack takes the session's port, the others free ones.
        let port = match (self.port, self.replica) {
            (Some(port), _) => port,
            (None, 0) => spec.port,
            (None, _) => crate::process::free_port().map_err(ServerError::from)?,
        };
        self.port = Some(port);
        let mut options = ServerOptions::new(
            &spec.project_root,
            &install.venv.dir.join("bin"),
            &spec.run_yaml,
            &spec.shown,
            port,
        );
        options.launcher = spec.launcher.launcher();
        // The stack gets a clean environment (see `process::spawn`) plus
        // these: the harness's own variables never reach it.
        options.env = env.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        options.state_dir = self.state_dir(cx);
        if let Some((plan, overlay)) = &self.external {
            options.external = Some(plan.clone());
            if let Some(overlay) = overlay {
                options
                    .env
                    .push(("PYTHONPATH".to_owned(), overlay.display().to_string()));
            }
        }
        options.keep_state = self.started_before;
        options.log = cx
            .session_dir
            .join(format!("{}.log", self.numbered("stack")));
        options.tiktoken_cache = Some(install.tiktoken_cache.clone());
        options.deadline = Duration::from_secs(spec.health_timeout_secs);
        let server = StackServer::start(&options, cx.progress)?;
        cx.runtime
            .block_on(sql_stores_ready(&server, env.get(JWKS_URI_VAR)))?;
        let running = Running {
            name: self.numbered(self.name()),
            pids: vec![server.pid()],
            address: Some(server.base_url().to_owned()),
            log: Some(server.log_path().to_owned()),
            ..Running::default()
        };
        self.install = Some(install);
        self.server = Some(server);
        self.started_before = true;
        Ok(running)
    }

    fn exited(&mut self) -> Option<Exit> {
        let server = self.server.as_mut()?;
        let status = server.exited()?;
        Some(Exit {
            headline: match self.replica {
                0 => format!("the Llama Stack server died ({status})"),
                n => format!("Llama Stack replica {} died ({status})", n + 1),
            },
            log: Some(server.log_path().to_owned()),
        })
    }

    fn stop(&mut self, progress: &Progress) {
        if let Some(mut server) = self.server.take() {
            progress.say("stopping the Llama Stack server");
            let _ = server.stop();
        }
    }
}

/// Waits until the stack's SQL stores answer. llama-stack 0.7.3 reports
/// healthy before it has created its tables, so the first requests that
/// touch them fail with "no such table" (500). Looking up a conversation
/// that cannot exist answers 404 once the tables are there (and 404 too in
/// a config without conversations). A stack that checks tokens against the
/// session's issuer (`jwks_uri`) is asked with one, or it would answer 401
/// before looking.
async fn sql_stores_ready(
    server: &StackServer,
    jwks_uri: Option<&String>,
) -> Result<(), ServiceError> {
    let url = format!(
        "{}/v1/conversations/conv_{}",
        server.base_url(),
        "0".repeat(48)
    );
    let not_ready = || ServiceError::StoresNotReady {
        url: url.clone(),
        log: server.log_path().to_owned(),
    };
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .map_err(|_| not_ready())?;
    let token = match jwks_uri.and_then(|uri| uri.strip_suffix("/jwks")) {
        Some(issuer) => {
            let request = MintRequest {
                user: "stack-harness-probe".to_owned(),
                ..MintRequest::default()
            };
            let client = IssuerClient::new(issuer.to_owned(), http.clone());
            Some(client.mint(&request).await.map_err(ServiceError::Probe)?)
        }
        None => None,
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let mut probe = http.get(&url).timeout(Duration::from_secs(5));
        if let Some(token) = &token {
            probe = probe.bearer_auth(token);
        }
        let status = probe.send().await.map(|r| r.status().as_u16());
        match status {
            Ok(500) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Ok(500) => return Err(not_ready()),
            _ => return Ok(()),
        }
    }
}
