//! The session's token issuer as a service: it runs inside the supervisor
//! (see `crate::issuer`), for a run.yaml whose `oauth2_token` provider takes
//! its keys from `${env.STACK_HARNESS_JWKS_URI}`, and hands the stack that
//! URI, the issuer and the audience its tokens carry.

use std::time::Duration;

use super::{Context, Exit, Running, Service, ServiceError, StackEnv};
use crate::issuer::{Issuer, IssuerOptions};
use crate::process::Progress;
use crate::stack::run_yaml::{
    AUDIENCE_VAR, DEFAULT_AUDIENCE, ISSUER_VAR, IssuerNeeds, JWKS_URI_VAR,
};

/// Its name in `sessions`, errors, and the state test processes read.
pub(crate) const NAME: &str = "token issuer";

pub(super) struct IssuerService {
    needs: IssuerNeeds,
    /// 0: a free port.
    port: u16,
    issuer: Option<Issuer>,
    runtime: Option<tokio::runtime::Handle>,
}

impl IssuerService {
    pub(super) fn new(needs: IssuerNeeds) -> IssuerService {
        IssuerService {
            needs,
            port: 0,
            issuer: None,
            runtime: None,
        }
    }
}

impl Service for IssuerService {
    fn name(&self) -> &'static str {
        NAME
    }

    fn start(&mut self, cx: &Context<'_>, env: &mut StackEnv) -> Result<Running, ServiceError> {
        self.launch(&cx.runtime, cx.progress, env)
    }

    fn exited(&mut self) -> Option<Exit> {
        // It lives and dies with the supervisor.
        None
    }

    fn stop(&mut self, _progress: &Progress) {
        if let (Some(issuer), Some(runtime)) = (self.issuer.take(), &self.runtime) {
            runtime.block_on(issuer.shutdown());
        }
    }
}

impl IssuerService {
    fn launch(
        &mut self,
        runtime: &tokio::runtime::Handle,
        progress: &Progress,
        env: &mut StackEnv,
    ) -> Result<Running, ServiceError> {
        let options = IssuerOptions {
            port: self.port,
            issuer: self.needs.issuer.clone(),
            audience: self
                .needs
                .audience
                .clone()
                .unwrap_or_else(|| DEFAULT_AUDIENCE.to_owned()),
            key_recheck_period: Duration::from_secs(
                u64::try_from(self.needs.key_recheck_period).unwrap_or(0),
            ),
        };
        let issuer = runtime.block_on(Issuer::start(options))?;
        env.insert(JWKS_URI_VAR.into(), issuer.jwks_uri());
        env.insert(ISSUER_VAR.into(), issuer.issuer().to_owned());
        env.insert(AUDIENCE_VAR.into(), issuer.audience().to_owned());
        progress.say(format!(
            "token issuer on {} (audience `{}`)",
            issuer.url(),
            issuer.audience()
        ));
        let running = Running {
            name: NAME.to_owned(),
            pids: Vec::new(),
            address: Some(issuer.url()),
            log: None,
            ..Running::default()
        };
        self.issuer = Some(issuer);
        self.runtime = Some(runtime.clone());
        Ok(running)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn needs() -> IssuerNeeds {
        IssuerNeeds {
            audience: None,
            issuer: None,
            key_recheck_period: 3600,
        }
    }

    #[test]
    fn an_issuer_that_cannot_listen_fails_the_session_naming_its_address() {
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let held = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
        let port = held.local_addr().expect("addr").port();
        let mut service = IssuerService {
            port,
            ..IssuerService::new(needs())
        };
        let (progress, said) = Progress::recording();
        let mut env = StackEnv::new();
        let err = service
            .launch(runtime.handle(), &progress, &mut env)
            .expect_err("the port is held");
        // As the supervisor reports it, once, before any test.
        assert_eq!(
            format!("the {} did not start: {err}", service.name()),
            format!(
                "the token issuer did not start: cannot listen on 127.0.0.1:{port}: Address already in use (os error 98)"
            )
        );
        assert!(env.is_empty(), "nothing handed to the stack");
        assert!(said.lock().expect("lock").is_empty());
    }
}
