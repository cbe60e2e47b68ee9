//! Tests whose outcomes `harness/tests/outcomes.rs` checks against a real
//! stack: each one is a way an outcome could lie (an xfail that passes, one
//! that fails otherwise than it says, one hiding a replay miss, a passing
//! test whose request missed its recording). Each asks for a chat answer to
//! a prompt no recording holds, or for something the stack answers for sure.
//! (`cargo test` builds examples without running them.)

use harness::prelude::*;

/// A prompt no recording answers: its request misses in replay.
fn unrecorded_chat(ctx: &TestContext) -> Value {
    json!({
        "model": ctx.text_model(),
        "messages": [{"role": "user", "content": "stack-harness outcome fixture: this prompt is never recorded"}],
        "max_tokens": 4,
    })
}

#[harness::test(xfail(reason = "claims GET /v1/health is a 404", status = 404))]
async fn xfail_that_passes(ctx: &TestContext) -> Result {
    ctx.get_ok("/v1/health").await?;
    Ok(())
}

#[harness::test(xfail(reason = "claims the stack answers 400 here", status = 400))]
async fn xfail_failing_otherwise(ctx: &TestContext) -> Result {
    // The stack answers 404 for a model it does not have.
    ctx.get("/v1/models/no-such-model")
        .await?
        .expect_status(200)?;
    Ok(())
}

#[harness::test(
    text_model,
    xfail(reason = "claims chat answers fail with a 404", status = 404)
)]
async fn xfail_hiding_a_miss(ctx: &TestContext) -> Result {
    // The miss makes the stack answer an error, which the mark would match.
    ctx.post("/v1/chat/completions", &unrecorded_chat(ctx))
        .await?
        .expect_status(200)?;
    Ok(())
}

#[harness::test(text_model)]
async fn passes_despite_a_miss(ctx: &TestContext) -> Result {
    // Whatever the stack answered, the test itself asserts nothing.
    let _ = ctx
        .post("/v1/chat/completions", &unrecorded_chat(ctx))
        .await?;
    Ok(())
}

#[harness::test(xfail(reason = "the stack answers 404 for an unknown model", status = 404))]
async fn xfail_that_holds(ctx: &TestContext) -> Result {
    ctx.get("/v1/models/no-such-model")
        .await?
        .expect_status(200)?;
    Ok(())
}

// Marks for some stacks, run on llama-stack 0.7.3: another stack's mark is
// no mark here, this version's is, and a test for other stacks never runs.

#[harness::test(xfail(reason = "claims OGX answers 404 here", status = 404, stacks = "ogx"))]
async fn xfail_of_another_stack(ctx: &TestContext) -> Result {
    ctx.get("/v1/models/no-such-model")
        .await?
        .expect_status(200)?;
    Ok(())
}

#[harness::test(xfail(
    reason = "llama-stack before 0.8 answers 404 for an unknown model",
    status = 404,
    stacks = "llama-stack<0.8, ogx"
))]
async fn xfail_of_this_version(ctx: &TestContext) -> Result {
    ctx.get("/v1/models/no-such-model")
        .await?
        .expect_status(200)?;
    Ok(())
}

#[harness::test(only(stacks = "ogx>=1.5", reason = "OGX alone is asked"))]
async fn only_for_another_stack(_ctx: &TestContext) -> Result {
    bail!("it ran on a stack it is not for")
}

fn main() -> std::process::ExitCode {
    harness::main(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}
