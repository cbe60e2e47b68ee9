//! Python for the servers we run: finding an interpreter >= 3.12
//! ([`find_python`]) and provisioning project-local virtual environments from
//! committed, fully pinned requirements files ([`ensure_venv`]), with uv when
//! it can be had and pip otherwise.
//!
//! A venv is valid when its stamp file holds the key of what was installed
//! (requirements content, interpreter, local wheels). The stamp is written
//! last and removed first, so an interrupted install never looks finished;
//! an exclusive file lock serialises concurrent provisioners (e.g. one
//! process per test under nextest), and a matching stamp makes later runs
//! skip everything in milliseconds.

use std::fs::{self, File, TryLockError};
use std::io::{self, BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use sha2::{Digest, Sha256};

use crate::process::{LOG_TAIL_LINES, Progress};

mod find;
pub(crate) mod pinned;

use find::python_version;
pub(crate) use find::{PYTHON_ENV, Python, find_python};

/// Overrides where provisioned things go (`<project>/.stack` otherwise):
/// projects, worktrees or CI jobs may share one provisioned stack.
pub(crate) const STACK_DIR_ENV: &str = "STACK_HARNESS_STACK_DIR";

/// Where the venvs, tools, models and overlays of a project live:
/// `$STACK_HARNESS_STACK_DIR`, else `<project>/.stack`.
pub(crate) fn stack_dir(project_root: &Path) -> PathBuf {
    match std::env::var_os(STACK_DIR_ENV) {
        Some(dir) if !dir.is_empty() => project_root.join(dir),
        _ => project_root.join(".stack"),
    }
}

/// The uv the harness installs into `.stack/tools` with pip.
pub(crate) const UV_REQUIREMENT: &str = "uv==0.13.9";

const STAMP: &str = ".stack-harness-stamp";

#[derive(Debug, thiserror::Error)]
pub(crate) enum PythonError {
    #[error(
        "no Python >= 3.12 found (tried: {}); install one, e.g. `pyenv install 3.12` or \
         `apt-get install python3.12`, or point {PYTHON_ENV} at one",
        tried.join(", ")
    )]
    NotFound { tried: Vec<String> },
    #[error("{PYTHON_ENV}=`{}` is not a usable Python >= 3.12: {why}", path.display())]
    BadOverride { path: PathBuf, why: String },
    #[error("cannot {action} `{}`: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error(
        "provisioning {label} into `{}` failed: `{command}` {status}; its last lines:\n{tail}\n\
         fix the cause (network? disk space?) and run again: a failed install is redone from scratch",
        dir.display()
    )]
    Install {
        label: String,
        dir: PathBuf,
        command: String,
        status: String,
        tail: String,
    },
}

fn io_err(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> PythonError {
    let path = path.to_owned();
    move |source| PythonError::Io {
        action,
        path,
        source,
    }
}

/// What to provision.
#[derive(Clone, Debug)]
pub(crate) struct VenvSpec<'a> {
    /// The venv directory, e.g. `.stack/venv`; uv goes to a `tools` venv beside it.
    pub dir: &'a Path,
    /// A committed, fully pinned requirements file.
    pub requirements: &'a Path,
    /// What is installed, for messages: "Llama Stack 0.7.3".
    pub label: &'a str,
    /// A directory of local wheels to install from (and to key the stamp on).
    pub find_links: Option<&'a Path>,
    /// Packages that must come as wheels, never built from source here.
    pub binary_only: &'a [&'a str],
}

/// A provisioned virtual environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Venv {
    pub dir: PathBuf,
    pub python: PathBuf,
}

impl Venv {
    fn at(dir: &Path) -> Self {
        Self {
            dir: dir.to_owned(),
            python: dir.join("bin").join("python"),
        }
    }

    /// A console script installed in the venv, e.g. `llama`.
    pub(crate) fn bin(&self, name: &str) -> PathBuf {
        self.dir.join("bin").join(name)
    }
}

