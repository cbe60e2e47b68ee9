//! Vector stores and the files attached to them: create, retrieve, update,
//! list and delete.

use harness::prelude::*;

use super::kb::{DOCUMENTS, Kb, create_store};

#[harness::test(embedding_model, marks(vector_stores))]
async fn new_store_is_empty_and_uses_the_default_embedding_model(ctx: &TestContext) -> Result {
    let id = create_store(ctx, "empty").await?;
    let store = ctx.get_ok(&format!("/v1/vector_stores/{id}")).await?;
    ensure!(id.starts_with("vs_"), "id {id} lacks the `vs_` prefix");
    ensure!(
        store["object"] == "vector_store" && store["name"] == "empty",
        "retrieved {store}"
    );
    ensure!(store["status"] == "completed", "status {}", store["status"]);
    ensure!(
        store["file_counts"]["total"] == 0,
        "file_counts {}",
        store["file_counts"]
    );
    let model = &store["metadata"]["embedding_model"];
    ensure!(
        model == ctx.embedding_model(),
        "embedding model {model}, the run-config's default is {}",
        ctx.embedding_model()
    );
    Ok(())
}

#[harness::test(embedding_model, marks(vector_stores, files))]
async fn attached_files_are_counted_and_listed(ctx: &TestContext) -> Result {
    let kb = Kb::create(ctx, "counted", &DOCUMENTS).await?;
    let store = ctx.get_ok(&kb.path("")).await?;
    let counts = &store["file_counts"];
    ensure!(
        counts["total"] == 3 && counts["completed"] == 3,
        "file_counts {counts}"
    );
    let files = ctx.get_ok(&kb.path("/files")).await?;
    let mut listed: Vec<&str> = files["data"]
        .as_array()
        .context("no `data`")?
        .iter()
        .filter_map(|f| f["id"].as_str())
        .collect();
    let mut uploaded: Vec<&str> = kb.files.iter().map(|(_, id)| id.as_str()).collect();
    listed.sort_unstable();
    uploaded.sort_unstable();
    ensure!(
        listed == uploaded,
        "the store lists {listed:?}, uploaded {uploaded:?}"
    );
    Ok(())
}

#[harness::test(embedding_model, marks(vector_stores, files))]
async fn attached_file_content_is_its_chunks(ctx: &TestContext) -> Result {
    let kb = Kb::create(ctx, "content", &DOCUMENTS[..1]).await?;
    let paris = kb.file("paris.txt")?;
    let content = ctx
        .get_ok(&kb.path(&format!("/files/{paris}/content")))
        .await?;
    let text: String = content["data"]
        .as_array()
        .context("no `data`")?
        .iter()
        .filter_map(|c| c["text"].as_str())
        .collect();
    // OGX 1.5 cleans a file's text before chunking it (its file processor
    // collapses whitespace and drops the last newline); llama-stack 0.7.3
    // keeps the text as uploaded.
    let expected = match ctx.stack()?.launcher() {
        LauncherKind::LlamaStack => DOCUMENTS[0].1,
        LauncherKind::Ogx => DOCUMENTS[0].1.trim_end(),
    };
    ensure!(
        text == expected,
        "the store holds {text:?} for paris.txt"
    );
    Ok(())
}

#[harness::test(embedding_model, marks(vector_stores))]
async fn update_renames_and_sets_metadata(ctx: &TestContext) -> Result {
    let id = create_store(ctx, "before").await?;
    let path = format!("/v1/vector_stores/{id}");
    let updated = ctx
        .post_ok(&path, &json!({"name": "after", "metadata": {"team": "qa"}}))
        .await?;
    let stored = ctx.get_ok(&path).await?;
    ensure!(
        updated["name"] == "after" && updated["metadata"]["team"] == "qa",
        "update answered {updated}"
    );
    ensure!(
        stored["name"] == "after" && stored["metadata"]["team"] == "qa",
        "the update did not stick: {stored}"
    );
    Ok(())
}

#[harness::test(embedding_model, marks(vector_stores))]
async fn stores_are_listed_until_deleted(ctx: &TestContext) -> Result {
    let id = create_store(ctx, "listed").await?;
    let listed = |list: &Value| {
        list["data"]
            .as_array()
            .is_some_and(|d| d.iter().any(|s| s["id"] == id.as_str()))
    };
    let before = ctx.get_ok("/v1/vector_stores?limit=100").await?;
    let deleted = ctx.delete(&format!("/v1/vector_stores/{id}")).await?.ok()?;
    let after = ctx.get_ok("/v1/vector_stores?limit=100").await?;
    ensure!(listed(&before), "a new store is not listed");
    ensure!(
        deleted["deleted"] == true && deleted["id"] == id.as_str(),
        "delete answered {deleted}"
    );
    ensure!(!listed(&after), "a deleted store is still listed");
    Ok(())
}

#[harness::test(
    marks(vector_stores, errors),
    xfail(
        reason = "llama-stack 0.7.3 (and OGX 1.5) answers 400, not 404, for a vector store that does not exist",
        status = 400,
        contains = "Vector_store 'vs_00000000-0000-0000-0000-000000000000' not found"
    )
)]
async fn unknown_store_is_404_naming_it(ctx: &TestContext) -> Result {
    let id = "vs_00000000-0000-0000-0000-000000000000";
    ctx.get(&format!("/v1/vector_stores/{id}"))
        .await?
        .expect_error(404, &[id])
}

// The stack accepts the attachment and records its failure on the file, as
// OpenAI does for a file that cannot be processed.
#[harness::test(marks(vector_stores, errors))]
async fn attaching_an_unknown_file_records_a_failure_naming_it(ctx: &TestContext) -> Result {
    let id = create_store(ctx, "unknown-file").await?;
    let path = format!("/v1/vector_stores/{id}");
    let missing = "file-00000000000000000000000000000000";
    let attached = ctx
        .post_ok(&format!("{path}/files"), &json!({"file_id": missing}))
        .await?;
    let store = ctx.get_ok(&path).await?;
    ensure!(
        attached["status"] == "failed",
        "attaching a missing file left it {}",
        attached["status"]
    );
    let message = attached["last_error"]["message"]
        .as_str()
        .context("no last_error message")?;
    ensure!(
        message.contains(missing),
        "the error does not name the file: {message}"
    );
    let counts = &store["file_counts"];
    ensure!(
        counts["failed"] == 1 && counts["completed"] == 0,
        "file_counts {counts}"
    );
    Ok(())
}
