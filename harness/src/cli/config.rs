//! The resolved configuration of one run: every option of ours from its flag,
//! else its environment variable, else `stack-harness.toml`, else the chosen
//! `--setup`, else the built-in default. IDEs and cargo-nextest never pass our
//! flags, so the variables and the file are how they reach a run.
//!
//! The table of options is `options`, the layers `resolver` and `defaults`;
//! here each group of options becomes typed values: what runs
//! ([`Selection`]), how it is reported ([`Reporting`]) and the session.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::args::{ColorArg, FormatArg, RawArgs};
use super::defaults::Defaults;
use super::models;
use super::options::{Origin, opt};
use super::resolver::{Resolver, parse_bool, parse_env_entry, parse_replicas, parse_secs};
use super::setup::{self, Setup};
use crate::record::InferenceMode;
use crate::registry::Models;
use crate::report::{ColorChoice, Format};
use crate::select::{KeywordExpr, Suite};

pub(crate) use super::error::ConfigError;
use crate::stack::launcher::LauncherKind;

/// How ignored tests are treated (`--ignored`, `--include-ignored`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RunIgnored {
    No,
    Only,
    Also,
}

/// Who records the model traffic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Recorder {
    /// The harness's proxy: works for a stack in any language, one format.
    Proxy,
    /// The stack's own recorder (`LLAMA_STACK_TEST_INFERENCE_MODE` passed on).
    Stack,
}

/// The resolved run.
#[derive(Debug)]
pub(crate) struct Config {
    pub project_root: PathBuf,
    // selection
    pub filters: Vec<String>,
    pub exact: bool,
    pub skip: Vec<String>,
    pub run_ignored: RunIgnored,
    pub keyword: Option<KeywordExpr>,
    pub suite: Option<Suite>,
    // running and reporting
    pub list: bool,
    pub format: Format,
    pub color: ColorChoice,
    pub nocapture: bool,
    pub show_output: bool,
    pub test_threads: usize,
    pub test_timeout: Duration,
    pub junit: Option<PathBuf>,
    // the session
    pub models: Models,
    pub setup: Option<&'static Setup>,
    pub stack_config: String,
    pub env: Vec<(String, String)>,
    pub keep_server: bool,
    pub launcher: LauncherKind,
    pub health_timeout: Duration,
    /// How many stack servers the tests are spread over.
    pub stack_replicas: usize,
    pub inference_mode: InferenceMode,
    pub record_dir: PathBuf,
    pub recorder: Recorder,
}

/// What to collect and run: `--suite` and `-k`.
struct Selection {
    suite: Option<Suite>,
    keyword: Option<KeywordExpr>,
}

/// How the run is reported and paced.
struct Reporting {
    format: Format,
    color: ColorChoice,
    run_ignored: RunIgnored,
    test_threads: usize,
    test_timeout: Duration,
    junit: Option<PathBuf>,
}

/// The stack and its session.
struct SessionOptions {
    stack_config: String,
    env: Vec<(String, String)>,
    keep_server: bool,
    launcher: LauncherKind,
    health_timeout: Duration,
    stack_replicas: usize,
    inference_mode: InferenceMode,
    record_dir: PathBuf,
    recorder: Recorder,
}

impl Config {
    /// Resolves `args` against the environment (`env`) and the defaults file.
    pub(crate) fn resolve(
        args: RawArgs,
        env: &dyn Fn(&str) -> Option<String>,
        defaults: &Defaults,
        project_root: &Path,
    ) -> Result<Config, ConfigError> {
        let r = Resolver { env, defaults };
        let setup = resolve_setup(&args, &r)?;
        let (mut models, vector_io_origin) = models::resolve(&args.models, &r, setup)?;
        let selection = resolve_selection(&args, &r)?;
        let mut session = resolve_session(&args, &r, setup, project_root)?;
        models::select_vector_io(&mut models, &mut session.env, vector_io_origin)?;
        let reporting = resolve_reporting(&args, &r, session.inference_mode)?;
        Ok(Config {
            project_root: project_root.to_owned(),
            filters: args.filters,
            exact: args.exact,
            skip: args.skip,
            run_ignored: reporting.run_ignored,
            keyword: selection.keyword,
            suite: selection.suite,
            list: args.list,
            format: reporting.format,
            color: reporting.color,
            nocapture: args.nocapture,
            show_output: args.show_output,
            test_threads: reporting.test_threads,
            test_timeout: reporting.test_timeout,
            junit: reporting.junit,
            models,
            setup,
            stack_config: session.stack_config,
            env: session.env,
            keep_server: session.keep_server,
            launcher: session.launcher,
            health_timeout: session.health_timeout,
            stack_replicas: session.stack_replicas,
            inference_mode: session.inference_mode,
            record_dir: session.record_dir,
            recorder: session.recorder,
        })
    }
}

