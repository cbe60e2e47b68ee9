//! The session supervisor: the test binary re-executed with
//! `STACK_HARNESS_SUPERVISOR_SPEC` set. For as long as any test process
//! holds a lease it owns the session's services and the stack (see
//! `services`): it provisions them, starts them in order (the stack lists
//! its providers' models once, at start-up, through the proxy), watches
//! them, and stops them in reverse order.
//!
//! It prints progress to its log, which the test process that spawned it
//! copies to the terminal while it waits.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use super::files::{Phase, Replica, SessionDir, State};
use super::services::{
    self, Context, Exit, Running, Service, ServiceError, StackEnv, StackService,
};
use super::spec::SupervisorSpec;
use crate::process::Progress;
use crate::stack::run_yaml::{RunConfig, harness_provided};

/// How often the supervisor looks at its services and leases: a dead stack
/// is published within this time, while a test process may be waiting to
/// name the death in a failure.
const WATCH_EVERY: Duration = Duration::from_millis(100);

pub(crate) fn supervise(spec_path: OsString) -> ExitCode {
    let spec_path = PathBuf::from(spec_path);
    let spec: SupervisorSpec = match std::fs::read(&spec_path)
        .map_err(|e| e.to_string())
        .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
    {
        Ok(spec) => spec,
        Err(e) => {
            eprintln!(
                "error: cannot read the supervisor spec `{}`: {e}",
                spec_path.display()
            );
            return ExitCode::FAILURE;
        }
    };
    let dir = SessionDir {
        dir: spec.session_dir.clone(),
    };
    let base = State {
        supervisor_pid: std::process::id(),
        config_hash: spec.config_hash.clone(),
        shown: spec.shown.clone(),
        port: spec.port,
        started_at: unix_now(),
        keep: spec.keep,
        ..State::default()
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
                &base,
                format!("cannot start the supervisor's runtime: {e}"),
            );
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(&spec, &dir, base.clone())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            fail(&dir, &base, message);
            ExitCode::FAILURE
        }
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Publishes the failure, keeping what was known of the session (the
/// stack's pid, for a test process naming its death).
fn fail(dir: &SessionDir, base: &State, message: String) {
    eprintln!("error: {message}");
    let known = dir
        .read_state()
        .filter(|s| s.supervisor_pid == base.supervisor_pid)
        .unwrap_or_else(|| base.clone());
    let _ = dir.write_state(&State {
        phase: Phase::Failed,
        error: Some(message),
        ..known
    });
}

/// Everything the supervisor runs: the services in start order, then the
/// stacks (one, or `--stack-replicas` of them).
struct Owned {
    services: Vec<Box<dyn Service>>,
    stacks: Vec<StackService>,
    /// What the services handed the stack, for restarting it.
    env: StackEnv,
    config: Option<RunConfig>,
}

impl Owned {
    fn empty() -> Owned {
        Owned {
            services: Vec::new(),
            stacks: Vec::new(),
            env: StackEnv::new(),
            config: None,
        }
    }

    fn all(&mut self) -> impl Iterator<Item = &mut dyn Service> {
        self.services
            .iter_mut()
            .map(|s| &mut **s as &mut dyn Service)
            .chain(self.stacks.iter_mut().map(|s| s as &mut dyn Service))
    }

    /// The first service found dead, and how it ended.
    fn casualty(&mut self) -> Option<Exit> {
        self.all().find_map(|s| s.exited())
    }

    /// Stops the stacks first, then the services in reverse start order.
    fn stop(mut self, progress: &Progress) {
        for stack in &mut self.stacks {
            stack.stop(progress);
        }
        for service in self.services.iter_mut().rev() {
            service.stop(progress);
        }
    }
}

async fn run(spec: &SupervisorSpec, dir: &SessionDir, base: State) -> Result<(), String> {
    dir.write_state(&base)
        .map_err(|e| format!("cannot write `{}`: {e}", dir.path("state.json").display()))?;
    let progress = Progress::new(|line| println!("{line}"));
    let (spec2, dir2, p, runtime) = (
        spec.clone(),
        dir.dir.clone(),
        progress.clone(),
        tokio::runtime::Handle::current(),
    );
    // Start-up blocks (installs, health waits): off the runtime, so the
    // proxy keeps answering the stack meanwhile.
    let (owned, started) = tokio::task::spawn_blocking(move || {
        let mut owned = Owned::empty();
        let started = start_all(&spec2, &dir2, &p, runtime, &mut owned);
        (owned, started)
    })
    .await
    .map_err(|e| format!("the start-up task failed: {e}"))?;
    let mut owned = owned;

    let outcome = match started {
        Ok(ready) => {
            let ready = State {
                phase: Phase::Ready,
                ..ready.published(base)
            };
            let mut ready = ready;
            match dir.write_state(&ready) {
                Ok(()) => watch(spec, dir, &mut owned, &mut ready).await,
                Err(e) => Err(format!("cannot write state.json: {e}")),
            }
        }
        Err(e) => Err(e),
    };
    let p = progress.clone();
    let _ = tokio::task::spawn_blocking(move || owned.stop(&p)).await;
    if outcome.is_ok() {
        let _ = dir.write_state(&State {
            phase: Phase::Stopped,
            ..dir.read_state().unwrap_or_default()
        });
    }
    outcome
}

/// What start-up found out, for the published state.
struct Ready {
    services: Vec<Running>,
    proxy_url: Option<String>,
    replicas: Vec<Replica>,
    version: Option<String>,
}

impl Ready {
    fn published(self, base: State) -> State {
        State {
            base_url: self.replicas.first().map(|r| r.base_url.clone()),
            stack_pid: self.replicas.first().map(|r| r.pid),
            proxy_url: self.proxy_url,
            stack_version: self.version,
            services: self.services,
            replicas: self.replicas,
            ..base
        }
    }
}

/// The stacks' addresses and pids, recording each start in `starts.log`
/// (one line per server start: how a test proves that many processes shared
/// one server, see tests/nextest.rs).
fn replicas(owned: &Owned, dir: &SessionDir) -> Result<Vec<Replica>, String> {
    owned
        .stacks
        .iter()
        .map(|stack| {
            let server = stack.server().ok_or("a stack service started no server")?;
            let _ = dir.record_start(server.pid());
            Ok(Replica {
                base_url: server.base_url().to_owned(),
                pid: server.pid(),
            })
        })
        .collect()
}

fn start_all(
    spec: &SupervisorSpec,
    session_dir: &std::path::Path,
    progress: &Progress,
    runtime: tokio::runtime::Handle,
    owned: &mut Owned,
) -> Result<Ready, String> {
    // The test process checked the run.yaml; it is read again here for
    // what the services need to know about it (its providers and stores).
    let lookup = |name: &str| {
        spec.env
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .or_else(|| std::env::var(name).ok())
            .or_else(|| harness_provided(name).map(str::to_owned))
    };
    let config = RunConfig::load(&spec.run_yaml, &lookup).map_err(|e| e.to_string())?;
    for warning in config.warning_lines() {
        progress.say(format!("warning: {warning}"));
    }
    owned.services = services::plan(spec, &config);
    owned.stacks = (0..spec.replicas.max(1))
        .map(StackService::replica)
        .collect();
    let cx = Context {
        spec,
        config: &config,
        session_dir,
        progress,
        runtime,
    };
    let failed = |service: &dyn Service, e: ServiceError| {
        format!("its {} service did not start: {e}", service.name())
    };
    for service in owned.all() {
        service.provision(&cx).map_err(|e| failed(service, e))?;
    }
    let mut env: StackEnv = spec.env.iter().cloned().collect();
    let mut services = Vec::new();
    for service in &mut owned.services {
        services.push(
            service
                .start(&cx, &mut env)
                .map_err(|e| failed(&**service, e))?,
        );
    }
    services.extend(start_stacks(&mut owned.stacks, &cx, &env)?);
    owned.env = env;
    let proxy_url = services
        .iter()
        .find(|s| s.name == "proxy")
        .and_then(|s| s.address.clone());
    let dir = SessionDir {
        dir: session_dir.to_owned(),
    };
    let ready = Ready {
        replicas: replicas(owned, &dir)?,
        version: owned
            .stacks
            .first()
            .and_then(|s| s.version())
            .map(str::to_owned),
        proxy_url,
        services,
    };
    owned.config = Some(config);
    Ok(ready)
}

/// Starts the stacks at once (each waits seconds for its health), each
/// with the services' environment.
fn start_stacks(
    stacks: &mut [StackService],
    cx: &Context<'_>,
    env: &StackEnv,
) -> Result<Vec<Running>, String> {
    std::thread::scope(|scope| {
        let started: Vec<_> = stacks
            .iter_mut()
            .map(|stack| {
                let mut env = env.clone();
                scope.spawn(move || {
                    stack
                        .start(cx, &mut env)
                        .map_err(|e| format!("its {} service did not start: {e}", stack.name()))
                })
            })
            .collect();
        started
            .into_iter()
            .map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|_| Err("a stack's start-up panicked".to_owned()))
            })
            .collect()
    })
}

