//! How a stack server is started, as data: a program, an argument template
//! with `{config}` and `{port}`, and extra environment (with `{state}`, the
//! per-session state directory). Presets for `llama-stack` and `ogx`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub(crate) enum LauncherError {
    #[error("unknown launcher `{given}`; known launchers: {}", Launcher::PRESETS.join(", "))]
    Unknown { given: String },
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
    pub(crate) const PRESETS: &'static [&'static str] = &["llama-stack", "ogx"];

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
    /// in `OGX_CONFIG_DIR`, and without one it moves `~/.llama` aside.
    pub(crate) fn ogx() -> Self {
        Self {
            name: "ogx".to_owned(),
            program: "ogx".to_owned(),
            args: ["run", "{config}", "--port", "{port}", "--insecure"]
                .map(str::to_owned)
                .to_vec(),
            env: vec![("OGX_CONFIG_DIR".to_owned(), "{state}/ogx".to_owned())],
        }
    }

    pub(crate) fn preset(name: &str) -> Result<Self, LauncherError> {
        match name {
            "llama-stack" => Ok(Self::llama_stack()),
            "ogx" => Ok(Self::ogx()),
            _ => Err(LauncherError::Unknown {
                given: name.to_owned(),
            }),
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
        let l = Launcher::preset("llama-stack").unwrap();
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
        let l = Launcher::preset("ogx").unwrap();
        assert_eq!(
            strings(l.args(Path::new("c.yaml"), 9000)),
            ["run", "c.yaml", "--port", "9000", "--insecure"]
        );
        assert_eq!(
            l.env(Path::new("c.yaml"), 9000, Path::new("/state")),
            [(
                OsString::from("OGX_CONFIG_DIR"),
                OsString::from("/state/ogx")
            )]
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
    fn an_unknown_preset_lists_the_known_ones() {
        assert_eq!(
            Launcher::preset("llama").unwrap_err().to_string(),
            "unknown launcher `llama`; known launchers: llama-stack, ogx"
        );
    }
}
