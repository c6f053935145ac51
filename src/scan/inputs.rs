//! From `PATH...` to a lazy stream of raw messages.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor, Read};
use std::path::{Path, PathBuf};

use std::sync::Arc;

use super::filter::PathFilter;
use super::folders::{WalkItem, WalkNotes, Walker};
use super::mbox::{MboxEntries, CHUNK};
use crate::{Error, Result};

/// The default for [`ScanOptions::max_message_size`]: 256 MiB.
pub const DEFAULT_MAX_MESSAGE_SIZE: u64 = 256 * 1024 * 1024;

/// The first bytes of an mbox file.
const MBOX_MAGIC: &[u8] = b"From ";

/// White space read past, at most, before the `From ` line of a file named `*.mbox`.
const MBOX_LEADING_BLANK: usize = 4096;

/// Where one message came from: the label printed as `path` in reports, how it was found, and
/// which of the paths given it came from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MessageSource {
    /// The path as given or joined (`maildir/cur/1.eml`), `FILE#N` for the N-th entry (from 1)
    /// of an mbox file, `-` for standard input (`-#N` when standard input is an mbox).
    pub label: String,
    /// How it was found.
    pub origin: Origin,
    /// The index, in the paths given to [`messages`], of the path it came from (0 for
    /// [`messages_from_reader`]).
    pub input: usize,
}

/// How a message was found: what a caller may conclude when it turns out not to be mail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Origin {
    /// A file (or stream) named on the command line: it was meant to be mail.
    Named,
    /// A file found while walking a plain folder, where other files (notes, keys, exports) may
    /// sit beside the mail.
    InFolder,
    /// A file in a Maildir's `cur/` or `new/`: every file there is a message.
    InMaildir,
    /// An entry of an mbox file.
    MboxEntry,
}

impl MessageSource {
    /// A source with this label, [`Origin::Named`], from the first input.
    pub fn new(label: impl Into<String>) -> Self {
        Self { label: label.into(), origin: Origin::Named, input: 0 }
    }

    /// A source found as `origin` under the `input`-th path.
    pub fn found(label: impl Into<String>, origin: Origin, input: usize) -> Self {
        Self { label: label.into(), origin, input }
    }
}

impl std::fmt::Display for MessageSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.label)
    }
}

/// One message's raw bytes, or why they could not be read: an I/O or permission error, a message
/// larger than [`ScanOptions::max_message_size`], a truncated or empty mbox entry, a folder that
/// could not be listed, a device or FIFO found in a folder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawMessage {
    /// Where it came from.
    pub source: MessageSource,
    /// The message as stored (mbox entries without their `From ` line and with `>From `
    /// unquoted), or a one-line reason it could not be read.
    pub bytes: std::result::Result<Vec<u8>, String>,
}

/// How inputs are read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScanOptions {
    /// Messages larger than this are reported (`Err("N bytes, larger than the 256 MiB limit")`)
    /// without being read whole. Default [`DEFAULT_MAX_MESSAGE_SIZE`].
    pub max_message_size: u64,
    /// Follow symbolic links found inside folders, to files and to folders (mairix and notmuch
    /// results are folders of links). Default true; a folder reached twice (a link loop) is read
    /// once. False skips every link. Paths named on the command line are always followed.
    pub follow_symlinks: bool,
    /// Which files found while walking folders are read (`--include`/`--exclude`). Default:
    /// all.
    pub filter: PathFilter,
}

impl Default for ScanOptions {
    fn default() -> Self {
        Self {
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            follow_symlinks: true,
            filter: PathFilter::default(),
        }
    }
}

/// A named input, checked when [`messages`] was called.
enum Root {
    /// A regular file: reopened when its turn comes (holding thousands of open files named by a
    /// shell glob could exhaust file descriptors).
    File(usize, PathBuf),
    /// A folder, Maildir or not.
    Folder(usize, PathBuf),
    /// A stream opened up front: standard input, a FIFO, a device (`<(cmd)` in a shell).
    Stream(usize, String, Box<dyn Read + Send>),
}

