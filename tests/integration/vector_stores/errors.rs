//! Bad requests to vector stores, answered with an error that names what is
//! wrong. llama-stack 0.7.3 answers a store that does not exist with 400
//! (OpenAI says 404; `stores::unknown_store_is_404_naming_it` keeps that
//! known), so these pin 400 and the message.

use harness::prelude::*;

use super::kb::{DOCUMENTS, create_store, upload_text};

const NO_STORE: &str = "vs_00000000-0000-0000-0000-000000000000";

#[harness::test(marks(vector_stores, errors))]
async fn the_files_of_an_unknown_store_are_refused_naming_it(ctx: &TestContext) -> Result {
    ctx.get(&format!("/v1/vector_stores/{NO_STORE}/files"))
        .await?
        .expect_error(400, &[NO_STORE, "not found"])
}

#[harness::test(marks(vector_stores, errors))]
async fn searching_an_unknown_store_is_refused_naming_it(ctx: &TestContext) -> Result {
    ctx.post(
        &format!("/v1/vector_stores/{NO_STORE}/search"),
        &json!({"query": "anything"}),
    )
    .await?
    .expect_error(400, &[NO_STORE, "not found"])
}

#[harness::test(marks(vector_stores, errors))]
async fn a_batch_for_an_unknown_store_is_refused_naming_it(ctx: &TestContext) -> Result {
    ctx.post(
        &format!("/v1/vector_stores/{NO_STORE}/file_batches"),
        &json!({"file_ids": ["file-00000000000000000000000000000000"]}),
    )
    .await?
    .expect_error(400, &[NO_STORE, "not found"])
}

#[harness::test(vector_io, embedding_model, marks(vector_stores, errors))]
async fn an_unknown_search_mode_is_refused_naming_the_modes(ctx: &TestContext) -> Result {
    let store = create_store(ctx, "bad-mode").await?;
    ctx.post(
        &format!("/v1/vector_stores/{store}/search"),
        &json!({"query": "anything", "search_mode": "fuzzy"}),
    )
    .await?
    .expect_error(400, &["search_mode must be one of", "fuzzy"])
}

#[harness::test(vector_io, embedding_model, marks(vector_stores, errors))]
async fn a_file_not_in_the_store_is_refused_naming_both(ctx: &TestContext) -> Result {
    let store = create_store(ctx, "not-attached").await?;
    let (name, text) = DOCUMENTS[0];
    let file = upload_text(ctx, name, text).await?;
    ctx.get(&format!("/v1/vector_stores/{store}/files/{file}"))
        .await?
        .expect_error(
            400,
            &[&format!("File {file} not found in vector store {store}")],
        )
}

// The chunk API parses filters before it searches, so a bad one is an
// error there; the OpenAI search parses them inside the part whose errors
// the stack turns into an empty page.
#[harness::test(vector_io, embedding_model, marks(vector_stores, errors, filters))]
async fn an_invalid_filter_is_refused_by_the_chunk_api(ctx: &TestContext) -> Result {
    let store = create_store(ctx, "bad-filter").await?;
    ctx.post(
        "/v1/vector-io/query",
        &json!({
            "vector_store_id": store,
            "query": "capital",
            "params": {"filters": {"type": "near", "key": "topic", "value": "ai"}},
        }),
    )
    .await?
    .expect_error(400, &["Invalid filter"])
}

// The stack accepts the attachment and records its failure on the file, as
// OpenAI does for a file that cannot be processed.
#[harness::test(vector_io, marks(vector_stores, errors))]
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
