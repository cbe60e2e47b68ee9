//! Outcomes never lie, end to end against a real stack in replay (the
//! `outcomes` example, one private server for all of them): an xfail that
//! passes fails, one that fails otherwise fails with the real cause, a
//! replay miss fails its test whether it passed or was marked xfail, and an
//! xfail that meets exactly its failure is reported as such. A bad run.yaml
//! is one error, exit 2, before anything is spawned.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root")
        .to_owned()
}

fn example() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let debug = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/debug");
    let path = debug.join("examples").join("outcomes");
    assert!(
        path.exists(),
        "{} is missing: run `cargo test -p stack-harness` (it builds examples)",
        path.display()
    );
    path
}

fn run(args: &[&str]) -> Output {
    Command::new(example())
        .args(args)
        .args(["--test-threads", "1", "--text-model", "vllm/smollm2-135m"])
        .env_remove("LLAMA_STACK_CONFIG")
        .env_remove("LLAMA_STACK_TEST_K")
        .env_remove("LLAMA_STACK_TEST_INFERENCE_MODE")
        .output()
        .expect("the example runs")
}

/// The failure text the run printed for `test`.
fn failure_of<'a>(stdout: &'a str, test: &str) -> &'a str {
    let start = format!("---- {test} stdout ----");
    let text = stdout
        .split(&start)
        .nth(1)
        .unwrap_or_else(|| panic!("no failure shown for {test}:\n{stdout}"));
    text.split("\n---- ").next().unwrap_or(text)
}

fn sessions_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"));
    target.join("stack-harness").join("sessions")
}

#[test]
fn outcomes_follow_what_happened_not_the_marks() {
    let config = root().join("run-configs/ci-tests/run.yaml");
    let junit = tempfile::tempdir().expect("tempdir");
    let junit = junit.path().join("junit.xml");
    let out = run(&[
        &format!("--stack-config={}", config.display()),
        &format!("--junit={}", junit.display()),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(101), "{stdout}");
    for line in [
        "test xfail_that_passes ... FAILED",
        "test xfail_failing_otherwise ... FAILED",
        "test xfail_hiding_a_miss[text_model=vllm/smollm2-135m] ... FAILED",
        "test passes_despite_a_miss[text_model=vllm/smollm2-135m] ... FAILED",
        "test xfail_that_holds ... ignored, xfail: the stack answers 404 for an unknown model",
        "test xfail_of_another_stack ... FAILED",
        "test xfail_of_this_version ... ignored, xfail: llama-stack before 0.8 answers 404 for an unknown model",
        "test only_for_another_stack ... ignored, only for ogx>=1.5, not llama-stack 0.7.3: OGX alone is asked",
    ] {
        assert!(stdout.contains(line), "no `{line}` in:\n{stdout}");
    }
    let elsewhere = failure_of(&stdout, "xfail_of_another_stack");
    assert!(
        elsewhere.contains("GET /v1/models/no-such-model answered 404 instead of 200"),
        "{elsewhere}"
    );
    assert!(
        elsewhere.contains(
            "(the test's xfail is for `ogx`, not llama-stack 0.7.3: \"claims OGX answers 404 here\")"
        ),
        "{elsewhere}"
    );
    // The report names the stack, for `outcomes diff`.
    let report = std::fs::read_to_string(&junit).expect("the JUnit report");
    assert!(
        report.contains(r#"<property name="stack" value="llama-stack 0.7.3"/>"#),
        "{report}"
    );

    let passed = failure_of(&stdout, "xfail_that_passes");
    assert!(
        passed.contains("the test is marked xfail (\"claims GET /v1/health is a 404\") but passed: the stack may have been fixed; remove the mark"),
        "{passed}"
    );

    let otherwise = failure_of(&stdout, "xfail_failing_otherwise");
    assert!(
        otherwise.contains("GET /v1/models/no-such-model answered 404 instead of 200"),
        "{otherwise}"
    );
    assert!(
        otherwise.contains("the test is marked xfail (\"claims the stack answers 400 here\") expecting an HTTP 400 answer, but it failed otherwise"),
        "{otherwise}"
    );

    for test in [
        "xfail_hiding_a_miss[text_model=vllm/smollm2-135m]",
        "passes_despite_a_miss[text_model=vllm/smollm2-135m]",
    ] {
        let text = failure_of(&stdout, test);
        assert!(
            text.contains("no recording for POST /v1/chat/completions (provider `vllm`"),
            "{test}: {text}"
        );
        assert!(
            text.contains("--inference-mode=record-if-missing"),
            "{test}: {text}"
        );
    }
    assert!(
        failure_of(&stdout, "xfail_hiding_a_miss[text_model=vllm/smollm2-135m]")
            .contains("a replay miss or an upstream failure is never the expected failure")
    );
    assert!(
        failure_of(
            &stdout,
            "passes_despite_a_miss[text_model=vllm/smollm2-135m]"
        )
        .contains("the test passed, but its requests did not all get a recorded answer:")
    );
}

#[test]
fn a_bad_run_yaml_is_one_error_before_anything_starts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run_yaml = dir.path().join("run.yaml");
    std::fs::write(
        &run_yaml,
        "version: 2\ndistro_name: bad\napis: [inference]\nproviders:\n  inference:\n  - provider_id: x\n    provider_type: remote::vlm\n",
    )
    .expect("write");
    let count = || std::fs::read_dir(sessions_dir()).map_or(0, |entries| entries.count());
    let before = count();
    let out = run(&[&format!("--stack-config={}", run_yaml.display())]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "", "no test ran");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "error: {}:7: providers.inference[0].provider_type: unknown provider type `remote::vlm` for api `inference`; did you mean `remote::vllm`?\n",
            run_yaml.display()
        )
    );
    assert_eq!(count(), before, "a session directory was created");
}
