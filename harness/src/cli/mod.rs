//! The command line: libtest's flags and ours ([`args`]), resolved with the
//! environment, the defaults file and the setups table into one [`Config`].

mod args;
mod config;
mod models;
mod setup;

pub(crate) use args::RawArgs;
pub(crate) use config::{Config, Defaults, Recorder, RunIgnored};
