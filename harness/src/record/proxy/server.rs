//! The record/replay proxy: an HTTP/1.1 server on 127.0.0.1 that the stack's
//! provider base URLs point at.
//!
//! ```text
//!  stack ──HTTP──▶ /p/<provider>/<rest>  ──┬─ replay: recordings/<provider>/<key16>.json
//!                                           ├─ record: ──reqwest──▶ <upstream origin>/<rest>  (+ store)
//!                                           └─ live:   ──reqwest──▶ <upstream origin>/<rest>
//!  tests ──HTTP──▶ /__harness/...          (mode, recordings dir, test start/end, misses, run end)
//! ```
//!
//! The proxy lives in the long-lived session supervisor beside the stack it
//! fronts; test processes steer it through the control endpoints
//! (`control`). Connections are kept alive (ogx reuses one connection for
//! its whole session; llama-stack opens one per request) and served
//! concurrently; writes of one key are serialised by the store.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};
use url::Url;

use super::answer::{ProxyBody, json_error};
use super::ledger::Ledger;
use super::shared::{RunConfig, Shared};
use super::{control, exchange};
use crate::record::error::RecordError;
use crate::record::mode::InferenceMode;
use crate::record::store::{Rules, Store, is_valid_provider};

/// A model provider the stack talks to through the proxy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Upstream {
    /// The provider name in proxy routes and recording directories
    /// (the run.yaml `provider_id`).
    pub(crate) name: String,
    /// The real server's origin (a path, if any, is prefixed to every
    /// forwarded path); `None` when only replay is possible.
    pub(crate) url: Option<Url>,
}

impl Upstream {
    /// Splits a provider base URL such as `http://127.0.0.1:8080/v1` into
    /// the upstream origin and the base path the stack must keep using
    /// (`/v1`), for [`Proxy::base_url`].
    pub(crate) fn from_base_url(name: &str, base: &Url) -> (Upstream, String) {
        let mut origin = base.clone();
        origin.set_path("");
        origin.set_query(None);
        origin.set_fragment(None);
        let path = base.path().trim_end_matches('/').to_owned();
        (
            Upstream {
                name: name.to_owned(),
                url: Some(origin),
            },
            path,
        )
    }
}

/// How to start a proxy.
#[derive(Clone, Debug)]
pub(crate) struct ProxyOptions {
    pub(crate) mode: InferenceMode,
    /// The recordings directory (`recordings/`).
    pub(crate) dir: PathBuf,
    pub(crate) upstreams: Vec<Upstream>,
    /// Usually `Rules::load_from_dir(&dir)`.
    pub(crate) rules: Rules,
    /// 0 for any free port.
    pub(crate) port: u16,
}

/// A running proxy; stop it with [`Proxy::shutdown`].
pub(crate) struct Proxy {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proxy").field("addr", &self.addr).finish()
    }
}

impl Proxy {
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL for the stack's provider config:
    /// `http://127.0.0.1:PORT/p/<provider><upstream_base_path>`.
    pub(crate) fn base_url(&self, provider: &str, upstream_base_path: &str) -> String {
        format!("http://{}/p/{provider}{upstream_base_path}", self.addr)
    }

    /// The base URL of the control API, for the test processes' `ProxyControl`.
    pub(crate) fn control_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, closes every connection and waits for the server.
    pub(crate) async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Binds 127.0.0.1 and starts serving.
pub(crate) async fn start(opts: ProxyOptions) -> Result<Proxy, RecordError> {
    let mut upstreams = BTreeMap::new();
    for upstream in opts.upstreams {
        if !is_valid_provider(&upstream.name) {
            return Err(RecordError::Tool(format!(
                "provider name `{}` cannot name a recordings directory; use letters, digits, `-`, `_` or `.`",
                upstream.name
            )));
        }
        if upstreams
            .insert(upstream.name.clone(), upstream.url)
            .is_some()
        {
            return Err(RecordError::Tool(format!(
                "provider `{}` is given twice; give each provider one upstream",
                upstream.name
            )));
        }
    }
    let config = RunConfig {
        mode: opts.mode,
        store: Arc::new(Store::new(opts.dir.clone())),
        rules: Arc::new(opts.rules),
        stack: None,
    };
    let shared = Arc::new(Shared::new(
        upstreams,
        config,
        Ledger::new(opts.dir, opts.mode),
    ));
    let addr = SocketAddr::from(([127, 0, 0, 1], opts.port));
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| RecordError::Bind {
            addr: addr.to_string(),
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| RecordError::Bind {
        addr: addr.to_string(),
        source,
    })?;
    let (stop, stopped) = oneshot::channel();
    let task = tokio::spawn(serve(listener, shared, stopped));
    Ok(Proxy {
        addr,
        stop: Some(stop),
        task,
    })
}

async fn serve(listener: TcpListener, shared: Arc<Shared>, mut stopped: oneshot::Receiver<()>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stopped => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else {
                    // Out of descriptors or similar: back off instead of spinning.
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let shared = shared.clone();
                connections.spawn(async move {
                    let service = service_fn(move |req| {
                        let shared = shared.clone();
                        async move { Ok::<_, Infallible>(route(shared, req).await) }
                    });
                    let _ = http1::Builder::new()
                        .keep_alive(true)
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections.shutdown().await;
}

async fn route(shared: Arc<Shared>, req: Request<Incoming>) -> Response<ProxyBody> {
    let path = req.uri().path().to_owned();
    if let Some(rest) = path.strip_prefix("/__harness/") {
        return control::handle(&shared, rest, req).await;
    }
    if let Some(rest) = path.strip_prefix("/p/") {
        let (provider, rest) = rest.split_once('/').unwrap_or((rest, ""));
        return exchange::handle(shared.clone(), provider.to_owned(), rest.to_owned(), req).await;
    }
    json_error(
        StatusCode::NOT_FOUND,
        &format!(
            "stack-harness: unknown route `{path}`; providers are served under /p/<provider>/ and the control API under /__harness/"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_provider_base_url_splits_into_origin_and_base_path() {
        let base = Url::parse("http://127.0.0.1:8080/v1/?x=1").unwrap();
        let (upstream, path) = Upstream::from_base_url("vllm", &base);
        assert_eq!(upstream.url.unwrap().as_str(), "http://127.0.0.1:8080/");
        assert_eq!(path, "/v1");
        let (_, path) =
            Upstream::from_base_url("o", &Url::parse("https://api.openai.com").unwrap());
        assert_eq!(path, "");
    }
}
