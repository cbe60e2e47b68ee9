//! One option's value through its layers, flag → variable → defaults file,
//! with its [`Origin`], and the parsers of the value kinds options share
//! (seconds, booleans, `KEY=VALUE`), whose errors name the option and the
//! layer the bad value came from.

use std::time::Duration;

use super::defaults::Defaults;
use super::error::ConfigError;
use super::options::{OptionSpec, Origin};

/// Resolves one option through flag → variable → file.
pub(super) struct Resolver<'a> {
    pub(super) env: &'a dyn Fn(&str) -> Option<String>,
    pub(super) defaults: &'a Defaults,
}

impl Resolver<'_> {
    pub(super) fn get(&self, spec: &OptionSpec, flag: Option<String>) -> Option<(String, Origin)> {
        if let Some(v) = flag {
            return Some((v, Origin::Flag(spec.flag)));
        }
        if let Some(v) = (self.env)(spec.env).filter(|v| !v.is_empty()) {
            return Some((v, Origin::Env(spec.env)));
        }
        self.defaults
            .get(spec.key())
            .and_then(|v| v.first().cloned())
            .map(|v| (v, Origin::File(spec.key())))
    }

    pub(super) fn list(&self, spec: &OptionSpec, flags: &[String]) -> Vec<(String, Origin)> {
        if !flags.is_empty() {
            return flags
                .iter()
                .map(|v| (v.clone(), Origin::Flag(spec.flag)))
                .collect();
        }
        if let Some(v) = (self.env)(spec.env).filter(|v| !v.is_empty()) {
            return v
                .split(',')
                .map(|s| (s.trim().to_owned(), Origin::Env(spec.env)))
                .collect();
        }
        self.defaults
            .get(spec.key())
            .map(|vs| {
                vs.iter()
                    .map(|v| (v.clone(), Origin::File(spec.key())))
                    .collect()
            })
            .unwrap_or_default()
    }
}

pub(super) fn parse_secs(
    spec: &OptionSpec,
    value: &str,
    origin: Origin,
) -> Result<Duration, ConfigError> {
    match value.trim().parse::<u64>() {
        Ok(secs) if secs > 0 => Ok(Duration::from_secs(secs)),
        _ => Err(ConfigError::InvalidValue {
            option: spec.flag,
            origin,
            value: value.to_owned(),
            expected: "a whole number of seconds, at least 1",
        }),
    }
}

/// More stacks than this would only fight over the cores.
const MAX_REPLICAS: usize = 8;

/// A number of stack replicas, 1 to [`MAX_REPLICAS`].
pub(super) fn parse_replicas(
    spec: &OptionSpec,
    value: &str,
    origin: Origin,
) -> Result<usize, ConfigError> {
    match value.trim().parse::<usize>() {
        Ok(n) if (1..=MAX_REPLICAS).contains(&n) => Ok(n),
        _ => Err(ConfigError::InvalidValue {
            option: spec.flag,
            origin,
            value: value.to_owned(),
            expected: "a whole number from 1 to 8",
        }),
    }
}

pub(super) fn parse_bool(
    spec: &OptionSpec,
    value: &str,
    origin: Origin,
) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" | "" => Ok(false),
        _ => Err(ConfigError::InvalidValue {
            option: spec.flag,
            origin,
            value: value.to_owned(),
            expected: "true or false",
        }),
    }
}

pub(super) fn parse_env_entry(
    entry: &str,
    origin: Origin,
) -> Result<(String, String), ConfigError> {
    let bad = || ConfigError::BadEnv {
        entry: entry.to_owned(),
        origin: origin.clone(),
    };
    let (key, value) = entry.split_once('=').ok_or_else(bad)?;
    let valid_key = key
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid_key {
        return Err(bad());
    }
    Ok((key.to_owned(), value.to_owned()))
}
