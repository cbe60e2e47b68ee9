//! What the stack keeps of a response: `store: false` keeps nothing, a
//! stored one is listed (by model, in order, a page at a time) until it is
//! deleted.

use harness::prelude::*;

use super::support::{create_raw, ensure_finished, id, request, short};
use crate::common::merged;

const INPUT: &str = "Say hello.";

async fn unstored(ctx: &TestContext) -> Result<Value> {
    let body = request(ctx, INPUT, merged(json!({"store": false}), short(8)));
    let response = create_raw(ctx, &body).await?;
    ensure_finished(&response)?;
    ensure!(response["store"] == false, "store echoed as {}", response["store"]);
    Ok(response)
}

#[harness::test(
    text_model,
    marks(responses, store),
    only(
        stacks = "llama-stack",
        reason = "caps the answer with `short`, a body field OGX 1.5 drops (responses/support.rs says why)"
    )
)]
async fn unstored_response_cannot_be_read_back(ctx: &TestContext) -> Result {
    let rid = id(&unstored(ctx).await?)?;
    ctx.get(&format!("/v1/responses/{rid}"))
        .await?
        .expect_error(404, &[&rid, "not found"])
}

#[harness::test(
    text_model,
    marks(responses, store),
    only(
        stacks = "llama-stack",
        reason = "caps the answer with `short`, a body field OGX 1.5 drops (responses/support.rs says why)"
    )
)]
async fn unstored_response_cannot_be_continued(ctx: &TestContext) -> Result {
    let rid = id(&unstored(ctx).await?)?;
    let body = request(ctx, "And again.", json!({"previous_response_id": rid}));
    ctx.post("/v1/responses", &body)
        .await?
        .expect_error(404, &[&rid])
}

#[harness::test(
    text_model,
    marks(responses, store),
    only(
        stacks = "llama-stack",
        reason = "caps the answer with `short`, a body field OGX 1.5 drops (responses/support.rs says why)"
    )
)]
async fn unstored_response_is_not_listed(ctx: &TestContext) -> Result {
    let rid = id(&unstored(ctx).await?)?;
    let list = ctx.get_ok("/v1/responses?limit=100").await?;
    ensure!(
        !list.to_string().contains(&rid),
        "the unstored {rid} is listed"
    );
    Ok(())
}

#[harness::test(
    text_model,
    marks(responses, store),
    only(
        stacks = "llama-stack",
        reason = "caps the answer with `short`, a body field OGX 1.5 drops (responses/support.rs says why)"
    )
)]
async fn stored_by_default(ctx: &TestContext) -> Result {
    let response = create_raw(ctx, &request(ctx, INPUT, short(8))).await?;
    ensure!(response["store"] == true, "store defaults to {}", response["store"]);
    ctx.get_ok(&format!("/v1/responses/{}", id(&response)?))
        .await?;
    Ok(())
}

/// Two stored responses, oldest first.
async fn two(ctx: &TestContext) -> Result<(String, String)> {
    let first = id(&create_raw(ctx, &request(ctx, INPUT, short(8))).await?)?;
    // The list is ordered by creation time in whole seconds.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let second = id(&create_raw(ctx, &request(ctx, INPUT, short(8))).await?)?;
    Ok((first, second))
}

fn ids(list: &Value) -> Result<Vec<String>> {
    ensure!(list["object"] == "list", "object is {}", list["object"]);
    Ok(list["data"]
        .as_array()
        .context("no `data` list")?
        .iter()
        .filter_map(|r| r["id"].as_str().map(str::to_owned))
        .collect())
}

#[harness::test(
    text_model,
    marks(responses, store),
    only(
        stacks = "llama-stack",
        reason = "caps the answer with `short`, a body field OGX 1.5 drops (responses/support.rs says why)"
    )
)]
async fn list_is_newest_first_unless_asked(ctx: &TestContext) -> Result {
    let (first, second) = two(ctx).await?;
    let desc = ids(&ctx.get_ok("/v1/responses?limit=100").await?)?;
    let pos = |list: &[String], id: &str| list.iter().position(|x| x == id);
    ensure!(
        pos(&desc, &second) < pos(&desc, &first) && pos(&desc, &first).is_some(),
        "default order lists {second} after {first}: {desc:?}"
    );
    // Oldest first, the page after the first response holds the second.
    let asc = ids(
        &ctx.get_ok(&format!("/v1/responses?limit=100&order=asc&after={first}"))
            .await?,
    )?;
    ensure!(
        asc.contains(&second) && !asc.contains(&first),
        "order=asc after {first} lists {asc:?}"
    );
    Ok(())
}

