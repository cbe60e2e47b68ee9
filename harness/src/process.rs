//! Child processes the harness starts and owns: the Llama Stack server and the
//! local model servers. [`spawn`] detaches a command into its own session with
//! its output appended to a log file; [`OwnedProcess`] waits for it to answer HTTP
//! and stops its whole process group. Also loopback port helpers, a log tail,
//! and the [`Progress`] sink that long operations report to.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal};

mod net;

use net::display_host;
pub(crate) use net::{Probe, free_port, port_is_free, probe};

/// How many log lines an error shows when a server dies or never gets ready.
pub(crate) const LOG_TAIL_LINES: usize = 40;

/// How long [`OwnedProcess::stop`] waits after SIGTERM before SIGKILL.
pub(crate) const DEFAULT_GRACE: Duration = Duration::from_secs(5);

/// How often a wait reports that it is still waiting.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);

/// Variables a child keeps from our environment; everything else it gets is
/// passed explicitly. A clean environment keeps the harness's own settings
/// (e.g. `LLAMA_STACK_TEST_INFERENCE_MODE`, which would switch on the stack's
/// in-process recorder) from leaking into the servers it starts.
const PASSED_THROUGH: &[&str] = &[
    "PATH",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "TMPDIR",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "PIP_CERT",
    "PIP_INDEX_URL",
    "PIP_EXTRA_INDEX_URL",
    "PIP_FIND_LINKS",
    "PIP_DEFAULT_TIMEOUT",
    "UV_INDEX_URL",
    "UV_DEFAULT_INDEX",
    "UV_CACHE_DIR",
];

#[derive(Debug, thiserror::Error)]
pub(crate) enum ProcessError {
    #[error("cannot start {name}: `{program}`: {source}{hint}", hint = missing_hint(source))]
    Spawn {
        name: String,
        program: PathBuf,
        source: io::Error,
    },
    #[error("cannot open the log file `{path}`: {source}")]
    Log { path: PathBuf, source: io::Error },
    #[error(
        "{} exited during start-up ({status}); last {LOG_TAIL_LINES} lines of `{}`:\n{}",
        .server.name, .server.log.display(), .server.tail
    )]
    ExitedDuringStartup {
        status: ExitStatus,
        server: Box<ServerLog>,
    },
    #[error(
        "{} did not answer 200 on {url} within {waited_secs} s (last try: {last}); \
         last {LOG_TAIL_LINES} lines of `{}`:\n{}",
        .server.name, .server.log.display(), .server.tail
    )]
    NotReady {
        url: String,
        waited_secs: u64,
        last: Probe,
        server: Box<ServerLog>,
    },
    #[error("cannot signal process group {pid}: {source}")]
    Signal { pid: u32, source: io::Error },
    #[error("cannot wait for {name} (pid {pid}): {source}")]
    Wait {
        name: String,
        pid: u32,
        source: io::Error,
    },
    #[error("no free TCP port on 127.0.0.1: {0}")]
    NoFreePort(io::Error),
}

/// Who failed to start, and the end of its log.
#[derive(Debug)]
pub(crate) struct ServerLog {
    pub name: String,
    pub log: PathBuf,
    pub tail: String,
}

impl ServerLog {
    fn of(service: &OwnedProcess) -> Box<Self> {
        Box::new(Self {
            name: service.name.clone(),
            log: service.log.clone(),
            tail: log_tail(&service.log, LOG_TAIL_LINES),
        })
    }
}

fn missing_hint(source: &io::Error) -> &'static str {
    if source.kind() == io::ErrorKind::NotFound {
        " (no such program: is it installed?)"
    } else {
        ""
    }
}

/// Where long operations (provisioning, builds, start-up waits) report what
/// they are doing: the session supervisor's log in real runs, a buffer in tests.
#[derive(Clone)]
pub(crate) struct Progress {
    sink: Arc<dyn Fn(&str) + Send + Sync>,
}

