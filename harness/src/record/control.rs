//! The proxy's control API under `/__harness/`, used by test processes, and
//! the per-session bookkeeping behind it: running tests, misses, usage.
//!
//! Attribution rule: a provider request is attributed to every test that
//! has announced its start and not its end when the request *arrives*.
//! With tests run one at a time this is exactly the test that caused it;
//! with tests in parallel it is a superset (each miss names all candidates).
//! Requests that arrive while no test is running (the stack's start-up
//! `GET /v1/models`) are attributed to `(stack start-up)`.
//!
//! | method | path                         | body / query          | answer                 |
//! |--------|------------------------------|-----------------------|------------------------|
//! | GET    | `/__harness/health`          |                       | `{"ok": true}`         |
//! | GET    | `/__harness/state`           |                       | [`ProxyState`]         |
//! | POST   | `/__harness/config`          | [`ConfigRequest`]     | [`ProxyState`]         |
//! | POST   | `/__harness/test/start`      | `{"test": id}`        | `{}`                   |
//! | POST   | `/__harness/test/end`        | `{"test": id}`        | `{"misses": [Miss]}`   |
//! | GET    | `/__harness/misses?test=id`  |                       | `{"misses": [Miss]}`   |
//! | POST   | `/__harness/run/finish`      | `{"manifest": path}`  | [`RunUsage`]           |

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::miss::Miss;
use super::mode::InferenceMode;
use super::proxy::{ProxyBody, RunConfig, Shared, json_error, json_ok};
use super::rules::Rules;
use super::store::Store;
use super::usage::UsageManifest;

/// Who requests outside any test are attributed to.
pub(crate) const STARTUP: &str = "(stack start-up)";

/// `POST /__harness/config`: this run's mode and recordings directory.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct ConfigRequest {
    pub(crate) mode: InferenceMode,
    /// Absolute; `normalize.yaml` in it is (re)loaded.
    pub(crate) dir: PathBuf,
    /// Forget usage and misses so far: the start of a new run.
    #[serde(default)]
    pub(crate) reset: bool,
}

/// What the proxy is doing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct ProxyState {
    pub(crate) mode: InferenceMode,
    pub(crate) dir: PathBuf,
    pub(crate) providers: Vec<String>,
    pub(crate) running_tests: Vec<String>,
    /// Recordings replayed or written since the last reset.
    pub(crate) used: usize,
    pub(crate) misses: usize,
}

