//! The recordings tool: `stack-harness recordings list|show|verify|prune`.
//!
//! The logic is [`run`], which writes to any sink so that tests read the
//! exact text; [`tool_main`] is the binary's entry point.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use super::error::RecordError;
use super::mode::InferenceMode;
use super::rules::{RULES_FILE, Rules};
use super::store::{FILE_HASH_LEN, list_files, read_recording};
use super::usage::{MANIFEST_PATH, UsageManifest};

#[derive(Debug, Parser)]
#[command(
    name = "stack-harness",
    about = "Tools for the stack-harness record/replay recordings"
)]
struct Cli {
    #[command(subcommand)]
    command: Top,
}

#[derive(Debug, Subcommand)]
enum Top {
    /// Inspect and maintain recorded upstream traffic.
    Recordings(RecordingsArgs),
}

#[derive(Debug, clap::Args)]
pub(crate) struct RecordingsArgs {
    /// The recordings directory.
    #[arg(long, global = true, default_value = "recordings")]
    pub(crate) dir: PathBuf,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// One line per recording: file, request, status, users.
    List,
    /// Print the recording whose hash starts with PREFIX (`provider/PREFIX` also works).
    Show { prefix: String },
    /// Check every recording parses and its file name matches its recomputed hash.
    Verify,
    /// Remove recordings the last complete run did not use.
    Prune {
        /// Say what would be removed; remove nothing.
        #[arg(long)]
        dry_run: bool,
        /// The usage manifest written by the last complete run.
        #[arg(long, default_value = MANIFEST_PATH)]
        manifest: PathBuf,
    },
}

/// The `stack-harness` binary's `main`.
#[doc(hidden)]
#[cfg_attr(test, allow(dead_code))] // public through lib.rs once wired
pub fn tool_main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = e.exit_code();
            let _ = e.print();
            return ExitCode::from(u8::try_from(code).unwrap_or(2));
        }
    };
    let Top::Recordings(args) = cli.command;
    let mut stdout = std::io::stdout().lock();
    match run(&args, &mut stdout) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            let _ = stdout.flush();
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs one command; `Ok(false)` means it ran and found problems.
pub(crate) fn run(args: &RecordingsArgs, out: &mut dyn Write) -> Result<bool, RecordError> {
    let dir = &args.dir;
    if !dir.is_dir() {
        return Err(RecordError::Tool(format!(
            "recordings directory `{}` does not exist; pass --dir or run from the workspace root",
            dir.display()
        )));
    }
    let written = match &args.command {
        Command::List => list(dir, out),
        Command::Show { prefix } => show(dir, prefix, out),
        Command::Verify => verify(dir, out),
        Command::Prune { dry_run, manifest } => prune(dir, manifest, *dry_run, out),
    };
    written.map_err(|e| match e {
        ToolError::Record(e) => e,
        ToolError::Output(e) => RecordError::Tool(format!("cannot write the output: {e}")),
    })
}

enum ToolError {
    Record(RecordError),
    Output(std::io::Error),
}

impl From<RecordError> for ToolError {
    fn from(e: RecordError) -> Self {
        ToolError::Record(e)
    }
}

impl From<std::io::Error> for ToolError {
    fn from(e: std::io::Error) -> Self {
        ToolError::Output(e)
    }
}

/// `vllm/0123456789abcdef` for `<dir>/vllm/0123456789abcdef.json`.
fn short_name(file: &Path) -> String {
    let provider = file
        .parent()
        .and_then(Path::file_name)
        .map(|n| n.to_string_lossy());
    let stem = file.file_stem().map(|n| n.to_string_lossy());
    format!(
        "{}/{}",
        provider.unwrap_or_default(),
        stem.unwrap_or_default()
    )
}

fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

