//! End to end: the `fixture` example (a harness test binary with one test of
//! each kind, needing no stack) run with the flags rust-analyzer, RustRover
//! and cargo-nextest send, checking the exact text they parse.

use std::path::PathBuf;
use std::process::{Command, Output};

/// The example binary, built by `cargo test` beside this test.
fn fixture() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let debug = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/debug");
    let path = debug.join("examples").join("fixture");
    assert!(
        path.exists(),
        "{} is missing: run `cargo test -p stack-harness` (it builds examples)",
        path.display()
    );
    path
}

fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(fixture());
    cmd.args(args)
        .env_remove("LLAMA_STACK_TEST_K")
        .env_remove("LLAMA_STACK_TEST_JUDGE_MODEL");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("the fixture runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn list_terse_prints_exactly_name_colon_test_lines() {
    // The default setup (`local`) names a judge model, so the judged test
    // is listed once, with it.
    let o = run(&["--list", "--format", "terse"], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "lifecycle::a_call_then_wait: test\nlifecycle::b_next_call: test\nmodels::needs_vision: test\n\
         models::per_model[judge_model=vllm-verdict/smollm2-135m]: test\nplain::fails: test\nplain::ignored: test\nplain::known_bug: test\n\
         plain::overruns: test\nplain::panics: test\nplain::passes: test\n"
    );
    let o = run(
        &["--list", "--format", "terse", "--judge-model", "a,b"],
        &[],
    );
    assert!(stdout(&o).contains(
        "models::per_model[judge_model=a]: test\nmodels::per_model[judge_model=b]: test\n"
    ));
}

#[test]
fn list_ignored_prints_the_ignored_subset() {
    // A setup without a judge model leaves the judged test unparametrised
    // and ignored.
    let o = run(
        &[
            "--list",
            "--format",
            "terse",
            "--ignored",
            "--setup",
            "vllm",
        ],
        &[],
    );
    assert_eq!(
        stdout(&o),
        "models::needs_vision: test\nmodels::per_model: test\nplain::ignored: test\n"
    );
}

#[test]
fn keyword_from_the_environment_shapes_the_list_for_nextest() {
    let o = run(
        &["--list", "--format", "terse"],
        &[("LLAMA_STACK_TEST_K", "plain and not (fails or panics)")],
    );
    assert_eq!(
        stdout(&o),
        "plain::ignored: test\nplain::known_bug: test\nplain::overruns: test\nplain::passes: test\n"
    );
    let o = run(
        &["--list", "--format", "terse", "-k", "streaming"],
        &[("LLAMA_STACK_TEST_JUDGE_MODEL", "m")],
    );
    assert_eq!(stdout(&o), "models::per_model[judge_model=m]: test\n");
}

#[test]
fn a_bad_keyword_expression_points_at_the_problem_and_exits_2() {
    let o = run(&["--list", "-k", "plain and (fails"], &[]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.starts_with("error: invalid -k expression: "), "{err}");
    assert!(err.contains("  plain and (fails\n"), "{err}");
    assert!(err.contains('^'), "{err}");
}

#[test]
fn exact_runs_one_test_and_its_parametrisations() {
    let o = run(
        &[
            "plain::passes",
            "--exact",
            "--nocapture",
            "--include-ignored",
        ],
        &[],
    );
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("test plain::passes ... ok"));
    assert!(stdout(&o).contains("1 passed; 0 failed; 0 ignored; 0 measured; 9 filtered out"));

    let o = run(
        &["models::per_model", "--exact"],
        &[("LLAMA_STACK_TEST_JUDGE_MODEL", "a,b")],
    );
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("2 passed;"), "{}", stdout(&o));
}

#[test]
fn exact_with_an_unknown_name_is_an_error_not_a_silent_pass() {
    let o = run(&["--exact", "plain::nope"], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        "error: no test is named `plain::nope` (with --exact, a filter is a full name or a test function's module path); `--list` shows the names\n"
    );
}

