//! `recordings prune`: removes the recordings the last complete run did not
//! use, according to its usage manifest, and from the recordings it did use
//! the `used_by` names of tests that did not use them (renamed, removed, or
//! changed tests). Recording runs only ever add names to `used_by`, so this
//! is where a name goes away.
//!
//! A name stays when the run attributed the recording to it. With tests run
//! in parallel an attribution is a superset of the real users, so the rule
//! only ever removes names that certainly did not use the recording, and
//! never adds any: the result does not depend on scheduling. The start-up
//! marker is not a test and is never removed (a reused stack makes no
//! start-up requests in the run that wrote the manifest).

use std::io::Write;
use std::path::Path;

use super::output::{ToolError, plural, short_name};
use crate::record::error::RecordError;
use crate::record::mode::InferenceMode;
use crate::record::store::{STARTUP, UsageManifest, edit_used_by, list_files, read_recording};

fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

pub(super) fn prune(
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
    let (mut stale_names, mut edited) = (0, 0);
    for file in &files {
        if let Some(users) = manifest.users_of_file(file) {
            let keep = |name: &String| name == STARTUP || users.contains(name);
            let stale: Vec<String> = read_recording(file)?
                .used_by
                .into_iter()
                .filter(|name| !keep(name))
                .map(|name| format!("`{name}`"))
                .collect();
            if stale.is_empty() {
                continue;
            }
            if !dry_run {
                edit_used_by(file, |names| names.retain(|n| keep(n)))?;
            }
            writeln!(
                out,
                "{} from {} `used_by`: {}",
                if dry_run { "would drop" } else { "dropped" },
                short_name(file),
                stale.join(", ")
            )?;
            stale_names += stale.len();
            edited += 1;
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
        edit_used_by(&file, |n| n.extend(names.iter().cloned())).unwrap();
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

    fn names_of(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }
}
