//! The chroma server that `remote::chromadb` talks to, as a session
//! service: `chroma run` from PyPI's `chromadb` (a Rust server inside its
//! wheel; no Docker), in a venv of its own under `.stack/` because its 85
//! packages would clash with the stack's pins, on a free loopback port, with
//! its data under the session directory.
//!
//! A session runs one when its run.yaml enables a `remote::chromadb`
//! provider whose `url` is the harness's variable ([`URL_VAR`]) and nobody
//! set that variable: `--env CHROMADB_URL=http://...` points the stack at a
//! chroma server of the user's instead.

use std::fs;
use std::path::PathBuf;
use std::time::Duration;

use super::{Context, Exit, Running, Service, ServiceError, StackEnv};
use crate::process::{self, DEFAULT_GRACE, OwnedProcess, Progress, Spawn};
use crate::python::{self, Venv, VenvSpec};
use crate::session::SupervisorSpec;
use crate::stack::run_yaml::RunConfig;

/// The variable the run-configs read chroma's URL from.
pub(super) const URL_VAR: &str = "CHROMADB_URL";

/// The server's pinned requirements; its `chromadb` must equal the stack's
/// `chromadb-client` (older clients cannot read its answers).
const REQUIREMENTS: &str = "requirements/chroma.txt";

/// Ready in 3-6 s here; the first start after provisioning compiles
/// bytecode and takes longer.
const READY_DEADLINE: Duration = Duration::from_secs(120);

#[derive(Default)]
pub(super) struct ChromaService {
    venv: Option<Venv>,
    process: Option<OwnedProcess>,
}

/// Whether the session needs a chroma server of its own.
pub(super) fn wanted(spec: &SupervisorSpec, config: &RunConfig) -> bool {
    let given = spec.env.iter().any(|(k, v)| k == URL_VAR && !v.is_empty());
    !given
        && config
            .providers
            .iter()
            .filter(|g| g.api == "vector_io")
            .flat_map(|g| &g.providers)
            .any(|p| {
                p.is_enabled()
                    && p.provider_type == "remote::chromadb"
                    && p.config_var("url").as_deref() == Some(URL_VAR)
            })
}

impl Service for ChromaService {
    fn name(&self) -> &'static str {
        "chroma"
    }

    fn provision(&mut self, cx: &Context<'_>) -> Result<(), ServiceError> {
        let root = &cx.spec.project_root;
        let requirements = root.join(REQUIREMENTS);
        if !requirements.is_file() {
            return Err(ServiceError::NoRequirements {
                service: self.name(),
                path: requirements,
                file: REQUIREMENTS,
            });
        }
        let python = python::find_python()?;
        let dir = root.join(".stack").join("chroma-venv");
        let spec = VenvSpec {
            dir: &dir,
            requirements: &requirements,
            label: "the chroma server",
            find_links: None,
            binary_only: &[],
        };
        self.venv = Some(python::ensure_venv(&spec, &python, cx.progress)?);
        Ok(())
    }

    fn start(&mut self, cx: &Context<'_>, env: &mut StackEnv) -> Result<Running, ServiceError> {
        let Some(venv) = &self.venv else {
            return Err(ServiceError::NotProvisioned(self.name()));
        };
        // Its data lives and dies with the session, like the stack's state:
        // a store the stack forgot at its restart must not linger here.
        let data = cx.session_dir.join("chroma");
        let io = |action: &'static str, path: &PathBuf| {
            let path = path.clone();
            move |source| ServiceError::Io {
                action,
                path,
                source,
            }
        };
        if data.exists() {
            fs::remove_dir_all(&data).map_err(io("empty", &data))?;
        }
        let (home, tmp) = (data.join("home"), data.join("tmp"));
        for dir in [&home, &tmp] {
            fs::create_dir_all(dir).map_err(io("create", dir))?;
        }
        let port = process::free_port()?;
        let url = format!("http://127.0.0.1:{port}");
        let log = cx.session_dir.join("chroma.log");
        let _ = fs::remove_file(&log);
        let spawn = Spawn::new("the chroma server", venv.bin("chroma"), &log)
            .args(["run", "--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--path".as_ref(), data.join("db").as_os_str()])
            // The orphan proofs count the processes whose working directory
            // is inside the session directory.
            .cwd(&data)
            .env("HOME", &home)
            .env("TMPDIR", &tmp)
            // It sends nothing with 1.5.9 (measured); off all the same.
            .env("ANONYMIZED_TELEMETRY", "False");
        cx.progress.say(format!(
            "starting the chroma server on 127.0.0.1:{port}; log: {}",
            log.display()
        ));
        let mut child = process::spawn(&spawn)?;
        let took = child.wait_until_ok(
            &format!("{url}/api/v2/heartbeat"),
            READY_DEADLINE,
            cx.progress,
        )?;
        cx.progress.say(format!(
            "the chroma server is ready after {:.1} s",
            took.as_secs_f64()
        ));
        env.insert(URL_VAR.to_owned(), url.clone());
        let running = Running {
            name: self.name().to_owned(),
            pids: vec![child.pid()],
            address: Some(url),
            log: Some(log),
            ..Running::default()
        };
        self.process = Some(child);
        Ok(running)
    }

    fn exited(&mut self) -> Option<Exit> {
        Exit::of(self.process.as_mut(), "the chroma server")
    }

    fn stop(&mut self, progress: &Progress) {
        if let Some(mut process) = self.process.take() {
            progress.say("stopping the chroma server");
            let _ = process.stop(DEFAULT_GRACE);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::InferenceMode;
    use crate::stack::launcher::LauncherKind;

    fn spec(env: &[(&str, &str)]) -> SupervisorSpec {
        SupervisorSpec {
            session_dir: "/s".into(),
            project_root: "/p".into(),
            target_dir: "/p/target".into(),
            run_yaml: "/p/run.yaml".into(),
            shown: "server:ci-tests".into(),
            port: 8321,
            launcher: LauncherKind::LlamaStack,
            env: env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            health_timeout_secs: 180,
            replicas: 1,
            mode: InferenceMode::Replay,
            record_dir: "/p/recordings".into(),
            proxy_recorder: true,
            local_model: false,
            config_hash: String::new(),
            keep: false,
            grace_secs: 2,
        }
    }

    fn config(enable: bool) -> RunConfig {
        let text = "version: 2\ndistro_name: t\napis: [vector_io]\nproviders:\n  vector_io:\n  \
                    - provider_id: ${env.ENABLE_CHROMADB:+chromadb}\n    provider_type: remote::chromadb\n    \
                    config:\n      url: ${env.CHROMADB_URL:=}\n      persistence: {namespace: v, backend: kv_default}\n\
                    storage:\n  backends:\n    kv_default: {type: kv_sqlite, db_path: /tmp/kv.db}\n    \
                    sql_default: {type: sql_sqlite, db_path: /tmp/sql.db}\n  stores:\n    \
                    metadata: {namespace: registry, backend: kv_default}\n";
        let lookup = |name: &str| (enable && name == "ENABLE_CHROMADB").then(|| "1".to_owned());
        RunConfig::parse("t", text, &lookup).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_server_runs_only_for_an_enabled_provider_on_the_harness_variable() {
        assert!(wanted(&spec(&[]), &config(true)));
        assert!(!wanted(&spec(&[]), &config(false)), "disabled");
        assert!(
            !wanted(
                &spec(&[("CHROMADB_URL", "http://10.0.0.1:8000")]),
                &config(true)
            ),
            "a server of the user's"
        );
    }
}
