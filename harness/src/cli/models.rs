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
use crate::registry::{Kind, Models, PARAMS, Param, params, vector_io};

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

/// Every parameter's value through flag → variable → file → setup, and
/// where the vector-io providers came from (for [`select_vector_io`]'s
/// errors).
pub(super) fn resolve(
    args: &ModelArgs,
    r: &Resolver<'_>,
    setup: Option<&'static Setup>,
) -> Result<(Models, Option<Origin>), ConfigError> {
    let mut models = Models::default();
    let mut vector_io_origin = None;
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
        if param == params::vector_io {
            vector_io_origin = Some(origin.clone());
        }
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
    Ok((models, vector_io_origin))
}

/// Checks the vector-io providers given against the table, expands `all`,
/// marks those that cannot run with this stack environment, and adds to it
/// the variables that enable the chosen ones in the run-configs
/// (`${env.ENABLE_MILVUS:+milvus}`). They are environment for the stack
/// like `--env`'s, so they reach the session and its configuration hash
/// (a run that selects milvus never reuses a stack started without it);
/// an entry `--env` gave for the same variable wins.
pub(super) fn select_vector_io(
    models: &mut Models,
    env: &mut Vec<(String, String)>,
    origin: Option<Origin>,
) -> Result<(), ConfigError> {
    let given = models.values(params::vector_io).to_vec();
    if given.is_empty() {
        return Ok(());
    }
    let selection = vector_io::select(&given, env).map_err(|e| ConfigError::VectorIo {
        message: e.to_string(),
        origin: origin.unwrap_or(Origin::Flag(params::vector_io.flag())),
    })?;
    models.set_values(params::vector_io, selection.values);
    for (value, why) in selection.unavailable {
        models.set_unavailable(params::vector_io, value, why);
    }
    for (key, value) in selection.enable {
        if !env.iter().any(|(k, _)| *k == key) {
            env.push((key, value));
        }
    }
    Ok(())
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

    /// The configuration a run resolves from `argv`, `env` and a defaults
    /// file.
    fn config_with(
        argv: &[&str],
        env: &[(&str, &str)],
        file: &str,
    ) -> Result<crate::cli::Config, ConfigError> {
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
    }

    /// The models a run resolves from `argv`, `env` and a defaults file.
    fn resolved(argv: &[&str], env: &[(&str, &str)], file: &str) -> Models {
        config_with(argv, env, file).expect("resolves").models
    }

    /// The configuration a run resolves from `argv` and `env`, no defaults
    /// file.
    fn config(argv: &[&str], env: &[(&str, &str)]) -> Result<crate::cli::Config, ConfigError> {
        config_with(argv, env, "")
    }

    #[test]
    fn every_parameter_comes_from_its_flag_variable_or_defaults_file_key() {
        for p in Param::all() {
            // A value each parameter accepts: vector-io providers are checked.
            let value = if p == params::vector_io {
                "milvus"
            } else {
                "7"
            };
            let flag = format!("{}={value}", p.flag());
            let file = format!("{} = \"{value}\"", option(p).key());
            let ways = [
                resolved(&[&flag], &[], ""),
                resolved(&[], &[(p.spec().env, value)], ""),
                resolved(&[], &[], &file),
            ];
            for (way, models) in ["flag", "variable", "file"].iter().zip(ways) {
                let got = match p.spec().kind {
                    Kind::List => models.values(p).join(","),
                    Kind::Count => models.count(p).map(|n| n.to_string()).unwrap_or_default(),
                };
                assert_eq!(got, value, "{} from its {way}", p.id());
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
    fn the_chosen_vector_io_providers_are_enabled_in_the_stacks_environment() {
        let c = config(
            &["--vector-io-provider", "all", "--env", "ENABLE_QDRANT=yes"],
            &[],
        )
        .expect("resolves");
        // Which providers `all` names is the table's test; here, that the
        // run gets them.
        let here: Vec<&str> = vector_io::PROVIDERS
            .iter()
            .filter(|p| p.unavailable(&[]).is_none())
            .map(|p| p.name)
            .collect();
        assert_eq!(c.models.values(params::vector_io), here);
        let env: Vec<(&str, &str)> = c
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            env,
            [
                ("ENABLE_QDRANT", "yes"),
                ("ENABLE_SQLITE_VEC", "1"),
                ("ENABLE_MILVUS", "1"),
                ("ENABLE_CHROMADB", "1"),
                ("ENABLE_PGVECTOR", "1"),
            ],
            "--env's own value wins"
        );
        let c = config(&[], &[("LLAMA_STACK_TEST_VECTOR_IO_PROVIDER", "faiss")]).expect("resolves");
        assert!(c.env.is_empty(), "faiss is always on: {:?}", c.env);
    }

    #[test]
    fn an_unavailable_provider_is_marked_and_an_unknown_one_is_an_error() {
        let c = config(&["--vector-io-provider", "faiss,elasticsearch"], &[]).expect("resolves");
        assert_eq!(
            c.models.unavailable(params::vector_io, "elasticsearch"),
            Some(
                "remote::elasticsearch needs an Elasticsearch server, which cannot be installed here; point at one with --env ELASTICSEARCH_URL=http://localhost:9200"
            )
        );
        assert_eq!(c.models.unavailable(params::vector_io, "faiss"), None);
        let c = config(
            &[
                "--vector-io-provider",
                "elasticsearch",
                "--env",
                "ELASTICSEARCH_URL=http://es:9200",
            ],
            &[],
        )
        .expect("resolves");
        assert_eq!(
            c.models.unavailable(params::vector_io, "elasticsearch"),
            None
        );
        let err = config(
            &[],
            &[("LLAMA_STACK_TEST_VECTOR_IO_PROVIDER", "milvus,mongo")],
        )
        .expect_err("unknown");
        assert_eq!(
            err.to_string(),
            "unknown vector-io provider `mongo`; known: faiss, sqlite-vec, milvus, qdrant, chromadb, pgvector, weaviate, elasticsearch, infinispan, or `all` (from LLAMA_STACK_TEST_VECTOR_IO_PROVIDER)"
        );
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
