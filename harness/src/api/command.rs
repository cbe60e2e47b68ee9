//! `stack-harness api`: `baseline` writes `api/openapi-v1.json` from what a
//! stack serves (the session's, started as the tests start it, or a URL);
//! `diff` compares two specs (files or URLs) by the gate's rules.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use serde_json::Value;

use super::diff::diff;
use super::report::{Names, counts, lines, markdown};
use super::spec::{ApiSpec, BASELINE, baseline_text, fetch_json};
use crate::cli;
use crate::session::{Session, SessionSettings};
use crate::stack::target::StackTarget;

#[derive(Debug, Args)]
pub(crate) struct ApiArgs {
    #[command(subcommand)]
    command: ApiCommand,
}

#[derive(Debug, Subcommand)]
enum ApiCommand {
    /// Write the spec a stack serves as the baseline the gate holds it to.
    Baseline(BaselineArgs),
    /// Compare two specs (files, or stack URLs) and list the differences.
    Diff(DiffArgs),
}

#[derive(Debug, Args)]
struct BaselineArgs {
    /// Read the spec of a stack someone else runs, instead of starting the session's.
    #[arg(long, value_name = "URL", conflicts_with_all = ["stack_config", "launcher"])]
    url: Option<String>,
    /// The session's stack, as for the tests (default: LLAMA_STACK_CONFIG, else stack-harness.toml).
    #[arg(long, value_name = "SPEC")]
    stack_config: Option<String>,
    /// `llama-stack` or `ogx` (default: LLAMA_STACK_TEST_LAUNCHER, else llama-stack).
    #[arg(long, value_name = "NAME")]
    launcher: Option<String>,
    /// Where to write it.
    #[arg(long, value_name = "FILE", default_value = BASELINE)]
    out: PathBuf,
}

#[derive(Debug, Args)]
struct DiffArgs {
    /// The old spec: a file, or a stack's URL (`http://127.0.0.1:8321`).
    old: String,
    /// The new spec.
    new: String,
    /// Print the markdown report instead of the list.
    #[arg(long)]
    markdown: bool,
    /// For the report: the command that regenerates it.
    #[arg(long, value_name = "CMD")]
    command: Option<String>,
}

/// Runs `stack-harness api ...` from the project root.
pub(crate) fn api_main(args: &ApiArgs, root: &Path, out: &mut dyn Write) -> Result<(), String> {
    match &args.command {
        ApiCommand::Baseline(b) => baseline(b, root, out),
        ApiCommand::Diff(d) => {
            let old = load(&d.old)?;
            let new = load(&d.new)?;
            let findings = diff(&old.spec, &new.spec);
            let names = Names {
                old: &label(&old),
                new: &label(&new),
            };
            let text = if d.markdown {
                let command = d.command.clone().unwrap_or_else(|| {
                    format!(
                        "cargo run -p stack-harness -- api diff {} {} --markdown",
                        d.old, d.new
                    )
                });
                markdown(&findings, names, &command)
            } else {
                let (breaking, info) = counts(&findings);
                let all: Vec<_> = findings.iter().collect();
                format!(
                    "{} → {}: {breaking} breaking, {info} other difference(s){}\n",
                    names.old,
                    names.new,
                    lines(&all, names)
                )
            };
            out.write_all(text.as_bytes()).map_err(|e| e.to_string())
        }
    }
}

/// A spec's name in a report: where it came from, when it says so.
fn label(spec: &ApiSpec) -> String {
    spec.source().unwrap_or_else(|| spec.name.clone())
}

fn load(source: &str) -> Result<ApiSpec, String> {
    if source.starts_with("http://") || source.starts_with("https://") {
        let url = spec_url(source);
        let value = fetch_json(&url).map_err(|e| e.to_string())?;
        ApiSpec::parse(&url, &value.to_string()).map_err(|e| e.to_string())
    } else {
        ApiSpec::read(Path::new(source)).map_err(|e| e.to_string())
    }
}

/// A stack's base URL gets `/openapi.json`; a URL of a `.json` is used as is.
fn spec_url(url: &str) -> String {
    if url.ends_with(".json") {
        url.to_owned()
    } else {
        format!("{}/openapi.json", url.trim_end_matches('/'))
    }
}

