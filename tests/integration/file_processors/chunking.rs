//! Chunking strategies: how the token windows of a long document are laid
//! out for `static` sizes and overlaps, and for `auto`.

use harness::prelude::*;

use super::pdf::Pdf;
use super::support::{chunks, fixed, lines, process, window};

/// A document of about 1200 tokens over two pages.
fn long_pdf() -> Vec<u8> {
    let text = lines(80);
    Pdf::new().page(&text[..40]).page(&text[40..]).bytes()
}

/// The token windows of `answer`'s chunks, checked to agree with each
/// chunk's token count.
fn windows(answer: &Value) -> Result<Vec<(u64, u64)>> {
    let mut found = Vec::new();
    for chunk in chunks(answer)? {
        let (start, end) = window(chunk)?;
        let count = chunk["chunk_metadata"]["content_token_count"].as_u64();
        ensure!(
            count == Some(end - start),
            "window {start}-{end} holds content_token_count {count:?}"
        );
        found.push((start, end));
    }
    ensure!(!found.is_empty(), "no chunks");
    Ok(found)
}

/// The document's length in tokens: where the unchunked window ends.
async fn total_tokens(ctx: &TestContext) -> Result<u64> {
    let whole = process(ctx, "long.pdf", long_pdf(), None).await?;
    let windows = windows(&whole)?;
    ensure!(windows.len() == 1, "{} chunks without a strategy", windows.len());
    Ok(windows[0].1)
}

/// Checks windows laid out as `size` tokens every `size - overlap`, from 0
/// to the end of a `total`-token document.
fn check_layout(windows: &[(u64, u64)], size: u64, overlap: u64, total: u64) -> Result {
    let step = size - overlap;
    for (i, (start, end)) in windows.iter().enumerate() {
        ensure!(
            *start == i as u64 * step,
            "chunk {i} starts at {start}, not {}: {windows:?}",
            i as u64 * step
        );
        ensure!(
            *end == (start + size).min(total),
            "chunk {i} ends at {end}: {windows:?}"
        );
    }
    let last = windows.last().map_or(0, |w| w.0);
    ensure!(
        last + step >= total,
        "the windows stop at {last} of {total} tokens: {windows:?}"
    );
    Ok(())
}

#[harness::test(marks(file_processors, chunking))]
async fn static_windows_step_by_size_minus_overlap(ctx: &TestContext) -> Result {
    let total = total_tokens(ctx).await?;
    let answer = process(ctx, "long.pdf", long_pdf(), Some(fixed(200, 50))).await?;
    let windows = windows(&answer)?;
    ensure!(windows.len() > 2, "{total} tokens gave {} chunks", windows.len());
    check_layout(&windows, 200, 50, total)
}

#[harness::test(marks(file_processors, chunking))]
async fn auto_uses_the_providers_default_sizes(ctx: &TestContext) -> Result {
    let total = total_tokens(ctx).await?;
    let answer = process(ctx, "long.pdf", long_pdf(), Some(json!({"type": "auto"}))).await?;
    // inline::pypdf's defaults: 800-token chunks overlapping by 400.
    check_layout(&windows(&answer)?, 800, 400, total)
}

#[harness::test(marks(file_processors, chunking))]
async fn chunks_without_overlap_put_the_text_back_together(ctx: &TestContext) -> Result {
    let whole = process(ctx, "long.pdf", long_pdf(), None).await?;
    let parts = process(ctx, "long.pdf", long_pdf(), Some(fixed(150, 0))).await?;
    let joined: String = chunks(&parts)?
        .iter()
        .filter_map(|c| c["content"].as_str())
        .collect();
    let original = chunks(&whole)?[0]["content"].as_str().unwrap_or_default();
    ensure!(
        joined == original,
        "the {} chunks do not join into the document's text",
        chunks(&parts)?.len()
    );
    Ok(())
}

#[harness::test(marks(file_processors, chunking))]
async fn larger_chunks_make_fewer_of_them(ctx: &TestContext) -> Result {
    let small = process(ctx, "long.pdf", long_pdf(), Some(fixed(100, 0))).await?;
    let large = process(ctx, "long.pdf", long_pdf(), Some(fixed(400, 0))).await?;
    let (s, l) = (chunks(&small)?.len(), chunks(&large)?.len());
    ensure!(s > l, "100-token chunks: {s}; 400-token chunks: {l}");
    Ok(())
}

#[harness::test(marks(file_processors, chunking))]
async fn chunks_of_one_document_have_distinct_ids_and_one_document_id(ctx: &TestContext) -> Result {
    let answer = process(ctx, "long.pdf", long_pdf(), Some(fixed(100, 20))).await?;
    let chunks = chunks(&answer)?;
    let mut ids: Vec<&str> = chunks.iter().filter_map(|c| c["chunk_id"].as_str()).collect();
    ensure!(ids.len() == chunks.len(), "a chunk has no chunk_id");
    ids.sort_unstable();
    ids.dedup();
    ensure!(ids.len() == chunks.len(), "chunk ids repeat among {} chunks", chunks.len());
    let documents: Vec<&Value> = chunks
        .iter()
        .map(|c| &c["chunk_metadata"]["document_id"])
        .collect();
    ensure!(
        documents.iter().all(|d| *d == documents[0] && d.is_string()),
        "the chunks name several documents: {documents:?}"
    );
    Ok(())
}
