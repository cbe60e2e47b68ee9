//! The Files API: upload, list, retrieve, content and delete, and its errors.

use harness::prelude::*;
use harness::reqwest::multipart::{Form, Part};

use crate::common::upload;

const NOTE: &[u8] = b"The harness stores recordings as JSON.\n";

#[harness::test(marks(files))]
async fn upload_answers_the_files_metadata(ctx: &TestContext) -> Result {
    let id = upload(ctx, "note.txt", NOTE, "assistants").await?;
    ctx.defer_delete(format!("/v1/files/{id}"));
    let file = ctx.get_ok(&format!("/v1/files/{id}")).await?;
    ensure!(id.starts_with("file-"), "id {id} lacks the `file-` prefix");
    ensure!(file["object"] == "file", "object is {}", file["object"]);
    ensure!(
        file["id"] == id.as_str(),
        "retrieved {} for {id}",
        file["id"]
    );
    ensure!(
        file["bytes"] == NOTE.len(),
        "bytes {} for a {}-byte upload",
        file["bytes"],
        NOTE.len()
    );
    ensure!(
        file["filename"] == "note.txt",
        "filename {}",
        file["filename"]
    );
    ensure!(
        file["purpose"] == "assistants",
        "purpose {}",
        file["purpose"]
    );
    ensure!(file["created_at"].is_u64(), "no created_at: {file}");
    Ok(())
}

#[harness::test(marks(files))]
async fn content_is_the_uploaded_bytes(ctx: &TestContext) -> Result {
    // Every byte value, so nothing is decoded or re-encoded on the way.
    let bytes: Vec<u8> = (0..=255u8).rev().collect();
    let id = upload(ctx, "all-bytes.bin", &bytes, "batch").await?;
    ctx.defer_delete(format!("/v1/files/{id}"));
    let content = ctx
        .get_bytes(&format!("/v1/files/{id}/content"))
        .await?
        .ok()?;
    ensure!(
        content == bytes,
        "got {} different bytes back",
        content.len()
    );
    Ok(())
}

#[harness::test(marks(files))]
async fn uploaded_file_is_listed(ctx: &TestContext) -> Result {
    let id = upload(ctx, "listed.txt", NOTE, "assistants").await?;
    ctx.defer_delete(format!("/v1/files/{id}"));
    let list = ctx.get_ok("/v1/files?limit=10000").await?;
    ensure!(list["object"] == "list", "object is {}", list["object"]);
    let data = list["data"].as_array().context("no `data` list")?;
    ensure!(
        data.iter().any(|f| f["id"] == id.as_str()),
        "{id} is not among {} listed files",
        data.len()
    );
    Ok(())
}

#[harness::test(marks(files))]
async fn list_filters_by_purpose(ctx: &TestContext) -> Result {
    let batch = upload(ctx, "batch.jsonl", b"{}\n", "batch").await?;
    ctx.defer_delete(format!("/v1/files/{batch}"));
    let list = ctx
        .get_ok("/v1/files?purpose=assistants&limit=10000")
        .await?;
    let data = list["data"].as_array().context("no `data` list")?;
    ensure!(
        data.iter().all(|f| f["purpose"] == "assistants"),
        "purpose=assistants listed other purposes"
    );
    ensure!(
        !data.iter().any(|f| f["id"] == batch.as_str()),
        "a batch file is listed under assistants"
    );
    Ok(())
}

#[harness::test(marks(files))]
async fn list_limit_pages(ctx: &TestContext) -> Result {
    for name in ["one.txt", "two.txt"] {
        let id = upload(ctx, name, NOTE, "assistants").await?;
        ctx.defer_delete(format!("/v1/files/{id}"));
    }
    let page = ctx.get_ok("/v1/files?limit=1").await?;
    let data = page["data"].as_array().context("no `data` list")?;
    ensure!(data.len() == 1, "limit=1 listed {} files", data.len());
    ensure!(
        page["has_more"] == true,
        "has_more is {} with two files uploaded",
        page["has_more"]
    );
    ensure!(
        page["first_id"] == data[0]["id"] && page["last_id"] == data[0]["id"],
        "first/last ids: {page}"
    );
    Ok(())
}

#[harness::test(marks(files))]
async fn deleted_file_is_gone(ctx: &TestContext) -> Result {
    let id = upload(ctx, "doomed.txt", NOTE, "assistants").await?;
    let deleted = ctx.delete(&format!("/v1/files/{id}")).await?.ok()?;
    ensure!(
        deleted["deleted"] == true && deleted["id"] == id.as_str(),
        "delete answered {deleted}"
    );
    let path = format!("/v1/files/{id}");
    ctx.get(&path).await?.expect_error(404, &[&id])?;
    ctx.get(&format!("{path}/content"))
        .await?
        .expect_error(404, &[&id])?;
    ctx.delete(&path).await?.expect_error(404, &[&id])
}

#[harness::test(marks(files, errors))]
async fn unknown_file_is_404_naming_it(ctx: &TestContext) -> Result {
    let id = "file-00000000000000000000000000000000";
    ctx.get(&format!("/v1/files/{id}"))
        .await?
        .expect_error(404, &[id, "not found"])
}

#[harness::test(marks(files, errors))]
async fn malformed_file_id_is_a_400_giving_the_format(ctx: &TestContext) -> Result {
    ctx.get("/v1/files/not-an-id")
        .await?
        .expect_error(400, &["not-an-id", "file-"])
}

#[harness::test(marks(files, errors))]
async fn unknown_purpose_is_a_400_listing_the_valid_ones(ctx: &TestContext) -> Result {
    // OGX 1.5 takes more purposes than llama-stack 0.7.3, and lists them all.
    let valid = match ctx.stack()?.launcher() {
        LauncherKind::LlamaStack => "'assistants' or 'batch'",
        LauncherKind::Ogx => "'assistants', 'batch', 'fine-tune', 'vision', 'user_data' or 'evals'",
    };
    let form = Form::new()
        .text("purpose", "homework")
        .part("file", Part::bytes(NOTE.to_vec()).file_name("note.txt"));
    let response = ctx.post_multipart("/v1/files", form).await?;
    response.expect_error(400, &["purpose", valid])
}

#[harness::test(marks(files, errors))]
async fn upload_without_a_file_is_a_400(ctx: &TestContext) -> Result {
    let response = ctx
        .post_multipart("/v1/files", Form::new().text("purpose", "assistants"))
        .await?;
    response.expect_error(400, &["file", "Field required"])
}
