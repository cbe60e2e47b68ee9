//! cargo-nextest runs every test in a process of its own: prove that the
//! whole integration suite, run that way, starts exactly one Llama Stack
//! server and leaves no process of it behind, with the vector-io providers
//! that run processes of their own (milvus-lite's `milvus`, the chroma
//! server and pgvector's PostgreSQL run from the session directory too, and
//! must be gone with the stack); and that on the PostgreSQL variant its
//! database server, too, is one for the run and gone after it.
//!
//! It runs `cargo nextest run` on the already-built integration target (cargo
//! holds no lock while tests run), on a port of its own so it cannot meet a
//! server of another run. A machine without cargo-nextest reports the test
//! ignored, saying how to install it (CI installs it: see `.ci/run`); this
//! target runs on stack-harness itself, which can skip at run time.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use harness::prelude::*;

/// A port per run, so the two cannot meet each other's server.
const PORT: u16 = 8331;
const POSTGRES_PORT: u16 = 8333;

fn session_dir(port: u16) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    target
        .join("stack-harness")
        .join("sessions")
        .join(format!("port-{port}"))
}

fn starts(dir: &Path) -> usize {
    std::fs::read_to_string(dir.join("starts.log")).map_or(0, |s| s.lines().count())
}

/// Processes whose working directory is inside the session directory: the
/// stack server runs from its state directory there, milvus-lite's child
/// from the state's `sqlite/`, the chroma server from `chroma/`, PostgreSQL
/// from its data directory.
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

/// Whether `cargo nextest` runs here.
fn nextest_installed() -> bool {
    Command::new("cargo")
        .args(["nextest", "--version"])
        .output()
        .is_ok_and(|o| o.status.success())
}

const NO_NEXTEST: &str =
    "cargo-nextest is not installed; install it with `cargo install --locked cargo-nextest`";

#[harness::test(stack = false, timeout = 900)]
async fn the_suite_under_nextest_shares_one_server_and_leaves_nothing_running(
    _ctx: &TestContext,
) -> Result {
    if !nextest_installed() {
        return harness::skip(NO_NEXTEST);
    }
    tokio::task::spawn_blocking(|| {
        run_under_nextest(
            PORT,
            &format!("server:ci-tests:{PORT}"),
            // The providers with processes of their own; the others are the
            // stack's alone (and run in the partition proof below).
            &[(
                "LLAMA_STACK_TEST_VECTOR_IO_PROVIDER",
                "milvus,chromadb,pgvector",
            )],
        )
    })
    .await?
}

/// The stores and conversations tests (the ones that write to the
/// database), each in its own process, on the PostgreSQL variant.
#[harness::test(stack = false, timeout = 900)]
async fn postgres_under_nextest_is_one_server_for_the_run_and_gone_after(
    _ctx: &TestContext,
) -> Result {
    if !nextest_installed() {
        return harness::skip(NO_NEXTEST);
    }
    tokio::task::spawn_blocking(|| {
        run_under_nextest(
            POSTGRES_PORT,
            &format!("server:ci-tests::run-with-postgres-store.yaml:{POSTGRES_PORT}"),
            &[("LLAMA_STACK_TEST_K", "stores or conversations")],
        )
    })
    .await?
}

/// `cargo nextest run --test integration` on `config` (on `port`), with the
/// `selection` variables: one server start, and nothing left running after.
fn run_under_nextest(port: u16, config: &str, selection: &[(&str, &str)]) -> Result {
    let dir = session_dir(port);
    let before = starts(&dir);
    nextest(
        &[
            "run",
            "--test",
            "integration",
            "--no-fail-fast",
            "--color",
            "never",
        ],
        config,
        selection,
    )?;
    one_start_and_nothing_left(&dir, port, before)
}

/// The variables that shape which trials a run has: a nested run gets only
/// those its proof gives, none inherited from this run's own environment.
const SELECTION_VARS: [&str; 2] = ["LLAMA_STACK_TEST_K", "LLAMA_STACK_TEST_VECTOR_IO_PROVIDER"];

/// Runs `cargo nextest ARGS` in the project against `config`, with the
/// `selection` variables; fails unless it succeeds. Its output goes to this
/// test's output.
fn nextest(args: &[&str], config: &str, selection: &[(&str, &str)]) -> Result<Vec<u8>> {
    let mut command = Command::new("cargo");
    command
        .arg("nextest")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("LLAMA_STACK_CONFIG", config);
    for var in SELECTION_VARS {
        command.env_remove(var);
    }
    let out = command
        .envs(selection.iter().copied())
        .stderr(std::process::Stdio::inherit())
        .output()
        .context("cargo nextest does not start")?;
    ensure!(
        out.status.success(),
        "cargo nextest {} failed ({}):\n{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stdout)
    );
    Ok(out.stdout)
}

