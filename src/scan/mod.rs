//! The input side of `smime-lint audit`: finding messages under the paths a user gives, and
//! feeding them through a per-message function in parallel while handing the results back in
//! input order with bounded memory.
//!
//! - [`messages`] turns `PATH...` (an .eml file, a folder, a Maildir, an mbox file, or `-` for
//!   standard input) into a lazy stream of [`RawMessage`]s. Every named path is opened up front
//!   (a path that cannot be opened is an [`Error`](crate::Error): exit 2); anything that goes
//!   wrong later (one unreadable file, a truncated mbox entry, an oversized message) is a
//!   `RawMessage` whose `bytes` is `Err`, so the scan goes on and still prints a line for it.
//! - [`run_ordered`] runs a function on every message with N threads and calls a sink with the
//!   results in input order, on the calling thread. It is generic over the function: it knows
//!   nothing about audits.
//! - [`progress_bar`] is an indicatif progress bar on standard error, implementing [`Progress`].
//!
//! # What is read, in which order
//!
//! | Input | Messages, in order | `path` label |
//! |---|---|---|
//! | a file | the file (or its entries, if it is an mbox) | the path as given; `FILE#N` for mbox |
//! | a folder | depth first, entries sorted by name in each folder | `FOLDER/sub/name` |
//! | a Maildir (has `cur/` and `new/`) | `cur/`, then `new/`, then each maildir++ `.Sub` folder (sorted) the same way; `tmp/` and other files skipped | `MAILDIR/cur/name` |
//! | an mbox (starts with `From `; for a file named `*.mbox`, after blank lines) | each entry, streaming | `FILE#N`, N from 1 |
//! | `-` | standard input: one message, or mbox entries if it starts with `From ` | `-`, or `-#N` |
//!
//! Whether a file is an mbox is decided by its content: a file named `*.mbox` that holds one
//! message without a `From ` line is that message.
//!
//! In plain folders, hidden entries (names starting with `.`, such as `.DS_Store` or `.git`) are
//! skipped: they are never mail, and a Maildir's maildir++ subfolders are found through the
//! Maildir rule instead. [`ScanOptions::filter`] (`--include`/`--exclude`, see [`PathFilter`])
//! chooses among the other files found in folders; files named on the command line are always
//! read. Every file read carries its [`Origin`] in [`MessageSource`], so that a caller can tell a
//! file that was named (and so meant to be mail) from one found beside the mail in a folder.
//!
//! Symbolic links inside folders are followed, to files and to folders (mairix and notmuch write
//! search results as folders of links), unless [`ScanOptions::follow_symlinks`] is false (then
//! they are skipped). A folder reached a second time (a link loop, two links to one folder) is
//! read once and noted in [`WalkNotes`] ([`Messages::notes`]); a broken link is an `Err`
//! message. Paths named on the command line are always followed. Devices, FIFOs and sockets
//! inside folders are reported (`Err`), never opened: opening a FIFO could block the scan
//! forever.

mod filter;
mod folders;
mod inputs;
mod mbox;
mod pipeline;
mod progress;

pub use filter::PathFilter;
pub use folders::WalkNotes;
pub use inputs::{
    messages, messages_from_reader, recycle, MessageSource, Messages, Origin, PendingMessage,
    PendingMessages, RawMessage, ScanOptions, DEFAULT_MAX_MESSAGE_SIZE,
};
pub use pipeline::{
    run_ordered, run_ordered_with, Input, PipelineLimits, IN_FLIGHT_BYTES, IN_FLIGHT_PER_JOB,
};
pub use progress::{estimate_total_bytes, progress_bar, progress_bar_with_estimate, Progress};
