//! `recordings verify`: every recording parses, sits where its recomputed
//! key says, holds no secret-looking value, and its response is what the
//! current `response_rules` make of it.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use serde_json::Value;

use super::output::{ToolError, plural};
use super::secrets;
use crate::record::error::RecordError;
use crate::record::store::{
    RULES_FILE, Recording, ResponseNormalizer, Rules, child_path, list_files, parse_recording,
};

pub(super) fn verify(dir: &Path, out: &mut dyn Write) -> Result<bool, ToolError> {
    let rules = Arc::new(Rules::load_from_dir(dir)?);
    let rules_note = match &rules.source {
        Some(file) => format!("rules from `{}`", file.display()),
        None => format!("no `{RULES_FILE}`, so no normalisation rules"),
    };
    let files = list_files(dir)?;
    let mut broken = 0;
    for file in &files {
        let problems = check_file(file, &rules);
        if !problems.is_empty() {
            broken += 1;
        }
        for problem in problems {
            writeln!(out, "`{}`: {problem}", file.display())?;
        }
    }
    if broken == 0 {
        writeln!(
            out,
            "verified {} in `{}` ({rules_note}): all good",
            plural(files.len(), "recording"),
            dir.display()
        )?;
    } else {
        writeln!(
            out,
            "{broken} of {} in `{}` have problems ({rules_note}); re-record them with --inference-mode=record",
            plural(files.len(), "recording"),
            dir.display()
        )?;
    }
    Ok(broken == 0)
}

/// Everything wrong with one file, most basic first. Secrets are looked
/// for even in a file that does not parse as a recording.
fn check_file(file: &Path, rules: &Arc<Rules>) -> Vec<String> {
    let bytes = match std::fs::read(file) {
        Ok(bytes) => bytes,
        Err(e) => return vec![RecordError::io("cannot read recording", file, e).to_string()],
    };
    let mut problems = Vec::new();
    match parse_recording(file, &bytes) {
        Ok(recording) => {
            problems.extend(recording.check(file, rules).err());
            problems.extend(unnormalised(&recording, rules));
        }
        Err(e) => problems.push(e.to_string()),
    }
    let findings = match serde_json::from_slice::<Value>(&bytes) {
        Ok(value) => secrets::in_json(&value, &rules.redactor),
        Err(_) => secrets::in_text(&String::from_utf8_lossy(&bytes), &rules.redactor),
    };
    if let Some(first) = findings.first() {
        problems.push(first.message(findings.len() - 1));
    }
    problems
}

/// Whether the stored response is what the current `response_rules` make
/// of it; a rule added or changed since it was recorded leaves it stale.
fn unnormalised(recording: &Recording, rules: &Arc<Rules>) -> Option<String> {
    let mut normalized = recording.response.clone();
    ResponseNormalizer::new(rules.clone(), &recording.hash).stored(&mut normalized);
    if normalized == recording.response {
        return None;
    }
    let before = serde_json::to_value(&recording.response).ok()?;
    let after = serde_json::to_value(&normalized).ok()?;
    let at = first_difference(&before, &after, "$.response".to_owned())
        .unwrap_or_else(|| "$.response".to_owned());
    Some(format!(
        "the response is not normalised by the current `response_rules` (first difference at `{at}`); re-record it"
    ))
}

