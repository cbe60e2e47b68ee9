//! File batches: many files attached in one request, processed in the
//! background. Every test waits for its batch to settle, so that the
//! embeddings it asks for happen while the test runs (and are recorded and
//! replayed as its own).

use harness::prelude::*;

use super::kb::{DOCUMENTS, as_stored, create_store, id_of, list_ids, same, set, upload_text};
use crate::wait;

/// A file batch's `object`: llama-stack 0.7.3 names it
/// `vector_store.file_batch`; OGX 1.5 `vector_store.files_batch`, as
/// OpenAI's API does.
fn batch_object(ctx: &TestContext) -> Result<&'static str> {
    Ok(match ctx.stack()?.launcher() {
        LauncherKind::LlamaStack => "vector_store.file_batch",
        LauncherKind::Ogx => "vector_store.files_batch",
    })
}

/// Uploads the three documents; their ids.
async fn upload_documents(ctx: &TestContext) -> Result<Vec<String>> {
    let mut ids = Vec::new();
    for (name, text) in DOCUMENTS {
        ids.push(upload_text(ctx, name, text).await?);
    }
    Ok(ids)
}

/// Creates a batch of `file_ids` (with `extra` in the body) in `store`.
async fn create_batch(
    ctx: &TestContext,
    store: &str,
    file_ids: &[String],
    extra: Value,
) -> Result<Value> {
    let mut body = json!({"file_ids": file_ids});
    if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), extra) {
        body.extend(extra);
    }
    ctx.post_ok(&format!("/v1/vector_stores/{store}/file_batches"), &body)
        .await
}

/// A new store, the three documents uploaded, and a batch of them (with
/// `extra` in its body) settled: the store's id, the files' ids, the batch.
async fn settled_batch_of_documents(
    ctx: &TestContext,
    name: &str,
    extra: Value,
) -> Result<(String, Vec<String>, Value)> {
    let store = create_store(ctx, name).await?;
    let files = upload_documents(ctx).await?;
    let batch = id_of(&create_batch(ctx, &store, &files, extra).await?)?;
    let settled = settled(ctx, &store, &batch).await?;
    Ok((store, files, settled))
}

/// Waits until the batch is no longer in progress; the batch then.
async fn settled(ctx: &TestContext, store: &str, batch: &str) -> Result<Value> {
    let path = format!("/v1/vector_stores/{store}/file_batches/{batch}");
    wait::until("the file batch to settle", || async {
        let batch = ctx.get_ok(&path).await?;
        Ok((batch["status"] != "in_progress").then_some(batch))
    })
    .await
}

#[harness::test(
    vector_io,
    embedding_model,
    needs(file_batches),
    marks(vector_stores, files, batches)
)]
async fn a_batch_attaches_every_file_and_completes(ctx: &TestContext) -> Result {
    let store = create_store(ctx, "batch").await?;
    let files = upload_documents(ctx).await?;
    let created = create_batch(ctx, &store, &files, json!({})).await?;
    let id = id_of(&created)?;
    ensure!(
        created["object"] == batch_object(ctx)?
            && created["vector_store_id"] == store.as_str()
            && created["file_counts"]["total"] == 3,
        "create answered {created}"
    );
    ensure!(
        created["status"] == "in_progress" || created["status"] == "completed",
        "a new batch is {}",
        created["status"]
    );
    ensure!(created["created_at"].is_u64(), "no created_at: {created}");
    let done = settled(ctx, &store, &id).await?;
    ensure!(
        done["id"] == id.as_str() && done["status"] == "completed",
        "the batch settled as {done}"
    );
    let counts = &done["file_counts"];
    ensure!(
        counts["completed"] == 3 && counts["failed"] == 0 && counts["in_progress"] == 0,
        "the batch's counts {counts}"
    );
    let store = ctx.get_ok(&format!("/v1/vector_stores/{store}")).await?;
    ensure!(
        store["file_counts"]["completed"] == 3,
        "the store's counts {}",
        store["file_counts"]
    );
    Ok(())
}

#[harness::test(
    vector_io,
    embedding_model,
    needs(file_batches),
    marks(vector_stores, files, batches)
)]
async fn a_batch_lists_its_files_in_pages(ctx: &TestContext) -> Result {
    let (store, files, batch) = settled_batch_of_documents(ctx, "batch-list", json!({})).await?;
    let path = format!(
        "/v1/vector_stores/{store}/file_batches/{}/files",
        id_of(&batch)?
    );
    let all = ctx.get_ok(&path).await?;
    ensure!(
        all["object"] == "list" && all["has_more"] == false,
        "list {all}"
    );
    ensure!(
        set(&list_ids(&all)?) == set(&files),
        "the batch lists {:?}",
        list_ids(&all)?
    );
    let first = ctx.get_ok(&format!("{path}?limit=2")).await?;
    let first_ids = list_ids(&first)?;
    ensure!(
        first_ids.len() == 2 && first["has_more"] == true,
        "limit=2 gave {first_ids:?}, has_more {}",
        first["has_more"]
    );
    let rest = ctx
        .get_ok(&format!("{path}?limit=2&after={}", first_ids[1]))
        .await?;
    let rest_ids = list_ids(&rest)?;
    ensure!(
        rest_ids.len() == 1 && !first_ids.contains(&rest_ids[0]),
        "the page after {first_ids:?} gave {rest_ids:?}"
    );
    Ok(())
}

