//! The session fixture: one Llama Stack server (with the record/replay proxy
//! in front of its model providers, and whatever services its run.yaml
//! needs) shared by every test of a run, and by every process of a
//! cargo-nextest run.
//!
//! ```text
//! test process                         supervisor (detached, own process group)
//! ------------                         ----------------------------------------
//! lock sessions/<key>/lock
//! state.json ready, same config? --yes--> reuse: add leases/<pid>
//!     | no
//! spawn supervisor ------------------> services in order (model, proxy, ...) -> stack
//! stream supervisor.log to stderr       wait /v1/health, write state.json ready
//! add leases/<pid>, unlock             watch: leases, the services, stop requests
//! ... tests ...  --/__harness/--------> proxy control (mode, test ids, misses)
//! remove lease (cargo test: ask stop)  no live lease for a grace period -> stop all
//! ```
//!
//! The server and its proxy live and die together in the supervisor, so a
//! server reused by the next process always has its proxy. Leases are files
//! named by pid: a test process that dies without cleaning up is noticed by
//! the supervisor (its pid is gone), so nothing is left running.
//!
//! Module map: `spec` (what a test process asks a supervisor to run),
//! `files` (the session directory), `start` (the test process's side),
//! `supervisor` (the other side) with `services` (what it runs), `error`,
//! `command` (`stack-harness sessions`).

mod command;
mod error;
mod files;
mod services;
mod spec;
mod start;
mod supervisor;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

pub(crate) use command::{SessionsArgs, sessions_main};
pub(crate) use error::SessionError;
pub(crate) use spec::{SUPERVISOR_ENV, SupervisorSpec};
pub(crate) use start::{SessionSettings, target_dir};
pub(crate) use supervisor::supervise;

use crate::issuer::{IssuerClient, MintRequest};
use crate::process::{LOG_TAIL_LINES, log_tail};
use crate::record::{self, ProxyControl};
use crate::stack::identity::Stack;
use files::{Phase, SessionDir};

/// A stack the tests can talk to.
#[derive(Debug)]
pub(crate) struct LiveStack {
    /// Which stack and version it is.
    pub stack: Stack,
    /// One per replica (`--stack-replicas`); a test keeps one for its life.
    base_urls: Vec<String>,
    pub http: reqwest::Client,
    /// The session's token issuer, when the stack checks tokens against it.
    pub issuer: Option<IssuerClient>,
    /// The proxy's control client, when this run's traffic goes through it.
    control: Option<ProxyControl>,
    /// The session directory and whether this process holds a lease on it.
    lease: Option<Lease>,
    /// The server processes, when a supervisor of ours runs them.
    process: Option<StackProcess>,
    /// What the supervisor runs beside the stack, as it published them.
    services: Vec<services::Running>,
}

impl LiveStack {
    /// The base URL of the replica a test with this ordinal uses.
    pub(crate) fn base_url(&self, ordinal: usize) -> &str {
        &self.base_urls[ordinal % self.base_urls.len()]
    }
}

#[derive(Debug)]
struct Lease {
    dir: SessionDir,
    /// This process started the supervisor (so it may stop it at the end).
    started_here: bool,
}

/// The stack server a supervisor runs for us: a test process checks it
/// directly, so a death is named by the first request that meets it, not
/// by the supervisor's next look.
#[derive(Debug)]
pub(crate) struct StackProcess {
    /// One per replica; they change when the stack is restarted.
    pids: Vec<AtomicU32>,
    dir: SessionDir,
}

/// The Llama Stack server died during the run. In a failure's error chain,
/// it tells the outcome that the stack, not the test, failed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{text}")]
pub(crate) struct StackDied {
    /// One line: how it ended.
    headline: String,
    /// The headline with the log tail.
    text: String,
}

/// The stack was up but did not take a request (refused, reset, timed out).
#[derive(Debug, Clone, thiserror::Error)]
#[error("the Llama Stack server at {base_url} could not be reached: {why}")]
pub(crate) struct StackUnreachable {
    base_url: String,
    why: String,
}

