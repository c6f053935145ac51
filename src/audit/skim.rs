//! The audit's fast path for large messages: parse a copy of the message with the bulk of its
//! large base64 bodies cut out.
//!
//! mail-parser decodes every base64 body as it parses, one byte at a time; on real sent items
//! that is most of the audit's time, spent on attachments it never looks at and on ciphertext of
//! which it needs only the length. The audit reads the text bodies, the MIME headers and, of an
//! envelope, the RecipientInfos before the ciphertext and whatever follows it.
//!
//! [`skim`] walks the MIME structure of the raw bytes (headers parsed by mail-parser, boundaries
//! found the way mail-parser finds them) and, in each long base64 body of a part that is not
//! text, multipart or message, removes a middle run of pure base64 text (alphabet and white
//! space only, a multiple of four letters), keeping its head and tail. The copy is small and
//! parses quickly; every removed run is recorded as a [`Hole`].
//!
//! The walk is a guess; [`Skimmed::holes_by_part`] checks it against what mail-parser made of
//! the copy: each hole must fall inside a part that mail-parser decoded as base64 without an
//! encoding problem, starting exactly where the walk said. Pure base64 text cannot end a base64
//! body early or change the parser's course, so the parse of the copy is then that of the
//! original except for those bodies' decoded bytes, which lack the hole's. The caller must use
//! such a body only through [`crate::cms`]'s hole-aware inspection, and fall back to parsing the
//! original whenever a check fails.

use mail_parser::{Encoding, Message, MessageParser, MessagePart, MimeHeaders, PartType};
use std::collections::HashMap;

/// Bodies shorter than this (in base64 text) are left whole.
pub const MIN_BODY: usize = 16 * 1024;
/// Base64 text kept at the start of a skimmed body: 8 KiB of text, 6 KiB decoded, room for the
/// RecipientInfos of a dozen recipients or more (with more, the hole is filled, see
/// [`BodyHole::fill`]).
const KEEP_HEAD: usize = 8 * 1024;
/// Base64 text kept at the end: what follows an AuthEnvelopedData's ciphertext (attributes,
/// MAC) and the closing of indefinite lengths.
const KEEP_TAIL: usize = 1024;
/// Most MIME parts the walk visits; beyond that it stops proposing holes.
const MAX_PARTS: usize = 1_000;

/// A run of base64 text cut out of a body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hole {
    /// Where the part's body starts in the skimmed copy (mail-parser's `offset_body`).
    pub body_at: usize,
    /// Where the run was cut out, in the skimmed copy.
    pub cut_at: usize,
    /// Bytes the kept head decodes to: the hole's position in the decoded body.
    pub head_decoded: usize,
    /// Bytes the removed run decodes to.
    pub decoded_len: usize,
    /// Where the removed run was in the original.
    pub removed: std::ops::Range<usize>,
}

/// Where a skimmed part's decoded body lacks bytes, and the base64 text they come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BodyHole<'r> {
    /// Position of the missing bytes in the decoded body.
    pub at: usize,
    /// How many are missing.
    pub len: usize,
    /// The removed base64 text: letters and white space, a multiple of four letters.
    pub text: &'r [u8],
}

impl BodyHole<'_> {
    /// The whole decoded body, given the skimmed one (`kept`). The removed text is pure base64
    /// in whole groups, which every decoder decodes alike, so this is the body mail-parser
    /// decodes from the original. `None` if `kept` is not the body this hole was cut from.
    pub fn fill(&self, kept: &[u8]) -> Option<Vec<u8>> {
        use base64::Engine as _;
        let head = kept.get(..self.at)?;
        let tail = kept.get(self.at..)?;
        let mut letters = Vec::new();
        letters.try_reserve_exact(self.text.len()).ok()?;
        for line in self.text.split(|&b| is_space(b)) {
            letters.extend_from_slice(line);
        }
        let mut full = Vec::new();
        full.try_reserve_exact(kept.len().checked_add(self.len)?).ok()?;
        full.extend_from_slice(head);
        base64::engine::general_purpose::STANDARD.decode_vec(&letters, &mut full).ok()?;
        if full.len() != self.at + self.len {
            return None;
        }
        full.extend_from_slice(tail);
        Some(full)
    }
}

/// A copy of a message with holes cut in its large base64 bodies.
#[derive(Debug)]
pub struct Skimmed {
    /// The copy, to be parsed instead of the original.
    pub bytes: Vec<u8>,
    /// The runs cut out, in order.
    pub holes: Vec<Hole>,
}

