//! Batches the stack refuses: at creation (a 400, no batch), while
//! validating the input file (the batch fails, listing each problem), and
//! ids it does not have or states it cannot leave.

use harness::prelude::*;
use serde::Deserialize;

use super::support::{
    CHAT, create, create_body, create_of, errors, failing_line, finished_as, id, jsonl,
    upload_input,
};

/// A file id of the right form that names no file.
const NO_FILE: &str = "file-00000000000000000000000000000000";

#[derive(Deserialize)]
struct InvalidCreate {
    #[serde(default)]
    set: Value,
    #[serde(default)]
    unset: Vec<String>,
    says: Vec<String>,
}

#[harness::test(marks(batches, errors), cases = "batches/invalid_create.yaml")]
async fn invalid_create_is_a_400_naming_the_field(ctx: &TestContext) -> Result {
    let case: InvalidCreate = ctx.case_as()?;
    let mut body = create_body(NO_FILE, CHAT, json!({}));
    crate::common::merge(&mut body, case.set);
    if let Some(fields) = body.as_object_mut() {
        for field in &case.unset {
            fields.remove(field);
        }
    }
    let needles: Vec<&str> = case.says.iter().map(String::as_str).collect();
    ctx.post("/v1/batches", &body)
        .await?
        .expect_error(400, &needles)
}

#[derive(Deserialize)]
struct InvalidLines {
    lines: Vec<Value>,
    expect: Expected,
    says: String,
}

#[derive(Deserialize, Debug)]
struct Expected {
    code: String,
    line: u64,
    param: Option<String>,
}

#[harness::test(text_model, marks(batches, errors), cases = "batches/invalid_lines.yaml")]
async fn invalid_line_fails_the_batch_naming_line_and_parameter(ctx: &TestContext) -> Result {
    let case: InvalidLines = ctx.case_as()?;
    let text: String = case
        .lines
        .iter()
        .map(|l| match l {
            Value::String(raw) => format!("{raw}\n"),
            object => format!("{object}\n"),
        })
        .collect::<String>()
        .replace("$text_model", ctx.text_model());
    let file = upload_input(ctx, &text).await?;
    let batch = create(ctx, &create_body(&file, CHAT, json!({}))).await?;
    let failed = finished_as(ctx, id(&batch)?, "failed").await?;
    ensure!(failed["failed_at"].is_u64(), "no failed_at: {failed}");
    let errors = errors(&failed)?;
    let expected = &case.expect;
    let found = errors.iter().find(|e| {
        e["code"] == expected.code.as_str()
            && e["line"] == expected.line
            && e["param"].as_str() == expected.param.as_deref()
    });
    let Some(error) = found else {
        bail!("no error {expected:?} among {}", Value::from(errors.clone()));
    };
    let message = error["message"].as_str().unwrap_or_default();
    ensure!(
        message.contains(&case.says),
        "the error's message does not say `{}`: {message}",
        case.says
    );
    Ok(())
}

#[harness::test(text_model, marks(batches, errors))]
async fn every_invalid_line_is_reported(ctx: &TestContext) -> Result {
    let bad = |custom_id: &str| {
        json!({"custom_id": custom_id, "method": "POST", "url": "/v1/embeddings", "body": {}})
    };
    let lines = [bad("one"), failing_line(ctx, "fine"), bad("three")];
    let file = upload_input(ctx, &jsonl(&lines)).await?;
    let batch = create(ctx, &create_body(&file, CHAT, json!({}))).await?;
    let failed = finished_as(ctx, id(&batch)?, "failed").await?;
    let mut lines: Vec<u64> = errors(&failed)?
        .iter()
        .filter(|e| e["code"] == "invalid_url")
        .filter_map(|e| e["line"].as_u64())
        .collect();
    lines.sort_unstable();
    ensure!(
        lines == [1, 3],
        "invalid_url reported for lines {lines:?}, not 1 and 3: {}",
        failed["errors"]
    );
    Ok(())
}

#[harness::test(marks(batches, errors))]
async fn an_unknown_input_file_fails_the_batch_naming_it(ctx: &TestContext) -> Result {
    let batch = create(ctx, &create_body(NO_FILE, CHAT, json!({}))).await?;
    let failed = finished_as(ctx, id(&batch)?, "failed").await?;
    let errors = errors(&failed)?;
    ensure!(errors.len() == 1, "errors: {}", failed["errors"]);
    let error = &errors[0];
    ensure!(
        error["code"] == "invalid_request" && error["param"] == "input_file_id",
        "error {error}"
    );
    let message = error["message"].as_str().unwrap_or_default();
    ensure!(message.contains(NO_FILE), "the error does not name the file: {message}");
    Ok(())
}

#[harness::test(marks(batches, errors))]
async fn unknown_batch_is_404_naming_it(ctx: &TestContext) -> Result {
    ctx.get("/v1/batches/batch_0000000000000000")
        .await?
        .expect_error(404, &["batch_0000000000000000", "not found"])
}

#[harness::test(marks(batches, errors))]
async fn cancelling_an_unknown_batch_is_404_naming_it(ctx: &TestContext) -> Result {
    ctx.post("/v1/batches/batch_0000000000000000/cancel", &json!({}))
        .await?
        .expect_error(404, &["batch_0000000000000000", "not found"])
}

#[harness::test(text_model, marks(batches, errors))]
async fn cancelling_a_completed_batch_is_a_409(ctx: &TestContext) -> Result {
    let batch = create_of(ctx, &[failing_line(ctx, "a")]).await?;
    let id = id(&batch)?;
    finished_as(ctx, id, "completed").await?;
    ctx.post(&format!("/v1/batches/{id}/cancel"), &json!({}))
        .await?
        .expect_error(409, &[id, "Cannot cancel", "completed"])
}
