//! Files in a vector store: attach, list, read back, update, detach, and
//! what each does to the store's counts and searches.

use harness::prelude::*;

use super::kb::{DOCUMENTS, Kb, as_stored, create_store, id_of, list_ids, new_store, same, set, upload_text};

/// `file_counts` of the store at `path`, as (completed, failed, total), with
/// the other two counts checked to be 0.
async fn counts(ctx: &TestContext, path: &str) -> Result<(u64, u64, u64)> {
    let store = ctx.get_ok(path).await?;
    let counts = &store["file_counts"];
    let count = |key: &str| {
        counts[key]
            .as_u64()
            .with_context(|| format!("no `{key}` in file_counts {counts}"))
    };
    ensure!(
        count("in_progress")? == 0 && count("cancelled")? == 0,
        "file_counts {counts}"
    );
    Ok((count("completed")?, count("failed")?, count("total")?))
}

#[harness::test(
    vector_io,
    embedding_model,
    marks(vector_stores, files),
    xfail(
        reason = "OGX 1.5 answers a search result's `file_id` with its chunk's document id, a random uuid; the file's id is only in `attributes.file_id`",
        contains = "the result names another file",
        stacks = "ogx"
    )
)]
async fn an_attached_file_is_completed_counted_and_found(ctx: &TestContext) -> Result {
    let store = create_store(ctx, "attach").await?;
    let path = format!("/v1/vector_stores/{store}");
    let file = upload_text(ctx, "secret.txt", "The secret string is foobazbar.\n").await?;
    let attached = ctx
        .post_ok(&format!("{path}/files"), &json!({"file_id": file}))
        .await?;
    ensure!(
        attached["object"] == "vector_store.file"
            && attached["id"] == file.as_str()
            && attached["vector_store_id"] == store.as_str(),
        "attach answered {attached}"
    );
    ensure!(
        attached["status"] == "completed" && attached["last_error"].is_null(),
        "status {} ({})",
        attached["status"],
        attached["last_error"]
    );
    ensure!(
        attached["created_at"].as_u64().is_some_and(|t| t > 0),
        "created_at {}",
        attached["created_at"]
    );
    ensure!(
        attached["chunking_strategy"]["type"].is_string(),
        "no chunking strategy: {attached}"
    );
    let found = counts(ctx, &path).await?;
    ensure!(found == (1, 0, 1), "counts {found:?} after one attachment");
    let page = ctx
        .post_ok(
            &format!("{path}/search"),
            &json!({"query": "What is the secret string?", "max_num_results": 1}),
        )
        .await?;
    let text = page["data"][0]["content"][0]["text"].as_str().unwrap_or("");
    ensure!(
        text.contains("foobazbar"),
        "the search found {page}, not the attached text"
    );
    ensure!(
        page["data"][0]["file_id"] == file.as_str() && page["data"][0]["filename"] == "secret.txt",
        "the result names another file: {}",
        page["data"][0]
    );
    Ok(())
}

#[harness::test(vector_io, embedding_model, marks(vector_stores, files))]
async fn attached_files_are_counted_and_listed(ctx: &TestContext) -> Result {
    let kb = Kb::create(ctx, "counted", &DOCUMENTS).await?;
    let found = counts(ctx, &kb.path("")).await?;
    ensure!(
        found == (3, 0, 3),
        "counts {found:?} after three attachments"
    );
    let listed = list_ids(&ctx.get_ok(&kb.path("/files")).await?)?;
    let uploaded: Vec<&str> = kb.files.iter().map(|(_, id)| id.as_str()).collect();
    ensure!(
        set(&listed) == set(&uploaded),
        "the store lists {listed:?}, uploaded {uploaded:?}"
    );
    Ok(())
}