impl Progress {
    /// A sink that keeps every line, for tests that check what was said.
    #[cfg(test)]
    pub(crate) fn recording() -> (Self, Arc<std::sync::Mutex<Vec<String>>>) {
        let lines = Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = Arc::clone(&lines);
        let progress = Self::new(move |l| {
            if let Ok(mut lines) = sink.lock() {
                lines.push(l.to_owned());
            }
        });
        (progress, lines)
    }

    #[cfg(test)]
    pub(crate) fn silent() -> Self {
        Self::new(|_| {})
    }

    pub(crate) fn new(sink: impl Fn(&str) + Send + Sync + 'static) -> Self {
        Self {
            sink: Arc::new(sink),
        }
    }

    pub(crate) fn say(&self, line: impl AsRef<str>) {
        (self.sink)(line.as_ref());
    }
}

impl fmt::Debug for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Progress")
    }
}

/// What to start: a program with arguments and an explicit environment
/// (on top of [`PASSED_THROUGH`]), its output appended to `log`.
#[derive(Clone, Debug)]
pub(crate) struct Spawn {
    /// Who this is in messages: "Llama Stack", "the chat model server".
    pub name: String,
    pub program: PathBuf,
    pub args: Vec<OsString>,
    pub env: Vec<(OsString, OsString)>,
    pub cwd: Option<PathBuf>,
    pub log: PathBuf,
    /// Run as this user (uid, gid) instead of ours: servers that refuse to
    /// run as root (PostgreSQL) when the harness is root.
    pub user: Option<(u32, u32)>,
    /// What asks it to stop; SIGKILL follows after the grace period.
    pub stop_signal: StopSignal,
}

/// The signal that asks a server to stop.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum StopSignal {
    /// SIGTERM: most servers' clean shutdown.
    #[default]
    Term,
    /// SIGINT: PostgreSQL's "fast" shutdown (SIGTERM is its "smart" one,
    /// which waits for every client to leave).
    Int,
}

impl StopSignal {
    fn signal(self) -> Signal {
        match self {
            StopSignal::Term => Signal::TERM,
            StopSignal::Int => Signal::INT,
        }
    }
}

impl Spawn {
    pub(crate) fn new(
        name: impl Into<String>,
        program: impl Into<PathBuf>,
        log: impl Into<PathBuf>,
    ) -> Self {
        Self {
            name: name.into(),
            program: program.into(),
            args: Vec::new(),
            env: Vec::new(),
            cwd: None,
            log: log.into(),
            user: None,
            stop_signal: StopSignal::Term,
        }
    }

    pub(crate) fn user(mut self, uid: u32, gid: u32) -> Self {
        self.user = Some((uid, gid));
        self
    }

    pub(crate) fn stop_signal(mut self, signal: StopSignal) -> Self {
        self.stop_signal = signal;
        self
    }

