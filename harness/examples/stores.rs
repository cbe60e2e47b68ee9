//! Tests for `harness/tests/postgres.rs`, run against a private stack on
//! the PostgreSQL variant: state kept through the API survives a restart of
//! the stack within its session, and each session has a database of its own.
//! (`cargo test` builds examples without running them.)

use harness::prelude::*;

fn id_of(value: &Value) -> Result<String> {
    Ok(value["id"]
        .as_str()
        .with_context(|| format!("no id in {value}"))?
        .to_owned())
}

/// Creates a conversation, a file and a vector store, restarts the stack,
/// and reads all three back through the API.
#[harness::test(timeout = 600)]
async fn state_survives_a_restart(ctx: &TestContext) -> Result {
    ensure!(
        ctx.service_address("postgres").await?.is_some(),
        "run this against the PostgreSQL variant"
    );
    let conversation = id_of(
        &ctx.post_ok("/v1/conversations", &json!({"metadata": {"kept": "yes"}}))
            .await?,
    )?;
    let form = harness::reqwest::multipart::Form::new()
        .text("purpose", "assistants")
        .part(
            "file",
            harness::reqwest::multipart::Part::bytes(b"survives a restart".to_vec())
                .file_name("kept.txt"),
        );
    let file = id_of(&ctx.post_multipart("/v1/files", form).await?.ok()?)?;
    let store = id_of(
        &ctx.post_ok("/v1/vector_stores", &json!({"name": "kept-store"}))
            .await?,
    )?;

    ctx.restart_stack().await?;

    let read = ctx
        .get_ok(&format!("/v1/conversations/{conversation}"))
        .await?;
    ensure!(
        read["metadata"]["kept"] == "yes",
        "conversation after the restart: {read}"
    );
    let content = ctx
        .get_bytes(&format!("/v1/files/{file}/content"))
        .await?
        .ok()?;
    ensure!(
        content == b"survives a restart",
        "file content after the restart: {:?}",
        String::from_utf8_lossy(&content)
    );
    let read = ctx.get_ok(&format!("/v1/vector_stores/{store}")).await?;
    ensure!(
        read["name"] == "kept-store",
        "vector store after the restart: {read}"
    );
    Ok(())
}

/// Writes this session's database address and a conversation it made into
/// `$FIXTURE_MARKERS/<pid>`, then waits for `go`, so the outer test can look
/// at two live sessions at once.
#[harness::test(timeout = 600)]
async fn report_the_database(ctx: &TestContext) -> Result {
    let address = ctx
        .service_address("postgres")
        .await?
        .context("run this against the PostgreSQL variant")?;
    let conversation = id_of(&ctx.post_ok("/v1/conversations", &json!({})).await?)?;
    let markers = std::path::PathBuf::from(
        std::env::var_os("FIXTURE_MARKERS").context("FIXTURE_MARKERS is not set")?,
    );
    std::fs::write(
        markers.join(std::process::id().to_string()),
        format!("{address}\n{conversation}\n"),
    )?;
    while !markers.join("go").exists() {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    Ok(())
}

fn main() -> std::process::ExitCode {
    harness::main(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}
