//! What the code logs, captured at every level on this thread, for the tests that check no message
//! body, address, token or secret is ever logged.

use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Logs captured from its making until it is dropped.
pub struct Logs {
    captured: Captured,
    _default: tracing::subscriber::DefaultGuard,
}

/// Captures everything logged on this thread, at every level, until the result is dropped.
pub fn capture() -> Logs {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    Logs { captured, _default: tracing::subscriber::set_default(subscriber) }
}

impl Logs {
    /// What was logged so far.
    pub fn text(&self) -> String {
        String::from_utf8(self.captured.0.lock().unwrap().clone()).expect("logs are UTF-8")
    }
}