#[harness::test(
    vector_io,
    embedding_model,
    needs(file_batches),
    marks(vector_stores, files, batches)
)]
async fn batch_files_hold_their_text(ctx: &TestContext) -> Result {
    let (store, files, done) = settled_batch_of_documents(ctx, "batch-content", json!({})).await?;
    ensure!(done["status"] == "completed", "the batch settled as {done}");
    for (file, (name, text)) in files.iter().zip(DOCUMENTS) {
        let content = ctx
            .get_ok(&format!("/v1/vector_stores/{store}/files/{file}/content"))
            .await?;
        let read: String = content["data"]
            .as_array()
            .context("no `data`")?
            .iter()
            .filter_map(|c| c["text"].as_str())
            .collect();
        ensure!(
            read == as_stored(ctx, text)?,
            "{name} reads back as {read:?}"
        );
    }
    Ok(())
}

#[harness::test(
    vector_io,
    embedding_model,
    needs(file_batches),
    marks(vector_stores, files, batches)
)]
async fn a_batchs_attributes_reach_every_file(ctx: &TestContext) -> Result {
    let attributes = json!({"team": "qa", "sprint": 7});
    let (store, files, _) =
        settled_batch_of_documents(ctx, "batch-attributes", json!({"attributes": attributes}))
            .await?;
    for file in &files {
        let attached = ctx
            .get_ok(&format!("/v1/vector_stores/{store}/files/{file}"))
            .await?;
        ensure!(
            same(&attached["attributes"], &attributes),
            "{file} has attributes {}",
            attached["attributes"]
        );
    }
    let page = ctx
        .post_ok(
            &format!("/v1/vector_stores/{store}/search"),
            &json!({"query": "What is the capital of France?", "max_num_results": 3}),
        )
        .await?;
    for result in page["data"].as_array().context("no `data`")? {
        ensure!(
            result["attributes"]["team"] == "qa"
                && same(&result["attributes"]["sprint"], &json!(7)),
            "a result's attributes {}",
            result["attributes"]
        );
    }
    Ok(())
}

#[harness::test(
    vector_io,
    embedding_model,
    needs(file_batches),
    marks(vector_stores, files, batches)
)]
async fn a_running_batch_can_be_cancelled(ctx: &TestContext) -> Result {
    // The files are attached to another store first, so every embedding the
    // batch may ask for is one this test has already made: however far the
    // batch gets before the cancel lands, it replays.
    let warm = create_store(ctx, "batch-warm").await?;
    let files = upload_documents(ctx).await?;
    for file in &files {
        ctx.post_ok(
            &format!("/v1/vector_stores/{warm}/files"),
            &json!({"file_id": file}),
        )
        .await?;
    }
    let store = create_store(ctx, "batch-cancel").await?;
    let batch = id_of(&create_batch(ctx, &store, &files, json!({})).await?)?;
    let cancel = ctx
        .post(
            &format!("/v1/vector_stores/{store}/file_batches/{batch}/cancel"),
            &json!({}),
        )
        .await?;
    // Whether the cancel finds the batch still running is a race the test
    // cannot decide; both outcomes are checked.
    if cancel.status == 200 {
        let cancelled = cancel.ok()?;
        ensure!(
            cancelled["id"] == batch.as_str()
                && cancelled["object"] == batch_object(ctx)?
                && cancelled["status"] == "cancelled",
            "cancel answered {cancelled}"
        );
        let later = settled(ctx, &store, &batch).await?;
        ensure!(
            later["status"] == "cancelled",
            "a cancelled batch went on to {}",
            later["status"]
        );
    } else {
        cancel.expect_error(400, &[&batch, "status completed"])?;
    }
    Ok(())
}

#[harness::test(
    vector_io,
    embedding_model,
    needs(file_batches),
    marks(vector_stores, files, batches, errors)
)]
async fn cancelling_a_finished_batch_is_refused_naming_its_status(ctx: &TestContext) -> Result {
    let store = create_store(ctx, "batch-finished").await?;
    let files = upload_documents(ctx).await?;
    let batch = id_of(&create_batch(ctx, &store, &files[..1], json!({})).await?)?;
    settled(ctx, &store, &batch).await?;
    ctx.post(
        &format!("/v1/vector_stores/{store}/file_batches/{batch}/cancel"),
        &json!({}),
    )
    .await?
    .expect_error(
        400,
        &[&format!(
            "Cannot cancel batch {batch} with status completed"
        )],
    )
}

#[harness::test(
    vector_io,
    needs(file_batches),
    marks(vector_stores, files, batches, errors)
)]
async fn a_batch_of_missing_files_counts_them_failed(ctx: &TestContext) -> Result {
    let store = create_store(ctx, "batch-missing").await?;
    let missing = [
        "file-00000000000000000000000000000001".to_owned(),
        "file-00000000000000000000000000000002".to_owned(),
    ];
    let created = create_batch(ctx, &store, &missing, json!({})).await?;
    ensure!(
        created["file_counts"]["total"] == 2,
        "create answered {created}"
    );
    let done = settled(ctx, &store, &id_of(&created)?).await?;
    let counts = &done["file_counts"];
    ensure!(
        done["status"] == "completed" && counts["failed"] == 2 && counts["completed"] == 0,
        "a batch of missing files settled as {done}"
    );
    Ok(())
}

#[harness::test(vector_io, needs(file_batches), marks(vector_stores, batches, errors))]
async fn an_unknown_batch_is_refused_naming_it(ctx: &TestContext) -> Result {
    let store = create_store(ctx, "batch-unknown").await?;
    let batch = "batch_00000000-0000-0000-0000-000000000000";
    ctx.get(&format!("/v1/vector_stores/{store}/file_batches/{batch}"))
        .await?
        .expect_error(400, &[&format!("File batch {batch} not found")])
}
