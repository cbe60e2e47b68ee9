//! Helpers the test files share: request bodies with deterministic sampling,
//! readers of the stack's answers, and uploads.

use harness::prelude::*;
use harness::reqwest::multipart::{Form, Part};

/// The sampling every model call uses: greedy decoding with a fixed seed, so
/// a recording made once replays the same answer.
pub const SEED: u64 = 42;

/// A user message.
pub fn user(text: &str) -> Value {
    json!({"role": "user", "content": text})
}

/// A `/v1/chat/completions` body for `messages`, greedy, with `extra` merged
/// in (its keys win).
pub fn chat_request(ctx: &TestContext, messages: Value, extra: Value) -> Value {
    let mut body = json!({
        "model": ctx.text_model(),
        "messages": messages,
        "temperature": 0.0,
        "seed": SEED,
    });
    merge(&mut body, extra);
    body
}

/// Overwrites `base`'s keys with `extra`'s (one level deep, which is all a
/// request body needs).
pub fn merge(base: &mut Value, extra: Value) {
    if let (Some(base), Value::Object(extra)) = (base.as_object_mut(), extra) {
        base.extend(extra);
    }
}

/// The first choice of a chat completion, checked for the shape every answer
/// has whatever the model said.
pub fn first_choice(response: &Value) -> Result<&Value> {
    let choices = response["choices"]
        .as_array()
        .context("no `choices` list")?;
    let choice = choices
        .first()
        .with_context(|| format!("no choice in {response}"))?;
    ensure!(
        choice["index"] == 0,
        "the first choice has index {}",
        choice["index"]
    );
    Ok(choice)
}

/// The assistant's text in a chat completion (empty when it only called tools).
pub fn message_text(response: &Value) -> Result<String> {
    let message = &first_choice(response)?["message"];
    ensure!(
        message["role"] == "assistant",
        "the message's role is {}",
        message["role"]
    );
    Ok(message["content"].as_str().unwrap_or_default().to_owned())
}

/// The first choice's finish reason.
pub fn finish_reason(response: &Value) -> Result<String> {
    let reason = first_choice(response)?["finish_reason"].as_str();
    Ok(reason
        .context("the first choice has no finish_reason")?
        .to_owned())
}

/// The JSON chunks of a stream, without the final `[DONE]`.
pub fn chunks(events: &[StreamEvent]) -> Vec<&Value> {
    events.iter().filter_map(StreamEvent::data).collect()
}

/// A chat stream's text: the first choice's content deltas, in order.
pub fn streamed_text(events: &[StreamEvent]) -> String {
    chunks(events)
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect()
}

/// The one finish reason a stream gives, on its last choice-bearing chunk.
pub fn streamed_finish_reason(events: &[StreamEvent]) -> Result<String> {
    let reasons: Vec<&str> = chunks(events)
        .iter()
        .filter_map(|c| c["choices"][0]["finish_reason"].as_str())
        .collect();
    ensure!(
        reasons.len() == 1,
        "expected one finish_reason in the stream, got {reasons:?}"
    );
    Ok(reasons[0].to_owned())
}

/// A `usage` object's token counts, checked to add up:
/// `(prompt_tokens, completion_tokens)`.
pub fn usage(response: &Value) -> Result<(u64, u64)> {
    let usage = &response["usage"];
    let count = |key: &str| {
        usage[key]
            .as_u64()
            .with_context(|| format!("usage has no `{key}` count: {usage}"))
    };
    let (prompt, completion, total) = (
        count("prompt_tokens")?,
        count("completion_tokens")?,
        count("total_tokens")?,
    );
    ensure!(prompt > 0, "prompt_tokens is 0 for a non-empty prompt");
    ensure!(
        prompt + completion == total,
        "prompt {prompt} + completion {completion} != total {total}"
    );
    Ok((prompt, completion))
}

/// Uploads `contents` as `filename` for `purpose`; the new file's id.
pub async fn upload(
    ctx: &TestContext,
    filename: &str,
    contents: &[u8],
    purpose: &str,
) -> Result<String> {
    let part = Part::bytes(contents.to_vec()).file_name(filename.to_owned());
    let form = Form::new()
        .text("purpose", purpose.to_owned())
        .part("file", part);
    let file = ctx.post_multipart("/v1/files", form).await?.ok()?;
    let id = file["id"]
        .as_str()
        .with_context(|| format!("the upload answered no id: {file}"))?;
    Ok(id.to_owned())
}

/// Checks that a lookup found nothing: a 404, or the 400 llama-stack 0.7.3
/// answers for a registry object it does not have (a dataset's rows, a
/// shield, a scoring function; the tests that want a 404 there are xfail),
/// with a message mentioning every one of `needles`.
pub fn expect_not_found(response: &ApiResponse, needles: &[&str]) -> Result {
    let status = if response.status == 400 { 400 } else { 404 };
    response.expect_error(status, needles)
}

/// A name for something a test registers, unique to the trial: `prefix`,
/// then the trial's name with anything but letters and digits made `-`, so
/// it fits in a path.
pub fn trial_scoped(ctx: &TestContext, prefix: &str) -> String {
    let safe: String = ctx
        .id()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!("{prefix}-{safe}")
}

/// Checks that `found` holds `expected`'s value under each of `keys`; `what`
/// says in a failure what was compared (`vllm retrieved and listed`).
pub fn same_fields(found: &Value, expected: &Value, keys: &[&str], what: &str) -> Result {
    for key in keys {
        ensure!(
            found[key] == expected[key],
            "{what}: {key} is {} and {}",
            found[key],
            expected[key]
        );
    }
    Ok(())
}

/// The APIs of llama-stack 0.7.3 that OGX 1.5 no longer has: its run-config
/// (`run-ogx.yaml`) cannot enable them.
const GONE_IN_OGX: &[&str] = &["datasetio", "scoring", "safety", "eval"];

/// Skips a trial about `api` (a case of a table of APIs) on a stack without
/// it; a whole test about one API says `only(stacks = ..)` instead.
pub fn needs_api(ctx: &TestContext, api: &str) -> Result {
    if ctx.stack()?.launcher() == LauncherKind::Ogx && GONE_IN_OGX.contains(&api) {
        return harness::skip(format!("OGX 1.5 has no {api} API"));
    }
    Ok(())
}
