//! Tokens the stack must refuse: each kind the issuer can make wrong, and
//! malformed `Authorization` headers. llama-stack 0.7.3 gives one generic
//! message for every token that fails verification, so a refusal never
//! says which check failed.

use harness::prelude::*;

/// Every kind of bad token is a 401 with the stack's error shape.
#[harness::test(marks(auth))]
async fn bad_tokens_are_401(ctx: &TestContext) -> Result {
    let cases = [
        (TokenCase::Expired, "Invalid JWT token"),
        (TokenCase::NotYetValid, "Invalid JWT token"),
        (TokenCase::WrongAudience, "Invalid JWT token"),
        (TokenCase::WrongIssuer, "Invalid JWT token"),
        (TokenCase::ForeignKey, "Invalid JWT token"),
        (TokenCase::UnknownKeyId, "Invalid JWT token"),
        (TokenCase::Unsigned, "Invalid JWT token"),
        (TokenCase::Malformed, "Invalid JWT token"),
        // Verified, but with no `sub` the stack cannot name the user.
        (TokenCase::NoSubject, "Authentication service error"),
    ];
    for (case, message) in cases {
        let response = ctx.with_token(case).get("/v1/providers").await?;
        response
            .expect_message(401, message)
            .with_context(|| format!("a {case:?} token"))?;
        ensure!(
            response.body.pointer("/error/message").is_some(),
            "a {case:?} token: not the `{{\"error\": {{\"message\"}}}}` shape: {}",
            response.text
        );
    }
    // The same issuer's valid token passes, so each refusal was the case's.
    ctx.with_token(TokenCase::Valid).get_ok("/v1/providers").await?;
    Ok(())
}

#[harness::test(marks(auth))]
async fn malformed_authorization_headers_are_401(ctx: &TestContext) -> Result {
    for header in ["Token abc", "bearer abc", "Basic dXNlcjpwYXNz", "Bearer"] {
        ctx.with_authorization(header)
            .get("/v1/providers")
            .await?
            .expect_message(401, "Invalid Authorization header format")
            .with_context(|| format!("Authorization: {header}"))?;
    }
    ctx.with_authorization("Bearer not-a-token")
        .get("/v1/providers")
        .await?
        .expect_message(401, "Invalid JWT token")
}
