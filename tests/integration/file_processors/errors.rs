//! Files and options the file processor refuses, and what it says.

use harness::prelude::*;
use harness::reqwest::multipart::Form;
use serde::Deserialize;

use super::pdf::Pdf;
use super::support::{PROCESS, fixed, with_file};

fn a_pdf() -> Vec<u8> {
    Pdf::new().page(&["Some text."]).bytes()
}

#[derive(Deserialize)]
struct InvalidChunking {
    value: String,
    says: Vec<String>,
}

#[harness::test(
    marks(file_processors, errors),
    cases = "file_processors/invalid_chunking.yaml"
)]
async fn invalid_chunking_strategy_is_a_400_saying_why(ctx: &TestContext) -> Result {
    let case: InvalidChunking = ctx.case_as()?;
    let form = with_file("a.pdf", a_pdf()).text("chunking_strategy", case.value);
    let needles: Vec<&str> = case.says.iter().map(String::as_str).collect();
    ctx.post_multipart(PROCESS, form)
        .await?
        .expect_error(400, &needles)
}

#[harness::test(
    marks(file_processors, errors),
    xfail(
        reason = "llama-stack 0.7.3 does not check the overlap against the chunk size: windows then advance by 0 tokens and the 400 is Python's own range() error, naming no parameter",
        contains = "range() arg 3 must not be zero"
    )
)]
async fn an_overlap_as_large_as_the_chunk_is_a_400(ctx: &TestContext) -> Result {
    let form =
        with_file("a.pdf", a_pdf()).text("chunking_strategy", fixed(200, 200).to_string());
    ctx.post_multipart(PROCESS, form)
        .await?
        .expect_error(400, &["chunk_overlap_tokens"])
}

#[harness::test(marks(file_processors, errors))]
async fn neither_file_nor_file_id_is_a_400(ctx: &TestContext) -> Result {
    let form = Form::new().text("chunking_strategy", r#"{"type": "auto"}"#);
    ctx.post_multipart(PROCESS, form)
        .await?
        .expect_error(400, &["Either file or file_id must be provided"])
}

#[harness::test(marks(file_processors, errors))]
async fn both_file_and_file_id_is_a_400(ctx: &TestContext) -> Result {
    let form = with_file("a.pdf", a_pdf()).text("file_id", "file-00000000000000000000000000000000");
    ctx.post_multipart(PROCESS, form)
        .await?
        .expect_error(400, &["Cannot provide both file and file_id"])
}

#[harness::test(marks(file_processors, errors))]
async fn an_unknown_file_id_is_404_naming_it(ctx: &TestContext) -> Result {
    let id = "file-00000000000000000000000000000000";
    let form = Form::new().text("file_id", id);
    ctx.post_multipart(PROCESS, form)
        .await?
        .expect_error(404, &[id, "not found"])
}

#[harness::test(marks(file_processors, errors))]
async fn a_malformed_file_id_is_a_400_giving_the_format(ctx: &TestContext) -> Result {
    let form = Form::new().text("file_id", "not-an-id");
    ctx.post_multipart(PROCESS, form)
        .await?
        .expect_error(400, &["not-an-id", "file-"])
}

#[harness::test(marks(file_processors, errors))]
async fn options_that_are_not_an_object_are_a_400(ctx: &TestContext) -> Result {
    let form = with_file("a.pdf", a_pdf()).text("options", "fast");
    ctx.post_multipart(PROCESS, form)
        .await?
        .expect_error(400, &["options", "valid dictionary"])
}

#[harness::test(
    marks(file_processors, errors),
    xfail(
        reason = "llama-stack 0.7.3's inline::pypdf lets pypdf's PdfReadError out as a 500 for a file that is not a PDF",
        status = 500
    )
)]
async fn a_file_that_is_not_a_pdf_is_a_400(ctx: &TestContext) -> Result {
    let form = with_file("notes.txt", b"Plain text, not a PDF.\n".to_vec());
    ctx.post_multipart(PROCESS, form)
        .await?
        .expect_error(400, &["PDF"])
}

#[harness::test(marks(file_processors, errors))]
async fn an_encrypted_pdf_is_a_422(ctx: &TestContext) -> Result {
    let pdf = Pdf::new().page(&["Secret."]).encrypted().bytes();
    let form = with_file("locked.pdf", pdf);
    ctx.post_multipart(PROCESS, form)
        .await?
        .expect_error(422, &["Password-protected PDFs are not supported"])
}
