//! The issuer's HTTP server on 127.0.0.1, run by the session supervisor:
//!
//! ```text
//! GET  /.well-known/openid-configuration   issuer, jwks_uri (OpenID discovery)
//! GET  /jwks                                the published keys: retired, current, next
//! POST /mint    {user, roles, groups, case} a token                  (test processes)
//! POST /rotate                              next key signs from now  (test processes)
//! GET  /stats                               key ids, the stack's JWKS fetches
//! ```
//!
//! Rotation as identity providers do it: the next key is published from
//! the start, so a stack that fetched the key set before the rotation
//! already knows the key that signs after it. llama-stack 0.7.3 (pyjwt's
//! `PyJWKClient`) looks a key id it lacks up again only when its cached set
//! is older than `key_recheck_period` or 30 s have passed since its last
//! fetch; a rotation whose next key the stack has not fetched yet waits
//! until one of those holds, so no token the issuer hands out is refused
//! for a key the stack could not know.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::Incoming;
use hyper::header::CONTENT_TYPE;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::{OnceCell, watch};
use tokio::task::JoinHandle;

use super::keys::{Key, KeyError};
use super::token::{self, Claims, MintRequest, Signers};

/// pyjwt's `cooldown_duration`: after a fetch, a key id the stack lacks
/// makes it fetch again only this much later (unless its cached set
/// expired first). llama-stack does not let a run.yaml change it.
const STACK_COOLDOWN: Duration = Duration::from_secs(30);
/// Slack on top of the stack's own timers before a rotation completes.
const MARGIN: Duration = Duration::from_millis(500);
/// A mint request is a name and a few roles.
const MAX_BODY: usize = 64 * 1024;

/// Makes a new key: [`Key::generate`]; fixed keys in unit tests.
type KeySource = Arc<dyn Fn() -> Result<Key, KeyError> + Send + Sync>;

/// What the issuer is started with.
#[derive(Clone, Debug)]
pub(crate) struct IssuerOptions {
    /// 0 for a free port.
    pub(crate) port: u16,
    /// `iss` when the run.yaml fixes it; else the issuer's own URL.
    pub(crate) issuer: Option<String>,
    pub(crate) audience: String,
    /// The stack's `jwks.key_recheck_period`.
    pub(crate) key_recheck_period: Duration,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum IssuerError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// A running issuer; stop it with [`Issuer::shutdown`].
pub(crate) struct Issuer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

struct Shared {
    claims: Claims,
    /// How new keys are made: [`Key::generate`]; fixed keys in unit tests.
    generate: KeySource,
    key_recheck_period: Duration,
    ring: tokio::sync::Mutex<Ring>,
    /// Made on first use: only the forged-signature case needs it.
    foreign: OnceCell<Key>,
    fetches: Mutex<Fetches>,
}

/// The keys, oldest first as published.
struct Ring {
    retired: Vec<Key>,
    current: Key,
    next: Key,
}

/// The stack's fetches of `/jwks`.
#[derive(Default)]
struct Fetches {
    count: u64,
    last: Option<(Instant, Vec<String>)>,
}

impl Issuer {
    /// Generates the current and next keys (in parallel, off the runtime),
    /// binds 127.0.0.1 and serves.
    pub(crate) async fn start(options: IssuerOptions) -> Result<Issuer, IssuerError> {
        Issuer::start_with(options, Arc::new(Key::generate)).await
    }

    async fn start_with(
        options: IssuerOptions,
        generate: KeySource,
    ) -> Result<Issuer, IssuerError> {
        let addr = SocketAddr::from(([127, 0, 0, 1], options.port));
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| IssuerError::Bind { addr, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| IssuerError::Bind { addr, source })?;
        let make = generate.clone();
        let (current, next) = tokio::task::spawn_blocking(move || {
            std::thread::scope(|s| {
                let next = s.spawn(|| make());
                let current = make();
                let next = next.join().unwrap_or_else(|_| Err(KeyError::panicked()));
                Ok::<_, KeyError>((current?, next?))
            })
        })
        .await
        .map_err(|_| KeyError::panicked())??;
        let url = format!("http://{addr}");
        let shared = Arc::new(Shared {
            claims: Claims {
                issuer: options.issuer.unwrap_or_else(|| url.clone()),
                audience: options.audience,
            },
            generate,
            key_recheck_period: options.key_recheck_period,
            ring: tokio::sync::Mutex::new(Ring {
                retired: Vec::new(),
                current,
                next,
            }),
            foreign: OnceCell::new(),
            fetches: Mutex::new(Fetches::default()),
        });
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(serve(listener, shared.clone(), url, stopped));
        Ok(Issuer {
            addr,
            shared,
            stop,
            task,
        })
    }