/// Makes `spec.dir` a venv holding exactly `spec.requirements`, unless its
/// stamp says it already does.
pub(crate) fn ensure_venv(
    spec: &VenvSpec<'_>,
    python: &Python,
    progress: &Progress,
) -> Result<Venv, PythonError> {
    let venv = Venv::at(spec.dir);
    let key = stamp_key(spec, python)?;
    if is_current(spec.dir, &key) {
        return Ok(venv);
    }
    let lock_path = spec.dir.with_extension("lock");
    if let Some(parent) = lock_path.parent() {
        fs::create_dir_all(parent).map_err(io_err("create", parent))?;
    }
    let lock = File::create(&lock_path).map_err(io_err("create", &lock_path))?;
    match lock.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            progress.say(format!(
                "waiting for another process to finish provisioning {} (lock `{}`) ...",
                shown(spec.dir),
                lock_path.display()
            ));
            lock.lock().map_err(io_err("lock", &lock_path))?;
        }
        Err(TryLockError::Error(e)) => return Err(io_err("lock", &lock_path)(e)),
    }
    // Another process may have finished while we waited for the lock.
    if is_current(spec.dir, &key) {
        return Ok(venv);
    }
    let started = Instant::now();
    let stamp = spec.dir.join(STAMP);
    match fs::remove_file(&stamp) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(io_err("remove", &stamp)(e)),
        _ => {}
    }
    let installer = find_uv(spec.dir, python, progress);
    progress.say(format!(
        "provisioning {} into {} with {} ...",
        spec.label,
        shown(spec.dir),
        if installer.is_some() { "uv" } else { "pip" }
    ));
    // A venv made by another interpreter is rebuilt, not patched.
    let reuse = python_version(&venv.python).is_ok_and(|v| v == python.version);
    if !reuse && spec.dir.exists() {
        fs::remove_dir_all(spec.dir).map_err(io_err("remove", spec.dir))?;
    }
    match &installer {
        Some(uv) => install_with_uv(uv, spec, python, &venv, reuse, progress)?,
        None => install_with_pip(spec, python, &venv, reuse, progress)?,
    }
    write_atomically(&stamp, &key)?;
    progress.say(format!(
        "provisioned {} into {} in {:.1} s",
        spec.label,
        shown(spec.dir),
        started.elapsed().as_secs_f64()
    ));
    drop(lock);
    Ok(venv)
}

fn is_current(dir: &Path, key: &str) -> bool {
    dir.join("bin").join("python").is_file()
        && fs::read_to_string(dir.join(STAMP)).is_ok_and(|s| s == key)
}

/// What the stamp holds: everything that decides the venv's content.
fn stamp_key(spec: &VenvSpec<'_>, python: &Python) -> Result<String, PythonError> {
    let requirements = fs::read(spec.requirements).map_err(io_err("read", spec.requirements))?;
    // The venv's own path is part of it: console scripts carry it in their
    // shebangs, so a moved venv must be rebuilt.
    let mut key = format!(
        "requirements-sha256 {}\npython {} {}\nvenv {}\n",
        hex::encode(Sha256::digest(&requirements)),
        python.path.display(),
        python.version_string(),
        std::path::absolute(spec.dir)
            .unwrap_or_else(|_| spec.dir.to_owned())
            .display()
    );
    if let Some(dir) = spec.find_links {
        let mut wheels: Vec<String> = fs::read_dir(dir)
            .map_err(io_err("read", dir))?
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".whl"))
            .map(|e| {
                format!(
                    "wheel {} {}\n",
                    e.file_name().to_string_lossy(),
                    e.metadata().map_or(0, |m| m.len())
                )
            })
            .collect();
        wheels.sort();
        key.extend(wheels);
    }
    Ok(key)
}

