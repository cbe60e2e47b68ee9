//! Structured output: `text.format`. The stack hands the format to the model
//! call as `response_format`; a server that enforces it (llama-cpp-python
//! turns `json_object` into a grammar) makes even SmolLM2-135M answer valid
//! JSON, so these tests check the shape of the answer, not its content.

use harness::prelude::*;

use super::support::{create_raw, ensure_finished, output_text, request, short};

/// The answer parsed as JSON.
fn answer_json(response: &Value) -> Result<Value> {
    let text = output_text(response)?;
    serde_json::from_str(text.trim()).with_context(|| format!("the answer is not JSON: {text:?}"))
}

#[harness::test(
    text_model,
    marks(responses, structured_output),
    only(
        stacks = "llama-stack",
        reason = "caps the answer with `short`, a body field OGX 1.5 drops (responses/support.rs says why)"
    )
)]
async fn json_object_format_answers_a_json_object(ctx: &TestContext) -> Result {
    let extra = json!({"text": {"format": {"type": "json_object"}}, "max_tokens": 64});
    let body = request(ctx, "Describe Paris as a JSON object.", extra);
    let response = create_raw(ctx, &body).await?;
    ensure!(
        response["status"] == "completed",
        "status {} ({}): a capped answer would not be whole JSON",
        response["status"],
        response["incomplete_details"]
    );
    let answer = answer_json(&response)?;
    ensure!(answer.is_object(), "the answer is JSON but not an object: {answer}");
    ensure!(
        response["text"]["format"]["type"] == "json_object",
        "text.format echoed as {}",
        response["text"]
    );
    Ok(())
}

#[harness::test(
    text_model,
    marks(responses, structured_output),
    only(
        stacks = "llama-stack",
        reason = "caps the answer with `short`, a body field OGX 1.5 drops (responses/support.rs says why)"
    )
)]
async fn text_format_defaults_to_text(ctx: &TestContext) -> Result {
    let response = create_raw(ctx, &request(ctx, "Hi", short(8))).await?;
    ensure_finished(&response)?;
    ensure!(
        response["text"] == json!({"format": {"type": "text"}}),
        "text {}",
        response["text"]
    );
    Ok(())
}

/// Whether `value` has the shape `schema` describes (the subset the cases
/// use: object with properties and required, array with items, scalars).
fn conforms(value: &Value, schema: &Value, at: &str) -> Result<()> {
    let kind = schema["type"].as_str().context("a schema without type")?;
    let ok = match kind {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        other => bail!("the checker does not know type {other}"),
    };
    ensure!(ok, "{at} is {value}, not a(n) {kind}");
    if kind == "object" {
        for key in schema["required"].as_array().into_iter().flatten() {
            let key = key.as_str().context("a required key that is not a string")?;
            ensure!(value.get(key).is_some(), "{at} lacks the required `{key}`");
        }
        if let Some(props) = schema["properties"].as_object() {
            for (key, sub) in props {
                if let Some(v) = value.get(key) {
                    conforms(v, sub, &format!("{at}.{key}"))?;
                }
            }
        }
    }
    if kind == "array" {
        for (i, item) in value.as_array().into_iter().flatten().enumerate() {
            conforms(item, &schema["items"], &format!("{at}[{i}]"))?;
        }
    }
    Ok(())
}

// One trial per schema of upstream's structured-output tests (strings,
// integers, booleans, numbers, arrays, nested and mixed objects).
#[harness::test(
    text_model,
    marks(responses, structured_output),
    cases = "responses/json_schemas.yaml",
    xfail(
        reason = "the local upstream (llama-cpp-python 0.3.36) accepts `response_format` types `text` and `json_object` only, and llama-stack 0.7.3 passes `json_schema` on as it is; the model call fails with 422 and the response with 500",
        status = 500,
        contains = "Input should be 'text' or 'json_object'"
    ),
    only(
        stacks = "llama-stack",
        reason = "caps the answer with `short`, a body field OGX 1.5 drops (responses/support.rs says why)"
    )
)]
async fn json_schema_format_answers_json_that_fits(ctx: &TestContext) -> Result {
    let case = ctx.case();
    let format = json!({"type": "json_schema", "name": ctx.case_id(), "schema": case["schema"], "strict": true});
    let extra = json!({"text": {"format": format}, "max_tokens": 128});
    let response = create_raw(ctx, &request(ctx, case["prompt"].as_str().unwrap_or_default(), extra)).await?;
    ensure!(response["status"] == "completed", "status {}", response["status"]);
    conforms(&answer_json(&response)?, &case["schema"], "$")?;
    ensure!(
        response["text"]["format"]["name"] == ctx.case_id(),
        "text.format echoed as {}",
        response["text"]
    );
    Ok(())
}

#[harness::test(
    text_model,
    marks(responses, structured_output, errors),
    xfail(
        reason = "llama-stack 0.7.3 accepts a json_schema format without a schema and fails on it later, answering a generic 500",
        status = 500,
        contains = "An unexpected error occurred"
    )
)]
async fn json_schema_format_without_a_schema_is_a_400(ctx: &TestContext) -> Result {
    let extra = json!({"text": {"format": {"type": "json_schema", "name": "city"}}});
    ctx.post("/v1/responses", &request(ctx, "Describe Paris.", extra))
        .await?
        .expect_error(400, &["text", "schema"])
}

#[harness::test(text_model, marks(responses, structured_output, errors))]
async fn unknown_text_format_type_is_a_400(ctx: &TestContext) -> Result {
    let extra = json!({"text": {"format": {"type": "yaml"}}});
    ctx.post("/v1/responses", &request(ctx, "Describe Paris.", extra))
        .await?
        .expect_error(400, &["text", "format"])
}