/// Cuts the large base64 bodies of `raw`; `None` when there is nothing worth cutting.
pub fn skim(raw: &[u8]) -> Option<Skimmed> {
    if raw.len() < MIN_BODY {
        return None;
    }
    let cuts = propose(raw);
    if cuts.is_empty() {
        return None;
    }
    let removed: usize = cuts.iter().map(|c| c.end - c.start).sum();
    let mut bytes = Vec::with_capacity(raw.len().saturating_sub(removed));
    let mut holes = Vec::with_capacity(cuts.len());
    let mut from = 0;
    for cut in &cuts {
        let shift = from - bytes.len();
        bytes.extend_from_slice(raw.get(from..cut.start)?);
        holes.push(Hole {
            body_at: cut.body - shift,
            cut_at: bytes.len(),
            head_decoded: cut.head_letters / 4 * 3,
            decoded_len: cut.letters / 4 * 3,
            removed: cut.start..cut.end,
        });
        from = cut.end;
    }
    bytes.extend_from_slice(raw.get(from..)?);
    Some(Skimmed { bytes, holes })
}

impl Skimmed {
    /// Checks the holes against mail-parser's parse of the copy and returns, by part id, where
    /// each skimmed body lacks bytes (`raw`: the original); `None` if any hole is not where the walk expected.
    pub fn holes_by_part<'r>(
        &self,
        raw: &'r [u8],
        msg: &Message<'_>,
    ) -> Option<HashMap<u32, BodyHole<'r>>> {
        let mut out = HashMap::with_capacity(self.holes.len());
        for hole in &self.holes {
            let (id, part) = msg
                .parts
                .iter()
                .enumerate()
                .find(|(_, p)| usize::try_from(p.offset_body).ok() == Some(hole.body_at))?;
            // A text body (text/csv, ...) is decoded to a string that nobody reads; only binary
            // bodies, which S/MIME layers are, must decode to the expected head.
            let decoded = match &part.body {
                PartType::Binary(b) | PartType::InlineBinary(b) => b.len(),
                PartType::Text(_) => hole.head_decoded,
                _ => return None,
            };
            let sound = part.encoding == Encoding::Base64
                && !part.is_encoding_problem
                && skimmable(part)
                && usize::try_from(part.offset_end).is_ok_and(|end| end >= hole.cut_at)
                && decoded >= hole.head_decoded;
            if !sound {
                return None;
            }
            let id = u32::try_from(id).ok()?;
            let text = raw.get(hole.removed.clone())?;
            let body_hole = BodyHole { at: hole.head_decoded, len: hole.decoded_len, text };
            if out.insert(id, body_hole).is_some() {
                return None;
            }
        }
        Some(out)
    }
}

/// Whether a part's body may be skimmed: base64, with a Content-Type that mail-parser does not
/// parse as a message or multipart and that is not a body the audit reads (`text/plain`,
/// `text/html`, or no Content-Type at all, which means `text/plain`).
fn skimmable(part: &MessagePart<'_>) -> bool {
    let base64 = part.content_transfer_encoding().is_some_and(|e| e.eq_ignore_ascii_case("base64"));
    let Some(ct) = part.content_type() else { return false };
    let ctype = ct.ctype();
    let subtype = ct.subtype().unwrap_or_default();
    let readable_text = ctype.eq_ignore_ascii_case("text")
        && (subtype.eq_ignore_ascii_case("plain") || subtype.eq_ignore_ascii_case("html"));
    base64
        && !readable_text
        && !ctype.eq_ignore_ascii_case("multipart")
        && !ctype.eq_ignore_ascii_case("message")
}

/// A run to cut out of `raw`.
struct Cut {
    /// Start of the body it is in.
    body: usize,
    start: usize,
    end: usize,
    /// Base64 letters between `body` and `start` (a multiple of 4).
    head_letters: usize,
    /// Base64 letters in the run (a multiple of 4).
    letters: usize,
}

