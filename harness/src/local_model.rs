//! The local model server for `--setup=local`: SmolLM2-135M-Instruct served
//! by llama-cpp-python on loopback, OpenAI-compatible, CPU only. Two
//! instances, because one llama.cpp context cannot serve both well: chat
//! (and completions), and mean-pooled embeddings (576 dimensions).
//!
//! Everything it needs is provisioned on first use under `.stack/` (the
//! model, a llama-cpp-python wheel, a venv from `requirements/local-model.txt`)
//! and reused after; see [`assets`].

use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::process::{self, DEFAULT_GRACE, OwnedProcess, ProcessError, Progress, Spawn};
use crate::python::{self, Failed, PythonError, VenvSpec};

mod assets;

pub(crate) use assets::{GGUF_NAME, LLAMA_CPP_VERSION};

/// The model name the chat instance answers to (`/v1/models`, `"model"`).
pub(crate) const CHAT_MODEL: &str = "smollm2-135m";
/// The model name the embedding instance answers to.
pub(crate) const EMBEDDING_MODEL: &str = "smollm2-135m-embed";

/// It is ready in ~1.5 s; a cold first start loads the 98 MB file from disk.
const READY_DEADLINE: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub(crate) enum LocalModelError {
    #[error(transparent)]
    Python(#[from] PythonError),
    #[error(transparent)]
    Process(#[from] ProcessError),
    #[error("cannot {what}: `{}` {}; its last lines:\n{}", .failed.command, .failed.status, .failed.tail)]
    Command { what: String, failed: Failed },
    #[error("no {what} in `{}` after it was fetched", dir.display())]
    Missing { what: String, dir: PathBuf },
    #[error(
        "`{}` is not {GGUF_NAME} ({} bytes, sha256 {}): it has {size} bytes, sha256 {actual}; \
         delete it and run again to download it afresh",
        path.display(), assets::GGUF_SIZE, assets::GGUF_SHA256
    )]
    BadModel {
        path: PathBuf,
        size: u64,
        actual: String,
    },
    #[error("cannot {action} `{}`: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
}

/// Where the two instances listen and log; [`LocalModelOptions::new`] picks
/// free ports and logs under `target/stack-harness/logs/`.
#[derive(Clone, Debug)]
pub(crate) struct LocalModelOptions {
    pub project_root: PathBuf,
    pub chat_port: u16,
    pub embedding_port: u16,
    pub log_dir: PathBuf,
    pub deadline: Duration,
}

impl LocalModelOptions {
    pub(crate) fn new(project_root: &Path) -> Result<Self, LocalModelError> {
        let chat_port = process::free_port()?;
        // Ask again until the kernel hands out another port than the first.
        let embedding_port = loop {
            let port = process::free_port()?;
            if port != chat_port {
                break port;
            }
        };
        Ok(Self {
            project_root: project_root.to_owned(),
            chat_port,
            embedding_port,
            log_dir: project_root
                .join("target")
                .join("stack-harness")
                .join("logs"),
            deadline: READY_DEADLINE,
        })
    }
}

/// Two running llama-cpp-python servers. [`LocalModel::stop`] stops them;
/// dropping it does too (each [`OwnedProcess`] stops its group on drop), so a
/// panic or an early return never leaves one behind.
#[derive(Debug)]
pub(crate) struct LocalModel {
    /// `http://127.0.0.1:<port>/v1`: chat and completions, model [`CHAT_MODEL`].
    pub chat_url: String,
    /// `http://127.0.0.1:<port>/v1`: embeddings, model [`EMBEDDING_MODEL`].
    pub embedding_url: String,
    chat: OwnedProcess,
    embedding: OwnedProcess,
}

impl LocalModel {
    /// Provisions what is missing (model, wheel, venv), then starts both
    /// instances on free ports and waits until they answer `GET /v1/models`.
    pub(crate) fn start(project_root: &Path, progress: &Progress) -> Result<Self, LocalModelError> {
        Self::start_with(&LocalModelOptions::new(project_root)?, progress)
    }

    pub(crate) fn start_with(
        options: &LocalModelOptions,
        progress: &Progress,
    ) -> Result<Self, LocalModelError> {
        let root = &options.project_root;
        let requirements = crate::python::pinned::LOCAL_MODEL
            .path(root)
            .map_err(|source| LocalModelError::Io {
                action: "write the built-in requirements under",
                path: crate::python::stack_dir(root),
                source,
            })?;
        let stack_dir = crate::python::stack_dir(root);
        let python = python::find_python()?;
        let gguf = assets::ensure_gguf(&stack_dir, &python, progress)?;
        let wheel = assets::ensure_llama_cpp_wheel(&stack_dir, &python, progress)?;
        let wheels = wheel.parent().unwrap_or(&stack_dir).to_owned();
        let label = format!("llama-cpp-python {LLAMA_CPP_VERSION}");
        let venv_dir = stack_dir.join("model-venv");
        let spec = VenvSpec {
            dir: &venv_dir,
            requirements: &requirements,
            label: &label,
            find_links: Some(&wheels),
            binary_only: &["llama-cpp-python"],
        };
        let venv = python::ensure_venv(&spec, &python, progress)?;

        let started = Instant::now();
        let chat_spec = server_spec(&venv.python, &gguf, Instance::Chat, options);
        let embedding_spec = server_spec(&venv.python, &gguf, Instance::Embedding, options);
        progress.say(format!(
            "starting the local model server ({CHAT_MODEL} on 127.0.0.1:{}, {EMBEDDING_MODEL} on 127.0.0.1:{}); logs in {}",
            options.chat_port,
            options.embedding_port,
            options.log_dir.display()
        ));
        // Both load at once; a failure of either drops (stops) the other.
        let mut chat = process::spawn(&chat_spec)?;
        let mut embedding = process::spawn(&embedding_spec)?;
        let chat_url = format!("http://127.0.0.1:{}/v1", options.chat_port);
        let embedding_url = format!("http://127.0.0.1:{}/v1", options.embedding_port);
        chat.wait_until_ok(&format!("{chat_url}/models"), options.deadline, progress)?;
        embedding.wait_until_ok(
            &format!("{embedding_url}/models"),
            options.deadline,
            progress,
        )?;
        progress.say(format!(
            "the local model server is ready after {:.1} s: chat {chat_url}, embeddings {embedding_url}",
            started.elapsed().as_secs_f64()
        ));
        Ok(Self {
            chat_url,
            embedding_url,
            chat,
            embedding,
        })
    }

