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
        contains = "range() arg 3 must not be zero",
        stacks = "llama-stack"
    ),
    xfail(
        reason = "OGX 1.5 runs the processing as a job and answers any error raised in it as a 500, `Internal server error` (its log: `Failed to execute job: …`)",
        status = 500,
        stacks = "ogx"
    ),
)]
async fn an_overlap_as_large_as_the_chunk_is_a_400(ctx: &TestContext) -> Result {
    let form =
        with_file("a.pdf", a_pdf()).text("chunking_strategy", fixed(200, 200).to_string());
    ctx.post_multipart(PROCESS, form)
        .await?
        .expect_error(400, &["chunk_overlap_tokens"])
}

/// What the stack says when a request gives neither or both of `file` and
/// `file_id`: llama-stack 0.7.3 says `llama_stack`, OGX 1.5 one text for both.
fn file_xor_file_id(ctx: &TestContext, llama_stack: &'static str) -> Result<&'static str> {
    Ok(match ctx.stack()?.launcher() {
        LauncherKind::LlamaStack => llama_stack,
        LauncherKind::Ogx => "Exactly one of file or file_id must be provided",
    })
}

#[harness::test(marks(file_processors, errors))]
async fn neither_file_nor_file_id_is_a_400(ctx: &TestContext) -> Result {
    let form = Form::new().text("chunking_strategy", r#"{"type": "auto"}"#);
    let says = file_xor_file_id(ctx, "Either file or file_id must be provided")?;
    ctx.post_multipart(PROCESS, form)
        .await?
        .expect_error(400, &[says])
}

#[harness::test(marks(file_processors, errors))]
async fn both_file_and_file_id_is_a_400(ctx: &TestContext) -> Result {
    let form = with_file("a.pdf", a_pdf()).text("file_id", "file-00000000000000000000000000000000");
    let says = file_xor_file_id(ctx, "Cannot provide both file and file_id")?;
    ctx.post_multipart(PROCESS, form)
        .await?
        .expect_error(400, &[says])
}

#[harness::test(
    marks(file_processors, errors),
    xfail(
        reason = "OGX 1.5 runs the processing as a job and answers any error raised in it as a 500, `Internal server error` (its log: `Failed to execute job: …`)",
        status = 500,
        stacks = "ogx"
    ),
)]
async fn an_unknown_file_id_is_404_naming_it(ctx: &TestContext) -> Result {
    let id = "file-00000000000000000000000000000000";
    let form = Form::new().text("file_id", id);
    ctx.post_multipart(PROCESS, form)
        .await?
        .expect_error(404, &[id, "not found"])
}

#[harness::test(
    marks(file_processors, errors),
    xfail(
        reason = "OGX 1.5 runs the processing as a job and answers any error raised in it as a 500, `Internal server error` (its log: `Failed to execute job: …`)",
        status = 500,
        stacks = "ogx"
    ),
)]
async fn a_malformed_file_id_is_a_400_giving_the_format(ctx: &TestContext) -> Result {
    let form = Form::new().text("file_id", "not-an-id");
    ctx.post_multipart(PROCESS, form)
        .await?
        .expect_error(400, &["not-an-id", "file-"])
}

#[harness::test(marks(file_processors, errors))]
async fn options_that_are_not_an_object_are_a_400(ctx: &TestContext) -> Result {
    // OGX 1.5 parses `options` as JSON before it checks the type.
    let not_an_object = match ctx.stack()?.launcher() {
        LauncherKind::LlamaStack => "valid dictionary",
        LauncherKind::Ogx => "Invalid JSON in options",
    };
    let form = with_file("a.pdf", a_pdf()).text("options", "fast");
    ctx.post_multipart(PROCESS, form)
        .await?
        .expect_error(400, &["options", not_an_object])
}

#[harness::test(
    marks(file_processors, errors),
    xfail(
        reason = "llama-stack 0.7.3's inline::pypdf lets pypdf's PdfReadError out as a 500 for a file that is not a PDF",
        status = 500,
        stacks = "llama-stack"
    ),
    only(
        stacks = "llama-stack",
        reason = "OGX 1.5 reads a file that is not a PDF as text (processor `text`) and answers 200 with its chunks"
    )
)]
async fn a_file_that_is_not_a_pdf_is_a_400(ctx: &TestContext) -> Result {
    let form = with_file("notes.txt", b"Plain text, not a PDF.\n".to_vec());
    ctx.post_multipart(PROCESS, form)
        .await?
        .expect_error(400, &["PDF"])
}

#[harness::test(
    marks(file_processors, errors),
    xfail(
        reason = "OGX 1.5 runs the processing as a job and answers any error raised in it as a 500, `Internal server error` (its log: `Failed to execute job: …`)",
        status = 500,
        stacks = "ogx"
    ),
)]
async fn an_encrypted_pdf_is_a_422(ctx: &TestContext) -> Result {
    let pdf = Pdf::new().page(&["Secret."]).encrypted().bytes();
    let form = with_file("locked.pdf", pdf);
    ctx.post_multipart(PROCESS, form)
        .await?
        .expect_error(422, &["Password-protected PDFs are not supported"])
}
