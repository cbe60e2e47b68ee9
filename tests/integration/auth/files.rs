//! Files are their owner's (upstream's CI checks 4-11): each user lists only
//! their own, another user's file looks like one that does not exist, and
//! an auditor may not delete even their own.

use harness::prelude::*;
use harness::reqwest::multipart::{Form, Part};

use super::users::{alice_and_bob, id_of, ids, named};

async fn upload(client: &harness::Client<'_>, text: &str) -> Result<String> {
    let part = Part::bytes(text.as_bytes().to_vec()).file_name("auth.txt");
    let form = Form::new().text("purpose", "assistants").part("file", part);
    let id = id_of(&client.post_multipart("/v1/files", form).await?.ok()?)?;
    client.defer_delete(format!("/v1/files/{id}"));
    Ok(id)
}

fn not_found(id: &str) -> String {
    format!("File '{id}' not found. Use 'client.files.list()' to list available Files.")
}

#[harness::test(marks(auth, files))]
async fn each_user_lists_only_their_own_files(ctx: &TestContext) -> Result {
    let (alice, bob) = alice_and_bob(ctx, "files-list");
    let a = upload(&alice, "from alice").await?;
    let b = upload(&bob, "from bob").await?;
    ensure!(a != b, "one id for both uploads");
    let listed = ids(&alice.get_ok("/v1/files").await?)?;
    ensure!(listed == [a.clone()], "alice lists {listed:?}; she uploaded {a}");
    let listed = ids(&bob.get_ok("/v1/files").await?)?;
    ensure!(listed == [b.clone()], "bob lists {listed:?}; he uploaded {b}");
    Ok(())
}

#[harness::test(marks(auth, files))]
async fn another_users_file_is_not_found(ctx: &TestContext) -> Result {
    let (alice, bob) = alice_and_bob(ctx, "files-other");
    let a = upload(&alice, "from alice").await?;
    for path in [format!("/v1/files/{a}"), format!("/v1/files/{a}/content")] {
        bob.get(&path).await?.expect_message(404, &not_found(&a))?;
    }
    bob.delete(&format!("/v1/files/{a}"))
        .await?
        .expect_message(404, &not_found(&a))?;
    // Bob's attempt changed nothing: alice still reads it.
    let content = alice.get_bytes(&format!("/v1/files/{a}/content")).await?.ok()?;
    ensure!(content == b"from alice", "alice's file now holds {content:?}");
    Ok(())
}

#[harness::test(marks(auth, files))]
async fn owners_delete_their_own_files(ctx: &TestContext) -> Result {
    let (alice, bob) = alice_and_bob(ctx, "files-delete");
    let a = upload(&alice, "from alice").await?;
    let b = upload(&bob, "from bob").await?;
    alice
        .delete(&format!("/v1/files/{b}"))
        .await?
        .expect_message(404, &not_found(&b))?;
    let deleted = alice.delete(&format!("/v1/files/{a}")).await?.ok()?;
    ensure!(
        deleted == json!({"id": a, "object": "file", "deleted": true}),
        "deleting her own file answered {deleted}"
    );
    alice
        .get(&format!("/v1/files/{a}"))
        .await?
        .expect_message(404, &not_found(&a))?;
    bob.get_ok(&format!("/v1/files/{b}")).await?;
    Ok(())
}

#[harness::test(marks(auth, files))]
async fn auditors_cannot_delete_even_their_own_files(ctx: &TestContext) -> Result {
    let auditor = ctx.as_user(named("erin", "files-auditor").roles(["user", "auditor"]));
    let id = upload(&auditor, "kept").await?;
    auditor
        .delete(&format!("/v1/files/{id}"))
        .await?
        .expect_message(404, &not_found(&id))?;
    let listed = ids(&auditor.get_ok("/v1/files").await?)?;
    ensure!(listed == [id.clone()], "the auditor lists {listed:?}");
    Ok(())
}
