//! How an attached file is cut into chunks: static windows of a size and an
//! overlap in tokens, and contextual chunks, which a text model prefixes with
//! a line situating them in the document.

use harness::prelude::*;

use super::kb::{as_stored, create_store, upload_text};

/// About 250 tokens of plain words, so static windows of tens of tokens cut
/// it into several chunks.
const ARTICLE: &str = "\
Neural networks are computational models inspired by biological neural networks. \
They consist of interconnected nodes called neurons organized in layers. \
Each connection has a weight that is adjusted during training. \
The backpropagation algorithm computes gradients for each layer. \
These gradients are used to update weights using gradient descent. \
The learning rate controls the step size during optimization. \
Raw data must be normalized before training. \
Feature scaling ensures all inputs have similar ranges. \
Data augmentation can increase the effective training set size. \
Regularization keeps a model from memorizing its training data. \
Dropout switches off random neurons during training so that no single path dominates. \
Early stopping ends training when the validation loss stops improving. \
A test set that the model never saw during training estimates how well it generalizes. \
Hyperparameters such as the number of layers are chosen on the validation set.\n";

/// Attaches `text` to a new store with `strategy`; the attach answer and the
/// chunks' texts, in order.
async fn chunks(
    ctx: &TestContext,
    name: &str,
    text: &str,
    strategy: Value,
) -> Result<(Value, Vec<String>)> {
    let store = create_store(ctx, name).await?;
    let file = upload_text(ctx, &format!("{name}.txt"), text).await?;
    let path = format!("/v1/vector_stores/{store}/files");
    let attached = ctx
        .post_ok(
            &path,
            &json!({"file_id": file, "chunking_strategy": strategy}),
        )
        .await?;
    ensure!(
        attached["status"] == "completed",
        "attaching with {strategy} left the file {}: {}",
        attached["status"],
        attached["last_error"]
    );
    let content = ctx.get_ok(&format!("{path}/{file}/content")).await?;
    let texts = content["data"]
        .as_array()
        .context("no `data`")?
        .iter()
        .map(|c| c["text"].as_str().unwrap_or_default().to_owned())
        .collect();
    Ok((attached, texts))
}

fn static_strategy(size: u32, overlap: u32) -> Value {
    json!({"type": "static", "static": {"max_chunk_size_tokens": size, "chunk_overlap_tokens": overlap}})
}

/// The longest end of `a` that `b` starts with.
fn overlap<'a>(a: &str, b: &'a str) -> &'a str {
    (0..=b.len().min(a.len()))
        .rev()
        .filter(|n| b.is_char_boundary(*n))
        .map(|n| &b[..n])
        .find(|prefix| a.ends_with(prefix))
        .unwrap_or_default()
}

#[harness::test(vector_io, embedding_model, marks(vector_stores, files, chunking))]
async fn static_chunks_without_overlap_add_up_to_the_file(ctx: &TestContext) -> Result {
    let (attached, texts) = chunks(ctx, "static-cut", ARTICLE, static_strategy(100, 0)).await?;
    ensure!(
        attached["chunking_strategy"] == static_strategy(100, 0),
        "the file's strategy is {}",
        attached["chunking_strategy"]
    );
    ensure!(
        texts.len() >= 2,
        "~250 tokens in windows of 100 made {} chunks",
        texts.len()
    );
    ensure!(
        texts.concat() == as_stored(ctx, ARTICLE)?,
        "the chunks do not add up to the file: {texts:?}"
    );
    Ok(())
}

#[harness::test(vector_io, embedding_model, marks(vector_stores, files, chunking))]
async fn static_chunks_overlap_by_what_was_asked(ctx: &TestContext) -> Result {
    let (_, wide) = chunks(ctx, "static-wide", ARTICLE, static_strategy(100, 0)).await?;
    let (_, overlapping) = chunks(ctx, "static-overlap", ARTICLE, static_strategy(100, 40)).await?;
    // Windows step by size - overlap: 60 tokens instead of 100.
    ensure!(
        overlapping.len() > wide.len(),
        "overlapping windows made {} chunks, plain ones {}",
        overlapping.len(),
        wide.len()
    );
    let mut rebuilt = overlapping[0].clone();
    for pair in overlapping.windows(2) {
        let shared = overlap(&pair[0], &pair[1]);
        ensure!(
            !shared.trim().is_empty(),
            "consecutive chunks share nothing:\n{:?}\n{:?}",
            pair[0],
            pair[1]
        );
        rebuilt.push_str(&pair[1][shared.len()..]);
    }
    ensure!(
        rebuilt == as_stored(ctx, ARTICLE)?,
        "the chunks, overlaps removed, are not the file: {rebuilt:?}"
    );
    Ok(())
}

