//! The record/replay proxy as a session service: it runs inside the
//! supervisor, and every provider whose upstream URL comes from a variable
//! is pointed at it.

use std::collections::HashSet;

use super::{Context, Exit, Running, Service, ServiceError, StackEnv};
use crate::process::Progress;
use crate::record::{self, Proxy, ProxyOptions, Rules, Upstream};
use crate::stack::run_yaml::UpstreamVar;

#[derive(Default)]
pub(super) struct ProxyService {
    proxy: Option<Proxy>,
    runtime: Option<tokio::runtime::Handle>,
}

impl Service for ProxyService {
    fn name(&self) -> &'static str {
        "proxy"
    }

    fn start(&mut self, cx: &Context<'_>, env: &mut StackEnv) -> Result<Running, ServiceError> {
        let mode = cx.spec.mode;
        let mut upstreams = Vec::new();
        let mut routes = Vec::new();
        for var in one_per_var(cx.config.upstream_vars()) {
            let Some(provider) = var.provider_id.clone() else {
                continue;
            };
            // The real upstream: what the earlier services or --env set,
            // else the run.yaml's default.
            let real = env
                .get(&var.var)
                .cloned()
                .or_else(|| std::env::var(&var.var).ok())
                .or_else(|| var.default.clone())
                .map(|u| format!("{u}{}", var.suffix));
            let base = real
                .as_deref()
                .map(url::Url::parse)
                .transpose()
                .map_err(|source| ServiceError::UpstreamUrl {
                    var: var.var.clone(),
                    provider: provider.clone(),
                    source,
                })?;
            let (upstream, path) = match base {
                Some(base) => Upstream::from_base_url(&provider, &base),
                None => (
                    Upstream {
                        name: provider.clone(),
                        url: None,
                    },
                    "/v1".to_owned(),
                ),
            };
            // In replay the upstream is never contacted: leave it out, so a
            // bug could not reach the network either.
            let upstream = if mode.uses_network() {
                upstream
            } else {
                Upstream {
                    url: None,
                    ..upstream
                }
            };
            routes.push((var.var.clone(), provider, path));
            upstreams.push(upstream);
        }
        let options = ProxyOptions {
            mode,
            dir: cx.spec.record_dir.clone(),
            upstreams,
            rules: Rules::load_from_dir(&cx.spec.record_dir)?,
            port: 0,
        };
        let proxy = cx.runtime.block_on(record::start(options))?;
        for (var, provider, path) in &routes {
            env.insert(var.clone(), proxy.base_url(provider, path));
        }
        cx.progress.say(format!(
            "record/replay proxy on {} in {mode} mode",
            proxy.addr()
        ));
        let running = Running {
            name: self.name().to_owned(),
            pids: Vec::new(),
            address: Some(proxy.control_url()),
            log: None,
            ..Running::default()
        };
        self.proxy = Some(proxy);
        self.runtime = Some(cx.runtime.clone());
        Ok(running)
    }

    fn exited(&mut self) -> Option<Exit> {
        // It lives and dies with the supervisor.
        None
    }

    fn stop(&mut self, _progress: &Progress) {
        if let (Some(proxy), Some(runtime)) = (self.proxy.take(), &self.runtime) {
            runtime.block_on(proxy.shutdown());
        }
    }
}

/// The providers the proxy fronts: one per variable, the first in the file.
/// Providers whose base URL is the same variable (a second `remote::vllm`
/// entry with other defaults, say) send to one URL, so the proxy cannot tell
/// their requests apart: they share an upstream and the first one's name (its
/// recordings directory). Routing each would let the last take the variable
/// over, and the traffic of all of them would go under its name.
fn one_per_var(vars: Vec<UpstreamVar>) -> Vec<UpstreamVar> {
    let mut seen = HashSet::new();
    vars.into_iter()
        .filter(|v| v.provider_id.is_some() && seen.insert(v.var.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn var(provider: Option<&str>, var: &str) -> UpstreamVar {
        UpstreamVar {
            api: "inference".into(),
            provider_id: provider.map(str::to_owned),
            provider_type: "remote::vllm".into(),
            key: "base_url".into(),
            var: var.into(),
            default: None,
            suffix: String::new(),
            enabled: true,
        }
    }

    #[test]
    fn providers_sharing_a_variable_are_fronted_under_the_first_ones_name() {
        let vars = vec![
            var(None, "VLLM_URL"),
            var(Some("vllm"), "VLLM_URL"),
            var(Some("embed"), "EMBEDDING_URL"),
            var(Some("vllm-verdict"), "VLLM_URL"),
        ];
        let routed: Vec<_> = one_per_var(vars)
            .into_iter()
            .map(|v| (v.provider_id.unwrap_or_default(), v.var))
            .collect();
        assert_eq!(
            routed,
            [
                ("vllm".to_owned(), "VLLM_URL".to_owned()),
                ("embed".to_owned(), "EMBEDDING_URL".to_owned())
            ]
        );
    }
}