/// The stack never started; the reason was printed once, before the tests.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "the session did not start (the reason is printed above the test results{})",
    log.as_ref().map(|l| format!("; session files: {l}")).unwrap_or_default()
)]
pub(crate) struct StackNotStarted {
    log: Option<String>,
}

/// The run's handle on the fixture; the stack starts on first use.
#[derive(Debug)]
pub(crate) struct Session {
    settings: SessionSettings,
    live: tokio::sync::OnceCell<Result<Arc<LiveStack>, Arc<SessionError>>>,
    /// Set by whoever first sees the stack dead, with that test's name;
    /// every later test is told.
    died: OnceLock<(StackDied, String)>,
    /// How many tests were handed a replica so far.
    handed_out: AtomicUsize,
    /// Tokens minted for this process's users, with when: one per user,
    /// not one per request.
    tokens: Tokens,
}

/// Minted tokens by what was asked, with when; its `Debug` names the users
/// only, so printing the session never prints a token.
#[derive(Default)]
struct Tokens(tokio::sync::Mutex<HashMap<MintRequest, (String, Instant)>>);

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let users: Vec<String> = self
            .0
            .try_lock()
            .map(|t| t.keys().map(|r| r.user.clone()).collect())
            .unwrap_or_default();
        f.debug_struct("Tokens").field("users", &users).finish()
    }
}

/// A cached token is minted again after this long (it is valid for an hour).
const TOKEN_REUSE: Duration = Duration::from_secs(15 * 60);

/// How long a stack that refused a request is watched for dying.
const DYING_GRACE: Duration = Duration::from_secs(1);

/// How long a test process waits for the supervisor to publish how the
/// stack ended (it looks every 100 ms) before naming the death without it.
const DEATH_NOTICE_WAIT: Duration = Duration::from_secs(2);

impl Session {
    pub(crate) fn new(settings: SessionSettings) -> Arc<Session> {
        Arc::new(Session {
            settings,
            live: tokio::sync::OnceCell::new(),
            died: OnceLock::new(),
            handed_out: AtomicUsize::new(0),
            tokens: Tokens::default(),
        })
    }

    /// Starts (or reuses) the stack, once; the error, if any, for the
    /// runner to print once.
    pub(crate) async fn start(&self) -> Result<Arc<LiveStack>, Arc<SessionError>> {
        self.live
            .get_or_init(|| async {
                start::start(&self.settings)
                    .await
                    .map(Arc::new)
                    .map_err(Arc::new)
            })
            .await
            .clone()
    }

    /// The stack, started (or reused) on first call. A failed start fails
    /// every later request at once, with a one-line pointer to the reason.
    pub(crate) async fn stack(&self) -> anyhow::Result<Arc<LiveStack>> {
        self.start().await.map_err(|e| not_started(&e))
    }

    /// Which replica a test uses, for its whole life: in turn within a
    /// process; by the test's name under cargo-nextest, where every test is
    /// the first of its process.
    pub(crate) fn ordinal_for(&self, test: &str) -> usize {
        if self.settings.under_nextest {
            use std::hash::{Hash as _, Hasher as _};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            test.hash(&mut h);
            return h.finish() as usize;
        }
        self.handed_out.fetch_add(1, Ordering::Relaxed)
    }

    /// `--stack-config` as the user would type it.
    pub(crate) fn shown(&self) -> String {
        self.settings.target.shown()
    }

    /// A token from the session's issuer (`None`: the session has none);
    /// `reuse` answers one minted for the same request before, if still
    /// fresh.
    pub(crate) async fn token(
        &self,
        request: &MintRequest,
        reuse: bool,
    ) -> anyhow::Result<Option<String>> {
        let stack = self.stack().await?;
        let Some(issuer) = &stack.issuer else {
            return Ok(None);
        };
        let mut tokens = self.tokens.0.lock().await;
        if reuse
            && let Some((token, at)) = tokens.get(request)
            && at.elapsed() < TOKEN_REUSE
        {
            return Ok(Some(token.clone()));
        }
        let token = issuer.mint(request).await?;
        if reuse {
            tokens.insert(request.clone(), (token.clone(), Instant::now()));
        }
        Ok(Some(token))
    }

    fn started(&self) -> Option<&Arc<LiveStack>> {
        self.live.get().and_then(|r| r.as_ref().ok())
    }

