//! What the user typed: libtest's flags (the ones IDEs and cargo-nextest send)
//! beside ours, parsed with clap and not yet validated against the
//! environment or the defaults file (that is [`super::config`]).
//!
//! libtest-mimic's `Arguments` is not flattened in: it takes a single
//! positional filter and rejects `--no-capture`, `--report-time` and
//! `--shuffle`, all of which real libtest (and so the tools) may send.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Parser, ValueEnum};

use super::models::ModelArgs;

/// The raw command line of a test binary.
#[derive(Parser, Debug, Default, Clone, PartialEq)]
#[command(
    name = "integration",
    about = "Integration tests against a real Llama Stack server, with record/replay of its model traffic.",
    after_help = "Every option of ours can also come from an environment variable or from \
                  `stack-harness.toml` at the repository root (flag beats variable beats file); \
                  see the README for the table.",
    disable_version_flag = true
)]
pub(crate) struct RawArgs {
    /// Run only tests whose name contains one of these (all of it with --exact).
    #[arg(value_name = "FILTER")]
    pub filters: Vec<String>,

    // ---- libtest flags -------------------------------------------------
    /// List the tests instead of running them.
    #[arg(long, help_heading = "libtest")]
    pub list: bool,
    /// Filters match whole names (or a test's module path, to run all its parametrisations).
    #[arg(long, help_heading = "libtest")]
    pub exact: bool,
    /// Skip tests whose name contains FILTER (repeatable).
    #[arg(long, value_name = "FILTER", help_heading = "libtest")]
    pub skip: Vec<String>,
    /// Run only ignored tests.
    #[arg(long, help_heading = "libtest")]
    pub ignored: bool,
    /// Run ignored tests too.
    #[arg(long, help_heading = "libtest")]
    pub include_ignored: bool,
    /// Print test output as it happens instead of capturing it.
    #[arg(long, alias = "no-capture", help_heading = "libtest")]
    pub nocapture: bool,
    /// Show the captured output of passing tests too.
    #[arg(long, help_heading = "libtest")]
    pub show_output: bool,
    /// Number of tests run at once.
    #[arg(long, value_name = "N", help_heading = "libtest")]
    pub test_threads: Option<usize>,
    /// Terse output (one character per test).
    #[arg(short, long, help_heading = "libtest")]
    pub quiet: bool,
    #[arg(long, value_enum, value_name = "WHEN", help_heading = "libtest")]
    pub color: Option<ColorArg>,
    #[arg(long, value_enum, value_name = "FORMAT", help_heading = "libtest")]
    pub format: Option<FormatArg>,
    /// Accepted for libtest compatibility (`-Z unstable-options`).
    #[arg(short = 'Z', value_name = "FLAG", help_heading = "libtest")]
    pub unstable: Vec<String>,
    /// Accepted for compatibility: we always report times in JSON.
    #[arg(long, help_heading = "libtest")]
    pub report_time: bool,
    /// Accepted for compatibility; ignored.
    #[arg(long, hide = true)]
    pub ensure_time: bool,
    /// Accepted for compatibility: tests always run in this process.
    #[arg(long, hide = true)]
    pub force_run_in_process: bool,
    /// Accepted for compatibility: there are no should_panic tests.
    #[arg(long, hide = true)]
    pub exclude_should_panic: bool,
    /// Accepted for compatibility (`cargo test` passes nothing, `--test` is the default).
    #[arg(long, hide = true)]
    pub test: bool,
    /// Accepted for compatibility: there are no benchmarks in this binary.
    #[arg(long, hide = true)]
    pub bench: bool,
    /// Write the libtest log to PATH (accepted; the JUnit report is `--junit`).
    #[arg(long, value_name = "PATH", hide = true)]
    pub logfile: Option<PathBuf>,

