//! Waiting for what llama-stack 0.7.3 does after answering: the inference
//! store's writes, made in the background.
//!
//! (The stack also reports healthy before its SQL tables exist; the
//! harness's supervisor waits for them before it calls the stack ready.)

use std::future::Future;
use std::time::{Duration, Instant};

use harness::prelude::*;

/// How long the stack gets to settle before a test gives up.
const PATIENCE: Duration = Duration::from_secs(60);
const STEP: Duration = Duration::from_millis(100);

/// Asks `probe` until it answers `Some`, or fails after [`PATIENCE`] saying
/// what it waited for.
pub async fn until<T, F, Fut>(what: &str, mut probe: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>>>,
{
    let start = Instant::now();
    loop {
        if let Some(found) = probe().await? {
            return Ok(found);
        }
        ensure!(
            start.elapsed() < PATIENCE,
            "gave up after {} s waiting for {what}",
            PATIENCE.as_secs()
        );
        tokio::time::sleep(STEP).await;
    }
}