    /// The stack this run talks to, once the session has started.
    pub(crate) fn stack_identity(&self) -> Option<&Stack> {
        self.started().map(|l| &l.stack)
    }

    /// The stack, for a test that asks which it is; the runner started the
    /// session before the tests, so there is nothing to wait for.
    pub(crate) fn started_stack(&self) -> anyhow::Result<&Stack> {
        match self.live.get() {
            Some(Ok(live)) => Ok(&live.stack),
            Some(Err(e)) => Err(not_started(e)),
            None => Err(anyhow::Error::new(StackNotStarted { log: None })),
        }
    }

    /// Tells the proxy which test is running, for attributing its traffic.
    pub(crate) async fn test_started(&self, id: &str) {
        if let Some(control) = self.started().and_then(|l| l.control.as_ref()) {
            let _ = control.test_started(id).await;
        }
    }

    /// The replay misses and unreachable upstreams seen while the test
    /// ran, as failure text.
    pub(crate) async fn test_finished(&self, id: &str) -> Vec<String> {
        let Some(live) = self.started() else {
            return Vec::new();
        };
        let Some(control) = &live.control else {
            return Vec::new();
        };
        match control.test_finished(id).await {
            Ok(failures) => {
                let context = record::FailureContext {
                    command: self.settings.record_command(),
                    local_model: self.settings.local_model,
                    given: self.settings.env.iter().map(|(_, v)| v.clone()).collect(),
                    supervisor_log: live.lease.as_ref().map(|l| l.dir.path("supervisor.log")),
                };
                failures.render(id, &context)
            }
            // The proxy went down with a stack that died: the death is
            // the failure, named already.
            Err(_) if self.died.get().is_some() => Vec::new(),
            Err(e) => vec![format!(
                "stack-harness: could not ask the recording proxy about this test: {e}"
            )],
        }
    }

