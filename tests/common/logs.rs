//! What the code logs, captured at every level on this thread, for the tests that check no message
//! body, address, token or secret is ever logged.
//!
//! One subscriber is the global default for the whole test binary, and writes each event into the
//! capture of the thread that logged it (or nowhere). A per-test `set_default` subscriber would be
//! simpler, but tracing caches each callsite's interest globally: a test on another thread that hits a
//! callsite first, with no subscriber, can leave it disabled for the capturing test, which then misses
//! lines it should see (CI saw exactly that). A global default at TRACE leaves nothing to cache wrongly.

use std::cell::RefCell;
use std::sync::{Arc, Mutex, Once};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

thread_local! {
    static CURRENT: RefCell<Option<Captured>> = const { RefCell::new(None) };
}

/// Writes into this thread's capture, if it has one.
struct ThisThread;

impl std::io::Write for ThisThread {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        CURRENT.with(|current| {
            if let Some(captured) = current.borrow().as_ref() {
                captured.0.lock().unwrap().extend_from_slice(bytes);
            }
        });
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Logs captured from its making until it is dropped.
pub struct Logs {
    captured: Captured,
}

/// Captures everything logged on this thread, at every level, until the result is dropped.
pub fn capture() -> Logs {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(|| ThisThread)
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("no other global subscriber in the tests");
    });
    let captured = Captured::default();
    CURRENT.with(|current| *current.borrow_mut() = Some(captured.clone()));
    Logs { captured }
}

impl Drop for Logs {
    fn drop(&mut self) {
        CURRENT.with(|current| *current.borrow_mut() = None);
    }
}

impl Logs {
    /// What was logged so far.
    pub fn text(&self) -> String {
        String::from_utf8(self.captured.0.lock().unwrap().clone()).expect("logs are UTF-8")
    }
}
