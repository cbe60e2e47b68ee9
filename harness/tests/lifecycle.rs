//! The stack fixture's lifetime against a real Llama Stack server: a server
//! that dies mid-run fails the remaining tests fast with its log tail, and
//! Ctrl-C or a killed test process leaves nothing running.
//!
//! Drives the `fixture` example's `lifecycle::*` tests, which call the stack,
//! signal `ready`, and wait for `go` (see harness/examples/fixture.rs). Each
//! scenario uses a private server (a run.yaml path), on a free port of its own.
//! Two of them also select vector-io providers with processes of their own
//! (milvus-lite's `milvus` child of the stack; the chroma server and
//! pgvector's PostgreSQL, which the supervisor runs), which must be counted
//! and gone as the stack is.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root")
        .to_owned()
}

fn fixture() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let debug = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/debug");
    debug.join("examples").join("fixture")
}

fn sessions() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"));
    target.join("stack-harness").join("sessions")
}

struct Run {
    child: Child,
    markers: tempfile::TempDir,
}

/// What a scenario's session runs: a run-config and the vector-io
/// providers the run selects.
#[derive(Clone, Copy)]
struct Session {
    run_yaml: &'static str,
    vector_io: &'static str,
}

/// The stack alone, on SQLite.
const SQLITE: Session = Session {
    run_yaml: "run-configs/ci-tests/run.yaml",
    vector_io: "faiss",
};
/// The stack and a database server of its session.
const POSTGRES: Session = Session {
    run_yaml: "run-configs/ci-tests/run-with-postgres-store.yaml",
    vector_io: "faiss",
};
/// The stack with vector-io providers that run processes of their own:
/// milvus-lite's `milvus` (a child of the stack), the chroma server and
/// pgvector's PostgreSQL (services of the supervisor).
const VECTOR_SERVERS: Session = Session {
    run_yaml: "run-configs/ci-tests/run.yaml",
    vector_io: "faiss,milvus,chromadb,pgvector",
};

/// What the processes of [`VECTOR_SERVERS`] run, as their command lines
/// show it.
const VECTOR_SERVER_PROCESSES: [&str; 2] = ["milvus_lite/lib/milvus", "chroma run"];

fn start_on(session: Session, filters: &[&str]) -> Run {
    let markers = tempfile::tempdir().expect("tempdir");
    let config = root().join(session.run_yaml);
    let child = Command::new(fixture())
        .args(filters)
        .args(["--exact", "--test-threads", "1"])
        .arg(format!("--stack-config={}", config.display()))
        .arg(format!("--vector-io-provider={}", session.vector_io))
        .env("FIXTURE_MARKERS", markers.path())
        .env_remove("LLAMA_STACK_CONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the fixture starts");
    Run { child, markers }
}

/// Starts the fixture and waits until its first test has reached the stack;
/// returns the run and the session directory of its private server.
fn start_until_ready(filters: &[&str]) -> (Run, PathBuf) {
    start_until_ready_on(SQLITE, filters)
}

fn start_until_ready_on(session: Session, filters: &[&str]) -> (Run, PathBuf) {
    let run = start_on(session, filters);
    let ready = run.markers.path().join("ready");
    wait_for(
        "the first test to reach the stack",
        Duration::from_secs(240),
        || ready.exists(),
    );
    let dir = session_of(run.child.id());
    assert!(
        !processes_inside(&dir).is_empty(),
        "no stack process runs from {}",
        dir.display()
    );
    (run, dir)
}

/// Checks that the vector store servers run from `dir`, so that the
/// proofs below count them.
fn assert_vector_servers_inside(dir: &Path) {
    let commands: Vec<String> = processes_inside(dir)
        .iter()
        .map(|p| command_of(*p))
        .collect();
    for wanted in VECTOR_SERVER_PROCESSES {
        assert!(
            commands.iter().any(|c| c.contains(wanted)),
            "no `{wanted}` among the processes running from {}: {commands:?}",
            dir.display()
        );
    }
    assert!(
        processes_inside(dir).into_iter().any(is_postgres),
        "no PostgreSQL for pgvector runs from {}",
        dir.display()
    );
}

/// A process's command line, its arguments joined by spaces.
fn command_of(pid: u32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
        .unwrap_or_default()
}

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The session directory of the private server the fixture process started.
fn session_of(pid: u32) -> PathBuf {
    let prefix = format!("private-{pid}-");
    let mut found = None;
    wait_for("the session directory", Duration::from_secs(10), || {
        found = std::fs::read_dir(sessions())
            .into_iter()
            .flatten()
            .flatten()
            .find(|e| e.file_name().to_string_lossy().starts_with(&prefix))
            .map(|e| e.path());
        found.is_some()
    });
    found.expect("found")
}

