//! cargo-nextest runs every test in a process of its own: prove that the
//! whole integration suite, run that way, starts exactly one Llama Stack
//! server and leaves no process of it behind; and that on the PostgreSQL
//! variant its database server, too, is one for the run and gone after it.
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
/// stack server runs from its state directory there, PostgreSQL from its
/// data directory.
fn processes_inside(dir: &Path) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_link(format!("/proc/{pid}/cwd")).is_ok_and(|cwd| cwd.starts_with(dir))
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
        run_under_nextest(PORT, &format!("server:ci-tests:{PORT}"), None)
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
            Some("stores or conversations"),
        )
    })
    .await?
}

/// `cargo nextest run --test integration` on `config` (on `port`), with
/// `keyword` as `-k`: one server start, and nothing left running after.
fn run_under_nextest(port: u16, config: &str, keyword: Option<&str>) -> Result {
    let dir = session_dir(port);
    let before = starts(&dir);
    let status = Command::new("cargo")
        .args([
            "nextest",
            "run",
            "--test",
            "integration",
            "--no-fail-fast",
            "--color",
            "never",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("LLAMA_STACK_CONFIG", config)
        .env("LLAMA_STACK_TEST_K", keyword.unwrap_or_default())
        .status()
        .context("cargo nextest does not start")?;
    ensure!(
        status.success(),
        "cargo nextest run --test integration failed: {status}"
    );
    ensure!(
        starts(&dir) - before == 1,
        "every test process must reuse the first one's server; {} servers started",
        starts(&dir) - before
    );

    // The supervisor stops the server a grace period after the last lease,
    // then records that it stopped and exits.
    let stopped = || {
        std::fs::read_to_string(dir.join("state.json"))
            .is_ok_and(|state| state.contains("\"phase\": \"stopped\""))
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while !(processes_inside(&dir).is_empty() && stopped()) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(500));
    }
    let left = processes_inside(&dir);
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

fn main() -> std::process::ExitCode {
    harness::main(env!("CARGO_MANIFEST_DIR"))
}
