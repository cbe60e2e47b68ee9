//! Conversation items beyond plain messages: pagination, `include`, item
//! types, deletes, and the errors for what does not exist.

use harness::prelude::*;

/// A conversation with `items`, deleted when the test ends; its id.
async fn with_items(ctx: &TestContext, items: Value) -> Result<String> {
    let conversation = ctx
        .post_ok("/v1/conversations", &json!({"items": items}))
        .await?;
    let id = conversation["id"]
        .as_str()
        .with_context(|| format!("no id in {conversation}"))?
        .to_owned();
    ctx.defer_delete(format!("/v1/conversations/{id}"));
    Ok(id)
}

fn message(text: &str) -> Value {
    json!({"type": "message", "role": "user", "content": text})
}

const FOUR: [&str; 4] = ["a", "b", "c", "d"];

async fn four(ctx: &TestContext) -> Result<String> {
    with_items(ctx, json!(FOUR.map(message))).await
}

async fn page(ctx: &TestContext, id: &str, query: &str) -> Result<Value> {
    let list = ctx
        .get_ok(&format!("/v1/conversations/{id}/items{query}"))
        .await?;
    ensure!(list["object"] == "list", "object is {}", list["object"]);
    Ok(list)
}

fn contents(list: &Value) -> Vec<String> {
    list["data"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|i| i["content"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[harness::test(marks(conversations))]
async fn limit_gives_the_first_items(ctx: &TestContext) -> Result {
    let id = four(ctx).await?;
    let list = page(ctx, &id, "?order=asc&limit=2").await?;
    ensure!(contents(&list) == ["a", "b"], "limit=2 gave {:?}", contents(&list));
    let data = list["data"].as_array().context("no data")?;
    ensure!(
        list["first_id"] == data[0]["id"] && list["last_id"] == data[1]["id"],
        "first_id {} / last_id {} for the page",
        list["first_id"],
        list["last_id"]
    );
    Ok(())
}

#[harness::test(
    marks(conversations),
    xfail(
        reason = "llama-stack 0.7.3 answers has_more: false for a page that leaves items out (fixed in OGX 1.5)",
        contains = "has_more false with 2 of 4 items listed",
        stacks = "llama-stack"
    )
)]
async fn partial_page_says_there_is_more(ctx: &TestContext) -> Result {
    let id = four(ctx).await?;
    let list = page(ctx, &id, "?order=asc&limit=2").await?;
    ensure!(
        list["has_more"] == true,
        "has_more {} with 2 of 4 items listed",
        list["has_more"]
    );
    Ok(())
}

#[harness::test(
    marks(conversations),
    xfail(
        reason = "llama-stack 0.7.3 ignores `after` when listing conversation items: the next page repeats the first (fixed in OGX 1.5)",
        contains = r#"the page after b is ["a", "b"]"#,
        stacks = "llama-stack"
    )
)]
async fn after_gives_the_next_page(ctx: &TestContext) -> Result {
    let id = four(ctx).await?;
    let first = page(ctx, &id, "?order=asc&limit=2").await?;
    let last = first["last_id"].as_str().context("no last_id")?;
    let next = page(ctx, &id, &format!("?order=asc&limit=2&after={last}")).await?;
    ensure!(
        contents(&next) == ["c", "d"],
        "the page after b is {:?}",
        contents(&next)
    );
    Ok(())
}

#[harness::test(marks(conversations))]
async fn include_takes_the_openai_values(ctx: &TestContext) -> Result {
    let id = four(ctx).await?;
    let list = page(ctx, &id, "?order=asc&include=message.output_text.logprobs").await?;
    ensure!(contents(&list) == FOUR, "listed {:?}", contents(&list));
    Ok(())
}

#[harness::test(marks(conversations, errors))]
async fn unknown_include_value_is_a_400_listing_the_known(ctx: &TestContext) -> Result {
    let id = four(ctx).await?;
    ctx.get(&format!("/v1/conversations/{id}/items?include=no.such.field"))
        .await?
        .expect_error(400, &["include", "'message.output_text.logprobs'"])
}