/// The pinned uv from `.stack/tools`, installing it there with pip the first
/// time; `None` (so pip does the work) when that fails, e.g. offline.
fn find_uv(venv_dir: &Path, python: &Python, progress: &Progress) -> Option<PathBuf> {
    let tools = venv_dir.parent().unwrap_or(Path::new(".")).join("tools");
    let uv = tools.join("bin").join("uv");
    let stamp = tools.join(STAMP);
    let key = format!("{UV_REQUIREMENT}\n");
    if uv.is_file() && fs::read_to_string(&stamp).is_ok_and(|s| s == key) {
        return Some(uv);
    }
    progress.say(format!(
        "installing {UV_REQUIREMENT} into {} with pip ...",
        shown(&tools)
    ));
    let result = (|| {
        let _ = fs::remove_file(&stamp);
        let mut venv = Command::new(&python.path);
        venv.arg("-m").arg("venv").arg("--clear").arg(&tools);
        run_logged(&mut venv, progress)?;
        let mut pip = Command::new(tools.join("bin").join("python"));
        pip.args([
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            UV_REQUIREMENT,
        ]);
        run_logged(&mut pip, progress)?;
        Ok::<_, Failed>(())
    })();
    match result {
        Ok(()) if uv.is_file() => {
            let _ = fs::write(&stamp, key);
            Some(uv)
        }
        Ok(()) => {
            progress.say(format!(
                "{UV_REQUIREMENT} installed no `{}`; using pip instead",
                uv.display()
            ));
            None
        }
        Err(failed) => {
            progress.say(format!(
                "cannot install {UV_REQUIREMENT} ({}); using pip instead",
                failed.status
            ));
            None
        }
    }
}

fn install_with_uv(
    uv: &Path,
    spec: &VenvSpec<'_>,
    python: &Python,
    venv: &Venv,
    reuse: bool,
    progress: &Progress,
) -> Result<(), PythonError> {
    let fail = |f: Failed| install_error(spec, f);
    if !reuse {
        let mut create = Command::new(uv);
        create
            .arg("venv")
            .arg("--python")
            .arg(&python.path)
            .arg(spec.dir);
        run_logged(uv_env(&mut create), progress).map_err(fail)?;
    }
    // `sync`, not `install`: the venv ends up holding exactly the pinned set.
    let mut sync = Command::new(uv);
    sync.args(["pip", "sync", "--python"])
        .arg(&venv.python)
        .arg(spec.requirements);
    if let Some(dir) = spec.find_links {
        sync.arg("--find-links").arg(dir);
    }
    for package in spec.binary_only {
        sync.args(["--only-binary", package]);
    }
    run_logged(uv_env(&mut sync), progress).map_err(fail)
}

fn uv_env(command: &mut Command) -> &mut Command {
    // Never fetch interpreters: we chose one. Progress bars need a terminal.
    command
        .env("UV_PYTHON_DOWNLOADS", "never")
        .env("UV_NO_PROGRESS", "1")
}

fn install_with_pip(
    spec: &VenvSpec<'_>,
    python: &Python,
    venv: &Venv,
    reuse: bool,
    progress: &Progress,
) -> Result<(), PythonError> {
    let fail = |f: Failed| install_error(spec, f);
    // A venv made by uv has no pip.
    let reuse = reuse && venv.bin("pip").is_file();
    if !reuse {
        let mut create = Command::new(&python.path);
        create.arg("-m").arg("venv").arg("--clear").arg(spec.dir);
        run_logged(&mut create, progress).map_err(fail)?;
    }
    let mut install = Command::new(&venv.python);
    install
        .args(["-m", "pip", "install", "--disable-pip-version-check", "-r"])
        .arg(spec.requirements);
    if let Some(dir) = spec.find_links {
        install.arg("--find-links").arg(dir);
    }
    if !spec.binary_only.is_empty() {
        install.arg("--only-binary").arg(spec.binary_only.join(","));
    }
    run_logged(&mut install, progress).map_err(fail)
}

