//! The command line: libtest's flags and ours ([`args`]), resolved with the
//! environment, the defaults file and the setups table into one [`Config`].
//!
//! `options` is the table of our options, `resolver` takes one through its
//! layers (flag, variable, `defaults` file), `models` and `setup` the model
//! parameters and named setups, `config` the whole run.

mod args;
mod config;
mod defaults;
mod error;
mod models;
mod options;
mod resolver;
mod setup;

pub(crate) use args::RawArgs;
pub(crate) use config::{Config, Recorder, RunIgnored};
pub(crate) use defaults::Defaults;
