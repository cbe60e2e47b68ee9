//! The local model server (SmolLM2 on llama-cpp-python) as a session
//! service: the real upstream for `--setup=local` runs that record.

use super::{Context, Exit, Running, Service, ServiceError, StackEnv};
use crate::local_model::LocalModel;
use crate::process::Progress;

#[derive(Default)]
pub(super) struct LocalModelService {
    model: Option<LocalModel>,
}

impl Service for LocalModelService {
    fn name(&self) -> &'static str {
        "local model"
    }

    fn start(&mut self, cx: &Context<'_>, env: &mut StackEnv) -> Result<Running, ServiceError> {
        // Provisioning (model file, wheel build, venv) is part of start:
        // it is cached, and only a recording run starts this service.
        let model = LocalModel::start(&cx.spec.project_root, cx.progress)?;
        // A URL given with --env wins: the user pointed the stack elsewhere.
        env.entry("VLLM_URL".into())
            .or_insert_with(|| model.chat_url.clone());
        env.entry("EMBEDDING_URL".into())
            .or_insert_with(|| model.embedding_url.clone());
        let running = Running {
            name: self.name().to_owned(),
            pids: model.pids(),
            address: Some(model.chat_url.clone()),
            log: None,
            ..Running::default()
        };
        self.model = Some(model);
        Ok(running)
    }

    fn exited(&mut self) -> Option<Exit> {
        let (status, log) = self.model.as_mut()?.exited()?;
        Some(Exit {
            headline: format!("the local model server exited ({status})"),
            log: Some(log),
        })
    }

    fn stop(&mut self, progress: &Progress) {
        if let Some(mut model) = self.model.take() {
            progress.say("stopping the local model server");
            let _ = model.stop();
        }
    }
}
