//! What can be wrong with a run's options: each error names the option,
//! the bad value and the layer it came from (flag, variable, defaults file,
//! setup), so the user knows what to change where.

use super::options::Origin;
use crate::select::KeywordError;

#[derive(Debug, thiserror::Error, PartialEq)]
pub(crate) enum ConfigError {
    #[error("invalid value `{value}` for {option} (from {origin}): expected {expected}")]
    InvalidValue {
        option: &'static str,
        origin: Origin,
        value: String,
        expected: &'static str,
    },
    #[error("unknown setup `{name}` (from {origin}); known setups: {known}")]
    UnknownSetup {
        name: String,
        origin: Origin,
        known: String,
    },
    #[error("{message} (from {origin})")]
    Suite { message: String, origin: Origin },
    #[error("{message} (from {origin})")]
    Mode { message: String, origin: Origin },
    #[error("{message} (from {origin})")]
    VectorIo { message: String, origin: Origin },
    #[error(
        "invalid --env `{entry}` (from {origin}): expected KEY=VALUE with KEY made of letters, digits and `_`"
    )]
    BadEnv { entry: String, origin: Origin },
    #[error("{0}")]
    Keyword(#[from] KeywordError),
    #[error("cannot read {path}: {message}")]
    DefaultsFile { path: String, message: String },
    #[error("{path}: unknown key `{key}`; known keys: {known}")]
    DefaultsKey {
        path: String,
        key: String,
        known: String,
    },
}
