//! `recordings prune`: removes the recordings no complete run used,
//! according to the usage manifests (one per stack), and from the
//! recordings they did use the `used_by` names of tests, and the `stacks`,
//! that no longer use them. Recording runs only ever add names to
//! `used_by` and `stacks`, so this is where a name goes away.
//!
//! A name stays when a run attributed the recording to it. With tests run
//! in parallel an attribution is a superset of the real users, so the rule
//! only ever removes names that certainly did not use the recording, and
//! never adds any: the result does not depend on scheduling. The start-up
//! marker is not a test and is never removed (a reused stack makes no
//! start-up requests in the run that wrote the manifest).
//!
//! Stacks: a recording names the stacks that use it (`stacks`), and each
//! stack's complete run writes its own manifest. A manifest speaks only for
//! its stack: the recordings a stack alone makes (OGX embeds a file's text
//! without its last newline) are not removed by a run on another one. A
//! recording used by a stack with no manifest here is kept, and so are all
//! its `used_by` names, since nothing says which of them that stack uses.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::output::{ToolError, plural, short_name};
use crate::record::error::RecordError;
use crate::record::mode::InferenceMode;
use crate::record::store::{STARTUP, UsageManifest, edit_users, list_files, read_recording};

fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// One stack's manifest, and when it was written.
struct Run {
    manifest: UsageManifest,
    written_at: Option<SystemTime>,
}

impl Run {
    /// Whether this run speaks for a recording used by `stacks` (all of
    /// them when the recording or the manifest names none).
    fn speaks_for(&self, stacks: &[String]) -> bool {
        match &self.manifest.stack {
            Some(stack) => stacks.is_empty() || stacks.contains(stack),
            None => true,
        }
    }
}

/// The manifests at `path`: the file, or every `*.json` in the directory.
fn read_runs(path: &Path, dir: &Path) -> Result<Vec<Run>, RecordError> {
    let files = if path.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| RecordError::io("cannot list", path, e))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort();
        files
    } else {
        vec![path.to_owned()]
    };
    if files.is_empty() {
        return Err(RecordError::NoManifest {
            path: path.to_owned(),
        });
    }
    let mut runs = Vec::new();
    for file in files {
        let manifest = UsageManifest::read(&file)?;
        if manifest.mode == InferenceMode::Live {
            return Err(RecordError::Tool(format!(
                "the usage manifest `{}` is from a live run, which uses no recordings; run the suite in replay mode first",
                file.display()
            )));
        }
        if !same_dir(&manifest.dir, dir) {
            return Err(RecordError::Tool(format!(
                "the usage manifest `{}` is for recordings directory `{}`, not `{}`; pass --dir {} or run the suite again",
                file.display(),
                manifest.dir.display(),
                dir.display(),
                manifest.dir.display()
            )));
        }
        // A file written after the manifest was made by a later run; it may
        // be needed by a test the manifest's run did not have yet.
        let written_at = std::fs::metadata(&file).and_then(|m| m.modified()).ok();
        runs.push(Run {
            manifest,
            written_at,
        });
    }
    Ok(runs)
}

/// What happens to one recording.
enum Verdict {
    Remove,
    /// Written after a manifest that speaks for it.
    Newer,
    /// No run here used it, but it is used on these stacks, which have no
    /// manifest here.
    Elsewhere(Vec<String>),
    /// Kept; these names and stacks leave it (none: nothing changes).
    Keep {
        stale_names: Vec<String>,
        stale_stacks: Vec<String>,
    },
}

