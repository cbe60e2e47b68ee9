//! How a stack server is started, as data: a program, an argument template
//! with `{config}` and `{port}`, and extra environment (with `{state}`, the
//! per-session state directory). Presets for `llama-stack` and `ogx`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum LauncherError {
    #[error("unknown launcher `{given}`; known launchers: {}", LauncherKind::NAMES.join(", "))]
    Unknown { given: String },
}

/// Which stack project runs the server (`--launcher`): a closed set, so a
/// name is checked once, where the option is resolved, and everything after
/// holds a value that cannot be wrong. Public so that a test can `match` on
/// `ctx.stack().launcher()` and state each project's truth: a new launcher
/// is then a compile error at every such test.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LauncherKind {
    /// `llama stack run`, from `requirements/stack.txt`.
    #[default]
    LlamaStack,
    /// `ogx run`, OGX (the renamed project), from `requirements/ogx.txt`.
    Ogx,
}

impl LauncherKind {
    pub(crate) const NAMES: &'static [&'static str] = &["llama-stack", "ogx"];

    pub(crate) fn parse(name: &str) -> Result<LauncherKind, LauncherError> {
        match name {
            "llama-stack" => Ok(LauncherKind::LlamaStack),
            "ogx" => Ok(LauncherKind::Ogx),
            _ => Err(LauncherError::Unknown {
                given: name.to_owned(),
            }),
        }
    }

    /// The name a user types: `llama-stack`, `ogx`.
    pub fn name(self) -> &'static str {
        match self {
            LauncherKind::LlamaStack => "llama-stack",
            LauncherKind::Ogx => "ogx",
        }
    }

    /// Its command line.
    pub(crate) fn launcher(self) -> Launcher {
        match self {
            LauncherKind::LlamaStack => Launcher::llama_stack(),
            LauncherKind::Ogx => Launcher::ogx(),
        }
    }
}

impl std::fmt::Display for LauncherKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A server command line before its values are known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Launcher {
    /// The preset's name, or `custom`.
    pub name: String,
    /// A bare name is a console script in the venv's `bin/`; a path is used as is.
    pub program: String,
    pub args: Vec<String>,
    /// Extra variables; the stack has no `--env` flag, its `${env.X}` values
    /// come from the process environment.
    pub env: Vec<(String, String)>,
}

impl Launcher {
    /// `llama stack run {config} --port {port}`.
    pub(crate) fn llama_stack() -> Self {
        Self {
            name: "llama-stack".to_owned(),
            program: "llama".to_owned(),
            args: ["stack", "run", "{config}", "--port", "{port}"]
                .map(str::to_owned)
                .to_vec(),
            env: Vec::new(),
        }
    }

    /// `ogx run {config} --port {port} --insecure`; ogx keeps its own state
    /// in `OGX_CONFIG_DIR`, and without one it moves `~/.llama` aside. It
    /// reads its log format from `OGX_LOG_FORMAT`, not the old
    /// `LLAMA_STACK_LOG_FORMAT`: without `json` it renders a rich traceback
    /// (locals of every frame) for each error answer, 4-12 s each, and a
    /// replay of the suite took 75 s instead of 8.
    pub(crate) fn ogx() -> Self {
        Self {
            name: "ogx".to_owned(),
            program: "ogx".to_owned(),
            args: ["run", "{config}", "--port", "{port}", "--insecure"]
                .map(str::to_owned)
                .to_vec(),
            env: vec![
                ("OGX_CONFIG_DIR".to_owned(), "{state}/ogx".to_owned()),
                ("OGX_LOG_FORMAT".to_owned(), "json".to_owned()),
            ],
        }
    }

    /// The program to run, given the venv's `bin/` directory.
    pub(crate) fn program(&self, bin_dir: &Path) -> PathBuf {
        if self.program.contains('/') {
            PathBuf::from(&self.program)
        } else {
            bin_dir.join(&self.program)
        }
    }

    /// The arguments with `{config}` and `{port}` filled in.
    pub(crate) fn args(&self, config: &Path, port: u16) -> Vec<OsString> {
        self.args
            .iter()
            .map(|a| fill(a, config, port, None))
            .collect()
    }

    /// The extra environment with `{state}`, `{config}` and `{port}` filled in.
    pub(crate) fn env(&self, config: &Path, port: u16, state: &Path) -> Vec<(OsString, OsString)> {
        self.env
            .iter()
            .map(|(k, v)| (OsString::from(k), fill(v, config, port, Some(state))))
            .collect()
    }
}

fn fill(template: &str, config: &Path, port: u16, state: Option<&Path>) -> OsString {
    // A whole-argument `{config}` keeps a non-UTF-8 path intact.
    if template == "{config}" {
        return config.as_os_str().to_owned();
    }
    let mut out = template
        .replace("{config}", &config.to_string_lossy())
        .replace("{port}", &port.to_string());
    if let Some(state) = state {
        out = out.replace("{state}", &state.to_string_lossy());
    }
    out.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: Vec<OsString>) -> Vec<String> {
        v.into_iter()
            .map(|s| s.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn llama_stack_runs_the_config_on_the_port() {
        let l = LauncherKind::LlamaStack.launcher();
        assert_eq!(
            l.program(Path::new("/v/bin")),
            PathBuf::from("/v/bin/llama")
        );
        assert_eq!(
            strings(l.args(Path::new("/r/run.yaml"), 8321)),
            ["stack", "run", "/r/run.yaml", "--port", "8321"]
        );
        assert!(
            l.env(Path::new("/r/run.yaml"), 8321, Path::new("/s"))
                .is_empty()
        );
    }

    #[test]
    fn ogx_is_insecure_and_keeps_its_state_in_the_session() {
        let l = LauncherKind::Ogx.launcher();
        assert_eq!(
            strings(l.args(Path::new("c.yaml"), 9000)),
            ["run", "c.yaml", "--port", "9000", "--insecure"]
        );
        assert_eq!(
            l.env(Path::new("c.yaml"), 9000, Path::new("/state")),
            [
                (
                    OsString::from("OGX_CONFIG_DIR"),
                    OsString::from("/state/ogx")
                ),
                (OsString::from("OGX_LOG_FORMAT"), OsString::from("json"))
            ]
        );
    }

    #[test]
    fn a_custom_program_path_is_used_as_is() {
        let l = Launcher {
            name: "custom".to_owned(),
            program: "/bin/sh".to_owned(),
            args: vec!["-c".to_owned(), "serve {config} on {port}".to_owned()],
            env: Vec::new(),
        };
        assert_eq!(l.program(Path::new("/v/bin")), PathBuf::from("/bin/sh"));
        assert_eq!(strings(l.args(Path::new("x"), 1)), ["-c", "serve x on 1"]);
    }

    #[test]
    fn an_unknown_launcher_lists_the_known_ones() {
        for kind in [LauncherKind::LlamaStack, LauncherKind::Ogx] {
            assert_eq!(LauncherKind::parse(kind.name()), Ok(kind));
        }
        assert_eq!(
            LauncherKind::parse("llama").unwrap_err().to_string(),
            "unknown launcher `llama`; known launchers: llama-stack, ogx"
        );
    }
}
