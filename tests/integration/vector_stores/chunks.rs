//! Chunks put in a store directly (`/v1/vector-io/insert`, with their
//! embeddings) and read back by `/v1/vector-io/query` and by the OpenAI
//! search.

use harness::prelude::*;

use super::kb::{Doc, create_store, embed, ensure_descending, insert_chunks, query_chunks};

fn docs() -> [Doc; 4] {
    [
        Doc {
            id: "python",
            text: "Python is a programming language that values readable code and lets programmers write fewer lines than C++ or Java.",
            metadata: json!({"topic": "programming"}),
        },
        Doc {
            id: "learning",
            text: "Machine learning lets computer systems learn from experience and improve without being explicitly programmed.",
            metadata: json!({"topic": "ai"}),
        },
        Doc {
            id: "structures",
            text: "Data structures organise data in memory so that programs can store and find it efficiently.",
            metadata: json!({"topic": "computer_science"}),
        },
        Doc {
            id: "neurons",
            text: "Neural networks copy the neurons of animal brains: connected nodes pass signals along weighted links.",
            metadata: json!({"topic": "ai"}),
        },
    ]
}

#[harness::test(
    vector_io,
    embedding_model,
    marks(vector_stores, embeddings),
    cases = "vector_stores/chunks.yaml"
)]
async fn a_query_finds_the_closest_inserted_chunk_first(ctx: &TestContext) -> Result {
    let store = create_store(ctx, "chunks").await?;
    insert_chunks(ctx, &store, &docs()).await?;
    let query = ctx.case()["query"].as_str().context("no query")?;
    let expected = ctx.case()["expect"].as_str().context("no expect")?;
    let (ids, answer) = query_chunks(ctx, &store, query, json!({"max_chunks": 4})).await?;
    ensure!(
        ids.first().map(String::as_str) == Some(expected),
        "{query:?} found {ids:?}, expected {expected} first"
    );
    ensure!(ids.len() > 1, "one chunk of four found: {ids:?}");
    let scores: Vec<f64> = answer["scores"]
        .as_array()
        .context("no scores")?
        .iter()
        .filter_map(Value::as_f64)
        .collect();
    ensure!(
        scores.len() == ids.len(),
        "{} scores for {} chunks",
        scores.len(),
        ids.len()
    );
    ensure_descending(&scores)
}

#[harness::test(
    vector_io,
    embedding_model,
    embedding_dimension,
    marks(vector_stores, embeddings)
)]
async fn a_query_answers_whole_chunks_as_they_were_inserted(ctx: &TestContext) -> Result {
    let store = create_store(ctx, "chunk-shape").await?;
    let doc = Doc {
        id: "precomputed",
        text: "This chunk came with an embedding computed before it was inserted.",
        metadata: json!({"source": "precomputed", "rank": 7}),
    };
    insert_chunks(ctx, &store, std::slice::from_ref(&doc)).await?;
    let (ids, answer) = query_chunks(
        ctx,
        &store,
        "an embedding computed before insertion",
        json!({"max_chunks": 3}),
    )
    .await?;
    ensure!(ids == ["precomputed"], "found {ids:?}");
    let chunk = &answer["chunks"][0];
    ensure!(
        chunk["content"] == doc.text && chunk["chunk_id"] == "chunk-precomputed",
        "the chunk came back as {chunk}"
    );
    ensure!(
        chunk["metadata"]["source"] == "precomputed" && chunk["metadata"]["rank"] == 7,
        "its metadata came back as {}",
        chunk["metadata"]
    );
    ensure!(
        chunk["chunk_metadata"]["document_id"] == "precomputed",
        "chunk_metadata {}",
        chunk["chunk_metadata"]
    );
    let stored = chunk["embedding"].as_array().context("no embedding")?;
    let dimension = ctx.embedding_dimension() as usize;
    ensure!(
        stored.len() == dimension && chunk["embedding_dimension"] == dimension,
        "an embedding of {} numbers, dimension {}, for a {dimension}-dimension model",
        stored.len(),
        chunk["embedding_dimension"]
    );
    ensure!(
        chunk["embedding_model"] == ctx.embedding_model(),
        "embedding_model {}",
        chunk["embedding_model"]
    );
    // The vector is stored as given (some stores keep 32-bit floats).
    let given = embed(ctx, &[doc.text]).await?.remove(0);
    let drift = stored
        .iter()
        .zip(&given)
        .map(|(s, g)| (s.as_f64().unwrap_or(f64::NAN) - g).abs())
        .fold(0.0, f64::max);
    ensure!(
        drift < 1e-4,
        "the stored embedding differs by up to {drift}"
    );
    Ok(())
}

#[harness::test(vector_io, embedding_model, marks(vector_stores, embeddings))]
async fn inserted_chunks_are_found_by_the_openai_search(ctx: &TestContext) -> Result {
    let store = create_store(ctx, "chunks-search").await?;
    insert_chunks(ctx, &store, &docs()).await?;
    let page = ctx
        .post_ok(
            &format!("/v1/vector_stores/{store}/search"),
            &json!({"query": "Which programming language values readable code?", "max_num_results": 3}),
        )
        .await?;
    let top = &page["data"][0];
    ensure!(
        top["file_id"] == "python" && top["attributes"]["topic"] == "programming",
        "the top result is {top}"
    );
    ensure!(
        top["content"][0]["text"] == docs()[0].text,
        "its content is {}",
        top["content"]
    );
    Ok(())
}

#[harness::test(
    vector_io,
    embedding_model,
    needs(metadata_filters),
    marks(vector_stores, embeddings, filters)
)]
async fn inserted_chunks_are_filtered_by_their_metadata(ctx: &TestContext) -> Result {
    let store = create_store(ctx, "chunks-filtered").await?;
    insert_chunks(ctx, &store, &docs()).await?;
    let page = ctx
        .post_ok(
            &format!("/v1/vector_stores/{store}/search"),
            &json!({
                "query": "artificial intelligence",
                "filters": {"type": "eq", "key": "topic", "value": "ai"},
                "max_num_results": 5,
            }),
        )
        .await?;
    let data = page["data"].as_array().context("no `data`")?;
    let mut found: Vec<&str> = data.iter().filter_map(|r| r["file_id"].as_str()).collect();
    found.sort_unstable();
    ensure!(
        found == ["learning", "neurons"],
        "topic = ai found {found:?}"
    );
    Ok(())
}
