//! A vector store alice made is hers: another user can neither read, list,
//! search, change, fill nor delete it. llama-stack 0.7.3 answers 400 for a
//! vector store it does not have (see `vector_stores::stores`), and that is
//! what another user's looks like. No model call: nothing is embedded.

use harness::prelude::*;

use super::users::{alice_and_bob, id_of, ids};

#[harness::test(marks(auth, vector_stores))]
async fn another_user_cannot_reach_a_vector_store(ctx: &TestContext) -> Result {
    let (alice, bob) = alice_and_bob(ctx, "vs");
    let id = id_of(&alice.post_ok("/v1/vector_stores", &json!({"name": "alice's"})).await?)?;
    alice.defer_delete(format!("/v1/vector_stores/{id}"));
    let missing = format!("Vector_store '{id}' not found");
    let store = format!("/v1/vector_stores/{id}");
    bob.get(&store).await?.expect_message(400, &missing)?;
    bob.get(&format!("{store}/files")).await?.expect_message(400, &missing)?;
    let attempts = [
        (format!("{store}/search"), json!({"query": "secret"})),
        (store.clone(), json!({"name": "bob's now"})),
        (format!("{store}/files"), json!({"file_id": "file-0"})),
    ];
    for (path, body) in &attempts {
        bob.post(path, body)
            .await?
            .expect_message(400, &missing)
            .with_context(|| format!("POST {path}"))?;
    }
    bob.delete(&store).await?.expect_message(400, &missing)?;
    let listed = ids(&bob.get_ok("/v1/vector_stores").await?)?;
    ensure!(!listed.contains(&id), "bob lists alice's store: {listed:?}");

    let own = alice.get_ok(&store).await?;
    ensure!(own["name"] == "alice's", "alice's store after bob's attempts: {own}");
    let listed = ids(&alice.get_ok("/v1/vector_stores").await?)?;
    ensure!(listed == [id.clone()], "alice lists {listed:?}; she made {id}");
    Ok(())
}
