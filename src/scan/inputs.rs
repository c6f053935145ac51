//! From `PATH...` to a lazy stream of raw messages.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor, Read};
use std::path::{Path, PathBuf};

use super::folders::{WalkItem, Walker};
use super::mbox::{MboxEntries, CHUNK};
use crate::{Error, Result};

/// The default for [`ScanOptions::max_message_size`]: 256 MiB.
pub const DEFAULT_MAX_MESSAGE_SIZE: u64 = 256 * 1024 * 1024;

/// The first bytes of an mbox file.
const MBOX_MAGIC: &[u8] = b"From ";

/// Where one message came from: the label printed as `path` in reports.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MessageSource {
    /// The path as given or joined (`maildir/cur/1.eml`), `FILE#N` for the N-th entry (from 1)
    /// of an mbox file, `-` for standard input (`-#N` when standard input is an mbox).
    pub label: String,
}

impl MessageSource {
    /// A source with this label.
    pub fn new(label: impl Into<String>) -> Self {
        Self { label: label.into() }
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
    /// Follow symbolic links found inside folders. Default false: links are skipped, which also
    /// rules out loops. Paths named on the command line are always followed.
    pub follow_symlinks: bool,
}

impl Default for ScanOptions {
    fn default() -> Self {
        Self { max_message_size: DEFAULT_MAX_MESSAGE_SIZE, follow_symlinks: false }
    }
}

/// A named input, checked when [`messages`] was called.
enum Root {
    /// A regular file: reopened when its turn comes (holding thousands of open files named by a
    /// shell glob could exhaust file descriptors).
    File(PathBuf),
    /// A folder, Maildir or not.
    Folder(PathBuf),
    /// A stream opened up front: standard input, a FIFO, a device (`<(cmd)` in a shell).
    Stream(String, Box<dyn Read + Send>),
}

/// The messages under the paths given to [`messages`], in order. Reads lazily: one folder listing
/// and one message (or one mbox chunk) at a time.
pub struct Messages {
    roots: VecDeque<Root>,
    walker: Option<Walker>,
    mbox: Option<MboxEntries<Box<dyn BufRead + Send>>>,
    options: ScanOptions,
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
    for path in paths {
        if path.as_os_str() == "-" {
            roots.push_back(Root::Stream("-".to_string(), Box::new(io::stdin())));
            continue;
        }
        let metadata = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
        if metadata.is_dir() {
            std::fs::read_dir(path).map_err(|e| Error::io(path, e))?;
            roots.push_back(Root::Folder(path.clone()));
        } else if metadata.is_file() {
            File::open(path).map_err(|e| Error::io(path, e))?;
            roots.push_back(Root::File(path.clone()));
        } else {
            let file = File::open(path).map_err(|e| Error::io(path, e))?;
            roots.push_back(Root::Stream(label_of(path), Box::new(file)));
        }
    }
    Ok(Messages { roots, walker: None, mbox: None, options: options.clone() })
}

/// The messages in one stream (what `-` does with standard input): one message, or the entries
/// of an mbox if the stream starts with `From `. `label` names the message (`label#N` for mbox
/// entries). Reading stops at the end of the stream; a read error is an `Err` message.
pub fn messages_from_reader(
    label: &str,
    reader: impl Read + Send + 'static,
    options: &ScanOptions,
) -> Messages {
    Messages {
        roots: VecDeque::from([Root::Stream(label.to_string(), Box::new(reader))]),
        walker: None,
        mbox: None,
        options: options.clone(),
    }
}

/// What one file turned out to be.
enum Opened {
    Message(RawMessage),
    Mbox(MboxEntries<Box<dyn BufRead + Send>>),
}

impl Iterator for Messages {
    type Item = RawMessage;