/// Installs `packages` (requirements or local paths) into `target`, a
/// directory for a `PYTHONPATH` overlay beside the venv `venv` (whose
/// interpreter they are for), without their dependencies: the venv has
/// those. With the pinned uv from `.stack/tools`, else with pip.
pub(crate) fn install_overlay(
    venv: &Venv,
    target: &Path,
    packages: &[String],
    label: &str,
    progress: &Progress,
) -> Result<(), PythonError> {
    let python = find_python()?;
    let fail = |failed: Failed| PythonError::Install {
        label: label.to_owned(),
        dir: target.to_owned(),
        command: failed.command,
        status: failed.status,
        tail: failed.tail,
    };
    let mut install = match find_uv(&venv.dir, &python, progress) {
        Some(uv) => {
            let mut c = Command::new(uv);
            c.args(["pip", "install", "--python"]).arg(&venv.python);
            uv_env(&mut c);
            c
        }
        None => {
            let mut c = Command::new(&python.path);
            c.args(["-m", "pip", "install", "--disable-pip-version-check"]);
            c
        }
    };
    install
        .arg("--no-deps")
        .arg("--target")
        .arg(target)
        .args(packages);
    run_logged(&mut install, progress).map_err(fail)
}

fn install_error(spec: &VenvSpec<'_>, failed: Failed) -> PythonError {
    PythonError::Install {
        label: spec.label.to_owned(),
        dir: spec.dir.to_owned(),
        command: failed.command,
        status: failed.status,
        tail: failed.tail,
    }
}

/// A command that did not succeed, with the end of what it printed.
#[derive(Debug)]
pub(crate) struct Failed {
    pub command: String,
    pub status: String,
    pub tail: String,
}

/// Runs `command`, forwarding each line it prints (stdout and stderr) to
/// `progress`, indented, so a long install or build is visibly alive.
pub(crate) fn run_logged(command: &mut Command, progress: &Progress) -> Result<(), Failed> {
    let shown_command = std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|s| s.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    let failed = |status: String, tail: String| Failed {
        command: shown_command.clone(),
        status,
        tail,
    };
    // One pipe for both streams, so the lines keep the order the command
    // wrote them in (an error after the step it failed in).
    let (reader, writer) =
        io::pipe().map_err(|e| failed(format!("could not start: no pipe: {e}"), String::new()))?;
    let writer_for_stderr = writer
        .try_clone()
        .map_err(|e| failed(format!("could not start: no pipe: {e}"), String::new()))?;
    let spawned = command
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(writer_for_stderr)
        .spawn();
    // The command holds our ends of the pipe until they are replaced: only
    // then does the reader see the end when the child exits.
    command.stdout(Stdio::null()).stderr(Stdio::null());
    let mut child = spawned.map_err(|e| failed(format!("could not start: {e}"), String::new()))?;
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let reading = {
        let lines = Arc::clone(&lines);
        let progress = progress.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(reader).lines().map_while(Result::ok) {
                progress.say(format!("  {line}"));
                if let Ok(mut lines) = lines.lock() {
                    lines.push(line);
                }
            }
        })
    };
    let status = child.wait();
    let _ = reading.join();
    let tail = || {
        let lines = lines.lock().map(|l| l.clone()).unwrap_or_default();
        lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].join("\n")
    };
    match status {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(failed(format!("failed ({s})"), tail())),
        Err(e) => Err(failed(format!("could not be waited for: {e}"), tail())),
    }
}

/// Writes `path` through a temporary sibling and a rename, so readers see
/// the old content or the new one, never a part.
pub(crate) fn write_atomically(path: &Path, content: &str) -> Result<(), PythonError> {
    crate::atomic::write(path, content.as_bytes()).map_err(io_err("write", path))
}

