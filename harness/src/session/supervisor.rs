//! The session supervisor: the test binary re-executed with
//! `STACK_HARNESS_SUPERVISOR_SPEC` set. It owns, for as long as any test
//! process holds a lease, the local model server (with `--setup=local` when
//! recording), the record/replay proxy and the Llama Stack server, which it
//! starts in that order (the stack lists its providers' models once, at
//! start-up, through the proxy) and stops in reverse.
//!
//! It prints progress to its log, which the test process that spawned it
//! copies to the terminal while it waits.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use super::files::{Phase, SessionDir, State};
use super::start::{KEEP_IDLE, SupervisorSpec};
use crate::local_model::LocalModel;
use crate::process::Progress;
use crate::record::{self, InferenceMode, Proxy, ProxyOptions, RecordError, Rules, Upstream};
use crate::stack::{
    self, launcher::Launcher, run_yaml::RunConfig, server::ServerOptions, server::StackServer,
};

/// The variable that turns the test binary into a supervisor.
pub(crate) const SUPERVISOR_ENV: &str = "STACK_HARNESS_SUPERVISOR_SPEC";

/// Variables of the harness that must not reach the stack: the stack's own
/// recorder reads the same names and would start recording on its side.
const HARNESS_VARS: &[&str] = &[
    "LLAMA_STACK_TEST_INFERENCE_MODE",
    "LLAMA_STACK_TEST_RECORDING_DIR",
    "LLAMA_STACK_TEST_STACK_CONFIG_TYPE",
    SUPERVISOR_ENV,
];

pub(crate) fn supervise(spec_path: OsString) -> ExitCode {
    let spec_path = PathBuf::from(spec_path);
    let spec: SupervisorSpec = match std::fs::read(&spec_path)
        .map_err(|e| e.to_string())
        .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
    {
        Ok(spec) => spec,
        Err(e) => {
            eprintln!(
                "cannot read the supervisor spec {}: {e}",
                spec_path.display()
            );
            return ExitCode::FAILURE;
        }
    };
    let dir = SessionDir {
        dir: spec.session_dir.clone(),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            fail(
                &dir,
                &spec,
                format!("cannot start the supervisor's runtime: {e}"),
            );
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(&spec, &dir)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            fail(&dir, &spec, message);
            ExitCode::FAILURE
        }
    }
}

fn state(spec: &SupervisorSpec, phase: Phase) -> State {
    State {
        supervisor_pid: std::process::id(),
        phase,
        config_hash: spec.config_hash.clone(),
        base_url: None,
        proxy_url: None,
        stack_version: None,
        error: None,
        keep: spec.keep,
    }
}

fn fail(dir: &SessionDir, spec: &SupervisorSpec, message: String) {
    eprintln!("error: {message}");
    let _ = dir.write_state(&State {
        error: Some(message),
        ..state(spec, Phase::Failed)
    });
}

/// Everything the supervisor started, stopped in reverse order.
#[derive(Default)]
struct Owned {
    model: Option<LocalModel>,
    proxy: Option<Proxy>,
    stack: Option<StackServer>,
}

impl Owned {
    async fn stop(&mut self) {
        if let Some(mut stack) = self.stack.take() {
            println!("stopping the Llama Stack server");
            let _ = tokio::task::spawn_blocking(move || stack.stop()).await;
        }
        if let Some(proxy) = self.proxy.take() {
            proxy.shutdown().await;
        }
        if let Some(mut model) = self.model.take() {
            println!("stopping the local model server");
            let _ = tokio::task::spawn_blocking(move || model.stop()).await;
        }
    }
}

async fn run(spec: &SupervisorSpec, dir: &SessionDir) -> Result<(), String> {
    dir.write_state(&state(spec, Phase::Starting))
        .map_err(|e| format!("cannot write state.json: {e}"))?;
    let mut owned = Owned::default();
    let outcome = match start_all(spec, dir, &mut owned).await {
        Ok(ready) => watch(spec, dir, &mut owned, ready).await,
        Err(e) => Err(e),
    };
    owned.stop().await;
    if outcome.is_ok() {
        let _ = dir.write_state(&state(spec, Phase::Stopped));
    }
    outcome
}