/// The path of the first place two values differ, in document order.
fn first_difference(a: &Value, b: &Value, at: String) -> Option<String> {
    if a == b {
        return None;
    }
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (key, value) in x {
                let child = child_path(&at, key);
                match y.get(key) {
                    Some(other) => {
                        if let Some(found) = first_difference(value, other, child) {
                            return Some(found);
                        }
                    }
                    None => return Some(child),
                }
            }
            y.keys()
                .find(|k| !x.contains_key(*k))
                .map(|k| child_path(&at, k))
                .or(Some(at))
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (v, w))| first_difference(v, w, format!("{at}[{i}]")))
            .or(Some(at)),
        _ => Some(at),
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use serde_json::json;

    use super::*;
    use crate::record::store::request_key;
    use crate::record::tool::commands::Command;
    use crate::record::tool::commands::fixtures::{run_text, save};

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

    /// Rewrites the recording file of `recording` under `dir` with `edit`.
    fn edit_file(dir: &Path, recording: &Recording, edit: impl FnOnce(&mut Value)) -> PathBuf {
        let file = dir
            .join("vllm")
            .join(format!("{}.json", &recording.hash[..16]));
        let mut value: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        edit(&mut value);
        std::fs::write(&file, serde_json::to_vec_pretty(&value).unwrap()).unwrap();
        file
    }

    #[test]
    fn verify_names_the_file_and_place_of_a_secret_without_printing_it() {
        let dir = tempfile::tempdir().unwrap();
        let a = save(dir.path(), "a", false);
        let file = edit_file(dir.path(), &a, |v| {
            v["request"]["headers"] =
                json!({"Authorization": "Bearer sk-abcdefghijklmnopqrstuvwx"});
            v["response"]["body"] = json!({"note": "key sk-abcdefghijklmnopqrstuvwx"});
        });
        let (result, text) = run_text(dir.path(), Command::Verify);
        assert_eq!(result, Ok(false));
        assert_eq!(
            text,
            format!(
                "`{}`: credential header `Authorization` stored at `$.request.headers` (and 1 more); the proxy never records headers, so delete it\n\
                 1 of 1 recording in `{}` have problems (no `normalize.yaml`, so no normalisation rules); re-record them with --inference-mode=record\n",
                file.display(),
                dir.path().display()
            )
        );
        assert!(!text.contains("abcdefghij"), "{text}");

        // A file that is not even JSON is still searched, line by line.
        std::fs::write(&file, "{\n\"token\": \"Bearer 0123456789abcdefXYZ\"").unwrap();
        let (_, text) = run_text(dir.path(), Command::Verify);
        let first_line = format!(
            "`{}`: secret-looking value `Bearer 0123…` at `line 2`; add its variable to `redact_env` (or the value to `redact_values`) in `normalize.yaml` and re-record",
            file.display()
        );
        assert!(text.lines().any(|l| l == first_line), "{text}");
    }

    #[test]
    fn verify_flags_a_response_recorded_before_a_response_rule() {
        let dir = tempfile::tempdir().unwrap();
        let one = save(dir.path(), "one", false);
        let stream = save(dir.path(), "two", true);
        let one_file = edit_file(dir.path(), &one, |v| {
            v["response"]["body"] = json!({"object": "chat.completion", "id": "chatcmpl-1234"});
        });
        let stream_file = edit_file(dir.path(), &stream, |v| {
            v["response"]["events"] = json!(["{\"id\":\"chatcmpl-1234\"}", "[DONE]"]);
        });
        std::fs::write(
            dir.path().join("normalize.yaml"),
            "response_rules: [{path: '$.id', replace: 'chatcmpl-{key}'}]\n",
        )
        .unwrap();
        let (result, text) = run_text(dir.path(), Command::Verify);
        assert_eq!(result, Ok(false));
        let mut lines = vec![
            format!(
                "`{}`: the response is not normalised by the current `response_rules` (first difference at `$.response.body.id`); re-record it",
                one_file.display()
            ),
            format!(
                "`{}`: the response is not normalised by the current `response_rules` (first difference at `$.response.events[0]`); re-record it",
                stream_file.display()
            ),
        ];
        lines.sort();
        let expected_lines: Vec<&str> = text.lines().take(2).collect();
        assert_eq!(expected_lines, lines);

        // Normalised as the rules say, both pass.
        edit_file(dir.path(), &one, |v| {
            v["response"]["body"]["id"] = json!(format!("chatcmpl-{}", &one.hash[..16]));
        });
        edit_file(dir.path(), &stream, |v| {
            v["response"]["events"][0] =
                json!(format!("{{\"id\":\"chatcmpl-{}\"}}", &stream.hash[..16]));
        });
        let (result, text) = run_text(dir.path(), Command::Verify);
        assert_eq!(result, Ok(true), "{text}");
    }

    #[test]
    fn the_first_difference_is_found_in_document_order() {
        let table = [
            (json!({"a": 1}), json!({"a": 1}), None),
            (
                json!({"a": {"b": [1, 2]}}),
                json!({"a": {"b": [1, 3]}}),
                Some("$.a.b[1]"),
            ),
            (json!({"a": 1, "b": 2}), json!({"a": 1}), Some("$.b")),
            (json!({"a": 1}), json!({"a": 1, "c d": 2}), Some("$['c d']")),
            (json!([1]), json!([1, 2]), Some("$")),
            (json!("x"), json!(null), Some("$")),
        ];
        for (a, b, at) in table {
            assert_eq!(
                first_difference(&a, &b, "$".into()).as_deref(),
                at,
                "{a} {b}"
            );
        }
    }
}
