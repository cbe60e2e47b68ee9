//! `/v1alpha/admin/*`: the operator's view answers as the public inspection
//! routes do.

use harness::prelude::*;

#[harness::test(marks(inspect, admin))]
async fn admin_lists_the_same_providers(ctx: &TestContext) -> Result {
    let public = ctx.get_ok("/v1/providers").await?;
    let admin = ctx.get_ok("/v1alpha/admin/providers").await?;
    ensure!(
        admin["data"] == public["data"],
        "the admin list differs from /v1/providers:\n  admin: {}\n public: {}",
        admin["data"],
        public["data"]
    );
    Ok(())
}

#[harness::test(marks(inspect, admin))]
async fn admin_inspects_a_provider_as_providers_does(ctx: &TestContext) -> Result {
    for id in ["vllm", "reference", "llama-guard", "basic"] {
        let public = ctx.get_ok(&format!("/v1/providers/{id}")).await?;
        let admin = ctx.get_ok(&format!("/v1alpha/admin/providers/{id}")).await?;
        ensure!(admin == public, "{id}: admin {admin}, public {public}");
    }
    Ok(())
}

#[harness::test(marks(inspect, admin))]
async fn admin_health_and_version_match_the_public_ones(ctx: &TestContext) -> Result {
    for what in ["health", "version"] {
        let public = ctx.get_ok(&format!("/v1/{what}")).await?;
        let admin = ctx.get_ok(&format!("/v1alpha/admin/{what}")).await?;
        ensure!(admin == public, "{what}: admin {admin}, public {public}");
    }
    Ok(())
}

#[harness::test(marks(inspect, admin))]
async fn admin_routes_match_inspect_routes_under_each_filter(ctx: &TestContext) -> Result {
    for query in ["", "?api_filter=v1", "?api_filter=deprecated"] {
        let public = ctx.get_ok(&format!("/v1/inspect/routes{query}")).await?;
        let admin = ctx
            .get_ok(&format!("/v1alpha/admin/inspect/routes{query}"))
            .await?;
        ensure!(
            admin == public,
            "the routes differ for `{query}`: admin lists {}, inspect {}",
            admin["data"].as_array().map_or(0, Vec::len),
            public["data"].as_array().map_or(0, Vec::len)
        );
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
