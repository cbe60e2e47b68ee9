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

/// The broken configs (`tests/external/broken/<case>`), each with what the
/// stack says about it.
fn broken_configs() -> Result<Vec<Case>> {
    let cases = [
        (
            "api-module-missing",
            "No module named 'no_such_glossary_api'",
        ),
        ("api-spec-bad-yaml", "while parsing a flow sequence"),
        ("provider-module-missing", "get_provider_spec not found"),
    ];
    Ok(cases
        .into_iter()
        .map(|(case, says)| Case::new(case, json!({ "says": says })))
        .collect())
}

/// Runs this binary on a broken config: the session must fail to start
/// with the stack's own error, said once, before the tests.
#[harness::test(stack = false, marks(external), cases_from = broken_configs)]
async fn a_broken_spec_is_the_stacks_error_said_once(ctx: &TestContext) -> Result {
    let run_yaml = format!("{ROOT}/tests/external/broken/{}/run.yaml", ctx.case_id());
    let output = Command::new(std::env::current_exe()?)
        .args([
            &format!("--stack-config={run_yaml}"),
            "--exact",
            "the_external_route_answers",
        ])
        .env_remove("LLAMA_STACK_CONFIG")
        .output()?;
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    ctx.log(&stderr);
    ensure!(
        output.status.code() == Some(101),
        "the run ended with {} instead of 101 (a failed test):\n{stderr}",
        output.status
    );
    let headlines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("error: the session did not start"))
        .collect();
    let says = ctx.case()["says"]
        .as_str()
        .context("the case says what to find")?;
    ensure!(
        headlines.len() == 1 && headlines[0].contains(says),
        "the start-up failure is not said once with the stack's error ({says:?}):\n{stderr}"
    );
    Ok(())
}

fn main() -> ExitCode {
    harness::main_with(ROOT, &[("stack-config", "external")])
}
