//! The files a session keeps under `target/stack-harness/sessions/<key>/`:
//! the lock that serialises start-up, the supervisor's spec and state, the
//! lease files of the test processes using it, and the logs.
//!
//! ```text
//! sessions/port-8321/
//!   lock            exclusive while a process starts or inspects the session
//!   spec.json       what the supervisor was asked to run
//!   state.json      what it is doing (starting, ready, failed, stopped)
//!   leases/<pid>    one per test process using the server
//!   stop            written to ask the supervisor to stop
//!   restart         written to ask it to restart the stack
//!   starts.log      one line per stack server started here
//!   supervisor.log  the supervisor's own progress
//!   stack.log       the stack's stdout and stderr
//!   state/          the stack's SQLite files, uploaded files, ...
//! ```

use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::services::Running;

/// Where a session's files live.
#[derive(Clone, Debug)]
pub(crate) struct SessionDir {
    pub dir: PathBuf,
}

/// The supervisor's published state.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub(crate) struct State {
    pub supervisor_pid: u32,
    pub phase: Phase,
    pub config_hash: String,
    /// `--stack-config` as typed, for `sessions`.
    pub shown: String,
    pub port: u16,
    /// When the supervisor started, in seconds since the Unix epoch.
    pub started_at: u64,
    /// `http://127.0.0.1:8321`
    pub base_url: Option<String>,
    /// The proxy's control base, `http://127.0.0.1:PORT`, when it records.
    pub proxy_url: Option<String>,
    /// The stack server's pid (and process group), so a test process can
    /// see for itself that it died.
    pub stack_pid: Option<u32>,
    pub stack_version: Option<String>,
    /// Everything the supervisor runs, the stacks last.
    pub services: Vec<Running>,
    /// Every stack server (`--stack-replicas`), the first being
    /// `base_url` and `stack_pid`.
    pub replicas: Vec<Replica>,
    /// Why it failed or stopped, with the log tail.
    pub error: Option<String>,
    /// The one-line account of a service that died: `the Llama Stack
    /// server died (signal: 9 (SIGKILL))`.
    pub casualty: Option<String>,
    pub keep: bool,
}

/// One stack server of the session.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Replica {
    pub base_url: String,
    pub pid: u32,
}

impl State {
    /// The stack servers' pids, in replica order.
    pub(crate) fn replica_pids(&self) -> Vec<u32> {
        self.replicas.iter().map(|r| r.pid).collect()
    }
}

#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Phase {
    #[default]
    Starting,
    Ready,
    Failed,
    Stopped,
}

impl SessionDir {
    pub(crate) fn new(target_dir: &Path, key: &str) -> SessionDir {
        SessionDir {
            dir: target_dir.join("stack-harness").join("sessions").join(key),
        }
    }

    pub(crate) fn create(&self) -> std::io::Result<()> {
        fs::create_dir_all(self.dir.join("leases"))?;
        fs::create_dir_all(self.dir.join("state"))
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Takes the session's lock, waiting for whoever holds it. The lock is
    /// released when the returned file is dropped (or the process dies).
    pub(crate) fn lock(&self) -> std::io::Result<File> {
        self.create()?;
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.path("lock"))?;
        file.lock()?;
        Ok(file)
    }

    pub(crate) fn read_state(&self) -> Option<State> {
        let text = fs::read_to_string(self.path("state.json")).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Replaces state.json atomically, so a reader never sees half of it.
    pub(crate) fn write_state(&self, state: &State) -> std::io::Result<()> {
        let json = serde_json::to_string_pretty(state).map_err(std::io::Error::other)?;
        crate::atomic::write(&self.path("state.json"), json.as_bytes())
    }

    pub(crate) fn add_lease(&self, pid: u32) -> std::io::Result<()> {
        fs::create_dir_all(self.path("leases"))?;
        fs::write(self.path("leases").join(pid.to_string()), b"")
    }

    pub(crate) fn remove_lease(&self, pid: u32) {
        let _ = fs::remove_file(self.path("leases").join(pid.to_string()));
    }

    /// The pids holding leases, after dropping those of dead processes.
    pub(crate) fn live_leases(&self) -> Vec<u32> {
        let Ok(entries) = fs::read_dir(self.path("leases")) else {
            return Vec::new();
        };
        let mut live = Vec::new();
        for entry in entries.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|s| s.parse::<u32>().ok())
            else {
                continue;
            };
            if pid_alive(pid) {
                live.push(pid);
            } else {
                let _ = fs::remove_file(entry.path());
            }
        }
        live.sort_unstable();
        live
    }

    /// Appends `pid` to `starts.log`, the count of servers this session
    /// directory has started.
    pub(crate) fn record_start(&self, pid: u32) -> std::io::Result<()> {
        let mut log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.path("starts.log"))?;
        writeln!(log, "{pid}")
    }

    pub(crate) fn request_stop(&self) -> std::io::Result<()> {
        fs::write(self.path("stop"), b"")
    }

    pub(crate) fn stop_requested(&self) -> bool {
        self.path("stop").exists()
    }

    pub(crate) fn clear_stop(&self) {
        let _ = fs::remove_file(self.path("stop"));
    }

    /// Asks the supervisor to restart the stack (only the stack: the
    /// services it depends on, and their data, stay).
    pub(crate) fn request_restart(&self) -> std::io::Result<()> {
        fs::write(self.path("restart"), b"")
    }

    /// Takes a pending restart request, if any.
    pub(crate) fn take_restart(&self) -> bool {
        fs::remove_file(self.path("restart")).is_ok()
    }
}

/// Whether a process with this pid exists (signal 0 probes without sending).
pub(crate) fn pid_alive(pid: u32) -> bool {
    let Some(pid) = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    else {
        return false;
    };
    match rustix::process::test_kill_process(pid) {
        Ok(()) => true,
        // It exists but belongs to someone else.
        Err(e) => e == rustix::io::Errno::PERM,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_round_trips_and_leases_of_dead_processes_are_dropped() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let s = SessionDir::new(tmp.path(), "port-1");
        s.create().expect("create");
        assert_eq!(s.read_state(), None);
        let state = State {
            supervisor_pid: 1,
            phase: Phase::Ready,
            config_hash: "abc".into(),
            base_url: Some("http://127.0.0.1:1".into()),
            stack_version: Some("0.7.3".into()),
            ..State::default()
        };
        s.write_state(&state).expect("write");
        assert_eq!(s.read_state(), Some(state));

        s.add_lease(std::process::id()).expect("lease");
        s.add_lease(999_999_999)
            .expect("lease of a pid that cannot exist");
        assert_eq!(s.live_leases(), [std::process::id()]);
        s.remove_lease(std::process::id());
        assert!(s.live_leases().is_empty());
    }

    #[test]
    fn the_lock_is_exclusive_across_handles() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let s = SessionDir::new(tmp.path(), "port-2");
        let held = s.lock().expect("lock");
        let other = OpenOptions::new()
            .write(true)
            .open(s.path("lock"))
            .expect("open");
        assert!(other.try_lock().is_err());
        drop(held);
        assert!(other.try_lock().is_ok());
    }
}