/// The messages under the paths given to [`messages`], in order. Reads lazily: one folder listing
/// and one message (or one mbox chunk) at a time.
pub struct Messages {
    roots: VecDeque<Root>,
    /// The folder being walked, and the index of its path.
    walker: Option<(usize, Walker)>,
    mbox: Option<MboxEntries<Box<dyn BufRead + Send>>>,
    options: ScanOptions,
    notes: Arc<WalkNotes>,
}

/// Opens every path up front and returns the messages under them, lazily, in order (see the
/// [module documentation](super) for the order and labels).
///
/// `-` is standard input: one message, or an mbox if it starts with `From `.
///
/// # Errors
///
/// [`Error::Io`] when a path does not exist or cannot be opened (a file) or listed (a folder):
/// the CLI exits 2 before scanning. Problems found later are `Err` messages in the stream.
pub fn messages(paths: &[PathBuf], options: &ScanOptions) -> Result<Messages> {
    let mut roots = VecDeque::with_capacity(paths.len());
    for (input, path) in paths.iter().enumerate() {
        if path.as_os_str() == "-" {
            roots.push_back(Root::Stream(input, "-".to_string(), Box::new(io::stdin())));
            continue;
        }
        let metadata = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
        if metadata.is_dir() {
            std::fs::read_dir(path).map_err(|e| Error::io(path, e))?;
            roots.push_back(Root::Folder(input, path.clone()));
        } else if metadata.is_file() {
            File::open(path).map_err(|e| Error::io(path, e))?;
            roots.push_back(Root::File(input, path.clone()));
        } else {
            let file = File::open(path).map_err(|e| Error::io(path, e))?;
            roots.push_back(Root::Stream(input, label_of(path), Box::new(file)));
        }
    }
    Ok(Messages::from_roots(roots, options))
}

/// The messages in one stream (what `-` does with standard input): one message, or the entries
/// of an mbox if the stream starts with `From `. `label` names the message (`label#N` for mbox
/// entries). Reading stops at the end of the stream; a read error is an `Err` message.
pub fn messages_from_reader(
    label: &str,
    reader: impl Read + Send + 'static,
    options: &ScanOptions,
) -> Messages {
    Messages::from_roots(
        VecDeque::from([Root::Stream(0, label.to_string(), Box::new(reader))]),
        options,
    )
}

/// What one file turned out to be.
enum Opened {
    Message(PendingMessage),
    Mbox(MboxEntries<Box<dyn BufRead + Send>>),
}

/// A message taken from the input whose bytes may still be unread: a file that was opened and
/// sniffed (it is not an mbox) but not read. [`PendingMessage::read`] reads it, on whatever
/// thread calls it: the scan pipeline has its workers read files in parallel, while the one
/// thread that walks the inputs only opens them (see [`Messages::pending`]).
pub struct PendingMessage(Pending);

enum Pending {
    Ready(RawMessage),
    Unread(Unread),
}

/// An opened message file, its first bytes already read.
struct Unread {
    source: MessageSource,
    reader: Box<dyn Read + Send>,
    head: Vec<u8>,
    known_size: Option<u64>,
    limit: u64,
}

impl PendingMessage {
    /// Where it came from.
    pub fn label(&self) -> &str {
        match &self.0 {
            Pending::Ready(message) => &message.source.label,
            Pending::Unread(unread) => &unread.source.label,
        }
    }

    /// Where it came from, in full.
    pub fn source(&self) -> &MessageSource {
        match &self.0 {
            Pending::Ready(message) => &message.source,
            Pending::Unread(unread) => &unread.source,
        }
    }

    /// Its size in bytes as far as known before reading it (a file's size; 0 for a stream).
    pub fn size_hint(&self) -> u64 {
        match &self.0 {
            Pending::Ready(message) => message.bytes.as_ref().map_or(0, |b| b.len() as u64),
            Pending::Unread(unread) => unread.known_size.unwrap_or(0),
        }
    }

