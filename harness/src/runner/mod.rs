//! The run, start to end: parse → collect → select → list or run → report.
//! Library code returns; only [`crate::main`] turns the outcome into an exit
//! code.

#[doc(hidden)]
pub(crate) mod bench_api;
mod execute;
mod outcome;
mod panic;
mod plan;

use std::io::Write as _;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use crate::cli::Config;
use crate::registry::{Catalog, TESTS, load_cases};
use crate::report::{self, Reporter};
use crate::session::{Session, SessionSettings};
use crate::stack::target::StackTarget;
use execute::{Reporters, RunSettings};

/// libtest's exit code for failed tests; nextest and cargo expect it.
const EXIT_FAILED: u8 = 101;
/// Bad input: flags, expressions, configuration, test definitions.
pub(crate) const EXIT_USAGE: u8 = 2;

/// Everything that stops a run before its tests decide the outcome.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RunError {
    #[error(transparent)]
    Cases(#[from] crate::registry::CaseError),
    #[error(transparent)]
    Catalog(#[from] crate::registry::CatalogError),
    #[error(transparent)]
    Plan(#[from] plan::PlanError),
    #[error("cannot write the test output: {0}")]
    Output(std::io::Error),
    #[error("cannot start the test runtime: {0}")]
    Runtime(std::io::Error),
    /// `--stack-config`, the launcher or the run.yaml: found before
    /// anything is provisioned or started.
    #[error(transparent)]
    Stack(#[from] crate::stack::target::TargetError),
}

/// `--stack-config` with the launcher and the run.yaml, as typed values;
/// the setup's and `--env`'s values answer the run.yaml's variables first.
pub(crate) fn resolve_stack(
    config: &Config,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<StackTarget, RunError> {
    let lookup = |name: &str| {
        config
            .env
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .or_else(|| env(name))
    };
    Ok(StackTarget::resolve(
        &config.stack_config,
        config.launcher,
        &config.project_root.join("run-configs"),
        &lookup,
    )?)
}

/// Runs (or lists) the tests of this binary as `config` says.
pub(crate) fn run(config: Config) -> Result<ExitCode, RunError> {
    let cases = load_cases(&config.project_root.join("tests/integration/test_cases"))?;
    let catalog = Catalog::build(&TESTS, &config.models, &cases)?;
    let plan = plan::plan(&catalog, &config)?;

    if config.list {
        let listed = plan.listed();
        let mut out = std::io::stdout().lock();
        report::write_list(config.format, &listed, &mut out).map_err(RunError::Output)?;
        out.flush().map_err(RunError::Output)?;
        return Ok(ExitCode::SUCCESS);
    }

    let needs_stack = plan
        .entries
        .iter()
        .any(|(t, a)| *a == plan::Action::Run && t.def.needs_stack);
    let env = |k: &str| std::env::var(k).ok();
    // Checked whether or not a test needs it: a mistake in the stack's
    // options is a usage error even in a run that would not start it.
    let target = resolve_stack(&config, &env)?;
    let session = Session::new(SessionSettings::from_config(&config, target, &env));
    let mut reporters: Vec<Box<dyn Reporter>> = vec![report::reporter(
        config.format,
        config.color,
        Box::new(std::io::stdout()),
    )];
    if let Some(path) = &config.junit {
        reporters.push(Box::new(report::Junit::new(path.clone(), "integration")));
    }
    let reporters = Arc::new(Mutex::new(Reporters::new(reporters)));

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(config.test_threads.clamp(2, 16))
        .enable_all()
        .build()
        .map_err(RunError::Runtime)?;
    let complete = config.filters.is_empty()
        && config.skip.is_empty()
        && config.keyword.is_none()
        && config.suite.is_none();
    let settings = RunSettings {
        test_threads: config.test_threads,
        default_timeout: config.test_timeout,
        nocapture: config.nocapture,
        show_output: config.show_output,
        project_root: &config.project_root,
    };

    let summary = runtime.block_on(async {
        let work = async {
            // Start the stack before the first test, so provisioning and
            // start-up count against no test's deadline. A failure is
            // printed once, here; every test that needs the stack then
            // fails with a one-line pointer to it.
            if needs_stack && let Err(e) = session.start().await {
                eprintln!("error: the session did not start: {e}");
            }
            execute::execute(plan, &settings, &session, &reporters).await
        };
        // Ctrl-C (during start-up too) still releases the stack below.
        let summary = tokio::select! {
            summary = work => Some(summary),
            _ = tokio::signal::ctrl_c() => None,
        };
        session.finish(complete && summary.is_some()).await;
        summary
    });
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));

    let error = Arc::try_unwrap(reporters)
        .ok()
        .and_then(|m| m.into_inner().ok())
        .and_then(Reporters::into_error);
    if let Some(e) = error.filter(|e| e.kind() != std::io::ErrorKind::BrokenPipe) {
        return Err(RunError::Output(e));
    }
    Ok(match summary {
        None => {
            eprintln!("stack-harness: interrupted; the stack was released");
            ExitCode::from(130)
        }
        Some(s) if s.failed > 0 => ExitCode::from(EXIT_FAILED),
        Some(_) => ExitCode::SUCCESS,
    })
}