    pub(crate) fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    pub(crate) fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.env
            .push((key.as_ref().to_owned(), value.as_ref().to_owned()));
        self
    }

    pub(crate) fn cwd(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cwd = Some(dir.into());
        self
    }

    /// The command line as a user would type it, for logs and messages.
    pub(crate) fn command_line(&self) -> String {
        std::iter::once(self.program.as_os_str())
            .chain(self.args.iter().map(OsString::as_os_str))
            .map(|s| s.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Starts `spec` in a new session (so it is its own process group, has no
/// controlling terminal, and a test runner does not see it as a leaked child
/// of the test), stdin from /dev/null, stdout and stderr appended to its log.
pub(crate) fn spawn(spec: &Spawn) -> Result<OwnedProcess, ProcessError> {
    let log_err = |source| ProcessError::Log {
        path: spec.log.clone(),
        source,
    };
    if let Some(dir) = spec.log.parent() {
        fs::create_dir_all(dir).map_err(log_err)?;
    }
    let mut log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&spec.log)
        .map_err(log_err)?;
    writeln!(log, "--- stack-harness: starting {}", spec.command_line()).map_err(log_err)?;
    let log_for_stderr = log.try_clone().map_err(log_err)?;

    let mut command = Command::new(&spec.program);
    command
        .args(&spec.args)
        .env_clear()
        .envs(
            PASSED_THROUGH
                .iter()
                .filter_map(|k| std::env::var_os(k).map(|v| (*k, v))),
        )
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_for_stderr);
    if let Some(dir) = &spec.cwd {
        command.current_dir(dir);
    }
    if let Some((uid, gid)) = spec.user {
        // As root, std also drops the supplementary groups (setgroups).
        command.uid(uid).gid(gid);
    }
    // SAFETY: the closure runs between fork and exec, where only
    // async-signal-safe calls are allowed; setsid(2) is a bare system call
    // and the closure allocates nothing.
    unsafe {
        command.pre_exec(|| rustix::process::setsid().map(drop).map_err(io::Error::from));
    }
    let child = command.spawn().map_err(|source| ProcessError::Spawn {
        name: spec.name.clone(),
        program: spec.program.clone(),
        source,
    })?;
    Ok(OwnedProcess {
        name: spec.name.clone(),
        log: spec.log.clone(),
        child: Some(child),
        stop_signal: spec.stop_signal,
    })
}

/// A started server. Dropping it stops its process group, so a panic or an
/// early return never leaves a server behind.
#[derive(Debug)]
pub(crate) struct OwnedProcess {
    name: String,
    log: PathBuf,
    child: Option<Child>,
    stop_signal: StopSignal,
}

impl OwnedProcess {
    /// Also its process group id and session id: it leads both.
    pub(crate) fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    pub(crate) fn log_path(&self) -> &Path {
        &self.log
    }

    /// `Some(status)` once the leader has exited.
    pub(crate) fn exit_status(&mut self) -> Result<Option<ExitStatus>, ProcessError> {
        let pid = self.pid();
        match self.child.as_mut() {
            None => Ok(None),
            Some(child) => child.try_wait().map_err(|source| ProcessError::Wait {
                name: self.name.clone(),
                pid,
                source,
            }),
        }
    }

    /// Polls `url` until it answers 200, printing progress every few seconds.
    /// Fails at once with the log tail if the process exits, and with the log
    /// tail and the last answer when `deadline` passes. Returns the time taken.
    pub(crate) fn wait_until_ok(
        &mut self,
        url: &str,
        deadline: Duration,
        progress: &Progress,
    ) -> Result<Duration, ProcessError> {
        let started = Instant::now();
        let mut next_report = started + PROGRESS_EVERY;
        let where_ = display_host(url);
        loop {
            if let Some(status) = self.exit_status()? {
                return Err(ProcessError::ExitedDuringStartup {
                    status,
                    server: ServerLog::of(self),
                });
            }
            let last = probe(url, Duration::from_secs(2));
            if last == Probe::Status(200) {
                return Ok(started.elapsed());
            }
            let now = Instant::now();
            if now.duration_since(started) >= deadline {
                return Err(ProcessError::NotReady {
                    url: url.to_owned(),
                    waited_secs: deadline.as_secs(),
                    last,
                    server: ServerLog::of(self),
                });
            }
            if now >= next_report {
                progress.say(format!(
                    "waiting for {} on {where_} ({} s) ...",
                    self.name,
                    now.duration_since(started).as_secs()
                ));
                next_report += PROGRESS_EVERY;
            }
            std::thread::sleep(
                Duration::from_millis(100).min(deadline.saturating_sub(now - started)),
            );
        }
    }

    /// SIGTERM to the whole process group, SIGKILL after `grace`; reaps the
    /// leader. Stopping twice is harmless.
    pub(crate) fn stop(&mut self, grace: Duration) -> Result<(), ProcessError> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        let pid = child.id();
        let signal = self.stop_signal.signal();
        let result = terminate_group(pid, grace, signal, || {
            matches!(child.try_wait(), Ok(Some(_)))
        });
        // Reap whatever happened, so no zombie outlives us.
        let _ = child.kill();
        let _ = child.wait();
        result
    }
}

impl Drop for OwnedProcess {
    fn drop(&mut self) {
        let _ = self.stop(DEFAULT_GRACE);
    }
}

