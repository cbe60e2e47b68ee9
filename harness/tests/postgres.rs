//! The PostgreSQL variant end to end (the `stores` example, each run on a
//! private server of `ci-tests::run-with-postgres-store.yaml`): state kept
//! through the API survives a restart of the stack within its session, two
//! sessions never share a database, and a session leaves no PostgreSQL
//! process behind.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

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
    let path = debug.join("examples").join("stores");
    assert!(
        path.exists(),
        "{} is missing: run `cargo test -p stack-harness` (it builds examples)",
        path.display()
    );
    path
}

fn command(test: &str, markers: &Path) -> Command {
    let mut cmd = Command::new(example());
    cmd.args([
        test,
        "--exact",
        "--stack-config=ci-tests::run-with-postgres-store.yaml",
    ])
    .current_dir(root())
    .env("FIXTURE_MARKERS", markers)
    .env_remove("LLAMA_STACK_CONFIG")
    .env_remove("LLAMA_STACK_TEST_K")
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    cmd
}

/// The processes of the PostgreSQL server that runs the backend `backend`:
/// its postmaster (the backend's parent) and the postmaster's children.
/// Counting these, not every `postgres` on the machine, keeps the proof true
/// while other checkouts run sessions of their own.
fn server_processes(backend: u32) -> Vec<u32> {
    let parent = |pid: u32| -> Option<u32> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // `pid (comm) state ppid ...`: comm may hold spaces, so split after it.
        stat.rsplit_once(')')?
            .1
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    };
    let postmaster = parent(backend).expect("the backend has a parent");
    let mut pids: Vec<u32> = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| parent(pid) == Some(postmaster))
        .collect();
    pids.push(postmaster);
    pids
}

fn alive(pid: u32) -> bool {
    // A zombie has no exe link: it has ended, whoever reaps it.
    std::fs::read_link(format!("/proc/{pid}/exe")).is_ok()
}

fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn assert_passed(out: &Output, test: &str) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains(&format!("test {test} ... ok")),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn state_kept_in_postgres_survives_a_restart_of_the_stack() {
    let markers = tempfile::tempdir().expect("tempdir");
    let out = command("state_survives_a_restart", markers.path())
        .output()
        .expect("the example runs");
    assert_passed(&out, "state_survives_a_restart");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("PostgreSQL is ready on 127.0.0.1:"),
        "{stderr}"
    );
}

#[test]
fn two_sessions_never_share_a_database_and_leave_no_postgres_behind() {
    let markers = tempfile::tempdir().expect("tempdir");
    let runs: Vec<Child> = (0..2)
        .map(|_| {
            command("report_the_database", markers.path())
                .spawn()
                .expect("the example starts")
        })
        .collect();
    let reports = || {
        runs.iter()
            .filter_map(|run| {
                std::fs::read_to_string(markers.path().join(run.id().to_string())).ok()
            })
            .collect::<Vec<String>>()
    };
    wait_until("both sessions to report", Duration::from_secs(300), || {
        reports().len() == 2
    });
    let reports: Vec<(String, String)> = reports()
        .iter()
        .map(|r| {
            let mut lines = r.lines();
            (
                lines.next().expect("address").to_owned(),
                lines.next().expect("conversation").to_owned(),
            )
        })
        .collect();
    assert_ne!(reports[0].0, reports[1].0, "both sessions use one server");

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let servers = runtime.block_on(async {
        let mut identities = Vec::new();
        let mut servers = Vec::new();
        for (i, (address, _)) in reports.iter().enumerate() {
            let (client, connection) = tokio_postgres::connect(address, tokio_postgres::NoTls)
                .await
                .expect("the session's PostgreSQL answers");
            tokio::spawn(connection);
            let identity: i64 = client
                .query_one("SELECT system_identifier FROM pg_control_system()", &[])
                .await
                .expect("system identifier")
                .get(0);
            identities.push(identity);
            let backend: i32 = client
                .query_one("SELECT pg_backend_pid()", &[])
                .await
                .expect("backend pid")
                .get(0);
            servers.extend(server_processes(backend.unsigned_abs()));
            let (_, own) = &reports[i];
            let (_, other) = &reports[1 - i];
            for (conversation, expected) in [(own, 1_i64), (other, 0)] {
                let count: i64 = client
                    .query_one(
                        "SELECT count(*) FROM openai_conversations WHERE id = $1",
                        &[conversation],
                    )
                    .await
                    .expect("count")
                    .get(0);
                assert_eq!(
                    count, expected,
                    "conversation {conversation} in the database at {address}"
                );
            }
        }
        assert_ne!(identities[0], identities[1], "two sessions, one cluster");
        servers
    });

    std::fs::write(markers.path().join("go"), "").expect("go");
    for run in runs {
        let out = run.wait_with_output().expect("the example ends");
        assert_passed(&out, "report_the_database");
    }
    wait_until(
        "the sessions' PostgreSQL processes to end",
        Duration::from_secs(30),
        || !servers.iter().copied().any(alive),
    );
}