#[harness::test(vector_io, embedding_model, marks(vector_stores, files))]
async fn files_given_at_creation_are_attached_and_a_missing_one_fails(ctx: &TestContext) -> Result {
    let mut file_ids = Vec::new();
    for (name, text) in DOCUMENTS {
        file_ids.push(upload_text(ctx, name, text).await?);
    }
    let missing = "file-00000000000000000000000000000000";
    let mut asked = file_ids.clone();
    asked.push(missing.to_owned());
    let store = new_store(ctx, json!({"name": "at-creation", "file_ids": asked})).await?;
    let path = format!("/v1/vector_stores/{}", id_of(&store)?);
    let found = counts(ctx, &path).await?;
    ensure!(
        found == (3, 1, 4),
        "counts {found:?} for three files and one missing"
    );
    let files = ctx.get_ok(&format!("{path}/files")).await?;
    for file in files["data"].as_array().context("no `data`")? {
        let expected = if file["id"] == missing {
            "failed"
        } else {
            "completed"
        };
        ensure!(
            file["status"] == expected,
            "{} is {}, expected {expected}",
            file["id"],
            file["status"]
        );
    }
    ensure!(
        set(&list_ids(&files)?) == set(&asked),
        "listed {:?}, asked for {asked:?}",
        list_ids(&files)?
    );
    let failed = list_ids(&ctx.get_ok(&format!("{path}/files?filter=failed")).await?)?;
    ensure!(failed == [missing], "filter=failed listed {failed:?}");
    let detached = ctx.delete(&format!("{path}/files/{missing}")).await?.ok()?;
    ensure!(detached["id"] == missing, "detach answered {detached}");
    let found = counts(ctx, &path).await?;
    ensure!(
        found == (3, 0, 3),
        "counts {found:?} once the failed file is gone"
    );
    Ok(())
}

#[harness::test(vector_io, embedding_model, marks(vector_stores, files))]
async fn listing_files_pages_with_limit_and_after(ctx: &TestContext) -> Result {
    let kb = Kb::create(ctx, "paged-files", &DOCUMENTS).await?;
    let all = ctx.get_ok(&kb.path("/files")).await?;
    ensure!(
        all["object"] == "list" && all["has_more"] == false,
        "list {all}"
    );
    let all_ids = list_ids(&all)?;
    ensure!(all_ids.len() == 3, "{} files listed", all_ids.len());
    ensure!(
        all["first_id"] == all_ids[0].as_str() && all["last_id"] == all_ids[2].as_str(),
        "first_id {} last_id {} for {all_ids:?}",
        all["first_id"],
        all["last_id"]
    );
    for file in all["data"].as_array().context("no `data`")? {
        ensure!(
            file["object"] == "vector_store.file"
                && file["vector_store_id"] == kb.store.as_str()
                && file["status"] == "completed"
                && file["last_error"].is_null(),
            "a listed file: {file}"
        );
    }
    let first = ctx.get_ok(&kb.path("/files?limit=2")).await?;
    let first_ids = list_ids(&first)?;
    ensure!(
        first_ids.len() == 2 && first["has_more"] == true,
        "limit=2 gave {first_ids:?}, has_more {}",
        first["has_more"]
    );
    ensure!(
        first["first_id"] == first_ids[0].as_str() && first["last_id"] == first_ids[1].as_str(),
        "first_id {} last_id {} for {first_ids:?}",
        first["first_id"],
        first["last_id"]
    );
    let rest = ctx
        .get_ok(&kb.path(&format!("/files?limit=2&after={}", first_ids[1])))
        .await?;
    let rest_ids = list_ids(&rest)?;
    ensure!(
        rest_ids.len() == 1 && rest["has_more"] == false,
        "the page after gave {rest_ids:?}, has_more {}",
        rest["has_more"]
    );
    let mut pages = first_ids.clone();
    pages.extend(rest_ids);
    ensure!(
        pages == all_ids,
        "the pages give {pages:?}, one list gives {all_ids:?}"
    );
    Ok(())
}

#[harness::test(vector_io, embedding_model, marks(vector_stores, files))]
async fn attached_file_content_is_its_text(ctx: &TestContext) -> Result {
    let kb = Kb::create(ctx, "content", &DOCUMENTS[..1]).await?;
    let paris = kb.file("paris.txt")?;
    let content = ctx
        .get_ok(&kb.path(&format!("/files/{paris}/content")))
        .await?;
    ensure!(
        content["object"] == "vector_store.file_content.page" && content["has_more"] == false,
        "content page {content}"
    );
    let data = content["data"].as_array().context("no `data`")?;
    ensure!(
        data.len() == 1 && data[0]["type"] == "text",
        "a one-line file read back as {data:?}"
    );
    ensure!(
        data[0]["text"] == as_stored(ctx, DOCUMENTS[0].1)?,
        "the store holds {} for paris.txt",
        data[0]["text"]
    );
    Ok(())
}

