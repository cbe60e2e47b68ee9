//! `recordings verify`: every recording parses, sits where its recomputed
//! key says, holds no secret-looking value, and its response is what the
//! current `response_rules` make of it.

use std::io::Write;
use std::path::Path;

use super::rules::{RULES_FILE, Rules};
use super::store::{list_files, read_recording};
use super::tool::{ToolError, plural};

pub(super) fn verify(dir: &Path, out: &mut dyn Write) -> Result<bool, ToolError> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::key::request_key;
    use crate::record::tool::Command;
    use crate::record::tool::fixtures::{run_text, save};

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
}
