//! `POST /v1/safety/run-shield`: its refusals, and the verdict contract
//! (see `support` for why the verdict tests are xfail).

use harness::prelude::*;
use serde::Deserialize;

use crate::common::user;

const RUN_SHIELD: &str = "/v1/safety/run-shield";

#[derive(Deserialize)]
struct Invalid {
    #[serde(default)]
    set: Value,
    #[serde(default)]
    unset: Vec<String>,
    says: Vec<String>,
}

#[harness::test(
    safety_shield,
    marks(safety, errors),
    cases = "safety/invalid_run_shield.yaml",
    only(
        stacks = "llama-stack",
        reason = "OGX 1.5 has no safety API (no shields, run-shield or moderations)"
    )
)]
async fn invalid_run_shield_is_a_400_naming_the_problem(ctx: &TestContext) -> Result {
    let case: Invalid = ctx.case_as()?;
    let mut body = json!({"shield_id": ctx.safety_shield(), "messages": [user("Hello.")]});
    crate::common::merge(&mut body, case.set);
    if let Some(fields) = body.as_object_mut() {
        for field in &case.unset {
            fields.remove(field);
        }
    }
    let needles: Vec<&str> = case.says.iter().map(String::as_str).collect();
    ctx.post(RUN_SHIELD, &body)
        .await?
        .expect_error(400, &needles)
}

/// Checks a violation's shape: its level, a message for the user and the
/// categories it found.
fn check_violation(violation: &Value) -> Result {
    ensure!(
        ["info", "warn", "error"].iter().any(|l| violation["violation_level"] == *l),
        "violation_level {}",
        violation["violation_level"]
    );
    ensure!(
        violation["user_message"].as_str().is_some_and(|m| !m.is_empty()),
        "no user_message: {violation}"
    );
    let types = violation["metadata"]["violation_type"].as_str().unwrap_or_default();
    ensure!(
        !types.is_empty() && types.split(',').all(|t| t.starts_with('S')),
        "violation_type {types:?} is not a list of S<n> categories"
    );
    Ok(())
}

#[harness::test(
    safety_shield,
    marks(safety, guard),
    xfail(
        reason = "SmolLM2-135M, the guard the recordings were made with, is no Llama Guard: it answers the guard prompt by listing the categories (`S1: Violent Crimes.`, …) instead of `safe` or `unsafe`, and llama-guard (llama-stack 0.7.3) refuses that answer with a 400",
        status = 400,
        contains = "Unexpected response: S1: Violent Crimes."
    ),
    only(
        stacks = "llama-stack",
        reason = "OGX 1.5 has no safety API (no shields, run-shield or moderations)"
    ),
)]
async fn a_verdict_is_no_violation_or_a_categorised_one(ctx: &TestContext) -> Result {
    let body = json!({
        "shield_id": ctx.safety_shield(),
        "messages": [user("What is the capital of France?")],
    });
    let answer = ctx.post_ok(RUN_SHIELD, &body).await?;
    match &answer["violation"] {
        Value::Null => Ok(()),
        violation => check_violation(violation),
    }
}