/// Whether `pid` is a PostgreSQL server process (the postmaster or a child).
fn is_postgres(pid: u32) -> bool {
    std::fs::read_link(format!("/proc/{pid}/exe"))
        .is_ok_and(|exe| exe.ends_with("pginstall/bin/postgres"))
}

/// Processes running from inside `dir`: the stack runs from its state dir,
/// PostgreSQL from its data dir.
fn processes_inside(dir: &Path) -> Vec<u32> {
    // A service may run outside the session directory (PostgreSQL, when
    // the checkout is closed to the user it runs as): its published workdir.
    let state: serde_json::Value = std::fs::read(dir.join("state.json"))
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default();
    let mut places = vec![dir.to_owned()];
    for service in state["services"].as_array().into_iter().flatten() {
        if let Some(workdir) = service["workdir"].as_str() {
            places.push(PathBuf::from(workdir));
        }
    }
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_link(format!("/proc/{pid}/cwd"))
                .is_ok_and(|cwd| places.iter().any(|place| cwd.starts_with(place)))
        })
        .collect()
}

fn signal(pid: u32, sig: &str) {
    let status = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill {sig} {pid} failed");
}

fn assert_nothing_left(dir: &Path, within: Duration) {
    let mut left = processes_inside(dir);
    let deadline = Instant::now() + within;
    while !left.is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
        left = processes_inside(dir);
    }
    assert!(
        left.is_empty(),
        "still running from {}: {left:?}",
        dir.display()
    );
}

#[test]
fn a_stack_that_dies_mid_run_is_named_by_the_first_failure_and_the_rest_fail_fast() {
    let (run, dir) = start_until_ready(&["lifecycle::a_call_then_wait", "lifecycle::b_next_call"]);
    let stack = processes_inside(&dir);
    for pid in &stack {
        signal(*pid, "-KILL");
    }
    // No pause: the test process checks the stack itself when its request
    // fails, without waiting for the supervisor to notice.
    let released = Instant::now();
    std::fs::write(run.markers.path().join("go"), "").expect("go");
    let out = run.child.wait_with_output().expect("the fixture ends");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(101), "{stdout}");
    assert!(
        released.elapsed() < Duration::from_secs(15),
        "the remaining tests did not fail fast"
    );
    assert!(
        stdout.contains("test lifecycle::a_call_then_wait ... FAILED"),
        "{stdout}"
    );
    assert!(
        stdout.contains("test lifecycle::b_next_call ... FAILED"),
        "{stdout}"
    );
    let first = stdout
        .split("---- lifecycle::a_call_then_wait stdout ----")
        .nth(1)
        .expect("the first test's failure is shown");
    assert!(
        first.contains("the Llama Stack server died (signal: 9 (SIGKILL)); the last lines of `"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "not run: the Llama Stack server died (signal: 9 (SIGKILL)) while \
             `lifecycle::a_call_then_wait` ran; that test's failure shows the log tail"
        ),
        "{stdout}"
    );
    assert_nothing_left(&dir, Duration::from_secs(20));
}

#[test]
fn ctrl_c_stops_the_stack_and_its_vector_store_servers() {
    let (run, dir) = start_until_ready_on(VECTOR_SERVERS, &["lifecycle::a_call_then_wait"]);
    assert_vector_servers_inside(&dir);
    signal(run.child.id(), "-INT");
    let out = run.child.wait_with_output().expect("the fixture ends");
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("interrupted; the stack was released"));
    assert_nothing_left(&dir, Duration::from_secs(15));
}

#[test]
fn ctrl_c_stops_the_stack_and_its_postgres() {
    let (run, dir) = start_until_ready_on(POSTGRES, &["lifecycle::a_call_then_wait"]);
    assert!(
        processes_inside(&dir).into_iter().any(is_postgres),
        "no PostgreSQL runs from {}",
        dir.display()
    );
    signal(run.child.id(), "-INT");
    let out = run.child.wait_with_output().expect("the fixture ends");
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_nothing_left(&dir, Duration::from_secs(15));
}

#[test]
fn a_killed_test_process_leaves_no_stack_and_no_postgres_behind() {
    let (mut run, dir) = start_until_ready_on(POSTGRES, &["lifecycle::a_call_then_wait"]);
    assert!(processes_inside(&dir).into_iter().any(is_postgres));
    signal(run.child.id(), "-KILL");
    let _ = run.child.wait();
    assert_nothing_left(&dir, Duration::from_secs(30));
}

#[test]
fn a_killed_test_process_leaves_nothing_behind() {
    let (mut run, dir) = start_until_ready_on(VECTOR_SERVERS, &["lifecycle::a_call_then_wait"]);
    assert_vector_servers_inside(&dir);
    signal(run.child.id(), "-KILL");
    let _ = run.child.wait();
    // The supervisor sees the lease's process gone and stops after its grace.
    assert_nothing_left(&dir, Duration::from_secs(30));
}
