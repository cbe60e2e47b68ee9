//! Running the plan: every trial a task on one shared tokio runtime, at most
//! `--test-threads` at once, each under its deadline. Outcomes go to the
//! reporters as events; nothing here prints.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use super::outcome::{Cause, Ended, Expectation, Failure, Observed, decide, not_here};
use super::panic::{self, PanicSlot};
use super::plan::{Action, Plan};
use crate::client::{TestContext, failure_status, skip_reason};
use crate::registry::Trial;
use crate::report::{Event, Outcome, Reporter, Summary};
use crate::session::{Session, StackDied, StackNotStarted, StackUnreachable};

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
    let stack = session.stack_identity().map(ToString::to_string);
    send(&Event::SuiteStarted {
        test_count: plan.entries.len(),
        stack: stack.as_deref(),
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
    let location = format!(
        "{}:{}:1",
        shown_path(trial.def.file, settings.project_root),
        trial.def.line
    );
    let header = format!("thread '{}' panicked at {location}:", trial.name);

    // A stack that died under an earlier test fails the rest at once, each
    // saying so, instead of each meeting a refused connection; a test for
    // other stacks does not run on this one.
    let stack = session.stack_identity();
    let before = match session.died_before() {
        Some(message) if trial.def.needs_stack => Some(Outcome::Failed {
            message: format!("{header}\n{message}"),
        }),
        _ => not_here(trial.def.only.as_ref(), stack, &header),
    };
    if let Some(outcome) = before {
        send(&Event::TestFinished {
            name: &trial.name,
            outcome: &outcome,
            exec_time: started.elapsed(),
            output: "",
        });
        return outcome;
    }

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
    // Whatever the body did, what it deferred is undone before the outcome,
    // and that traffic counts as the test's.
    ctx.run_cleanups().await;
    let own = |text: String| {
        Ended::Failed(Failure {
            text,
            status: None,
            cause: Cause::Test,
        })
    };
    let ended = match result {
        Ok(Ok(Ok(()))) => Ended::Passed,
        Ok(Ok(Err(error))) => classify(&error),
        Ok(Err(join)) if join.is_panic() => own(match slot.take() {
            // `panicked at <where>:\n<message>`, where the panic happened.
            Some(panic) => format!("the test {panic}"),
            None => "the test panicked".to_owned(),
        }),
        Ok(Err(_)) => own("the test was cancelled".to_owned()),
        Err(_) => Ended::TimedOut(deadline),
    };
    // The stack's health first: a dead stack took its proxy with it, and
    // then explains why the proxy cannot say what this test's traffic did.
    let stack_died = if trial.def.needs_stack {
        session
            .stack_death(&trial.name, Duration::ZERO)
            .await
            .map(|d| d.to_string())
    } else {
        None
    };
    let observed = Observed {
        ended,
        traffic: session.test_finished(&trial.name).await,
        stack_died,
    };
    let xfail = super::outcome::pick(trial.def.xfails, stack).map(|x| Expectation {
        reason: x.reason,
        status: x.status,
        contains: x.contains,
        stacks: x.stacks,
    });
    let outcome = decide(observed, xfail, stack, &header);
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

/// A test's error, classified: the stack's fault or the test's own, and the
/// HTTP status it failed on.
fn classify(error: &anyhow::Error) -> Ended {
    if let Some(reason) = skip_reason(error) {
        return Ended::Skipped(reason.to_owned());
    }
    let stack_fault = error.downcast_ref::<StackDied>().is_some()
        || error.downcast_ref::<StackUnreachable>().is_some()
        || error.downcast_ref::<StackNotStarted>().is_some();
    Ended::Failed(Failure {
        text: describe(error),
        status: failure_status(error),
        cause: if stack_fault {
            Cause::Stack
        } else {
            Cause::Test
        },
    })
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