fn list(dir: &Path, out: &mut dyn Write) -> Result<bool, ToolError> {
    let files = list_files(dir)?;
    let mut broken = 0;
    for file in &files {
        match read_recording(file) {
            Ok(r) => {
                let query: Vec<String> = r
                    .request
                    .query
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                let query = if query.is_empty() {
                    String::new()
                } else {
                    format!("?{}", query.join("&"))
                };
                let stream = r.response.events.as_ref().map_or(String::new(), |e| {
                    format!(" ({})", plural(e.len(), "event"))
                });
                writeln!(
                    out,
                    "{}  {} {}{query}  -> {}{stream}  used by: {}",
                    short_name(file),
                    r.request.method,
                    r.request.path,
                    r.response.status,
                    if r.used_by.is_empty() {
                        "-".to_owned()
                    } else {
                        r.used_by.join(", ")
                    }
                )?;
            }
            Err(e) => {
                broken += 1;
                writeln!(out, "{}  unreadable: {e}", short_name(file))?;
            }
        }
    }
    writeln!(
        out,
        "{} in `{}`",
        plural(files.len(), "recording"),
        dir.display()
    )?;
    if broken > 0 {
        writeln!(
            out,
            "{} unreadable; `recordings verify` checks them all",
            plural(broken, "recording")
        )?;
    }
    Ok(broken == 0)
}

fn show(dir: &Path, prefix: &str, out: &mut dyn Write) -> Result<bool, ToolError> {
    let (provider, hash) = match prefix.split_once('/') {
        Some((p, h)) => (Some(p), h),
        None => (None, prefix),
    };
    if hash.is_empty() || hash.len() > FILE_HASH_LEN && !hash.chars().all(|c| c.is_ascii_hexdigit())
    {
        return Err(RecordError::Tool(format!(
            "`{prefix}` is not a hash prefix; give the first hex digits of a recording's hash (`recordings list` shows them)"
        ))
        .into());
    }
    let hash = &hash[..hash.len().min(FILE_HASH_LEN)];
    let matches: Vec<PathBuf> = list_files(dir)?
        .into_iter()
        .filter(|f| {
            let stem = f.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
            let dir_name = f
                .parent()
                .and_then(Path::file_name)
                .and_then(|s| s.to_str());
            stem.starts_with(hash) && provider.is_none_or(|p| dir_name == Some(p))
        })
        .collect();
    match matches.as_slice() {
        [] => Err(RecordError::Tool(format!(
            "no recording matches `{prefix}` in `{}`; `recordings list` shows them",
            dir.display()
        ))
        .into()),
        [file] => {
            let text = std::fs::read_to_string(file)
                .map_err(|e| RecordError::io("cannot read recording", file, e))?;
            writeln!(out, "# {}", file.display())?;
            out.write_all(text.as_bytes())?;
            Ok(true)
        }
        many => {
            let names: Vec<String> = many.iter().map(|f| short_name(f)).collect();
            Err(RecordError::Tool(format!(
                "`{prefix}` matches {}: {}; give more digits",
                plural(many.len(), "recording"),
                names.join(", ")
            ))
            .into())
        }
    }
}

