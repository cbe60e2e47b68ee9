//! A team's own suite against its own distribution's run.yaml: one test,
//! which needs no model, so replay mode needs no recordings.

use harness::prelude::*;

#[harness::test]
async fn the_stack_serves_our_files_api(ctx: &TestContext) -> Result {
    let providers = ctx.get_ok("/v1/providers").await?;
    let files: Vec<&Value> = providers["data"]
        .as_array()
        .context("`data` is a list")?
        .iter()
        .filter(|p| p["api"] == "files")
        .collect();
    ensure!(
        files.len() == 1 && files[0]["provider_type"] == "inline::localfs",
        "our run.yaml's files provider is not what the stack serves: {providers}"
    );
    let listed = ctx.get_ok("/v1/files").await?;
    ensure!(listed["data"] == json!([]), "a fresh stack has files: {listed}");
    Ok(())
}

fn main() -> std::process::ExitCode {
    harness::main(env!("CARGO_MANIFEST_DIR"))
}
