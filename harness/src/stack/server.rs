//! Running a Llama Stack server: start it for a run.yaml on a port with a
//! per-session state directory, wait for `GET /v1/health`, and stop it.
//!
//! ```text
//! port free? ──no──> healthy stack there? ──yes──> error: reuse it (the caller's job)
//!     │ yes                     └──no──> error: port held by something else
//!     v
//! spawn (own session, log file) ──> poll /v1/health ──200──> StackServer
//!                      exits ──> error + log tail    deadline ──> error + log tail
//! ```

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::external::External;
use super::launcher::Launcher;
use crate::process::{self, DEFAULT_GRACE, OwnedProcess, Probe, ProcessError, Progress, Spawn};

/// How long a stack may take to answer `/v1/health` (it is ~7 s here; a
/// cold first start after provisioning compiles bytecode and takes longer).
pub(crate) const DEFAULT_DEADLINE: Duration = Duration::from_secs(180);

/// How much of the log's end is searched for what the stack said.
const SAID_LINES: usize = 400;

/// Marks a state directory as ours, so a fresh session may empty it.
const STATE_MARKER: &str = ".stack-harness-state";

#[derive(Debug, thiserror::Error)]
pub(crate) enum ServerError {
    #[error(
        "port {port} is in use by something that is not a healthy Llama Stack ({}); stop it \
         or use `server:{config}:<other port>`",
        describe_health(probe)
    )]
    PortHeld {
        port: u16,
        probe: Probe,
        config: String,
    },
    #[error(
        "a healthy Llama Stack already listens on port {port}; reuse it with \
         `--stack-config=http://127.0.0.1:{port}`, stop it, or use `server:{config}:<other port>`"
    )]
    StackAlreadyThere { port: u16, config: String },
    #[error("`{}` is not a file; give the path of a run.yaml", path.display())]
    NoConfig { path: PathBuf },
    #[error("cannot {action} `{}`: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error(transparent)]
    Process(#[from] ProcessError),
    /// It exited during start-up saying why (a bad run.yaml, an external
    /// API it cannot load): what it said, not its traceback.
    #[error("Llama Stack exited during start-up ({status}): {said}\n(its log: `{}`)", log.display())]
    Refused {
        status: std::process::ExitStatus,
        said: String,
        log: PathBuf,
    },
}

/// Everything needed to start one stack server.
#[derive(Clone, Debug)]
pub(crate) struct ServerOptions {
    pub launcher: Launcher,
    /// Where the launcher's bare program names live: the venv's `bin/`.
    pub bin_dir: PathBuf,
    pub run_yaml: PathBuf,
    /// For messages: `server:<config>:<port>`.
    pub config_name: String,
    pub port: u16,
    /// Values for the run.yaml's `${env.X}`; they win over ours.
    pub env: Vec<(String, String)>,
    /// Per-session state: SQLite stores, files, HOME. Emptied at start when a
    /// previous session of ours left it behind, unless `keep_state`.
    pub state_dir: PathBuf,
    /// A restart within the session: what the stack kept stays.
    pub keep_state: bool,
    pub log: PathBuf,
    pub tiktoken_cache: Option<PathBuf>,
    pub deadline: Duration,
    /// The run.yaml's external API and provider directories, placed under
    /// the stack's HOME once the state directory is prepared.
    pub external: Option<External>,
}

impl ServerOptions {
    /// Defaults under `<project_root>/target/stack-harness/`: the log in
    /// `logs/stack-<port>.log`, state in `state/stack-<port>/`.
    pub(crate) fn new(
        project_root: &Path,
        bin_dir: &Path,
        run_yaml: &Path,
        config_name: &str,
        port: u16,
    ) -> Self {
        let base = project_root.join("target").join("stack-harness");
        Self {
            launcher: Launcher::llama_stack(),
            bin_dir: bin_dir.to_owned(),
            run_yaml: run_yaml.to_owned(),
            config_name: config_name.to_owned(),
            port,
            env: Vec::new(),
            state_dir: base.join("state").join(format!("stack-{port}")),
            keep_state: false,
            log: base.join("logs").join(format!("stack-{port}.log")),
            tiktoken_cache: None,
            deadline: DEFAULT_DEADLINE,
            external: None,
        }
    }
}

