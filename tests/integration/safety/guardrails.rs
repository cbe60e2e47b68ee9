//! Shields as guardrails of `/v1/responses`: a request naming a shield the
//! stack does not have is refused before any model is asked.

use harness::prelude::*;

#[harness::test(
    text_model,
    marks(safety, responses, errors),
    only(
        stacks = "llama-stack",
        reason = "OGX 1.5 has no safety API (no shields, run-shield or moderations)"
    )
)]
async fn a_guardrail_naming_an_unknown_shield_is_a_400(ctx: &TestContext) -> Result {
    let body = json!({
        "model": ctx.text_model(),
        "input": "Hello.",
        "guardrails": ["stack-harness-no-such-shield"],
    });
    ctx.post("/v1/responses", &body)
        .await?
        .expect_error(400, &["No shield found", "stack-harness-no-such-shield"])
}