#[harness::test(
    text_model,
    marks(responses, store),
    only(
        stacks = "llama-stack",
        reason = "caps the answer with `short`, a body field OGX 1.5 drops (responses/support.rs says why)"
    )
)]
async fn list_pages_with_limit_and_after(ctx: &TestContext) -> Result {
    let (first, second) = two(ctx).await?;
    let page = ctx.get_ok("/v1/responses?limit=1").await?;
    let listed = ids(&page)?;
    ensure!(listed.len() == 1, "limit=1 listed {listed:?}");
    ensure!(page["has_more"] == true, "has_more {} with more responses", page["has_more"]);
    ensure!(
        page["first_id"] == listed[0].as_str() && page["last_id"] == listed[0].as_str(),
        "first_id {} / last_id {} for a page of {listed:?}",
        page["first_id"],
        page["last_id"]
    );
    let next = ids(&ctx.get_ok(&format!("/v1/responses?limit=100&after={second}")).await?)?;
    ensure!(!next.contains(&second), "the page after {second} holds it");
    ensure!(next.contains(&first), "the page after {second} lacks the older {first}");
    Ok(())
}

#[harness::test(
    text_model,
    marks(responses, store),
    only(
        stacks = "llama-stack",
        reason = "caps the answer with `short`, a body field OGX 1.5 drops (responses/support.rs says why)"
    )
)]
async fn list_filters_by_model(ctx: &TestContext) -> Result {
    let rid = id(&create_raw(ctx, &request(ctx, INPUT, short(8))).await?)?;
    let model = ctx.text_model();
    let mine = ctx.get_ok(&format!("/v1/responses?limit=100&model={model}")).await?;
    ensure!(ids(&mine)?.contains(&rid), "{rid} is not listed for its model");
    ensure!(
        mine["data"].as_array().into_iter().flatten().all(|r| r["model"] == model),
        "another model's response is listed"
    );
    // A model no test uses: every request, even a refused one, may leave a
    // response behind (see `errors::streamed_unknown_model_leaves_no_stored_response`).
    let other = ctx
        .get_ok("/v1/responses?limit=100&model=stack-harness/never-used-model")
        .await?;
    ensure!(ids(&other)?.is_empty(), "responses listed for a model that does not exist");
    Ok(())
}

#[harness::test(
    text_model,
    marks(responses, store),
    only(
        stacks = "llama-stack",
        reason = "caps the answer with `short`, a body field OGX 1.5 drops (responses/support.rs says why)"
    )
)]
async fn deleted_response_is_no_longer_listed(ctx: &TestContext) -> Result {
    let rid = id(&create_raw(ctx, &request(ctx, INPUT, short(8))).await?)?;
    let deleted = ctx.delete(&format!("/v1/responses/{rid}")).await?.ok()?;
    ensure!(
        deleted["object"] == "response" && deleted["deleted"] == true,
        "delete answered {deleted}"
    );
    let list = ctx.get_ok("/v1/responses?limit=100").await?;
    ensure!(!ids(&list)?.contains(&rid), "the deleted {rid} is listed");
    ctx.get(&format!("/v1/responses/{rid}/input_items"))
        .await?
        .expect_error(404, &[&rid])
}

#[harness::test(
    text_model,
    marks(responses, store, errors),
    only(
        stacks = "llama-stack",
        reason = "caps the answer with `short`, a body field OGX 1.5 drops (responses/support.rs says why)"
    )
)]
async fn deleting_twice_is_a_404(ctx: &TestContext) -> Result {
    let rid = id(&create_raw(ctx, &request(ctx, INPUT, short(8))).await?)?;
    ctx.delete(&format!("/v1/responses/{rid}")).await?.ok()?;
    ctx.delete(&format!("/v1/responses/{rid}"))
        .await?
        .expect_error(404, &[&rid, "not found"])
}

#[harness::test(marks(responses, store, errors))]
async fn deleting_an_unknown_response_is_a_404_naming_it(ctx: &TestContext) -> Result {
    let rid = "resp_00000000-0000-0000-0000-000000000000";
    ctx.delete(&format!("/v1/responses/{rid}"))
        .await?
        .expect_error(404, &[rid, "not found"])
}

#[harness::test(marks(responses, store, errors))]
async fn list_limit_over_100_is_a_400(ctx: &TestContext) -> Result {
    ctx.get("/v1/responses?limit=101")
        .await?
        .expect_error(400, &["limit", "less than or equal to 100"])
}
