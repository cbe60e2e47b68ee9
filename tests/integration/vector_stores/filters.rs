//! Metadata filters: every comparison (`eq`, `ne`, `gt`, `gte`, `lt`,
//! `lte`, `in`, `nin`) on strings, numbers and booleans, and compound
//! filters (`and`, `or`, nested), through the chunk API
//! (`/v1/vector-io/query`, `params.filters`; one case each in
//! `test_cases/vector_stores/filters.yaml`) and the OpenAI search (`filters`,
//! on chunk metadata and on file attributes).
//!
//! Five chunks with known metadata are inserted, and every query asks for
//! more results than there are chunks, so each filter must return exactly
//! the chunks it matches: a filter ignored, or applied after the top-k cut,
//! shows as a wrong set.

use std::collections::BTreeSet;

use harness::prelude::*;

use super::kb::{Doc, Kb, create_store, filenames, insert_chunks, query_chunks, same, set};

fn corpus() -> [Doc; 5] {
    [
        Doc {
            id: "rust",
            text: "Rust guarantees memory safety without a garbage collector.",
            metadata: json!({"topic": "programming", "category": "languages", "priority": 1, "featured": true, "year": 2015}),
        },
        Doc {
            id: "descent",
            text: "Gradient descent trains neural networks by following the slope of the loss.",
            metadata: json!({"topic": "ai", "category": "technology", "priority": 2, "featured": true, "year": 2021}),
        },
        Doc {
            id: "hashmap",
            text: "A hash map stores values under keys for constant-time lookup.",
            metadata: json!({"topic": "computer_science", "category": "fundamentals", "priority": 3, "featured": false, "year": 2019}),
        },
        Doc {
            id: "attention",
            text: "Transformers are neural networks that use attention to relate each word to the others.",
            metadata: json!({"topic": "ai", "category": "technology", "priority": 1, "featured": true, "year": 2022}),
        },
        Doc {
            id: "python",
            text: "Python reads like pseudocode and runs almost everywhere.",
            metadata: json!({"topic": "programming", "category": "languages", "priority": 2, "featured": false, "year": 2018}),
        },
    ]
}

/// A store on the trial's provider holding [`corpus`].
async fn corpus_store(ctx: &TestContext, name: &str) -> Result<String> {
    let store = create_store(ctx, name).await?;
    insert_chunks(ctx, &store, &corpus()).await?;
    Ok(store)
}

/// The documents a chunk query finds with `filters` (`Value::Null`: none),
/// as a set: order among them is not what filters decide.
async fn matching(ctx: &TestContext, filters: Value) -> Result<BTreeSet<String>> {
    let store = corpus_store(ctx, "filters").await?;
    let mut params = json!({"max_chunks": 10});
    if !filters.is_null() {
        params["filters"] = filters;
    }
    let (ids, answer) = query_chunks(ctx, &store, "technology and programming", params).await?;
    ensure!(
        answer["scores"].as_array().map(Vec::len) == Some(ids.len()),
        "{} chunks but scores {}",
        ids.len(),
        answer["scores"]
    );
    let found = set(&ids);
    ensure!(found.len() == ids.len(), "a chunk found twice: {ids:?}");
    Ok(found)
}

fn eq(key: &str, value: Value) -> Value {
    json!({"type": "eq", "key": key, "value": value})
}

/// Checks that `filters` matches exactly `expected`.
async fn ensure_matches(ctx: &TestContext, filters: Value, expected: &[&str]) -> Result {
    let found = matching(ctx, filters.clone()).await?;
    ensure!(
        found == set(expected),
        "the filter {filters} matched {found:?}, expected {:?}",
        set(expected)
    );
    Ok(())
}

/// One filter per case of `test_cases/vector_stores/filters.yaml`: every
/// comparison on strings, numbers and booleans, `and`, `or`, nested, and one
/// that matches nothing.
#[harness::test(
    vector_io,
    embedding_model,
    needs(metadata_filters),
    marks(vector_stores, filters),
    cases = "vector_stores/filters.yaml"
)]
async fn a_filter_keeps_exactly_the_chunks_it_matches(ctx: &TestContext) -> Result {
    let filter = ctx.case()["filter"].clone();
    let expected: Vec<String> = ctx.case_as::<Expected>()?.expect;
    let expected: Vec<&str> = expected.iter().map(String::as_str).collect();
    ensure_matches(ctx, filter, &expected).await
}

#[derive(serde::Deserialize)]
struct Expected {
    expect: Vec<String>,
}

// Every provider, filters or not: without a filter nothing is filtered.
#[harness::test(vector_io, embedding_model, marks(vector_stores, filters))]
async fn without_a_filter_every_chunk_is_found(ctx: &TestContext) -> Result {
    let all = corpus().map(|d| d.id);
    ensure_matches(ctx, Value::Null, &all).await
}

/// The document ids of an OpenAI search of [`corpus`] with `filters`.
async fn search_corpus(ctx: &TestContext, query: &str, filters: Value) -> Result<BTreeSet<String>> {
    let store = corpus_store(ctx, "search-filters").await?;
    let page = ctx
        .post_ok(
            &format!("/v1/vector_stores/{store}/search"),
            &json!({"query": query, "filters": filters, "max_num_results": 10}),
        )
        .await?;
    let data = page["data"].as_array().context("no `data`")?;
    // Inserted chunks have no file: the chunk's metadata is the result's
    // attributes, its document id the result's file_id.
    for result in data {
        ensure!(
            result["attributes"]["document_id"] == result["file_id"],
            "a result's attributes {} and file_id {}",
            result["attributes"],
            result["file_id"]
        );
    }
    Ok(data
        .iter()
        .map(|r| r["file_id"].as_str().unwrap_or("?").to_owned())
        .collect())
}