#[test]
fn a_failure_starts_with_a_thread_panicked_line_and_keeps_the_cause() {
    let o = run(&["plain::fails", "--exact"], &[]);
    assert_eq!(o.status.code(), Some(101));
    let out = stdout(&o);
    assert!(
        out.contains("---- plain::fails stdout ----\nsome output before failing\n"),
        "{out}"
    );
    assert!(
        out.contains("\nthread 'plain::fails' panicked at harness/examples/fixture.rs:"),
        "{out}"
    );
    assert!(
        out.contains("checking the answer\n\nCaused by:\n    the answer was 41"),
        "{out}"
    );
}

#[test]
fn a_panic_is_reported_with_its_own_location() {
    let o = run(&["plain::panics", "--exact"], &[]);
    assert_eq!(o.status.code(), Some(101));
    let out = stdout(&o);
    assert!(
        out.contains("thread 'plain::panics' panicked at harness/examples/fixture.rs:"),
        "{out}"
    );
    assert!(out.contains("expected one answer"), "{out}");
    assert!(
        !stderr(&o).contains("panicked"),
        "the panic must not also go to stderr: {}",
        stderr(&o)
    );
}

#[test]
fn a_test_over_its_deadline_fails_without_hanging_the_run() {
    let started = std::time::Instant::now();
    let o = run(&["plain::overruns", "--exact"], &[]);
    assert_eq!(o.status.code(), Some(101));
    assert!(
        started.elapsed().as_secs() < 20,
        "the run waited for the test"
    );
    assert!(
        stdout(&o).contains("did not finish within 1 s and was stopped"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn ignored_tests_carry_their_reason() {
    let o = run(
        &["plain::ignored", "models::needs_vision", "--exact"],
        &[("LLAMA_STACK_TEST_JUDGE_MODEL", "m")],
    );
    let out = stdout(&o);
    assert!(
        out.contains("test plain::ignored ... ignored, needs a GPU"),
        "{out}"
    );
    assert!(
        out.contains("test models::needs_vision ... ignored, no --vision-model given"),
        "{out}"
    );
    let o = run(&["plain::ignored", "--exact", "--include-ignored"], &[]);
    assert!(
        stdout(&o).contains("test plain::ignored ... ok"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn xfail_failing_is_ignored_and_xfail_passing_would_fail() {
    let o = run(&["plain::known_bug", "--exact"], &[]);
    assert!(o.status.success(), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("ignored, xfail: the stack drops `n`"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn json_is_libtests_event_stream_with_exec_time() {
    let o = run(
        &[
            "plain::passes",
            "plain::fails",
            "--exact",
            "-Z",
            "unstable-options",
            "--format",
            "json",
        ],
        &[],
    );
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect();
    assert_eq!(
        lines[0],
        serde_json::json!({"type": "suite", "event": "started", "test_count": 2})
    );
    let started: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| l["event"] == "started" && l["type"] == "test")
        .collect();
    assert_eq!(started.len(), 2);
    let failed = lines
        .iter()
        .find(|l| l["event"] == "failed")
        .expect("a failed event");
    assert_eq!(failed["name"], "plain::fails");
    assert!(failed["exec_time"].is_f64());
    assert!(
        failed["stdout"]
            .as_str()
            .is_some_and(|s| s.contains("thread 'plain::fails' panicked at"))
    );
    let last = lines.last().expect("a suite event");
    assert_eq!(last["type"], "suite");
    assert_eq!(last["event"], "failed");
    assert_eq!(last["passed"], 1);
    assert_eq!(last["failed"], 1);
}

#[test]
fn junit_report_is_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("report.xml");
    let path_str = path.to_str().expect("utf-8 path");
    let o = run(
        &[
            "plain::passes",
            "plain::fails",
            "--exact",
            "--junit",
            path_str,
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(101));
    let xml = std::fs::read_to_string(&path).expect("the report exists");
    assert!(xml.contains("<testsuite name=\"integration\""), "{xml}");
    assert!(xml.contains("passes"), "{xml}");
    assert!(xml.contains("<failure"), "{xml}");
}

#[test]
fn usage_errors_exit_2_with_the_message() {
    let o = run(&["--inference-mode", "tape", "--list"], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        "error: unknown inference mode `tape`; expected one of: replay, record, record-if-missing, live (from --inference-mode)\n"
    );
    let o = run(&["--no-such-flag"], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--no-such-flag"));
}
