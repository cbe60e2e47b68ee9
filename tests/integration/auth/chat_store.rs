//! The inference store: a chat completion alice made is hers. Another user
//! does not find it (llama-stack 0.7.3 answers 400 for a completion it does
//! not have, see `inference::store`) nor list it. Alice's completion is the
//! request `inference::store` records, so it replays from that recording.

use harness::prelude::*;

use super::users::{alice_and_bob, id_of, ids};
use crate::common::{chat_request, user};

#[harness::test(text_model, marks(auth, chat))]
async fn another_user_cannot_read_or_list_a_stored_completion(ctx: &TestContext) -> Result {
    let (alice, bob) = alice_and_bob(ctx, "chat-store");
    let body = chat_request(
        ctx,
        json!([user("Name a fruit that is yellow.")]),
        json!({"max_tokens": 12}),
    );
    let id = id_of(&alice.post_ok("/v1/chat/completions", &body).await?)?;
    let missing = format!("Chat completion with id {id} not found");
    bob.get(&format!("/v1/chat/completions/{id}"))
        .await?
        .expect_message(400, &missing)?;
    let listed = ids(&bob.get_ok("/v1/chat/completions").await?)?;
    ensure!(!listed.contains(&id), "bob lists alice's completion: {listed:?}");
    let stored = alice.get_ok(&format!("/v1/chat/completions/{id}")).await?;
    ensure!(stored["id"] == id.as_str(), "alice got {stored}");
    let listed = ids(&alice.get_ok("/v1/chat/completions").await?)?;
    ensure!(listed == [id.clone()], "alice lists {listed:?}; she made {id}");
    Ok(())
}
