//! Walking folders and Maildirs incrementally, in a deterministic order.
//!
//! One folder listing is held per level of nesting (names only, sorted), so memory follows the
//! depth of the tree and the size of the largest folder, not the number of messages.
//!
//! A Maildir is a folder with `cur/` and `new/` subfolders (<https://cr.yp.to/proto/maildir.html>).
//! Its messages are `cur/` then `new/`; `tmp/` holds messages still being delivered and is skipped,
//! as are the Maildir's own files (`dovecot.index`, `maildirfolder`, ...). Maildir++ subfolders
//! (<https://www.courier-mta.org/imap/README.maildirquota.html>) are the Maildir's subfolders whose
//! names start with `.` (`.Sent`, `.Archive.2024`); each is read the same way after `new/`, in name
//! order.
//!
//! Symbolic links are followed by default (mairix and notmuch build folders of links to the
//! messages): to files and to folders. Every folder entered is remembered by identity ((device,
//! inode) on Unix), so a link loop or a second link to the same folder is read once and noted in
//! [`WalkNotes`], not walked again.

use std::collections::HashMap;
use std::ffi::OsString;
use std::fs::{self, FileType};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use super::filter::PathFilter;
use super::inputs::ScanOptions;

/// Folders nested deeper than this are reported, not entered (a guard against pathological trees).
pub(crate) const MAX_DEPTH: usize = 256;

/// What the walk found next.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum WalkItem {
    /// A regular file to read; `in_maildir` when it sits in a Maildir's `cur/` or `new/`.
    File { path: PathBuf, in_maildir: bool },
    /// Something that cannot be read as a message: a folder that cannot be listed, a broken link,
    /// a device or FIFO. The scan reports it and goes on.
    Failed(PathBuf, String),
}

/// What a walk passed over on purpose, for the caller to tell the user: files left out by
/// `--include`/`--exclude`, and folders reached a second time through a symbolic link (a link
/// loop, or two links to one folder), which are read once. Shared by every walk of one
/// [`Messages`](super::Messages); see [`Messages::notes`](super::Messages::notes).
#[derive(Debug, Default)]
pub struct WalkNotes {
    excluded: AtomicU64,
    repeated: Mutex<Vec<(PathBuf, PathBuf)>>,
}

impl WalkNotes {
    /// Files and folders left out by `--include`/`--exclude`.
    pub fn excluded(&self) -> u64 {
        self.excluded.load(Ordering::Relaxed)
    }

    /// Folders not read again: (the path reached, the path under which it was read).
    pub fn repeated_folders(&self) -> Vec<(PathBuf, PathBuf)> {
        self.repeated.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

/// One folder being walked.
struct Frame {
    dir: PathBuf,
    /// Remaining entries, sorted by name, reversed so `pop` gives the next one.
    entries: Vec<Entry>,
    /// This folder is a Maildir: only `cur`, `new` and `.Sub` folders are entered.
    maildir: bool,
    /// This folder is a Maildir's `cur` or `new`: its files are messages.
    maildir_messages: bool,
}

/// A folder entry: its name and the type the listing gave (not following links), or why the
/// listing could not give it.
struct Entry {
    name: OsString,
    file_type: Result<FileType, String>,
}

/// Walks one named folder, depth first.
pub(crate) struct Walker {
    root: PathBuf,
    stack: Vec<Frame>,
    follow_symlinks: bool,
    filter: PathFilter,
    /// Every folder entered so far, by identity, with the path it was read under: a folder
    /// reached again (a link loop, or two links to one folder) is not read twice.
    entered: HashMap<FolderId, PathBuf>,
    notes: Arc<WalkNotes>,
    /// A problem found while entering a folder, to report before going on.
    pending: Option<WalkItem>,
}

/// A folder's identity: (device, inode) on Unix, its canonical path elsewhere.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum FolderId {
    #[cfg(unix)]
    Inode(u64, u64),
    #[cfg_attr(unix, allow(dead_code))]
    Path(PathBuf),
}

fn folder_id(dir: &Path) -> std::io::Result<FolderId> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let metadata = fs::metadata(dir)?;
        Ok(FolderId::Inode(metadata.dev(), metadata.ino()))
    }
    #[cfg(not(unix))]
    {
        Ok(FolderId::Path(fs::canonicalize(dir)?))
    }
}

impl Walker {
    /// Starts walking `root` (a folder; a Maildir is recognised at the top too), noting what it
    /// passes over in `notes`.
    pub(crate) fn new(root: PathBuf, options: &ScanOptions, notes: Arc<WalkNotes>) -> Self {
        let mut walker = Self {
            root: root.clone(),
            stack: Vec::new(),
            follow_symlinks: options.follow_symlinks,
            filter: options.filter.clone(),
            entered: HashMap::new(),
            notes,
            pending: None,
        };
        walker.pending = walker.enter(root, false);
        walker
    }

