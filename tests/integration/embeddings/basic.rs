//! One embedding through the stack.

use harness::prelude::*;

#[harness::test(embedding_model, embedding_dimension, marks(embeddings))]
async fn single_input_has_the_models_dimension(ctx: &TestContext) -> Result {
    let body = json!({"model": ctx.embedding_model(), "input": "The capital of France is Paris."});
    let response = ctx.post_ok("/v1/embeddings", &body).await?;
    let vector = response["data"][0]["embedding"].as_array().context("no embedding")?;
    ensure!(vector.len() == ctx.embedding_dimension() as usize, "dimension {} != {}", vector.len(), ctx.embedding_dimension());
    ensure!(vector.iter().all(Value::is_f64), "not all floats");
    Ok(())
}
