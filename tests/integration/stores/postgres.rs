//! The PostgreSQL variant (`--stack-config=server:ci-tests::run-with-postgres-store.yaml`): what
//! the stack keeps through its API lands in the session's own PostgreSQL, read here with a
//! PostgreSQL client of our own, not through the stack. On a session without PostgreSQL these
//! tests skip themselves, naming the command that runs them.

use harness::prelude::*;

use crate::common::{chat_request, upload, user};
use crate::wait::until;

const NO_POSTGRES: &str = "the session keeps no store in PostgreSQL; run with \
     --stack-config=server:ci-tests::run-with-postgres-store.yaml";

/// The tables the stack's stores make in PostgreSQL: the key-value store's
/// (made at start-up) and the conversations' (made by the first one).
const STORE_TABLES: [&str; 2] = ["llamastack_kvstore", "openai_conversations"];

/// A client of the session's PostgreSQL, or `None` when the session has
/// none that keeps the stack's stores. A session of the SQLite config runs
/// one for the `remote::pgvector` vector store alone (`--vector-io-provider
/// pgvector`): these tests skip there too. They tell the two apart by the
/// stores' tables after a conversation was made, so a config that keeps
/// only some stores in PostgreSQL still fails them.
async fn database(ctx: &TestContext) -> Result<Option<tokio_postgres::Client>> {
    let Some(client) = connect(ctx).await? else {
        return Ok(None);
    };
    let conversation = id_of(&ctx.post_ok("/v1/conversations", &json!({})).await?)?;
    ctx.defer_delete(format!("/v1/conversations/{conversation}"));
    let tables = tables(&client).await?;
    let stores = STORE_TABLES.iter().any(|t| tables.iter().any(|u| u == t));
    Ok(stores.then_some(client))
}

/// Whether the stack keeps its key-value store (the registry, prompts, ...)
/// in the session's PostgreSQL: its table is made at start-up. A session
/// that runs PostgreSQL for pgvector alone keeps it in SQLite.
pub async fn keeps_the_kv_store(ctx: &TestContext) -> Result<bool> {
    let Some(client) = connect(ctx).await? else {
        return Ok(false);
    };
    Ok(tables(&client).await?.iter().any(|t| t == STORE_TABLES[0]))
}

/// A client of the session's PostgreSQL, if it runs one.
async fn connect(ctx: &TestContext) -> Result<Option<tokio_postgres::Client>> {
    let Some(url) = ctx.service_address("postgres").await? else {
        return Ok(None);
    };
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .with_context(|| format!("cannot connect to the session's PostgreSQL at {url}"))?;
    tokio::spawn(connection);
    Ok(Some(client))
}

/// The tables of PostgreSQL's public schema.
async fn tables(db: &tokio_postgres::Client) -> Result<Vec<String>> {
    Ok(db
        .query(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'",
            &[],
        )
        .await
        .context("listing the tables")?
        .iter()
        .map(|row| row.get(0))
        .collect())
}

/// How many rows of `table` have `column` equal to `value`.
async fn rows(db: &tokio_postgres::Client, table: &str, column: &str, value: &str) -> Result<i64> {
    let query = format!("SELECT count(*) FROM {table} WHERE {column} = $1");
    let row = db
        .query_one(&query, &[&value])
        .await
        .with_context(|| format!("`{query}` with {value}"))?;
    Ok(row.get(0))
}

fn id_of(value: &Value) -> Result<String> {
    Ok(value["id"]
        .as_str()
        .with_context(|| format!("no id in {value}"))?
        .to_owned())
}

#[harness::test(text_model, marks(postgres, stores))]
async fn api_records_land_in_the_sessions_postgres(ctx: &TestContext) -> Result {
    let Some(db) = database(ctx).await? else {
        return harness::skip(NO_POSTGRES);
    };

    let conversation = id_of(
        &ctx.post_ok("/v1/conversations", &json!({"metadata": {"topic": "stores"}}))
            .await?,
    )?;
    ctx.defer_delete(format!("/v1/conversations/{conversation}"));
    // The same request as the inference-store tests make, so it replays.
    let body = chat_request(
        ctx,
        json!([user("Name a fruit that is yellow.")]),
        json!({"max_tokens": 12}),
    );
    let completion = id_of(&ctx.post_ok("/v1/chat/completions", &body).await?)?;
    let file = upload(ctx, "stores.txt", b"kept in postgres", "assistants").await?;
    ctx.defer_delete(format!("/v1/files/{file}"));
    let store = id_of(
        &ctx.post_ok("/v1/vector_stores", &json!({"name": "stores-in-postgres"}))
            .await?,
    )?;
    ctx.defer_delete(format!("/v1/vector_stores/{store}"));

    ensure!(
        rows(&db, "openai_conversations", "id", &conversation).await? == 1,
        "conversation {conversation} is not in PostgreSQL"
    );
    // The stack writes the inference store after answering, in a task of its own.
    until(&format!("{completion} in PostgreSQL's inference_store"), || async {
        Ok((rows(&db, "inference_store", "id", &completion).await? == 1).then_some(()))
    })
    .await?;
    ensure!(
        rows(&db, "openai_files", "id", &file).await? == 1,
        "file {file} is not in PostgreSQL"
    );
    let keys = db
        .query(
            "SELECT key FROM llamastack_kvstore WHERE key LIKE '%' || $1",
            &[&store],
        )
        .await
        .context("reading the key-value store")?;
    ensure!(
        !keys.is_empty(),
        "no key of vector store {store} in PostgreSQL's llamastack_kvstore"
    );
    Ok(())
}

#[harness::test(marks(postgres, stores))]
async fn every_store_of_the_run_config_is_in_postgres(ctx: &TestContext) -> Result {
    let Some(db) = database(ctx).await? else {
        return harness::skip(NO_POSTGRES);
    };
    // `database` made a conversation, which touches the SQL store; the
    // registry the key-value one.
    let tables = tables(&db).await?;
    for table in STORE_TABLES {
        ensure!(
            tables.iter().any(|t| t == table),
            "no table `{table}` in PostgreSQL; tables: {tables:?}"
        );
    }
    let registry: i64 = db
        .query_one(
            "SELECT count(*) FROM llamastack_kvstore WHERE key LIKE 'registry:%'",
            &[],
        )
        .await
        .context("reading the registry")?
        .get(0);
    ensure!(registry > 0, "the stack's registry is not in PostgreSQL");
    Ok(())
}

#[harness::test(marks(postgres, stores, errors))]
async fn deleted_records_leave_postgres_and_are_404_naming_them(ctx: &TestContext) -> Result {
    let Some(db) = database(ctx).await? else {
        return harness::skip(NO_POSTGRES);
    };
    let conversation = id_of(&ctx.post_ok("/v1/conversations", &json!({})).await?)?;
    let file = upload(ctx, "stores-deleted.txt", b"deleted from postgres", "assistants").await?;
    for (table, id, path) in [
        ("openai_conversations", &conversation, format!("/v1/conversations/{conversation}")),
        ("openai_files", &file, format!("/v1/files/{file}")),
    ] {
        ensure!(rows(&db, table, "id", id).await? == 1, "{id} is not in PostgreSQL's {table}");
        ctx.delete(&path).await?.ok()?;
        ensure!(
            rows(&db, table, "id", id).await? == 0,
            "{id} is still in PostgreSQL's {table} after DELETE {path}"
        );
        ctx.get(&path).await?.expect_error(404, &[id])?;
    }
    Ok(())
}
