//! Another user can neither read, list, continue nor delete alice's
//! response (upstream's TestResponsesAccessControl, 6 checks), nor answer
//! into her conversation: to them it does not exist. Alice's response is
//! the same request `responses::basic` records, so it replays from the same
//! recording.

use harness::prelude::*;

use super::users::{alice_and_bob, id_of, ids};
use crate::responses::support::request;

const QUESTION: &str = "What is the capital of France?";

/// Alice's completed response; its id.
async fn alices(ctx: &TestContext, alice: &harness::Client<'_>) -> Result<String> {
    let response = alice.post_ok("/v1/responses", &request(ctx, QUESTION, json!({}))).await?;
    ensure!(response["status"] == "completed", "alice's response: {response}");
    let id = id_of(&response)?;
    alice.defer_delete(format!("/v1/responses/{id}"));
    Ok(id)
}

fn not_found(id: &str) -> String {
    format!("Response '{id}' not found. Use 'client.responses.list()' to list available Responses.")
}

#[harness::test(text_model, marks(auth, responses))]
async fn another_user_cannot_retrieve_it(ctx: &TestContext) -> Result {
    let (alice, bob) = alice_and_bob(ctx, "resp-get");
    let id = alices(ctx, &alice).await?;
    bob.get(&format!("/v1/responses/{id}"))
        .await?
        .expect_message(404, &not_found(&id))
}

#[harness::test(text_model, marks(auth, responses))]
async fn another_user_cannot_delete_it(ctx: &TestContext) -> Result {
    let (alice, bob) = alice_and_bob(ctx, "resp-delete");
    let id = alices(ctx, &alice).await?;
    bob.delete(&format!("/v1/responses/{id}"))
        .await?
        .expect_message(404, &not_found(&id))?;
    alice.get_ok(&format!("/v1/responses/{id}")).await?;
    Ok(())
}

#[harness::test(text_model, marks(auth, responses))]
async fn users_list_only_their_own_responses(ctx: &TestContext) -> Result {
    let (alice, bob) = alice_and_bob(ctx, "resp-list");
    let id = alices(ctx, &alice).await?;
    let listed = ids(&alice.get_ok("/v1/responses").await?)?;
    ensure!(listed == [id.clone()], "alice lists {listed:?}; she made {id}");
    let listed = ids(&bob.get_ok("/v1/responses").await?)?;
    ensure!(listed.is_empty(), "bob lists {listed:?}");
    Ok(())
}

#[harness::test(text_model, marks(auth, responses))]
async fn the_owner_still_has_it_after_a_denial(ctx: &TestContext) -> Result {
    let (alice, bob) = alice_and_bob(ctx, "resp-after");
    let id = alices(ctx, &alice).await?;
    bob.get(&format!("/v1/responses/{id}"))
        .await?
        .expect_message(404, &not_found(&id))?;
    let response = alice.get_ok(&format!("/v1/responses/{id}")).await?;
    ensure!(response["id"] == id.as_str(), "alice got {response}");
    Ok(())
}

#[harness::test(text_model, marks(auth, responses))]
async fn another_user_cannot_list_its_input_items(ctx: &TestContext) -> Result {
    let (alice, bob) = alice_and_bob(ctx, "resp-items");
    let id = alices(ctx, &alice).await?;
    bob.get(&format!("/v1/responses/{id}/input_items"))
        .await?
        .expect_message(404, &not_found(&id))?;
    alice.get_ok(&format!("/v1/responses/{id}/input_items")).await?;
    Ok(())
}

#[harness::test(text_model, marks(auth, responses))]
async fn another_user_cannot_continue_it(ctx: &TestContext) -> Result {
    let (alice, bob) = alice_and_bob(ctx, "resp-continue");
    let id = alices(ctx, &alice).await?;
    // Refused before any model call: nothing to record.
    let body = request(ctx, "And of Italy?", json!({"previous_response_id": id}));
    bob.post("/v1/responses", &body)
        .await?
        .expect_message(404, &not_found(&id))
}

#[harness::test(text_model, marks(auth, responses, conversations))]
async fn another_user_cannot_answer_into_their_conversation(ctx: &TestContext) -> Result {
    let (alice, bob) = alice_and_bob(ctx, "resp-conversation");
    let conversation = id_of(&alice.post_ok("/v1/conversations", &json!({})).await?)?;
    alice.defer_delete(format!("/v1/conversations/{conversation}"));
    let body = request(ctx, QUESTION, json!({"conversation": conversation}));
    bob.post("/v1/responses", &body)
        .await?
        .expect_message(404, &format!("Conversation '{conversation}' not found."))?;
    let items = alice
        .get_ok(&format!("/v1/conversations/{conversation}/items"))
        .await?;
    ensure!(items["data"] == json!([]), "bob's input reached alice's conversation: {items}");
    Ok(())
}