/// A path relative to the working directory when it is under it: progress
/// lines read `.stack/venv`, not a long absolute path.
fn shown(path: &Path) -> String {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| path.to_owned())
        .display()
        .to_string()
}

#[cfg(test)]
pub(super) mod tests {
    use std::os::unix::fs::PermissionsExt;
    use std::time::Duration;

    use super::*;

    pub(super) fn script(path: &Path, body: &str) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, format!("#!/bin/sh\n{body}\n")).unwrap();
        fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
    }

    /// A Python that makes venvs by copying itself and "installs" by printing;
    /// it cannot install uv (as offline), and fails while `.stack/fail` exists.
    fn installer_python(root: &Path) -> Python {
        let path = root.join("python/bin/python3.12");
        script(
            &path,
            r#"case "$1 $2" in
  "-c "*) echo 3.12.7 ;;
  "-m venv") shift 2; [ "$1" = --clear ] && shift; mkdir -p "$1/bin" && cp "$0" "$1/bin/python" && touch "$1/bin/pip" && echo "created $1" ;;
  "-m pip") case "$*" in
      *uv==*) echo "ERROR: No matching distribution found for uv" >&2; exit 1 ;;
      *) sleep 0.05; echo "Collecting llama-stack==0.7.3"
         if [ -e "$(dirname "$0")/../../fail" ]; then echo "ERROR: disk full" >&2; exit 1; fi
         echo "Successfully installed llama-stack-0.7.3" ;;
    esac ;;
