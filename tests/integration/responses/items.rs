//! A response's input items (`GET /v1/responses/{id}/input_items`): every
//! item it was given, listed newest first unless asked, a page at a time.

use harness::prelude::*;

use super::support::{create_raw, ensure_finished, id, request, short};
use crate::common::merged;

const TURNS: [&str; 3] = ["first", "second", "third"];

/// A response given three user messages; its id.
async fn three_inputs(ctx: &TestContext) -> Result<String> {
    let input: Vec<Value> = TURNS
        .iter()
        .map(|t| json!({"type": "message", "role": "user", "content": format!("The {t} word.")}))
        .collect();
    let body = request(ctx, "", merged(json!({"input": input}), short(8)));
    let response = create_raw(ctx, &body).await?;
    ensure_finished(&response)?;
    id(&response)
}

/// The listed items' texts, and the list.
async fn listed(ctx: &TestContext, rid: &str, query: &str) -> Result<(Vec<String>, Value)> {
    let list = ctx
        .get_ok(&format!("/v1/responses/{rid}/input_items{query}"))
        .await?;
    ensure!(list["object"] == "list", "object is {}", list["object"]);
    let texts = list["data"]
        .as_array()
        .context("no `data` list")?
        .iter()
        .map(|i| {
            let text = i["content"][0]["text"].as_str().or(i["content"].as_str());
            let word = text.unwrap_or_default().split(' ').nth(1).unwrap_or("?");
            word.to_owned()
        })
        .collect();
    Ok((texts, list))
}

#[harness::test(
    text_model,
    marks(responses),
    only(
        stacks = "llama-stack",
        reason = "caps the answer with `short`, a body field OGX 1.5 drops (responses/support.rs says why)"
    )
)]
async fn input_items_are_newest_first_by_default(ctx: &TestContext) -> Result {
    let rid = three_inputs(ctx).await?;
    let (texts, _) = listed(ctx, &rid, "").await?;
    ensure!(texts == ["third", "second", "first"], "listed {texts:?}");
    Ok(())
}

#[harness::test(
    text_model,
    marks(responses),
    only(
        stacks = "llama-stack",
        reason = "caps the answer with `short`, a body field OGX 1.5 drops (responses/support.rs says why)"
    )
)]
async fn input_items_in_given_order_when_asked(ctx: &TestContext) -> Result {
    let rid = three_inputs(ctx).await?;
    let (texts, _) = listed(ctx, &rid, "?order=asc").await?;
    ensure!(texts == TURNS, "listed {texts:?}");
    Ok(())
}

#[harness::test(
    text_model,
    marks(responses),
    only(
        stacks = "llama-stack",
        reason = "caps the answer with `short`, a body field OGX 1.5 drops (responses/support.rs says why)"
    )
)]
async fn input_items_limit_cuts_the_list(ctx: &TestContext) -> Result {
    let rid = three_inputs(ctx).await?;
    let (page, _) = listed(ctx, &rid, "?order=asc&limit=2").await?;
    ensure!(page == TURNS[..2], "limit=2 gave {page:?}");
    Ok(())
}

#[harness::test(
    text_model,
    marks(responses),
    xfail(
        reason = "llama-stack 0.7.3 lists input items without `has_more`, `first_id` and `last_id`, so a client cannot page through them",
        contains = "has_more null on a page of 2 of 3"
    ),
    only(
        stacks = "llama-stack",
        reason = "caps the answer with `short`, a body field OGX 1.5 drops (responses/support.rs says why)"
    )
)]
async fn input_items_page_says_there_is_more(ctx: &TestContext) -> Result {
    let rid = three_inputs(ctx).await?;
    let (_, list) = listed(ctx, &rid, "?order=asc&limit=2").await?;
    ensure!(
        list["has_more"] == true,
        "has_more {} on a page of 2 of 3",
        list["has_more"]
    );
    Ok(())
}

#[harness::test(
    text_model,
    marks(responses),
    xfail(
        reason = "llama-stack 0.7.3 lists input messages given inline with `id: null`",
        contains = "input items without ids"
    ),
    only(
        stacks = "llama-stack",
        reason = "caps the answer with `short`, a body field OGX 1.5 drops (responses/support.rs says why)"
    )
)]
async fn input_items_have_ids(ctx: &TestContext) -> Result {
    let rid = three_inputs(ctx).await?;
    let (_, list) = listed(ctx, &rid, "").await?;
    let data = list["data"].as_array().context("no `data` list")?;
    ensure!(
        data.iter().all(|i| i["id"].as_str().is_some_and(|s| !s.is_empty())),
        "input items without ids: {list}"
    );
    Ok(())
}

#[harness::test(
    text_model,
    marks(responses),
    only(
        stacks = "llama-stack",
        reason = "caps the answer with `short`, a body field OGX 1.5 drops (responses/support.rs says why)"
    )
)]
async fn input_items_are_the_user_messages_given(ctx: &TestContext) -> Result {
    let rid = three_inputs(ctx).await?;
    let (_, list) = listed(ctx, &rid, "").await?;
    let data = list["data"].as_array().context("no `data` list")?;
    ensure!(data.len() == 3, "{} items for three messages", data.len());
    ensure!(
        data.iter().all(|i| i["role"] == "user" && i["type"] == "message"),
        "items {list}"
    );
    Ok(())
}

#[harness::test(marks(responses, errors))]
async fn input_items_of_an_unknown_response_are_a_404(ctx: &TestContext) -> Result {
    let rid = "resp_00000000-0000-0000-0000-000000000000";
    ctx.get(&format!("/v1/responses/{rid}/input_items"))
        .await?
        .expect_error(404, &[rid])
}
