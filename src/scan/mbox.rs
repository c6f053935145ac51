//! A streaming mbox reader with bounded memory.
//!
//! mbox is the `From `-line separated mailbox format (mboxo / mboxrd, see
//! <http://qmail.org/qmail-manual-html/man5/mbox.html> and RFC 4155): each entry starts with a line
//! beginning `From `, and a body line that would begin `From ` is stored quoted as `>From `.
//! mboxrd quotes already-quoted lines again (`>>From `), so reading unquotes exactly one `>` from
//! any line matching `>+From `; for mboxo files this restores the original `From ` lines too.
//!
//! mail-parser's `mailbox::mbox::MessageIterator` does the same splitting, but reads whole lines
//! with no bound (one 2 GB line is one 2 GB allocation), keeps every entry whole whatever its size,
//! and cannot tell a truncated last entry. This reader reads in chunks of at most
//! [`CHUNK`] bytes, stops keeping an entry once it is larger than the size limit (it still reads
//! past it to find the next entry), and reports a last entry that ends in the middle of a line.
//!
//! Every entry becomes one [`RawMessage`] labelled `FILE#N` (N counts from 1). Content-Length
//! headers (mboxcl/mboxcl2) are not honoured: like mboxo readers, any line starting `From `
//! starts a new entry.

use std::io::{self, BufRead};

use super::inputs::{too_large, MessageSource, Origin, RawMessage};

/// The longest piece of a line read at once. Lines longer than this are read in several chunks;
/// only the first chunk of a line is checked for `From ` or `>From `.
pub(crate) const CHUNK: usize = 64 * 1024;

/// The entries of one mbox stream, in order.
pub(crate) struct MboxEntries<R> {
    reader: R,
    /// The label entries are numbered under: `FILE` gives `FILE#1`, `FILE#2`, ...
    base: String,
    /// The index of the path given that the file came from.
    input: usize,
    max_message_size: u64,
    /// How many entries have been handed out (the next one is `count + 1`).
    count: u64,
    /// The `From ` line of the next entry has already been read (it ended the previous entry).
    next_has_from_line: bool,
    done: bool,
    line: Vec<u8>,
}

/// One entry being collected.
struct Entry {
    /// Starts with a `From ` line (false only for content before the first `From ` line).
    has_from_line: bool,
    contents: Vec<u8>,
    /// Bytes of content seen, kept or not.
    size: u64,
    /// Content was dropped because `size` passed the limit.
    oversized: bool,
    /// The last chunk read did not end with a newline.
    mid_line: bool,
}

impl<R: BufRead> MboxEntries<R> {
    /// Reads entries from `reader`, labelling them `base#N`.
    pub(crate) fn new(reader: R, base: String, input: usize, max_message_size: u64) -> Self {
        Self {
            reader,
            base,
            input,
            max_message_size,
            count: 0,
            next_has_from_line: false,
            done: false,
            line: Vec::new(),
        }
    }

    fn finish(&mut self, entry: Entry) -> Option<RawMessage> {
        let Entry { has_from_line, mut contents, size, oversized, mid_line } = entry;
        if !has_from_line && contents.iter().all(u8::is_ascii_whitespace) && !oversized {
            // Blank lines before the first `From ` line are not an entry.
            return None;
        }
        self.count += 1;
        let label = format!("{}#{}", self.base, self.count);
        let source = MessageSource::found(label, Origin::MboxEntry, self.input);
        let bytes = if oversized {
            Err(too_large(size, self.max_message_size))
        } else if !has_from_line {
            Err(format!("not an mbox entry: {size} bytes before the first \"From \" line"))
        } else if mid_line {
            Err(format!(
                "truncated mbox entry: the file ends in the middle of a line after {size} bytes"
            ))
        } else {
            strip_separator_line(&mut contents);
            if contents.is_empty() {
                Err("empty mbox entry: a \"From \" line with no message after it".to_string())
            } else {
                Ok(contents)
            }
        };
        Some(RawMessage { source, bytes })
    }

    /// Reads the next chunk of at most [`CHUNK`] bytes, up to and including a newline, into
    /// `self.line`. Returns false at the end of the stream.
    fn read_chunk(&mut self) -> io::Result<bool> {
        self.line.clear();
        loop {
            let available = match self.reader.fill_buf() {
                Ok(buf) => buf,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if available.is_empty() {
                return Ok(!self.line.is_empty());
            }
            let room = CHUNK - self.line.len();
            let window = available.get(..room.min(available.len())).unwrap_or(available);
            let (take, ends_line) = match window.iter().position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None => (window.len(), false),
            };
            self.line.extend_from_slice(window.get(..take).unwrap_or(window));
            self.reader.consume(take);
            if ends_line || self.line.len() >= CHUNK {
                return Ok(true);
            }
        }
    }
}

impl<R: BufRead> Iterator for MboxEntries<R> {
    type Item = RawMessage;

