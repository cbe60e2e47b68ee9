//! Reading a spec: a file, or what a stack serves at `/openapi.json`.

use std::path::{Path, PathBuf};

use oas3::Spec;
use serde_json::Value;

/// Where the committed baseline lives, relative to the project root.
pub const BASELINE: &str = "api/openapi-v1.json";

/// What the baseline says about where it came from (a top-level extension,
/// which OpenAPI allows).
pub(crate) const SOURCE_KEY: &str = "x-stack-harness";

#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("cannot read `{}`: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{what} is not an OpenAPI 3.1 spec: {why}")]
    Parse { what: String, why: String },
    #[error("cannot get {url}: {why}")]
    Fetch { url: String, why: String },
}

/// A parsed spec with the name messages give it.
#[derive(Debug)]
pub struct ApiSpec {
    pub name: String,
    pub spec: Spec,
}

impl ApiSpec {
    /// Parses `text`; `name` says where it came from.
    pub fn parse(name: &str, text: &str) -> Result<ApiSpec, SpecError> {
        let spec: Spec = oas3::from_json(text).map_err(|e| SpecError::Parse {
            what: format!("`{name}`"),
            why: e.to_string(),
        })?;
        if !spec.openapi.starts_with("3.1") {
            return Err(SpecError::Parse {
                what: format!("`{name}`"),
                why: format!(
                    "its `openapi` is `{}`; the rules read 3.1 only",
                    spec.openapi
                ),
            });
        }
        Ok(ApiSpec {
            name: name.to_owned(),
            spec,
        })
    }

    pub fn read(path: &Path) -> Result<ApiSpec, SpecError> {
        let text = std::fs::read_to_string(path).map_err(|source| SpecError::Read {
            path: path.to_owned(),
            source,
        })?;
        ApiSpec::parse(&path.display().to_string(), &text)
    }

    /// What the baseline says it was made from (`llama-stack 0.7.3 on run-configs/ci-tests/run.yaml`).
    pub fn source(&self) -> Option<String> {
        let value = self
            .spec
            .extensions
            .get(SOURCE_KEY.trim_start_matches("x-"))?;
        value.as_str().map(str::to_owned)
    }
}

/// The served spec as the baseline file holds it: pretty, with where it
/// came from, and a final newline.
pub(crate) fn baseline_text(mut served: Value, source: &str) -> String {
    if let Some(doc) = served.as_object_mut() {
        doc.insert(SOURCE_KEY.to_owned(), Value::String(source.to_owned()));
    }
    let mut text = serde_json::to_string_pretty(&served).unwrap_or_default();
    text.push('\n');
    text
}

/// `GET <url>` as JSON, blocking; for the command, outside any runtime.
pub(crate) fn fetch_json(url: &str) -> Result<Value, SpecError> {
    let failed = |why: String| SpecError::Fetch {
        url: url.to_owned(),
        why,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| failed(e.to_string()))?;
    runtime.block_on(async {
        let response = reqwest::get(url).await.map_err(|e| failed(e.to_string()))?;
        let status = response.status();
        if !status.is_success() {
            return Err(failed(format!("it answered {status}")));
        }
        response.json().await.map_err(|e| failed(e.to_string()))
    })
}
