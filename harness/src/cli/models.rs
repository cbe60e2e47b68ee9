//! The model parameters on the command line: one flag, variable and
//! defaults-file key per row of the parameter table (`registry::PARAMS`),
//! generated from it rather than spelt out, and resolved into
//! [`Models`].

use std::collections::BTreeMap;

use clap::{Arg, ArgMatches, Command};

use super::error::ConfigError;
use super::options::{Origin, option};
use super::resolver::Resolver;
use super::setup::Setup;
use crate::registry::{Kind, Models, PARAMS, Param};

/// The model flags as typed, by parameter.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ModelArgs {
    values: BTreeMap<Param, String>,
}

impl ModelArgs {
    /// What the flag for `param` was given, if it was.
    pub(crate) fn get(&self, param: Param) -> Option<&str> {
        self.values.get(&param).map(String::as_str)
    }
}

impl clap::FromArgMatches for ModelArgs {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let values = Param::all()
            .filter_map(|p| Some((p, matches.get_one::<String>(p.id())?.clone())))
            .collect();
        Ok(ModelArgs { values })
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

impl clap::Args for ModelArgs {
    fn augment_args(cmd: Command) -> Command {
        PARAMS.iter().fold(cmd, |cmd, p| {
            cmd.arg(
                Arg::new(p.id)
                    .long(p.flag.trim_start_matches('-'))
                    .value_name(p.value_name)
                    .help(p.help)
                    .help_heading("models"),
            )
        })
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        Self::augment_args(cmd)
    }
}

/// The option (flag, variable, defaults-file key) that sets `param`.
/// Every parameter's value through flag → variable → file → setup.
pub(super) fn resolve(
    args: &ModelArgs,
    r: &Resolver<'_>,
    setup: Option<&'static Setup>,
) -> Result<Models, ConfigError> {
    let mut models = Models::default();
    for param in Param::all() {
        let spec = option(param);
        let resolved = r
            .get(&spec, args.get(param).map(str::to_owned))
            .or_else(|| {
                let s = setup?;
                s.model(param)
                    .map(|v| (v.to_owned(), Origin::Setup(s.name)))
            });
        let Some((value, origin)) = resolved else {
            continue;
        };
        match param.spec().kind {
            Kind::List => models.set_values(param, split_list(&value)),
            Kind::Count => {
                let count = value
                    .trim()
                    .parse::<u32>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| ConfigError::InvalidValue {
                        option: spec.flag,
                        origin,
                        value: value.clone(),
                        expected: "a positive integer",
                    })?;
                models.set_count(param, count);
            }
        }
    }
    Ok(models)
}

/// Splits a comma-separated model list, dropping blanks and repeats (a
/// repeated value would make two trials with the same name).
fn split_list(value: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if !out.iter().any(|o| o == item) {
            out.push(item.to_owned());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::RawArgs;
    use crate::registry::params;

    #[test]
    fn every_parameter_has_its_flag() {
        for p in Param::all() {
            let line = ["integration", &format!("{}=x", p.flag())];
            let args = RawArgs::parse_from(line)
                .unwrap_or_else(|e| panic!("{} is not a flag: {e}", p.flag()));
            assert_eq!(args.models.get(p), Some("x"), "{}", p.flag());
        }
        let args = RawArgs::parse_from(["integration", "--text-model", "a,b"]).expect("parses");
        assert_eq!(args.models.get(params::text_model), Some("a,b"));
        assert_eq!(args.models.get(params::vision_model), None);
    }

    /// The models a run resolves from `argv`, `env` and a defaults file.
    fn resolved(argv: &[&str], env: &[(&str, &str)], file: &str) -> Models {
        let args = RawArgs::parse_from(std::iter::once("integration").chain(argv.iter().copied()))
            .expect("parses");
        let env: BTreeMap<String, String> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let defaults = crate::cli::Defaults::parse(file).expect("a valid defaults file");
        crate::cli::Config::resolve(
            args,
            &|k| env.get(k).cloned(),
            &defaults,
            std::path::Path::new("/repo"),
        )
        .expect("resolves")
        .models
    }

    #[test]
    fn every_parameter_comes_from_its_flag_variable_or_defaults_file_key() {
        for p in Param::all() {
            let flag = format!("{}=7", p.flag());
            let file = format!("{} = \"7\"", option(p).key());
            let ways = [
                resolved(&[&flag], &[], ""),
                resolved(&[], &[(p.spec().env, "7")], ""),
                resolved(&[], &[], &file),
            ];
            for (way, models) in ["flag", "variable", "file"].iter().zip(ways) {
                let got = match p.spec().kind {
                    Kind::List => models.values(p).join(","),
                    Kind::Count => models.count(p).map(|n| n.to_string()).unwrap_or_default(),
                };
                assert_eq!(got, "7", "{} from its {way}", p.id());
            }
        }
        let m = resolved(
            &["--text-model", "a,,b,a", "--embedding-dimension", "3"],
            &[],
            "",
        );
        assert_eq!(m.values(params::text_model), ["a", "b"]);
        assert_eq!(m.count(params::embedding_dimension), Some(3));
        assert!(!m.has(params::vision_model));
    }

    #[test]
    fn the_readme_documents_every_parameter() {
        let readme = include_str!("../../../README.md");
        let writing = readme
            .split_once("## Writing a test")
            .and_then(|(_, rest)| rest.split_once("\n## "))
            .map(|(section, _)| section)
            .expect("a `## Writing a test` section");
        for p in PARAMS {
            assert!(
                writing.contains(&format!("`{}`", p.id)),
                "the README's `Writing a test` does not list `{}` among the attribute's arguments",
                p.id
            );
            let row = readme
                .lines()
                .find(|l| l.starts_with(&format!("| `{} ", p.flag)))
                .unwrap_or_else(|| panic!("the README's options table has no row for {}", p.flag));
            assert!(row.contains(&format!("`{}`", p.env)), "{row}");
        }
    }

    #[test]
    fn help_lists_every_parameter_under_models() {
        use clap::CommandFactory as _;
        let help = RawArgs::command().render_help().to_string();
        let models = help
            .split("models:")
            .nth(1)
            .expect("a models section in --help");
        for p in PARAMS {
            assert!(
                models.contains(&format!("{} <{}>", p.flag, p.value_name)),
                "--help lacks {}:\n{help}",
                p.flag
            );
        }
    }
}
