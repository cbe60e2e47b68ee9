//! `POST /v1/moderations` through llama-guard: which shield a request
//! reaches, the result's shape, and refusals (see `support` for why the
//! verdict test is xfail).

use harness::prelude::*;
use serde::Deserialize;

use super::support::{DEFAULT_SHIELD, guard_model};

const MODERATIONS: &str = "/v1/moderations";

/// Llama Guard 3's categories plus code interpreter abuse: what llama-guard
/// checks for a model it does not know.
const CATEGORIES: usize = 14;

/// Checks a moderation result's shape: every category named in the three
/// maps, flags that agree with `flagged`, scores between 0 and 1.
fn check_result(result: &Value) -> Result {
    let flagged = result["flagged"].as_bool().context("no `flagged`")?;
    let categories = result["categories"].as_object().context("no categories")?;
    let scores = result["category_scores"]
        .as_object()
        .context("no category_scores")?;
    let applied = result["category_applied_input_types"]
        .as_object()
        .context("no category_applied_input_types")?;
    ensure!(
        categories.len() == CATEGORIES,
        "{} categories: {categories:?}",
        categories.len()
    );
    for name in categories.keys() {
        ensure!(
            scores.contains_key(name) && applied.contains_key(name),
            "{name} has no score or applied input types"
        );
        let score = scores[name].as_f64().unwrap_or(-1.0);
        ensure!((0.0..=1.0).contains(&score), "{name} scores {score}");
    }
    let any = categories.values().any(|v| v == true);
    ensure!(any == flagged, "flagged {flagged}, categories {categories:?}");
    Ok(())
}

/// The one result of a moderation answer, checked for `model`.
fn only_result<'a>(answer: &'a Value, model: &str) -> Result<&'a Value> {
    let id = answer["id"].as_str().unwrap_or_default();
    ensure!(id.starts_with("modr-"), "id {id:?} lacks `modr-`");
    ensure!(answer["model"] == model, "model {}, expected {model}", answer["model"]);
    let results = answer["results"].as_array().context("no results")?;
    ensure!(results.len() == 1, "{} results for one input", results.len());
    Ok(&results[0])
}

#[harness::test(
    safety_shield,
    marks(safety),
    only(
        stacks = "llama-stack",
        reason = "OGX 1.5 has no safety API (no shields, run-shield or moderations)"
    )
)]
async fn moderating_nothing_flags_nothing_and_asks_no_model(ctx: &TestContext) -> Result {
    // With no input llama-guard answers without asking its model: a replay
    // miss would fail this test, so it passing shows no request was made.
    let model = guard_model(ctx, ctx.safety_shield()).await?;
    let answer = ctx
        .post_ok(MODERATIONS, &json!({"model": model, "input": []}))
        .await?;
    let result = only_result(&answer, &model)?;
    check_result(result)?;
    ensure!(result["flagged"] == false, "nothing was flagged: {result}");
    ensure!(result["user_message"].is_null(), "a message for nothing: {result}");
    Ok(())
}

#[harness::test(
    marks(safety),
    only(
        stacks = "llama-stack",
        reason = "OGX 1.5 has no safety API (no shields, run-shield or moderations)"
    )
)]
async fn without_a_model_the_default_shield_moderates(ctx: &TestContext) -> Result {
    let model = guard_model(ctx, DEFAULT_SHIELD).await?;
    let answer = ctx.post_ok(MODERATIONS, &json!({"input": []})).await?;
    only_result(&answer, &model)?;
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
async fn a_moderation_result_names_every_category_it_checks(ctx: &TestContext) -> Result {
    let model = guard_model(ctx, ctx.safety_shield()).await?;
    let body = json!({"model": model, "input": "What is the capital of France?"});
    let answer = ctx.post_ok(MODERATIONS, &body).await?;
    check_result(only_result(&answer, &model)?)
}

#[derive(Deserialize)]
struct Invalid {
    body: Value,
    says: Vec<String>,
}

#[harness::test(
    safety_shield,
    text_model,
    marks(safety, errors),
    cases = "safety/invalid_moderations.yaml",
    only(
        stacks = "llama-stack",
        reason = "OGX 1.5 has no safety API (no shields, run-shield or moderations)"
    ),
)]
async fn invalid_moderation_is_a_400_naming_the_problem(ctx: &TestContext) -> Result {
    let case: Invalid = ctx.case_as()?;
    let model = guard_model(ctx, ctx.safety_shield()).await?;
    let fill = |text: &str| {
        text.replace("$model", &model)
            .replace("$text_model", ctx.text_model())
    };
    let body: Value = serde_json::from_str(&fill(&case.body.to_string()))?;
    let says: Vec<String> = case.says.iter().map(|s| fill(s)).collect();
    let needles: Vec<&str> = says.iter().map(String::as_str).collect();
    ctx.post(MODERATIONS, &body)
        .await?
        .expect_error(400, &needles)
}