/// Stops the stacks and starts them again with what the services handed
/// them the first time; the services (and the data they keep) stay up.
fn restart_stacks(
    spec: &SupervisorSpec,
    session_dir: &std::path::Path,
    progress: &Progress,
    runtime: tokio::runtime::Handle,
    owned: &mut Owned,
) -> Result<Vec<Replica>, String> {
    let config = owned
        .config
        .clone()
        .ok_or("the stack was never started, so it cannot be restarted")?;
    let cx = Context {
        spec,
        config: &config,
        session_dir,
        progress,
        runtime,
    };
    progress.say("restarting the Llama Stack server (on request)");
    for stack in &mut owned.stacks {
        stack.stop(progress);
    }
    start_stacks(&mut owned.stacks, &cx, &owned.env)
        .map_err(|e| format!("the stack did not restart: {e}"))?;
    let dir = SessionDir {
        dir: session_dir.to_owned(),
    };
    replicas(owned, &dir)
}

/// Runs a restart off the runtime (it waits for the stack's health).
async fn restart_in_place(
    spec: &SupervisorSpec,
    dir: &SessionDir,
    owned: &mut Owned,
) -> Result<Vec<Replica>, String> {
    let taken = std::mem::replace(owned, Owned::empty());
    let (spec2, dir2, runtime) = (
        spec.clone(),
        dir.dir.clone(),
        tokio::runtime::Handle::current(),
    );
    let (back, result) = tokio::task::spawn_blocking(move || {
        let mut taken = taken;
        let progress = Progress::new(|line| println!("{line}"));
        let result = restart_stacks(&spec2, &dir2, &progress, runtime, &mut taken);
        (taken, result)
    })
    .await
    .map_err(|e| format!("the restart task failed: {e}"))?;
    *owned = back;
    result
}

