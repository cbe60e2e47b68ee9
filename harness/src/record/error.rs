//! `RecordError`: everything that can go wrong in recording, replay and the
//! recordings tool, each message naming the bad value and the fix.

use std::path::PathBuf;

/// An error of the record/replay layer. Messages are shown to users as is.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RecordError {
    #[error(
        "unknown inference mode `{value}`; expected one of: replay, record, record-if-missing, live"
    )]
    UnknownMode { value: String },

    #[error("cannot read the normalisation rules `{}`: {source}", file.display())]
    RulesRead {
        file: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("invalid normalisation rules file `{}`: {problem}", file.display())]
    RulesFile { file: PathBuf, problem: String },

    #[error("invalid normalisation rule `{section}[{index}]` in `{}`: {problem}", file.display())]
    Rule {
        file: PathBuf,
        /// `rules` or `response_rules`.
        section: &'static str,
        /// Zero-based, as it appears in the YAML list.
        index: usize,
        problem: String,
    },

    #[error("{action} `{}`: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "corrupt recording `{}`: {problem}; delete it and re-record with --inference-mode=record-if-missing",
        file.display()
    )]
    CorruptRecording { file: PathBuf, problem: String },

    #[error("cannot listen on `{addr}`: {source}; pick another port or 0 for any free one")]
    Bind {
        addr: String,
        #[source]
        source: std::io::Error,
    },

    #[error("the recording proxy at `{base}` failed on `{endpoint}`: {problem}")]
    Control {
        base: String,
        endpoint: String,
        problem: String,
    },

    #[error(
        "no usage manifest at `{}`; run the whole suite in replay mode first (`cargo test --test integration`) so prune knows which recordings are used",
        path.display()
    )]
    NoManifest { path: PathBuf },

    #[error("{0}")]
    Tool(String),
}

impl RecordError {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        RecordError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}