    /// Reads the message (at most [`ScanOptions::max_message_size`] bytes; a larger one is an
    /// `Err` message, as is a read error).
    pub fn read(self) -> RawMessage {
        match self.0 {
            Pending::Ready(message) => message,
            Pending::Unread(unread) => unread.read(),
        }
    }

    /// Reads the header section only, for a quick look: up to and including the first empty
    /// line, in steps of 4 KiB, and at most `max` bytes (an mbox entry, already read, is handed
    /// over whole). A read error is an `Err` message.
    pub fn read_head(self, max: usize) -> RawMessage {
        const STEP: u64 = 4096;
        match self.0 {
            Pending::Ready(message) => message,
            Pending::Unread(Unread { source, mut reader, mut head, .. }) => loop {
                let before = head.len();
                let rest = (max as u64).saturating_sub(before as u64).min(STEP);
                if let Err(e) = (&mut reader).take(rest).read_to_end(&mut head) {
                    return RawMessage { source, bytes: Err(format!("read error: {e}")) };
                }
                // Look again from just before the new bytes: the empty line may straddle them.
                let from = before.saturating_sub(2);
                let new = head.get(from..).unwrap_or_default();
                let ended =
                    new.windows(2).any(|w| w == b"\n\n") || new.windows(3).any(|w| w == b"\n\r\n");
                if ended || head.len() == before || head.len() >= max {
                    return RawMessage { source, bytes: Ok(head) };
                }
            },
        }
    }
}

impl From<RawMessage> for PendingMessage {
    fn from(message: RawMessage) -> Self {
        PendingMessage(Pending::Ready(message))
    }
}

/// The largest buffer [`recycle`] keeps for the next message read on the same thread.
const RECYCLE_MAX: usize = 64 * 1024 * 1024;

thread_local! {
    static SPARE: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
}

/// Gives a message's buffer back, once the message is done with, to be reused by the next
/// [`PendingMessage::read`] on this thread: a fresh buffer for every file costs page faults
/// (the kernel zeroes every page) and allocator work, about a tenth of a scan of sent items.
/// Buffers over 64 MiB are freed.
pub fn recycle(mut bytes: Vec<u8>) {
    if bytes.capacity() <= RECYCLE_MAX {
        bytes.clear();
        let _ = SPARE.try_with(|spare| {
            // Keep the larger of the two.
            let other = spare.take();
            spare.set(if other.capacity() > bytes.capacity() { other } else { bytes });
        });
    }
}

/// A buffer for a message of about `capacity` bytes: the spare one if it is large enough.
fn buffer(capacity: usize) -> Vec<u8> {
    let spare = SPARE.try_with(std::cell::Cell::take).unwrap_or_default();
    if spare.capacity() >= capacity {
        spare
    } else {
        // Growing the spare would copy what it held: start afresh.
        Vec::with_capacity(capacity)
    }
}

impl Unread {
    fn read(self) -> RawMessage {
        let Unread { source, reader, head, known_size, limit } = self;
        // Never trust the size for the allocation alone: the file may grow, or lie (/proc).
        // One byte more, so that reading to the end of a file of the size stated does not
        // grow the buffer just to find the end.
        let capacity = known_size.unwrap_or(0).min(limit).min(64 * 1024 * 1024).saturating_add(1);
        let mut bytes = buffer(usize::try_from(capacity).unwrap_or(0));
        bytes.extend_from_slice(&head);
        let rest = limit.saturating_sub(head.len() as u64).saturating_add(1);
        if let Err(e) = reader.take(rest).read_to_end(&mut bytes) {
            return RawMessage { source, bytes: Err(format!("read error: {e}")) };
        }
        if bytes.len() as u64 > limit {
            let size = known_size.filter(|&size| size > limit);
            let reason = match size {
                Some(size) => too_large(size, limit),
                None => {
                    format!("more than {} bytes, larger than the {} limit", limit, human(limit))
                }
            };
            return RawMessage { source, bytes: Err(reason) };
        }
        RawMessage { source, bytes: Ok(bytes) }
    }
}