/// The rule, for one recording: its `used_by` and `stacks`, when it was
/// written, and the runs.
fn judge(
    used_by: &[String],
    stacks: &[String],
    modified: Option<SystemTime>,
    runs: &[Run],
    users_of: impl Fn(&UsageManifest) -> Option<BTreeSet<String>>,
) -> Verdict {
    let speaking: Vec<&Run> = runs.iter().filter(|r| r.speaks_for(stacks)).collect();
    let known: BTreeSet<&str> = runs
        .iter()
        .filter_map(|r| r.manifest.stack.as_deref())
        .collect();
    let without_run = stacks.iter().any(|s| !known.contains(s.as_str()));
    let mut users = BTreeSet::new();
    let mut stale_stacks = Vec::new();
    for run in &speaking {
        match users_of(&run.manifest) {
            Some(names) => users.extend(names),
            None => stale_stacks.extend(
                run.manifest
                    .stack
                    .iter()
                    .filter(|s| stacks.contains(s))
                    .cloned(),
            ),
        }
    }
    let used = !users.is_empty();
    if !used {
        let newer = speaking.iter().any(|r| match (modified, r.written_at) {
            (Some(modified), Some(written_at)) => modified > written_at,
            _ => false,
        });
        if newer {
            return Verdict::Newer;
        }
        if without_run {
            let others = stacks.iter().filter(|s| !known.contains(s.as_str()));
            return Verdict::Elsewhere(others.cloned().collect());
        }
        if !speaking.is_empty() {
            return Verdict::Remove;
        }
    }
    let stale_names = if without_run {
        Vec::new()
    } else {
        used_by
            .iter()
            .filter(|n| *n != STARTUP && !users.contains(*n))
            .cloned()
            .collect()
    };
    Verdict::Keep {
        stale_names,
        stale_stacks,
    }
}

