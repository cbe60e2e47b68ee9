//! Embeddings through the stack: one input or many, in the model's dimension,
//! as floats or base64.

use base64::Engine as _;
use harness::prelude::*;


const TEXTS: [&str; 3] = [
    "a cat sleeps on the sofa",
    "a dog runs in the park",
    "a car drives on the road",
];

async fn embed(ctx: &TestContext, input: Value, extra: Value) -> Result<Value> {
    let mut body = json!({"model": ctx.embedding_model(), "input": input});
    crate::common::merge(&mut body, extra);
    ctx.post_ok("/v1/embeddings", &body).await
}

/// The float vectors of a response, checked to be in input order.
fn vectors(response: &Value) -> Result<Vec<Vec<f64>>> {
    let data = response["data"].as_array().context("no `data` list")?;
    let mut out = Vec::new();
    for (i, item) in data.iter().enumerate() {
        ensure!(item["index"] == i, "item {i} has index {}", item["index"]);
        ensure!(
            item["object"] == "embedding",
            "item {i} is a {}",
            item["object"]
        );
        let vector = item["embedding"]
            .as_array()
            .with_context(|| format!("item {i} is not a float list"))?;
        out.push(
            vector
                .iter()
                .map(|x| x.as_f64().context("not a number"))
                .collect::<Result<_>>()?,
        );
    }
    Ok(out)
}

fn cosine(a: &[f64], b: &[f64]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
    dot / (norm(a) * norm(b))
}

#[harness::test(embedding_model, embedding_dimension, marks(embeddings))]
async fn single_input_has_the_models_dimension(ctx: &TestContext) -> Result {
    let response = embed(ctx, json!(TEXTS[0]), json!({})).await?;
    let vectors = vectors(&response)?;
    ensure!(
        vectors.len() == 1,
        "{} vectors for one input",
        vectors.len()
    );
    let dimension = ctx.embedding_dimension() as usize;
    ensure!(
        vectors[0].len() == dimension,
        "dimension {} != {dimension}",
        vectors[0].len()
    );
    ensure!(
        response["model"] == ctx.embedding_model(),
        "model is {}",
        response["model"]
    );
    Ok(())
}

#[harness::test(embedding_model, embedding_dimension, marks(embeddings))]
async fn batch_input_gives_one_vector_per_input_in_order(ctx: &TestContext) -> Result {
    let batch = vectors(&embed(ctx, json!(TEXTS), json!({})).await?)?;
    ensure!(
        batch.len() == TEXTS.len(),
        "{} vectors for {} inputs",
        batch.len(),
        TEXTS.len()
    );
    let dimension = ctx.embedding_dimension() as usize;
    ensure!(
        batch.iter().all(|v| v.len() == dimension),
        "vectors of mixed dimensions"
    );
    // Each batch vector is the one its text gets alone: order is kept.
    let alone = vectors(&embed(ctx, json!(TEXTS[1]), json!({})).await?)?;
    let similarity = cosine(&batch[1], &alone[0]);
    ensure!(
        similarity > 0.999,
        "batch item 1 is not its text's vector (cosine {similarity})"
    );
    Ok(())
}

#[harness::test(embedding_model, marks(embeddings))]
async fn different_texts_get_different_vectors(ctx: &TestContext) -> Result {
    let batch = vectors(&embed(ctx, json!(TEXTS), json!({})).await?)?;
    for i in 0..batch.len() {
        for j in i + 1..batch.len() {
            let similarity = cosine(&batch[i], &batch[j]);
            ensure!(
                similarity < 0.999,
                "texts {i} and {j} got the same vector (cosine {similarity})"
            );
        }
    }
    Ok(())
}

#[harness::test(embedding_model, marks(embeddings, usage))]
async fn usage_counts_the_input_tokens(ctx: &TestContext) -> Result {
    let response = embed(ctx, json!(TEXTS), json!({})).await?;
    let usage = &response["usage"];
    let prompt = usage["prompt_tokens"]
        .as_u64()
        .with_context(|| format!("no prompt_tokens in {usage}"))?;
    ensure!(
        prompt >= TEXTS.len() as u64,
        "{prompt} tokens for {} texts",
        TEXTS.len()
    );
    ensure!(
        usage["total_tokens"] == prompt,
        "total_tokens {} != prompt_tokens {prompt}",
        usage["total_tokens"]
    );
    Ok(())
}

#[harness::test(
    embedding_model,
    marks(embeddings),
    xfail(
        reason = "the local upstream (llama-cpp-python 0.3) ignores encoding_format=base64 and answers floats, which llama-stack 0.7.3 (and OGX 1.5) relays unencoded",
        contains = "the base64 embedding is not a string"
    )
)]
async fn base64_encoding_decodes_to_the_float_vector(ctx: &TestContext) -> Result {
    let floats = vectors(&embed(ctx, json!(TEXTS[0]), json!({"encoding_format": "float"})).await?)?;
    let encoded = embed(ctx, json!(TEXTS[0]), json!({"encoding_format": "base64"})).await?;
    let text = encoded["data"][0]["embedding"]
        .as_str()
        .context("the base64 embedding is not a string")?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .context("not base64")?;
    ensure!(
        bytes.len() % 4 == 0,
        "{} bytes is not a whole number of f32s",
        bytes.len()
    );
    let decoded: Vec<f64> = bytes
        .chunks_exact(4)
        .map(|b| f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])))
        .collect();
    ensure!(
        decoded.len() == floats[0].len(),
        "{} decoded values, {} floats",
        decoded.len(),
        floats[0].len()
    );
    let worst = decoded
        .iter()
        .zip(&floats[0])
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    ensure!(worst < 1e-5, "base64 and float differ by up to {worst}");
    Ok(())
}

#[harness::test(text_model, marks(embeddings, errors))]
async fn a_chat_model_is_refused_naming_its_type(ctx: &TestContext) -> Result {
    let body = json!({"model": ctx.text_model(), "input": TEXTS[0]});
    let response = ctx.post("/v1/embeddings", &body).await?;
    response.expect_error(400, &[ctx.text_model(), "'llm'", "'embedding'"])
}

#[harness::test(embedding_model, marks(embeddings, errors))]
async fn empty_input_list_is_a_400(ctx: &TestContext) -> Result {
    let response = ctx
        .post(
            "/v1/embeddings",
            &json!({"model": ctx.embedding_model(), "input": []}),
        )
        .await?;
    response.expect_error(400, &["input", "at least 1 item"])
}

#[harness::test(embedding_model, marks(embeddings, errors))]
async fn unknown_encoding_format_is_a_400_listing_the_valid_ones(ctx: &TestContext) -> Result {
    let body = json!({"model": ctx.embedding_model(), "input": TEXTS[0], "encoding_format": "hex"});
    let response = ctx.post("/v1/embeddings", &body).await?;
    response.expect_error(400, &["encoding_format", "'float' or 'base64'"])
}
