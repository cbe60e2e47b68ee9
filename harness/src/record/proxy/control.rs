//! The proxy's control API under `/__harness/` (its wire format is `api`),
//! used by test processes to set the run's mode and recordings directory,
//! announce tests, collect their misses and end a run.

use std::path::PathBuf;
use std::sync::Arc;

use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use serde::de::DeserializeOwned;

use super::answer::{ProxyBody, json_error, json_ok};
use super::api::{ConfigRequest, FinishRequest, ProxyState, RunUsage, TestRequest};
use super::shared::{RunConfig, Shared};
use crate::record::store::{Rules, Store};

fn state(shared: &Shared) -> ProxyState {
    let config = shared.config();
    let ledger = shared.ledger();
    ProxyState {
        mode: config.mode,
        dir: config.store.dir().to_owned(),
        providers: shared.provider_names(),
        running_tests: ledger.running_tests(),
        used: ledger.usage().count(),
        misses: ledger.miss_count(),
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
                shared.ledger().test_started(&test);
                json_ok(&serde_json::json!({}))
            }
            Err(response) => response,
        },
        (Method::POST, "test/end") => match read_json::<TestRequest>(req).await {
            Ok(TestRequest { test }) => json_ok(&shared.ledger().test_finished(&test)),
            Err(response) => response,
        },
        (Method::GET, "misses") => match query_param(&req, "test") {
            Some(test) => json_ok(&shared.ledger().failures_for(&test)),
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
            stack: request.stack.clone(),
        });
    }
    {
        let mut ledger = shared.ledger();
        if request.reset || dir_changed {
            ledger.reset(request.dir, request.mode);
        } else {
            ledger.set_mode(request.mode);
        }
        ledger.set_stack(request.stack);
    }
    json_ok(&state(shared))
}

fn finish(shared: &Shared, manifest: PathBuf) -> Response<ProxyBody> {
    let usage = shared.ledger().usage().clone();
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
