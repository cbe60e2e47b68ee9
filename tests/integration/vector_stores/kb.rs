//! A small knowledge base the vector store tests share: three one-line
//! documents on unrelated topics, uploaded and attached to a new store. The
//! store and the files are deleted when the test ends.

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
    /// A new store named `name` holding `documents`, all deleted when the
    /// test ends.
    pub async fn create(
        ctx: &TestContext,
        name: &str,
        documents: &[(&'static str, &str)],
    ) -> Result<Kb> {
        let store = create_store(ctx, name).await?;
        let mut kb = Kb {
            store,
            files: Vec::new(),
        };
        for (filename, text) in documents {
            let id = upload(ctx, filename, text.as_bytes(), "assistants").await?;
            ctx.defer_delete(format!("/v1/files/{id}"));
            kb.files.push((filename, id.clone()));
            let attached = ctx
                .post_ok(&kb.path("/files"), &json!({"file_id": id}))
                .await?;
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
        let page = ctx
            .post_ok(
                &self.path("/search"),
                &json!({"query": query, "max_num_results": max}),
            )
            .await?;
        let data = page["data"].as_array().context("no `data` list")?;
        let names = data
            .iter()
            .map(|r| r["filename"].as_str().unwrap_or("?").to_owned())
            .collect();
        Ok((names, page))
    }
}

/// Creates an empty store, deleted when the test ends; its id.
pub async fn create_store(ctx: &TestContext, name: &str) -> Result<String> {
    let store = ctx
        .post_ok("/v1/vector_stores", &json!({"name": name}))
        .await?;
    let id = store["id"]
        .as_str()
        .with_context(|| format!("no id in {store}"))?;
    ctx.defer_delete(format!("/v1/vector_stores/{id}"));
    Ok(id.to_owned())
}
