//! External APIs and providers a run.yaml asks for: `external_apis_dir`,
//! `external_providers_dir` and providers with a `module:`. What the stack
//! needs for them follows from the run.yaml, so `--stack-config` stays the
//! only thing a user types:
//!
//! ```text
//! run-configs/<config>/run.yaml   external_apis_dir: ${env.HOME}/.llama/apis.d
//! run-configs/<config>/apis.d/    -> copied there (HOME is the session's state/home)
//! run-configs/<config>/providers.d/ -> likewise, for external_providers_dir
//! pip_packages of those specs     -> installed into an overlay (PYTHONPATH)
//! module: name==version           -> installed likewise (upstream's form)
//! ```
//!
//! An overlay, not the shared venv: the shared `.stack/venv` holds exactly
//! the pinned set (its stamp says so, and `uv pip sync` would remove
//! extras), and two sessions with different packages must not see each
//! other's. A `--target` directory on the stack's `PYTHONPATH` is the
//! cheapest overlay that is a real install (built, with its metadata): no
//! second venv to build, no `.pth` in the shared one. Overlays live under
//! `.stack/overlays/<key>`, named by what they hold (the requirements, the
//! interpreter, every file of the local packages): a session sees exactly
//! its own packages, a changed package gets a new overlay, and the next
//! session asking for the same set starts without installing anything.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::provision::ProvisionError;
use super::run_yaml::RunConfig;
use crate::process::Progress;
use crate::python::{self, Venv};

const STAMP: &str = ".stack-harness-stamp";

/// What a run.yaml's external APIs and providers need before the stack starts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct External {
    /// A directory beside the run.yaml, and where the stack reads it.
    pub placements: Vec<(PathBuf, PathBuf)>,
    /// Requirements (absolute paths of local packages, or names) for the overlay.
    pub packages: Vec<String>,
}

/// Whether the run.yaml has external APIs or providers at all.
pub(crate) fn wanted(config: &RunConfig) -> bool {
    config.external_apis_dir.is_some()
        || config.external_providers_dir.is_some()
        || config
            .providers
            .iter()
            .flat_map(|api| &api.providers)
            .any(|p| p.module.is_some())
}

impl External {
    /// Plans from `config`, loaded as the stack will see it (its HOME is
    /// `home`). A spec this cannot read is left to the stack, whose own
    /// error then says what is wrong with it.
    pub(crate) fn plan(
        run_yaml: &Path,
        config: &RunConfig,
        home: &Path,
        project_root: &Path,
    ) -> External {
        let beside = run_yaml.parent().unwrap_or(Path::new("."));
        let mut plan = External::default();
        for (dir, name) in [
            (&config.external_apis_dir, "apis.d"),
            (&config.external_providers_dir, "providers.d"),
        ] {
            let (Some(dir), source) = (dir, beside.join(name)) else {
                continue;
            };
            if !source.is_dir() {
                continue;
            }
            let target = match dir.strip_prefix("~/") {
                Some(rest) => home.join(rest),
                None => PathBuf::from(dir),
            };
            for spec in yaml_files(&source) {
                plan.add_packages(&spec, project_root);
            }
            plan.placements.push((source, target));
        }
        for provider in config.providers.iter().flat_map(|api| &api.providers) {
            if let Some(module) = &provider.module
                && module.contains("==")
            {
                plan.packages.push(module.clone());
            }
        }
        plan.packages.dedup();
        plan
    }

    fn add_packages(&mut self, spec: &Path, project_root: &Path) {
        let Some(value) = fs::read_to_string(spec)
            .ok()
            .and_then(|text| serde_saphyr::from_str::<Value>(&text).ok())
        else {
            return;
        };
        for package in value["pip_packages"].as_array().into_iter().flatten() {
            let Some(package) = package.as_str() else {
                continue;
            };
            let local = project_root.join(package);
            self.packages.push(if local.exists() {
                local.display().to_string()
            } else {
                package.to_owned()
            });
        }
    }