    /// The process groups of both instances.
    pub(crate) fn pids(&self) -> Vec<u32> {
        vec![self.chat.pid(), self.embedding.pid()]
    }

    /// Which instance ended on its own, and how, with its log.
    pub(crate) fn exited(&mut self) -> Option<(std::process::ExitStatus, PathBuf)> {
        for instance in [&mut self.chat, &mut self.embedding] {
            if let Ok(Some(status)) = instance.exit_status() {
                return Some((status, instance.log_path().to_owned()));
            }
        }
        None
    }

    /// Stops both: SIGTERM to each process group, SIGKILL after 5 s.
    pub(crate) fn stop(&mut self) -> Result<(), LocalModelError> {
        let chat = self.chat.stop(DEFAULT_GRACE);
        let embedding = self.embedding.stop(DEFAULT_GRACE);
        chat?;
        Ok(embedding?)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Instance {
    Chat,
    Embedding,
}

/// `python -m llama_cpp.server ...` for one instance. Fixed seed and thread
/// count so that, at temperature 0, the same request gives the same text.
fn server_spec(
    python: &Path,
    gguf: &Path,
    instance: Instance,
    options: &LocalModelOptions,
) -> Spawn {
    let (name, alias, port, log) = match instance {
        Instance::Chat => (
            "the local chat model server",
            CHAT_MODEL,
            options.chat_port,
            "local-model-chat.log",
        ),
        Instance::Embedding => (
            "the local embedding model server",
            EMBEDDING_MODEL,
            options.embedding_port,
            "local-model-embed.log",
        ),
    };
    let mut args: Vec<OsString> = vec![
        "-m".into(),
        "llama_cpp.server".into(),
        "--model".into(),
        gguf.into(),
    ];
    let port = port.to_string();
    args.extend(
        [
            "--model_alias",
            alias,
            "--host",
            "127.0.0.1",
            "--port",
            &port,
            "--n_ctx",
            "2048",
            "--n_threads",
            "2",
            "--seed",
            "42",
        ]
        .map(OsString::from),
    );
    if instance == Instance::Chat {
        // Decode the prompt one token at a time: with larger batches the
        // server's reuse of a cached prompt prefix shifts the logits just
        // enough to flip a greedy choice, so the same request could answer
        // differently after another one, and re-recording would not repeat.
        args.extend(["--n_batch", "1"].map(OsString::from));
    }
    if instance == Instance::Embedding {
        // SmolLM2 has no pooling of its own: without mean pooling the server
        // returns one vector per token, not OpenAI's one per input.
        args.extend(
            [
                "--embedding",
                "true",
                "--kv_overrides",
                "llama.pooling_type=int:1",
            ]
            .map(OsString::from),
        );
    }
    Spawn::new(name, python, options.log_dir.join(log))
        .args(args)
        .env("PYTHONUNBUFFERED", "1")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> LocalModelOptions {
        LocalModelOptions {
            project_root: PathBuf::from("/p"),
            chat_port: 18080,
            embedding_port: 18081,
            log_dir: PathBuf::from("/p/logs"),
            deadline: READY_DEADLINE,
        }
    }

    #[test]
    fn the_chat_instance_is_seeded_and_bound_to_loopback() {
        let spec = server_spec(
            Path::new("/v/bin/python"),
            Path::new("/m.gguf"),
            Instance::Chat,
            &options(),
        );
        assert_eq!(
            spec.command_line(),
            "/v/bin/python -m llama_cpp.server --model /m.gguf --model_alias smollm2-135m --host 127.0.0.1 \
             --port 18080 --n_ctx 2048 --n_threads 2 --seed 42 --n_batch 1"
        );
        assert_eq!(spec.log, PathBuf::from("/p/logs/local-model-chat.log"));
    }

    #[test]
    fn the_embedding_instance_mean_pools() {
        let spec = server_spec(
            Path::new("py"),
            Path::new("m.gguf"),
            Instance::Embedding,
            &options(),
        );
        assert!(
            spec.command_line().ends_with(
                "--model_alias smollm2-135m-embed --host 127.0.0.1 --port 18081 --n_ctx 2048 --n_threads 2 \
                 --seed 42 --embedding true --kv_overrides llama.pooling_type=int:1"
            ),
            "{}",
            spec.command_line()
        );
    }

    #[test]
    fn the_two_default_ports_differ() {
        let dir = tempfile::tempdir().unwrap();
        let options = LocalModelOptions::new(dir.path()).unwrap();
        assert_ne!(options.chat_port, options.embedding_port);
    }
}
