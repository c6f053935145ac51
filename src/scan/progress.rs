//! Progress reporting: a trait the pipeline calls, and an indicatif bar on standard error.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::folders::{WalkItem, Walker};
use super::inputs::ScanOptions;

/// Where [`run_ordered`](super::run_ordered) reports progress. Called from the thread that runs
/// the sink.
pub trait Progress: Sync {
    /// One more message reached the sink; it had `bytes` bytes (0 if it could not be read).
    fn message_done(&self, bytes: u64);
    /// The scan is over (also after an early stop).
    fn finish(&self);
    /// The inputs hold about `total` bytes: enables a bar and an ETA. Default: ignored.
    fn set_total_bytes(&self, total: u64) {
        let _ = total;
    }
    /// Prints a line (a warning) on standard error without garbling the bar. Default: `eprintln!`.
    fn print_line(&self, line: &str) {
        eprintln!("{line}");
    }
    /// Runs `write` with the bar hidden, then draws it again: for writing to the terminal the
    /// bar is drawn on (a report on standard output when both are the terminal), so that no
    /// stale bar is left in the scrollback and no line is split by a redraw. `write` should
    /// flush what it writes. Default: runs `write`.
    fn suspend(&self, write: &mut dyn FnMut()) {
        write();
    }
    /// Names what is being done, before the message count (`harvesting certificates`).
    /// Default: ignored.
    fn set_label(&self, label: &str) {
        let _ = label;
    }
}

/// An indicatif progress bar on standard error: messages, bytes, rate, and (once the total size is
/// known) a bar and ETA.
struct Bar {
    bar: ProgressBar,
    messages: AtomicU64,
    label: std::sync::Mutex<String>,
}

const SPINNER_TEMPLATE: &str =
    "{spinner} {msg} · {bytes} · {binary_bytes_per_sec} · {elapsed_precise}";
const BAR_TEMPLATE: &str =
    "{spinner} {msg} · [{wide_bar}] {bytes}/{total_bytes} · {binary_bytes_per_sec} · ETA {eta}";

impl Progress for Bar {
    fn message_done(&self, bytes: u64) {
        let messages = self.messages.fetch_add(1, Ordering::Relaxed) + 1;
        self.bar.set_message(self.message(messages));
        self.bar.inc(bytes);
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }

    fn set_total_bytes(&self, total: u64) {
        show_total(&self.bar, total);
    }

    fn print_line(&self, line: &str) {
        self.bar.suspend(|| eprintln!("{line}"));
    }

    fn suspend(&self, write: &mut dyn FnMut()) {
        self.bar.suspend(write);
    }

    fn set_label(&self, label: &str) {
        *self.label.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = label.to_owned();
        self.bar.set_message(self.message(self.messages.load(Ordering::Relaxed)));
    }
}

impl Bar {
    /// `12 messages`, or `harvesting certificates · 12 messages`.
    fn message(&self, messages: u64) -> String {
        let label = self.label.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let count =
            if messages == 1 { "1 message".to_string() } else { format!("{messages} messages") };
        if label.is_empty() {
            count
        } else {
            format!("{label} · {count}")
        }
    }
}

/// An indicatif progress bar on standard error (messages, bytes, rate; see
/// [`progress_bar_with_estimate`] for an ETA), or `None` when `mode_auto` is false
/// (`--progress never`) or standard error is not a terminal.
pub fn progress_bar(mode_auto: bool) -> Option<Box<dyn Progress>> {
    new_bar(mode_auto).map(|bar| Box::new(bar) as Box<dyn Progress>)
}

/// [`progress_bar`], plus a background thread that adds up the sizes of the inputs
/// ([`estimate_total_bytes`]) and then turns the spinner into a bar with an ETA. The thread gives
/// up when the bar is finished first.
pub fn progress_bar_with_estimate(
    mode_auto: bool,
    paths: &[PathBuf],
    options: &ScanOptions,
) -> Option<Box<dyn Progress>> {
    let bar = new_bar(mode_auto)?;
    let handle = bar.bar.clone();
    let (paths, options) = (paths.to_vec(), options.clone());
    // Detached: it only reads metadata, and stops at the next file once the bar is finished.
    let spawned = std::thread::Builder::new().name("progress-estimate".into()).spawn(move || {
        let total = estimate(&paths, &options, &|| !handle.is_finished());
        if let Some(total) = total.filter(|_| !handle.is_finished()) {
            show_total(&handle, total);
        }
    });
    // No thread (out of resources): a spinner without an ETA still works.
    drop(spawned);
    Some(Box::new(bar))
}

/// Turns the spinner into a bar of `total` bytes, with an ETA.
fn show_total(bar: &ProgressBar, total: u64) {
    if let Ok(style) = ProgressStyle::with_template(BAR_TEMPLATE) {
        bar.set_style(style.progress_chars("=> "));
    }
    // Messages may already have passed the estimate (a file grew): never below the position.
    bar.set_length(total.max(bar.position()));
}

fn new_bar(mode_auto: bool) -> Option<Bar> {
    if !mode_auto || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(SPINNER_TEMPLATE) {
        bar.set_style(style);
    }
    bar.set_message("0 messages");
    bar.enable_steady_tick(Duration::from_millis(120));
    Some(Bar { bar, messages: AtomicU64::new(0), label: std::sync::Mutex::new(String::new()) })
}

/// The total size in bytes of the files [`messages`](super::messages) would read under `paths`
/// (mbox files counted whole), from metadata only. `None` when an input is standard input or a
/// stream, whose size is unknown. Unreadable entries count as 0.
pub fn estimate_total_bytes(paths: &[PathBuf], options: &ScanOptions) -> Option<u64> {
    estimate(paths, options, &|| true)
}

fn estimate(paths: &[PathBuf], options: &ScanOptions, go_on: &dyn Fn() -> bool) -> Option<u64> {
    let mut total = 0u64;
    for path in paths {
        if path.as_os_str() == "-" {
            return None;
        }
        let metadata = std::fs::metadata(path).ok()?;
        if metadata.is_file() {
            total = total.saturating_add(metadata.len());
        } else if metadata.is_dir() {
            for item in Walker::new(path.clone(), options, Default::default()) {
                if !go_on() {
                    return None;
                }
                if let WalkItem::File { path: file, .. } = item {
                    let size = std::fs::metadata(&file).map_or(0, |m| m.len());
                    total = total.saturating_add(size);
                }
            }
        } else {
            return None;
        }
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_are_valid() {
        assert!(ProgressStyle::with_template(SPINNER_TEMPLATE).is_ok());
        assert!(ProgressStyle::with_template(BAR_TEMPLATE).is_ok());
    }

    #[test]
    fn never_means_no_bar() {
        assert!(progress_bar(false).is_none());
        assert!(progress_bar_with_estimate(false, &[], &ScanOptions::default()).is_none());
    }
}
