//! Panic capture: a panic inside a test becomes that test's failure text,
//! in libtest's shape (`thread '<name>' panicked at <file>:<line>:<col>:`),
//! instead of a message on stderr from some tokio worker thread.

use std::panic::{self, PanicHookInfo};
use std::sync::{Arc, Mutex, Once};

tokio::task_local! {
    /// The trial whose task is being polled on this thread.
    static CURRENT: Arc<PanicSlot>;
}

/// Where a trial's first panic is written.
#[derive(Default, Debug)]
pub(crate) struct PanicSlot(Mutex<Option<String>>);

impl PanicSlot {
    pub(crate) fn take(&self) -> Option<String> {
        self.0.lock().ok()?.take()
    }
}

/// Runs `fut` with `slot` receiving any panic raised while polling it.
pub(crate) async fn scope<F: Future>(slot: Arc<PanicSlot>, fut: F) -> F::Output {
    CURRENT.scope(slot, fut).await
}

/// Installs the hook once; panics outside a trial go to the previous hook.
pub(crate) fn install_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let handled = CURRENT
                .try_with(|slot| {
                    if let Ok(mut s) = slot.0.lock() {
                        s.get_or_insert_with(|| describe(info));
                    }
                })
                .is_ok();
            if !handled {
                previous(info);
            }
        }));
    });
}

/// `panicked at src/x.rs:3:5:\n<message>`, as std's hook words it.
fn describe(info: &PanicHookInfo<'_>) -> String {
    let payload = info
        .payload()
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| info.payload().downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "Box<dyn Any>".to_owned());
    match info.location() {
        Some(loc) => format!(
            "panicked at {}:{}:{}:\n{payload}",
            loc.file(),
            loc.line(),
            loc.column()
        ),
        None => format!("panicked:\n{payload}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_in_scope_lands_in_the_slot_with_its_location() {
        install_hook();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let slot = Arc::new(PanicSlot::default());
        let s = slot.clone();
        let result = rt.block_on(async move {
            tokio::spawn(scope(s, async {
                panic!("boom {}", 42);
            }))
            .await
        });
        assert!(result.expect_err("panicked").is_panic());
        let text = slot.take().expect("captured");
        assert!(
            text.starts_with("panicked at harness/src/runner/panic.rs:"),
            "{text}"
        );
        assert!(text.ends_with(":\nboom 42"), "{text}");
    }
}