    /// Whether the stack this run uses has died; checked directly (one read
    /// of `/proc`), and remembered with the test that first saw it.
    /// `grace` is how long a stack that still runs is watched: a refused
    /// or dropped connection is often the first sign of a death in progress.
    pub(crate) async fn stack_death(&self, test: &str, grace: Duration) -> Option<StackDied> {
        if let Some((died, _)) = self.died.get() {
            return Some(died.clone());
        }
        let process = self.started()?.process.as_ref()?;
        let until = Instant::now() + grace;
        let dead = loop {
            let dead = process
                .pids
                .iter()
                .map(|pid| pid.load(Ordering::SeqCst))
                .find(|pid| !crate::process::is_running(*pid));
            if let Some(pid) = dead {
                break pid;
            }
            if Instant::now() >= until {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let died = death_notice(process, dead).await;
        let (died, _) = self.died.get_or_init(|| (died, test.to_owned()));
        Some(died.clone())
    }

    /// For a test that did not run because the stack had died before it.
    pub(crate) fn died_before(&self) -> Option<String> {
        let (died, first) = self.died.get()?;
        Some(format!(
            "not run: {} while `{first}` ran; that test's failure shows the log tail",
            died.headline
        ))
    }

    /// Adds what is known about the stack to a failed request: a stack that
    /// died is named with its log tail; one that is up but refused the
    /// request says so, so neither reads as the test's own failure.
    pub(crate) async fn explain(
        &self,
        test: &str,
        ordinal: usize,
        error: reqwest::Error,
    ) -> anyhow::Error {
        let base_url = self.started().map(|l| l.base_url(ordinal).to_owned());
        if let Some(died) = self.stack_death(test, DYING_GRACE).await {
            return anyhow::Error::new(error).context(died);
        }
        if error.is_connect() || error.is_timeout() || error.is_request() {
            let why = anyhow::Error::new(error);
            let unreachable = StackUnreachable {
                base_url: base_url.unwrap_or_default(),
                why: format!("{why:#}"),
            };
            return anyhow::Error::new(unreachable);
        }
        anyhow::Error::new(error)
    }

    /// Where the session's `name` service listens (`postgres`, say), if
    /// the session runs one.
    pub(crate) async fn service_address(&self, name: &str) -> anyhow::Result<Option<String>> {
        let live = self.stack().await?;
        Ok(live
            .services
            .iter()
            .find(|s| s.name == name)
            .and_then(|s| s.address.clone()))
    }

    /// Restarts the stack within its session: the supervisor stops it and
    /// starts it again with the same configuration and services (whose data
    /// stays). Returns once the new server is ready.
    pub(crate) async fn restart_stack(&self) -> anyhow::Result<()> {
        use anyhow::Context as _;
        let live = self.stack().await?;
        let process = live.process.as_ref().context(
            "this stack was not started by stack-harness (a URL, or a reused stack), so it cannot be restarted",
        )?;
        let old: Vec<u32> = process
            .pids
            .iter()
            .map(|p| p.load(Ordering::SeqCst))
            .collect();
        process.dir.request_restart().with_context(|| {
            format!(
                "cannot ask the supervisor in {} to restart the stack",
                process.dir.dir.display()
            )
        })?;
        let until = Instant::now() + self.settings.health_timeout + Duration::from_secs(60);
        loop {
            if let Some(state) = process.dir.read_state() {
                let new = state.replica_pids();
                match state.phase {
                    Phase::Ready
                        if new.len() == old.len() && new.iter().all(|p| !old.contains(p)) =>
                    {
                        for (slot, pid) in process.pids.iter().zip(new) {
                            slot.store(pid, Ordering::SeqCst);
                        }
                        return Ok(());
                    }
                    Phase::Failed | Phase::Stopped => anyhow::bail!(
                        "the stack did not restart: {}",
                        state
                            .error
                            .unwrap_or_else(|| "the supervisor stopped".to_owned())
                    ),
                    _ => {}
                }
            }
            anyhow::ensure!(
                Instant::now() < until,
                "the stack did not restart within {} s; see {}",
                (self.settings.health_timeout + Duration::from_secs(60)).as_secs(),
                process.dir.path("supervisor.log").display()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Ends this process's use of the session. `complete` says every test of
    /// the binary ran (the proxy then writes the usage manifest for `prune`).
    pub(crate) async fn finish(&self, complete: bool) {
        let Some(live) = self.started() else { return };
        if let (true, Some(control)) = (complete, &live.control) {
            let stack = live.stack.to_string();
            let manifest = self
                .settings
                .project_root
                .join(record::manifest_file(&stack));
            let _ = control.finish_run(&manifest).await;
        }
        if let Some(lease) = &live.lease {
            start::release(&self.settings, &lease.dir, lease.started_here).await;
        }
    }
}

/// A failed start, as a test's error: the reason was printed once, above.
fn not_started(error: &SessionError) -> anyhow::Error {
    let log = match error {
        SessionError::StartFailed { dir, .. } => Some(dir.display().to_string()),
        _ => None,
    };
    anyhow::Error::new(StackNotStarted { log })
}

/// How the stack ended, as the supervisor publishes it (exit status and log
/// tail), or from its log alone if the supervisor has not said in time.
async fn death_notice(process: &StackProcess, pid: u32) -> StackDied {
    let until = Instant::now() + DEATH_NOTICE_WAIT;
    loop {
        if let Some(state) = process.dir.read_state()
            && state.phase == Phase::Failed
            && let (Some(headline), Some(text)) = (state.casualty, state.error)
        {
            return StackDied { headline, text };
        }
        if Instant::now() >= until {
            let log = process.dir.path("stack.log");
            let headline = format!("the Llama Stack server (pid {pid}) died");
            return StackDied {
                text: format!(
                    "{headline}; the last lines of `{}`:\n{}",
                    log.display(),
                    log_tail(&log, LOG_TAIL_LINES)
                ),
                headline,
            };
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printing_the_token_cache_names_users_not_tokens() {
        let tokens = Tokens::default();
        let request = MintRequest {
            user: "alice".to_owned(),
            ..MintRequest::default()
        };
        tokens
            .0
            .blocking_lock()
            .insert(request, ("eyJ.secret.sig".to_owned(), Instant::now()));
        assert_eq!(format!("{tokens:?}"), r#"Tokens { users: ["alice"] }"#);
    }
}