impl Iterator for Messages {
    type Item = RawMessage;

    fn next(&mut self) -> Option<RawMessage> {
        self.next_pending().map(PendingMessage::read)
    }
}

/// [`Messages`] as [`PendingMessage`]s: files opened, not read. See [`Messages::pending`].
pub struct PendingMessages(Messages);

impl Iterator for PendingMessages {
    type Item = PendingMessage;

    fn next(&mut self) -> Option<PendingMessage> {
        self.0.next_pending()
    }
}

impl Messages {
    fn from_roots(roots: VecDeque<Root>, options: &ScanOptions) -> Self {
        Messages {
            roots,
            walker: None,
            mbox: None,
            options: options.clone(),
            notes: Arc::new(WalkNotes::default()),
        }
    }

    /// What the walk of folders passed over on purpose (files left out by `--include`/
    /// `--exclude`, folders reached twice through links), filled in as the messages are taken.
    /// Take the handle before handing the messages to the pipeline.
    pub fn notes(&self) -> Arc<WalkNotes> {
        Arc::clone(&self.notes)
    }

    /// The same messages, in the same order, each file opened and sniffed (an mbox is still
    /// split into its entries here) but left for [`PendingMessage::read`] to read: so that the
    /// threads that audit the messages also read them, in parallel.
    pub fn pending(self) -> PendingMessages {
        PendingMessages(self)
    }

    fn next_pending(&mut self) -> Option<PendingMessage> {
        loop {
            if let Some(mbox) = &mut self.mbox {
                if let Some(message) = mbox.next() {
                    return Some(message.into());
                }
                self.mbox = None;
            }
            if let Some((input, walker)) = &mut self.walker {
                let input = *input;
                match walker.next() {
                    Some(WalkItem::File { path, in_maildir }) => {
                        let origin = if in_maildir { Origin::InMaildir } else { Origin::InFolder };
                        match self.open_file(&path, origin, input) {
                            Opened::Message(message) => return Some(message),
                            Opened::Mbox(entries) => self.mbox = Some(entries),
                        }
                    }
                    Some(WalkItem::Failed(path, reason)) => {
                        let source = MessageSource::found(label_of(&path), Origin::InFolder, input);
                        return Some(RawMessage { source, bytes: Err(reason) }.into());
                    }
                    None => self.walker = None,
                }
                continue;
            }
            match self.roots.pop_front()? {
                Root::File(input, path) => match self.open_file(&path, Origin::Named, input) {
                    Opened::Message(message) => return Some(message),
                    Opened::Mbox(entries) => self.mbox = Some(entries),
                },
                Root::Folder(input, path) => {
                    let walker = Walker::new(path, &self.options, Arc::clone(&self.notes));
                    self.walker = Some((input, walker));
                }
                Root::Stream(input, label, reader) => {
                    let source = MessageSource::found(label, Origin::Named, input);
                    match self.open_stream(source, reader, None, false) {
                        Opened::Message(message) => return Some(message),
                        Opened::Mbox(entries) => self.mbox = Some(entries),
                    }
                }
            }
        }
    }
}

impl Messages {
    /// Opens a regular file: an mbox (by its first bytes, which for a `.mbox` name may follow
    /// blank lines) or one message.
    fn open_file(&self, path: &Path, origin: Origin, input: usize) -> Opened {
        let source = MessageSource::found(label_of(path), origin, input);
        let file = match File::open(path) {
            Ok(file) => file,
            Err(e) => {
                return Opened::Message(failed(source, format!("cannot open: {e}")).into());
            }
        };
        let size = match file.metadata() {
            Ok(metadata) => metadata.len(),
            Err(e) => {
                let reason = format!("cannot read metadata: {e}");
                return Opened::Message(failed(source, reason).into());
            }
        };
        let named_mbox = path.extension().is_some_and(|ext| ext.eq_ignore_ascii_case("mbox"));
        self.open_stream(source, Box::new(file), Some(size), named_mbox)
    }

