//! Cleanups a test defers (`ctx.defer_delete(path)`): the runner runs them
//! once the test body has ended, whatever its result (an early `?`, a
//! panic, its deadline), newest first, before the outcome is decided. A
//! cleanup that fails is written to the test's output; it never changes the
//! outcome, since the test has checked what it meant to.

use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use super::ApiResponse;

/// How long all of a test's cleanups may take together; they run after the
/// test's own deadline, so a stack that hangs cannot hold the run.
pub(crate) const DEADLINE: Duration = Duration::from_secs(10);

/// What a test asked to delete (paths, or paths with who deletes them), in
/// the order it asked.
#[derive(Debug)]
pub(crate) struct Cleanups<T = String> {
    paths: Mutex<Vec<T>>,
}

impl<T> Default for Cleanups<T> {
    fn default() -> Self {
        Cleanups {
            paths: Mutex::new(Vec::new()),
        }
    }
}

impl<T> Cleanups<T> {
    pub(crate) fn push(&self, path: T) {
        if let Ok(mut paths) = self.paths.lock() {
            paths.push(path);
        }
    }

    /// The deferred paths, newest first (a store's files before the store,
    /// as a test made them the other way round); none are left behind.
    pub(crate) fn take(&self) -> Vec<T> {
        let mut paths = self
            .paths
            .lock()
            .map(|mut p| std::mem::take(&mut *p))
            .unwrap_or_default();
        paths.reverse();
        paths
    }
}

/// Deletes each of `paths` with `delete`, within `deadline` for them all.
/// A path already gone (404) is fine; anything else goes to `log`.
pub(crate) async fn run<T, F, Fut>(
    paths: Vec<T>,
    deadline: Duration,
    delete: F,
    log: &(dyn Fn(String) + Sync),
) where
    T: AsRef<str> + Clone,
    F: Fn(T) -> Fut,
    Fut: Future<Output = anyhow::Result<ApiResponse>>,
{
    let end = tokio::time::Instant::now() + deadline;
    for (i, item) in paths.iter().enumerate() {
        let path = item.as_ref();
        match tokio::time::timeout_at(end, delete(item.clone())).await {
            Ok(Ok(r)) if (200..300).contains(&r.status) || r.status == 404 => {}
            Ok(Ok(r)) => log(format!(
                "cleanup: DELETE {path} answered {}: {}",
                r.status, r.text
            )),
            Ok(Err(e)) => log(format!("cleanup: DELETE {path} failed: {e:#}")),
            Err(_) => {
                let left: Vec<&str> = paths[i..].iter().map(AsRef::as_ref).collect();
                let left = left.join(", ");
                log(format!(
                    "cleanup: stopped after {} s; not deleted: {left}",
                    deadline.as_secs_f32()
                ));
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use anyhow::Context as _;

    use super::*;

    /// A stack that records the DELETEs it is sent and answers each with the
    /// status `answer` gives for its path (none: it never answers).
    #[derive(Clone, Default)]
    struct FakeStack {
        deleted: Arc<Mutex<Vec<String>>>,
        log: Arc<Mutex<Vec<String>>>,
    }

    impl FakeStack {
        async fn run(&self, cleanups: &Cleanups, answer: fn(&str) -> Option<u16>) {
            let deleted = self.deleted.clone();
            let delete = move |path: String| {
                let deleted = deleted.clone();
                async move {
                    deleted.lock().expect("lock").push(path.clone());
                    let Some(status) = answer(&path) else {
                        std::future::pending::<()>().await;
                        unreachable!("a pending future never resolves");
                    };
                    if status == 0 {
                        anyhow::bail!("connection refused");
                    }
                    Ok(ApiResponse {
                        what: format!("DELETE {path}"),
                        status,
                        body: serde_json::Value::Null,
                        text: "{}".into(),
                    })
                }
            };
            let log = self.log.clone();
            let log = move |m: String| log.lock().expect("lock").push(m);
            run(cleanups.take(), Duration::from_millis(50), delete, &log).await;
        }

        fn deleted(&self) -> Vec<String> {
            self.deleted.lock().expect("lock").clone()
        }

        fn log(&self) -> Vec<String> {
            self.log.lock().expect("lock").clone()
        }
    }

    /// A test body that defers two deletions and then fails early.
    async fn body(cleanups: &Cleanups) -> anyhow::Result<()> {
        cleanups.push("/v1/vector_stores/vs_1".into());
        cleanups.push("/v1/files/file-1".into());
        let count: u32 = "three".parse().context("reading the count")?;
        cleanups.push(format!("/v1/files/file-{count}"));
        Ok(())
    }

    #[tokio::test]
    async fn deferred_deletes_run_after_an_early_return_newest_first() {
        let cleanups = Cleanups::default();
        let stack = FakeStack::default();
        let result = body(&cleanups).await;
        assert!(result.is_err(), "the body returned early");
        assert!(
            stack.deleted().is_empty(),
            "nothing runs before the body ends"
        );
        stack.run(&cleanups, |_| Some(204)).await;
        assert_eq!(
            stack.deleted(),
            ["/v1/files/file-1", "/v1/vector_stores/vs_1"]
        );
        assert!(stack.log().is_empty(), "{:?}", stack.log());
        assert!(cleanups.take().is_empty(), "each cleanup runs once");
    }

    #[tokio::test]
    async fn a_failed_cleanup_is_logged_and_the_others_still_run() {
        let cleanups = Cleanups::default();
        for path in ["/gone", "/refused", "/broken", "/fine"] {
            cleanups.push(path.into());
        }
        let stack = FakeStack::default();
        stack
            .run(&cleanups, |p| match p {
                "/gone" => Some(404),
                "/refused" => Some(0),
                "/broken" => Some(500),
                _ => Some(200),
            })
            .await;
        assert_eq!(stack.deleted(), ["/fine", "/broken", "/refused", "/gone"]);
        assert_eq!(
            stack.log(),
            [
                "cleanup: DELETE /broken answered 500: {}",
                "cleanup: DELETE /refused failed: connection refused",
            ]
        );
    }

    #[tokio::test]
    async fn cleanups_stop_at_their_deadline() {
        let cleanups = Cleanups::default();
        for path in ["/last", "/hangs", "/first"] {
            cleanups.push(path.into());
        }
        let stack = FakeStack::default();
        stack
            .run(&cleanups, |p| (p != "/hangs").then_some(204))
            .await;
        assert_eq!(stack.deleted(), ["/first", "/hangs"]);
        assert_eq!(
            stack.log(),
            ["cleanup: stopped after 0.05 s; not deleted: /hangs, /last"]
        );
    }
}
