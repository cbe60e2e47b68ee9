//! Starting or reusing the session's stack, from the test process's side:
//! take the session lock, reuse a healthy supervisor with the same
//! configuration or spawn a new one, and wait for it while showing its
//! progress. What to start was resolved and checked before (a
//! [`StackTarget`]); nothing here parses user input.

use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sha2::{Digest as _, Sha256};

use super::error::SessionError;
use super::files::{Phase, SessionDir, State};
use super::spec::{GRACE, NEXTEST_GRACE, SUPERVISOR_ENV, SupervisorSpec};
use super::{Lease, LiveStack, StackProcess};
use crate::cli::{Config, Recorder};
use crate::issuer::IssuerClient;
use crate::record::{InferenceMode, ProxyControl};
use crate::stack::identity::Stack;
use crate::stack::launcher::LauncherKind;
use crate::stack::provision::Distribution;
use crate::stack::target::{RunYaml, StackTarget, Supervised};

/// What the session needs from the run's configuration.
#[derive(Clone, Debug)]
pub(crate) struct SessionSettings {
    pub project_root: PathBuf,
    pub target_dir: PathBuf,
    pub target: StackTarget,
    /// Which project the stack is: the one the harness starts, or what
    /// `--launcher` says a URL's stack is.
    pub launcher: LauncherKind,
    pub env: Vec<(String, String)>,
    pub keep_server: bool,
    pub health_timeout: Duration,
    /// `--stack-replicas`.
    pub replicas: usize,
    pub mode: InferenceMode,
    pub record_dir: PathBuf,
    pub recorder: Recorder,
    /// Start the local SmolLM2 server as the upstream (`--setup=local` in a
    /// mode that needs a real upstream).
    pub local_model: bool,
    /// The flags that reproduce this run's session, for the record command.
    pub setup_name: Option<&'static str>,
    /// Under cargo-nextest every test is its own process: leave stopping to
    /// the supervisor's grace period instead of stopping after each test.
    pub under_nextest: bool,
}

impl SessionSettings {
    pub(crate) fn from_config(
        config: &Config,
        target: StackTarget,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> SessionSettings {
        let target_dir = target_dir(&config.project_root, env);
        SessionSettings {
            project_root: config.project_root.clone(),
            target_dir,
            target,
            launcher: config.launcher,
            env: config.env.clone(),
            keep_server: config.keep_server,
            health_timeout: config.health_timeout,
            replicas: config.stack_replicas,
            mode: config.inference_mode,
            record_dir: config.record_dir.clone(),
            recorder: config.recorder,
            local_model: config.setup.is_some_and(|s| s.local_model)
                && config.inference_mode.uses_network(),
            setup_name: config.setup.map(|s| s.name),
            under_nextest: env("NEXTEST").is_some(),
        }
    }

    /// The command prefix that reproduces this session; the miss report adds
    /// `--inference-mode=record-if-missing --exact <test>`.
    pub(crate) fn record_command(&self) -> String {
        let exe = std::env::current_exe().unwrap_or_default();
        let mut cmd = format!(
            "cargo test --test {} -- --stack-config={}",
            test_target(&exe),
            self.target.shown()
        );
        if let Some(setup) = self.setup_name {
            cmd.push_str(&format!(" --setup={setup}"));
        }
        cmd
    }
}

/// The cargo test target a test binary was built from: its file name less
/// cargo's `-<16 hex digits>` (a project of its own names its targets its
/// way); `integration` when the name says nothing.
fn test_target(exe: &Path) -> String {
    let name = exe
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    match name.rsplit_once('-') {
        Some((target, hash)) if hash.len() == 16 && hash.chars().all(|c| c.is_ascii_hexdigit()) => {
            target.to_owned()
        }
        _ => "integration".to_owned(),
    }
}

/// Where cargo builds: `CARGO_TARGET_DIR` (relative to the project), else
/// `<project>/target`. Sessions live under it.
pub(crate) fn target_dir(project_root: &Path, env: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    env("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| {
            if p.is_absolute() {
                p
            } else {
                project_root.join(p)
            }
        })
        .unwrap_or_else(|| project_root.join("target"))
}