/// True while any process of the group `pid` is alive. Zombies do not count:
/// orphans of a killed server wait for init to reap them, which inside a
/// container may take a while or never happen.
pub(crate) fn group_is_alive(pid: u32) -> bool {
    let Some(group) = to_pid(pid) else {
        return false;
    };
    if rustix::process::test_kill_process_group(group).is_err() {
        return false;
    }
    live_group_members(pid).unwrap_or(true)
}

/// Whether the process `pid` runs: it exists and is not a zombie waiting
/// for its parent to reap it (a killed server stays one until the
/// supervisor looks). One read of `/proc/<pid>/stat`; where `/proc` cannot
/// be read, whether it exists.
pub(crate) fn is_running(pid: u32) -> bool {
    let Some(target) = to_pid(pid) else {
        return false;
    };
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(e) if e.kind() == io::ErrorKind::NotFound => false,
        Err(_) => rustix::process::test_kill_process(target).is_ok(),
    }
}

/// Whether the group has a member that is not a zombie, from `/proc`; `None`
/// where `/proc` cannot be read.
fn live_group_members(pgid: u32) -> Option<bool> {
    let entries = fs::read_dir("/proc").ok()?;
    let pgid = pgid.to_string();
    Some(entries.flatten().any(|entry| {
        let name = entry.file_name();
        if !name.to_string_lossy().bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
        // `pid (comm) state ppid pgrp ...`; comm may hold spaces and parentheses.
        let Ok(stat) = fs::read_to_string(entry.path().join("stat")) else {
            return false;
        };
        let Some((_, rest)) = stat.rsplit_once(')') else {
            return false;
        };
        let mut fields = rest.split_whitespace();
        let state = fields.next();
        let pgrp = fields.nth(1);
        pgrp == Some(pgid.as_str()) && state != Some("Z") && state != Some("X")
    }))
}