/// A running stack server we started. Dropping it stops it.
#[derive(Debug)]
pub(crate) struct StackServer {
    process: OwnedProcess,
    base_url: String,
}

impl StackServer {
    pub(crate) fn start(options: &ServerOptions, progress: &Progress) -> Result<Self, ServerError> {
        let port = options.port;
        let base_url = format!("http://127.0.0.1:{port}");
        if !options.run_yaml.is_file() {
            return Err(ServerError::NoConfig {
                path: options.run_yaml.clone(),
            });
        }
        if !process::port_is_free(port) {
            let probe = health(&base_url);
            let config = options.config_name.clone();
            return Err(if probe == Probe::Status(200) {
                ServerError::StackAlreadyThere { port, config }
            } else {
                ServerError::PortHeld {
                    port,
                    probe,
                    config,
                }
            });
        }
        // The stack runs in its state directory: every path it gets must be absolute.
        let run_yaml = absolute(&options.run_yaml);
        let dirs = StateDirs::prepare(&absolute(&options.state_dir), options.keep_state)?;
        if let Some(external) = &options.external {
            external.place().map_err(|source| ServerError::Io {
                action: "place the external API and provider specs under",
                path: dirs.home.clone(),
                source,
            })?;
        }
        let _ = fs::remove_file(&options.log); // one session per log: its tail is about this start
        let launcher = &options.launcher;
        let mut spec = Spawn::new(
            "Llama Stack",
            launcher.program(&absolute(&options.bin_dir)),
            &options.log,
        )
        .args(launcher.args(&run_yaml, port))
        .cwd(&dirs.root)
        .env("SQLITE_STORE_DIR", &dirs.sqlite)
        .env("FILES_STORAGE_DIR", &dirs.files)
        .env("HOME", &dirs.home)
        // Its own temporary directory: milvus-lite puts its Unix socket and
        // logs there, and would leave them in the machine's /tmp.
        .env("TMPDIR", &dirs.tmp)
        // Logs reach the file as they happen, not when a buffer fills.
        .env("PYTHONUNBUFFERED", "1")
        // Plain log lines: the default rich console renders a coloured
        // traceback for every error answer, blocking the server 4-8 s each
        // (a replay of the suite took 70 s with it, 3 s without).
        .env("LLAMA_STACK_LOG_FORMAT", "json")
        .env("LLAMA_STACK_PORT", port.to_string());
        if let Some(cache) = &options.tiktoken_cache {
            spec = spec.env("TIKTOKEN_CACHE_DIR", absolute(cache));
        }
        for (k, v) in launcher.env(&run_yaml, port, &dirs.root) {
            spec = spec.env(k, v);
        }
        for (k, v) in &options.env {
            spec = spec.env(k, v);
        }
        progress.say(format!(
            "starting Llama Stack ({}) on 127.0.0.1:{port}; log: {}",
            options.run_yaml.display(),
            options.log.display()
        ));
        let mut child = process::spawn(&spec)?;
        let took = child
            .wait_until_ok(&format!("{base_url}/v1/health"), options.deadline, progress)
            .map_err(|e| match e {
                // The stack refused its configuration: say what it said.
                ProcessError::ExitedDuringStartup { status, server } => {
                    // Its logged errors come before a long traceback.
                    match stack_said(&process::log_tail(&server.log, SAID_LINES)) {
                        Some(said) => ServerError::Refused {
                            status,
                            said,
                            log: server.log,
                        },
                        None => ProcessError::ExitedDuringStartup { status, server }.into(),
                    }
                }
                other => other.into(),
            })?;
        progress.say(format!(
            "Llama Stack is healthy on {base_url} after {:.1} s",
            took.as_secs_f64()
        ));
        Ok(Self {
            process: child,
            base_url,
        })
    }

