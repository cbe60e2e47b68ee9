//! Responses linked to a conversation (`conversation: conv_…`): each turn's
//! input and answer are added to its items, and its items are the context
//! of the next turn.

use harness::prelude::*;

use super::context::new_conversation;
use super::support::{
    create_capped, ensure_answers_like_chat, output_text, request, short, stream_events,
};
use crate::common::{merged, user};

const CAP: u64 = 16;

async fn items(ctx: &TestContext, conversation: &str) -> Result<Vec<Value>> {
    let list = ctx
        .get_ok(&format!("/v1/conversations/{conversation}/items?order=asc"))
        .await?;
    Ok(list["data"].as_array().context("no `data` list")?.clone())
}

/// A new conversation and two responses in it: "My name is Ada.", then
/// "What is my name?".
async fn two_turns(ctx: &TestContext) -> Result<(String, Value, Value)> {
    let conversation = new_conversation(ctx).await?;
    let extra = merged(json!({"conversation": conversation}), short(CAP));
    let first = create_capped(ctx, "My name is Ada.", extra.clone()).await?;
    let second = create_capped(ctx, "What is my name?", extra).await?;
    Ok((conversation, first, second))
}

/// The text of a conversation item (a string, or text parts).
fn item_text(item: &Value) -> String {
    match &item["content"] {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts.iter().filter_map(|p| p["text"].as_str()).collect(),
        _ => String::new(),
    }
}

#[harness::test(
    text_model,
    marks(responses, conversations),
    only(
        stacks = "llama-stack",
        reason = "caps the answer with `short`, a body field OGX 1.5 drops (responses/support.rs says why)"
    )
)]
async fn two_turns_in_a_conversation_add_four_items(ctx: &TestContext) -> Result {
    let (conversation, first, second) = two_turns(ctx).await?;
    // Not in order: llama-stack 0.7.3 stamps items with whole seconds, so two
    // turns in one second (a replay) list in no set order.
    let items = items(ctx, &conversation).await?;
    ensure!(items.len() == 4, "{} items after two turns", items.len());
    let with = |id: &Value| items.iter().any(|i| i["id"] == *id && i["role"] == "assistant");
    ensure!(
        with(&first["output"][0]["id"]) && with(&second["output"][0]["id"]),
        "the answers are not the assistant items: {items:?}"
    );
    let mut inputs: Vec<String> = items
        .iter()
        .filter(|i| i["role"] == "user")
        .map(item_text)
        .collect();
    inputs.sort();
    ensure!(
        inputs == ["My name is Ada.", "What is my name?"],
        "the inputs are stored as {inputs:?}"
    );
    Ok(())
}

#[harness::test(
    text_model,
    marks(responses, conversations),
    only(
        stacks = "llama-stack",
        reason = "caps the answer with `short`, a body field OGX 1.5 drops (responses/support.rs says why)"
    )
)]
async fn second_turn_answers_from_the_conversation(ctx: &TestContext) -> Result {
    let (_, first, second) = two_turns(ctx).await?;
    let history = json!([
        user("My name is Ada."),
        {"role": "assistant", "content": output_text(&first)?},
        user("What is my name?"),
    ]);
    ensure_answers_like_chat(ctx, &second, history, CAP).await
}

#[harness::test(
    text_model,
    marks(responses, conversations),
    xfail(
        reason = "llama-stack 0.7.3 sends the new input of a conversation that has items added by hand as a list of text parts; the local upstream's (llama-cpp-python 0.3.36) chat template cannot render a list, its stream ends with no events, and the stack reports that as a completed, empty answer",
        contains = "answered \"\"; chat over"
    ),
    only(
        stacks = "llama-stack",
        reason = "caps the answer with `short`, a body field OGX 1.5 drops (responses/support.rs says why)"
    )
)]
async fn items_added_by_hand_are_context(ctx: &TestContext) -> Result {
    let conversation = new_conversation(ctx).await?;
    let given = json!({"items": [{"type": "message", "role": "user", "content": "My name is Ada."}]});
    ctx.post_ok(&format!("/v1/conversations/{conversation}/items"), &given)
        .await?;
    let response = create_capped(
        ctx,
        "What is my name?",
        merged(json!({"conversation": conversation}), short(CAP)),
    )
    .await?;
    let history = json!([user("My name is Ada."), user("What is my name?")]);
    ensure_answers_like_chat(ctx, &response, history, CAP).await
}

#[harness::test(
    text_model,
    marks(responses, conversations, streaming),
    only(
        stacks = "llama-stack",
        reason = "caps the answer with `short`, a body field OGX 1.5 drops (responses/support.rs says why)"
    )
)]
async fn streamed_turn_is_added_to_the_conversation(ctx: &TestContext) -> Result {
    let conversation = new_conversation(ctx).await?;
    let body = request(
        ctx,
        "My name is Ada.",
        merged(json!({"conversation": conversation}), short(CAP)),
    );
    let events = stream_events(ctx, &body).await?;
    let last = &events.last().context("an empty stream")?["response"];
    let items = items(ctx, &conversation).await?;
    ensure!(items.len() == 2, "{} items after a streamed turn", items.len());
    ensure!(
        items[1]["id"] == last["output"][0]["id"],
        "the streamed answer {} is not the assistant item {}",
        last["output"][0]["id"],
        items[1]["id"]
    );
    Ok(())
}

#[harness::test(
    text_model,
    marks(responses, conversations),
    only(
        stacks = "llama-stack",
        reason = "caps the answer with `short`, a body field OGX 1.5 drops (responses/support.rs says why)"
    )
)]
async fn response_without_a_conversation_touches_none(ctx: &TestContext) -> Result {
    let conversation = new_conversation(ctx).await?;
    create_capped(ctx, "My name is Ada.", short(CAP)).await?;
    let items = items(ctx, &conversation).await?;
    ensure!(items.is_empty(), "an unrelated response added {items:?}");
    Ok(())
}