/// Runs blocking start-up work (installs, health waits) off the runtime, so
/// the proxy keeps answering the stack meanwhile.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| format!("start-up task failed: {e}"))?
}

async fn start_all(
    spec: &SupervisorSpec,
    dir: &SessionDir,
    owned: &mut Owned,
) -> Result<State, String> {
    let progress = Progress::new(|line| println!("{line}"));
    // The stack's environment: the setup's and --env's, then the proxy's URLs
    // for the providers' base URL variables.
    let mut env: BTreeMap<String, String> = spec.env.iter().cloned().collect();

    if spec.local_model {
        let (root, p) = (spec.project_root.clone(), progress.clone());
        let model =
            blocking(move || LocalModel::start(&root, &p).map_err(|e| e.to_string())).await?;
        env.entry("VLLM_URL".into())
            .or_insert_with(|| model.chat_url.clone());
        env.entry("EMBEDDING_URL".into())
            .or_insert_with(|| model.embedding_url.clone());
        owned.model = Some(model);
    }

    let (root, launcher, p) = (
        spec.project_root.clone(),
        spec.launcher.clone(),
        progress.clone(),
    );
    let install = blocking(move || {
        stack::provision::ensure_stack(&root, &launcher, &p).map_err(|e| e.to_string())
    })
    .await?;
    let process_env: BTreeMap<String, String> = std::env::vars()
        .filter(|(k, _)| !HARNESS_VARS.contains(&k.as_str()))
        .collect();
    // The stack server sets SQLITE_STORE_DIR itself; validation needs a value.
    let state_dir = dir.path("state").display().to_string();
    let lookup = |k: &str| {
        env.get(k)
            .or_else(|| process_env.get(k))
            .cloned()
            .or_else(|| (k == "SQLITE_STORE_DIR").then(|| state_dir.clone()))
    };
    let run_config = RunConfig::load(&spec.run_yaml, &lookup).map_err(|e| e.to_string())?;
    for warning in run_config.warning_lines() {
        println!("warning: {warning}");
    }
    let mode: InferenceMode = spec.mode.parse().map_err(|e: RecordError| e.to_string())?;

    let mut stack_env = env.clone();
    let mut proxy_url = None;
    if spec.proxy_recorder {
        let mut upstreams = Vec::new();
        let mut routes = Vec::new();
        for var in run_config.upstream_vars() {
            let Some(provider) = var.provider_id.clone() else {
                continue;
            };
            let real = lookup(&var.var)
                .or_else(|| var.default.clone())
                .map(|u| format!("{u}{}", var.suffix));
            let base = real
                .as_deref()
                .map(url::Url::parse)
                .transpose()
                .map_err(|e| {
                    format!(
                        "{}: the upstream URL of provider `{provider}` is not a URL: {e}",
                        var.var
                    )
                })?;
            let (upstream, path) = match base {
                Some(base) => Upstream::from_base_url(&provider, &base),
                None => (
                    Upstream {
                        name: provider.clone(),
                        url: None,
                    },
                    "/v1".to_owned(),
                ),
            };
            // In replay the upstream is never contacted: leave it out, so a
            // bug could not reach the network either.
            let upstream = if !mode.uses_network() {
                Upstream {
                    url: None,
                    ..upstream
                }
            } else {
                upstream
            };
            routes.push((var.var.clone(), provider, path));
            upstreams.push(upstream);
        }
        let rules = Rules::load_from_dir(&spec.record_dir).map_err(|e| e.to_string())?;
        let options = ProxyOptions {
            mode,
            dir: spec.record_dir.clone(),
            upstreams,
            rules,
            port: 0,
        };
        let proxy = record::start(options).await.map_err(|e| e.to_string())?;
        for (var, provider, path) in &routes {
            stack_env.insert(var.clone(), proxy.base_url(provider, path));
        }
        println!("record/replay proxy on {} in {mode} mode", proxy.addr());
        proxy_url = Some(proxy.control_url());
        owned.proxy = Some(proxy);
    } else {
        stack_env.insert("LLAMA_STACK_TEST_INFERENCE_MODE".into(), mode.to_string());
        stack_env.insert(
            "LLAMA_STACK_TEST_RECORDING_DIR".into(),
            spec.record_dir.display().to_string(),
        );
        stack_env.insert("LLAMA_STACK_TEST_STACK_CONFIG_TYPE".into(), "server".into());
    }

    let launcher = Launcher::preset(&spec.launcher).map_err(|e| e.to_string())?;
    let mut options = ServerOptions::new(
        &spec.project_root,
        &install.venv.dir.join("bin"),
        &spec.run_yaml,
        &spec.run_yaml.display().to_string(),
        spec.port,
    );
    options.launcher = launcher;
    options.env = stack_env.into_iter().collect();
    options.state_dir = dir.path("state");
    options.log = dir.path("stack.log");
    options.tiktoken_cache = Some(install.tiktoken_cache.clone());
    options.deadline = Duration::from_secs(spec.health_timeout_secs);
    let p = progress.clone();
    let server =
        blocking(move || StackServer::start(&options, &p).map_err(|e| e.to_string())).await?;
    let base_url = server.base_url().to_owned();
    let probe_base = base_url.clone();
    blocking(move || sql_stores_ready(&probe_base)).await?;
    // One line per server start: how a test proves that many processes
    // shared one server (see tests/nextest.rs).
    let _ = dir.record_start(server.pid());
    owned.stack = Some(server);

    let ready = State {
        base_url: Some(base_url),
        proxy_url,
        stack_version: Some(install.version.clone()),
        ..state(spec, Phase::Ready)
    };
    dir.write_state(&ready)
        .map_err(|e| format!("cannot write state.json: {e}"))?;
    Ok(ready)
}

