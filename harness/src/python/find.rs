//! Finding a Python >= 3.12 to run the servers with: an explicit choice,
//! `PATH`, then pyenv's installed versions, each run to learn its version.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::PythonError;

/// Overrides the search: the interpreter to use, >= 3.12.
pub(crate) const PYTHON_ENV: &str = "STACK_HARNESS_PYTHON";

/// Names tried on `PATH`, best first: the pinned requirements are resolved
/// for 3.12, the version the stack was measured with.
const PATH_CANDIDATES: &[&str] = &["python3.12", "python3.13", "python3.14"];

/// An interpreter and its version, as it reported it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Python {
    pub path: PathBuf,
    pub version: (u32, u32, u32),
}

impl Python {
    pub(crate) fn version_string(&self) -> String {
        let (a, b, c) = self.version;
        format!("{a}.{b}.{c}")
    }
}

/// Finds a Python >= 3.12: `$STACK_HARNESS_PYTHON`, then [`PATH_CANDIDATES`]
/// on `PATH`, then `$PYENV_ROOT/versions/*/bin/python3.N` (pyenv's shims on
/// `PATH` fail unless that version is selected, so the versions are searched
/// directly). Each candidate is run to learn its real version.
pub(crate) fn find_python() -> Result<Python, PythonError> {
    let pyenv_root = std::env::var_os("PYENV_ROOT")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".pyenv")));
    find_python_in(
        std::env::var_os(PYTHON_ENV).map(PathBuf::from),
        std::env::var_os("PATH"),
        pyenv_root,
    )
}

fn find_python_in(
    explicit: Option<PathBuf>,
    path_var: Option<OsString>,
    pyenv_root: Option<PathBuf>,
) -> Result<Python, PythonError> {
    if let Some(path) = explicit {
        return match python_version(&path) {
            Ok(version) if version >= (3, 12, 0) => Ok(Python { path, version }),
            Ok((a, b, c)) => Err(PythonError::BadOverride {
                path,
                why: format!("it is {a}.{b}.{c}"),
            }),
            Err(why) => Err(PythonError::BadOverride { path, why }),
        };
    }
    let mut tried = Vec::new();
    let dirs: Vec<PathBuf> = path_var
        .as_deref()
        .map(|p| std::env::split_paths(p).collect())
        .unwrap_or_default();
    let on_path = PATH_CANDIDATES.iter().filter_map(|name| {
        dirs.iter()
            .map(|d| d.join(name))
            .find(|p| p.is_file())
            .map(|p| (name.to_string(), p))
    });
    let in_pyenv = pyenv_pythons(pyenv_root.as_deref())
        .into_iter()
        .map(|p| (p.display().to_string(), p));
    for (shown, path) in on_path.chain(in_pyenv) {
        match python_version(&path) {
            Ok(version) if version >= (3, 12, 0) => return Ok(Python { path, version }),
            Ok((a, b, c)) => tried.push(format!("{shown} ({a}.{b}.{c})")),
            Err(why) => tried.push(format!("{shown} ({why})")),
        }
    }
    if tried.is_empty() {
        tried.push(format!("{} on PATH", PATH_CANDIDATES.join(", ")));
        match &pyenv_root {
            Some(root) => tried.push(format!("{}/versions/*/bin/python3.1[2-9]", root.display())),
            None => tried.push("pyenv (no PYENV_ROOT or HOME)".to_owned()),
        }
    }
    Err(PythonError::NotFound { tried })
}

/// `versions/*/bin/python3.N` for N >= 12 under a pyenv root, 3.12 first
/// (what the requirements are resolved for), then newest first.
fn pyenv_pythons(root: Option<&Path>) -> Vec<PathBuf> {
    let Some(Ok(entries)) = root.map(|r| fs::read_dir(r.join("versions"))) else {
        return Vec::new();
    };
    let mut found: Vec<((u32, u32, u32), PathBuf)> = entries
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let version = parse_version(&name)?;
            let exe = entry
                .path()
                .join("bin")
                .join(format!("python{}.{}", version.0, version.1));
            (version.0 == 3 && version.1 >= 12 && exe.is_file()).then_some((version, exe))
        })
        .collect();
    found.sort_by_key(|(v, _)| (v.1 != 12, std::cmp::Reverse(*v)));
    found.into_iter().map(|(_, p)| p).collect()
}