pub(crate) async fn start(s: &SessionSettings) -> Result<LiveStack, SessionError> {
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        // No connection is reused. llama-stack 0.7.3 answers some upstream
        // errors and then raises again ("Caught handled exception, but
        // response already started"), which leaves that keep-alive
        // connection broken: the next request on it, often another test's,
        // fails with "connection reset". uvicorn also drops idle ones after
        // 5 s. A fresh loopback connection costs well under a millisecond.
        .pool_max_idle_per_host(0)
        .build()
        .map_err(SessionError::Client)?;
    match &s.target {
        StackTarget::Url(url) => {
            let base = url.as_str().trim_end_matches('/').to_owned();
            if !healthy(&http, &base).await {
                return Err(SessionError::UrlNotHealthy { base });
            }
            let version = reported_version(&http, &base).await;
            Ok(LiveStack {
                stack: Stack::new(s.launcher, version.as_deref()),
                base_urls: vec![base],
                http,
                control: None,
                lease: None,
                process: None,
                services: Vec::new(),
                issuer: None,
            })
        }
        StackTarget::Supervised(target) => {
            let (key, port, reusable) = match target.port {
                Some(port) => (format!("port-{port}"), port, true),
                None => {
                    let port = crate::process::free_port().map_err(SessionError::NoFreePort)?;
                    (private_key(), port, false)
                }
            };
            let dir = SessionDir::new(&s.target_dir, &key);
            let run_yaml = match &target.run_yaml {
                RunYaml::File(path) => path.clone(),
                RunYaml::Text(text) => {
                    dir.create()
                        .map_err(|e| SessionError::io("create", &dir.dir, e))?;
                    let path = dir.path("run.yaml");
                    std::fs::write(&path, text).map_err(|e| SessionError::io("write", &path, e))?;
                    path
                }
            };
            start_supervised(s, target, http, dir, run_yaml, port, reusable).await
        }
    }
}

fn private_key() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("private-{}-{nanos}", std::process::id())
}

/// The version a stack we did not start reports (`GET /v1/version`).
async fn reported_version(http: &reqwest::Client, base: &str) -> Option<String> {
    let answer = http
        .get(format!("{base}/v1/version"))
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .ok()?;
    let body: serde_json::Value = answer.json().await.ok()?;
    body["version"].as_str().map(str::to_owned)
}

async fn healthy(http: &reqwest::Client, base: &str) -> bool {
    let probe = http
        .get(format!("{base}/v1/health"))
        .timeout(Duration::from_secs(5))
        .send()
        .await;
    probe.is_ok_and(|r| r.status().is_success())
}

fn config_hash(
    s: &SessionSettings,
    target: &Supervised,
    run_yaml: &Path,
) -> Result<String, SessionError> {
    let yaml = std::fs::read(run_yaml).map_err(|e| SessionError::io("read", run_yaml, e))?;
    // The launcher's own pins: moving a pin must not reuse a stack started
    // from the old set.
    let requirements = Distribution::of(target.launcher)
        .requirements
        .text(&s.project_root);
    let mut h = Sha256::new();
    h.update(&yaml);
    h.update(&requirements);
    h.update(target.launcher.name().as_bytes());
    h.update(s.replicas.to_le_bytes());
    for (k, v) in &s.env {
        h.update(format!("\0{k}={v}").as_bytes());
    }
    // A replay supervisor knows no upstream; one that forwards does.
    h.update([
        u8::from(s.recorder == Recorder::Proxy),
        u8::from(s.local_model),
        u8::from(s.mode.uses_network()),
    ]);
    if s.recorder == Recorder::Stack {
        // The stack's own recorder reads its mode once, at start-up.
        h.update(s.mode.to_string().as_bytes());
    }
    Ok(hex::encode(&h.finalize()[..12]))
}

