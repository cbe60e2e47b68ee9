//! Background responses (`background: true`): answered at once as `queued`,
//! run by the stack, read back until done; and cancelling.

use harness::prelude::*;

use super::support::{create_raw, ensure_finished, id, request, short};
use crate::common::merged;
use crate::wait::until;

/// A background response, read back until it leaves `queued`/`in_progress`;
/// the first answer and the final one.
async fn run_in_background(ctx: &TestContext) -> Result<(Value, Value)> {
    let body = request(ctx, "Say hello.", merged(json!({"background": true}), short(8)));
    let queued = create_raw(ctx, &body).await?;
    let rid = id(&queued)?;
    // Done is the second write: llama-stack 0.7.3 stores the finished
    // response first as a foreground one (`background: false`, which a
    // cancel then refuses as "only background responses can be
    // cancelled"), and marks it `background: true` a moment later.
    let done = until("the background response to finish", || async {
        let now = ctx.get_ok(&format!("/v1/responses/{rid}")).await?;
        let busy = now["status"] == "queued" || now["status"] == "in_progress";
        Ok((!busy && now["background"] == true).then_some(now))
    })
    .await?;
    Ok((queued, done))
}

#[harness::test(
    text_model,
    marks(responses, background),
    only(
        stacks = "llama-stack",
        reason = "caps the answer with `short`, a body field OGX 1.5 drops (responses/support.rs says why)"
    )
)]
async fn background_response_is_queued_then_finishes(ctx: &TestContext) -> Result {
    let (queued, done) = run_in_background(ctx).await?;
    ensure!(
        queued["status"] == "queued",
        "the first answer's status is {}",
        queued["status"]
    );
    ensure!(
        queued["background"] == true,
        "background echoed as {}",
        queued["background"]
    );
    ensure!(
        queued["output"].as_array().is_some_and(Vec::is_empty),
        "a queued response with output: {}",
        queued["output"]
    );
    ensure_finished(&done)?;
    ensure!(
        done["id"] == queued["id"],
        "read back {}, queued {}",
        done["id"],
        queued["id"]
    );
    ensure!(
        !super::support::output_text(&done)?.is_empty(),
        "finished without an answer: {done}"
    );
    Ok(())
}

#[harness::test(
    text_model,
    marks(responses, background),
    only(
        stacks = "llama-stack",
        reason = "caps the answer with `short`, a body field OGX 1.5 drops (responses/support.rs says why)"
    )
)]
async fn background_false_answers_when_done(ctx: &TestContext) -> Result {
    let body = request(ctx, "Say hello.", merged(json!({"background": false}), short(8)));
    let response = create_raw(ctx, &body).await?;
    ensure_finished(&response)?;
    ensure!(
        response["background"] == false,
        "background echoed as {}",
        response["background"]
    );
    Ok(())
}

#[harness::test(text_model, marks(responses, background, errors))]
async fn background_and_stream_together_are_a_400(ctx: &TestContext) -> Result {
    let body = request(ctx, "Say hello.", json!({"background": true, "stream": true}));
    ctx.post("/v1/responses", &body)
        .await?
        .expect_error(400, &["'stream' and 'background' together"])
}

#[harness::test(
    text_model,
    marks(responses, background, errors),
    only(
        stacks = "llama-stack",
        reason = "caps the answer with `short`, a body field OGX 1.5 drops (responses/support.rs says why)"
    )
)]
async fn cancelling_a_finished_response_is_a_409_naming_its_status(ctx: &TestContext) -> Result {
    let (_, done) = run_in_background(ctx).await?;
    let rid = id(&done)?;
    let status = done["status"].as_str().unwrap_or_default().to_owned();
    ctx.post(&format!("/v1/responses/{rid}/cancel"), &json!({}))
        .await?
        .expect_error(409, &[&rid, &format!("status '{status}'")])?;
    let after = ctx.get_ok(&format!("/v1/responses/{rid}")).await?;
    ensure!(
        after["status"] == done["status"],
        "a refused cancel changed the status to {}",
        after["status"]
    );
    Ok(())
}

#[harness::test(
    text_model,
    marks(responses, background, errors),
    only(
        stacks = "llama-stack",
        reason = "caps the answer with `short`, a body field OGX 1.5 drops (responses/support.rs says why)"
    )
)]
async fn cancelling_a_foreground_response_is_a_409(ctx: &TestContext) -> Result {
    let response = create_raw(ctx, &request(ctx, "Say hello.", short(8))).await?;
    let rid = id(&response)?;
    ctx.post(&format!("/v1/responses/{rid}/cancel"), &json!({}))
        .await?
        .expect_error(409, &[&rid, "Cannot cancel"])
}

#[harness::test(marks(responses, background, errors))]
async fn cancelling_an_unknown_response_is_a_404_naming_it(ctx: &TestContext) -> Result {
    let rid = "resp_00000000-0000-0000-0000-000000000000";
    ctx.post(&format!("/v1/responses/{rid}/cancel"), &json!({}))
        .await?
        .expect_error(404, &[rid, "not found"])
}

#[harness::test(text_model, marks(responses, background, errors))]
async fn background_without_storing_is_a_400(ctx: &TestContext) -> Result {
    let body = request(ctx, "Say hello.", json!({"background": true, "store": false}));
    ctx.post("/v1/responses", &body)
        .await?
        .expect_error(400, &["'background' with 'store=False'"])
}