    fn next(&mut self) -> Option<RawMessage> {
        loop {
            if let Some(mbox) = &mut self.mbox {
                if let Some(message) = mbox.next() {
                    return Some(message);
                }
                self.mbox = None;
            }
            if let Some(walker) = &mut self.walker {
                match walker.next() {
                    Some(WalkItem::File(path)) => match self.open_file(&path) {
                        Opened::Message(message) => return Some(message),
                        Opened::Mbox(entries) => self.mbox = Some(entries),
                    },
                    Some(WalkItem::Failed(path, reason)) => {
                        return Some(failed(label_of(&path), reason));
                    }
                    None => self.walker = None,
                }
                continue;
            }
            match self.roots.pop_front()? {
                Root::File(path) => match self.open_file(&path) {
                    Opened::Message(message) => return Some(message),
                    Opened::Mbox(entries) => self.mbox = Some(entries),
                },
                Root::Folder(path) => self.walker = Some(Walker::new(path, &self.options)),
                Root::Stream(label, reader) => match self.open_stream(label, reader, None, false) {
                    Opened::Message(message) => return Some(message),
                    Opened::Mbox(entries) => self.mbox = Some(entries),
                },
            }
        }
    }
}

impl Messages {
    /// Opens a regular file: an mbox (by its first bytes or a `.mbox` name) or one message.
    fn open_file(&self, path: &Path) -> Opened {
        let label = label_of(path);
        let file = match File::open(path) {
            Ok(file) => file,
            Err(e) => return Opened::Message(failed(label, format!("cannot open: {e}"))),
        };
        let size = match file.metadata() {
            Ok(metadata) => metadata.len(),
            Err(e) => return Opened::Message(failed(label, format!("cannot read metadata: {e}"))),
        };
        let named_mbox = path.extension().is_some_and(|ext| ext.eq_ignore_ascii_case("mbox"));
        self.open_stream(label, Box::new(file), Some(size), named_mbox)
    }

    /// Sniffs a stream: an mbox when it starts with `From ` (or `is_mbox`), else one message of at
    /// most `max_message_size` bytes (checked against `known_size` before reading, when known).
    fn open_stream(
        &self,
        label: String,
        mut reader: Box<dyn Read + Send>,
        known_size: Option<u64>,
        is_mbox: bool,
    ) -> Opened {
        let limit = self.options.max_message_size;
        let mut head = Vec::with_capacity(MBOX_MAGIC.len());
        if let Err(e) = (&mut reader).take(MBOX_MAGIC.len() as u64).read_to_end(&mut head) {
            return Opened::Message(failed(label, format!("read error: {e}")));
        }
        if is_mbox || head == MBOX_MAGIC {
            let stream = BufReader::with_capacity(CHUNK, Cursor::new(head).chain(reader));
            return Opened::Mbox(MboxEntries::new(Box::new(stream), label, limit));
        }
        if let Some(size) = known_size.filter(|&size| size > limit) {
            return Opened::Message(failed(label, too_large(size, limit)));
        }
        // Never trust the size for the allocation alone: the file may grow, or lie (/proc).
        let capacity = known_size.unwrap_or(0).min(limit).min(64 * 1024 * 1024);
        let mut bytes = Vec::with_capacity(usize::try_from(capacity).unwrap_or(0));
        bytes.extend_from_slice(&head);
        let rest = limit.saturating_sub(head.len() as u64).saturating_add(1);
        if let Err(e) = reader.take(rest).read_to_end(&mut bytes) {
            return Opened::Message(failed(label, format!("read error: {e}")));
        }
        if bytes.len() as u64 > limit {
            let size = known_size.filter(|&size| size > limit);
            let reason = match size {
                Some(size) => too_large(size, limit),
                None => {
                    format!("more than {} bytes, larger than the {} limit", limit, human(limit))
                }
            };
            return Opened::Message(failed(label, reason));
        }
        Opened::Message(RawMessage { source: MessageSource::new(label), bytes: Ok(bytes) })
    }
}

/// A message that could not be read.
fn failed(label: String, reason: String) -> RawMessage {
    RawMessage { source: MessageSource::new(label), bytes: Err(reason) }
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
    if bytes >= MIB && bytes % MIB == 0 {
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
    }
}