esac"#,
        );
        Python {
            path,
            version: (3, 12, 7),
        }
    }

    #[test]
    fn a_venv_is_provisioned_once_and_then_reused_from_its_stamp() {
        let root = tempfile::tempdir().unwrap();
        let python = installer_python(root.path());
        let dir = root.path().join(".stack/venv");
        let requirements = root.path().join("stack.txt");
        fs::write(&requirements, "llama-stack==0.7.3\n").unwrap();
        let spec = VenvSpec {
            dir: &dir,
            requirements: &requirements,
            label: "Llama Stack 0.7.3",
            find_links: None,
            binary_only: &[],
        };

        let (progress, lines) = Progress::recording();
        let venv = ensure_venv(&spec, &python, &progress).unwrap();
        assert_eq!(
            venv,
            Venv {
                dir: dir.clone(),
                python: dir.join("bin/python")
            }
        );
        assert_eq!(venv.bin("llama"), dir.join("bin/llama"));
        let said = lines.lock().unwrap().clone();
        let tools = root.path().join(".stack/tools");
        assert_eq!(
            said[0],
            format!(
                "installing uv==0.13.9 into {} with pip ...",
                tools.display()
            )
        );
        assert!(
            said.contains(&"  ERROR: No matching distribution found for uv".to_owned()),
            "{said:?}"
        );
        assert!(said.contains(
            &"cannot install uv==0.13.9 (failed (exit status: 1)); using pip instead".to_owned()
        ));
        assert!(said.contains(&format!(
            "provisioning Llama Stack 0.7.3 into {} with pip ...",
            dir.display()
        )));
        assert!(said.contains(&"  Successfully installed llama-stack-0.7.3".to_owned()));
        assert!(said.last().unwrap().starts_with(&format!(
            "provisioned Llama Stack 0.7.3 into {} in ",
            dir.display()
        )));

        // The stamp makes the next call a no-op.
        let (progress, lines) = Progress::recording();
        let started = Instant::now();
        ensure_venv(&spec, &python, &progress).unwrap();
        assert!(started.elapsed() < Duration::from_millis(100));
        assert!(lines.lock().unwrap().is_empty());

        // New requirements: provisioned again.
        fs::write(&requirements, "llama-stack==0.7.4\n").unwrap();
        let (progress, lines) = Progress::recording();
        ensure_venv(&spec, &python, &progress).unwrap();
        assert!(
            lines
                .lock()
                .unwrap()
                .iter()
                .any(|l| l == "  Successfully installed llama-stack-0.7.3")
        );
    }

    #[test]
    fn a_failed_install_leaves_no_stamp_and_says_what_failed() {
        let root = tempfile::tempdir().unwrap();
        let python = installer_python(root.path());
        let dir = root.path().join(".stack/venv");
        let requirements = root.path().join("stack.txt");
        fs::write(&requirements, "llama-stack==0.7.3\n").unwrap();
        let spec = VenvSpec {
            dir: &dir,
            requirements: &requirements,
            label: "Llama Stack 0.7.3",
            find_links: None,
            binary_only: &["llama-cpp-python"],
        };
        ensure_venv(&spec, &python, &Progress::silent()).unwrap();
        fs::write(&requirements, "llama-stack==0.7.4\n").unwrap();
        fs::write(root.path().join(".stack/fail"), "").unwrap();

        let err = ensure_venv(&spec, &python, &Progress::silent()).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "provisioning Llama Stack 0.7.3 into `{dir}` failed: `{dir}/bin/python -m pip install \
                 --disable-pip-version-check -r {req} --only-binary llama-cpp-python` failed (exit status: 1); \
                 its last lines:\nCollecting llama-stack==0.7.3\nERROR: disk full\nfix the cause (network? disk \
                 space?) and run again: a failed install is redone from scratch",
                dir = dir.display(),
                req = requirements.display()
            )
        );
        assert!(!dir.join(STAMP).exists());

        fs::remove_file(root.path().join(".stack/fail")).unwrap();
        ensure_venv(&spec, &python, &Progress::silent()).unwrap();
        assert!(dir.join(STAMP).exists());
    }

    #[test]
    fn concurrent_provisioners_install_once() {
        let root = tempfile::tempdir().unwrap();
        let python = installer_python(root.path());
        let dir = root.path().join(".stack/venv");
        let requirements = root.path().join("stack.txt");
        fs::write(&requirements, "llama-stack==0.7.3\n").unwrap();
        let (progress, lines) = Progress::recording();
        std::thread::scope(|s| {
            for _ in 0..3 {
                s.spawn(|| {
                    let spec = VenvSpec {
                        dir: &dir,
                        requirements: &requirements,
                        label: "x",
                        find_links: None,
                        binary_only: &[],
                    };
                    ensure_venv(&spec, &python, &progress).unwrap();
                });
            }
        });
        let installs = lines
            .lock()
            .unwrap()
            .iter()
            .filter(|l| *l == "  Collecting llama-stack==0.7.3")
            .count();
        assert_eq!(installs, 1);
    }

    #[test]
    fn local_wheels_are_part_of_the_stamp() {
        let root = tempfile::tempdir().unwrap();
        let python = installer_python(root.path());
        let wheels = root.path().join("wheels");
        fs::create_dir_all(&wheels).unwrap();
        fs::write(wheels.join("a-1-py3-none-any.whl"), "x").unwrap();
        fs::write(wheels.join("notes.txt"), "ignored").unwrap();
        let requirements = root.path().join("r.txt");
        fs::write(&requirements, "a==1\n").unwrap();
        let dir = root.path().join("v");
        let spec = VenvSpec {
            dir: &dir,
            requirements: &requirements,
            label: "x",
            find_links: Some(&wheels),
            binary_only: &[],
        };
        let key = stamp_key(&spec, &python).unwrap();
        assert!(key.ends_with("wheel a-1-py3-none-any.whl 1\n"), "{key}");
        assert!(key.starts_with("requirements-sha256 "), "{key}");
        fs::write(wheels.join("a-1-py3-none-any.whl"), "xy").unwrap();
        assert_ne!(stamp_key(&spec, &python).unwrap(), key);
    }

    #[test]
    fn writes_are_atomic_renames() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stamp");
        write_atomically(&path, "one").unwrap();
        write_atomically(&path, "two").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "two");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
