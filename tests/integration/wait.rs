//! Waiting for what llama-stack 0.7.3 does after answering: its SQL tables,
//! created lazily, and the inference store's writes, made in the background.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use harness::prelude::*;

/// How long the stack gets to settle before a test gives up.
const PATIENCE: Duration = Duration::from_secs(60);
const STEP: Duration = Duration::from_millis(100);

/// Sleeps without holding a runtime worker (the suite has no timer of its
/// own: a helper thread sleeps and wakes the task).
fn pause(duration: Duration) -> impl Future<Output = ()> {
    struct Pause {
        duration: Duration,
        done: Arc<AtomicBool>,
        started: bool,
    }
    impl Future for Pause {
        type Output = ();
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            if self.done.load(Ordering::Acquire) {
                return Poll::Ready(());
            }
            if !self.started {
                self.started = true;
                let (done, waker, duration) =
                    (self.done.clone(), cx.waker().clone(), self.duration);
                std::thread::spawn(move || {
                    std::thread::sleep(duration);
                    done.store(true, Ordering::Release);
                    waker.wake();
                });
            }
            Poll::Pending
        }
    }
    Pause {
        duration,
        done: Arc::new(AtomicBool::new(false)),
        started: false,
    }
}

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
        pause(STEP).await;
    }
}

static TABLES_READY: AtomicBool = AtomicBool::new(false);

/// Waits until the stack's SQL tables exist. llama-stack 0.7.3 creates them
/// on the first query of any store (`SqlAlchemySqlStoreImpl._ensure_engine`)
/// but marks the engine ready before they are, so the queries of a fresh
/// stack's first concurrent requests fail with `no such table` (a 500). A
/// conversation lookup answers 404 once the tables are there. Every test that
/// reads or writes a SQL store (files, conversations, responses, stored chat
/// completions) calls this first. The harness's readiness check is the right
/// home for it; until then it lives here.
pub async fn sql_tables_ready(ctx: &TestContext) -> Result {
    if TABLES_READY.load(Ordering::Acquire) {
        return Ok(());
    }
    let probe = format!("/v1/conversations/conv_{}", "0".repeat(48));
    until("the stack's SQL tables", || async {
        let response = ctx.get(&probe).await?;
        match response.status {
            404 => Ok(Some(())),
            500 => Ok(None),
            other => bail!(
                "GET {probe} answered {other}, expected 404 or (before the tables exist) 500: {}",
                response.text
            ),
        }
    })
    .await?;
    TABLES_READY.store(true, Ordering::Release);
    Ok(())
}