/// Walks the MIME structure as mail-parser does and proposes the runs to cut.
fn propose(raw: &[u8]) -> Vec<Cut> {
    let parser = MessageParser::new().with_mime_headers();
    let mut cuts = Vec::new();
    let mut boundaries: Vec<Vec<u8>> = Vec::new();
    let mut pos = 0;
    for _ in 0..MAX_PARTS {
        let Some(body) = header_end(raw, pos) else { break };
        let Some(headers) = raw.get(pos..body).and_then(|h| parser.parse_headers(h)) else {
            break;
        };
        let Some(part) = headers.parts.first() else { break };
        if let Some(ct) = part.content_type() {
            if ct.ctype().eq_ignore_ascii_case("multipart") {
                if let Some(b) = ct.attribute("boundary") {
                    if let Some(at) = find_delimiter(raw, body, b.as_bytes()) {
                        boundaries.push(b.as_bytes().to_vec());
                        pos = skip_crlf(raw, at + 2 + b.len());
                        continue;
                    }
                }
            }
        }
        let mut scan_from = body;
        if skimmable(part) {
            if let Some(cut) = cut_in(raw, body) {
                scan_from = cut.end;
                cuts.push(cut);
            }
        }
        // The part ends at the innermost open boundary; closing delimiters pop outward.
        let Some(mut boundary) = boundaries.last() else { break };
        let Some(at) = find_delimiter(raw, scan_from, boundary) else { break };
        pos = at + 2 + boundary.len();
        while raw.get(pos..pos + 2) == Some(b"--") {
            boundaries.pop();
            let Some(outer) = boundaries.last() else { return cuts };
            boundary = outer;
            let Some(at) = find_delimiter(raw, pos, boundary) else { return cuts };
            pos = at + 2 + boundary.len();
        }
        pos = skip_crlf(raw, pos);
    }
    cuts
}

/// Where the body of the entity whose headers start at `pos` starts: after the first empty
/// line (or at `pos` when the entity starts with one).
fn header_end(raw: &[u8], pos: usize) -> Option<usize> {
    let rest = raw.get(pos..)?;
    if rest.starts_with(b"\n") {
        return Some(pos + 1);
    }
    if rest.starts_with(b"\r\n") {
        return Some(pos + 2);
    }
    let mut i = 0;
    while let Some(nl) = rest.get(i..)?.iter().position(|&b| b == b'\n') {
        let after = i + nl + 1;
        match rest.get(after..after + 2) {
            Some([b'\n', _]) => return Some(pos + after + 1),
            Some([b'\r', b'\n']) => return Some(pos + after + 2),
            _ if rest.get(after) == Some(&b'\n') => return Some(pos + after + 1),
            _ => {}
        }
        i = after;
    }
    None
}

/// The position of the next `--boundary` at or after `from` (anywhere, as mail-parser looks).
fn find_delimiter(raw: &[u8], from: usize, boundary: &[u8]) -> Option<usize> {
    let rest = raw.get(from..)?;
    let mut i = 0;
    while let Some(dash) = rest.get(i..)?.iter().position(|&b| b == b'-') {
        let at = i + dash;
        if rest.get(at + 1) == Some(&b'-')
            && rest.get(at + 2..at + 2 + boundary.len()) == Some(boundary)
        {
            return Some(from + at);
        }
        i = at + 1;
    }
    None
}

/// mail-parser's `skip_crlf`: spaces, tabs and CRs up to and including one LF.
fn skip_crlf(raw: &[u8], mut pos: usize) -> usize {
    while let Some(&b) = raw.get(pos) {
        match b {
            b'\r' | b' ' | b'\t' => pos += 1,
            b'\n' => return pos + 1,
            _ => break,
        }
    }
    pos
}

