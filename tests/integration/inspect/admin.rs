//! `/v1alpha/admin/*`: the operator's view answers as the public inspection
//! routes do.

use harness::prelude::*;

/// Checks that `GET /v1alpha/admin/<path>` answers what `GET /v1/<path>`
/// does.
async fn admin_answers_as(ctx: &TestContext, path: &str) -> Result {
    let public = ctx.get_ok(&format!("/v1/{path}")).await?;
    let admin = ctx.get_ok(&format!("/v1alpha/admin/{path}")).await?;
    ensure!(admin == public, "admin answers {admin}\nthe public route {public}");
    Ok(())
}

#[harness::test(marks(inspect, admin))]
async fn admin_lists_the_same_providers(ctx: &TestContext) -> Result {
    admin_answers_as(ctx, "providers").await
}

#[harness::test(marks(inspect, admin))]
async fn admin_inspects_a_provider_as_providers_does(ctx: &TestContext) -> Result {
    for id in ["vllm", "reference", "faiss", "pypdf"] {
        admin_answers_as(ctx, &format!("providers/{id}")).await?;
    }
    Ok(())
}

#[harness::test(marks(inspect, admin))]
async fn admin_health_and_version_match_the_public_ones(ctx: &TestContext) -> Result {
    for what in ["health", "version"] {
        admin_answers_as(ctx, what).await?;
    }
    Ok(())
}

#[harness::test(marks(inspect, admin))]
async fn admin_routes_match_inspect_routes_under_each_filter(ctx: &TestContext) -> Result {
    for query in ["", "?api_filter=v1", "?api_filter=deprecated"] {
        admin_answers_as(ctx, &format!("inspect/routes{query}")).await?;
    }
    Ok(())
}

#[harness::test(marks(inspect, admin, errors))]
async fn admin_refuses_an_unknown_provider_as_providers_does(ctx: &TestContext) -> Result {
    let id = "stack-harness-no-such-provider";
    let public = ctx.get(&format!("/v1/providers/{id}")).await?;
    let admin = ctx.get(&format!("/v1alpha/admin/providers/{id}")).await?;
    ensure!(public.status >= 400, "/v1/providers/{id} answered {}", public.status);
    ensure!(
        admin.status == public.status && admin.error_message() == public.error_message(),
        "admin answered {} {:?}, /v1/providers {} {:?}",
        admin.status,
        admin.error_message(),
        public.status,
        public.error_message()
    );
    let message = admin.error_message().unwrap_or_default();
    ensure!(message.contains(id), "the error does not name {id}: {message}");
    Ok(())
}