pub(super) fn prune(
    dir: &Path,
    manifest_path: &Path,
    dry_run: bool,
    out: &mut dyn Write,
) -> Result<bool, ToolError> {
    let runs = read_runs(manifest_path, dir)?;
    let files = list_files(dir)?;
    let (mut removed, mut newer, mut elsewhere) = (0, 0, 0);
    let (mut stale_names, mut edited) = (0, 0);
    for file in &files {
        let recording = read_recording(file)?;
        let modified = std::fs::metadata(file).and_then(|m| m.modified()).ok();
        let verdict = judge(
            &recording.used_by,
            &recording.stacks,
            modified,
            &runs,
            |m| m.users_of_file(file).cloned(),
        );
        match verdict {
            Verdict::Newer => {
                newer += 1;
                writeln!(out, "kept {} (newer than the manifest)", short_name(file))?;
            }
            Verdict::Elsewhere(stacks) => {
                elsewhere += 1;
                writeln!(
                    out,
                    "kept {} (used on {}, with no manifest here)",
                    short_name(file),
                    stacks.join(", ")
                )?;
            }
            Verdict::Remove => {
                if dry_run {
                    writeln!(out, "would remove {}", short_name(file))?;
                } else {
                    std::fs::remove_file(file)
                        .map_err(|e| RecordError::io("cannot remove", file, e))?;
                    writeln!(out, "removed {}", short_name(file))?;
                }
                removed += 1;
            }
            Verdict::Keep {
                stale_names: names,
                stale_stacks: stacks,
            } => {
                if names.is_empty() && stacks.is_empty() {
                    continue;
                }
                if !dry_run {
                    edit_users(file, |users| {
                        users.used_by.retain(|n| !names.contains(n));
                        users.stacks.retain(|s| !stacks.contains(s));
                    })?;
                }
                let verb = if dry_run { "would drop" } else { "dropped" };
                let quoted = |v: &[String]| -> String {
                    v.iter()
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                if !names.is_empty() {
                    writeln!(
                        out,
                        "{verb} from {} `used_by`: {}",
                        short_name(file),
                        quoted(&names)
                    )?;
                }
                if !stacks.is_empty() {
                    writeln!(
                        out,
                        "{verb} from {} `stacks`: {}",
                        short_name(file),
                        quoted(&stacks)
                    )?;
                }
                stale_names += names.len();
                edited += 1;
            }
        }
    }
    let verb = if dry_run { "would remove" } else { "removed" };
    writeln!(
        out,
        "{verb} {removed} of {} not used by the {} in `{}`; kept {} used{}{}",
        plural(files.len(), "recording"),
        if runs.len() == 1 { "run" } else { "runs" },
        manifest_path.display(),
        files.len() - removed - newer - elsewhere,
        if newer > 0 {
            format!(" and {newer} newer")
        } else {
            String::new()
        },
        if elsewhere > 0 {
            format!(" and {elsewhere} of other stacks")
        } else {
            String::new()
        }
    )?;
    if edited > 0 {
        writeln!(
            out,
            "{} {} of tests that no longer use them from {}",
            if dry_run { "would drop" } else { "dropped" },
            plural(stale_names, "`used_by` name"),
            plural(edited, "used recording")
        )?;
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::tool::commands::Command;
    use crate::record::tool::commands::fixtures::{run_text, save};

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
        m.record("vllm", &used.hash, &["chat::a".to_owned()]);
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
    fn prune_drops_the_names_of_tests_that_no_longer_use_a_recording() {
        let dir = tempfile::tempdir().unwrap();
        let recordings = dir.path().join("recordings");
        let rec = save(&recordings, "shared", false);
        let file = recordings
            .join("vllm")
            .join(format!("{}.json", &rec.hash[..16]));
        // Earlier record runs listed a renamed test and the start-up.
        let names = ["chat::gone", "chat::b", STARTUP, "chat::a"].map(str::to_owned);
        edit_users(&file, |u| u.used_by.extend(names.iter().cloned())).unwrap();
        let before = std::fs::read_to_string(&file).unwrap();

        // The complete run attributes it to `chat::a`, `chat::b` and, run
        // in parallel, to `chat::c`, which never made the request.
        let manifest = dir.path().join("used.json");
        let mut m = UsageManifest {
            dir: recordings.clone(),
            mode: InferenceMode::Replay,
            ..UsageManifest::default()
        };
        m.record(
            "vllm",
            &rec.hash,
            &names_of(&["chat::a", "chat::b", "chat::c"]),
        );
        m.write(&manifest).unwrap();
        let prune = |dry_run| Command::Prune {
            dry_run,
            manifest: manifest.clone(),
        };

        let (result, text) = run_text(&recordings, prune(true));
        assert_eq!(result, Ok(true));
        let short = &rec.hash[..16];
        assert_eq!(
            text,
            format!(
                "would drop from vllm/{short} `used_by`: `chat::gone`\n\
                 would remove 0 of 1 recording not used by the run in `{}`; kept 1 used\n\
                 would drop 1 `used_by` name of tests that no longer use them from 1 used recording\n",
                manifest.display()
            )
        );
        assert_eq!(std::fs::read_to_string(&file).unwrap(), before);

        let (_, text) = run_text(&recordings, prune(false));
        assert!(
            text.starts_with(&format!(
                "dropped from vllm/{short} `used_by`: `chat::gone`\n"
            )),
            "{text}"
        );
        let after = read_recording(&file).unwrap();
        assert_eq!(after.used_by, vec![STARTUP, "chat::a", "chat::b"]);
        // Every byte before `used_by` is as it was.
        let field = before.rfind("\n  \"used_by\"").unwrap();
        assert_eq!(
            std::fs::read_to_string(&file).unwrap()[..field],
            before[..field]
        );

        // Nothing left to drop: a second prune changes nothing.
        let (_, text) = run_text(&recordings, prune(false));
        assert_eq!(
            text,
            format!(
                "removed 0 of 1 recording not used by the run in `{}`; kept 1 used\n",
                manifest.display()
            )
        );
    }

    fn run_on(stack: &str, used: &[&str]) -> Run {
        let mut manifest = UsageManifest {
            stack: Some(stack.to_owned()),
            ..UsageManifest::default()
        };
        if !used.is_empty() {
            manifest.record("vllm", "0123456789abcdef", &names_of(used));
        }
        Run {
            manifest,
            written_at: None,
        }
    }

    #[test]
    fn a_manifest_speaks_only_for_its_stack() {
        const LLAMA: &str = "llama-stack 0.7.3";
        const OGX: &str = "ogx 1.5.0";
        let file = Path::new("recordings/vllm/0123456789abcdef.json");
        let verdict = |stacks: &[&str], runs: &[Run]| {
            let v = judge(
                &names_of(&["t::a", "t::gone"]),
                &names_of(stacks),
                None,
                runs,
                |m| m.users_of_file(file).cloned(),
            );
            match v {
                Verdict::Remove => "remove".to_owned(),
                Verdict::Newer => "newer".to_owned(),
                Verdict::Elsewhere(s) => format!("kept for {}", s.join(", ")),
                Verdict::Keep {
                    stale_names,
                    stale_stacks,
                } => format!("keep; drop names {stale_names:?}, stacks {stale_stacks:?}"),
            }
        };
        let table: &[(&[&str], Vec<Run>, &str)] = &[
            // OGX's own recording, and only llama-stack's run is known.
            (&[OGX], vec![run_on(LLAMA, &[])], "kept for ogx 1.5.0"),
            // Its own run did not use it: gone.
            (&[OGX], vec![run_on(LLAMA, &[]), run_on(OGX, &[])], "remove"),
            // Shared, used on both: names no run saw leave.
            (
                &[LLAMA, OGX],
                vec![run_on(LLAMA, &["t::a"]), run_on(OGX, &["t::a"])],
                r#"keep; drop names ["t::gone"], stacks []"#,
            ),
            // Shared, but OGX no longer makes it: OGX leaves its stacks.
            (
                &[LLAMA, OGX],
                vec![run_on(LLAMA, &["t::a"]), run_on(OGX, &[])],
                r#"keep; drop names ["t::gone"], stacks ["ogx 1.5.0"]"#,
            ),
            // Shared, OGX's run unknown: its users are unknown too, so every
            // name stays.
            (
                &[LLAMA, OGX],
                vec![run_on(LLAMA, &["t::a"])],
                "keep; drop names [], stacks []",
            ),
            (
                &[LLAMA, OGX],
                vec![run_on(LLAMA, &[])],
                "kept for ogx 1.5.0",
            ),
            // A recording from before `stacks`: every run speaks for it.
            (&[], vec![run_on(LLAMA, &[]), run_on(OGX, &[])], "remove"),
            (
                &[],
                vec![run_on(LLAMA, &[]), run_on(OGX, &["t::a"])],
                r#"keep; drop names ["t::gone"], stacks []"#,
            ),
        ];
        for (stacks, runs, expected) in table {
            assert_eq!(verdict(stacks, runs), *expected, "{stacks:?}");
        }
    }

    #[test]
    fn prune_reads_every_stacks_manifest_in_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        let recordings = dir.path().join("recordings");
        let shared = save(&recordings, "shared", false);
        let ogx_only = save(&recordings, "ogx only", false);
        let path = |hash: &str| {
            recordings
                .join("vllm")
                .join(format!("{}.json", &hash[..16]))
        };
        edit_users(&path(&shared.hash), |u| {
            u.stacks
                .extend(["llama-stack 0.7.3".into(), "ogx 1.5.0".into()]);
        })
        .unwrap();
        edit_users(&path(&ogx_only.hash), |u| {
            u.stacks.insert("ogx 1.5.0".into());
        })
        .map(drop)
        .unwrap();
        let manifests = dir.path().join("target/stack-harness/recordings-used");
        let write = |stack: &str, used: &[&crate::record::store::Recording]| {
            let mut m = UsageManifest {
                dir: recordings.clone(),
                mode: InferenceMode::Replay,
                stack: Some(stack.to_owned()),
                ..UsageManifest::default()
            };
            for r in used {
                m.record("vllm", &r.hash, &names_of(&["chat::a"]));
            }
            m.write(&dir.path().join(crate::record::store::manifest_file(stack)))
                .unwrap();
        };
        std::thread::sleep(std::time::Duration::from_millis(20));
        write("llama-stack 0.7.3", &[&shared]);
        let prune = Command::Prune {
            dry_run: false,
            manifest: manifests.clone(),
        };
        let (result, text) = run_text(&recordings, prune);
        assert_eq!(result, Ok(true));
        assert_eq!(
            text,
            format!(
                "kept vllm/{} (used on ogx 1.5.0, with no manifest here)\nremoved 0 of 2 recordings not used by the run in `{}`; kept 1 used and 1 of other stacks\n",
                &ogx_only.hash[..16],
                manifests.display()
            )
        );
        write("ogx 1.5.0", &[&shared]);
        let prune = Command::Prune {
            dry_run: false,
            manifest: manifests.clone(),
        };
        let (_, text) = run_text(&recordings, prune);
        assert_eq!(
            text,
            format!(
                "removed vllm/{}\nremoved 1 of 2 recordings not used by the runs in `{}`; kept 1 used\n",
                &ogx_only.hash[..16],
                manifests.display()
            )
        );
        let (result, _) = run_text(
            &recordings,
            Command::Prune {
                dry_run: true,
                manifest: dir.path().join("empty"),
            },
        );
        assert!(result.unwrap_err().starts_with("no usage manifest at"));
    }

    fn names_of(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }
}
