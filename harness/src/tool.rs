//! The `stack-harness` binary: `recordings` (list, show, verify, prune the
//! recorded upstream traffic), `sessions` (list and stop live sessions),
//! `api` (the API baseline, and diffs of two specs) and `outcomes` (diff two
//! runs' JUnit reports).
//! Each command's logic lives in its module and writes to any sink, so
//! tests read the exact text; this only parses and dispatches.

use std::io::Write as _;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::api::{ApiArgs, api_main};
use crate::record::{RecordingsArgs, recordings_main};
use crate::report::{OutcomesArgs, outcomes_main};
use crate::session::{SessionsArgs, sessions_main};

#[derive(Debug, Parser)]
#[command(
    name = "stack-harness",
    about = "Tools for stack-harness: its recordings, its live sessions, the API baseline and comparing runs"
)]
struct Cli {
    #[command(subcommand)]
    command: Top,
}

#[derive(Debug, Subcommand)]
enum Top {
    /// Inspect and maintain recorded upstream traffic.
    Recordings(RecordingsArgs),
    /// List the live sessions (stacks and their services), or stop them.
    Sessions(SessionsArgs),
    /// Write the API baseline from a stack, or compare two OpenAPI specs.
    Api(ApiArgs),
    /// Compare the outcomes of two runs (their `--junit` reports).
    Outcomes(OutcomesArgs),
}

/// The `stack-harness` binary's `main`. Run from the project root (what
/// `cargo run -p stack-harness` does): sessions are found under its
/// `target/` (or `CARGO_TARGET_DIR`).
pub fn tool_main() -> ExitCode {
    // `api baseline` starts a session as a test binary does: the session's
    // supervisor is this binary again.
    if let Some(spec) = std::env::var_os(crate::session::SUPERVISOR_ENV) {
        return crate::session::supervise(spec);
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = e.exit_code();
            let _ = e.print();
            return ExitCode::from(u8::try_from(code).unwrap_or(2));
        }
    };
    let mut stdout = std::io::stdout().lock();
    let result = match &cli.command {
        Top::Recordings(args) => recordings_main(args, &mut stdout).map_err(|e| e.to_string()),
        Top::Api(args) => {
            let root = std::env::current_dir().unwrap_or_default();
            api_main(args, &root, &mut stdout).map(|()| true)
        }
        Top::Sessions(args) => {
            let root = std::env::current_dir().unwrap_or_default();
            let target = crate::session::target_dir(&root, &|k| std::env::var(k).ok());
            sessions_main(args, &target, &mut stdout)
                .map(|()| true)
                .map_err(|e| e.to_string())
        }
        Top::Outcomes(args) => outcomes_main(args, &mut stdout).map(|()| true),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            let _ = stdout.flush();
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_parses() {
        let cli = Cli::try_parse_from([
            "stack-harness",
            "recordings",
            "prune",
            "--dry-run",
            "--dir",
            "r",
        ])
        .unwrap();
        assert!(
            matches!(cli.command, Top::Recordings(ref args) if args.dir == std::path::Path::new("r"))
        );
        let err = Cli::try_parse_from(["stack-harness", "recordings", "frob"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("unrecognized subcommand 'frob'"), "{err}");
        for line in [
            &["stack-harness", "sessions"][..],
            &["stack-harness", "sessions", "list"],
            &["stack-harness", "sessions", "stop", "port-8321"],
            &["stack-harness", "sessions", "stop", "--all"],
        ] {
            let cli = Cli::try_parse_from(line).unwrap();
            assert!(matches!(cli.command, Top::Sessions(_)), "{line:?}");
        }
        let cli =
            Cli::try_parse_from(["stack-harness", "outcomes", "diff", "a.xml", "b.xml"]).unwrap();
        assert!(matches!(cli.command, Top::Outcomes(_)));
        let err = Cli::try_parse_from(["stack-harness", "sessions", "stop", "a", "--all"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("cannot be used with"), "{err}");
    }
}
