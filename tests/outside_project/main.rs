//! stack-harness used from outside this repository, the way a team with its
//! own distribution uses it: a scratch project in the system's temporary
//! directory (`project/` here, with the dependency's path filled in) that
//! depends on `stack-harness` by path, has one `#[harness::test]`, a
//! `run-configs/` and a `stack-harness.toml` of its own, no `requirements/`,
//! no `recordings/` and no build script. `cargo test` runs there against a
//! real stack, and the result is checked.
//!
//! To stay cheap it shares this checkout's build directory (the harness is
//! compiled already) and provisioned stack (`STACK_HARNESS_STACK_DIR`), and
//! resolves offline from a copy of this workspace's `Cargo.lock`.

use std::path::Path;
use std::process::{Command, ExitCode};

use harness::prelude::*;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Copies the template to `to`, filling in the path of the harness crate.
fn write_project(from: &Path, to: &Path) -> Result {
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.file_type()?.is_dir() {
            std::fs::create_dir_all(to.join(&name))?;
            write_project(&entry.path(), &to.join(&name))?;
        } else if let Some(name) = name.strip_suffix(".in") {
            let text = std::fs::read_to_string(entry.path())?
                .replace("@HARNESS@", &format!("{ROOT}/harness"));
            std::fs::write(to.join(name), text)?;
        } else {
            std::fs::copy(entry.path(), to.join(&name))?;
        }
    }
    Ok(())
}

#[harness::test(stack = false)]
async fn a_project_of_its_own_runs_its_test_against_a_real_stack(ctx: &TestContext) -> Result {
    let scratch = tempfile::Builder::new()
        .prefix("stack-harness-outside-")
        .tempdir()?;
    let project = scratch.path();
    ensure!(
        !project.starts_with(ROOT),
        "the scratch project must be outside the repository"
    );
    write_project(
        &Path::new(ROOT).join("tests/outside_project/project"),
        project,
    )?;
    std::fs::copy(
        Path::new(ROOT).join("Cargo.lock"),
        project.join("Cargo.lock"),
    )?;
    let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| format!("{ROOT}/target"));
    let stack_dir =
        std::env::var("STACK_HARNESS_STACK_DIR").unwrap_or_else(|_| format!("{ROOT}/.stack"));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut command = Command::new(cargo);
    command
        .args(["test", "--offline", "--test", "stack"])
        .current_dir(project)
        .env("CARGO_TARGET_DIR", &target)
        .env("STACK_HARNESS_STACK_DIR", &stack_dir);
    // This run's own settings must not reach the project's.
    for (key, _) in std::env::vars() {
        if key.starts_with("LLAMA_STACK_") {
            command.env_remove(key);
        }
    }
    let output = command.output()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    ctx.log(format!("stdout:\n{stdout}\nstderr:\n{stderr}"));
    ensure!(
        output.status.success(),
        "`cargo test` in the outside project failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    ensure!(
        stdout.contains("test the_stack_serves_our_files_api ... ok")
            && stdout.contains("test result: ok. 1 passed"),
        "the project's one test did not pass:\n{stdout}"
    );
    ensure!(
        stderr.contains("run-configs/mini/run.yaml"),
        "the stack did not run the project's own run.yaml:\n{stderr}"
    );
    for absent in ["requirements", "recordings", ".stack"] {
        ensure!(
            !project.join(absent).exists(),
            "the run made `{absent}` in the project"
        );
    }
    Ok(())
}

/// The crate's README (its page on crates.io) shows this project's test, byte
/// for byte, so the example a newcomer copies is one that ran here.
#[harness::test(stack = false, marks(docs))]
async fn the_crates_readme_quotes_the_project(_ctx: &TestContext) -> Result {
    let readme = std::fs::read_to_string(Path::new(ROOT).join("harness/README.md"))?;
    let test = std::fs::read_to_string(
        Path::new(ROOT).join("tests/outside_project/project/tests/stack/main.rs"),
    )?;
    ensure!(
        readme.contains(&format!("```rust\n// tests/stack/main.rs\n{test}```")),
        "harness/README.md no longer shows tests/outside_project/project/tests/stack/main.rs as it is"
    );
    Ok(())
}

fn main() -> ExitCode {
    harness::main(ROOT)
}
