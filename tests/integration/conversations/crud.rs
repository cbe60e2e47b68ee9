//! Conversations and their items: create, retrieve, update, add, list, delete.

use harness::prelude::*;

/// Creates a conversation, deleted when the test ends; its id.
async fn create(ctx: &TestContext, body: Value) -> Result<String> {
    let conversation = ctx.post_ok("/v1/conversations", &body).await?;
    ensure!(
        conversation["object"] == "conversation",
        "object is {}",
        conversation["object"]
    );
    let id = conversation["id"]
        .as_str()
        .with_context(|| format!("no id in {conversation}"))?;
    ctx.defer_delete(format!("/v1/conversations/{id}"));
    ensure!(id.starts_with("conv_"), "id {id} lacks the `conv_` prefix");
    Ok(id.to_owned())
}

fn message(text: &str) -> Value {
    json!({"type": "message", "role": "user", "content": text})
}

fn texts(items: &Value) -> Result<Vec<String>> {
    let data = items["data"].as_array().context("no `data` list")?;
    Ok(data
        .iter()
        .map(|i| i["content"].as_str().unwrap_or_default().to_owned())
        .collect())
}

#[harness::test(marks(conversations))]
async fn created_conversation_reads_back_with_its_metadata(ctx: &TestContext) -> Result {
    let id = create(ctx, json!({"metadata": {"topic": "geography"}})).await?;
    let conversation = ctx.get_ok(&format!("/v1/conversations/{id}")).await?;
    ensure!(
        conversation["id"] == id.as_str(),
        "asked for {id}, got {}",
        conversation["id"]
    );
    ensure!(
        conversation["metadata"] == json!({"topic": "geography"}),
        "metadata {}",
        conversation["metadata"]
    );
    Ok(())
}

/// The items' texts in `order`.
async fn listed(ctx: &TestContext, id: &str, order: &str) -> Result<Vec<String>> {
    let items = ctx
        .get_ok(&format!("/v1/conversations/{id}/items?order={order}"))
        .await?;
    texts(&items)
}

const THREE: [&str; 3] = ["first", "second", "third"];

#[harness::test(marks(conversations))]
async fn items_given_at_creation_list_in_order(ctx: &TestContext) -> Result {
    let id = create(ctx, json!({"items": THREE.map(message)})).await?;
    let asc = listed(ctx, &id, "asc").await?;
    ensure!(asc == THREE, "ascending items {asc:?}");
    Ok(())
}

#[harness::test(
    marks(conversations),
    xfail(
        reason = "llama-stack 0.7.3 stamps every item given at creation with the same second, so order=desc lists them oldest first (fixed in OGX 1.5)",
        contains = r#"descending items ["first", "second", "third"]"#,
        stacks = "llama-stack"
    )
)]
async fn items_given_at_creation_list_newest_first_when_asked(ctx: &TestContext) -> Result {
    let id = create(ctx, json!({"items": THREE.map(message)})).await?;
    let desc = listed(ctx, &id, "desc").await?;
    ensure!(
        desc == ["third", "second", "first"],
        "descending items {desc:?}"
    );
    Ok(())
}

#[harness::test(marks(conversations))]
async fn added_items_list_newest_first_when_asked(ctx: &TestContext) -> Result {
    let id = create(ctx, json!({})).await?;
    let added = ctx
        .post_ok(
            &format!("/v1/conversations/{id}/items"),
            &json!({"items": THREE.map(message)}),
        )
        .await?;
    let desc = listed(ctx, &id, "desc").await?;
    ensure!(
        texts(&added)? == THREE,
        "added items answered out of order"
    );
    ensure!(
        desc == ["third", "second", "first"],
        "descending items {desc:?}"
    );
    Ok(())
}

// Ascending only: items added in the same second as earlier ones tie on
// llama-stack 0.7.3's whole-second stamps, so descending order would depend
// on the clock.
#[harness::test(marks(conversations))]
async fn added_items_follow_the_earlier_ones(ctx: &TestContext) -> Result {
    let id = create(ctx, json!({"items": [message("first")]})).await?;
    let more = json!({"items": [message("second"), message("third")]});
    ctx.post_ok(&format!("/v1/conversations/{id}/items"), &more)
        .await?;
    let asc = listed(ctx, &id, "asc").await?;
    ensure!(asc == THREE, "ascending items {asc:?}");
    Ok(())
}

#[harness::test(marks(conversations))]
async fn item_is_retrieved_and_deleted_by_id(ctx: &TestContext) -> Result {
    let id = create(ctx, json!({"items": [message("keep"), message("drop")]})).await?;
    let items = ctx
        .get_ok(&format!("/v1/conversations/{id}/items?order=asc"))
        .await?;
    let drop_id = items["data"][1]["id"]
        .as_str()
        .context("the second item has no id")?;
    let item = ctx
        .get_ok(&format!("/v1/conversations/{id}/items/{drop_id}"))
        .await?;
    ensure!(item["content"] == "drop", "retrieved {item}");
    ctx.delete(&format!("/v1/conversations/{id}/items/{drop_id}"))
        .await?
        .ok()?;
    let left = ctx.get_ok(&format!("/v1/conversations/{id}/items")).await?;
    ensure!(texts(&left)? == ["keep"], "items left {:?}", texts(&left)?);
    Ok(())
}

#[harness::test(marks(conversations))]
async fn update_replaces_the_metadata(ctx: &TestContext) -> Result {
    let id = create(ctx, json!({"metadata": {"topic": "geography"}})).await?;
    let path = format!("/v1/conversations/{id}");
    let updated = ctx
        .post_ok(&path, &json!({"metadata": {"topic": "maths"}}))
        .await?;
    let stored = ctx.get_ok(&path).await?;
    ensure!(
        updated["metadata"] == json!({"topic": "maths"}),
        "update answered {updated}"
    );
    ensure!(
        stored["metadata"] == json!({"topic": "maths"}),
        "the update did not stick: {stored}"
    );
    Ok(())
}

#[harness::test(marks(conversations))]
async fn deleted_conversation_is_gone(ctx: &TestContext) -> Result {
    let id = create(ctx, json!({})).await?;
    let deleted = ctx.delete(&format!("/v1/conversations/{id}")).await?.ok()?;
    ensure!(
        deleted["deleted"] == true && deleted["id"] == id.as_str(),
        "delete answered {deleted}"
    );
    ctx.get(&format!("/v1/conversations/{id}"))
        .await?
        .expect_error(404, &[&id, "not found"])
}

#[harness::test(marks(conversations, errors))]
async fn malformed_conversation_id_is_a_400_giving_the_format(ctx: &TestContext) -> Result {
    ctx.get("/v1/conversations/conv_nope")
        .await?
        .expect_error(400, &["conv_nope", "48 lowercase hex"])
}