/// Waits until the stack's SQL stores answer. llama-stack 0.7.3 reports
/// healthy before it has created its tables, so the first requests that
/// touch them fail with "no such table" (500). Looking up a conversation
/// that cannot exist answers 404 once the tables are there (and 404 too in
/// a config without conversations).
fn sql_stores_ready(base_url: &str) -> Result<(), String> {
    let url = format!("{base_url}/v1/conversations/conv_{}", "0".repeat(48));
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        match crate::process::probe(&url, Duration::from_secs(5)) {
            crate::process::Probe::Status(500) if std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(100));
            }
            crate::process::Probe::Status(500) => {
                return Err(format!(
                    "the stack's SQL stores were still not ready 60 s after start-up (GET {url} answered 500)"
                ));
            }
            _ => return Ok(()),
        }
    }
}

/// Keeps everything up while leases are held; returns when it is time to
/// stop, with an error if the stack died.
async fn watch(
    spec: &SupervisorSpec,
    dir: &SessionDir,
    owned: &mut Owned,
    ready: State,
) -> Result<(), String> {
    let idle_limit = if spec.keep {
        KEEP_IDLE
    } else {
        Duration::from_secs(spec.grace_secs)
    };
    let mut idle_since: Option<Instant> = None;
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| format!("cannot watch for SIGTERM: {e}"))?;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            _ = term.recv() => { println!("stopping on SIGTERM"); return Ok(()); }
            _ = tokio::signal::ctrl_c() => { println!("stopping on SIGINT"); return Ok(()); }
        }
        if dir.stop_requested() {
            dir.clear_stop();
            println!("stopping on request");
            return Ok(());
        }
        if let Some(stack) = owned.stack.as_ref()
            && !crate::process::group_is_alive(stack.pid())
        {
            let tail = crate::process::log_tail(stack.log_path(), 40);
            let message = format!(
                "the Llama Stack server died during the run; the last lines of {}:\n{tail}",
                stack.log_path().display()
            );
            println!("{message}");
            let _ = dir.write_state(&State {
                phase: Phase::Failed,
                error: Some(message.clone()),
                ..ready.clone()
            });
            return Err(message);
        }
        if dir.live_leases().is_empty() {
            let since = *idle_since.get_or_insert_with(Instant::now);
            if since.elapsed() >= idle_limit {
                println!(
                    "no test process has used the stack for {} s: stopping",
                    idle_limit.as_secs()
                );
                return Ok(());
            }
        } else {
            idle_since = None;
        }
    }
}
