//! What every connection of the proxy shares: the upstreams, this run's
//! mode, store and rules (swapped whole by the control API), and the
//! ledger of running tests.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use url::Url;

use super::ledger::Ledger;
use crate::record::mode::InferenceMode;
use crate::record::store::{Rules, Store};

/// The mode, store and rules a request is served with; replaced as a whole
/// by the control endpoint, so a request never sees half a change.
#[derive(Debug)]
pub(super) struct RunConfig {
    pub(super) mode: InferenceMode,
    pub(super) store: Arc<Store>,
    pub(super) rules: Arc<Rules>,
    /// The stack this run is on (`ogx 1.5.0`), added to the `stacks` of
    /// what a recording run writes or replays.
    pub(super) stack: Option<String>,
}

/// State shared by every connection.
pub(super) struct Shared {
    pub(super) upstreams: BTreeMap<String, Option<Url>>,
    pub(super) config: RwLock<Arc<RunConfig>>,
    /// Made on first forward: building a TLS-capable client costs ~30 ms,
    /// which a replay-only proxy never needs to pay.
    http: OnceLock<reqwest::Client>,
    ledger: Mutex<Ledger>,
}

impl Shared {
    pub(super) fn new(
        upstreams: BTreeMap<String, Option<Url>>,
        config: RunConfig,
        ledger: Ledger,
    ) -> Shared {
        Shared {
            upstreams,
            config: RwLock::new(Arc::new(config)),
            http: OnceLock::new(),
            ledger: Mutex::new(ledger),
        }
    }

    pub(super) fn config(&self) -> Arc<RunConfig> {
        self.config
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub(super) fn ledger(&self) -> std::sync::MutexGuard<'_, Ledger> {
        self.ledger.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn http(&self) -> Result<&reqwest::Client, String> {
        if let Some(client) = self.http.get() {
            return Ok(client);
        }
        let client = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("cannot create the upstream HTTP client: {e}"))?;
        Ok(self.http.get_or_init(|| client))
    }

    pub(super) fn provider_names(&self) -> Vec<String> {
        self.upstreams.keys().cloned().collect()
    }
}
