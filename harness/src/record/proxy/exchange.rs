//! One provider request through the proxy: key it, then replay it, forward
//! it, or forward and store it, according to the mode.

use std::sync::Arc;

use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};

use super::answer::{ProxyBody, json_error, replay};
use super::forward::forward;
use super::miss::{Miss, find_nearest};
use super::request::Arrived;
use super::shared::{RunConfig, Shared};
use crate::record::mode::InferenceMode;
use crate::record::store::FILE_HASH_LEN;

pub(super) async fn handle(
    shared: Arc<Shared>,
    provider: String,
    rest: String,
    req: Request<Incoming>,
) -> Response<ProxyBody> {
    let Some(upstream) = shared.upstreams.get(&provider).cloned() else {
        return json_error(
            StatusCode::NOT_FOUND,
            &format!(
                "stack-harness: unknown provider `{provider}`; the proxy knows: {}",
                shared.provider_names().join(", ")
            ),
        );
    };
    // Attribution is decided on arrival, before the body is read.
    let tests = shared.ledger().attribution();
    let config = shared.config();
    let request = match Arrived::read(req, &provider, &rest, &config.rules, tests).await {
        Ok(request) => request,
        Err(response) => return response,
    };

    let replayable = matches!(
        config.mode,
        InferenceMode::Replay | InferenceMode::RecordIfMissing
    );
    let mut problem = None;
    if replayable {
        match config.store.load(&provider, &request.hash) {
            Ok(Some(recording)) => {
                if config.mode.writes()
                    && let Err(e) =
                        config
                            .store
                            .add_users(&recording, &request.tests, config.stack.as_deref())
                {
                    return json_error(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        &format!("stack-harness: cannot add the test to `used_by`: {e}"),
                    );
                }
                shared
                    .ledger()
                    .used(&provider, &request.hash, &request.tests);
                return replay(&recording);
            }
            Ok(None) => {}
            Err(e) => problem = Some(format!("the recording exists but cannot be used: {e}")),
        }
    }
    match (config.mode, upstream) {
        (InferenceMode::Replay, _) => miss(&shared, &config, &provider, request, problem).await,
        (mode, Some(url)) => {
            forward(&shared, &config, &provider, &url, request, mode.writes()).await
        }
        (mode, None) => json_error(
            StatusCode::BAD_REQUEST,
            &format!(
                "stack-harness: provider `{provider}` has no upstream URL, so mode `{mode}` cannot forward {} {}; give the provider a real URL or use --inference-mode=replay",
                request.parts.method, request.parts.path
            ),
        ),
    }
}

/// Records the miss for the running tests and answers 404, which the
/// OpenAI SDK does not retry (it retries 5xx twice); a corrupt recording is
/// a 500 so that it is not mistaken for a missing one.
async fn miss(
    shared: &Shared,
    config: &Arc<RunConfig>,
    provider: &str,
    request: Arrived,
    problem: Option<String>,
) -> Response<ProxyBody> {
    let nearest = {
        let (config, provider) = (config.clone(), provider.to_owned());
        let (method, path, body) = (
            request.parts.method.clone(),
            request.parts.path.clone(),
            request.normalized.clone(),
        );
        tokio::task::spawn_blocking(move || {
            find_nearest(
                config.store.dir(),
                &config.rules,
                &provider,
                &method,
                &path,
                &body,
            )
        })
        .await
        .ok()
        .flatten()
    };
    let short = &request.hash[..FILE_HASH_LEN];
    let message = format!(
        "stack-harness: no recording for {} {} (provider {provider}, hash {short}); see the test output for the diff and the command that records it",
        request.parts.method, request.parts.path
    );
    let status = if problem.is_some() {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::NOT_FOUND
    };
    shared.ledger().add_miss(Miss {
        tests: request.tests,
        method: request.parts.method,
        path: request.parts.path,
        provider: provider.to_owned(),
        hash: request.hash,
        body: request.normalized,
        nearest,
        problem,
    });
    json_error(status, &message)
}
