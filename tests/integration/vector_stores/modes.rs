//! Search modes (vector, keyword, hybrid) and the rankers that fuse hybrid
//! results (rrf, weighted, neural).
//!
//! Every query here is made of words that only paris.txt holds, so keyword
//! search has exactly one hit whatever the provider's matching (sqlite-vec
//! ANDs the words, qdrant ORs them, milvus ranks by BM25), and the fused
//! scores can be computed exactly: paris.txt is first in both lists, so rrf
//! gives it 2/(k+1) and weighted gives it 1.

use harness::prelude::*;

use super::kb::{DOCUMENTS, Kb, ensure_descending, scores};

const QUERY: &str = "Eiffel Tower Paris";

/// A hybrid search for [`QUERY`] with these ranking options; the filenames
/// and scores, best first.
async fn hybrid(kb: &Kb, ctx: &TestContext, ranking: Value) -> Result<(Vec<String>, Vec<f64>)> {
    let mut body = json!({"query": QUERY, "search_mode": "hybrid", "max_num_results": 5});
    if !ranking.is_null() {
        body["ranking_options"] = ranking;
    }
    let (names, page) = kb.search_with(ctx, body).await?;
    let found = scores(&page)?;
    ensure!(
        names.first().map(String::as_str) == Some("paris.txt"),
        "hybrid search for {QUERY:?} ranked {names:?}"
    );
    ensure_descending(&found)?;
    Ok((names, found))
}

/// A search for [`QUERY`] in `mode`, three results at most.
async fn in_mode(kb: &Kb, ctx: &TestContext, mode: &str) -> Result<(Vec<String>, Value)> {
    kb.search_with(
        ctx,
        json!({"query": QUERY, "search_mode": mode, "max_num_results": 3}),
    )
    .await
}

fn ensure_close(actual: f64, expected: f64, what: &str) -> Result {
    ensure!(
        (actual - expected).abs() < 1e-6,
        "{what}: {actual}, expected {expected}"
    );
    Ok(())
}

#[harness::test(
    vector_io,
    embedding_model,
    needs(vector_search),
    marks(vector_stores, embeddings)
)]
async fn vector_mode_ranks_the_closest_document_first(ctx: &TestContext) -> Result {
    let kb = Kb::create(ctx, "mode-vector", &DOCUMENTS).await?;
    let (names, page) = in_mode(&kb, ctx, "vector").await?;
    ensure!(
        names.len() == 3 && names[0] == "paris.txt",
        "vector search ranked {names:?}"
    );
    ensure_descending(&scores(&page)?)
}

#[harness::test(
    vector_io,
    embedding_model,
    needs(keyword_search),
    marks(vector_stores, embeddings)
)]
async fn keyword_mode_finds_only_the_document_with_the_words(ctx: &TestContext) -> Result {
    let kb = Kb::create(ctx, "mode-keyword", &DOCUMENTS).await?;
    let (names, page) = in_mode(&kb, ctx, "keyword").await?;
    ensure!(
        names == ["paris.txt"],
        "keyword search for {QUERY:?} found {names:?}"
    );
    let text = page["data"][0]["content"][0]["text"].as_str().unwrap_or("");
    ensure!(
        text.contains("Eiffel"),
        "the keyword hit does not hold the word: {text:?}"
    );
    Ok(())
}

#[harness::test(
    vector_io,
    embedding_model,
    needs(hybrid_search),
    marks(vector_stores, embeddings)
)]
async fn hybrid_mode_ranks_the_document_matching_both_first(ctx: &TestContext) -> Result {
    let kb = Kb::create(ctx, "mode-hybrid", &DOCUMENTS).await?;
    hybrid(&kb, ctx, Value::Null).await?;
    Ok(())
}

#[harness::test(
    vector_io,
    embedding_model,
    needs(hybrid_search, rrf_ranker),
    marks(vector_stores, embeddings)
)]
async fn the_rrf_ranker_scores_by_rank_with_its_impact_factor(ctx: &TestContext) -> Result {
    let kb = Kb::create(ctx, "ranker-rrf", &DOCUMENTS).await?;
    for k in [50.0, 1.0] {
        let (names, found) = hybrid(&kb, ctx, json!({"ranker": "rrf", "impact_factor": k})).await?;
        // First in both lists: 1/(k+1) twice.
        ensure_close(
            found[0],
            2.0 / (k + 1.0),
            &format!("rrf k={k} scores paris.txt"),
        )?;
        // In the vector list only, below it.
        for (name, score) in names.iter().zip(&found).skip(1) {
            ensure!(
                *score <= 1.0 / (k + 2.0) + 1e-9,
                "rrf k={k} scores {name} {score}, more than rank 2 of one list gives"
            );
        }
    }
    Ok(())
}