    /// Sniffs a stream: an mbox when it starts with `From ` (after white space, if `named_mbox`:
    /// a file named `*.mbox` that holds one message without a `From ` line is that message),
    /// else one message of at most `max_message_size` bytes (checked against `known_size`
    /// before reading, when known), left unread.
    fn open_stream(
        &self,
        source: MessageSource,
        mut reader: Box<dyn Read + Send>,
        known_size: Option<u64>,
        named_mbox: bool,
    ) -> Opened {
        let limit = self.options.max_message_size;
        let head = match sniff(&mut reader, named_mbox) {
            Ok(head) => head,
            Err(e) => return Opened::Message(failed(source, format!("read error: {e}")).into()),
        };
        let blank = if named_mbox { leading_blank(&head) } else { 0 };
        if head.get(blank..).is_some_and(|rest| rest.starts_with(MBOX_MAGIC)) {
            let stream: Box<dyn BufRead + Send> =
                Box::new(BufReader::with_capacity(CHUNK, Cursor::new(head).chain(reader)));
            let entries = MboxEntries::new(stream, source.label, source.input, limit);
            return Opened::Mbox(entries);
        }
        if let Some(size) = known_size.filter(|&size| size > limit) {
            return Opened::Message(failed(source, too_large(size, limit)).into());
        }
        Opened::Message(PendingMessage(Pending::Unread(Unread {
            source,
            reader,
            head,
            known_size,
            limit,
        })))
    }
}

/// The first bytes of a stream: `From `'s length, or (`skip_blank`) that much after up to
/// [`MBOX_LEADING_BLANK`] bytes of white space. Fewer at the end of the stream.
fn sniff(reader: &mut dyn Read, skip_blank: bool) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(MBOX_MAGIC.len());
    loop {
        let blank = if skip_blank { leading_blank(&head) } else { 0 };
        let want = blank + MBOX_MAGIC.len();
        if head.len() >= want || blank >= MBOX_LEADING_BLANK {
            return Ok(head);
        }
        let before = head.len();
        reader.take((want - before) as u64).read_to_end(&mut head)?;
        if head.len() == before {
            return Ok(head);
        }
    }
}

/// How many bytes of white space `bytes` starts with.
fn leading_blank(bytes: &[u8]) -> usize {
    bytes.iter().take_while(|b| b.is_ascii_whitespace()).count()
}

/// A message that could not be read.
fn failed(source: MessageSource, reason: String) -> RawMessage {
    RawMessage { source, bytes: Err(reason) }
}

/// The `path` label of a file: the path as given or joined.
fn label_of(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// "N bytes, larger than the 256 MiB limit".
pub(crate) fn too_large(size: u64, limit: u64) -> String {
    format!("{size} bytes, larger than the {} limit", human(limit))
}

/// A size for people: `256 MiB` when it is a whole number of MiB, else bytes.
fn human(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{bytes}-byte")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_naturally() {
        assert_eq!(
            too_large(300 << 20, DEFAULT_MAX_MESSAGE_SIZE),
            "314572800 bytes, larger than the 256 MiB limit"
        );
        assert_eq!(too_large(20, 10), "20 bytes, larger than the 10-byte limit");
    }

    #[test]
    fn messages_is_send() {
        fn is_send<T: Send>(_: &T) {}
        let messages = messages_from_reader("-", io::empty(), &ScanOptions::default());
        is_send(&messages);
        let mut pending = messages.pending();
        is_send(&pending);
        let first = pending.next().expect("the empty stream is one (empty) message");
        is_send(&first);
    }
}
