//! Streamed responses: numbered events from `response.created` to
//! `response.completed`, whose deltas make the same answer as without streaming.

use harness::prelude::*;

use super::support::{create, output_text, request};
use crate::common::chunks;

const QUESTION: &str = "What is the capital of France?";

async fn stream(ctx: &TestContext) -> Result<Vec<Value>> {
    let events = ctx
        .post_stream(
            "/v1/responses",
            &request(ctx, QUESTION, json!({"stream": true})),
        )
        .await?;
    Ok(chunks(&events).into_iter().cloned().collect())
}

fn deltas(events: &[Value]) -> String {
    events
        .iter()
        .filter(|e| e["type"] == "response.output_text.delta")
        .filter_map(|e| e["delta"].as_str())
        .collect()
}

#[harness::test(text_model, marks(responses, streaming))]
async fn stream_runs_from_created_to_completed_in_sequence(ctx: &TestContext) -> Result {
    let events = stream(ctx).await?;
    let types: Vec<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
    ensure!(types.len() == events.len(), "events without a type");
    ensure!(
        types.first() == Some(&"response.created"),
        "the stream starts with {:?}",
        types.first()
    );
    ensure!(
        types.last() == Some(&"response.completed"),
        "the stream ends with {:?}",
        types.last()
    );
    for (i, event) in events.iter().enumerate() {
        ensure!(
            event["sequence_number"] == i,
            "event {i} ({}) has sequence_number {}",
            types[i],
            event["sequence_number"]
        );
    }
    let id = &events[0]["response"]["id"];
    ensure!(
        events.last().is_some_and(|e| e["response"]["id"] == *id),
        "created and completed name different responses"
    );
    Ok(())
}

#[harness::test(text_model, marks(responses, streaming))]
async fn stream_deltas_make_the_completed_text(ctx: &TestContext) -> Result {
    let events = stream(ctx).await?;
    let completed = events.last().context("an empty stream")?;
    let (streamed, final_text) = (deltas(&events), output_text(&completed["response"])?);
    ensure!(!streamed.is_empty(), "no text deltas");
    ensure!(
        streamed == final_text,
        "deltas say {streamed:?}, the completed response {final_text:?}"
    );
    Ok(())
}

#[harness::test(text_model, marks(responses, streaming))]
async fn streaming_matches_non_streaming(ctx: &TestContext) -> Result {
    let whole = output_text(&create(ctx, QUESTION, json!({})).await?)?;
    let streamed = deltas(&stream(ctx).await?);
    ensure!(
        streamed == whole,
        "streamed {streamed:?}\n  but non-streaming said {whole:?}"
    );
    Ok(())
}