    /// `http://127.0.0.1:PORT`: where test processes mint.
    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub(crate) fn jwks_uri(&self) -> String {
        format!("{}/jwks", self.url())
    }

    /// The `iss` of every token it mints.
    pub(crate) fn issuer(&self) -> &str {
        &self.shared.claims.issuer
    }

    pub(crate) fn audience(&self) -> &str {
        &self.shared.claims.audience
    }

    /// Stops accepting and waits for the server.
    pub(crate) async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

impl KeyError {
    fn panicked() -> KeyError {
        KeyError::new("the key generation panicked")
    }
}

async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    url: String,
    mut stopped: watch::Receiver<bool>,
) {
    let url: Arc<str> = url.into();
    loop {
        let (stream, peer) = tokio::select! {
            _ = stopped.changed() => return,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
        };
        let (shared, url, mut stopped) = (shared.clone(), url.clone(), stopped.clone());
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let (shared, url) = (shared.clone(), url.clone());
                async move { Ok::<_, Infallible>(route(&shared, &url, peer, req).await) }
            });
            let connection = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                _ = connection => {}
                _ = stopped.changed() => {}
            }
        });
    }
}

fn json_response(status: StatusCode, body: &Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    response
}

fn error(status: StatusCode, message: &str) -> Response<Full<Bytes>> {
    json_response(status, &json!({"error": {"message": message}}))
}

async fn route(
    shared: &Shared,
    url: &str,
    peer: SocketAddr,
    req: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let (method, path) = (req.method().clone(), req.uri().path().to_owned());
    match (&method, path.as_str()) {
        (&Method::GET, "/.well-known/openid-configuration") => json_response(
            StatusCode::OK,
            &json!({
                "issuer": shared.claims.issuer,
                "jwks_uri": format!("{url}/jwks"),
                "id_token_signing_alg_values_supported": ["RS256"],
                "response_types_supported": ["id_token"],
                "subject_types_supported": ["public"],
            }),
        ),
        (&Method::GET, "/jwks") => json_response(StatusCode::OK, &shared.jwks().await),
        (&Method::GET, "/stats") => json_response(StatusCode::OK, &shared.stats().await),
        // Bound to 127.0.0.1, so every peer is local; said again here
        // because these two hand out what passes for a user.
        (&Method::POST, "/mint" | "/rotate") if !peer.ip().is_loopback() => error(
            StatusCode::FORBIDDEN,
            "tokens are minted for local test processes only",
        ),
        (&Method::POST, "/mint") => {
            let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
                Ok(body) => body.to_bytes(),
                Err(e) => {
                    return error(
                        StatusCode::BAD_REQUEST,
                        &format!("cannot read the body: {e}"),
                    );
                }
            };
            match serde_json::from_slice::<MintRequest>(&body) {
                Ok(request) => match shared.mint(&request).await {
                    Ok(token) => json_response(StatusCode::OK, &json!({"token": token})),
                    Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, &e),
                },
                Err(e) => error(
                    StatusCode::BAD_REQUEST,
                    &format!(
                        "expected {{\"user\": ..., \"roles\": [...], \"groups\": [...], \"case\": ...}}: {e}"
                    ),
                ),
            }
        }
        (&Method::POST, "/rotate") => match shared.rotate().await {
            Ok(rotation) => json_response(StatusCode::OK, &rotation),
            Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
        },
        _ => error(
            StatusCode::NOT_FOUND,
            &format!(
                "stack-harness issuer: no route `{method} {path}`; it serves GET /.well-known/openid-configuration, GET /jwks, POST /mint, POST /rotate, GET /stats"
            ),
        ),
    }
}

