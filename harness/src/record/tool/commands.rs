//! The recordings tool: `stack-harness recordings list|show|verify|prune`.
//!
//! The logic is [`run`], which writes to any sink so that tests read the
//! exact text; the binary's entry point is the crate's `tool` module. `list`
//! and `show` live here; `verify` and `prune` have their own files.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Subcommand;

use super::output::{ToolError, plural, short_name};
use super::prune::prune;
use super::verify::verify;
use crate::record::error::RecordError;
use crate::record::store::{FILE_HASH_LEN, MANIFESTS_DIR, list_files, read_recording};

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
    /// One line per recording: file, request, status, stacks, users.
    List,
    /// Print the recording whose hash starts with PREFIX (`provider/PREFIX` also works).
    Show { prefix: String },
    /// Check every recording parses, its file name matches its recomputed hash,
    /// it holds no secret-looking value and its response is normalised.
    Verify,
    /// Remove recordings no complete run used, and from the others the
    /// `used_by` names of tests (and the `stacks`) that no longer use them.
    Prune {
        /// Say what would be removed; remove nothing.
        #[arg(long)]
        dry_run: bool,
        /// The usage manifests written by the last complete run on each
        /// stack: a directory of them, or one file.
        #[arg(long, default_value = MANIFESTS_DIR)]
        manifest: PathBuf,
    },
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
                let stacks = if r.stacks.is_empty() {
                    String::new()
                } else {
                    format!("  on: {}", r.stacks.join(", "))
                };
                writeln!(
                    out,
                    "{}  {} {}{query}  -> {}{stream}{stacks}  used by: {}",
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

/// Recordings and command runs for the tests of every subcommand.
#[cfg(test)]
pub(super) mod fixtures {
    use std::path::Path;

    use serde_json::json;

    use super::{Command, RecordingsArgs, run};
    use crate::record::store::{
        Body, Recording, Redactor, RequestParts, Rules, Store, StoredBody, StoredRequest,
        StoredResponse, request_key,
    };

    pub(crate) fn save(dir: &Path, content: &str, stream: bool) -> Recording {
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
            stacks: Vec::new(),
            used_by: vec!["chat::a".into()],
        };
        Store::new(dir).save(recording.clone(), &rules).unwrap();
        recording
    }

    pub(crate) fn run_text(dir: &Path, command: Command) -> (Result<bool, String>, String) {
        let args = RecordingsArgs {
            dir: dir.to_owned(),
            command,
        };
        let mut out = Vec::new();
        let result = run(&args, &mut out).map_err(|e| e.to_string());
        (result, String::from_utf8(out).unwrap())
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::{run_text, save};
    use super::*;

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
    fn a_missing_directory_is_explained() {
        let (result, _) = run_text(Path::new("/nonexistent/recordings"), Command::List);
        assert_eq!(
            result,
            Err("recordings directory `/nonexistent/recordings` does not exist; pass --dir or run from the workspace root".to_owned())
        );
    }
}
