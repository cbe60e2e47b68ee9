//! A test binary with one test of each kind the runner handles, none of which
//! needs a stack. `harness/tests/cli.rs` runs it with the flags IDEs and
//! cargo-nextest send and checks what it prints. (`cargo test` builds
//! examples without running them, so its failing tests fail nothing.)

use harness::prelude::*;

mod plain {
    use super::*;

    #[harness::test(stack = false, marks(smoke))]
    async fn passes(ctx: &TestContext) -> Result {
        ctx.log("hello from passes");
        ensure!(
            ctx.id() == "plain::passes",
            "the id is the module path: {}",
            ctx.id()
        );
        Ok(())
    }

    #[harness::test(stack = false)]
    async fn fails(ctx: &TestContext) -> Result {
        ctx.log("some output before failing");
        Err(anyhow!("the answer was 41")).context("checking the answer")
    }

    #[harness::test(stack = false)]
    async fn panics(_ctx: &TestContext) -> Result {
        let answers: Vec<u32> = Vec::new();
        assert_eq!(answers.len(), 1, "expected one answer");
        Ok(())
    }

    #[harness::test(stack = false, timeout = 1)]
    async fn overruns(_ctx: &TestContext) -> Result {
        tokio::time::sleep(std::time::Duration::from_secs(30)).await;
        Ok(())
    }

    #[harness::test(stack = false, ignore = "needs a GPU")]
    async fn ignored(_ctx: &TestContext) -> Result {
        Ok(())
    }

    #[harness::test(
        stack = false,
        xfail(reason = "the stack drops `n`", contains = "n was ignored")
    )]
    async fn known_bug(_ctx: &TestContext) -> Result {
        bail!("n was ignored")
    }
}

mod models {
    use super::*;

    // judge_model: the repository's stack-harness.toml picks `setup =
    // "local"`, which names one judge model, so the CLI tests see exactly
    // one trial by default and none under a setup without a judge.
    #[harness::test(judge_model, stack = false, marks(streaming))]
    async fn per_model(ctx: &TestContext) -> Result {
        ensure!(ctx.id() == format!("models::per_model[judge_model={}]", ctx.judge_model()));
        Ok(())
    }

    #[harness::test(judge_model, vision_model, stack = false)]
    async fn needs_vision(_ctx: &TestContext) -> Result {
        Ok(())
    }
}

/// Tests that talk to a real stack, for `harness/tests/lifecycle.rs`: each
/// writes `ready` into `$FIXTURE_MARKERS` once the stack answered, then waits
/// for `go` before calling it again, so the outer test can act in between.
mod lifecycle {
    use super::*;
    use std::path::PathBuf;

    fn markers() -> Result<PathBuf> {
        std::env::var_os("FIXTURE_MARKERS")
            .map(PathBuf::from)
            .context("FIXTURE_MARKERS is not set")
    }

    #[harness::test(marks(lifecycle), timeout = 120)]
    async fn a_call_then_wait(ctx: &TestContext) -> Result {
        ctx.get_ok("/v1/health").await?;
        let dir = markers()?;
        std::fs::write(dir.join("ready"), std::process::id().to_string())?;
        while !dir.join("go").exists() {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        ctx.get_ok("/v1/health").await?;
        Ok(())
    }

    #[harness::test(marks(lifecycle))]
    async fn b_next_call(ctx: &TestContext) -> Result {
        ctx.get_ok("/v1/health").await?;
        Ok(())
    }
}

fn main() -> std::process::ExitCode {
    // The repository root, so `run-configs/`, `.stack/` and `target/` are the
    // project's own.
    harness::main(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}