async fn start_supervised(
    s: &SessionSettings,
    target: &Supervised,
    http: reqwest::Client,
    dir: SessionDir,
    run_yaml: PathBuf,
    port: u16,
    reusable: bool,
) -> Result<LiveStack, SessionError> {
    let hash = config_hash(s, target, &run_yaml)?;
    let lock_dir = dir.clone();
    let lock = tokio::task::spawn_blocking(move || lock_dir.lock())
        .await
        .map_err(|e| SessionError::io("lock", dir.path("lock"), std::io::Error::other(e)))?
        .map_err(|e| SessionError::io("lock", dir.path("lock"), e))?;
    let me = std::process::id();

    if let Some(state) = dir
        .read_state()
        .filter(|st| super::files::pid_alive(st.supervisor_pid))
    {
        let base = state.base_url.clone().unwrap_or_default();
        let ready = state.phase == Phase::Ready && healthy(&http, &base).await;
        if ready && state.config_hash == hash && reusable {
            dir.add_lease(me)
                .map_err(|e| SessionError::io("write a lease in", &dir.dir, e))?;
            drop(lock);
            return connect(s, http, &dir, &state, false).await;
        }
        let others: Vec<u32> = dir.live_leases().into_iter().filter(|p| *p != me).collect();
        if ready && !others.is_empty() {
            return Err(SessionError::OtherConfigInUse { port, others });
        }
        eprintln!(
            "stack-harness: stopping the idle stack on port {port} (its configuration differs from this run's)"
        );
        stop_and_wait(&dir, state.supervisor_pid).await;
    }

    if !crate::process::port_is_free(port) {
        let base = format!("http://127.0.0.1:{port}");
        if reusable && healthy(&http, &base).await {
            eprintln!(
                "stack-harness: reusing the Llama Stack already on {base}, which stack-harness did not start: \
                 its model traffic is not recorded or replayed by this run"
            );
            let version = reported_version(&http, &base).await;
            return Ok(LiveStack {
                stack: Stack::new(s.launcher, version.as_deref()),
                base_urls: vec![base],
                http,
                control: None,
                lease: None,
                process: None,
                services: Vec::new(),
                issuer: None,
            });
        }
        return Err(SessionError::PortHeld { port });
    }

    dir.create()
        .map_err(|e| SessionError::io("create", &dir.dir, e))?;
    dir.clear_stop();
    let _ = std::fs::remove_file(dir.path("state.json"));
    let spec = SupervisorSpec {
        session_dir: dir.dir.clone(),
        project_root: s.project_root.clone(),
        target_dir: s.target_dir.clone(),
        run_yaml,
        shown: target.shown.clone(),
        port,
        launcher: target.launcher,
        env: s.env.clone(),
        health_timeout_secs: s.health_timeout.as_secs(),
        replicas: s.replicas,
        mode: s.mode,
        record_dir: s.record_dir.clone(),
        proxy_recorder: s.recorder == Recorder::Proxy,
        local_model: s.local_model,
        config_hash: hash,
        keep: s.keep_server,
        grace_secs: if s.under_nextest {
            NEXTEST_GRACE
        } else {
            GRACE
        }
        .as_secs(),
    };
    let spec_path = dir.path("spec.json");
    let json = serde_json::to_vec_pretty(&spec)
        .map_err(|e| SessionError::io("write", &spec_path, std::io::Error::other(e)))?;
    crate::atomic::write(&spec_path, &json)
        .map_err(|e| SessionError::io("write", &spec_path, e))?;
    dir.add_lease(me)
        .map_err(|e| SessionError::io("write a lease in", &dir.dir, e))?;

    let state = spawn_and_wait(&dir, &spec_path)
        .await
        .inspect_err(|_| dir.remove_lease(me))?;
    drop(lock);
    connect(s, http, &dir, &state, true).await
}

async fn connect(
    s: &SessionSettings,
    http: reqwest::Client,
    dir: &SessionDir,
    state: &State,
    started_here: bool,
) -> Result<LiveStack, SessionError> {
    let base_urls: Vec<String> = state.replicas.iter().map(|r| r.base_url.clone()).collect();
    if base_urls.is_empty() {
        return Err(SessionError::NoBaseUrl {
            dir: dir.dir.clone(),
        });
    }
    // The installed package's version, which the supervisor read.
    let stack = Stack::new(s.launcher, state.stack_version.as_deref());
    let control = match &state.proxy_url {
        Some(url) => {
            let control = ProxyControl::with_client(url.clone(), http.clone());
            // A new run forgets the previous run's misses and usage; under
            // nextest the processes of one run share them, so none resets.
            control
                .configure(
                    s.mode,
                    &s.record_dir,
                    !s.under_nextest,
                    Some(stack.to_string()),
                )
                .await
                .map_err(|source| SessionError::Proxy {
                    url: url.clone(),
                    source,
                })?;
            Some(control)
        }
        None => None,
    };
    let process = Some(StackProcess {
        pids: state.replica_pids().into_iter().map(Into::into).collect(),
        dir: dir.clone(),
    });
    let issuer = state
        .services
        .iter()
        .find(|s| s.name == super::services::ISSUER)
        .and_then(|s| s.address.clone())
        .map(|url| IssuerClient::new(url, http.clone()));
    Ok(LiveStack {
        stack,
        base_urls,
        http,
        issuer,
        control,
        lease: Some(Lease {
            dir: dir.clone(),
            started_here,
        }),
        process,
        services: state.services.clone(),
    })
}