fn verify(dir: &Path, out: &mut dyn Write) -> Result<bool, ToolError> {
    let rules = Rules::load_from_dir(dir)?;
    let rules_note = match &rules.source {
        Some(file) => format!("rules from `{}`", file.display()),
        None => format!("no `{RULES_FILE}`, so no normalisation rules"),
    };
    let files = list_files(dir)?;
    let mut problems = 0;
    for file in &files {
        let problem = match read_recording(file) {
            Ok(recording) => recording.check(file, &rules).err(),
            Err(e) => Some(e.to_string()),
        };
        if let Some(problem) = problem {
            problems += 1;
            writeln!(out, "`{}`: {problem}", file.display())?;
        }
    }
    if problems == 0 {
        writeln!(
            out,
            "verified {} in `{}` ({rules_note}): all good",
            plural(files.len(), "recording"),
            dir.display()
        )?;
    } else {
        writeln!(
            out,
            "{problems} of {} in `{}` have problems ({rules_note}); re-record them with --inference-mode=record",
            plural(files.len(), "recording"),
            dir.display()
        )?;
    }
    Ok(problems == 0)
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

fn prune(
    dir: &Path,
    manifest_path: &Path,
    dry_run: bool,
    out: &mut dyn Write,
) -> Result<bool, ToolError> {
    let manifest = UsageManifest::read(manifest_path)?;
    if manifest.mode == InferenceMode::Live {
        return Err(RecordError::Tool(format!(
            "the usage manifest `{}` is from a live run, which uses no recordings; run the suite in replay mode first",
            manifest_path.display()
        ))
        .into());
    }
    if !same_dir(&manifest.dir, dir) {
        return Err(RecordError::Tool(format!(
            "the usage manifest `{}` is for recordings directory `{}`, not `{}`; pass --dir {} or run the suite again",
            manifest_path.display(),
            manifest.dir.display(),
            dir.display(),
            manifest.dir.display()
        ))
        .into());
    }
    // A file written after the manifest was made by a later run; it may be
    // needed by a test the manifest's run did not have yet.
    let written_at = std::fs::metadata(manifest_path)
        .and_then(|m| m.modified())
        .ok();
    let files = list_files(dir)?;
    let (mut removed, mut newer) = (0, 0);
    for file in &files {
        if manifest.uses_file(file) {
            continue;
        }
        let modified = std::fs::metadata(file).and_then(|m| m.modified()).ok();
        if let (Some(modified), Some(written_at)) = (modified, written_at)
            && modified > written_at
        {
            newer += 1;
            writeln!(out, "kept {} (newer than the manifest)", short_name(file))?;
            continue;
        }
        if dry_run {
            writeln!(out, "would remove {}", short_name(file))?;
        } else {
            std::fs::remove_file(file).map_err(|e| RecordError::io("cannot remove", file, e))?;
            writeln!(out, "removed {}", short_name(file))?;
        }
        removed += 1;
    }
    let verb = if dry_run { "would remove" } else { "removed" };
    writeln!(
        out,
        "{verb} {removed} of {} not used by the run in `{}`; kept {} used{}",
        plural(files.len(), "recording"),
        manifest_path.display(),
        files.len() - removed - newer,
        if newer > 0 {
            format!(" and {newer} newer")
        } else {
            String::new()
        }
    )?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::record::key::{Body, RequestParts, request_key};
    use crate::record::redact::Redactor;
    use crate::record::store::{Recording, Store, StoredBody, StoredRequest, StoredResponse};

    fn save(dir: &Path, content: &str, stream: bool) -> Recording {
        let rules = Rules::load_from_dir(dir).unwrap();
        let parts = RequestParts {
            method: "POST".into(),
            path: "/v1/chat/completions".into(),
            query: vec![],
            body: Body::Json(
                json!({"model": "m", "messages": [{"role": "user", "content": content}]}),
            ),
        };
        let response = if stream {
            StoredResponse::from_upstream(
                200,
                Some("text/event-stream".into()),
                b"data: 1\n\ndata: [DONE]\n\n",
                &Redactor::default(),
            )
        } else {
            StoredResponse::from_upstream(
                200,
                Some("application/json".into()),
                b"{}",
                &Redactor::default(),
            )
        };
        let recording = Recording {
            hash: request_key(&rules, "vllm", &parts),
            provider: "vllm".into(),
            request: StoredRequest {
                body: StoredBody::from_body(&parts.body),
                method: parts.method,
                path: parts.path,
                query: vec![],
            },
            response,
            used_by: vec!["chat::a".into()],
        };
        Store::new(dir).save(recording.clone()).unwrap();
        recording
    }

    fn run_text(dir: &Path, command: Command) -> (Result<bool, String>, String) {
        let args = RecordingsArgs {
            dir: dir.to_owned(),
            command,
        };
        let mut out = Vec::new();
        let result = run(&args, &mut out).map_err(|e| e.to_string());
        (result, String::from_utf8(out).unwrap())
    }

    #[test]
    fn list_prints_one_line_per_recording() {
        let dir = tempfile::tempdir().unwrap();
        let a = save(dir.path(), "a", false);
        let b = save(dir.path(), "b", true);
        let (result, text) = run_text(dir.path(), Command::List);
        assert_eq!(result, Ok(true));
        let mut lines = vec![
            format!(
                "vllm/{}  POST /v1/chat/completions  -> 200  used by: chat::a",
                &a.hash[..16]
            ),
            format!(
                "vllm/{}  POST /v1/chat/completions  -> 200 (2 events)  used by: chat::a",
                &b.hash[..16]
            ),
        ];
        lines.sort();
        lines.push(format!("2 recordings in `{}`", dir.path().display()));
        assert_eq!(text, lines.join("\n") + "\n");
    }

    #[test]
    fn show_finds_a_recording_by_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let a = save(dir.path(), "a", false);
        let file = dir
            .path()
            .join("vllm")
            .join(format!("{}.json", &a.hash[..16]));
        for prefix in [
            a.hash[..6].to_owned(),
            format!("vllm/{}", &a.hash[..4]),
            a.hash.clone(),
        ] {
            let (result, text) = run_text(dir.path(), Command::Show { prefix });
            assert_eq!(result, Ok(true));
            assert_eq!(
                text,
                format!(
                    "# {}\n{}",
                    file.display(),
                    std::fs::read_to_string(&file).unwrap()
                )
            );
        }
        let (result, _) = run_text(
            dir.path(),
            Command::Show {
                prefix: "zz".into(),
            },
        );
        assert_eq!(
            result,
            Err(format!(
                "no recording matches `zz` in `{}`; `recordings list` shows them",
                dir.path().display()
            ))
        );
    }

    #[test]
    fn show_asks_for_more_digits_when_ambiguous() {
        let dir = tempfile::tempdir().unwrap();
        let mut names = Vec::new();
        // Find two recordings that share a first digit.
        for i in 0.. {
            let r = save(dir.path(), &i.to_string(), false);
            names.push(r.hash[..16].to_owned());
            let first = &r.hash[..1];
            let same: Vec<&String> = names.iter().filter(|n| n.starts_with(first)).collect();
            if same.len() == 2 {
                let (result, _) = run_text(
                    dir.path(),
                    Command::Show {
                        prefix: first.to_owned(),
                    },
                );
                let err = result.unwrap_err();
                assert!(err.starts_with(&format!("`{first}` matches ")), "{err}");
                assert!(err.ends_with("; give more digits"), "{err}");
                break;
            }
        }
    }

    #[test]
    fn verify_reports_every_problem_with_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let a = save(dir.path(), "a", false);
        let (result, text) = run_text(dir.path(), Command::Verify);
        assert_eq!(result, Ok(true));
        assert_eq!(
            text,
            format!(
                "verified 1 recording in `{}` (no `normalize.yaml`, so no normalisation rules): all good\n",
                dir.path().display()
            )
        );
        // A corrupt file, a renamed file, and a rule change that alters keys.
        let corrupt = dir.path().join("vllm/00000000000000aa.json");
        std::fs::write(&corrupt, "{").unwrap();
        let good = dir
            .path()
            .join("vllm")
            .join(format!("{}.json", &a.hash[..16]));
        let moved = dir.path().join("vllm/0000000000000bbb.json");
        std::fs::copy(&good, &moved).unwrap();
        std::fs::write(
            dir.path().join("normalize.yaml"),
            "rules: [{regex: 'a', replace: 'b'}]\n",
        )
        .unwrap();
        let (result, text) = run_text(dir.path(), Command::Verify);
        assert_eq!(result, Ok(false));
        let rules = dir.path().join("normalize.yaml");
        let recomputed = request_key(
            &Rules::load(&rules).unwrap(),
            "vllm",
            &a.request_parts().unwrap(),
        );
        let mut expected = vec![
            format!(
                "`{}`: corrupt recording `{}`: EOF while parsing an object at line 1 column 1; delete it and re-record with --inference-mode=record-if-missing",
                corrupt.display(),
                corrupt.display()
            ),
            format!(
                "`{}`: stored hash `{}` is not the request's key `{recomputed}` under the current rules; re-record it",
                moved.display(),
                a.hash
            ),
            format!(
                "`{}`: stored hash `{}` is not the request's key `{recomputed}` under the current rules; re-record it",
                good.display(),
                a.hash
            ),
        ];
        expected.sort();
        expected.push(format!(
            "3 of 3 recordings in `{}` have problems (rules from `{}`); re-record them with --inference-mode=record",
            dir.path().display(),
            rules.display()
        ));
        assert_eq!(text, expected.join("\n") + "\n");
    }

    #[test]
    fn prune_removes_only_what_the_last_run_did_not_use() {
        let dir = tempfile::tempdir().unwrap();
        let recordings = dir.path().join("recordings");
        let used = save(&recordings, "used", false);
        let unused = save(&recordings, "unused", false);
        let manifest = dir.path().join("target/used.json");
        let prune = |dry_run| Command::Prune {
            dry_run,
            manifest: manifest.clone(),
        };

        let (result, _) = run_text(&recordings, prune(false));
        assert_eq!(
            result,
            Err(format!(
                "no usage manifest at `{}`; run the whole suite in replay mode first (`cargo test --test integration`) so prune knows which recordings are used",
                manifest.display()
            ))
        );
        let mut m = UsageManifest {
            dir: recordings.clone(),
            mode: InferenceMode::Replay,
            ..UsageManifest::default()
        };
        m.record("vllm", &used.hash);
        m.write(&manifest).unwrap();
        // Make both recordings older than the manifest.
        std::thread::sleep(std::time::Duration::from_millis(20));
        m.write(&manifest).unwrap();

        let (result, text) = run_text(&recordings, prune(true));
        assert_eq!(result, Ok(true));
        assert_eq!(
            text,
            format!(
                "would remove vllm/{}\nwould remove 1 of 2 recordings not used by the run in `{}`; kept 1 used\n",
                &unused.hash[..16],
                manifest.display()
            )
        );
        assert_eq!(
            list_files(&recordings).unwrap().len(),
            2,
            "a dry run removes nothing"
        );

        std::thread::sleep(std::time::Duration::from_millis(20));
        let newer = save(&recordings, "newer", false);
        let (result, text) = run_text(&recordings, prune(false));
        assert_eq!(result, Ok(true));
        assert_eq!(
            text,
            format!(
                "kept vllm/{} (newer than the manifest)\nremoved vllm/{}\nremoved 1 of 3 recordings not used by the run in `{}`; kept 1 used and 1 newer\n",
                &newer.hash[..16],
                &unused.hash[..16],
                manifest.display()
            )
            .lines()
            .collect::<Vec<_>>()
            .join("\n")
                + "\n"
        );
        assert_eq!(list_files(&recordings).unwrap().len(), 2);
    }

    #[test]
    fn prune_refuses_a_manifest_for_another_directory() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("other")).unwrap();
        let manifest = dir.path().join("used.json");
        UsageManifest {
            dir: dir.path().join("other"),
            ..UsageManifest::default()
        }
        .write(&manifest)
        .unwrap();
        let (result, _) = run_text(
            dir.path(),
            Command::Prune {
                dry_run: false,
                manifest: manifest.clone(),
            },
        );
        let other = dir.path().join("other");
        assert_eq!(
            result,
            Err(format!(
                "the usage manifest `{}` is for recordings directory `{}`, not `{}`; pass --dir {} or run the suite again",
                manifest.display(),
                other.display(),
                dir.path().display(),
                other.display()
            ))
        );
    }

    #[test]
    fn a_missing_directory_is_explained() {
        let (result, _) = run_text(Path::new("/nonexistent/recordings"), Command::List);
        assert_eq!(
            result,
            Err("recordings directory `/nonexistent/recordings` does not exist; pass --dir or run from the workspace root".to_owned())
        );
    }

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
        let Top::Recordings(args) = cli.command;
        assert_eq!(args.dir, PathBuf::from("r"));
        assert!(
            matches!(args.command, Command::Prune { dry_run: true, ref manifest } if manifest == Path::new(MANIFEST_PATH))
        );
        let err = Cli::try_parse_from(["stack-harness", "recordings", "frob"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("unrecognized subcommand 'frob'"), "{err}");
    }
}