#[harness::test(
    vector_io,
    embedding_model,
    needs(metadata_filters),
    marks(vector_stores, filters)
)]
async fn search_takes_a_comparison_filter(ctx: &TestContext) -> Result {
    let found = search_corpus(
        ctx,
        "programming language",
        eq("topic", json!("programming")),
    )
    .await?;
    ensure!(
        found == set(&["rust", "python"]),
        "topic = programming found {found:?}"
    );
    Ok(())
}

#[harness::test(
    vector_io,
    embedding_model,
    needs(metadata_filters),
    marks(vector_stores, filters)
)]
async fn search_takes_a_compound_filter(ctx: &TestContext) -> Result {
    let filter = json!({"type": "and", "filters": [
        eq("category", json!("technology")),
        eq("featured", json!(true)),
    ]});
    let found = search_corpus(ctx, "artificial intelligence", filter).await?;
    ensure!(
        found == set(&["descent", "attention"]),
        "technology and featured found {found:?}"
    );
    Ok(())
}

#[harness::test(
    vector_io,
    embedding_model,
    needs(keyword_search, metadata_filters),
    marks(vector_stores, filters)
)]
async fn filters_apply_to_keyword_search(ctx: &TestContext) -> Result {
    let store = corpus_store(ctx, "keyword-filters").await?;
    let search = |filters: Value| {
        let mut params = json!({"max_chunks": 10, "mode": "keyword"});
        if !filters.is_null() {
            params["filters"] = filters;
        }
        query_chunks(ctx, &store, "networks", params)
    };
    let (all, _) = search(Value::Null).await?;
    ensure!(
        set(&all) == set(&["descent", "attention"]),
        "keyword `networks` found {all:?}"
    );
    let (recent, _) = search(json!({"type": "gte", "key": "year", "value": 2022})).await?;
    ensure!(
        recent == ["attention"],
        "filtered to 2022 on, found {recent:?}"
    );
    Ok(())
}

#[harness::test(
    vector_io,
    embedding_model,
    needs(hybrid_search, metadata_filters),
    marks(vector_stores, filters)
)]
async fn filters_apply_to_hybrid_search(ctx: &TestContext) -> Result {
    let store = corpus_store(ctx, "hybrid-filters").await?;
    let params =
        json!({"max_chunks": 10, "mode": "hybrid", "filters": eq("topic", json!("programming"))});
    let (found, _) = query_chunks(ctx, &store, "neural networks", params).await?;
    // The keyword hits (descent, attention) are filtered out; the vector
    // hits are too, but for the programming ones.
    ensure!(
        set(&found) == set(&["rust", "python"]),
        "hybrid `neural networks` filtered to programming found {found:?}"
    );
    Ok(())
}

#[harness::test(
    vector_io,
    embedding_model,
    needs(metadata_filters),
    marks(vector_stores, filters, files)
)]
async fn file_attributes_are_filterable(ctx: &TestContext) -> Result {
    let documents = [
        (
            "ai.txt",
            "Artificial intelligence and machine learning transform industries.\n",
        ),
        (
            "programming.txt",
            "Python programming and software development are useful skills.\n",
        ),
        (
            "biology.txt",
            "Biology and genetics are studied in life sciences research.\n",
        ),
    ];
    let attributes = [
        json!({"topic": "ai", "priority": 1, "featured": true}),
        json!({"topic": "programming", "priority": 2, "featured": true}),
        json!({"topic": "biology", "priority": 3, "featured": false}),
    ];
    let kb = Kb::with_attributes(ctx, "attribute-filters", &documents, &attributes).await?;
    let cases = [
        (eq("topic", json!("ai")), vec!["ai.txt"]),
        (
            json!({"type": "lte", "key": "priority", "value": 2}),
            vec!["ai.txt", "programming.txt"],
        ),
        (
            json!({"type": "or", "filters": [eq("topic", json!("ai")), eq("topic", json!("programming"))]}),
            vec!["ai.txt", "programming.txt"],
        ),
        (
            eq("featured", json!(true)),
            vec!["ai.txt", "programming.txt"],
        ),
    ];
    for (filter, expected) in cases {
        let body =
            json!({"query": "technology and innovation", "filters": filter, "max_num_results": 10});
        let (_, page) = kb.search_with(ctx, body).await?;
        let found = filenames(&page)?;
        ensure!(
            set(&found) == set(&expected),
            "the filter {filter} found {found:?}, expected {expected:?}"
        );
        for result in page["data"].as_array().context("no `data`")? {
            let file = result["filename"].as_str().unwrap_or("?");
            let index = documents
                .iter()
                .position(|(name, _)| *name == file)
                .with_context(|| format!("an unknown file {file}"))?;
            for (key, value) in attributes[index].as_object().context("attributes")? {
                ensure!(
                    same(&result["attributes"][key], value),
                    "{file} came back with attributes {}",
                    result["attributes"]
                );
            }
        }
    }
    Ok(())
}
