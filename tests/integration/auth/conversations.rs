//! Another user can neither read, change, extend nor delete alice's
//! conversation (upstream's TestConversationAccessControl, 7 checks): to
//! them it does not exist. No model call.

use harness::prelude::*;

use super::users::{alice_and_bob, id_of};

fn message(text: &str) -> Value {
    json!({"type": "message", "role": "user", "content": text})
}

/// Alice's conversation with one item; its id.
async fn alices(alice: &harness::Client<'_>) -> Result<String> {
    let body = json!({"metadata": {"owner": "alice"}, "items": [message("alice's secret")]});
    let id = id_of(&alice.post_ok("/v1/conversations", &body).await?)?;
    alice.defer_delete(format!("/v1/conversations/{id}"));
    Ok(id)
}

fn not_found(id: &str) -> String {
    format!("Conversation '{id}' not found.")
}

#[harness::test(marks(auth, conversations))]
async fn another_user_cannot_retrieve_it(ctx: &TestContext) -> Result {
    let (alice, bob) = alice_and_bob(ctx, "conv-get");
    let id = alices(&alice).await?;
    bob.get(&format!("/v1/conversations/{id}"))
        .await?
        .expect_message(404, &not_found(&id))
}

#[harness::test(marks(auth, conversations))]
async fn another_user_cannot_update_it(ctx: &TestContext) -> Result {
    let (alice, bob) = alice_and_bob(ctx, "conv-update");
    let id = alices(&alice).await?;
    bob.post(&format!("/v1/conversations/{id}"), &json!({"metadata": {"owner": "bob"}}))
        .await?
        .expect_message(404, &not_found(&id))?;
    let conversation = alice.get_ok(&format!("/v1/conversations/{id}")).await?;
    ensure!(
        conversation["metadata"] == json!({"owner": "alice"}),
        "bob's update reached it: {conversation}"
    );
    Ok(())
}

#[harness::test(marks(auth, conversations))]
async fn another_user_cannot_delete_it(ctx: &TestContext) -> Result {
    let (alice, bob) = alice_and_bob(ctx, "conv-delete");
    let id = alices(&alice).await?;
    bob.delete(&format!("/v1/conversations/{id}"))
        .await?
        .expect_message(404, &not_found(&id))?;
    alice.get_ok(&format!("/v1/conversations/{id}")).await?;
    Ok(())
}

#[harness::test(marks(auth, conversations))]
async fn another_user_cannot_list_its_items(ctx: &TestContext) -> Result {
    let (alice, bob) = alice_and_bob(ctx, "conv-items");
    let id = alices(&alice).await?;
    bob.get(&format!("/v1/conversations/{id}/items"))
        .await?
        .expect_message(404, &not_found(&id))
}

#[harness::test(marks(auth, conversations))]
async fn another_user_cannot_add_items(ctx: &TestContext) -> Result {
    let (alice, bob) = alice_and_bob(ctx, "conv-add");
    let id = alices(&alice).await?;
    bob.post(
        &format!("/v1/conversations/{id}/items"),
        &json!({"items": [message("bob was here")]}),
    )
    .await?
    .expect_message(404, &not_found(&id))?;
    let items = alice.get_ok(&format!("/v1/conversations/{id}/items")).await?;
    let count = items["data"].as_array().map(Vec::len);
    ensure!(count == Some(1), "alice's conversation now has {count:?} items: {items}");
    Ok(())
}

#[harness::test(marks(auth, conversations))]
async fn users_have_isolated_conversations(ctx: &TestContext) -> Result {
    let (alice, bob) = alice_and_bob(ctx, "conv-isolated");
    let a = alices(&alice).await?;
    let b = id_of(&bob.post_ok("/v1/conversations", &json!({})).await?)?;
    bob.defer_delete(format!("/v1/conversations/{b}"));
    alice.get_ok(&format!("/v1/conversations/{a}")).await?;
    bob.get_ok(&format!("/v1/conversations/{b}")).await?;
    alice
        .get(&format!("/v1/conversations/{b}"))
        .await?
        .expect_message(404, &not_found(&b))?;
    bob.get(&format!("/v1/conversations/{a}"))
        .await?
        .expect_message(404, &not_found(&a))
}

#[harness::test(marks(auth, conversations))]
async fn the_owner_still_has_it_after_a_denial(ctx: &TestContext) -> Result {
    let (alice, bob) = alice_and_bob(ctx, "conv-after");
    let id = alices(&alice).await?;
    bob.get(&format!("/v1/conversations/{id}"))
        .await?
        .expect_message(404, &not_found(&id))?;
    let items = alice.get_ok(&format!("/v1/conversations/{id}/items")).await?;
    ensure!(
        items["data"][0]["content"][0]["text"] == "alice's secret"
            || items["data"][0]["content"] == "alice's secret",
        "alice's item is gone: {items}"
    );
    let deleted = alice.delete(&format!("/v1/conversations/{id}")).await?.ok()?;
    ensure!(deleted["deleted"] == true, "alice's delete answered {deleted}");
    Ok(())
}
