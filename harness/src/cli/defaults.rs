//! `stack-harness.toml`, the project defaults file: the lowest layer of an
//! option's value, under its flag and its environment variable. Its keys are
//! the flags' names; an unknown key is an error naming the known ones.

use std::collections::BTreeMap;
use std::path::Path;

use super::error::ConfigError;
use super::options::{DEFAULTS_FILE, every_option};

/// The defaults file, parsed: key → value as text (lists for `env`).
#[derive(Debug, Default)]
pub(crate) struct Defaults {
    values: BTreeMap<String, Vec<String>>,
}

impl Defaults {
    /// Reads `stack-harness.toml` from the project root; a missing file is
    /// an empty one.
    pub(crate) fn load(project_root: &Path) -> Result<Defaults, ConfigError> {
        let path = project_root.join(DEFAULTS_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => Defaults::parse(&text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Defaults::default()),
            Err(e) => Err(ConfigError::DefaultsFile {
                path: DEFAULTS_FILE.into(),
                message: e.to_string(),
            }),
        }
    }

    pub(crate) fn parse(text: &str) -> Result<Defaults, ConfigError> {
        let table: toml::Table =
            text.parse()
                .map_err(|e: toml::de::Error| ConfigError::DefaultsFile {
                    path: DEFAULTS_FILE.into(),
                    message: e.to_string().trim_end().to_owned(),
                })?;
        let mut values = BTreeMap::new();
        for (key, value) in table {
            check_key(&key, DEFAULTS_FILE)?;
            let texts = match value {
                toml::Value::Array(items) => items.iter().map(scalar).collect::<Option<Vec<_>>>(),
                other => scalar(&other).map(|s| vec![s]),
            };
            let texts = texts.ok_or_else(|| ConfigError::DefaultsFile {
                path: DEFAULTS_FILE.into(),
                message: format!("`{key}` must be a string, number, boolean or a list of them"),
            })?;
            values.insert(key, texts);
        }
        Ok(Defaults { values })
    }

    /// A test binary's own defaults (`harness::main_with`), over the file's.
    pub(crate) fn overlay(&mut self, pairs: &[(&str, &str)]) -> Result<(), ConfigError> {
        for (key, value) in pairs {
            check_key(key, "the test binary's defaults (harness::main_with)")?;
            self.values
                .insert((*key).to_owned(), vec![(*value).to_owned()]);
        }
        Ok(())
    }

    /// The values given for `key`.
    pub(super) fn get(&self, key: &str) -> Option<&[String]> {
        self.values.get(key).map(Vec::as_slice)
    }
}

/// A key must be an option's: an unknown one is an error naming the known ones.
fn check_key(key: &str, source: &str) -> Result<(), ConfigError> {
    if every_option().any(|o| o.key() == key) {
        return Ok(());
    }
    let known = every_option()
        .map(|o| o.key())
        .collect::<Vec<_>>()
        .join(", ");
    Err(ConfigError::DefaultsKey {
        path: source.into(),
        key: key.to_owned(),
        known,
    })
}

fn scalar(value: &toml::Value) -> Option<String> {
    match value {
        toml::Value::String(s) => Some(s.clone()),
        toml::Value::Integer(i) => Some(i.to_string()),
        toml::Value::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}