/// `POST /__harness/run/finish`'s answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct RunUsage {
    pub(crate) manifest: PathBuf,
    pub(crate) recordings: usize,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct TestRequest {
    pub(crate) test: String,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct MissList {
    pub(crate) misses: Vec<Miss>,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct FinishRequest {
    pub(crate) manifest: PathBuf,
}

/// Running tests, misses and usage since the last reset.
#[derive(Debug)]
pub(super) struct Session {
    running: BTreeMap<String, usize>,
    misses: Vec<Miss>,
    usage: UsageManifest,
}

impl Session {
    pub(super) fn new(dir: PathBuf, mode: InferenceMode) -> Session {
        Session {
            running: BTreeMap::new(),
            misses: Vec::new(),
            usage: UsageManifest {
                dir,
                mode,
                used: BTreeMap::new(),
            },
        }
    }

    /// The tests a request arriving now is attributed to, sorted.
    pub(super) fn attribution(&self) -> Vec<String> {
        if self.running.is_empty() {
            vec![STARTUP.to_owned()]
        } else {
            self.running.keys().cloned().collect()
        }
    }

    pub(super) fn test_started(&mut self, test: &str) {
        *self.running.entry(test.to_owned()).or_default() += 1;
        // A rerun of the same test starts with a clean slate.
        for miss in &mut self.misses {
            miss.tests.retain(|t| t != test);
        }
        self.misses.retain(|m| !m.tests.is_empty());
    }

    pub(super) fn test_finished(&mut self, test: &str) -> Vec<Miss> {
        if let Some(count) = self.running.get_mut(test) {
            *count -= 1;
            if *count == 0 {
                self.running.remove(test);
            }
        }
        self.misses_for(test)
    }

    pub(super) fn misses_for(&self, test: &str) -> Vec<Miss> {
        self.misses
            .iter()
            .filter(|m| m.tests.iter().any(|t| t == test))
            .cloned()
            .collect()
    }

    /// Keeps one entry per request and set of tests (the SDK retries 5xx).
    pub(super) fn add_miss(&mut self, miss: Miss) {
        if !self
            .misses
            .iter()
            .any(|m| m.hash == miss.hash && m.tests == miss.tests)
        {
            self.misses.push(miss);
        }
    }

    /// `tests` are the request's attribution (see the module docs).
    pub(super) fn used(&mut self, provider: &str, hash: &str, tests: &[String]) {
        self.usage.record(provider, hash, tests);
    }

    /// Starts a new run. What the stack fetched at its own start-up stays
    /// used while the directory stays: a run that reuses a running stack
    /// makes no start-up requests, and its manifest must still keep them
    /// from `prune`.
    fn reset(&mut self, dir: PathBuf, mode: InferenceMode) {
        let running = std::mem::take(&mut self.running);
        let same_dir = self.usage.dir == dir;
        let mut startup = std::mem::take(&mut self.usage);
        *self = Session::new(dir, mode);
        self.running = running;
        if same_dir {
            startup.keep_only(STARTUP);
            self.usage.used = startup.used;
        }
    }
}

fn state(shared: &Shared) -> ProxyState {
    let config = shared.config();
    let session = shared.session();
    ProxyState {
        mode: config.mode,
        dir: config.store.dir().to_owned(),
        providers: shared.provider_names(),
        running_tests: session.running.keys().cloned().collect(),
        used: session.usage.count(),
        misses: session.misses.len(),
    }
}

async fn read_json<T: DeserializeOwned>(req: Request<Incoming>) -> Result<T, Response<ProxyBody>> {
    let bytes = req
        .into_body()
        .collect()
        .await
        .map_err(|e| {
            json_error(
                StatusCode::BAD_REQUEST,
                &format!("stack-harness: cannot read the request body: {e}"),
            )
        })?
        .to_bytes();
    serde_json::from_slice(&bytes).map_err(|e| {
        json_error(
            StatusCode::BAD_REQUEST,
            &format!("stack-harness: bad control request body: {e}"),
        )
    })
}

fn query_param(req: &Request<Incoming>, name: &str) -> Option<String> {
    url::form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Serves `/__harness/<rest>`.
pub(super) async fn handle(
    shared: &Arc<Shared>,
    rest: &str,
    req: Request<Incoming>,
) -> Response<ProxyBody> {
    match (req.method().clone(), rest) {
        (Method::GET, "health") => json_ok(&serde_json::json!({"ok": true})),
        (Method::GET, "state") => json_ok(&state(shared)),
        (Method::POST, "config") => match read_json::<ConfigRequest>(req).await {
            Ok(request) => configure(shared, request),
            Err(response) => response,
        },
        (Method::POST, "test/start") => match read_json::<TestRequest>(req).await {
            Ok(TestRequest { test }) => {
                shared.session().test_started(&test);
                json_ok(&serde_json::json!({}))
            }
            Err(response) => response,
        },
        (Method::POST, "test/end") => match read_json::<TestRequest>(req).await {
            Ok(TestRequest { test }) => json_ok(&MissList {
                misses: shared.session().test_finished(&test),
            }),
            Err(response) => response,
        },
        (Method::GET, "misses") => match query_param(&req, "test") {
            Some(test) => json_ok(&MissList {
                misses: shared.session().misses_for(&test),
            }),
            None => json_error(
                StatusCode::BAD_REQUEST,
                "stack-harness: `misses` needs `?test=<test id>`",
            ),
        },
        (Method::POST, "run/finish") => match read_json::<FinishRequest>(req).await {
            Ok(FinishRequest { manifest }) => finish(shared, manifest),
            Err(response) => response,
        },
        (method, _) => json_error(
            StatusCode::NOT_FOUND,
            &format!(
                "stack-harness: unknown control endpoint `{method} /__harness/{rest}`; expected one of: GET health, GET state, POST config, POST test/start, POST test/end, GET misses, POST run/finish"
            ),
        ),
    }
}

fn configure(shared: &Shared, request: ConfigRequest) -> Response<ProxyBody> {
    if !request.dir.is_absolute() {
        return json_error(
            StatusCode::BAD_REQUEST,
            &format!(
                "stack-harness: recordings dir `{}` must be absolute (the proxy runs in another directory)",
                request.dir.display()
            ),
        );
    }
    let rules = match Rules::load_from_dir(&request.dir) {
        Ok(rules) => rules,
        Err(e) => return json_error(StatusCode::BAD_REQUEST, &format!("stack-harness: {e}")),
    };
    let previous = shared.config();
    let dir_changed = previous.store.dir() != request.dir;
    {
        let mut config = shared.config.write().unwrap_or_else(|p| p.into_inner());
        *config = Arc::new(RunConfig {
            mode: request.mode,
            store: if dir_changed {
                Arc::new(Store::new(request.dir.clone()))
            } else {
                previous.store.clone()
            },
            rules: Arc::new(rules),
        });
    }
    {
        let mut session = shared.session();
        if request.reset || dir_changed {
            session.reset(request.dir, request.mode);
        } else {
            session.usage.mode = request.mode;
        }
    }
    json_ok(&state(shared))
}

fn finish(shared: &Shared, manifest: PathBuf) -> Response<ProxyBody> {
    let usage = shared.session().usage.clone();
    match usage.write(&manifest) {
        Ok(()) => json_ok(&RunUsage {
            manifest,
            recordings: usage.count(),
        }),
        Err(e) => json_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("stack-harness: {e}"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn miss(hash: &str, tests: &[&str]) -> Miss {
        Miss {
            tests: tests.iter().map(|t| t.to_string()).collect(),
            method: "POST".into(),
            path: "/v1/x".into(),
            provider: "p".into(),
            hash: hash.into(),
            body: json!(null),
            nearest: None,
            problem: None,
        }
    }

    #[test]
    fn requests_are_attributed_to_every_running_test_or_to_start_up() {
        let mut s = Session::new("/r".into(), InferenceMode::Replay);
        assert_eq!(s.attribution(), vec![STARTUP]);
        s.test_started("b");
        s.test_started("a");
        assert_eq!(s.attribution(), vec!["a", "b"]);
        s.add_miss(miss("h1", &["a", "b"]));
        s.add_miss(miss("h1", &["a", "b"]));
        s.add_miss(miss("h2", &["b"]));
        assert_eq!(s.test_finished("a"), vec![miss("h1", &["a", "b"])]);
        assert_eq!(s.attribution(), vec!["b"]);
        assert_eq!(s.misses_for("b").len(), 2);
        // Rerunning `b` forgets its old misses, not `a`'s.
        s.test_started("b");
        assert_eq!(s.misses_for("b"), vec![]);
        assert_eq!(s.misses_for("a"), vec![miss("h1", &["a"])]);
        s.test_finished("b");
        assert_eq!(s.attribution(), vec!["b"], "started twice, finished once");
        s.test_finished("b");
        s.test_finished("unknown");
        assert_eq!(s.attribution(), vec![STARTUP]);
    }

    #[test]
    fn a_new_run_keeps_what_the_stack_used_at_start_up_in_the_same_dir() {
        let mut s = Session::new("/r".into(), InferenceMode::Replay);
        s.used("vllm", "models", &[STARTUP.to_owned()]);
        s.used("vllm", "chat", &["t::a".to_owned()]);
        s.reset("/r".into(), InferenceMode::Replay);
        assert_eq!(
            serde_json::to_value(&s.usage.used).unwrap(),
            json!({"vllm": {"models": [STARTUP]}})
        );
        s.reset("/other".into(), InferenceMode::Replay);
        assert_eq!(s.usage.count(), 0);
    }
}
