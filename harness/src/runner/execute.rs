//! Running the plan: every trial a task on one shared tokio runtime, at most
//! `--test-threads` at once, each under its deadline. Outcomes go to the
//! reporters as events; nothing here prints.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use super::panic::{self, PanicSlot};
use super::plan::{Action, Plan};
use crate::client::{TestContext, skip_reason};
use crate::registry::Trial;
use crate::report::{Event, Outcome, Reporter, Summary};
use crate::session::Session;

/// The reporters, shared by the trial tasks. A failed write (a closed pipe)
/// must not fail tests, so errors are remembered and surfaced once.
pub(crate) struct Reporters {
    list: Vec<Box<dyn Reporter>>,
    error: Option<std::io::Error>,
}

impl Reporters {
    pub(crate) fn new(list: Vec<Box<dyn Reporter>>) -> Self {
        Reporters { list, error: None }
    }

    fn send(&mut self, event: &Event<'_>) {
        for r in &mut self.list {
            if let Err(e) = r.report(event) {
                self.error.get_or_insert(e);
            }
        }
    }

    pub(crate) fn into_error(self) -> Option<std::io::Error> {
        self.error
    }
}

/// Settings of the run that shape each trial's execution.
pub(crate) struct RunSettings<'a> {
    pub test_threads: usize,
    pub default_timeout: Duration,
    pub nocapture: bool,
    pub show_output: bool,
    pub project_root: &'a Path,
}

/// Runs the plan and returns the totals.
pub(crate) async fn execute(
    plan: Plan<'_>,
    settings: &RunSettings<'_>,
    session: &Arc<Session>,
    reporters: &Arc<Mutex<Reporters>>,
) -> Summary {
    panic::install_hook();
    let started = Instant::now();
    let send = |e: &Event<'_>| {
        if let Ok(mut r) = reporters.lock() {
            r.send(e);
        }
    };
    send(&Event::SuiteStarted {
        test_count: plan.entries.len(),
    });

    let permits = Arc::new(Semaphore::new(settings.test_threads));
    let mut summary = Summary {
        filtered_out: plan.filtered_out,
        ..Summary::default()
    };
    let mut running = Vec::new();
    for (trial, action) in plan.entries {
        if action == Action::Ignore {
            send(&Event::TestStarted { name: &trial.name });
            let outcome = Outcome::Ignored {
                reason: trial.ignore.as_ref().map(|i| i.reason().to_owned()),
            };
            send(&Event::TestFinished {
                name: &trial.name,
                outcome: &outcome,
                exec_time: Duration::ZERO,
                output: "",
            });
            summary.ignored += 1;
            continue;
        }
        running.push(run_one(trial, settings, session, permits.clone(), &send));
    }
    for outcome in futures::future::join_all(running).await {
        match outcome {
            Outcome::Passed => summary.passed += 1,
            Outcome::Failed { .. } => summary.failed += 1,
            Outcome::Ignored { .. } => summary.ignored += 1,
        }
    }
    summary.exec_time = started.elapsed();
    send(&Event::SuiteFinished { summary });
    summary
}

async fn run_one(
    trial: &Trial,
    settings: &RunSettings<'_>,
    session: &Arc<Session>,
    permits: Arc<Semaphore>,
    send: &(dyn Fn(&Event<'_>) + Sync),
) -> Outcome {
    // The semaphore is never closed, so acquiring cannot fail.
    let _permit = permits.acquire_owned().await.ok();
    send(&Event::TestStarted { name: &trial.name });
    let started = Instant::now();
    let ctx = Arc::new(TestContext::new(
        trial.name.clone(),
        trial.params.clone(),
        session.clone(),
        settings.nocapture,
    ));
    session.test_started(&trial.name).await;

    let deadline = trial
        .def
        .timeout_secs
        .map_or(settings.default_timeout, Duration::from_secs);
    let slot = Arc::new(PanicSlot::default());
    let task = tokio::spawn(panic::scope(slot.clone(), (trial.def.run)(ctx.clone())));
    let abort = task.abort_handle();
    let result = tokio::time::timeout(deadline, task).await;
    if result.is_err() {
        abort.abort();
    }
    // Whatever the body did, what it deferred is undone before the outcome.
    ctx.run_cleanups().await;
    let skipped = match &result {
        Ok(Ok(Err(error))) => skip_reason(error).map(str::to_owned),
        _ => None,
    };

    let location = format!(
        "{}:{}:1",
        shown_path(trial.def.file, settings.project_root),
        trial.def.line
    );
    let header = format!("thread '{}' panicked at", trial.name);
    let failure = match result {
        Ok(Ok(Ok(()))) => None,
        Ok(Ok(Err(error))) => Some(format!("{header} {location}:\n{}", describe(&error))),
        Ok(Err(join)) if join.is_panic() => Some(match slot.take() {
            Some(panic) => format!("thread '{}' {panic}", trial.name),
            None => format!("{header} {location}:\nthe test panicked"),
        }),
        Ok(Err(_)) => Some(format!("{header} {location}:\nthe test was cancelled")),
        Err(_) => Some(format!(
            "{header} {location}:\nthe test did not finish within {} s and was stopped (raise it with --test-timeout or `timeout = SECS` on the test)",
            deadline.as_secs()
        )),
    };
    let misses = session.test_finished(&trial.name).await;
    let failure = failure.map(|f| {
        if misses.is_empty() {
            f
        } else {
            format!("{f}\n\n{}", misses.join("\n\n"))
        }
    });

    let outcome = match (failure, trial.def.xfail.map(|x| x.reason)) {
        _ if skipped.is_some() => Outcome::Ignored { reason: skipped },
        (None, None) => Outcome::Passed,
        (Some(message), None) => Outcome::Failed { message },
        (Some(_), Some(reason)) => Outcome::Ignored {
            reason: Some(format!("xfail: {reason}")),
        },
        (None, Some(reason)) => Outcome::Failed {
            message: format!(
                "{header} {location}:\nthe test is marked xfail (\"{reason}\") but passed: the stack may have been fixed; remove the mark"
            ),
        },
    };
    let mut output = ctx.take_output();
    if outcome == Outcome::Passed && !settings.show_output {
        // libtest shows a passing test's output only with --show-output.
        output.clear();
    }
    send(&Event::TestFinished {
        name: &trial.name,
        outcome: &outcome,
        exec_time: started.elapsed(),
        output: &output,
    });
    outcome
}

/// An error and its causes as anyhow's `{:?}` prints them, without the
/// backtrace it would add under `RUST_BACKTRACE=1`: the location is in the
/// header line already, and harness frames say nothing about the test.
fn describe(error: &anyhow::Error) -> String {
    let mut text = error.to_string();
    let causes: Vec<String> = error.chain().skip(1).map(ToString::to_string).collect();
    if causes.len() == 1 {
        text.push_str(&format!("\n\nCaused by:\n    {}", causes[0]));
    } else if !causes.is_empty() {
        text.push_str("\n\nCaused by:");
        for (i, cause) in causes.iter().enumerate() {
            text.push_str(&format!("\n    {i}: {cause}"));
        }
    }
    text
}

/// The test file relative to the project, as a user would click it.
fn shown_path(file: &str, root: &Path) -> String {
    Path::new(file)
        .strip_prefix(root)
        .map_or_else(|_| file.to_owned(), |p| p.display().to_string())
}