fn terminate_group(
    pid: u32,
    grace: Duration,
    signal: Signal,
    mut leader_reaped: impl FnMut() -> bool,
) -> Result<(), ProcessError> {
    let Some(group) = to_pid(pid) else {
        return Ok(());
    };
    let gone = |leader_reaped: &mut dyn FnMut() -> bool| {
        // Reap our own leader first, so it does not linger as a zombie.
        leader_reaped();
        !group_is_alive(pid)
    };
    match rustix::process::kill_process_group(group, signal) {
        Ok(()) => {}
        Err(rustix::io::Errno::SRCH) => return Ok(()),
        Err(e) => {
            return Err(ProcessError::Signal {
                pid,
                source: e.into(),
            });
        }
    }
    let until = Instant::now() + grace;
    while Instant::now() < until {
        if gone(&mut leader_reaped) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    match rustix::process::kill_process_group(group, Signal::KILL) {
        Ok(()) | Err(rustix::io::Errno::SRCH) => {}
        Err(e) => {
            return Err(ProcessError::Signal {
                pid,
                source: e.into(),
            });
        }
    }
    let until = Instant::now() + Duration::from_secs(2);
    while Instant::now() < until && !gone(&mut leader_reaped) {
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

/// Rejects pid 0 and anything that would not be a positive pid: signalling
/// group 0 or -1 would hit our own group or every process we may signal.
fn to_pid(pid: u32) -> Option<Pid> {
    i32::try_from(pid)
        .ok()
        .filter(|p| *p > 1)
        .and_then(Pid::from_raw)
}

/// The last `n` lines of a log file (at most its last 64 KiB), or a note
/// saying why there are none.
pub(crate) fn log_tail(path: &Path, n: usize) -> String {
    const WINDOW: u64 = 64 * 1024;
    let read = || -> io::Result<String> {
        let mut file = File::open(path)?;
        let len = file.metadata()?.len();
        let start = len.saturating_sub(WINDOW);
        file.seek(SeekFrom::Start(start))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        let text = String::from_utf8_lossy(&bytes).into_owned();
        // A window that starts mid-line would show half a line first.
        let text = if start > 0 {
            text.split_once('\n')
                .map_or("", |(_, rest)| rest)
                .to_owned()
        } else {
            text
        };
        Ok(text)
    };
    match read() {
        Ok(text) => {
            let lines: Vec<&str> = text.lines().collect();
            let tail = &lines[lines.len().saturating_sub(n)..];
            if tail.is_empty() {
                "(the log is empty)".to_owned()
            } else {
                tail.join("\n")
            }
        }
        Err(e) => format!("(cannot read the log: {e})"),
    }
}

#[cfg(test)]
mod tests {

    use super::*;

    fn sh(dir: &Path, script: &str) -> Spawn {
        Spawn::new("the fake server", "/bin/sh", dir.join("logs/fake.log")).args(["-c", script])
    }

    #[test]
    fn a_server_that_exits_at_once_fails_with_its_log_tail() {
        let dir = tempfile::tempdir().unwrap();
        let spec = sh(dir.path(), "echo boom; echo bang >&2; exit 3");
        let mut service = spawn(&spec).unwrap();
        let port = free_port().unwrap();
        let err = service
            .wait_until_ok(
                &format!("http://127.0.0.1:{port}/v1/health"),
                Duration::from_secs(10),
                &Progress::silent(),
            )
            .unwrap_err();
        let log = dir.path().join("logs/fake.log");
        assert_eq!(
            err.to_string(),
            format!(
                "the fake server exited during start-up (exit status: 3); last 40 lines of `{}`:\n\
                 --- stack-harness: starting /bin/sh -c echo boom; echo bang >&2; exit 3\nboom\nbang",
                log.display()
            )
        );
    }

    #[test]
    fn a_server_that_never_answers_times_out_with_the_last_answer_and_log_tail() {
        let dir = tempfile::tempdir().unwrap();
        let mut service = spawn(&sh(dir.path(), "echo starting; exec sleep 30")).unwrap();
        let port = free_port().unwrap();
        let url = format!("http://127.0.0.1:{port}/v1/health");
        let err = service
            .wait_until_ok(&url, Duration::from_millis(300), &Progress::silent())
            .unwrap_err();
        let log = dir.path().join("logs/fake.log");
        assert_eq!(
            err.to_string(),
            format!(
                "the fake server did not answer 200 on {url} within 0 s (last try: connection refused); \
                 last 40 lines of `{}`:\n--- stack-harness: starting /bin/sh -c echo starting; exec sleep 30\n\
                 starting",
                log.display()
            )
        );
        let pid = service.pid();
        service.stop(DEFAULT_GRACE).unwrap();
        assert!(!group_is_alive(pid));
    }

    #[test]
    fn waiting_ends_when_the_url_answers_200_and_a_404_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let mut service = spawn(&sh(dir.path(), "exec sleep 30")).unwrap();
        let ok = net::tests::http_answering("200 OK");
        let (progress, lines) = Progress::recording();
        service
            .wait_until_ok(
                &format!("http://127.0.0.1:{ok}/v1/models"),
                Duration::from_secs(5),
                &progress,
            )
            .unwrap();
        assert!(lines.lock().unwrap().is_empty());

        let not_found = net::tests::http_answering("404 Not Found");
        let url = format!("http://127.0.0.1:{not_found}/v1/health");
        assert_eq!(probe(&url, Duration::from_secs(1)), Probe::Status(404));
        let err = service
            .wait_until_ok(&url, Duration::from_millis(200), &progress)
            .unwrap_err();
        assert!(
            err.to_string().contains("(last try: GET answered 404)"),
            "{err}"
        );
    }

    #[test]
    fn stop_ends_the_whole_group_and_sigkills_what_ignores_sigterm() {
        let dir = tempfile::tempdir().unwrap();
        // `sleep` inherits the ignored SIGTERM, so only SIGKILL ends the group.
        let mut service =
            spawn(&sh(dir.path(), "trap '' TERM; sleep 30 & sleep 30; wait")).unwrap();
        let pid = service.pid();
        std::thread::sleep(Duration::from_millis(100));
        assert!(group_is_alive(pid));
        let started = Instant::now();
        service.stop(Duration::from_millis(200)).unwrap();
        assert!(!group_is_alive(pid));
        assert!(started.elapsed() < Duration::from_secs(3));
        // Stopping again, or dropping, is harmless.
        service.stop(DEFAULT_GRACE).unwrap();
    }

    #[test]
    fn dropping_a_service_stops_it_and_stopping_ends_a_leaderless_group() {
        let dir = tempfile::tempdir().unwrap();
        let service = spawn(&sh(dir.path(), "exec sleep 30")).unwrap();
        let pid = service.pid();
        drop(service);
        assert!(!group_is_alive(pid));

        // The leader is gone and a member is left: stopping still ends the group.
        let mut service = spawn(&sh(dir.path(), "sleep 30 >/dev/null 2>&1 & exit 0")).unwrap();
        while service.exit_status().unwrap().is_none() {
            std::thread::sleep(Duration::from_millis(10));
        }
        let pid = service.pid();
        assert!(group_is_alive(pid));
        let started = Instant::now();
        service.stop(DEFAULT_GRACE).unwrap();
        assert!(!group_is_alive(pid));
        assert!(started.elapsed() < Duration::from_secs(1));
    }

    #[test]
    fn the_child_gets_only_passed_through_and_explicit_variables_in_its_own_session() {
        let dir = tempfile::tempdir().unwrap();
        // SAFETY (test-only): no other test reads or writes this variable.
        unsafe { std::env::set_var("STACK_HARNESS_TEST_LEAK", "leaked") };
        let spec = sh(
            dir.path(),
            "echo \"X=$X LEAK=${STACK_HARNESS_TEST_LEAK:-none} PATH=${PATH:+set}\"; \
             set -- $(cat /proc/$$/stat); echo $6",
        )
        .env("X", "1")
        .cwd(dir.path());
        let mut service = spawn(&spec).unwrap();
        assert_eq!(service.log_path(), dir.path().join("logs/fake.log"));
        let pid = service.pid();
        while service.exit_status().unwrap().is_none() {
            std::thread::sleep(Duration::from_millis(10));
        }
        let log = fs::read_to_string(dir.path().join("logs/fake.log")).unwrap();
        assert!(log.contains("X=1 LEAK=none PATH=set\n"), "{log}");
        // setsid made it a session leader: its session id is its pid.
        assert_eq!(
            log.lines().last().map(str::trim),
            Some(pid.to_string().as_str()),
            "{log}"
        );
    }

    #[test]
    fn a_missing_program_is_named_with_a_hint() {
        let dir = tempfile::tempdir().unwrap();
        let spec = Spawn::new(
            "Llama Stack",
            "/nonexistent/llama",
            dir.path().join("x.log"),
        )
        .args(["stack"]);
        let err = spawn(&spec).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot start Llama Stack: `/nonexistent/llama`: No such file or directory (os error 2) \
             (no such program: is it installed?)"
        );
    }

    #[test]
    fn progress_goes_to_its_sink() {
        let (progress, lines) = Progress::recording();
        progress.say("provisioning ...");
        assert_eq!(*lines.lock().unwrap(), ["provisioning ..."]);
    }

    #[test]
    fn log_tail_keeps_the_last_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.log");
        assert!(log_tail(&path, 3).starts_with("(cannot read the log: "));
        fs::write(&path, "").unwrap();
        assert_eq!(log_tail(&path, 3), "(the log is empty)");
        let text: String = (1..=100).map(|i| format!("line {i}\n")).collect();
        fs::write(&path, text).unwrap();
        assert_eq!(log_tail(&path, 3), "line 98\nline 99\nline 100");
        // Longer than the window: the first, partial line is dropped.
        let long: String = (0..20_000).map(|i| format!("{i:08}\n")).collect();
        fs::write(&path, long).unwrap();
        assert_eq!(log_tail(&path, 2), "00019998\n00019999");
        assert_eq!(
            log_tail(&path, usize::MAX).lines().next().map(str::len),
            Some(8)
        );
    }

    #[test]
    fn pids_that_would_signal_more_than_one_group_are_refused() {
        assert!(to_pid(0).is_none());
        assert!(to_pid(1).is_none());
        assert!(to_pid(u32::MAX).is_none());
        terminate_group(0, Duration::ZERO, Signal::TERM, || false).unwrap();
        assert!(!group_is_alive(0));
    }
}
