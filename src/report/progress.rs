//! The progress bar of `baton report` on stderr, while it reads a timeline or a table and replays
//! or loads its cases. Drawn only when stderr is a terminal: in a pipe, a log or a test, the bar is
//! hidden and nothing is written.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// A bar of `len` steps (bytes when `bytes`), or a spinner when the length is unknown (counting
/// its steps when `bytes` is false, else only the time).
pub fn bar(len: Option<u64>, message: &str, bytes: bool) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = match len {
        Some(len) => {
            let template = if bytes {
                "{msg} [{bar:30}] {bytes}/{total_bytes} ({eta})"
            } else {
                "{msg} [{bar:30}] {pos}/{len} ({eta})"
            };
            let style = ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar());
            ProgressBar::new(len).with_style(style.progress_chars("=> "))
        }
        None => {
            let template = if bytes { "{spinner} {msg} ({elapsed})" } else { "{spinner} {msg}: {pos} ({elapsed})" };
            let style = ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_spinner());
            let bar = ProgressBar::new_spinner().with_style(style);
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        }
    };
    bar.set_message(message.to_string());
    bar
}