    /// `http://127.0.0.1:<port>`, without `/v1`.
    pub(crate) fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The server's pid, which is also its process group id.
    pub(crate) fn pid(&self) -> u32 {
        self.process.pid()
    }

    pub(crate) fn log_path(&self) -> &Path {
        self.process.log_path()
    }

    /// How the server ended, once it has ended on its own.
    pub(crate) fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.process.exit_status().ok().flatten()
    }

    /// SIGTERM to its process group, SIGKILL after 5 s.
    pub(crate) fn stop(&mut self) -> Result<(), ServerError> {
        Ok(self.process.stop(DEFAULT_GRACE)?)
    }
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

/// `GET <base_url>/v1/health`, as shown in messages.
pub(crate) fn health(base_url: &str) -> Probe {
    process::probe(
        &format!("{}/v1/health", base_url.trim_end_matches('/')),
        Duration::from_secs(2),
    )
}

fn describe_health(probe: &Probe) -> String {
    match probe {
        Probe::Status(code) => format!("GET /v1/health answered {code}"),
        other => format!("GET /v1/health: {other}"),
    }
}

/// What the stack said when it gave up, from its log's tail: the errors it
/// logged (JSON lines at level `error`, with their `error` field) and the
/// exception that ended it (a traceback's last line, with the lines that
/// continue its message).
fn stack_said(tail: &str) -> Option<String> {
    let mut said: Vec<String> = Vec::new();
    for line in tail.lines() {
        let Ok(event) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if event["level"] == "error"
            && let Some(text) = event["event"].as_str()
        {
            let detail = event["error"]
                .as_str()
                .map(|e| format!(" ({e})"))
                .unwrap_or_default();
            said.push(format!("{text}{detail}"));
        }
    }
    let lines: Vec<&str> = tail.lines().collect();
    let last = lines.iter().rposition(|l| is_exception_line(l));
    if let Some(i) = last {
        let mut message = lines[i].trim().to_owned();
        for more in lines[i + 1..].iter().take(4) {
            if more.trim().is_empty() || is_exception_line(more) {
                break;
            }
            message.push(' ');
            message.push_str(more.trim());
        }
        said.push(message);
    }
    said.dedup();
    (!said.is_empty()).then(|| said.join("; "))
}

/// `ValueError: ...`, `yaml.parser.ParserError: ...`: a traceback's end.
fn is_exception_line(line: &str) -> bool {
    let Some((name, _)) = line.split_once(": ") else {
        return false;
    };
    let last = name.rsplit('.').next().unwrap_or(name);
    !name.starts_with(' ')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        && (last.ends_with("Error") || last.ends_with("Exception"))
}

/// The stack's HOME inside a state directory.
pub(crate) fn home_dir(state_dir: &Path) -> PathBuf {
    state_dir.join("home")
}

/// The per-session directories handed to the stack through its environment.
struct StateDirs {
    root: PathBuf,
    sqlite: PathBuf,
    files: PathBuf,
    home: PathBuf,
    tmp: PathBuf,
}

/// The longest `TMPDIR` that still leaves room for the Unix socket
/// milvus-lite makes in it (`tmpXXXXXXXX_milvus.db.sock`): a socket path has
/// at most 107 bytes.
const MAX_TMPDIR: usize = 72;

/// `root/tmp`, or, when that path is too long for a Unix socket inside it
/// (a deep checkout), a directory of the machine's temporary directory
/// named after `root`, so that it is still one per session.
fn tmp_dir(root: &Path) -> PathBuf {
    let inside = root.join("tmp");
    if inside.as_os_str().len() <= MAX_TMPDIR {
        return inside;
    }
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(root.as_os_str().as_encoded_bytes());
    std::env::temp_dir().join(format!("stack-harness-{}", hex::encode(&digest[..6])))
}