/// Exactly one stack started in `dir` since `before`, and once the run is
/// over the supervisor stops: no process left, the port free.
fn one_start_and_nothing_left(dir: &Path, port: u16, before: usize) -> Result {
    ensure!(
        starts(dir) - before == 1,
        "every test process must reuse the first one's server; {} servers started",
        starts(dir) - before
    );

    // The supervisor stops the server a grace period after the last lease,
    // then records that it stopped and exits.
    let stopped = || {
        std::fs::read_to_string(dir.join("state.json"))
            .is_ok_and(|state| state.contains("\"phase\": \"stopped\""))
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while !(processes_inside(dir).is_empty() && stopped()) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(500));
    }
    let left = processes_inside(dir);
    ensure!(
        left.is_empty(),
        "processes still running from {}: {left:?}",
        dir.display()
    );
    ensure!(
        std::net::TcpListener::bind(("127.0.0.1", port)).is_ok(),
        "port {port} is still held after the run"
    );
    let state =
        std::fs::read_to_string(dir.join("state.json")).context("the supervisor left no state")?;
    ensure!(stopped(), "the supervisor did not stop cleanly: {state}");
    Ok(())
}

/// How CI runs the suite: built once into an archive, then run in
/// partitions on separate machines, each with its own stack.
const PARTITIONS: u16 = 3;
const PARTITION_PORTS: [u16; 3] = [8334, 8335, 8336];

#[harness::test(stack = false, timeout = 1800)]
async fn archive_partitions_cover_the_suite_once_each_on_its_own_stack(
    _ctx: &TestContext,
) -> Result {
    if !nextest_installed() {
        return harness::skip(NO_NEXTEST);
    }
    tokio::task::spawn_blocking(run_partitions).await?
}

fn run_partitions() -> Result {
    let work = tempfile::tempdir().context("a scratch directory")?;
    let archive = work.path().join("integration.tar.zst");
    let archive = archive.to_str().context("a UTF-8 scratch path")?;
    let root = env!("CARGO_MANIFEST_DIR");
    nextest(
        &[
            "archive",
            "--test",
            "integration",
            "--archive-file",
            archive,
        ],
        "server:ci-tests",
        &[],
    )?;
    let from_archive = ["--archive-file", archive, "--workspace-remap", root];
    let whole = listed(&nextest(
        &[&["list", "--message-format", "json"][..], &from_archive].concat(),
        "server:ci-tests",
        &[],
    )?)?;
    ensure!(!whole.is_empty(), "the archive lists no test");

    let mut seen: Vec<String> = Vec::new();
    for (k, port) in (1..=PARTITIONS).zip(PARTITION_PORTS) {
        let partition = format!("count:{k}/{PARTITIONS}");
        let config = format!("server:ci-tests:{port}");
        let part = listed(&nextest(
            &[
                &[
                    "list",
                    "--message-format",
                    "json",
                    "--partition",
                    &partition,
                ][..],
                &from_archive,
            ]
            .concat(),
            &config,
            &[],
        )?)?;
        ensure!(!part.is_empty(), "partition {partition} lists no test");
        let dir = session_dir(port);
        let before = starts(&dir);
        nextest(
            &[
                &[
                    "run",
                    "--no-fail-fast",
                    "--color",
                    "never",
                    "--partition",
                    &partition,
                ][..],
                &from_archive,
            ]
            .concat(),
            &config,
            &[],
        )
        .with_context(|| format!("partition {partition}"))?;
        one_start_and_nothing_left(&dir, port, before)
            .with_context(|| format!("partition {partition}"))?;
        seen.extend(part);
    }
    let mut sorted = seen.clone();
    sorted.sort();
    let twice: Vec<&String> = sorted
        .windows(2)
        .filter(|w| w[0] == w[1])
        .map(|w| &w[0])
        .collect();
    ensure!(twice.is_empty(), "trials in two partitions: {twice:?}");
    let mut whole_sorted = whole;
    whole_sorted.sort();
    ensure!(
        sorted == whole_sorted,
        "the partitions' union is not the whole suite: {} trials in partitions, {} in the suite",
        sorted.len(),
        whole_sorted.len()
    );
    Ok(())
}

/// The trials `cargo nextest list --message-format json` selected.
fn listed(json: &[u8]) -> Result<Vec<String>> {
    let list: Value = serde_json::from_slice(json).context("nextest's list is not JSON")?;
    let suites = list["rust-suites"]
        .as_object()
        .context("no `rust-suites` in nextest's list")?;
    let mut names = Vec::new();
    for suite in suites.values() {
        let cases = suite["testcases"]
            .as_object()
            .context("a suite without `testcases`")?;
        for (name, case) in cases {
            if case["filter-match"]["status"] == "matches" {
                names.push(name.clone());
            }
        }
    }
    Ok(names)
}

fn main() -> std::process::ExitCode {
    harness::main(env!("CARGO_MANIFEST_DIR"))
}