    /// Installs the packages into an overlay under `overlays` named by
    /// what it holds, unless it is there already; the `PYTHONPATH` for the
    /// stack, if there is anything to install.
    pub(crate) fn provision(
        &self,
        venv: &Venv,
        overlays: &Path,
        progress: &Progress,
    ) -> Result<Option<PathBuf>, ProvisionError> {
        if self.packages.is_empty() {
            return Ok(None);
        }
        let io_err = ProvisionError::io;
        let key = self.stamp_key(venv);
        let overlay = overlays.join(&key[..16]);
        if fs::read_to_string(overlay.join(STAMP)).is_ok_and(|s| s == key) {
            return Ok(Some(overlay));
        }
        // Installed beside it and renamed into place: a session reading the
        // overlay never sees half of it, and two installing at once both win.
        let partial = overlays.join(format!("{}.partial-{}", &key[..16], std::process::id()));
        if partial.exists() {
            fs::remove_dir_all(&partial).map_err(io_err("empty", &partial))?;
        }
        fs::create_dir_all(&partial).map_err(io_err("create", &partial))?;
        progress.say(format!(
            "installing the external APIs' and providers' packages into {}: {}",
            overlay.display(),
            self.packages.join(", ")
        ));
        python::install_overlay(
            venv,
            &partial,
            &self.packages,
            "the external APIs' and providers' packages",
            progress,
        )?;
        fs::write(partial.join(STAMP), &key).map_err(io_err("write", &partial))?;
        if overlay.exists() {
            let _ = fs::remove_dir_all(&partial);
        } else {
            fs::rename(&partial, &overlay).map_err(io_err("rename into place", &overlay))?;
        }
        Ok(Some(overlay))
    }

    /// The requirements, the interpreter, and every file of the local packages.
    fn stamp_key(&self, venv: &Venv) -> String {
        let mut h = Sha256::new();
        h.update(venv.python.display().to_string().as_bytes());
        for package in &self.packages {
            h.update(format!("\0{package}").as_bytes());
            let dir = Path::new(package);
            if !dir.is_dir() {
                continue;
            }
            let mut files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
                .into_iter()
                .filter_entry(|e| {
                    let name = e.file_name().to_string_lossy();
                    !(name == "__pycache__" || name == "build" || name.ends_with(".egg-info"))
                })
                .flatten()
                .filter(|e| e.file_type().is_file())
                .map(|e| e.into_path())
                .collect();
            files.sort();
            for file in files {
                h.update(file.display().to_string().as_bytes());
                h.update(fs::read(&file).unwrap_or_default());
            }
        }
        hex::encode(h.finalize())
    }

    /// Copies each directory to where the stack reads it (after the state
    /// directory, which holds the stack's HOME, was prepared).
    pub(crate) fn place(&self) -> std::io::Result<()> {
        for (source, target) in &self.placements {
            if target.exists() {
                fs::remove_dir_all(target)?;
            }
            copy_dir(source, target)?;
        }
        Ok(())
    }
}

/// The `*.yaml` files under `dir`, at any depth (`providers.d/remote/<api>/`).
fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "yaml"))
        .map(|e| e.into_path())
        .collect();
    files.sort();
    files
}

fn copy_dir(source: &Path, target: &Path) -> std::io::Result<()> {
    fs::create_dir_all(target)?;
    for entry in fs::read_dir(source)? {
        let entry = entry?;
        let to = target.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &to)?;
        } else {
            fs::copy(entry.path(), &to)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> RunConfig {
        let home = |name: &str| (name == "HOME").then(|| "/state/home".to_owned());
        RunConfig::parse("run.yaml", text, &home).expect("loads")
    }

    #[test]
    fn what_to_place_and_install_follows_from_the_run_yaml() {
        let root = tempfile::tempdir().expect("a temporary directory");
        let dir = root.path().join("run-configs/x");
        fs::create_dir_all(dir.join("apis.d")).unwrap();
        fs::create_dir_all(root.path().join("pkgs/api")).unwrap();
        fs::write(
            dir.join("apis.d/a.yaml"),
            "module: a\nname: a\nprotocol: A\npip_packages: [pkgs/api, some-pypi-name]\n",
        )
        .unwrap();
        fs::write(dir.join("apis.d/broken.yaml"), "name: [a\n").unwrap();
        let text = "version: 2\ndistro_name: x\napis: [a]\nproviders:\n  a:\n  - provider_id: m\n    \
                    provider_type: remote::m\n    module: m_pkg==1.2\n    config: {}\n\
                    external_apis_dir: ${env.HOME}/.llama/apis.d\n\
                    external_providers_dir: ~/.llama/providers.d\n";
        let config = config(text);
        assert!(wanted(&config));
        let plan = External::plan(
            &dir.join("run.yaml"),
            &config,
            Path::new("/state/home"),
            root.path(),
        );
        assert_eq!(
            plan,
            External {
                // No providers.d beside the run.yaml: nothing to place for it.
                placements: vec![(
                    dir.join("apis.d"),
                    PathBuf::from("/state/home/.llama/apis.d")
                )],
                packages: vec![
                    root.path().join("pkgs/api").display().to_string(),
                    "some-pypi-name".to_owned(),
                    "m_pkg==1.2".to_owned(),
                ],
            }
        );
    }

    #[test]
    fn a_config_without_external_parts_wants_nothing() {
        let config = config("version: 2\ndistro_name: x\napis: [files]\nproviders: {}\n");
        assert!(!wanted(&config));
    }
}