#[harness::test(marks(conversations))]
async fn function_call_items_keep_their_fields(ctx: &TestContext) -> Result {
    let id = with_items(ctx, json!([])).await?;
    let call = json!({"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": "{\"city\": \"Paris\"}"});
    let output = json!({"type": "function_call_output", "call_id": "call_1", "output": "sunny"});
    let added = ctx
        .post_ok(
            &format!("/v1/conversations/{id}/items"),
            &json!({"items": [call, output]}),
        )
        .await?;
    let data = added["data"].as_array().context("no data")?;
    ensure!(data.len() == 2, "{} items added", data.len());
    for (item, sent) in data.iter().zip([&call, &output]) {
        for (key, value) in sent.as_object().context("not an object")? {
            ensure!(item[key] == *value, "{key} stored as {}, sent {value}", item[key]);
        }
        ensure!(
            item["id"].as_str().is_some_and(|i| i.starts_with("item_")),
            "item id {}",
            item["id"]
        );
    }
    let read = ctx
        .get_ok(&format!("/v1/conversations/{id}/items/{}", data[0]["id"].as_str().unwrap_or_default()))
        .await?;
    ensure!(read == data[0], "read back {read}, added {}", data[0]);
    Ok(())
}

#[harness::test(marks(conversations))]
async fn message_with_text_parts_is_kept(ctx: &TestContext) -> Result {
    let parts = json!([{"type": "input_text", "text": "Hello"}, {"type": "input_text", "text": "there"}]);
    let id = with_items(ctx, json!([{"type": "message", "role": "user", "content": parts}])).await?;
    let list = page(ctx, &id, "").await?;
    ensure!(
        list["data"][0]["content"] == parts,
        "stored as {}",
        list["data"][0]["content"]
    );
    Ok(())
}

#[harness::test(marks(conversations))]
async fn adding_no_items_answers_an_empty_list(ctx: &TestContext) -> Result {
    let id = four(ctx).await?;
    let added = ctx
        .post_ok(&format!("/v1/conversations/{id}/items"), &json!({"items": []}))
        .await?;
    ensure!(
        added["data"].as_array().is_some_and(Vec::is_empty),
        "added {added}"
    );
    ensure!(contents(&page(ctx, &id, "").await?).len() == 4, "the items changed");
    Ok(())
}

#[harness::test(marks(conversations))]
async fn deleted_item_answers_its_id_and_is_gone(ctx: &TestContext) -> Result {
    let id = four(ctx).await?;
    let list = page(ctx, &id, "?order=asc").await?;
    let item = list["data"][0]["id"].as_str().context("no id")?.to_owned();
    let path = format!("/v1/conversations/{id}/items/{item}");
    let deleted = ctx.delete(&path).await?.ok()?;
    // llama-stack 0.7.3 answers the deleted item; OGX 1.5 answers the
    // conversation, as OpenAI's API does.
    let answered = match ctx.stack()?.launcher() {
        LauncherKind::LlamaStack => {
            deleted["object"] == "conversation.item.deleted"
                && deleted["id"] == item.as_str()
                && deleted["deleted"] == true
        }
        LauncherKind::Ogx => deleted["object"] == "conversation" && deleted["id"] == id.as_str(),
    };
    ensure!(answered, "delete answered {deleted}");
    ctx.get(&path).await?.expect_error(404, &[&item])?;
    ctx.delete(&path).await?.expect_error(404, &[&item, &id])
}

#[harness::test(marks(conversations))]
async fn deleted_conversation_answers_its_id_and_loses_its_items(ctx: &TestContext) -> Result {
    let id = four(ctx).await?;
    let deleted = ctx.delete(&format!("/v1/conversations/{id}")).await?.ok()?;
    ensure!(
        deleted["object"] == "conversation.deleted" && deleted["id"] == id.as_str(),
        "delete answered {deleted}"
    );
    ctx.get(&format!("/v1/conversations/{id}/items"))
        .await?
        .expect_error(404, &[&id])?;
    ctx.delete(&format!("/v1/conversations/{id}"))
        .await?
        .expect_error(404, &[&id])
}