fn resolve_setup(args: &RawArgs, r: &Resolver<'_>) -> Result<Option<&'static Setup>, ConfigError> {
    let Some((name, origin)) = r.get(&opt::SETUP, args.setup.clone()) else {
        return Ok(None);
    };
    setup::find(&name)
        .map(Some)
        .ok_or_else(|| ConfigError::UnknownSetup {
            name,
            origin,
            known: setup::names(),
        })
}

fn resolve_selection(args: &RawArgs, r: &Resolver<'_>) -> Result<Selection, ConfigError> {
    let suite = match r.get(&opt::SUITE, args.suite.clone()) {
        None => None,
        Some((name, origin)) => Some(Suite::from_name(&name).map_err(|e| ConfigError::Suite {
            message: e.to_string(),
            origin,
        })?),
    };
    let keyword = match r.get(&opt::KEYWORD, args.keyword.clone()) {
        Some((expr, _)) if !expr.trim().is_empty() => Some(KeywordExpr::parse(&expr)?),
        _ => None,
    };
    Ok(Selection { suite, keyword })
}

fn resolve_session(
    args: &RawArgs,
    r: &Resolver<'_>,
    setup: Option<&'static Setup>,
    project_root: &Path,
) -> Result<SessionOptions, ConfigError> {
    let inference_mode = match r.get(&opt::INFERENCE_MODE, args.inference_mode.clone()) {
        None => InferenceMode::Replay,
        Some((v, origin)) => v.parse::<InferenceMode>().map_err(|e| ConfigError::Mode {
            message: e.to_string(),
            origin,
        })?,
    };
    let recorder = match r.get(&opt::RECORDER, args.recorder.clone()) {
        None => Recorder::Proxy,
        Some((v, _)) if v == "proxy" => Recorder::Proxy,
        Some((v, _)) if v == "stack" => Recorder::Stack,
        Some((value, origin)) => {
            return Err(ConfigError::InvalidValue {
                option: opt::RECORDER.flag,
                origin,
                value,
                expected: "`proxy` or `stack`",
            });
        }
    };
    let record_dir = r
        .get(
            &opt::RECORD_DIR,
            args.record_dir.as_ref().map(|p| p.display().to_string()),
        )
        .map_or_else(
            || project_root.join("recordings"),
            |(v, _)| project_root.join(v),
        );

    // The setup's environment comes first so that --env and friends win.
    let mut env = setup.map(|s| s.env(r.env)).unwrap_or_default();
    for (entry, origin) in r.list(&opt::ENV, &args.env) {
        let (key, value) = parse_env_entry(&entry, origin)?;
        env.retain(|(k, _)| *k != key);
        env.push((key, value));
    }

    let health_timeout = match r.get(&opt::HEALTH_TIMEOUT, args.health_timeout.clone()) {
        None => Duration::from_secs(180),
        Some((v, origin)) => parse_secs(&opt::HEALTH_TIMEOUT, &v, origin)?,
    };
    let stack_replicas = match r.get(&opt::STACK_REPLICAS, args.stack_replicas.clone()) {
        None => 1,
        Some((v, origin)) => parse_replicas(&opt::STACK_REPLICAS, &v, origin)?,
    };
    let keep_server = match r.get(
        &opt::KEEP_SERVER,
        args.keep_server.then(|| "true".to_owned()),
    ) {
        None => false,
        Some((v, origin)) => parse_bool(&opt::KEEP_SERVER, &v, origin)?,
    };
    let launcher = match r.get(&opt::LAUNCHER, args.launcher.clone()) {
        None => LauncherKind::default(),
        Some((v, origin)) => LauncherKind::parse(&v).map_err(|_| ConfigError::InvalidValue {
            option: opt::LAUNCHER.flag,
            origin,
            value: v,
            expected: "`llama-stack` or `ogx`",
        })?,
    };
    let stack_config = r
        .get(&opt::STACK_CONFIG, args.stack_config.clone())
        .map_or_else(|| "server:ci-tests".to_owned(), |(v, _)| v);
    Ok(SessionOptions {
        stack_config,
        env,
        keep_server,
        launcher,
        health_timeout,
        stack_replicas,
        inference_mode,
        record_dir,
        recorder,
    })
}

fn resolve_reporting(
    args: &RawArgs,
    r: &Resolver<'_>,
    inference_mode: InferenceMode,
) -> Result<Reporting, ConfigError> {
    let bad_threads = |origin: Origin, value: String| ConfigError::InvalidValue {
        option: "--test-threads",
        origin,
        value,
        expected: "a number of threads, at least 1",
    };
    let test_threads = match args.test_threads {
        Some(0) => return Err(bad_threads(Origin::Flag("--test-threads"), "0".into())),
        Some(n) => n,
        None => match (r.env)("RUST_TEST_THREADS") {
            Some(v) => v
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| bad_threads(Origin::Env("RUST_TEST_THREADS"), v.clone()))?,
            // Recording runs one test at a time, so every exchange is
            // attributed to exactly the test that made it (`used_by`).
            None if inference_mode.uses_network() => 1,
            None => std::thread::available_parallelism().map_or(1, |n| n.get()),
        },
    };
    let test_timeout = match r.get(&opt::TEST_TIMEOUT, args.test_timeout.clone()) {
        None => Duration::from_secs(300),
        Some((v, origin)) => parse_secs(&opt::TEST_TIMEOUT, &v, origin)?,
    };
    let junit = r
        .get(
            &opt::JUNIT,
            args.junit.as_ref().map(|p| p.display().to_string()),
        )
        .map(|(v, _)| PathBuf::from(v));
    let format = match (args.format, args.quiet) {
        (Some(FormatArg::Json), _) => Format::Json,
        (Some(FormatArg::Terse), _) | (None, true) => Format::Terse,
        (Some(FormatArg::Pretty), _) | (None, false) => Format::Pretty,
    };
    let color = match args.color {
        Some(ColorArg::Always) => ColorChoice::Always,
        Some(ColorArg::Never) => ColorChoice::Never,
        Some(ColorArg::Auto) | None => ColorChoice::Auto,
    };
    let run_ignored = match (args.ignored, args.include_ignored) {
        (_, true) => RunIgnored::Also,
        (true, false) => RunIgnored::Only,
        (false, false) => RunIgnored::No,
    };
    Ok(Reporting {
        format,
        color,
        run_ignored,
        test_threads,
        test_timeout,
        junit,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::cli::options::DEFAULTS_FILE;
    use crate::cli::options::every_option;
    use crate::registry::params;

    fn resolve(line: &str, env: &[(&str, &str)], file: &str) -> Result<Config, ConfigError> {
        let args =
            RawArgs::parse_from(std::iter::once("integration").chain(line.split_whitespace()))
                .expect("test command lines parse");
        let env: BTreeMap<String, String> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let defaults = Defaults::parse(file)?;
        Config::resolve(
            args,
            &|k| env.get(k).cloned(),
            &defaults,
            Path::new("/repo"),
        )
    }

    fn ok(line: &str, env: &[(&str, &str)], file: &str) -> Config {
        resolve(line, env, file).unwrap_or_else(|e| panic!("`{line}` should resolve: {e}"))
    }

    fn err(line: &str, env: &[(&str, &str)], file: &str) -> String {
        match resolve(line, env, file) {
            Ok(_) => panic!("`{line}` should fail"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn flag_beats_variable_beats_file() {
        let file = "stack-config = \"server:from-file\"\ntext-model = \"file-model\"";
        let env = [
            ("LLAMA_STACK_CONFIG", "server:from-env"),
            ("LLAMA_STACK_TEST_TEXT_MODEL", "env-model"),
        ];
        assert_eq!(ok("", &[], file).stack_config, "server:from-file");
        assert_eq!(ok("", &env, file).stack_config, "server:from-env");
        assert_eq!(
            ok("--stack-config=server:flag", &env, file).stack_config,
            "server:flag"
        );
        assert_eq!(
            ok("", &env, file).models.values(params::text_model),
            ["env-model"]
        );
        assert_eq!(
            ok("--text-model a,b", &env, file)
                .models
                .values(params::text_model),
            ["a", "b"]
        );
        assert_eq!(ok("", &[], "").stack_config, "server:ci-tests");
    }

    #[test]
    fn setup_prefills_and_explicit_values_win() {
        let c = ok("--setup local", &[], "");
        assert_eq!(c.models.values(params::text_model), ["vllm/smollm2-135m"]);
        assert_eq!(c.models.count(params::embedding_dimension), Some(576));
        let c = ok("--setup local --text-model mine", &[], "");
        assert_eq!(c.models.values(params::text_model), ["mine"]);
        let c = ok(
            "",
            &[("LLAMA_STACK_TEST_EMBEDDING_DIMENSION", "384")],
            "setup = \"local\"",
        );
        assert_eq!(c.models.count(params::embedding_dimension), Some(384));
        let c = ok("--setup ollama --env VLLM_URL=http://elsewhere/v1", &[], "");
        assert!(
            c.env
                .contains(&("VLLM_URL".into(), "http://elsewhere/v1".into()))
        );
        assert_eq!(c.env.iter().filter(|(k, _)| k == "VLLM_URL").count(), 1);
    }

    #[test]
    fn model_lists_are_split_trimmed_and_deduplicated() {
        let c = ok("--text-model a,,b,a", &[], "");
        assert_eq!(c.models.values(params::text_model), ["a", "b"]);
        assert!(c.models.values(params::vision_model).is_empty());
    }

    #[test]
    fn env_entries_come_from_flags_or_the_variable() {
        let c = ok("--env A=1 --env B=x=y", &[], "");
        assert_eq!(
            c.env,
            [
                ("A".to_owned(), "1".to_owned()),
                ("B".to_owned(), "x=y".to_owned())
            ]
        );
        let c = ok("", &[("LLAMA_STACK_TEST_ENV", "A=1,B=2")], "");
        assert_eq!(c.env.len(), 2);
        let c = ok("", &[], "env = [\"C=3\"]");
        assert_eq!(c.env, [("C".to_owned(), "3".to_owned())]);
    }

    #[test]
    fn every_bad_value_gets_the_message_a_user_sees() {
        assert_eq!(
            err("--stack-replicas 0", &[], ""),
            "invalid value `0` for --stack-replicas (from --stack-replicas): expected a whole number from 1 to 8"
        );
        assert_eq!(
            err("", &[("LLAMA_STACK_TEST_STACK_REPLICAS", "nine")], ""),
            "invalid value `nine` for --stack-replicas (from LLAMA_STACK_TEST_STACK_REPLICAS): expected a whole number from 1 to 8"
        );
        assert_eq!(ok("", &[], "stack-replicas = 2").stack_replicas, 2);
        assert_eq!(ok("", &[], "").stack_replicas, 1);
        assert_eq!(
            err("--env FOO", &[], ""),
            "invalid --env `FOO` (from --env): expected KEY=VALUE with KEY made of letters, digits and `_`"
        );
        assert_eq!(
            err("", &[("LLAMA_STACK_TEST_ENV", "1X=2")], ""),
            "invalid --env `1X=2` (from LLAMA_STACK_TEST_ENV): expected KEY=VALUE with KEY made of letters, digits and `_`"
        );
        assert_eq!(
            err("--setup cloud", &[], ""),
            "unknown setup `cloud` (from --setup); known setups: local, ollama, vllm, gpt"
        );
        assert_eq!(
            err("", &[], "setup = \"cloud\""),
            "unknown setup `cloud` (from `setup` in stack-harness.toml); known setups: local, ollama, vllm, gpt"
        );
        assert_eq!(
            err("--test-timeout soon", &[], ""),
            "invalid value `soon` for --test-timeout (from --test-timeout): expected a whole number of seconds, at least 1"
        );
        assert_eq!(
            err("", &[("LLAMA_STACK_TEST_TIMEOUT", "0")], ""),
            "invalid value `0` for --test-timeout (from LLAMA_STACK_TEST_TIMEOUT): expected a whole number of seconds, at least 1"
        );
        assert_eq!(
            err("--embedding-dimension=-3", &[], ""),
            "invalid value `-3` for --embedding-dimension (from --embedding-dimension): expected a positive integer"
        );
        assert_eq!(
            err("--launcher docker", &[], ""),
            "invalid value `docker` for --launcher (from --launcher): expected `llama-stack` or `ogx`"
        );
        assert_eq!(
            err("--recorder tape", &[], ""),
            "invalid value `tape` for --recorder (from --recorder): expected `proxy` or `stack`"
        );
        assert_eq!(
            err("", &[("LLAMA_STACK_TEST_KEEP_SERVER", "maybe")], ""),
            "invalid value `maybe` for --keep-server (from LLAMA_STACK_TEST_KEEP_SERVER): expected true or false"
        );
        assert_eq!(
            err("--test-threads 0", &[], ""),
            "invalid value `0` for --test-threads (from --test-threads): expected a number of threads, at least 1"
        );
    }

    #[test]
    fn mode_suite_and_keyword_errors_name_their_origin() {
        let e = err("", &[("LLAMA_STACK_TEST_INFERENCE_MODE", "tape")], "");
        assert!(e.starts_with("unknown inference mode `tape`"), "{e}");
        assert!(e.ends_with("(from LLAMA_STACK_TEST_INFERENCE_MODE)"), "{e}");
        let e = err("--suite everything", &[], "");
        assert!(e.starts_with("unknown suite `everything`"), "{e}");
        assert!(e.ends_with("(from --suite)"), "{e}");
        assert!(err("-k (chat", &[], "").contains('^'));
    }

    #[test]
    fn the_defaults_file_is_checked() {
        assert_eq!(
            err("", &[], "stack_config = \"x\"")
                .split("; known keys")
                .next(),
            Some("stack-harness.toml: unknown key `stack_config`")
        );
        assert!(err("", &[], "setup = ").starts_with("cannot read stack-harness.toml: "));
        assert_eq!(
            err("", &[], "setup = { a = 1 }"),
            "cannot read stack-harness.toml: `setup` must be a string, number, boolean or a list of them"
        );
    }

    #[test]
    fn the_readme_documents_every_option_with_its_variable() {
        let readme = include_str!("../../../README.md");
        for o in every_option() {
            let row = readme
                .lines()
                .find(|l| l.starts_with(&format!("| `{}", o.flag)))
                .unwrap_or_else(|| panic!("README has no table row for {}", o.flag));
            assert!(
                row.contains(&format!("`{}`", o.env)),
                "README's row for {} lacks {}",
                o.flag,
                o.env
            );
        }
        assert!(readme.contains(DEFAULTS_FILE));
    }

    #[test]
    fn libtest_flags_map_to_run_options() {
        let c = ok("-q", &[], "");
        assert_eq!(c.format, Format::Terse);
        let c = ok("--format json -Z unstable-options", &[], "");
        assert_eq!(c.format, Format::Json);
        assert_eq!(ok("--ignored", &[], "").run_ignored, RunIgnored::Only);
        assert_eq!(
            ok("--ignored --include-ignored", &[], "").run_ignored,
            RunIgnored::Also
        );
        assert_eq!(ok("", &[("RUST_TEST_THREADS", "3")], "").test_threads, 3);
        assert_eq!(
            ok("--test-threads 2", &[("RUST_TEST_THREADS", "3")], "").test_threads,
            2
        );
        assert_eq!(ok("", &[], "").test_timeout, Duration::from_secs(300));
        assert_eq!(
            ok("--record-dir rec2", &[], "").record_dir,
            Path::new("/repo/rec2")
        );
    }
}