/// `3.12.1` (also `3.13.0rc1`'s leading numbers) to a triple.
fn parse_version(text: &str) -> Option<(u32, u32, u32)> {
    let mut parts = text.trim().splitn(3, '.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    let patch = parts.next().map_or(Some(0), |p| {
        p.chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
            .parse()
            .ok()
    })?;
    Some((major, minor, patch))
}

pub(super) fn python_version(exe: &Path) -> Result<(u32, u32, u32), String> {
    let out = Command::new(exe)
        .args(["-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run: {e}"))?;
    if !out.status.success() {
        return Err(format!("not runnable: {}", out.status));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    parse_version(&text).ok_or_else(|| format!("unexpected version `{}`", text.trim()))
}

#[cfg(test)]
mod tests {
    use super::super::tests::script;
    use super::*;

    fn fake_python(path: &Path, version: &str) {
        script(path, &format!("echo {version}"));
    }

    #[test]
    fn this_machine_has_a_python_or_a_reason() {
        match find_python() {
            Ok(python) => assert!(python.version >= (3, 12, 0)),
            Err(e) => assert!(e.to_string().starts_with("no Python >= 3.12 found"), "{e}"),
        }
    }

    #[test]
    fn versions_parse_from_what_python_prints_and_from_pyenv_names() {
        assert_eq!(parse_version("3.12.1\n"), Some((3, 12, 1)));
        assert_eq!(parse_version("3.13.0rc1"), Some((3, 13, 0)));
        assert_eq!(parse_version("3.14"), Some((3, 14, 0)));
        assert_eq!(parse_version("pypy3.10-7.3"), None);
        assert_eq!(parse_version("system"), None);
    }

    #[test]
    fn the_first_path_candidate_that_really_is_3_12_or_newer_wins() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        // A pyenv shim for a version that is not selected fails when run.
        script(
            &bin.join("python3.12"),
            "echo 'pyenv: python3.12: command not found' >&2; exit 127",
        );
        fake_python(&bin.join("python3.13"), "3.13.1");
        let found = find_python_in(None, Some(bin.clone().into_os_string()), None).unwrap();
        assert_eq!(
            found,
            Python {
                path: bin.join("python3.13"),
                version: (3, 13, 1)
            }
        );
        assert_eq!(found.version_string(), "3.13.1");
    }

    #[test]
    fn pyenv_versions_are_searched_with_3_12_first() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("pyenv");
        fake_python(&root.join("versions/3.11.7/bin/python3.11"), "3.11.7");
        fake_python(&root.join("versions/3.13.0/bin/python3.13"), "3.13.0");
        fake_python(&root.join("versions/3.12.1/bin/python3.12"), "3.12.1");
        fs::create_dir_all(root.join("versions/miniconda3/bin")).unwrap();
        let found = find_python_in(None, None, Some(root.clone())).unwrap();
        assert_eq!(found.path, root.join("versions/3.12.1/bin/python3.12"));
    }

    #[test]
    fn nothing_suitable_lists_what_was_tried_and_how_to_fix_it() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        fake_python(&bin.join("python3.12"), "3.11.2");
        let err = find_python_in(None, Some(bin.into_os_string()), None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "no Python >= 3.12 found (tried: python3.12 (3.11.2)); install one, e.g. `pyenv install \
             3.12` or `apt-get install python3.12`, or point STACK_HARNESS_PYTHON at one"
        );
        let root = dir.path().join("nopyenv");
        let err = find_python_in(None, None, Some(root.clone())).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "no Python >= 3.12 found (tried: python3.12, python3.13, python3.14 on PATH, \
                 {}/versions/*/bin/python3.1[2-9]); install one, e.g. `pyenv install 3.12` or \
                 `apt-get install python3.12`, or point STACK_HARNESS_PYTHON at one",
                root.display()
            )
        );
    }

    #[test]
    fn an_explicit_interpreter_must_be_new_enough() {
        let dir = tempfile::tempdir().unwrap();
        let old = dir.path().join("python3.11");
        fake_python(&old, "3.11.7");
        let err = find_python_in(Some(old.clone()), None, None).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "STACK_HARNESS_PYTHON=`{}` is not a usable Python >= 3.12: it is 3.11.7",
                old.display()
            )
        );
        let missing = dir.path().join("nope");
        let err = find_python_in(Some(missing.clone()), None, None).unwrap_err();
        assert!(
            err.to_string()
                .ends_with("cannot run: No such file or directory (os error 2)"),
            "{err}"
        );
    }
}