#[harness::test(
    vector_io,
    embedding_model,
    embedding_dimension,
    marks(vector_stores, files, embeddings)
)]
async fn content_carries_embeddings_and_metadata_only_when_asked(ctx: &TestContext) -> Result {
    let kb = Kb::create(ctx, "content-extras", &DOCUMENTS[1..2]).await?;
    let path = kb.path(&format!("/files/{}/content", kb.file("plants.txt")?));
    let plain = ctx.get_ok(&path).await?;
    let full = ctx
        .get_ok(&format!(
            "{path}?include_embeddings=true&include_metadata=true"
        ))
        .await?;
    let (plain, full) = (&plain["data"][0], &full["data"][0]);
    for chunk in [plain, full] {
        ensure!(
            chunk["text"] == as_stored(ctx, DOCUMENTS[1].1)?,
            "the chunk reads {}",
            chunk["text"]
        );
        for key in ["embedding", "metadata", "chunk_metadata"] {
            ensure!(
                chunk.get(key).is_some(),
                "no `{key}` field in {chunk}, even as null"
            );
        }
    }
    ensure!(
        plain["embedding"].is_null() && plain["metadata"].is_null(),
        "unasked, the content carries {plain}"
    );
    let embedding = full["embedding"].as_array().context("no embedding")?;
    ensure!(
        embedding.len() == ctx.embedding_dimension() as usize,
        "an embedding of {} numbers from a {}-dimension model",
        embedding.len(),
        ctx.embedding_dimension()
    );
    ensure!(
        full["metadata"]["filename"] == "plants.txt",
        "metadata {}",
        full["metadata"]
    );
    Ok(())
}

#[harness::test(vector_io, embedding_model, marks(vector_stores, files))]
async fn detaching_files_updates_the_counts(ctx: &TestContext) -> Result {
    let kb = Kb::create(ctx, "detach", &DOCUMENTS).await?;
    for (left, (_, file)) in kb.files.iter().enumerate().rev().skip(1) {
        let detached = ctx
            .delete(&kb.path(&format!("/files/{file}")))
            .await?
            .ok()?;
        ensure!(
            detached["id"] == file.as_str()
                && detached["deleted"] == true
                && detached["object"] == "vector_store.file.deleted",
            "detach answered {detached}"
        );
        let expected = (left as u64 + 1, 0, left as u64 + 1);
        let found = counts(ctx, &kb.path("")).await?;
        ensure!(
            found == expected,
            "counts {found:?} after a detach, expected {expected:?}"
        );
    }
    // The upload itself is still there: detaching only takes it out of the store.
    let (_, last) = &kb.files[2];
    ctx.get_ok(&format!("/v1/files/{last}")).await?;
    Ok(())
}

#[harness::test(vector_io, embedding_model, marks(vector_stores, files))]
async fn file_attributes_can_be_updated(ctx: &TestContext) -> Result {
    let kb =
        Kb::with_attributes(ctx, "attributes", &DOCUMENTS[..1], &[json!({"foo": "bar"})]).await?;
    let path = kb.path(&format!("/files/{}", kb.file("paris.txt")?));
    let before = ctx.get_ok(&path).await?;
    ensure!(
        before["attributes"]["foo"] == "bar",
        "attached with attributes {}",
        before["attributes"]
    );
    let updated = ctx
        .post_ok(&path, &json!({"attributes": {"foo": "baz", "n": 2}}))
        .await?;
    let after = ctx.get_ok(&path).await?;
    for file in [&updated, &after] {
        ensure!(
            same(&file["attributes"], &json!({"foo": "baz", "n": 2}))
                && file["status"] == "completed",
            "after the update: {file}"
        );
    }
    Ok(())
}

#[harness::test(vector_io, embedding_model, marks(vector_stores, files))]
async fn deleting_a_store_keeps_its_uploads(ctx: &TestContext) -> Result {
    let kb = Kb::create(ctx, "cascade", &DOCUMENTS[..2]).await?;
    ctx.delete(&kb.path("")).await?.ok()?;
    let files = ctx.get(&kb.path("/files")).await?;
    ensure!(
        matches!(files.status, 400 | 404),
        "the files of a deleted store answered {}: {}",
        files.status,
        files.text
    );
    for (name, id) in &kb.files {
        let file = ctx.get_ok(&format!("/v1/files/{id}")).await?;
        ensure!(
            file["filename"] == *name,
            "the upload {id} changed with its store: {file}"
        );
    }
    Ok(())
}
