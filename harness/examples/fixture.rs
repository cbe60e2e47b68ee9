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

    #[harness::test(stack = false, xfail = "the stack drops `n`")]
    async fn known_bug(_ctx: &TestContext) -> Result {
        bail!("n was ignored")
    }
}

mod models {
    use super::*;

    #[harness::test(text_model, stack = false, marks(streaming))]
    async fn per_model(ctx: &TestContext) -> Result {
        ensure!(ctx.id() == format!("models::per_model[text_model={}]", ctx.text_model()));
        Ok(())
    }

    #[harness::test(text_model, vision_model, stack = false)]
    async fn needs_vision(_ctx: &TestContext) -> Result {
        Ok(())
    }
}

fn main() -> std::process::ExitCode {
    harness::main(env!("CARGO_MANIFEST_DIR"))
}