impl StateDirs {
    /// Creates `root` (emptying it first when an earlier session of ours left
    /// it; a directory without our marker is never deleted).
    fn prepare(root: &Path, keep: bool) -> Result<Self, ServerError> {
        let io_err = |action, path: &Path| {
            let path = path.to_owned();
            move |source| ServerError::Io {
                action,
                path,
                source,
            }
        };
        if !keep && root.join(STATE_MARKER).is_file() {
            fs::remove_dir_all(root).map_err(io_err("empty the state directory", root))?;
        }
        let dirs = Self {
            root: root.to_owned(),
            sqlite: root.join("sqlite"),
            files: root.join("files"),
            home: home_dir(root),
            tmp: tmp_dir(root),
        };
        if !dirs.tmp.starts_with(root) && dirs.tmp.exists() {
            // The previous session's, outside the state directory: emptied
            // here as the state directory is above.
            fs::remove_dir_all(&dirs.tmp).map_err(io_err("empty", &dirs.tmp))?;
        }
        for dir in [&dirs.sqlite, &dirs.files, &dirs.home, &dirs.tmp] {
            fs::create_dir_all(dir).map_err(io_err("create", dir))?;
        }
        let marker = root.join(STATE_MARKER);
        fs::write(
            &marker,
            "state of a Llama Stack started by stack-harness; emptied at its next start\n",
        )
        .map_err(io_err("write", &marker))?;
        Ok(dirs)
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::{Ipv4Addr, TcpListener};

    use super::*;

    #[test]
    fn what_the_stack_said_is_its_logged_errors_and_its_last_exception() {
        let tail = r#"{"event": "Loading external APIs", "level": "info"}
{"api_name": "g", "error": "No module named 'x'", "event": "Failed to import external API", "level": "error"}
Traceback (most recent call last):
  File "/v/resolver.py", line 476, in check_protocol_compliance
    proto = protocols[api]
KeyError: <Api.g: 'g'>
"#;
        assert_eq!(
            stack_said(tail).as_deref(),
            Some("Failed to import external API (No module named 'x'); KeyError: <Api.g: 'g'>")
        );
        let yaml = "Traceback (most recent call last):\n  File \"x\", line 1\n\
                    yaml.parser.ParserError: while parsing a flow sequence\n  \
                    in \"/h/apis.d/g.yaml\", line 2, column 7\nexpected ',' or ']', but got '<stream end>'\n";
        assert_eq!(
            stack_said(yaml).as_deref(),
            Some(
                "yaml.parser.ParserError: while parsing a flow sequence in \"/h/apis.d/g.yaml\", \
                 line 2, column 7 expected ',' or ']', but got '<stream end>'"
            )
        );
        assert_eq!(stack_said("INFO started\nshutting down\n"), None);
    }

    fn fake(dir: &Path, script: &str, port: u16) -> ServerOptions {
        let mut options = ServerOptions::new(
            dir,
            Path::new("/unused"),
            &dir.join("run.yaml"),
            "starter",
            port,
        );
        fs::write(&options.run_yaml, "version: 2\n").unwrap();
        options.launcher = Launcher {
            name: "custom".to_owned(),
            program: "/bin/sh".to_owned(),
            args: vec![
                "-c".to_owned(),
                script.to_owned(),
                "sh".to_owned(),
                "{config}".to_owned(),
            ],
            env: Vec::new(),
        };
        options
    }

    /// A listener answering every request with `status`, holding a port.
    fn holder(status: &'static str) -> u16 {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                let _ = stream.read(&mut [0u8; 1024]);
                let _ = write!(stream, "HTTP/1.1 {status}\r\nContent-Length: 0\r\n\r\n");
            }
        });
        port
    }

    #[test]
    fn a_server_that_exits_during_start_up_shows_its_log_tail() {
        let dir = tempfile::tempdir().unwrap();
        let port = process::free_port().unwrap();
        let options = fake(
            dir.path(),
            "echo \"loading $1\"; echo boom >&2; exit 3",
            port,
        );
        let err = StackServer::start(&options, &Progress::silent()).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "Llama Stack exited during start-up (exit status: 3); last 40 lines of `{log}`:\n\
                 --- stack-harness: starting /bin/sh -c echo \"loading $1\"; echo boom >&2; exit 3 sh {cfg}\n\
                 loading {cfg}\nboom",
                log = options.log.display(),
                cfg = options.run_yaml.display()
            )
        );
    }

    #[test]
    fn a_server_that_never_gets_healthy_fails_at_the_deadline() {
        let dir = tempfile::tempdir().unwrap();
        let port = process::free_port().unwrap();
        let mut options = fake(dir.path(), "echo 'still importing'; exec sleep 30", port);
        options.deadline = Duration::from_millis(300);
        let err = StackServer::start(&options, &Progress::silent()).unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with(&format!(
                "Llama Stack did not answer 200 on http://127.0.0.1:{port}/v1/health within 0 s \
                 (last try: connection refused); last 40 lines of `{}`:\n",
                options.log.display()
            )),
            "{text}"
        );
        assert!(text.ends_with("\nstill importing"), "{text}");
    }

    #[test]
    fn a_port_held_by_something_else_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let port = holder("404 Not Found");
        let err =
            StackServer::start(&fake(dir.path(), "exit 0", port), &Progress::silent()).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "port {port} is in use by something that is not a healthy Llama Stack (GET \
                 /v1/health answered 404); stop it or use `server:starter:<other port>`"
            )
        );
        let port = holder("200 OK");
        let err =
            StackServer::start(&fake(dir.path(), "exit 0", port), &Progress::silent()).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "a healthy Llama Stack already listens on port {port}; reuse it with \
                 `--stack-config=http://127.0.0.1:{port}`, stop it, or use `server:starter:<other port>`"
            )
        );
        assert_eq!(
            health(&format!("http://127.0.0.1:{port}/")),
            Probe::Status(200)
        );
    }

    #[test]
    fn a_healthy_server_gets_its_state_dirs_and_environment() {
        let Ok(python3) = which("python3") else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let port = process::free_port().unwrap();
        // A stand-in stack: logs its environment, then answers 200 on any GET.
        let server = format!(
            "import http.server, os\n\
             for k in ('SQLITE_STORE_DIR', 'FILES_STORAGE_DIR', 'HOME', 'TMPDIR', 'TIKTOKEN_CACHE_DIR', 'VLLM_URL'):\n\
             \x20   print(k, os.environ.get(k), flush=True)\n\
             class H(http.server.BaseHTTPRequestHandler):\n\
             \x20   def do_GET(self):\n\
             \x20       self.send_response(200); self.end_headers()\n\
             http.server.HTTPServer(('127.0.0.1', {port}), H).serve_forever()\n"
        );
        let mut options = fake(dir.path(), "", port);
        options.launcher.program = python3.display().to_string();
        options.launcher.args = vec!["-c".to_owned(), server];
        options.env = vec![("VLLM_URL".to_owned(), "http://127.0.0.1:9/v1".to_owned())];
        options.tiktoken_cache = Some(dir.path().join("tk"));
        let mut stack = StackServer::start(&options, &Progress::silent()).unwrap();
        assert_eq!(stack.base_url(), format!("http://127.0.0.1:{port}"));
        assert_eq!(health(stack.base_url()), Probe::Status(200));
        let state = &options.state_dir;
        let log = fs::read_to_string(stack.log_path()).unwrap();
        for line in [
            format!("SQLITE_STORE_DIR {}", state.join("sqlite").display()),
            format!("FILES_STORAGE_DIR {}", state.join("files").display()),
            format!("HOME {}", state.join("home").display()),
            format!(
                "TMPDIR {}",
                tmp_dir(&std::path::absolute(state).unwrap()).display()
            ),
            format!("TIKTOKEN_CACHE_DIR {}", dir.path().join("tk").display()),
            "VLLM_URL http://127.0.0.1:9/v1".to_owned(),
        ] {
            assert!(log.contains(&line), "{line:?} not in {log}");
        }
        let pid = stack.pid();
        stack.stop().unwrap();
        assert!(!process::group_is_alive(pid));
        assert_ne!(
            health(&format!("http://127.0.0.1:{port}")),
            Probe::Status(200)
        );
    }

    #[test]
    fn the_temporary_directory_is_the_sessions_and_short_enough_for_a_socket() {
        let short = Path::new("/w/target/stack-harness/sessions/port-8321/state");
        assert_eq!(tmp_dir(short), short.join("tmp"));
        let deep = Path::new(
            "/home/runner/work/stack-harness/stack-harness/target/stack-harness/sessions/private-123456-987654321/state",
        );
        let tmp = tmp_dir(deep);
        assert!(tmp.starts_with(std::env::temp_dir()), "{}", tmp.display());
        assert!(tmp.as_os_str().len() <= MAX_TMPDIR, "{}", tmp.display());
        assert_eq!(tmp, tmp_dir(deep), "one per session");
        assert_ne!(tmp, tmp_dir(&deep.join("other")));
    }

    fn which(name: &str) -> Result<PathBuf, ()> {
        std::env::split_paths(&std::env::var_os("PATH").ok_or(())?)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
            .ok_or(())
    }

    #[test]
    fn relative_paths_are_made_absolute_for_a_server_running_in_its_state_dir() {
        let dir = tempfile::tempdir().unwrap();
        let port = process::free_port().unwrap();
        let mut options = fake(
            dir.path(),
            "echo \"config $1 cwd $(pwd) db $SQLITE_STORE_DIR\"; exit 1",
            port,
        );
        let cwd = std::env::current_dir().unwrap();
        let relative = |p: &Path| pathdiff(p, &cwd);
        options.run_yaml = relative(&options.run_yaml);
        options.state_dir = relative(&options.state_dir);
        let err = StackServer::start(&options, &Progress::silent())
            .unwrap_err()
            .to_string();
        // What the server was given: the relative paths resolved against our cwd.
        let state = cwd.join(&options.state_dir);
        let want = format!(
            "config {} cwd {} db {}",
            cwd.join(&options.run_yaml).display(),
            dir.path()
                .join("target/stack-harness/state")
                .join(format!("stack-{port}"))
                .display(),
            state.join("sqlite").display()
        );
        assert!(err.ends_with(&want), "{err}");
    }

    /// `path` relative to `base` with `..` steps (both absolute).
    fn pathdiff(path: &Path, base: &Path) -> PathBuf {
        let common = path
            .components()
            .zip(base.components())
            .take_while(|(a, b)| a == b)
            .count();
        let ups = base.components().count() - common;
        std::iter::repeat_n(Path::new(".."), ups)
            .collect::<PathBuf>()
            .join(path.components().skip(common).collect::<PathBuf>())
    }

    #[test]
    fn only_our_own_state_directories_are_emptied() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("state");
        StateDirs::prepare(&root, false).unwrap();
        fs::write(root.join("sqlite/kvstore.db"), "old").unwrap();
        StateDirs::prepare(&root, false).unwrap();
        assert!(!root.join("sqlite/kvstore.db").exists());

        let theirs = dir.path().join("theirs");
        fs::create_dir_all(&theirs).unwrap();
        fs::write(theirs.join("keep"), "").unwrap();
        StateDirs::prepare(&theirs, false).unwrap();
        assert!(theirs.join("keep").exists());
    }

    #[test]
    fn a_missing_run_yaml_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let options = ServerOptions::new(
            dir.path(),
            dir.path(),
            &dir.path().join("nope.yaml"),
            "x",
            1,
        );
        assert_eq!(
            StackServer::start(&options, &Progress::silent())
                .unwrap_err()
                .to_string(),
            format!(
                "`{}` is not a file; give the path of a run.yaml",
                dir.path().join("nope.yaml").display()
            )
        );
    }
}
