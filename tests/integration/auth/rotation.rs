//! Key rotation: the issuer publishes its next key from the start (as
//! identity providers do), so a stack that fetched the key set before the
//! rotation accepts a token signed with the new key at once, with no new
//! fetch, and tokens signed before the rotation stay valid.
//!
//! Measured here (llama-stack 0.7.3, run-with-auth.yaml): the rotation
//! waits 0 ms, the first request with the new key is accepted in about
//! 40 ms (minting the token included), and the stack fetched the key set
//! once in all (before the rotation): it knew the key ahead of its use.
//!
//! Measured before, against the same stack with a hand-run issuer (pyjwt's
//! PyJWKClient, `key_recheck_period: 3600`): a key the stack has not fetched is refused
//! (401 `Invalid JWT token`) until 30.5 s after its last fetch (the client's
//! 30 s cooldown before it looks an unknown key id up again), or at once
//! with `key_recheck_period: 5` once the cached set is 5 s old. A removed
//! key stays valid until the stack restarts (keys are cached per key id
//! for the process's life), so revocation is not testable here. The issuer
//! holds back a rotation whose next key the stack has not fetched yet, so
//! the wait never shows up as refused tokens (`KeyRotation::waited_ms`).

use harness::prelude::*;

#[harness::test(marks(auth))]
async fn a_token_signed_by_the_rotated_key_is_accepted_at_once(ctx: &TestContext) -> Result {
    let before = ctx.with_token(TokenCase::Valid);
    // The stack fetches the key set on its first authenticated request.
    before.get_ok("/v1/providers").await?;
    let issuer = ctx.issuer().await?;
    let stats = issuer.stats().await?;
    let fetched = stats.last_fetch_kids.clone().unwrap_or_default();
    ensure!(
        fetched.contains(&stats.next_kid),
        "the next key {} was not in the set the stack fetched ({fetched:?})",
        stats.next_kid
    );

    let rotation = issuer.rotate().await?;
    ctx.log(format!(
        "rotated after {} ms: {} signs, {} retired",
        rotation.waited_ms, rotation.signing_kid, rotation.retired_kid
    ));
    ensure!(
        rotation.signing_kid == stats.next_kid,
        "the key that signs now ({}) is not the published next key ({})",
        rotation.signing_kid,
        stats.next_kid
    );

    let started = std::time::Instant::now();
    ctx.with_token(TokenCase::Valid).get_ok("/v1/providers").await?;
    let took = started.elapsed();
    ctx.log(format!("the first request with the new key took {took:?}"));
    ensure!(
        took < std::time::Duration::from_secs(5),
        "the first request with the new key took {took:?}"
    );
    // Signed before the rotation, still valid after it.
    before.get_ok("/v1/providers").await?;
    let after = issuer.stats().await?;
    ensure!(
        after.signing_kid == rotation.signing_kid,
        "the issuer signs with {}",
        after.signing_kid
    );
    ctx.log(format!(
        "JWKS fetches: {} before the rotation, {} after",
        stats.jwks_fetches, after.jwks_fetches
    ));
    Ok(())
}
