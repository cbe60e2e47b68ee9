//! Processing a PDF into chunks: its text, the processing metadata, the
//! document's own information, and a file from the Files API by id.

use harness::prelude::*;
use harness::reqwest::multipart::Form;

use super::pdf::Pdf;
use super::support::{PROCESS, chunks, process};
use crate::common::upload;

const GREETING: [&str; 2] = ["Hello from the stack-harness suite.", "A second line of text."];

/// The one chunk of an unchunked answer.
fn only_chunk(answer: &Value) -> Result<&Value> {
    let chunks = chunks(answer)?;
    ensure!(chunks.len() == 1, "{} chunks without a strategy", chunks.len());
    Ok(&chunks[0])
}

fn content(chunk: &Value) -> Result<&str> {
    chunk["content"]
        .as_str()
        .with_context(|| format!("the chunk has no text content: {chunk}"))
}

#[harness::test(marks(file_processors))]
async fn a_pdf_gives_one_chunk_holding_its_text(ctx: &TestContext) -> Result {
    let pdf = Pdf::new().page(&GREETING).bytes();
    let answer = process(ctx, "greeting.pdf", pdf, None).await?;
    let text = content(only_chunk(&answer)?)?;
    for line in GREETING {
        ensure!(text.contains(line), "the chunk lacks {line:?}: {text:?}");
    }
    ensure!(
        text.find(GREETING[0]) < text.find(GREETING[1]),
        "the lines are out of order: {text:?}"
    );
    Ok(())
}

#[harness::test(marks(file_processors))]
async fn metadata_describes_the_processing(ctx: &TestContext) -> Result {
    let pdf = Pdf::new().page(&GREETING).bytes();
    let size = pdf.len();
    let answer = process(ctx, "greeting.pdf", pdf, None).await?;
    let meta = &answer["metadata"];
    ensure!(meta["processor"] == "pypdf", "processor {}", meta["processor"]);
    ensure!(
        meta["extraction_method"] == "pypdf",
        "extraction_method {}",
        meta["extraction_method"]
    );
    ensure!(meta["page_count"] == 1, "page_count {}", meta["page_count"]);
    ensure!(
        meta["file_size_bytes"] == size,
        "file_size_bytes {} for a {size}-byte file",
        meta["file_size_bytes"]
    );
    ensure!(
        meta["processing_time_ms"].is_u64(),
        "no processing_time_ms: {meta}"
    );
    Ok(())
}

#[harness::test(marks(file_processors))]
async fn every_page_is_counted_and_read_in_order(ctx: &TestContext) -> Result {
    let pdf = Pdf::new()
        .page(&["First page."])
        .page(&["Second page."])
        .page(&["Third page."])
        .bytes();
    let answer = process(ctx, "three.pdf", pdf, None).await?;
    ensure!(
        answer["metadata"]["page_count"] == 3,
        "page_count {}",
        answer["metadata"]["page_count"]
    );
    let text = content(only_chunk(&answer)?)?;
    let at: Vec<Option<usize>> = ["First", "Second", "Third"]
        .iter()
        .map(|w| text.find(w))
        .collect();
    ensure!(
        at.iter().all(Option::is_some) && at.windows(2).all(|w| w[0] < w[1]),
        "the pages' text is missing or out of order: {text:?}"
    );
    Ok(())
}

#[harness::test(marks(file_processors))]
async fn the_documents_information_is_in_the_metadata(ctx: &TestContext) -> Result {
    let pdf = Pdf::new()
        .page(&GREETING)
        .info("Title", "Harness fixture")
        .info("Author", "stack-harness")
        .info("Subject", "file processors")
        .bytes();
    let answer = process(ctx, "info.pdf", pdf, None).await?;
    let chunk = only_chunk(&answer)?;
    for (key, value) in [
        ("title", "Harness fixture"),
        ("author", "stack-harness"),
        ("subject", "file processors"),
    ] {
        ensure!(
            answer["metadata"][key] == value,
            "metadata.{key} is {}",
            answer["metadata"][key]
        );
        ensure!(
            chunk["metadata"][key] == value,
            "the chunk's metadata.{key} is {}",
            chunk["metadata"][key]
        );
    }
    Ok(())
}