impl Shared {
    async fn jwks(&self) -> Value {
        let ring = self.ring.lock().await;
        let keys: Vec<&Key> = ring
            .retired
            .iter()
            .chain([&ring.current, &ring.next])
            .collect();
        if let Ok(mut fetches) = self.fetches.lock() {
            fetches.count += 1;
            fetches.last = Some((Instant::now(), keys.iter().map(|k| k.kid.clone()).collect()));
        }
        json!({"keys": keys.iter().map(|k| &k.jwk).collect::<Vec<_>>()})
    }

    async fn stats(&self) -> Value {
        let ring = self.ring.lock().await;
        let (count, last_kids) = self
            .fetches
            .lock()
            .map(|f| (f.count, f.last.as_ref().map(|(_, kids)| kids.clone())))
            .unwrap_or_default();
        json!({
            "signing_kid": ring.current.kid,
            "next_kid": ring.next.kid,
            "retired_kids": ring.retired.iter().map(|k| &k.kid).collect::<Vec<_>>(),
            "jwks_fetches": count,
            "last_fetch_kids": last_kids,
        })
    }

    async fn mint(&self, request: &MintRequest) -> Result<String, String> {
        let current = self.ring.lock().await.current.clone();
        let foreign = match request.case {
            token::TokenCase::ForeignKey => Some(
                self.foreign
                    .get_or_try_init(|| async {
                        let generate = self.generate.clone();
                        tokio::task::spawn_blocking(move || generate())
                            .await
                            .map_err(|_| KeyError::panicked())?
                    })
                    .await
                    .map_err(|e| e.to_string())?,
            ),
            _ => None,
        };
        let signers = Signers {
            current: &current,
            foreign: foreign.unwrap_or(&current),
        };
        token::mint(request, &self.claims, &signers, SystemTime::now())
            .map_err(|e| format!("cannot sign the token: {e}"))
    }

    /// How long until the stack would look `kid` up, were it to lack it.
    fn unknown_to_stack_for(&self, kid: &str) -> Duration {
        let fetches = self.fetches.lock().ok();
        let last = fetches
            .as_ref()
            .and_then(|f| f.last.as_ref())
            .map(|(at, kids)| (*at, kids.as_slice()));
        refetch_wait(last, kid, self.key_recheck_period, Instant::now())
    }

    /// The next key signs from now on; the current one stays published
    /// (tokens it signed remain valid); a new next key is published.
    async fn rotate(&self) -> Result<Value, KeyError> {
        let generate = self.generate.clone();
        let fresh = tokio::task::spawn_blocking(move || generate())
            .await
            .map_err(|_| KeyError::panicked())??;
        let mut ring = self.ring.lock().await;
        let wait = self.unknown_to_stack_for(&ring.next.kid);
        tokio::time::sleep(wait).await;
        let signing = std::mem::replace(&mut ring.next, fresh);
        let retired = std::mem::replace(&mut ring.current, signing);
        ring.retired.push(retired);
        Ok(json!({
            "signing_kid": ring.current.kid,
            "retired_kid": ring.retired.last().map(|k| &k.kid),
            "next_kid": ring.next.kid,
            "waited_ms": wait.as_millis(),
        }))
    }
}

/// How long from `now` until a stack whose last fetch of the key set was
/// `last` (when, which key ids) would fetch again on meeting `kid`: none if
/// it never fetched (its first fetch will have it) or `kid` was in that set;
/// else until its cached set expires or its cooldown ends, whichever is
/// first.
fn refetch_wait(
    last: Option<(Instant, &[String])>,
    kid: &str,
    key_recheck_period: Duration,
    now: Instant,
) -> Duration {
    match last {
        Some((at, kids)) if !kids.iter().any(|k| k == kid) => {
            let refetch = key_recheck_period.min(STACK_COOLDOWN) + MARGIN;
            (at + refetch).saturating_duration_since(now)
        }
        _ => Duration::ZERO,
    }
}

#[cfg(test)]
mod tests;