    // ---- ours ------------------------------------------------------------
    /// Which stack: server:<config>[:<port>], http(s)://URL, <config>, a run.yaml path, or api=provider,...
    #[arg(long, value_name = "SPEC", help_heading = "stack")]
    pub stack_config: Option<String>,
    /// replay (default) | record | record-if-missing | live
    #[arg(long, value_name = "MODE", help_heading = "recording")]
    pub inference_mode: Option<String>,
    /// Where recordings live (default: recordings/).
    #[arg(long, value_name = "DIR", help_heading = "recording")]
    pub record_dir: Option<PathBuf>,
    /// Who records: proxy (default, the harness's proxy) | stack (the stack's own recorder).
    #[arg(long, value_name = "WHO", help_heading = "recording")]
    pub recorder: Option<String>,
    /// Pre-fill models and environment from a named setup: local, ollama, vllm, gpt.
    #[arg(long, value_name = "NAME", help_heading = "selection")]
    pub setup: Option<String>,
    /// Collect only one suite: base, responses, vision.
    #[arg(long, value_name = "NAME", help_heading = "selection")]
    pub suite: Option<String>,
    /// pytest-style keyword expression: `chat and not stream`.
    #[arg(short = 'k', value_name = "EXPR", help_heading = "selection")]
    pub keyword: Option<String>,
    /// One flag per model parameter (`--text-model`, …), from the table.
    #[command(flatten)]
    pub models: ModelArgs,
    /// KEY=VALUE for the stack's environment (repeatable).
    #[arg(long = "env", value_name = "KEY=VALUE", help_heading = "stack")]
    pub env: Vec<String>,
    /// Per-test deadline in seconds (default 300).
    #[arg(long, value_name = "SECS", help_heading = "runner")]
    pub test_timeout: Option<String>,
    /// Write a JUnit XML report to PATH.
    #[arg(long, value_name = "PATH", help_heading = "runner")]
    pub junit: Option<PathBuf>,
    /// Leave the stack server running after the run.
    #[arg(long, help_heading = "stack")]
    pub keep_server: bool,
    /// How to start the stack: llama-stack (default) | ogx.
    #[arg(long, value_name = "NAME", help_heading = "stack")]
    pub launcher: Option<String>,
    /// Seconds to wait for the stack's /v1/health (default 180).
    #[arg(long, value_name = "SECS", help_heading = "stack")]
    pub health_timeout: Option<String>,
    /// Stack servers to spread the tests over (default 1).
    #[arg(long, value_name = "N", help_heading = "stack")]
    pub stack_replicas: Option<String>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ColorArg {
    Auto,
    Always,
    Never,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FormatArg {
    Pretty,
    Terse,
    Json,
}

impl RawArgs {
    /// Parses argv (program name first). Help and usage errors come back as
    /// clap errors for the edge to print.
    pub(crate) fn parse_from<I, T>(args: I) -> Result<RawArgs, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        RawArgs::try_parse_from(args)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> RawArgs {
        RawArgs::parse_from(std::iter::once("integration").chain(line.split_whitespace()))
            .unwrap_or_else(|e| panic!("`{line}` should parse: {e}"))
    }

    #[test]
    fn accepts_what_nextest_sends() {
        let a = parse("--list --format terse");
        assert!(a.list);
        assert_eq!(a.format, Some(FormatArg::Terse));
        let a = parse("--list --format terse --ignored");
        assert!(a.list && a.ignored);
        let a = parse("--exact models::list::lists_models --nocapture");
        assert!(a.exact && a.nocapture);
        assert_eq!(a.filters, ["models::list::lists_models"]);
    }

    #[test]
    fn accepts_what_rust_analyzer_and_rustrover_send() {
        let a = parse("inference::chat::streaming --exact --nocapture --include-ignored");
        assert!(a.exact && a.nocapture && a.include_ignored);
        let a = parse("inference -Z unstable-options --format=json --show-output");
        assert_eq!(a.unstable, ["unstable-options"]);
        assert_eq!(a.format, Some(FormatArg::Json));
        assert!(a.show_output);
        let a = parse("--no-capture --report-time --test-threads 1 -q --color never");
        assert!(a.nocapture && a.report_time && a.quiet);
        assert_eq!(a.test_threads, Some(1));
        assert_eq!(a.color, Some(ColorArg::Never));
    }

    #[test]
    fn takes_several_filters_and_skips() {
        let a = parse("chat embeddings --skip slow --skip vision");
        assert_eq!(a.filters, ["chat", "embeddings"]);
        assert_eq!(a.skip, ["slow", "vision"]);
    }

    #[test]
    fn takes_our_flags_beside_libtest_ones() {
        let a = parse(
            "--stack-config=server:starter -k chat --text-model a,b --env A=1 --env B=2 --setup local --list",
        );
        assert_eq!(a.stack_config.as_deref(), Some("server:starter"));
        assert_eq!(a.keyword.as_deref(), Some("chat"));
        assert_eq!(
            a.models.get(crate::registry::params::text_model),
            Some("a,b")
        );
        assert_eq!(a.env, ["A=1", "B=2"]);
        assert_eq!(a.setup.as_deref(), Some("local"));
        assert!(a.list);
    }

    #[test]
    fn rejects_unknown_flags_and_formats() {
        let err = RawArgs::parse_from(["integration", "--frobnicate"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::UnknownArgument);
        let err = RawArgs::parse_from(["integration", "--format", "xml"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::InvalidValue);
    }
}