#[harness::test(
    vector_io,
    embedding_model,
    needs(hybrid_search, weighted_ranker),
    marks(vector_stores, embeddings)
)]
async fn the_weighted_ranker_mixes_by_alpha(ctx: &TestContext) -> Result {
    let kb = Kb::create(ctx, "ranker-weighted", &DOCUMENTS).await?;
    let alpha = 0.7;
    let (names, found) = hybrid(&kb, ctx, json!({"ranker": "weighted", "alpha": alpha})).await?;
    // Best in both lists, each normalised to 1.
    ensure_close(found[0], 1.0, "weighted scores paris.txt")?;
    // No keyword hit: at most alpha times a normalised vector score.
    for (name, score) in names.iter().zip(&found).skip(1) {
        ensure!(
            *score <= alpha + 1e-9,
            "weighted alpha={alpha} scores {name} {score} without a keyword hit"
        );
    }
    Ok(())
}

#[harness::test(
    vector_io,
    embedding_model,
    needs(hybrid_search, rrf_ranker, weighted_ranker),
    marks(vector_stores, embeddings)
)]
async fn rankers_without_parameters_use_the_stacks_defaults(ctx: &TestContext) -> Result {
    let kb = Kb::create(ctx, "ranker-defaults", &DOCUMENTS).await?;
    // llama-stack 0.7.3's defaults: rrf with impact factor 60, alpha 0.5.
    let (_, rrf) = hybrid(&kb, ctx, json!({"ranker": "rrf"})).await?;
    ensure_close(rrf[0], 2.0 / 61.0, "rrf without impact_factor")?;
    let (_, unranked) = hybrid(&kb, ctx, Value::Null).await?;
    ensure_close(unranked[0], 2.0 / 61.0, "hybrid without a ranker (rrf)")?;
    let (_, weighted) = hybrid(&kb, ctx, json!({"ranker": "weighted"})).await?;
    ensure_close(weighted[0], 1.0, "weighted without alpha")?;
    ensure!(
        weighted[1..].iter().all(|s| *s <= 0.5 + 1e-9),
        "weighted without alpha (0.5) scores {weighted:?}"
    );
    Ok(())
}

#[harness::test(
    vector_io,
    embedding_model,
    needs(hybrid_search, weighted_ranker),
    marks(vector_stores, embeddings)
)]
async fn a_threshold_keeps_only_fused_scores_above_it(ctx: &TestContext) -> Result {
    let kb = Kb::create(ctx, "ranker-threshold", &DOCUMENTS).await?;
    let ranking = json!({"ranker": "weighted", "alpha": 0.8});
    let (_, found) = hybrid(&kb, ctx, ranking.clone()).await?;
    // The threshold also applies to each list before they are fused, on
    // the provider's own scale, so it is kept low: half the lowest positive
    // fused score. The document last in the vector list and absent from the
    // keyword list fuses to 0 and must go.
    let lowest = found
        .iter()
        .copied()
        .filter(|s| *s > 0.0)
        .fold(f64::INFINITY, f64::min);
    ensure!(lowest.is_finite(), "weighted scores {found:?}");
    let threshold = lowest / 2.0;
    let mut with_threshold = ranking;
    with_threshold["score_threshold"] = json!(threshold);
    let (kept, kept_scores) = hybrid(&kb, ctx, with_threshold).await?;
    ensure!(
        kept_scores.iter().all(|s| *s >= threshold),
        "a threshold of {threshold} kept {kept:?} scoring {kept_scores:?}"
    );
    Ok(())
}

// The stack checks this before it asks the provider: no capability involved.
#[harness::test(vector_io, embedding_model, marks(vector_stores, embeddings))]
async fn the_neural_ranker_without_a_model_finds_nothing(ctx: &TestContext) -> Result {
    let kb = Kb::create(ctx, "ranker-neural", &DOCUMENTS).await?;
    let (names, page) = kb
        .search_with(
            ctx,
            json!({"query": QUERY, "search_mode": "hybrid", "max_num_results": 3, "ranking_options": {"ranker": "neural"}}),
        )
        .await?;
    ensure!(
        names.is_empty() && page["has_more"] == false,
        "a neural ranker without a model answered {page}"
    );
    Ok(())
}