    fn next(&mut self) -> Option<RawMessage> {
        if self.done {
            return None;
        }
        let mut entry = Entry {
            has_from_line: self.next_has_from_line,
            contents: Vec::new(),
            size: 0,
            oversized: false,
            mid_line: false,
        };
        // Whether the next chunk starts a line, and whether the chunk being read belongs to a
        // `From ` line (whose continuation chunks are skipped, not content).
        let mut at_line_start = true;
        let mut in_from_line = false;
        loop {
            match self.read_chunk() {
                Ok(true) => {}
                Ok(false) => {
                    self.done = true;
                    if entry.has_from_line || !entry.contents.is_empty() || entry.oversized {
                        return self.finish(entry);
                    }
                    return None;
                }
                Err(e) => {
                    // A read error usually repeats: report this entry and stop reading the file.
                    self.done = true;
                    self.count += 1;
                    let label = format!("{}#{}", self.base, self.count);
                    return Some(RawMessage {
                        source: MessageSource::found(label, Origin::MboxEntry, self.input),
                        bytes: Err(format!("read error: {e}")),
                    });
                }
            }
            let starts_line = at_line_start;
            at_line_start = self.line.ends_with(b"\n");
            entry.mid_line = !at_line_start;

            if starts_line && self.line.starts_with(b"From ") {
                in_from_line = !at_line_start;
                let started = entry.has_from_line || !entry.contents.is_empty() || entry.oversized;
                if started {
                    // This line begins the next entry: hand out the one collected so far.
                    self.next_has_from_line = true;
                    // The rest of this `From ` line (if longer than a chunk) is skipped by the
                    // next call, which starts mid-line: remember that.
                    if in_from_line {
                        self.skip_rest_of_line();
                    }
                    entry.mid_line = false;
                    match self.finish(entry) {
                        Some(message) => return Some(message),
                        None => {
                            entry = Entry {
                                has_from_line: true,
                                contents: Vec::new(),
                                size: 0,
                                oversized: false,
                                mid_line: false,
                            };
                            at_line_start = true;
                            in_from_line = false;
                            continue;
                        }
                    }
                }
                entry.has_from_line = true;
                continue;
            }
            if !starts_line && in_from_line {
                in_from_line = !at_line_start;
                continue;
            }
            let content = if starts_line && is_quoted_from(&self.line) {
                self.line.get(1..).unwrap_or_default()
            } else {
                &self.line[..]
            };
            entry.size = entry.size.saturating_add(content.len() as u64);
            if entry.size > self.max_message_size {
                if !entry.oversized {
                    entry.oversized = true;
                    entry.contents = Vec::new();
                }
            } else {
                entry.contents.extend_from_slice(content);
            }
        }
    }
}

impl<R: BufRead> MboxEntries<R> {
    /// Skips the remainder of an over-long `From ` line, so the next entry starts at its content.
    fn skip_rest_of_line(&mut self) {
        loop {
            match self.read_chunk() {
                Ok(true) if !self.line.ends_with(b"\n") => continue,
                Ok(_) => return,
                Err(_) => return,
            }
        }
    }
}

/// A line matching `>+From `: a body line quoted by mboxo / mboxrd writers.
fn is_quoted_from(line: &[u8]) -> bool {
    let quotes = line.iter().take_while(|&&b| b == b'>').count();
    quotes > 0 && line.get(quotes..).is_some_and(|rest| rest.starts_with(b"From "))
}