#[harness::test(
    vector_io,
    embedding_model,
    marks(vector_stores, files, chunking, errors)
)]
async fn contextual_chunking_without_a_model_is_refused(ctx: &TestContext) -> Result {
    let store = create_store(ctx, "contextual-no-model").await?;
    let file = upload_text(
        ctx,
        "contextual.txt",
        "Test content for contextual chunking.\n",
    )
    .await?;
    ctx.post(
        &format!("/v1/vector_stores/{store}/files"),
        &json!({"file_id": file, "chunking_strategy": {
            "type": "contextual",
            "contextual": {"max_chunk_size_tokens": 200, "chunk_overlap_tokens": 50},
        }}),
    )
    .await?
    .expect_error(400, &["model_id is required"])
}

// One model call at a time, each given 5 minutes: the local model server
// answers one request at a time, and a recording run on a loaded machine
// overran the stack's default (120 s per call, 3 at once), failing the
// attachment. Neither reaches the model: the recordings stay the same.
fn contextual_strategy(model: &str) -> Value {
    json!({"type": "contextual", "contextual": {
        "model_id": model, "max_chunk_size_tokens": 200, "chunk_overlap_tokens": 50,
        "max_concurrency": 1, "timeout_seconds": 300,
    }})
}

/// The chunks of [`ARTICLE`] attached with [`contextual_strategy`] and the
/// trial's text model, as [`chunks`] gives them.
async fn contextual_chunks(ctx: &TestContext, name: &str) -> Result<(Value, Vec<String>)> {
    chunks(ctx, name, ARTICLE, contextual_strategy(ctx.text_model())).await
}

#[harness::test(
    vector_io,
    text_model,
    embedding_model,
    timeout = 600,
    marks(vector_stores, files, chunking)
)]
async fn contextual_chunks_are_searchable(ctx: &TestContext) -> Result {
    let (attached, texts) = contextual_chunks(ctx, "contextual").await?;
    ensure!(
        attached["chunking_strategy"]["type"] == "contextual",
        "the file's strategy is {}",
        attached["chunking_strategy"]
    );
    ensure!(
        !texts.is_empty() && texts.iter().all(|t| !t.trim().is_empty()),
        "contextual chunks {texts:?}"
    );
    let store = attached["vector_store_id"].as_str().context("no store")?;
    let page = ctx
        .post_ok(
            &format!("/v1/vector_stores/{store}/search"),
            &json!({"query": "How are neural network weights updated during training?", "max_num_results": 3}),
        )
        .await?;
    let data = page["data"].as_array().context("no `data`")?;
    ensure!(!data.is_empty(), "nothing found in contextual chunks");
    ensure!(
        data.iter().all(|r| r["content"][0]["text"]
            .as_str()
            .is_some_and(|t| !t.is_empty())),
        "a result without text: {page}"
    );
    Ok(())
}

#[harness::test(
    vector_io,
    text_model,
    embedding_model,
    timeout = 600,
    marks(vector_stores, files, chunking)
)]
async fn contextual_chunks_are_the_static_ones_with_context_before(ctx: &TestContext) -> Result {
    let (_, plain) = chunks(ctx, "static-200", ARTICLE, static_strategy(200, 50)).await?;
    let (_, contextual) = contextual_chunks(ctx, "contextual-200").await?;
    ensure!(
        plain.len() == contextual.len(),
        "{} static chunks, {} contextual ones, for the same windows",
        plain.len(),
        contextual.len()
    );
    let mut situated = 0;
    for (s, c) in plain.iter().zip(&contextual) {
        // The stack leaves a chunk as it is when the model gives no context.
        if c == s {
            continue;
        }
        ensure!(
            c.ends_with(&format!("\n\n{s}")) && c.len() > s.len() + 2,
            "a contextual chunk is not context, a blank line and the static chunk:\n{c:?}\nstatic: {s:?}"
        );
        situated += 1;
    }
    ensure!(situated > 0, "no chunk got any context");
    Ok(())
}
