//! The session fixture: one Llama Stack server (and the record/replay proxy in
//! front of its model providers) shared by every test of a run, and by every
//! process of a cargo-nextest run.
//!
//! ```text
//! test process                         supervisor (detached, own process group)
//! ------------                         ----------------------------------------
//! lock sessions/<key>/lock
//! state.json ready, same config? --yes--> reuse: add leases/<pid>
//!     | no
//! spawn supervisor ------------------> [local model] -> proxy -> llama stack run
//! stream supervisor.log to stderr       wait /v1/health, write state.json ready
//! add leases/<pid>, unlock             watch: leases, the stack, stop requests
//! ... tests ...  --/__harness/--------> proxy control (mode, test ids, misses)
//! remove lease (cargo test: ask stop)  no live lease for a grace period -> stop all
//! ```
//!
//! The server and its proxy live and die together in the supervisor, so a
//! server reused by the next process always has its proxy. Leases are files
//! named by pid: a test process that dies without cleaning up is noticed by
//! the supervisor (its pid is gone), so nothing is left running.

mod files;
mod start;
mod supervisor;

use std::sync::Arc;

use anyhow::anyhow;

pub(crate) use start::SessionSettings;
pub(crate) use supervisor::{SUPERVISOR_ENV, supervise};

use crate::record::{self, ProxyControl};
use files::SessionDir;

/// A stack the tests can talk to.
#[derive(Debug)]
pub(crate) struct LiveStack {
    pub base_url: String,
    pub http: reqwest::Client,
    /// The proxy's control client, when this run's traffic goes through it.
    control: Option<ProxyControl>,
    /// The session directory and whether this process holds a lease on it.
    lease: Option<Lease>,
}

#[derive(Debug)]
struct Lease {
    dir: SessionDir,
    /// This process started the supervisor (so it may stop it at the end).
    started_here: bool,
}

/// The run's handle on the fixture; the stack starts on first use.
#[derive(Debug)]
pub(crate) struct Session {
    settings: SessionSettings,
    live: tokio::sync::OnceCell<Result<Arc<LiveStack>, String>>,
}

impl Session {
    pub(crate) fn new(settings: SessionSettings) -> Arc<Session> {
        Arc::new(Session {
            settings,
            live: tokio::sync::OnceCell::new(),
        })
    }

    /// The stack, started (or reused) on first call. A failure is remembered:
    /// every later test fails at once with the same message instead of
    /// trying again.
    pub(crate) async fn stack(&self) -> anyhow::Result<Arc<LiveStack>> {
        let result = self
            .live
            .get_or_init(|| async { start::start(&self.settings).await.map(Arc::new) })
            .await;
        match result {
            Ok(live) => Ok(live.clone()),
            Err(message) => Err(anyhow!("{message}")),
        }
    }

    fn started(&self) -> Option<&Arc<LiveStack>> {
        self.live.get().and_then(|r| r.as_ref().ok())
    }

    /// Tells the proxy which test is running, for attributing its traffic.
    pub(crate) async fn test_started(&self, id: &str) {
        if let Some(control) = self.started().and_then(|l| l.control.as_ref()) {
            let _ = control.test_started(id).await;
        }
    }

    /// The replay misses seen while the test ran, as failure text.
    pub(crate) async fn test_finished(&self, id: &str) -> Vec<String> {
        let Some(control) = self.started().and_then(|l| l.control.as_ref()) else {
            return Vec::new();
        };
        match control.test_finished(id).await {
            Ok(misses) => {
                let command = self.settings.record_command();
                misses
                    .iter()
                    .map(|m| record::render_miss(m, id, &command))
                    .collect()
            }
            Err(e) => vec![format!(
                "stack-harness: could not ask the recording proxy about this test: {e}"
            )],
        }
    }

    /// Adds what is known about the stack to a failed request: a stack that
    /// died shows its log tail instead of a bare "connection refused".
    pub(crate) async fn explain(&self, error: anyhow::Error) -> anyhow::Error {
        let Some(lease) = self.started().and_then(|l| l.lease.as_ref()) else {
            return error;
        };
        match lease.dir.read_state() {
            Some(state) if state.phase != files::Phase::Ready => {
                let why = state.error.unwrap_or_else(|| "it stopped".to_owned());
                error.context(format!("the Llama Stack server is gone: {why}"))
            }
            _ => error,
        }
    }

    /// Ends this process's use of the session. `complete` says every test of
    /// the binary ran (the proxy then writes the usage manifest for `prune`).
    pub(crate) async fn finish(&self, complete: bool) {
        let Some(live) = self.started() else { return };
        if let (true, Some(control)) = (complete, &live.control) {
            let manifest = self.settings.project_root.join(record::MANIFEST_PATH);
            let _ = control.finish_run(&manifest).await;
        }
        if let Some(lease) = &live.lease {
            start::release(&self.settings, &lease.dir, lease.started_here).await;
        }
    }
}
