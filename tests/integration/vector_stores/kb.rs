//! What the vector store tests share: stores on the trial's vector-io
//! provider, a small knowledge base of one-line documents uploaded and
//! attached to a new store, chunks inserted with embeddings the stack
//! computed, and readers of search pages. Everything a test makes is
//! deleted when it ends.
//!
//! Queries never repeat a document word for word: an identical text embeds
//! to the identical vector, whose distance 0 faiss and chroma turn into an
//! infinite score, which the stack cannot even serialise.

use std::collections::BTreeSet;

use harness::prelude::*;

use crate::common::upload;

pub const DOCUMENTS: [(&str, &str); 3] = [
    (
        "paris.txt",
        "Paris is the capital of France. The Eiffel Tower stands in Paris.\n",
    ),
    (
        "plants.txt",
        "Photosynthesis lets plants turn sunlight, water and carbon dioxide into sugar.\n",
    ),
    (
        "rust.txt",
        "The Rust compiler checks ownership and borrowing at compile time.\n",
    ),
];

/// A vector store and the files in it, by filename.
pub struct Kb {
    pub store: String,
    pub files: Vec<(&'static str, String)>,
}

impl Kb {
    /// A new store named `name` on the trial's vector-io provider, holding
    /// `documents`, all deleted when the test ends.
    pub async fn create(
        ctx: &TestContext,
        name: &str,
        documents: &[(&'static str, &str)],
    ) -> Result<Kb> {
        let store = create_store(ctx, name).await?;
        Kb::fill(ctx, store, documents, &[]).await
    }

    /// Like [`Kb::create`], each document attached with its attributes.
    pub async fn with_attributes(
        ctx: &TestContext,
        name: &str,
        documents: &[(&'static str, &str)],
        attributes: &[Value],
    ) -> Result<Kb> {
        let store = create_store(ctx, name).await?;
        Kb::fill(ctx, store, documents, attributes).await
    }

    /// Like [`Kb::create`], on the stack's default provider, for tests of
    /// other APIs that use a store (file_search).
    pub async fn on_default_provider(
        ctx: &TestContext,
        name: &str,
        documents: &[(&'static str, &str)],
    ) -> Result<Kb> {
        let store = ctx
            .post_ok("/v1/vector_stores", &json!({"name": name}))
            .await?;
        let store = id_of(&store)?;
        ctx.defer_delete(format!("/v1/vector_stores/{store}"));
        Kb::fill(ctx, store, documents, &[]).await
    }

    async fn fill(
        ctx: &TestContext,
        store: String,
        documents: &[(&'static str, &str)],
        attributes: &[Value],
    ) -> Result<Kb> {
        let mut kb = Kb {
            store,
            files: Vec::new(),
        };
        for (i, (filename, text)) in documents.iter().enumerate() {
            let id = upload_text(ctx, filename, text).await?;
            kb.files.push((filename, id.clone()));
            let mut body = json!({"file_id": id});
            if let Some(attributes) = attributes.get(i) {
                body["attributes"] = attributes.clone();
            }
            let attached = ctx.post_ok(&kb.path("/files"), &body).await?;
            ensure!(
                attached["status"] == "completed",
                "attaching {filename} left it {}: {attached}",
                attached["status"]
            );
        }
        Ok(kb)
    }

    /// `/v1/vector_stores/<id><rest>`.
    pub fn path(&self, rest: &str) -> String {
        format!("/v1/vector_stores/{}{rest}", self.store)
    }

    /// The id of the file uploaded as `filename`.
    pub fn file(&self, filename: &str) -> Result<&str> {
        let found = self.files.iter().find(|(name, _)| *name == filename);
        Ok(found
            .with_context(|| format!("no {filename} in this store"))?
            .1
            .as_str())
    }

    /// Searches the store; the results' filenames, best first, and the page.
    pub async fn search(
        &self,
        ctx: &TestContext,
        query: &str,
        max: u32,
    ) -> Result<(Vec<String>, Value)> {
        self.search_with(ctx, json!({"query": query, "max_num_results": max}))
            .await
    }

    /// Searches with a request body of the test's own (`search_mode`,
    /// `filters`, `ranking_options`, ...).
    pub async fn search_with(
        &self,
        ctx: &TestContext,
        body: Value,
    ) -> Result<(Vec<String>, Value)> {
        let page = ctx.post_ok(&self.path("/search"), &body).await?;
        Ok((filenames(&page)?, page))
    }
}

/// The filenames of a search page's results, best first.
pub fn filenames(page: &Value) -> Result<Vec<String>> {
    let data = page["data"]
        .as_array()
        .with_context(|| format!("no `data` list in {page}"))?;
    Ok(data
        .iter()
        .map(|r| r["filename"].as_str().unwrap_or("?").to_owned())
        .collect())
}

/// The scores of a search page's results, in order; each must be there.
pub fn scores(page: &Value) -> Result<Vec<f64>> {
    page["data"]
        .as_array()
        .context("no `data` list")?
        .iter()
        .map(|r| {
            r["score"]
                .as_f64()
                .with_context(|| format!("a result without a score: {r}"))
        })
        .collect()
}

/// Checks that scores come best first.
pub fn ensure_descending(scores: &[f64]) -> Result {
    ensure!(
        scores.windows(2).all(|w| w[0] >= w[1]),
        "scores not in descending order: {scores:?}"
    );
    Ok(())
}

/// The set of some strings, for comparing results whose order among equal
/// scores is not defined.
pub fn set<S: AsRef<str>>(items: &[S]) -> BTreeSet<String> {
    items.iter().map(|s| s.as_ref().to_owned()).collect()
}

/// Whether two JSON values are equal, numbers compared as numbers: the
/// stack gives attributes back as floats (`7` comes back as `7.0`), as
/// OpenAI's attribute values are strings, numbers or booleans.
pub fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// A document's text as the stack keeps it: llama-stack 0.7.3 keeps it as
/// uploaded; OGX 1.5 cleans it before chunking it (its file processor
/// collapses whitespace and drops the last newline).
pub fn as_stored<'a>(ctx: &TestContext, text: &'a str) -> Result<&'a str> {
    Ok(match ctx.stack()?.launcher() {
        LauncherKind::LlamaStack => text,
        LauncherKind::Ogx => text.trim_end(),
    })
}

/// The ids of a list page's `data`, in order.
pub fn list_ids(page: &Value) -> Result<Vec<String>> {
    page["data"]
        .as_array()
        .with_context(|| format!("no `data` in {page}"))?
        .iter()
        .map(id_of)
        .collect()
}

/// An object's `id`.
pub fn id_of(object: &Value) -> Result<String> {
    Ok(object["id"]
        .as_str()
        .with_context(|| format!("no id in {object}"))?
        .to_owned())
}

/// Creates an empty store named `name` on the trial's vector-io provider,
/// deleted when the test ends; its id.
pub async fn create_store(ctx: &TestContext, name: &str) -> Result<String> {
    id_of(&new_store(ctx, json!({"name": name})).await?)
}

/// Creates a store from `body` on the trial's vector-io provider (its
/// `provider_id` is added), deleted when the test ends; the store.
pub async fn new_store(ctx: &TestContext, mut body: Value) -> Result<Value> {
    body["provider_id"] = json!(ctx.vector_io());
    let store = ctx.post_ok("/v1/vector_stores", &body).await?;
    ctx.defer_delete(format!("/v1/vector_stores/{}", id_of(&store)?));
    Ok(store)
}

/// Uploads `text` as `filename` for the assistants, deleted when the test
/// ends; the file's id.
pub async fn upload_text(ctx: &TestContext, filename: &str, text: &str) -> Result<String> {
    let id = upload(ctx, filename, text.as_bytes(), "assistants").await?;
    ctx.defer_delete(format!("/v1/files/{id}"));
    Ok(id)
}

/// A chunk for `/v1/vector-io/insert`: its text and metadata.
pub struct Doc {
    pub id: &'static str,
    pub text: &'static str,
    pub metadata: Value,
}

/// Inserts `docs` into `store` as one chunk each, embedded by the stack's
/// embedding model (through `/v1/embeddings`, so the vectors are the ones
/// the store's own queries are compared with); `metadata.document_id` is
/// the doc's id.
pub async fn insert_chunks(ctx: &TestContext, store: &str, docs: &[Doc]) -> Result {
    let texts: Vec<&str> = docs.iter().map(|d| d.text).collect();
    let embeddings = embed(ctx, &texts).await?;
    let chunks: Vec<Value> = docs
        .iter()
        .zip(embeddings)
        .map(|(doc, embedding)| {
            let mut metadata = doc.metadata.clone();
            metadata["document_id"] = json!(doc.id);
            json!({
                "content": doc.text,
                "chunk_id": format!("chunk-{}", doc.id),
                "metadata": metadata,
                "chunk_metadata": {"document_id": doc.id, "chunk_id": format!("chunk-{}", doc.id)},
                "embedding_dimension": embedding.len(),
                "embedding": embedding,
                "embedding_model": ctx.embedding_model(),
            })
        })
        .collect();
    ctx.post(
        "/v1/vector-io/insert",
        &json!({"vector_store_id": store, "chunks": chunks}),
    )
    .await?
    .ok()?;
    Ok(())
}

/// The embeddings of `texts` by the trial's embedding model.
pub async fn embed(ctx: &TestContext, texts: &[&str]) -> Result<Vec<Vec<f64>>> {
    let body = json!({"model": ctx.embedding_model(), "input": texts});
    let answer = ctx.post_ok("/v1/embeddings", &body).await?;
    let data = answer["data"]
        .as_array()
        .context("no `data` in the embeddings")?;
    ensure!(
        data.len() == texts.len(),
        "{} embeddings for {} texts",
        data.len(),
        texts.len()
    );
    data.iter()
        .map(|d| {
            d["embedding"]
                .as_array()
                .context("an embedding that is not a list")?
                .iter()
                .map(|x| x.as_f64().context("a component that is not a number"))
                .collect()
        })
        .collect()
}

/// Queries `store` through `/v1/vector-io/query` with `params`; the
/// document ids of the chunks found, best first, and the answer.
pub async fn query_chunks(
    ctx: &TestContext,
    store: &str,
    query: &str,
    params: Value,
) -> Result<(Vec<String>, Value)> {
    let body = json!({"vector_store_id": store, "query": query, "params": params});
    let answer = ctx.post_ok("/v1/vector-io/query", &body).await?;
    let chunks = answer["chunks"]
        .as_array()
        .with_context(|| format!("no `chunks` in {answer}"))?;
    let ids = chunks
        .iter()
        .map(|c| {
            c["metadata"]["document_id"]
                .as_str()
                .unwrap_or("?")
                .to_owned()
        })
        .collect();
    Ok((ids, answer))
}