/// The run to cut from a base64 body starting at `body`, if it is long enough.
fn cut_in(raw: &[u8], body: usize) -> Option<Cut> {
    let text = raw.get(body..)?;
    let (run, letters) = clean_run_parallel(text);
    if run < MIN_BODY {
        return None;
    }
    // Head: KEEP_HEAD bytes, then up to a multiple of four letters.
    let (mut start, mut head_letters) = (KEEP_HEAD, clean_run(text.get(..KEEP_HEAD)?).1);
    while head_letters % 4 != 0 {
        head_letters += usize::from(!is_space(*text.get(start)?));
        start += 1;
    }
    // Tail: KEEP_TAIL bytes, moved forward until the run is a multiple of four letters.
    let mut end = run.checked_sub(KEEP_TAIL).filter(|&e| e > start)?;
    let tail_letters = clean_run(text.get(end..run)?).1;
    let mut cut_letters = letters.checked_sub(head_letters + tail_letters)?;
    while cut_letters % 4 != 0 {
        cut_letters += usize::from(!is_space(*text.get(end).filter(|_| end < run)?));
        end += 1;
    }
    Some(Cut { body, start: body + start, end: body + end, head_letters, letters: cut_letters })
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// The length of the leading run of base64 letters (`A-Z a-z 0-9 + /`) and white space in
/// `bytes`, and how many letters it holds. Padding (`=`) ends the run. Written branch-free over
/// blocks so that the compiler vectorises it: this is the one pass over a skimmed body.
fn clean_run(bytes: &[u8]) -> (usize, usize) {
    const BLOCK: usize = 64;
    let mut done = 0;
    let mut letters = 0;
    for block in bytes.chunks_exact(BLOCK) {
        let Ok(block) = <&[u8; BLOCK]>::try_from(block) else { break };
        let (bad, spaces) = classify_block(block);
        if bad != 0 {
            break;
        }
        letters += BLOCK - usize::from(spaces);
        done += BLOCK;
    }
    for &b in bytes.get(done..).unwrap_or_default() {
        let (space, ok) = classify(b);
        if !ok {
            break;
        }
        letters += usize::from(!space);
        done += 1;
    }
    (done, letters)
}

/// Above this size, [`clean_run_parallel`] scans slices of this size on all cores.
const PARALLEL_SLICE: usize = 2 * 1024 * 1024;

/// [`clean_run`] of a large input, its slices scanned in parallel (one huge message should not
/// take longer than reading it; the scan is the only pass over a skimmed body). The answer is the
/// same: slices are joined up to the first one whose run stops short.
fn clean_run_parallel(bytes: &[u8]) -> (usize, usize) {
    use rayon::prelude::*;
    if bytes.len() < 2 * PARALLEL_SLICE {
        return clean_run(bytes);
    }
    let slices: Vec<(usize, usize, usize)> = bytes
        .par_chunks(PARALLEL_SLICE)
        .map(|slice| {
            let (run, letters) = clean_run(slice);
            (slice.len(), run, letters)
        })
        .collect();
    let (mut done, mut letters) = (0, 0);
    for (len, run, slice_letters) in slices {
        done += run;
        letters += slice_letters;
        if run < len {
            break;
        }
    }
    (done, letters)
}

/// (non-zero if any byte is not a letter or white space, white space count). A fixed-size
/// array, so that the loop is vectorised.
fn classify_block(block: &[u8; 64]) -> (u8, u8) {
    let mut bad = 0u8;
    let mut spaces = 0u8;
    for &b in block {
        let (space, ok) = classify(b);
        bad |= u8::from(!ok);
        spaces += u8::from(space);
    }
    (bad, spaces)
}

/// (white space, base64 letter or white space)
#[inline(always)]
fn classify(b: u8) -> (bool, bool) {
    let space = (b == b' ') | (b == b'\t') | (b == b'\r') | (b == b'\n');
    let alpha = (b | 0x20).wrapping_sub(b'a') < 26;
    let digit = b.wrapping_sub(b'0') < 10;
    let symbol = (b == b'+') | (b == b'/');
    (space, space | alpha | digit | symbol)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_run_counts_letters_and_stops_at_padding_or_dash() {
        let text = b"QUJD\r\nREVG\r\nRw==\r\n--b";
        assert_eq!(clean_run(text), (14, 10));
        let long: Vec<u8> = b"QUJDREVG\r\n".iter().copied().cycle().take(1000).collect();
        assert_eq!(clean_run(&long), (1000, 800));
        let mut dashed = long.clone();
        dashed[700] = b'-';
        assert_eq!(clean_run(&dashed), (700, 560));
        assert_eq!(clean_run(b""), (0, 0));
    }

    #[test]
    fn parallel_scan_agrees_with_the_plain_one() {
        let long: Vec<u8> =
            b"QUJDREVG\r\n".iter().copied().cycle().take(5 * PARALLEL_SLICE).collect();
        assert_eq!(clean_run_parallel(&long), clean_run(&long));
        for stop in [0, 17, PARALLEL_SLICE - 1, PARALLEL_SLICE, 3 * PARALLEL_SLICE + 5] {
            let mut cut = long.clone();
            cut[stop] = b'=';
            assert_eq!(clean_run_parallel(&cut), clean_run(&cut), "stop at {stop}");
            assert_eq!(clean_run_parallel(&cut).0, stop);
        }
    }

    #[test]
    fn header_end_handles_crlf_lf_and_empty_headers() {
        assert_eq!(header_end(b"A: b\r\n\r\nbody", 0), Some(8));
        assert_eq!(header_end(b"A: b\nC: d\n\nbody", 0), Some(11));
        assert_eq!(header_end(b"\r\nbody", 0), Some(2));
        assert_eq!(header_end(b"A: b\r\n", 0), None);
    }

    #[test]
    fn small_messages_are_not_skimmed() {
        let raw =
            b"Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nQUJD\r\n";
        assert!(skim(raw).is_none());
    }
}
