//! The proxy's ledger of a run: which tests are running, the misses and
//! unreachable upstreams they met, and the recordings they used, since the
//! last reset.
//!
//! Attribution rule: a provider request is attributed to every test that
//! has announced its start and not its end when the request *arrives*.
//! With tests run one at a time this is exactly the test that caused it;
//! with tests in parallel it is a superset (each miss names all candidates).
//! Requests that arrive while no test is running (the stack's start-up
//! `GET /v1/models`) are attributed to `(stack start-up)`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::failures::TestFailures;
use super::miss::Miss;
use super::unreachable::UpstreamFailure;
use crate::record::mode::InferenceMode;
use crate::record::store::{STARTUP, UsageManifest};

/// Running tests, their failures and usage since the last reset.
#[derive(Debug)]
pub(super) struct Ledger {
    running: BTreeMap<String, usize>,
    misses: Vec<Miss>,
    unreachable: Vec<UpstreamFailure>,
    usage: UsageManifest,
}

impl Ledger {
    pub(super) fn new(dir: PathBuf, mode: InferenceMode) -> Ledger {
        Ledger {
            running: BTreeMap::new(),
            misses: Vec::new(),
            unreachable: Vec::new(),
            usage: UsageManifest {
                dir,
                mode,
                stack: None,
                used: BTreeMap::new(),
            },
        }
    }

    /// The tests a request arriving now is attributed to, sorted.
    pub(super) fn attribution(&self) -> Vec<String> {
        if self.running.is_empty() {
            vec![STARTUP.to_owned()]
        } else {
            self.running.keys().cloned().collect()
        }
    }

    pub(super) fn test_started(&mut self, test: &str) {
        *self.running.entry(test.to_owned()).or_default() += 1;
        // A rerun of the same test starts with a clean slate.
        forget(&mut self.misses, test);
        forget(&mut self.unreachable, test);
    }

    pub(super) fn test_finished(&mut self, test: &str) -> TestFailures {
        if let Some(count) = self.running.get_mut(test) {
            *count -= 1;
            if *count == 0 {
                self.running.remove(test);
            }
        }
        self.failures_for(test)
    }

    pub(super) fn failures_for(&self, test: &str) -> TestFailures {
        TestFailures {
            misses: of_test(&self.misses, test),
            unreachable: of_test(&self.unreachable, test),
        }
    }

    #[cfg(test)]
    fn misses_for(&self, test: &str) -> Vec<Miss> {
        of_test(&self.misses, test)
    }

    pub(super) fn add_miss(&mut self, miss: Miss) {
        add_once(&mut self.misses, miss);
    }

    pub(super) fn add_unreachable(&mut self, failure: UpstreamFailure) {
        add_once(&mut self.unreachable, failure);
    }

    /// `tests` are the request's attribution (see the module docs).
    pub(super) fn used(&mut self, provider: &str, hash: &str, tests: &[String]) {
        self.usage.record(provider, hash, tests);
    }

    pub(super) fn running_tests(&self) -> Vec<String> {
        self.running.keys().cloned().collect()
    }

    pub(super) fn miss_count(&self) -> usize {
        self.misses.len()
    }

    /// What this run used so far: the manifest `run/finish` writes.
    pub(super) fn usage(&self) -> &UsageManifest {
        &self.usage
    }

    /// The mode changed within the same run.
    pub(super) fn set_mode(&mut self, mode: InferenceMode) {
        self.usage.mode = mode;
    }

    /// The stack the run's manifest is for.
    pub(super) fn set_stack(&mut self, stack: Option<String>) {
        self.usage.stack = stack;
    }

    /// Starts a new run. What the stack fetched at its own start-up stays
    /// used while the directory stays: a run that reuses a running stack
    /// makes no start-up requests, and its manifest must still keep them
    /// from `prune`.
    pub(super) fn reset(&mut self, dir: PathBuf, mode: InferenceMode) {
        let running = std::mem::take(&mut self.running);
        let same_dir = self.usage.dir == dir;
        let mut startup = std::mem::take(&mut self.usage);
        *self = Ledger::new(dir, mode);
        self.running = running;
        if same_dir {
            startup.keep_only(STARTUP);
            self.usage.used = startup.used;
        }
    }
}

/// A failure the ledger keeps for the tests a request was attributed to.
trait Attributed: Clone {
    fn tests(&self) -> &[String];
    fn tests_mut(&mut self) -> &mut Vec<String>;
    /// Whether `other` tells its tests nothing new.
    fn repeats(&self, other: &Self) -> bool;
}

impl Attributed for Miss {
    fn tests(&self) -> &[String] {
        &self.tests
    }

    fn tests_mut(&mut self) -> &mut Vec<String> {
        &mut self.tests
    }