/// Removes the empty line that separates an entry from the next `From ` line: it belongs to the
/// mbox, not to the message.
fn strip_separator_line(contents: &mut Vec<u8>) {
    if contents.ends_with(b"\r\n\r\n") || contents == b"\r\n" {
        contents.truncate(contents.len() - 2);
    } else if contents.ends_with(b"\n\n") || contents == b"\n" {
        contents.truncate(contents.len() - 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn read(mbox: &[u8], limit: u64) -> Vec<(String, Result<Vec<u8>, String>)> {
        MboxEntries::new(mbox, "box".to_string(), 0, limit)
            .map(|m| (m.source.label, m.bytes))
            .collect()
    }

    fn ok(label: &str, bytes: &[u8]) -> (String, Result<Vec<u8>, String>) {
        (label.to_string(), Ok(bytes.to_vec()))
    }

    #[rstest]
    #[case::two_entries(
        b"From a@x Sat Jan  3 01:05:34 1996\nSubject: 1\n\nbody 1\n\nFrom b@x Sat Jan  3 01:05:35 1996\nSubject: 2\n\nbody 2\n",
        vec![ok("box#1", b"Subject: 1\n\nbody 1\n"), ok("box#2", b"Subject: 2\n\nbody 2\n")]
    )]
    #[case::mboxrd_unquoting(
        b"From a@x\nS: 1\n\n>From here\n>>From there\n> From not quoted\n>From\n",
        vec![ok("box#1", b"S: 1\n\nFrom here\n>From there\n> From not quoted\n>From\n")]
    )]
    #[case::crlf_separator(
        b"From a@x\r\nS: 1\r\n\r\nbody\r\n\r\nFrom b@x\r\nS: 2\r\n",
        vec![ok("box#1", b"S: 1\r\n\r\nbody\r\n"), ok("box#2", b"S: 2\r\n")]
    )]
    #[case::blank_lines_before_first_entry(
        b"\n\nFrom a@x\nS: 1\n",
        vec![ok("box#1", b"S: 1\n")]
    )]
    #[case::empty(b"", vec![])]
    fn splits_and_unquotes(
        #[case] mbox: &[u8],
        #[case] expected: Vec<(String, Result<Vec<u8>, String>)>,
    ) {
        assert_eq!(read(mbox, 1 << 20), expected);
    }

    #[rstest]
    #[case::truncated_last_entry(
        b"From a@x\nS: 1\n\nFrom b@x\nS: 2\n\nbody cut",
        "box#2",
        "truncated"
    )]
    #[case::empty_entry(b"From a@x\nS: 1\n\nFrom b@x\n", "box#2", "empty mbox entry")]
    #[case::garbage_before_first_from(b"junk\nFrom a@x\nS: 1\n", "box#1", "before the first")]
    fn reports_bad_entries(#[case] mbox: &[u8], #[case] label: &str, #[case] error: &str) {
        let entries = read(mbox, 1 << 20);
        let entry = entries.iter().find(|(l, _)| l == label);
        let Some((_, Err(reason))) = entry else {
            panic!("{label} should be an error, got {entries:?}");
        };
        assert!(reason.contains(error), "{reason}");
    }

    #[test]
    fn oversized_entry_is_reported_and_the_next_one_read() {
        let mut mbox = b"From a@x\nS: 1\n\n".to_vec();
        mbox.extend(std::iter::repeat_n(b'a', 3 * CHUNK));
        mbox.extend_from_slice(b"\n\nFrom b@x\nS: 2\n");
        let entries = read(&mbox, 1000);
        assert_eq!(entries.len(), 2);
        let Err(reason) = &entries[0].1 else { panic!("first entry should be too large") };
        assert!(reason.contains("larger than"), "{reason}");
        assert_eq!(entries[1], ok("box#2", b"S: 2\n"));
    }

    #[test]
    fn long_from_line_is_skipped_whole() {
        let mut mbox = b"From a@x\nS: 1\n\nFrom ".to_vec();
        mbox.extend(std::iter::repeat_n(b'x', 2 * CHUNK));
        mbox.extend_from_slice(b"\nS: 2\n");
        assert_eq!(read(&mbox, 1 << 20), vec![ok("box#1", b"S: 1\n"), ok("box#2", b"S: 2\n")]);
    }

    #[test]
    fn long_body_line_is_kept_and_not_mistaken_for_a_separator() {
        // A chunk boundary inside a line followed by "From " must not split the entry.
        let mut body = vec![b'y'; CHUNK];
        body.extend_from_slice(b"From inside a long line\n");
        let mut mbox = b"From a@x\n".to_vec();
        mbox.extend_from_slice(&body);
        assert_eq!(read(&mbox, 1 << 20), vec![ok("box#1", &body)]);
    }

    /// Writes entries as mboxrd: a `From ` line, each line matching `>*From ` quoted with one more
    /// `>`, and an empty separator line.
    fn write_mboxrd(messages: &[Vec<u8>]) -> Vec<u8> {
        let mut out = Vec::new();
        for message in messages {
            out.extend_from_slice(b"From someone@example.com Sat Jan  3 01:05:34 2026\n");
            for line in message.split_inclusive(|&b| b == b'\n') {
                let quotes = line.iter().take_while(|&&b| b == b'>').count();
                if line[quotes..].starts_with(b"From ") {
                    out.push(b'>');
                }
                out.extend_from_slice(line);
            }
            out.push(b'\n');
        }
        out
    }

    fn message_strategy() -> impl Strategy<Value = Vec<u8>> {
        let line = prop::sample::select(vec![
            &b"From a\n"[..],
            b">From b\n",
            b">>From c\n",
            b"> From d\n",
            b"From\n",
            b"Subject: x\n",
            b"text\r\n",
            b"\n",
            b"\r\n",
        ]);
        prop::collection::vec(line, 1..8).prop_map(|lines| lines.concat())
    }

    use proptest::prelude::*;

    proptest! {
        #[test]
        fn mboxrd_round_trips(messages in prop::collection::vec(message_strategy(), 0..6)) {
            let mbox = write_mboxrd(&messages);
            let read: Vec<Vec<u8>> = MboxEntries::new(&mbox[..], "box".to_string(), 0, 1 << 20)
                .map(|m| m.bytes.map_err(TestCaseError::fail))
                .collect::<Result<_, _>>()?;
            prop_assert_eq!(read, messages);
        }

        #[test]
        fn never_panics_and_labels_every_entry(
            bytes in prop::collection::vec(prop::sample::select(b"From >\r\nx".to_vec()), 0..400),
            limit in 0u64..64,
        ) {
            let entries: Vec<RawMessage> =
                MboxEntries::new(&bytes[..], "box".to_string(), 0, limit).collect();
            for (i, entry) in entries.iter().enumerate() {
                prop_assert_eq!(&entry.source.label, &format!("box#{}", i + 1));
                if let Ok(message) = &entry.bytes {
                    prop_assert!(message.len() as u64 <= limit);
                }
            }
        }
    }
}