/// Spawns the supervisor (this same binary, in its own process group so
/// terminal signals and nextest's per-test kill do not reach it, with stdio
/// to its log so nextest sees no leaked pipe) and waits for it to be ready,
/// copying its log to stderr meanwhile.
async fn spawn_and_wait(dir: &SessionDir, spec_path: &Path) -> Result<State, SessionError> {
    use std::os::unix::process::CommandExt as _;
    let exe = std::env::current_exe().map_err(SessionError::Spawn)?;
    let log_path = dir.path("supervisor.log");
    let log =
        std::fs::File::create(&log_path).map_err(|e| SessionError::io("create", &log_path, e))?;
    let err_log = log
        .try_clone()
        .map_err(|e| SessionError::io("open", &log_path, e))?;
    let mut child = Command::new(exe)
        .env(SUPERVISOR_ENV, spec_path)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(err_log)
        .process_group(0)
        .spawn()
        .map_err(SessionError::Spawn)?;

    let mut reader = std::io::BufReader::new(
        std::fs::File::open(&log_path).map_err(|e| SessionError::io("read", &log_path, e))?,
    );
    let started = Instant::now();
    let mut line = String::new();
    loop {
        // Show the supervisor's progress (provisioning, health wait) as it comes.
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) if line.ends_with('\n') => eprint!("stack-harness: {line}"),
                Ok(n) => {
                    // A partial line: read it again when it is complete.
                    let _ = reader.seek_relative(-(n as i64));
                    break;
                }
            }
        }
        if let Some(state) = dir.read_state() {
            match state.phase {
                Phase::Ready => {
                    eprintln!(
                        "stack-harness: stack ready in {:.1} s",
                        started.elapsed().as_secs_f64()
                    );
                    // Reap the child when it exits: it is no zombie of ours.
                    std::thread::spawn(move || child.wait());
                    return Ok(state);
                }
                Phase::Failed | Phase::Stopped => {
                    let _ = child.wait();
                    return Err(SessionError::StartFailed {
                        message: state
                            .error
                            .unwrap_or_else(|| "the session supervisor stopped".to_owned()),
                        dir: dir.dir.clone(),
                    });
                }
                Phase::Starting => {}
            }
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(SessionError::SupervisorExited {
                status,
                log: log_path,
            });
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

pub(crate) async fn stop_and_wait(dir: &SessionDir, pid: u32) {
    let _ = dir.request_stop();
    let deadline = Instant::now() + Duration::from_secs(30);
    while super::files::pid_alive(pid) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Gives the lease back; the process that started a server under plain
/// `cargo test` also stops it, unless asked to keep it or others use it.
pub(crate) async fn release(s: &SessionSettings, dir: &SessionDir, started_here: bool) {
    dir.remove_lease(std::process::id());
    if !started_here || s.keep_server || s.under_nextest || !dir.live_leases().is_empty() {
        return;
    }
    if let Some(state) = dir.read_state() {
        stop_and_wait(dir, state.supervisor_pid).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_record_command_names_the_binarys_own_target() {
        let built = Path::new("/t/debug/deps/stack-67969c94efae2965");
        assert_eq!(test_target(built), "stack");
        assert_eq!(
            test_target(Path::new("/t/debug/deps/api_conformance-245e910d803ebd48")),
            "api_conformance"
        );
        assert_eq!(test_target(Path::new("/usr/bin/odd")), "integration");
    }
}