    /// One entry per request and set of tests (the SDK retries 5xx).
    fn repeats(&self, other: &Self) -> bool {
        self.hash == other.hash && self.tests == other.tests
    }
}

impl Attributed for UpstreamFailure {
    fn tests(&self) -> &[String] {
        &self.tests
    }

    fn tests_mut(&mut self) -> &mut Vec<String> {
        &mut self.tests
    }

    /// One entry per provider and set of tests: a test that sends five
    /// requests to a server that is down needs to be told once.
    fn repeats(&self, other: &Self) -> bool {
        self.provider == other.provider && self.tests == other.tests
    }
}

fn add_once<T: Attributed>(list: &mut Vec<T>, item: T) {
    if !list.iter().any(|known| known.repeats(&item)) {
        list.push(item);
    }
}

fn of_test<T: Attributed>(list: &[T], test: &str) -> Vec<T> {
    list.iter()
        .filter(|item| item.tests().iter().any(|t| t == test))
        .cloned()
        .collect()
}

/// Drops `test` from every entry, and the entries left with no test.
fn forget<T: Attributed>(list: &mut Vec<T>, test: &str) {
    for item in list.iter_mut() {
        item.tests_mut().retain(|t| t != test);
    }
    list.retain(|item| !item.tests().is_empty());
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn miss(hash: &str, tests: &[&str]) -> Miss {
        Miss {
            tests: tests.iter().map(|t| t.to_string()).collect(),
            method: "POST".into(),
            path: "/v1/x".into(),
            provider: "p".into(),
            hash: hash.into(),
            body: json!(null),
            nearest: None,
            problem: None,
        }
    }

    #[test]
    fn requests_are_attributed_to_every_running_test_or_to_start_up() {
        let mut s = Ledger::new("/r".into(), InferenceMode::Replay);
        assert_eq!(s.attribution(), vec![STARTUP]);
        s.test_started("b");
        s.test_started("a");
        assert_eq!(s.attribution(), vec!["a", "b"]);
        s.add_miss(miss("h1", &["a", "b"]));
        s.add_miss(miss("h1", &["a", "b"]));
        s.add_miss(miss("h2", &["b"]));
        assert_eq!(s.test_finished("a").misses, vec![miss("h1", &["a", "b"])]);
        assert_eq!(s.attribution(), vec!["b"]);
        assert_eq!(s.misses_for("b").len(), 2);
        // Rerunning `b` forgets its old misses, not `a`'s.
        s.test_started("b");
        assert_eq!(s.misses_for("b"), vec![]);
        assert_eq!(s.misses_for("a"), vec![miss("h1", &["a"])]);
        s.test_finished("b");
        assert_eq!(s.attribution(), vec!["b"], "started twice, finished once");
        s.test_finished("b");
        s.test_finished("unknown");
        assert_eq!(s.attribution(), vec![STARTUP]);
    }

    fn unreachable(provider: &str, tests: &[&str]) -> UpstreamFailure {
        UpstreamFailure {
            tests: tests.iter().map(|t| t.to_string()).collect(),
            provider: provider.into(),
            url: "http://127.0.0.1:8000/v1/models".into(),
            method: "GET".into(),
            path: "/v1/models".into(),
            error: "connection refused".into(),
            mode: InferenceMode::Record,
        }
    }

    #[test]
    fn an_unreachable_upstream_is_told_once_per_provider_to_each_test() {
        let mut s = Ledger::new("/r".into(), InferenceMode::Record);
        s.test_started("a");
        s.add_unreachable(unreachable("vllm", &["a"]));
        s.add_unreachable(unreachable("vllm", &["a"]));
        s.add_unreachable(unreachable("embed", &["a"]));
        s.add_miss(miss("h1", &["a"]));
        let failures = s.test_finished("a");
        assert_eq!(failures.misses, vec![miss("h1", &["a"])]);
        assert_eq!(
            failures.unreachable,
            vec![unreachable("vllm", &["a"]), unreachable("embed", &["a"])]
        );
        // Rerunning `a` forgets them.
        s.test_started("a");
        assert_eq!(s.failures_for("a"), TestFailures::default());
    }

    #[test]
    fn a_new_run_keeps_what_the_stack_used_at_start_up_in_the_same_dir() {
        let mut s = Ledger::new("/r".into(), InferenceMode::Replay);
        s.used("vllm", "models", &[STARTUP.to_owned()]);
        s.used("vllm", "chat", &["t::a".to_owned()]);
        s.reset("/r".into(), InferenceMode::Replay);
        assert_eq!(
            serde_json::to_value(&s.usage.used).unwrap(),
            json!({"vllm": {"models": [STARTUP]}})
        );
        s.reset("/other".into(), InferenceMode::Replay);
        assert_eq!(s.usage.count(), 0);
    }
}
