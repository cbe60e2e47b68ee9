//! Why a session could not be started or reached. Every message names the
//! session directory or the log that says more, so the reader knows where
//! to look next.

use std::path::PathBuf;

use crate::record::RecordError;

#[derive(Debug, thiserror::Error)]
pub(crate) enum SessionError {
    #[error(
        "the stack at {base} is not healthy (GET {base}/v1/health did not answer 200); start it or fix --stack-config"
    )]
    UrlNotHealthy { base: String },
    #[error(
        "port {port} is serving a stack with another configuration, in use by process(es) {others:?}; \
         wait for them, or use --stack-config=server:<config>:<another port> \
         (`cargo run -p stack-harness -- sessions` lists the sessions)"
    )]
    OtherConfigInUse { port: u16, others: Vec<u32> },
    #[error(
        "port {port} is in use by something that is not a healthy Llama Stack (GET http://127.0.0.1:{port}/v1/health did not answer 200); \
         stop it, or use --stack-config=server:<config>:<another port>"
    )]
    PortHeld { port: u16 },
    #[error(transparent)]
    NoFreePort(crate::process::ProcessError),
    #[error("cannot build the HTTP client: {0}")]
    Client(reqwest::Error),
    #[error("cannot {action} `{}`: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot start the session supervisor: {0}")]
    Spawn(std::io::Error),
    #[error(
        "the session supervisor exited ({status}) before the stack was ready; its log is `{}`",
        log.display()
    )]
    SupervisorExited {
        status: std::process::ExitStatus,
        log: PathBuf,
    },
    /// The supervisor's own account, which carries the failing service's
    /// log tail.
    #[error("{message}\n(session files: `{}`)", dir.display())]
    StartFailed { message: String, dir: PathBuf },
    #[error("the supervisor in `{}` published no stack address", dir.display())]
    NoBaseUrl { dir: PathBuf },
    #[error("cannot set the recording mode on the proxy at {url}: {source}")]
    Proxy { url: String, source: RecordError },
}

impl SessionError {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        SessionError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}
