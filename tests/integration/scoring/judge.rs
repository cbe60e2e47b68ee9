//! An LLM as judge (`llm-as-judge::base`): one model call per row, and a
//! score read from the judge's answer with the function's regexes. The
//! tests check how scores follow from the feedback, never what the judge
//! thought of an answer.

use harness::prelude::*;

use super::support::{SCORE, row, score};
use crate::common::{chat_request, user};

const TEMPLATE: &str = "Question: {input_query}\nExpected answer: {expected_answer}\n\
Given answer: {generated_answer}\nRate the given answer from 0 to 5. Reply with `Score: <n>`.";

fn judge_params(ctx: &TestContext) -> Value {
    json!({
        "type": "llm_as_judge",
        "judge_model": ctx.judge_model(),
        "prompt_template": TEMPLATE,
        "judge_score_regexes": ["Score: (\\d+)"],
        "aggregation_functions": ["categorical_count"],
    })
}

fn judged_rows() -> Value {
    json!([
        row("Paris", "Paris"),
        row("Marlowe", "Shakespeare"),
    ])
}

/// The judge's calls carry no temperature and no seed, so the model server
/// samples with its own defaults; llama-cpp-python (the local recording
/// setup) then seeds each request from the one before. A seeded request
/// first puts it in the same state on every recording run, so re-recording
/// gives the same judgement, and two same requests the same answer.
async fn settle_the_model_seed(ctx: &TestContext) -> Result {
    let body = chat_request(ctx, json!([user("Say OK.")]), json!({"max_tokens": 1}));
    ctx.post_ok("/v1/chat/completions", &body).await?;
    Ok(())
}

/// What the function's regex `Score: (\d+)` takes from `feedback`, as the
/// judge must have read it.
fn score_in(feedback: &str) -> Value {
    feedback
        .match_indices("Score: ")
        .find_map(|(at, m)| {
            let digits: String = feedback[at + m.len()..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            (!digits.is_empty()).then_some(digits)
        })
        .map_or(Value::Null, Value::String)
}

#[harness::test(
    judge_model,
    text_model,
    marks(scoring, judge),
    only(
        stacks = "llama-stack",
        reason = "OGX 1.5 has no scoring API (its run.yaml cannot enable it)"
    )
)]
async fn the_judge_scores_each_row_from_its_feedback(ctx: &TestContext) -> Result {
    settle_the_model_seed(ctx).await?;
    let results = score(
        ctx,
        &judged_rows(),
        json!({"llm-as-judge::base": judge_params(ctx)}),
    )
    .await?;
    let result = &results["llm-as-judge::base"];
    let mut counts = serde_json::Map::new();
    for scored in result["score_rows"].as_array().context("no score_rows")? {
        let feedback = scored["judge_feedback"]
            .as_str()
            .with_context(|| format!("no judge_feedback: {scored}"))?;
        ensure!(
            scored["score"] == score_in(feedback),
            "score {} from feedback {feedback:?}",
            scored["score"]
        );
        let key = scored["score"].as_str().unwrap_or("None").to_owned();
        let n = counts.get(&key).and_then(Value::as_u64).unwrap_or(0);
        counts.insert(key, json!(n + 1));
    }
    let aggregated = &result["aggregated_results"]["categorical_count"]["categorical_count"];
    ensure!(
        *aggregated == Value::Object(counts.clone()),
        "categorical_count {aggregated}, the scores count {}",
        Value::Object(counts)
    );
    Ok(())
}

#[harness::test(
    judge_model,
    text_model,
    marks(scoring, judge),
    only(
        stacks = "llama-stack",
        reason = "OGX 1.5 has no scoring API (its run.yaml cannot enable it)"
    )
)]
async fn a_registered_judge_function_judges_as_base_with_its_params(
    ctx: &TestContext,
) -> Result {
    let id = crate::common::trial_scoped(ctx, "harness-judge");
    let registration = json!({
        "scoring_fn_id": id,
        "provider_id": "llm-as-judge",
        "description": "the base judge with the suite's template",
        "return_type": {"type": "string"},
        "params": judge_params(ctx),
    });
    ctx.post("/v1/scoring-functions", &registration).await?.ok()?;
    ctx.defer_delete(format!("/v1/scoring-functions/{id}"));
    settle_the_model_seed(ctx).await?;
    // One row: the registered function and base then send the one same
    // request, each from the same seed.
    let rows = json!([row("Paris", "Paris")]);
    let registered = score(ctx, &rows, json!({id.clone(): null})).await?;
    settle_the_model_seed(ctx).await?;
    let base = score(ctx, &rows, json!({"llm-as-judge::base": judge_params(ctx)})).await?;
    ensure!(
        registered[&id]["score_rows"] == base["llm-as-judge::base"]["score_rows"],
        "registered: {}\nbase: {}",
        registered[&id]["score_rows"],
        base["llm-as-judge::base"]["score_rows"]
    );
    Ok(())
}

#[harness::test(
    marks(scoring, judge, errors),
    only(
        stacks = "llama-stack",
        reason = "OGX 1.5 has no scoring API (its run.yaml cannot enable it)"
    )
)]
async fn an_unknown_judge_model_is_404_naming_it(ctx: &TestContext) -> Result {
    let mut params = json!({
        "type": "llm_as_judge",
        "prompt_template": TEMPLATE,
        "judge_score_regexes": ["Score: (\\d+)"],
    });
    params["judge_model"] = json!("stack-harness-no-such-model");
    let body = json!({"input_rows": [row("a", "a")], "scoring_functions": {"llm-as-judge::base": params}});
    ctx.post(SCORE, &body)
        .await?
        .expect_error(404, &["stack-harness-no-such-model"])
}