    /// Pushes a frame for `dir`, or returns why it cannot be walked. A folder already entered
    /// (reached again through a link) is noted and skipped.
    fn enter(&mut self, dir: PathBuf, maildir_messages: bool) -> Option<WalkItem> {
        if self.stack.len() >= MAX_DEPTH {
            let reason = format!("folder nested deeper than {MAX_DEPTH} levels: skipped");
            return Some(WalkItem::Failed(dir, reason));
        }
        match folder_id(&dir) {
            Ok(id) => {
                if let Some(first) = self.entered.get(&id) {
                    let note = (dir, first.clone());
                    self.notes.repeated.lock().unwrap_or_else(PoisonError::into_inner).push(note);
                    return None;
                }
                self.entered.insert(id, dir.clone());
            }
            Err(e) => return Some(WalkItem::Failed(dir, format!("cannot read folder: {e}"))),
        }
        let maildir = is_maildir(&dir);
        let listing = match fs::read_dir(&dir) {
            Ok(listing) => listing,
            Err(e) => return Some(WalkItem::Failed(dir, format!("cannot list folder: {e}"))),
        };
        let mut entries = Vec::new();
        let mut errors = Vec::new();
        for entry in listing {
            match entry {
                Ok(entry) => {
                    let name = entry.file_name();
                    if wanted(&name, maildir) {
                        let file_type = entry.file_type().map_err(|e| e.to_string());
                        entries.push(Entry { name, file_type });
                    }
                }
                Err(e) => errors.push(e.to_string()),
            }
        }
        if maildir {
            // cur before new, then the maildir++ folders by name.
            entries.sort_by(|a, b| maildir_rank(&a.name).cmp(&maildir_rank(&b.name)));
        } else {
            entries.sort_by(|a, b| a.name.cmp(&b.name));
        }
        entries.reverse();
        self.stack.push(Frame { dir: dir.clone(), entries, maildir, maildir_messages });
        errors.first().map(|e| {
            let reason =
                format!("cannot list every entry of the folder ({} errors): {e}", errors.len());
            WalkItem::Failed(dir, reason)
        })
    }

    /// `path` relative to the walked folder, for `--include`/`--exclude`.
    fn relative<'p>(&self, path: &'p Path) -> &'p Path {
        path.strip_prefix(&self.root).unwrap_or(path)
    }
}

impl Iterator for Walker {
    type Item = WalkItem;

    fn next(&mut self) -> Option<WalkItem> {
        if let Some(item) = self.pending.take() {
            return Some(item);
        }
        loop {
            let frame = self.stack.last_mut()?;
            let Some(entry) = frame.entries.pop() else {
                self.stack.pop();
                continue;
            };
            let path = frame.dir.join(&entry.name);
            let (in_maildir, in_messages) = (frame.maildir, frame.maildir_messages);
            let mut file_type = match entry.file_type {
                Ok(file_type) => file_type,
                Err(e) => return Some(WalkItem::Failed(path, format!("cannot read entry: {e}"))),
            };
            if file_type.is_symlink() {
                if !self.follow_symlinks {
                    continue;
                }
                match fs::metadata(&path) {
                    Ok(target) => file_type = target.file_type(),
                    Err(e) => {
                        let reason = format!("broken symbolic link: {e}");
                        return Some(WalkItem::Failed(path, reason));
                    }
                }
            }
            if file_type.is_dir() {
                if !self.filter.wants_folder(self.relative(&path)) {
                    self.notes.excluded.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                let messages = in_maildir && (entry.name == "cur" || entry.name == "new");
                if let Some(problem) = self.enter(path, messages) {
                    return Some(problem);
                }
                continue;
            }
            if in_maildir {
                // A Maildir's own files (indexes, quota, subscriptions) are not messages.
                continue;
            }
            if file_type.is_file() {
                if !self.filter.wants_file(self.relative(&path)) {
                    self.notes.excluded.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                return Some(WalkItem::File { path, in_maildir: in_messages });
            }
            let reason = "not a regular file (device, FIFO or socket): not read".to_string();
            return Some(WalkItem::Failed(path, reason));
        }
    }
}
/// A Maildir has `cur` and `new` folders.
pub(crate) fn is_maildir(dir: &Path) -> bool {
    dir.join("cur").is_dir() && dir.join("new").is_dir()
}

/// Whether a folder entry is walked: in a Maildir, `cur`, `new` and maildir++ `.Sub` folders; in a
/// plain folder, everything but hidden entries.
fn wanted(name: &OsString, in_maildir: bool) -> bool {
    let hidden = name.as_encoded_bytes().first() == Some(&b'.');
    if in_maildir {
        name == "cur" || name == "new" || hidden
    } else {
        !hidden
    }
}

/// The order of a Maildir's entries: `cur`, `new`, then the rest by name.
fn maildir_rank(name: &OsString) -> (u8, &OsString) {
    let rank = if name == "cur" {
        0
    } else if name == "new" {
        1
    } else {
        2
    };
    (rank, name)
}