// Create, add, read, update, delete an item, delete: upstream's full workflow.
#[harness::test(marks(conversations))]
async fn full_workflow_keeps_every_step(ctx: &TestContext) -> Result {
    let created = ctx
        .post_ok(
            "/v1/conversations",
            &json!({"metadata": {"step": "created"}, "items": [message("hello")]}),
        )
        .await?;
    let id = created["id"].as_str().context("no id")?.to_owned();
    ctx.defer_delete(format!("/v1/conversations/{id}"));
    ctx.post_ok(
        &format!("/v1/conversations/{id}/items"),
        &json!({"items": [message("world")]}),
    )
    .await?;
    let updated = ctx
        .post_ok(&format!("/v1/conversations/{id}"), &json!({"metadata": {"step": "updated"}}))
        .await?;
    ensure!(updated["metadata"]["step"] == "updated", "update answered {updated}");
    let list = page(ctx, &id, "?order=asc").await?;
    ensure!(contents(&list) == ["hello", "world"], "items {:?}", contents(&list));
    let first = list["data"][0]["id"].as_str().context("no id")?;
    ctx.delete(&format!("/v1/conversations/{id}/items/{first}")).await?.ok()?;
    let left = page(ctx, &id, "").await?;
    ensure!(contents(&left) == ["world"], "left {:?}", contents(&left));
    let read = ctx.get_ok(&format!("/v1/conversations/{id}")).await?;
    ensure!(
        read["metadata"] == json!({"step": "updated"}) && read["created_at"] == created["created_at"],
        "read back {read}"
    );
    ctx.delete(&format!("/v1/conversations/{id}")).await?.ok()?;
    ctx.get(&format!("/v1/conversations/{id}"))
        .await?
        .expect_error(404, &[&id])
}

#[harness::test(marks(conversations, errors))]
async fn unknown_item_type_is_a_400_listing_the_types(ctx: &TestContext) -> Result {
    let id = four(ctx).await?;
    ctx.post(
        &format!("/v1/conversations/{id}/items"),
        &json!({"items": [{"type": "no_such_item"}]}),
    )
    .await?
    .expect_error(400, &["no_such_item", "'message'", "'function_call'"])
}

#[harness::test(marks(conversations, errors))]
async fn unknown_item_is_a_404_naming_both_ids(ctx: &TestContext) -> Result {
    let id = four(ctx).await?;
    let item = format!("msg_{}", "0".repeat(48));
    ctx.get(&format!("/v1/conversations/{id}/items/{item}"))
        .await?
        .expect_error(404, &[&item, &id])
}

#[harness::test(marks(conversations, errors))]
async fn items_of_an_unknown_conversation_are_a_404(ctx: &TestContext) -> Result {
    let missing = format!("conv_{}", "0".repeat(48));
    ctx.get(&format!("/v1/conversations/{missing}/items"))
        .await?
        .expect_error(404, &[&missing])
}

#[harness::test(marks(conversations, errors))]
async fn updating_an_unknown_conversation_is_a_404(ctx: &TestContext) -> Result {
    let missing = format!("conv_{}", "0".repeat(48));
    ctx.post(
        &format!("/v1/conversations/{missing}"),
        &json!({"metadata": {"a": "b"}}),
    )
    .await?
    .expect_error(404, &[&missing])
}

#[harness::test(marks(conversations, errors))]
async fn adding_to_an_unknown_conversation_is_a_404(ctx: &TestContext) -> Result {
    let missing = format!("conv_{}", "0".repeat(48));
    ctx.post(
        &format!("/v1/conversations/{missing}/items"),
        &json!({"items": [message("hello")]}),
    )
    .await?
    .expect_error(404, &[&missing])
}