/// Keeps everything up while leases are held; returns when it is time to
/// stop, with an error if a service (the stack, most often) died.
async fn watch(
    spec: &SupervisorSpec,
    dir: &SessionDir,
    owned: &mut Owned,
    ready: &mut State,
) -> Result<(), String> {
    let idle_limit = spec.idle_limit();
    let mut idle_since: Option<Instant> = None;
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| format!("cannot watch for SIGTERM: {e}"))?;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(WATCH_EVERY) => {}
            _ = term.recv() => { println!("stopping on SIGTERM"); return Ok(()); }
            _ = tokio::signal::ctrl_c() => { println!("stopping on SIGINT"); return Ok(()); }
        }
        if dir.stop_requested() {
            dir.clear_stop();
            println!("stopping on request");
            return Ok(());
        }
        if dir.take_restart() {
            let restarted = restart_in_place(spec, dir, owned).await;
            match restarted {
                Ok(replicas) => {
                    ready.stack_pid = replicas.first().map(|r| r.pid);
                    ready.base_url = replicas.first().map(|r| r.base_url.clone());
                    for (running, replica) in ready
                        .services
                        .iter_mut()
                        .filter(|s| s.name.starts_with("stack"))
                        .zip(&replicas)
                    {
                        running.pids = vec![replica.pid];
                    }
                    ready.replicas = replicas;
                    dir.write_state(ready)
                        .map_err(|e| format!("cannot write state.json: {e}"))?;
                }
                Err(why) => return Err(why),
            }
        }
        if let Some(exit) = owned.casualty() {
            let why = exit.describe();
            println!("{why}");
            let _ = dir.write_state(&State {
                phase: Phase::Failed,
                error: Some(why.clone()),
                casualty: Some(exit.headline),
                ..ready.clone()
            });
            return Err(why);
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
