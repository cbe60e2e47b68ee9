//! What every `recordings` command shares: its error (a recordings
//! problem, or output that could not be written) and how it names things.

use std::path::Path;

use crate::record::error::RecordError;

/// Why a command stopped: a recordings problem, or output it could not write.
pub(super) enum ToolError {
    Record(RecordError),
    Output(std::io::Error),
}

impl From<RecordError> for ToolError {
    fn from(e: RecordError) -> Self {
        ToolError::Record(e)
    }
}

impl From<std::io::Error> for ToolError {
    fn from(e: std::io::Error) -> Self {
        ToolError::Output(e)
    }
}

/// `vllm/0123456789abcdef` for `<dir>/vllm/0123456789abcdef.json`.
pub(super) fn short_name(file: &Path) -> String {
    let provider = file
        .parent()
        .and_then(Path::file_name)
        .map(|n| n.to_string_lossy());
    let stem = file.file_stem().map(|n| n.to_string_lossy());
    format!(
        "{}/{}",
        provider.unwrap_or_default(),
        stem.unwrap_or_default()
    )
}

pub(super) fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}
