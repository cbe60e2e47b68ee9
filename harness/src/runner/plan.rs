//! From the catalog and the run's selection flags to the plan: which trials
//! run, which are reported ignored, and how many were filtered out.
//!
//! Order of the filters: `--suite` and `-k` narrow collection (so they also
//! shape `--list`, which is how `-k` set through `LLAMA_STACK_TEST_K` reaches
//! cargo-nextest), then libtest's positional filters and `--skip`, then
//! `--ignored`/`--include-ignored`.

use crate::cli::{Config, RunIgnored};
use crate::registry::{Catalog, Ignore, Trial, params};
use crate::report::Listed;
use crate::select::trial_keywords;

/// What to do with one selected trial.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    Run,
    /// Report it ignored (the trial's [`Ignore`] says why).
    Ignore,
}

#[derive(Debug)]
pub(crate) struct Plan<'c> {
    pub entries: Vec<(&'c Trial, Action)>,
    pub filtered_out: usize,
}

impl<'c> Plan<'c> {
    /// The selected trials as `--list` prints them, in catalog order.
    pub(crate) fn listed(&self) -> Vec<Listed<'c>> {
        self.entries
            .iter()
            .map(|(t, _)| Listed {
                name: &t.name,
                ignored: t.ignore.is_some(),
                ignore_reason: t.ignore.as_ref().map(|i| i.reason()),
                file: t.def.file,
                line: t.def.line,
            })
            .collect()
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub(crate) enum PlanError {
    #[error(
        "no test is named `{filter}` (with --exact, a filter is a full name or a test function's module path); `--list` shows the names"
    )]
    NoExactMatch { filter: String },
    #[error("`{filter}` is not collected in this run: {why}")]
    Deselected { filter: String, why: String },
}

/// Whether `trial` is in the suite and matches `-k`: the collection step.
pub(crate) fn collected(trial: &Trial, config: &Config) -> bool {
    if let Some(suite) = config.suite {
        let area = trial.path.split("::").next().unwrap_or_default();
        let needs_vision = trial.def.needs.contains(&params::vision_model);
        if !suite.includes(area, trial.def.marks, needs_vision) {
            return false;
        }
    }
    config.keyword.as_ref().is_none_or(|k| {
        // An expected failure can be picked with `-k xfail`, as in pytest.
        let xfail: &[&str] = if !trial.def.xfails.is_empty() {
            &["xfail"]
        } else {
            &[]
        };
        let marks: Vec<&str> = trial.def.marks.iter().chain(xfail).copied().collect();
        k.matches(&trial_keywords(&trial.name, &marks))
    })
}

fn name_matches(trial: &Trial, filter: &str, exact: bool) -> bool {
    if exact {
        trial.name == filter || trial.path == filter
    } else {
        trial.name.contains(filter)
    }
}

pub(crate) fn plan<'c>(catalog: &'c Catalog, config: &Config) -> Result<Plan<'c>, PlanError> {
    let mut entries = Vec::new();
    let mut filtered_out = 0;
    for trial in &catalog.trials {
        let selected = collected(trial, config)
            && (config.filters.is_empty()
                || config
                    .filters
                    .iter()
                    .any(|f| name_matches(trial, f, config.exact)))
            && !config
                .skip
                .iter()
                .any(|s| name_matches(trial, s, config.exact));
        let action = match (&trial.ignore, config.run_ignored) {
            (None, RunIgnored::Only) => None,
            (None, _) => Some(Action::Run),
            (Some(Ignore::CannotRun(_)), RunIgnored::No | RunIgnored::Also | RunIgnored::Only) => {
                Some(Action::Ignore)
            }
            (Some(Ignore::Marked(_)), RunIgnored::No) => Some(Action::Ignore),
            (Some(Ignore::Marked(_)), RunIgnored::Only | RunIgnored::Also) => Some(Action::Run),
        };
        match action.filter(|_| selected) {
            Some(action) => entries.push((trial, action)),
            None => filtered_out += 1,
        }
    }
    if config.exact && !config.list {
        for filter in &config.filters {
            if entries.iter().any(|(t, _)| name_matches(t, filter, true)) {
                continue;
            }
            let exists = catalog
                .trials
                .iter()
                .find(|t| name_matches(t, filter, true));
            return Err(match exists {
                None => PlanError::NoExactMatch {
                    filter: filter.clone(),
                },
                Some(t) => PlanError::Deselected {
                    filter: filter.clone(),
                    why: deselection_reason(t, config),
                },
            });
        }
    }
    Ok(Plan {
        entries,
        filtered_out,
    })
}

fn deselection_reason(trial: &Trial, config: &Config) -> String {
    if !collected(trial, config) {
        let mut why = Vec::new();
        if let Some(suite) = config.suite {
            why.push(format!("the suite `{}`", suite.name()));
        }
        if config.keyword.is_some() {
            why.push("the -k expression".to_owned());
        }
        return format!(
            "{} excludes it (check LLAMA_STACK_TEST_SUITE, LLAMA_STACK_TEST_K and stack-harness.toml)",
            why.join(" or ")
        );
    }
    if config.skip.iter().any(|s| name_matches(trial, s, true)) {
        return "--skip excludes it".to_owned();
    }
    "it is not ignored, and --ignored runs only ignored tests".to_owned()
}