fn baseline(args: &BaselineArgs, root: &Path, out: &mut dyn Write) -> Result<(), String> {
    let (served, source) = match &args.url {
        Some(url) => {
            let served = fetch_json(&spec_url(url)).map_err(|e| e.to_string())?;
            let version = fetch_json(&format!("{}/v1/version", url.trim_end_matches('/')))
                .ok()
                .and_then(|v| v["version"].as_str().map(str::to_owned))
                .unwrap_or_else(|| "an unknown version".to_owned());
            (served, format!("the stack at {url} ({version})"))
        }
        None => served_by_session(args, root)?,
    };
    let path = if args.out.is_absolute() {
        args.out.clone()
    } else {
        root.join(&args.out)
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create `{}`: {e}", dir.display()))?;
    }
    let text = baseline_text(served, &source);
    crate::atomic::write(&path, text.as_bytes())
        .map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
    writeln!(out, "wrote `{}` from {source}", args.out.display()).map_err(|e| e.to_string())
}

/// Starts (or reuses) the session's stack as a test binary would, reads
/// its spec and version, and lets the session go.
fn served_by_session(args: &BaselineArgs, root: &Path) -> Result<(Value, String), String> {
    let mut argv = vec!["stack-harness api baseline".to_owned()];
    if let Some(spec) = &args.stack_config {
        argv.push(format!("--stack-config={spec}"));
    }
    if let Some(launcher) = &args.launcher {
        argv.push(format!("--launcher={launcher}"));
    }
    let raw = cli::RawArgs::parse_from(argv).map_err(|e| e.to_string())?;
    let env = |k: &str| std::env::var(k).ok();
    let defaults = cli::Defaults::load(root).map_err(|e| e.to_string())?;
    let config = cli::Config::resolve(raw, &env, &defaults, root).map_err(|e| e.to_string())?;
    let target = crate::runner::resolve_stack(&config, &env).map_err(|e| e.to_string())?;
    let config_file = match &target {
        StackTarget::Url(url) => url.to_string(),
        StackTarget::Supervised(s) => s.shown.clone(),
    };
    let launcher = config.launcher;
    let session = Session::new(SessionSettings::from_config(&config, target, &env));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let read = async {
            let stack = session.stack().await.map_err(|e| format!("{e:#}"))?;
            let get = |path: &str| {
                let url = format!("{}{path}", stack.base_url(0));
                let http = stack.http.clone();
                async move {
                    let response = http
                        .get(&url)
                        .send()
                        .await
                        .map_err(|e| format!("GET {url}: {e}"))?;
                    if !response.status().is_success() {
                        return Err(format!("GET {url} answered {}", response.status()));
                    }
                    response
                        .json::<Value>()
                        .await
                        .map_err(|e| format!("GET {url}: {e}"))
                }
            };
            let served = get("/openapi.json").await?;
            let version = get("/v1/version").await?;
            let version = version["version"].as_str().unwrap_or("?").to_owned();
            Ok::<_, String>((
                served,
                format!("{launcher} {version} on {}", config_name(&config_file)),
            ))
        };
        let result = read.await;
        session.finish(false).await;
        result
    })
}

/// `server:ci-tests:18501` and `ci-tests` -> `ci-tests`: a baseline names
/// the run-config, whichever port or session form it was read from.
fn config_name(shown: &str) -> String {
    let name = shown.strip_prefix("server:").unwrap_or(shown);
    match name.rsplit_once(':') {
        Some((rest, port)) if port.parse::<u16>().is_ok() && !shown.contains("://") => {
            rest.to_owned()
        }
        _ => name.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_baseline_names_its_config_without_the_port() {
        assert_eq!(config_name("server:ci-tests:18501"), "ci-tests");
        assert_eq!(config_name("server:ci-tests"), "ci-tests");
        assert_eq!(
            config_name("ci-tests::run-with-auth.yaml"),
            "ci-tests::run-with-auth.yaml"
        );
        assert_eq!(
            config_name("http://127.0.0.1:8321/"),
            "http://127.0.0.1:8321/"
        );
    }

    #[test]
    fn a_stack_url_reads_its_openapi_json() {
        assert_eq!(spec_url("http://h:1/"), "http://h:1/openapi.json");
        assert_eq!(spec_url("http://h:1/x.json"), "http://h:1/x.json");
    }
}
