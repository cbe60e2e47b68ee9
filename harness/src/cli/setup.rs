//! Named setups (`--setup NAME`): one table of model and environment
//! defaults per kind of upstream. A setup only pre-fills; explicit flags,
//! variables and the defaults file win. Setups differ only in data: where
//! the upstream is and which models it serves.

use crate::registry::{Param, params};

/// One row of the table.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Setup {
    pub name: &'static str,
    pub description: &'static str,
    pub models: &'static [(Param, &'static str)],
    /// Environment for the stack; `${VAR}` in a value is taken from the
    /// harness's own environment (so `--setup=gpt` picks up `OPENAI_API_KEY`
    /// without it being written anywhere).
    pub env: &'static [(&'static str, &'static str)],
    /// Whether the harness starts the local SmolLM2 model server when the
    /// run needs a real upstream (record, record-if-missing, live).
    pub local_model: bool,
}

pub(crate) const SETUPS: &[Setup] = &[
    Setup {
        name: "local",
        description: "SmolLM2-135M-Instruct on llama.cpp, started by the harness on loopback (CPU, offline)",
        models: &[
            (params::text_model, "vllm/smollm2-135m"),
            (
                params::embedding_model,
                "llama-cpp-embed/smollm2-135m-embed",
            ),
            (params::embedding_dimension, "576"),
            // The run-configs' shield and its model, whose answers are
            // capped for verdicts (`vllm-verdict`): SmolLM2 stands in for
            // a guard and a judge, which it is not.
            (params::safety_shield, "llama-guard"),
            (params::judge_model, "vllm-verdict/smollm2-135m"),
        ],
        env: &[],
        local_model: true,
    },
    Setup {
        name: "ollama",
        description: "an Ollama server on 127.0.0.1:11434 (OpenAI-compatible /v1)",
        models: &[
            (params::text_model, "vllm/llama3.2:3b-instruct-fp16"),
            (params::embedding_model, "llama-cpp-embed/all-minilm:l6-v2"),
            (params::embedding_dimension, "384"),
        ],
        env: &[
            ("VLLM_URL", "http://127.0.0.1:11434/v1"),
            ("EMBEDDING_URL", "http://127.0.0.1:11434/v1"),
            ("EMBEDDING_MODEL", "all-minilm:l6-v2"),
            ("EMBEDDING_DIMENSION", "384"),
        ],
        local_model: false,
    },
    Setup {
        name: "vllm",
        description: "a vLLM server on 127.0.0.1:8000",
        models: &[(params::text_model, "vllm/Qwen/Qwen3-0.6B")],
        env: &[("VLLM_URL", "http://127.0.0.1:8000/v1")],
        local_model: false,
    },
    Setup {
        name: "gpt",
        description: "OpenAI's hosted models (needs OPENAI_API_KEY)",
        models: &[
            (params::text_model, "vllm/gpt-4o-mini"),
            (
                params::embedding_model,
                "llama-cpp-embed/text-embedding-3-small",
            ),
            (params::embedding_dimension, "1536"),
        ],
        env: &[
            ("VLLM_URL", "https://api.openai.com/v1"),
            ("VLLM_API_TOKEN", "${OPENAI_API_KEY}"),
            ("EMBEDDING_URL", "https://api.openai.com/v1"),
            ("EMBEDDING_API_TOKEN", "${OPENAI_API_KEY}"),
            ("EMBEDDING_MODEL", "text-embedding-3-small"),
            ("EMBEDDING_DIMENSION", "1536"),
        ],
        local_model: false,
    },
];

/// Looks a setup up by name.
pub(crate) fn find(name: &str) -> Option<&'static Setup> {
    SETUPS.iter().find(|s| s.name == name)
}

/// The known names, for error messages: `local, ollama, vllm, gpt`.
pub(crate) fn names() -> String {
    SETUPS.iter().map(|s| s.name).collect::<Vec<_>>().join(", ")
}

impl Setup {
    /// The default this setup gives a parameter, if any.
    pub(crate) fn model(&self, param: Param) -> Option<&'static str> {
        self.models
            .iter()
            .find(|(p, _)| *p == param)
            .map(|(_, v)| *v)
    }

    /// The setup's environment with `${VAR}` taken from `lookup`; a variable
    /// that is unset leaves the entry out, so the run.yaml default applies.
    pub(crate) fn env(&self, lookup: &dyn Fn(&str) -> Option<String>) -> Vec<(String, String)> {
        self.env
            .iter()
            .filter_map(
                |(k, v)| match v.strip_prefix("${").and_then(|r| r.strip_suffix('}')) {
                    Some(var) => lookup(var).map(|val| ((*k).to_owned(), val)),
                    None => Some(((*k).to_owned(), (*v).to_owned())),
                },
            )
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn has_the_four_setups_the_readme_promises() {
        assert_eq!(names(), "local, ollama, vllm, gpt");
        assert!(find("local").is_some_and(|s| s.local_model));
        assert!(find("nope").is_none());
    }

    #[test]
    fn env_takes_variables_from_the_harness_environment() {
        let gpt = find("gpt").expect("gpt setup");
        let with_key = gpt.env(&|v| (v == "OPENAI_API_KEY").then(|| "sk-test".to_owned()));
        assert!(with_key.contains(&("VLLM_API_TOKEN".to_owned(), "sk-test".to_owned())));
        let without = gpt.env(&|_| None);
        assert!(without.iter().all(|(k, _)| k != "VLLM_API_TOKEN"));
        assert!(without.contains(&(
            "VLLM_URL".to_owned(),
            "https://api.openai.com/v1".to_owned()
        )));
    }
}
