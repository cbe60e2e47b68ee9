//! External APIs and providers, ours: the `glossary` API
//! (`tests/external/glossary-api`), served by `remote::static-glossary`
//! (loaded from `providers.d`) and `remote::builtin-glossary` (a module the
//! run.yaml names), on `run-configs/external/run.yaml`. The harness
//! installs their packages into the session's overlay and places `apis.d`
//! and `providers.d` under the stack's HOME; see `tests/external/README.md`.
//!
//! ```sh
//! cargo test --test external                     # a private stack on run-configs/external
//! ```

use std::process::{Command, ExitCode};

use harness::prelude::*;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

#[harness::test(marks(external))]
async fn the_external_route_answers(ctx: &TestContext) -> Result {
    let terms = ctx.get_ok("/v1/glossary/terms").await?;
    let names: Vec<&str> = terms["data"]
        .as_array()
        .context("`data` is a list")?
        .iter()
        .filter_map(|t| t["term"].as_str())
        .collect();
    ensure!(!names.is_empty(), "no terms: {terms}");
    let first = names[0];
    let one = ctx.get_ok(&format!("/v1/glossary/terms/{first}")).await?;
    ensure!(one["term"] == first, "asked for `{first}`, got {one}");
    ctx.get("/v1/glossary/terms/no-such-term")
        .await?
        .expect_error(404, &["no-such-term"])?;
    Ok(())
}

#[harness::test(marks(external))]
async fn both_providers_are_listed(ctx: &TestContext) -> Result {
    let providers = ctx.get_ok("/v1/providers").await?;
    let listed: Vec<(String, String)> = providers["data"]
        .as_array()
        .context("`data` is a list")?
        .iter()
        .filter(|p| p["api"] == "glossary")
        .map(|p| {
            (
                p["provider_id"].as_str().unwrap_or_default().to_owned(),
                p["provider_type"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let want = [
        ("builtin", "remote::builtin-glossary"),
        ("static", "remote::static-glossary"),
    ];
    for (id, kind) in want {
        ensure!(
            listed.iter().any(|(i, k)| i == id && k == kind),
            "`{id}` ({kind}) is not among the glossary providers: {listed:?}"
        );
    }
    Ok(())
}

/// Runs this binary on a broken config (`tests/external/broken/<case>`) and
/// returns what it printed: the session must fail to start with the
/// stack's own error, said once, before the tests.
fn broken(case: &str) -> Result<String> {
    let run_yaml = format!("{ROOT}/tests/external/broken/{case}/run.yaml");
    let output = Command::new(std::env::current_exe()?)
        .args([
            &format!("--stack-config={run_yaml}"),
            "--exact",
            "the_external_route_answers",
        ])
        .env_remove("LLAMA_STACK_CONFIG")
        .output()?;
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    ensure!(
        output.status.code() == Some(101),
        "the run on `{case}` ended with {} instead of 101 (a failed test):\n{stderr}",
        output.status
    );
    let headline: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("error: the session did not start"))
        .collect();
    ensure!(
        headline.len() == 1,
        "the start-up failure is not said once:\n{stderr}"
    );
    Ok(stderr)
}

#[harness::test(stack = false, marks(external))]
async fn an_api_module_that_is_missing_is_the_stacks_error(ctx: &TestContext) -> Result {
    let said = broken("api-module-missing")?;
    ctx.log(&said);
    ensure!(
        said.contains("No module named 'no_such_glossary_api'"),
        "the stack's error is not shown:\n{said}"
    );
    Ok(())
}

#[harness::test(stack = false, marks(external))]
async fn an_api_spec_that_is_not_yaml_is_the_stacks_error(ctx: &TestContext) -> Result {
    let said = broken("api-spec-bad-yaml")?;
    ctx.log(&said);
    ensure!(
        said.contains("while parsing a flow sequence"),
        "the stack's error is not shown:\n{said}"
    );
    Ok(())
}

#[harness::test(stack = false, marks(external))]
async fn a_provider_module_that_is_missing_is_the_stacks_error(ctx: &TestContext) -> Result {
    let said = broken("provider-module-missing")?;
    ctx.log(&said);
    ensure!(
        said.contains("get_provider_spec not found"),
        "the stack's error is not shown:\n{said}"
    );
    Ok(())
}

fn main() -> ExitCode {
    harness::main_with(ROOT, &[("stack-config", "external")])
}
