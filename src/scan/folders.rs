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

use std::ffi::OsString;
use std::fs::{self, FileType};
use std::path::{Path, PathBuf};

use super::inputs::ScanOptions;

/// Folders nested deeper than this are reported, not entered (a guard against pathological trees
/// and, with `follow_symlinks`, link cycles the loop check cannot see).
pub(crate) const MAX_DEPTH: usize = 256;

/// What the walk found next.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum WalkItem {
    /// A regular file to read.
    File(PathBuf),
    /// Something that cannot be read as a message: a folder that cannot be listed, a broken link,
    /// a device or FIFO. The scan reports it and goes on.
    Failed(PathBuf, String),
}

/// One folder being walked.
struct Frame {
    dir: PathBuf,
    /// Remaining entries, sorted by name, reversed so `pop` gives the next one.
    entries: Vec<Entry>,
    /// This folder is a Maildir: only `cur`, `new` and `.Sub` folders are entered.
    maildir: bool,
    /// The canonical path, to recognise link loops (only when following links).
    canonical: Option<PathBuf>,
}

/// A folder entry: its name and the type the listing gave (not following links), or why the
/// listing could not give it.
struct Entry {
    name: OsString,
    file_type: Result<FileType, String>,
}

/// Walks one named folder, depth first.
pub(crate) struct Walker {
    stack: Vec<Frame>,
    follow_symlinks: bool,
    /// A problem found while entering a folder, to report before going on.
    pending: Option<WalkItem>,
}

impl Walker {
    /// Starts walking `root` (a folder; a Maildir is recognised at the top too).
    pub(crate) fn new(root: PathBuf, options: &ScanOptions) -> Self {
        let mut walker =
            Self { stack: Vec::new(), follow_symlinks: options.follow_symlinks, pending: None };
        walker.pending = walker.enter(root);
        walker
    }

    /// Pushes a frame for `dir`, or returns why it cannot be walked.
    fn enter(&mut self, dir: PathBuf) -> Option<WalkItem> {
        if self.stack.len() >= MAX_DEPTH {
            let reason = format!("folder nested deeper than {MAX_DEPTH} levels: skipped");
            return Some(WalkItem::Failed(dir, reason));
        }
        let canonical = if self.follow_symlinks {
            match fs::canonicalize(&dir) {
                Ok(canonical) => {
                    if self.stack.iter().any(|f| f.canonical.as_ref() == Some(&canonical)) {
                        let reason = format!(
                            "symbolic link loop: {} is already being read",
                            canonical.display()
                        );
                        return Some(WalkItem::Failed(dir, reason));
                    }
                    Some(canonical)
                }
                Err(e) => return Some(WalkItem::Failed(dir, format!("cannot resolve: {e}"))),
            }
        } else {
            None
        };
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
        self.stack.push(Frame { dir: dir.clone(), entries, maildir, canonical });
        errors.first().map(|e| {
            let reason =
                format!("cannot list every entry of the folder ({} errors): {e}", errors.len());
            WalkItem::Failed(dir, reason)
        })
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
            let in_maildir = frame.maildir;
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
                if let Some(problem) = self.enter(path) {
                    return Some(problem);
                }
                continue;
            }
            if in_maildir {
                // A Maildir's own files (indexes, quota, subscriptions) are not messages.
                continue;
            }
            if file_type.is_file() {
                return Some(WalkItem::File(path));
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