#[harness::test(marks(file_processors))]
async fn a_chunk_names_its_document_file_and_tokens(ctx: &TestContext) -> Result {
    let pdf = Pdf::new().page(&GREETING).bytes();
    let answer = process(ctx, "named.pdf", pdf, None).await?;
    let chunk = only_chunk(&answer)?;
    let (meta, backend) = (&chunk["metadata"], &chunk["chunk_metadata"]);
    ensure!(meta["filename"] == "named.pdf", "filename {}", meta["filename"]);
    let document = backend["document_id"]
        .as_str()
        .context("no chunk_metadata.document_id")?;
    ensure!(
        meta["document_id"] == document,
        "document_id {} in metadata, {document} in chunk_metadata",
        meta["document_id"]
    );
    ensure!(
        chunk["chunk_id"] == backend["chunk_id"] && chunk["chunk_id"].is_string(),
        "chunk_id {} / {}",
        chunk["chunk_id"],
        backend["chunk_id"]
    );
    ensure!(
        backend["chunk_tokenizer"] == "tiktoken:cl100k_base",
        "chunk_tokenizer {}",
        backend["chunk_tokenizer"]
    );
    let tokens = backend["content_token_count"]
        .as_u64()
        .context("no content_token_count")?;
    ensure!(tokens > 0, "content_token_count 0 for a page of text");
    ensure!(
        backend["chunk_window"] == format!("0-{tokens}"),
        "chunk_window {} for {tokens} tokens",
        backend["chunk_window"]
    );
    Ok(())
}

#[harness::test(marks(file_processors))]
async fn processing_again_gives_the_same_text_under_a_new_document(ctx: &TestContext) -> Result {
    let pdf = Pdf::new().page(&GREETING).bytes();
    let first = process(ctx, "again.pdf", pdf.clone(), None).await?;
    let second = process(ctx, "again.pdf", pdf, None).await?;
    let (a, b) = (only_chunk(&first)?, only_chunk(&second)?);
    ensure!(a["content"] == b["content"], "the same file gave other text");
    ensure!(
        a["chunk_metadata"]["document_id"] != b["chunk_metadata"]["document_id"],
        "two processings share document id {}",
        a["chunk_metadata"]["document_id"]
    );
    Ok(())
}

#[harness::test(marks(file_processors))]
async fn a_file_id_is_processed_like_its_upload(ctx: &TestContext) -> Result {
    let pdf = Pdf::new().page(&GREETING).bytes();
    let id = upload(ctx, "stored.pdf", &pdf, "assistants").await?;
    ctx.defer_delete(format!("/v1/files/{id}"));
    let by_id = ctx
        .post_multipart(PROCESS, Form::new().text("file_id", id.clone()))
        .await?
        .ok()?;
    let direct = process(ctx, "stored.pdf", pdf, None).await?;
    let chunk = only_chunk(&by_id)?;
    ensure!(
        chunk["content"] == only_chunk(&direct)?["content"],
        "the stored file gave other text than its upload"
    );
    ensure!(
        chunk["metadata"]["file_id"] == id.as_str(),
        "the chunk's file_id is {}",
        chunk["metadata"]["file_id"]
    );
    ensure!(
        chunk["metadata"]["filename"] == "stored.pdf",
        "the chunk's filename is {}",
        chunk["metadata"]["filename"]
    );
    Ok(())
}

#[harness::test(marks(file_processors))]
async fn a_pdf_without_text_gives_no_chunks(ctx: &TestContext) -> Result {
    let blank: [&str; 0] = [];
    let pdf = Pdf::new().page(&blank).page(&blank).bytes();
    let answer = process(ctx, "blank.pdf", pdf, None).await?;
    let chunks = chunks(&answer)?;
    ensure!(chunks.is_empty(), "{} chunks from blank pages", chunks.len());
    ensure!(
        answer["metadata"]["page_count"] == 2,
        "page_count {}",
        answer["metadata"]["page_count"]
    );
    Ok(())
}

#[harness::test(marks(file_processors))]
async fn runs_of_spaces_are_cleaned(ctx: &TestContext) -> Result {
    let pdf = Pdf::new()
        .page(&["spaced     out     words", "   indented line   "])
        .bytes();
    let answer = process(ctx, "spaces.pdf", pdf, None).await?;
    let text = content(only_chunk(&answer)?)?;
    ensure!(
        text.contains("spaced out words") && text.contains("indented line"),
        "the words are missing: {text:?}"
    );
    ensure!(!text.contains("  "), "runs of spaces remain: {text:?}");
    ensure!(
        text.lines().all(|l| l.trim() == l && !l.is_empty()),
        "lines keep outer spaces or are empty: {text:?}"
    );
    Ok(())
}
