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
//!
//! Bodies the audit never reads are cut out whole ([`HoleKind::Unread`]): every part that is not
//! an S/MIME layer it reads (the audit classifies parts by their headers only, see
//! [`crate::smime::layer_kind`]; detached signatures and certificate bundles are only noted),
//! not a multipart and not a message, whatever its encoding: attachments, signatures, and the
//! text bodies. A text body is read by one rule only, the
//! blank-reply rule, and only when the message has an S/MIME layer below its top level; the
//! analysis checks that on the parse of the copy and falls back to the full parse when such a
//! layer is there ([`PartHoles::text`]). Such a cut removes the body up to the line break before
//! the next delimiter, so that the copy's structure is the original's: the part keeps its
//! headers and an empty body.

use crate::smime::SmimeKind;
use mail_parser::{Encoding, Message, MessageParser, MessagePart, MimeHeaders, PartType};
use std::collections::HashMap;

/// S/MIME bodies shorter than this (in base64 text) are left whole.
pub const MIN_BODY: usize = 2 * 1024;
/// Most bytes one [`BodyHole::fetch`] decodes (a BER identifier and length).
pub const MAX_FETCH: usize = 16;
/// Decoded bytes of a cut S/MIME body that the analysis decodes up front ([`BodyHole::prefix`]):
/// room for the RecipientInfos of a dozen recipients or more (with more, the hole is filled,
/// see [`BodyHole::fill`]). The whole run is cut, so that mail-parser, whose decoder takes a
/// few dozen instructions a byte, decodes none of it.
pub const PREFIX: usize = 16 * 1024;
/// Base64 text kept at the end: what follows an AuthEnvelopedData's ciphertext (attributes,
/// MAC) and the closing of indefinite lengths.
const KEEP_TAIL: usize = 1024;
/// Most MIME parts the walk visits; beyond that it stops proposing holes.
const MAX_PARTS: usize = 1_000;
/// Messages shorter than this are parsed whole: the walk would cost more than it saves.
pub const MIN_MESSAGE: usize = 4 * 1024;
/// Unread bodies shorter than this are left in.
const MIN_UNREAD: usize = 256;

/// What a hole removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HoleKind {
    /// A run of base64 text in the middle of an S/MIME body: the body's missing bytes can be
    /// fetched from it ([`BodyHole`]).
    Base64,
    /// The whole body of a part the audit does not read; `text` when it is a `text/plain` or
    /// `text/html` body (read only by the blank-reply rule, see [`PartHoles::text`]).
    Unread { text: bool },
}

/// A run of text cut out of a body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hole {
    /// What it removed.
    pub kind: HoleKind,
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
    /// Where the body's run of pure base64 text is in the original (from the body's start).
    pub run: std::ops::Range<usize>,
    /// Letters in each whole 64-byte block of that run, in order: where a letter is can then be
    /// found without counting from the start (see [`BodyHole::fetch`]).
    pub blocks: Vec<u8>,
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
    /// The body's run of pure base64 text, from the body's start (it holds `text`).
    pub run: &'r [u8],
    /// Letters in each whole 64-byte block of `run`.
    pub blocks: &'r [u8],
}

/// The value of each base64 letter (RFC 4648 §4), 255 for other bytes.
const BASE64_VALUE: [u8; 256] = {
    let mut table = [255u8; 256];
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut i = 0;
    while i < 64 {
        table[alphabet[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// Bytes per entry of [`Hole::blocks`].
const BLOCK: usize = 64;

impl BodyHole<'_> {
    /// Decodes the body bytes at `at..at + out.len()` into `out`, reading only the base64
    /// letters they come from (`cursor`: where the last search ended, letters before that block;
    /// searches that move forward start there). `false` if they are not all in the run.
    pub fn fetch(
        &self,
        at: usize,
        out: &mut [u8],
        cursor: &std::cell::Cell<(usize, usize)>,
    ) -> bool {
        let n = at / 3 * 4;
        let (block, before) = self.block_of(n, cursor);
        let start = block * BLOCK;
        let count = self.blocks.get(block).copied();
        // The block and the next: the letters wanted start in the first.
        let text = self.run.get(start..(start + 2 * BLOCK).min(self.run.len())).unwrap_or_default();
        decode_in(text, count, n - before, at, out)
    }

    /// The 64-byte block of `run` that holds the `n`th letter (or the first block after the
    /// indexed ones), and the letters before it.
    fn block_of(&self, n: usize, cursor: &std::cell::Cell<(usize, usize)>) -> (usize, usize) {
        let (mut block, mut before) = cursor.get();
        if n < before {
            (block, before) = (0, 0);
        }
        // Sixteen, then eight blocks at a time while they all come before the letter (a jump
        // of a kilobyte of text or so between two fetches is the usual case).
        while let Some(sixteen) = self.blocks.get(block..block + 16) {
            let (Ok(low), Ok(high)) =
                (<[u8; 8]>::try_from(&sixteen[..8]), <[u8; 8]>::try_from(&sixteen[8..]))
            else {
                break;
            };
            let total = sum_of_two(u64::from_le_bytes(low), u64::from_le_bytes(high));
            if before + total > n {
                break;
            }
            before += total;
            block += 16;
        }
        while let Some(eight) = self.blocks.get(block..block + 8) {
            let Ok(eight) = <[u8; 8]>::try_from(eight) else { break };
            let total = sum_of_bytes(u64::from_le_bytes(eight));
            if before + total > n {
                break;
            }
            before += total;
            block += 8;
        }
        while let Some(&count) = self.blocks.get(block) {
            if before + usize::from(count) > n {
                break;
            }
            before += usize::from(count);
            block += 1;
        }
        cursor.set((block, before));
        (block, before)
    }

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

impl BodyHole<'_> {
    /// The first `max` (at most) missing bytes, decoded from the removed text with the
    /// `base64` crate; `None` if the text does not decode (it is pure base64 in whole groups,
    /// so it always does unless the hole was not made by [`skim`]).
    pub fn prefix(&self, max: usize) -> Option<Vec<u8>> {
        use base64::Engine as _;
        let want = max.min(self.len);
        let letters_wanted = want.div_ceil(3) * 4;
        let mut letters = Vec::with_capacity(letters_wanted);
        for line in self.text.split(|&b| is_space(b)) {
            let room = letters_wanted - letters.len();
            if room == 0 {
                break;
            }
            letters.extend_from_slice(line.get(..room).unwrap_or(line));
        }
        letters.truncate(letters.len() / 4 * 4);
        let mut out = base64::engine::general_purpose::STANDARD.decode(&letters).ok()?;
        out.truncate(want);
        Some(out)
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

/// The holes of a skimmed copy, checked against mail-parser's parse of it, by part id.
#[derive(Debug, Default)]
pub struct PartHoles<'r> {
    /// S/MIME bodies that lack bytes, and the base64 text they come from.
    pub base64: HashMap<u32, BodyHole<'r>>,
    /// Parts whose bodies were cut out whole: they must not be read.
    pub unread: Vec<u32>,
    /// Some cut-out body is a `text/plain` or `text/html` body: the parse is void if the
    /// blank-reply rule would read one (an S/MIME layer below the top level).
    pub text: bool,
}

impl PartHoles<'_> {
    /// Whether the part's body was cut out whole.
    pub fn is_unread(&self, part_id: u32) -> bool {
        self.unread.contains(&part_id)
    }
}

/// Cuts the large base64 bodies of S/MIME parts and the bodies the audit does not read;
/// `None` when there is nothing worth cutting. With `text`, `text/plain` and `text/html`
/// bodies are cut as well.
pub fn skim(raw: &[u8], text: bool) -> Option<Skimmed> {
    if raw.len() < MIN_MESSAGE {
        return None;
    }
    skim_with(raw, text, true)
}

/// [`skim`] that cuts only bodies the audit never reads, text included, and leaves S/MIME
/// bodies whole: for a MIME entity whose layers are inspected without holes (the content of an
/// opaque signature).
pub fn skim_unread(raw: &[u8]) -> Option<Skimmed> {
    skim_with(raw, true, false)
}

fn skim_with(raw: &[u8], text: bool, smime: bool) -> Option<Skimmed> {
    if raw.len() < MIN_MESSAGE {
        return None;
    }
    let cuts = propose(raw, text, smime);
    if cuts.is_empty() {
        return None;
    }
    let removed: usize = cuts.iter().map(|c| c.end - c.start).sum();
    let mut bytes = Vec::with_capacity(raw.len().saturating_sub(removed));
    let mut holes = Vec::with_capacity(cuts.len());
    let mut from = 0;
    for mut cut in cuts {
        let shift = from - bytes.len();
        bytes.extend_from_slice(raw.get(from..cut.start)?);
        holes.push(Hole {
            kind: cut.kind,
            body_at: cut.body - shift,
            cut_at: bytes.len(),
            head_decoded: cut.head_letters / 4 * 3,
            decoded_len: cut.letters / 4 * 3,
            removed: cut.start..cut.end,
            run: cut.body..cut.body + cut.run,
            blocks: std::mem::take(&mut cut.blocks),
        });
        from = cut.end;
    }
    bytes.extend_from_slice(raw.get(from..)?);
    Some(Skimmed { bytes, holes })
}

impl Skimmed {
    /// Checks the holes against mail-parser's parse of the copy and returns, by part id, where
    /// each skimmed body lacks bytes (`raw`: the original); `None` if any hole is not where the
    /// walk expected.
    pub fn holes_by_part<'r>(&'r self, raw: &'r [u8], msg: &Message<'_>) -> Option<PartHoles<'r>> {
        let mut out = PartHoles::default();
        for hole in &self.holes {
            let (id, part) = msg
                .parts
                .iter()
                .enumerate()
                .find(|(_, p)| usize::try_from(p.offset_body).ok() == Some(hole.body_at))?;
            let id = u32::try_from(id).ok()?;
            let inside = usize::try_from(part.offset_end).is_ok_and(|end| end >= hole.cut_at);
            if let HoleKind::Unread { text } = hole.kind {
                // The part the walk cut is the part mail-parser found there, with its body
                // (empty now) starting where the cut did, and the audit does not read it.
                let sound = inside
                    && hole.cut_at == hole.body_at
                    && unread_kind(part) == Some(text)
                    && !matches!(part.body, PartType::Message(_) | PartType::Multipart(_));
                if !sound || out.unread.contains(&id) {
                    return None;
                }
                out.unread.push(id);
                out.text |= text;
                continue;
            }
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
                && inside
                && decoded >= hole.head_decoded;
            if !sound {
                return None;
            }
            let text = raw.get(hole.removed.clone())?;
            let run = raw.get(hole.run.clone())?;
            let body_hole = BodyHole {
                at: hole.head_decoded,
                len: hole.decoded_len,
                text,
                run,
                blocks: &hole.blocks,
            };
            if out.base64.insert(id, body_hole).is_some() {
                return None;
            }
        }
        Some(out)
    }
}

/// Whether the audit never reads the part's body: `Some(false)` for an attachment, any body
/// that is no S/MIME layer, and a detached signature or certificate bundle (layers the audit
/// only notes), `Some(true)` for a `text/plain` or `text/html` body (or one without
/// Content-Type), `None` for the other S/MIME layers, multiparts and messages, which must stay.
fn unread_kind(part: &MessagePart<'_>) -> Option<bool> {
    match crate::smime::layer_kind(part) {
        Some(SmimeKind::DetachedSignature | SmimeKind::CertsOnly) => return Some(false),
        Some(_) => return None,
        None => {}
    }
    let Some(ct) = part.content_type() else { return Some(true) };
    let ctype = ct.ctype();
    if ctype.eq_ignore_ascii_case("multipart") || ctype.eq_ignore_ascii_case("message") {
        return None;
    }
    let subtype = ct.subtype().unwrap_or_default();
    Some(
        ctype.eq_ignore_ascii_case("text")
            && (subtype.eq_ignore_ascii_case("plain") || subtype.eq_ignore_ascii_case("html")),
    )
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
    kind: HoleKind,
    /// Start of the body it is in.
    body: usize,
    start: usize,
    end: usize,
    /// Base64 letters between `body` and `start` (a multiple of 4).
    head_letters: usize,
    /// Base64 letters in the run (a multiple of 4).
    letters: usize,
    /// Length of the body's clean base64 run (from `body`).
    run: usize,
    /// Letters per whole 64-byte block of that run.
    blocks: Vec<u8>,
}

/// Walks the MIME structure as mail-parser does and proposes the runs to cut (with `text`, in
/// `text/plain` and `text/html` bodies too; with `smime`, in S/MIME bodies).
fn propose(raw: &[u8], text: bool, smime: bool) -> Vec<Cut> {
    static PARSER: std::sync::OnceLock<MessageParser> = std::sync::OnceLock::new();
    let parser = PARSER.get_or_init(|| MessageParser::new().with_mime_headers());
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
        let unread = unread_kind(part).filter(|&is_text| text || !is_text);
        let mut scan_from = body;
        if smime && unread.is_none() && skimmable(part) {
            if let Some(cut) = cut_in(raw, body) {
                scan_from = cut.end;
                cuts.push(cut);
            }
        }
        // The part ends at the innermost open boundary; closing delimiters pop outward.
        let Some(mut boundary) = boundaries.last() else {
            // A single-part message: its body runs to the end.
            if let Some(is_text) = unread {
                cuts.extend(unread_cut(raw, body, raw.len(), is_text));
            }
            break;
        };
        let Some(at) = find_delimiter(raw, scan_from, boundary) else { break };
        if let Some(is_text) = unread {
            // Up to the line break that belongs to the delimiter (RFC 2046 5.1.1).
            let line_break = if raw.get(at.wrapping_sub(2)..at) == Some(b"\r\n") {
                Some(at - 2)
            } else if at > 0 && raw.get(at - 1) == Some(&b'\n') {
                Some(at - 1)
            } else {
                None
            };
            cuts.extend(line_break.and_then(|end| unread_cut(raw, body, end, is_text)));
        }
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

/// The whole body `body..end` of a part the audit does not read, if it is worth cutting.
fn unread_cut(raw: &[u8], body: usize, end: usize, text: bool) -> Option<Cut> {
    if end < body + MIN_UNREAD || end > raw.len() {
        return None;
    }
    Some(Cut {
        kind: HoleKind::Unread { text },
        body,
        start: body,
        end,
        head_letters: 0,
        letters: 0,
        run: 0,
        blocks: Vec::new(),
    })
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
    let mut delimiter = Vec::with_capacity(boundary.len() + 2);
    delimiter.extend_from_slice(b"--");
    delimiter.extend_from_slice(boundary);
    memchr::memmem::find(rest, &delimiter).map(|at| from + at)
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
    let (run, letters, blocks) = clean_run_parallel(text);
    if run < MIN_BODY {
        return None;
    }
    // From the body's start: the analysis decodes the head itself ([`BodyHole::prefix`]).
    let (start, head_letters) = (0, 0);
    // Tail: KEEP_TAIL bytes, moved forward until the run is a multiple of four letters.
    let mut end = run.checked_sub(KEEP_TAIL).filter(|&e| e > start)?;
    let tail_letters = clean_run(text.get(end..run)?, None).1;
    let mut cut_letters = letters.checked_sub(head_letters + tail_letters)?;
    while cut_letters % 4 != 0 {
        cut_letters += usize::from(!is_space(*text.get(end).filter(|_| end < run)?));
        end += 1;
    }
    Some(Cut {
        kind: HoleKind::Base64,
        body,
        start: body + start,
        end: body + end,
        head_letters,
        letters: cut_letters,
        run,
        blocks,
    })
}

/// Decodes `out.len()` body bytes at `at` from `text`, a copy of the run from the start of the
/// block holding letter `at / 3 * 4`, which is the block's `nth` letter; `count`: the block's
/// letters if it is an indexed (clean, whole) block. `false` if `text` does not hold them all.
fn decode_in(text: &[u8], count: Option<u8>, nth: usize, at: usize, out: &mut [u8]) -> bool {
    // The k-th letter of a block is k places in, plus one for each white space byte before it
    // (a block has only a few: a line break or two).
    let mut pos = nth;
    match count {
        Some(count) if usize::from(count) == BLOCK => {}
        Some(_) => {
            let Some(block) = text.get(..BLOCK).and_then(|b| <&[u8; BLOCK]>::try_from(b).ok())
            else {
                return false;
            };
            match nth_letter(block, nth) {
                Some(at) => pos = at,
                None => return false,
            }
        }
        // Past the indexed blocks: count the letters.
        None => match text.iter().enumerate().filter(|(_, &b)| !is_space(b)).nth(nth) {
            Some((i, _)) => pos = i,
            None => return false,
        },
    }
    let first_group = at / 3;
    let groups = (at + out.len()).div_ceil(3) - first_group;
    let mut letters = [0u8; 4 * (MAX_FETCH / 3 + 2)];
    let Some(letters) = letters.get_mut(..4 * groups) else { return false };
    // Usually the letters are on one line; else skip the line breaks between them.
    match text.get(pos..pos + letters.len()) {
        // In a clean run, white space is exactly the bytes below `!`.
        Some(line) if line.iter().all(|&b| b > b' ') => letters.copy_from_slice(line),
        _ => {
            let mut rest = text.get(pos..).unwrap_or_default().iter().filter(|&&b| !is_space(b));
            for slot in letters.iter_mut() {
                let Some(&letter) = rest.next() else { return false };
                *slot = letter;
            }
        }
    }
    let mut decoded = [0u8; 3 * (MAX_FETCH / 3 + 2)];
    for (group, bytes) in letters.chunks_exact(4).zip(decoded.chunks_exact_mut(3)) {
        let mut value = 0u32;
        for &letter in group {
            let Some(&six) = BASE64_VALUE.get(usize::from(letter)).filter(|&&v| v < 64) else {
                return false;
            };
            value = value << 6 | u32::from(six);
        }
        bytes.copy_from_slice(&value.to_be_bytes()[1..]);
    }
    let skip = at - 3 * first_group;
    match decoded.get(skip..skip + out.len()) {
        Some(bytes) => {
            out.copy_from_slice(bytes);
            true
        }
        None => false,
    }
}

/// The sum of the eight bytes of `x` (each at most 64).
fn sum_of_bytes(x: u64) -> usize {
    let pairs = (x & 0x00ff_00ff_00ff_00ff) + ((x >> 8) & 0x00ff_00ff_00ff_00ff);
    (pairs.wrapping_mul(0x0001_0001_0001_0001) >> 48) as usize
}

/// The sum of the sixteen bytes of `x` and `y` (each at most 64: a 16-bit lane holds four).
fn sum_of_two(x: u64, y: u64) -> usize {
    const LOW: u64 = 0x00ff_00ff_00ff_00ff;
    let quads = (x & LOW) + ((x >> 8) & LOW) + (y & LOW) + ((y >> 8) & LOW);
    (quads.wrapping_mul(0x0001_0001_0001_0001) >> 48) as usize
}

/// Where the `nth` letter of a clean block is: eight bytes at a time, stopping at the word that
/// holds it (white space is exactly the bytes below `!` there, see [`space_bits`]).
fn nth_letter(block: &[u8; BLOCK], nth: usize) -> Option<usize> {
    let mut left = nth;
    for (i, word) in block.chunks_exact(8).enumerate() {
        let word = u64::from_le_bytes(<[u8; 8]>::try_from(word).ok()?);
        let mut spaces = space_bits(word);
        let letters = 8 - spaces.count_ones() as usize;
        if left >= letters {
            left -= letters;
            continue;
        }
        // The letter is in this word: skip the white space before it.
        let mut at = left;
        while spaces != 0 && (spaces.trailing_zeros() as usize) <= at {
            at += 1;
            spaces &= spaces - 1;
        }
        return Some(8 * i + at);
    }
    None
}

/// Bit i set when byte i of the little-endian `word` is white space, for bytes that are base64
/// letters or white space only.
fn space_bits(word: u64) -> u64 {
    // Every byte is ASCII: adding 0x5f sets its top bit exactly when it is 0x21 or more, with no
    // carry into the next byte.
    let below = !(word.wrapping_add(0x5f5f_5f5f_5f5f_5f5f)) & 0x8080_8080_8080_8080;
    // Gather the eight top bits into one byte, byte i to bit i.
    ((below >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56) & 0xff
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// The length of the leading run of base64 letters (`A-Z a-z 0-9 + /`) and white space in
/// `bytes`, and how many letters it holds. Padding (`=`) ends the run. Written branch-free over
/// blocks so that the compiler vectorises it: this is the one pass over a skimmed body. With
/// `blocks`, the letters of each whole block in the run are pushed to it. Always inlined, so that
/// [`dispatched_clean_run`] compiles it with the CPU's features.
#[inline(always)]
fn clean_run(bytes: &[u8], mut blocks: Option<&mut Vec<u8>>) -> (usize, usize) {
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
        if let Some(blocks) = blocks.as_deref_mut() {
            blocks.push(BLOCK as u8 - spaces);
        }
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

/// [`clean_run`] compiled for the best vector instructions this CPU has (AVX2 and its kin on
/// x86-64, found at run time by `pulp`; SSE2 otherwise), with the letters of each whole block.
fn dispatched_clean_run(bytes: &[u8], blocks: &mut Vec<u8>) -> (usize, usize) {
    pulp::Arch::new().dispatch(Scan { bytes, blocks })
}

/// [`clean_run`] as pulp's unit of dispatch: `with_simd` is inlined into a function compiled
/// with the detected features (a closure would be called, not inlined, and keep SSE2).
struct Scan<'a> {
    bytes: &'a [u8],
    blocks: &'a mut Vec<u8>,
}

impl pulp::WithSimd for Scan<'_> {
    type Output = (usize, usize);

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) -> Self::Output {
        clean_run(self.bytes, Some(self.blocks))
    }
}

/// From this size on, [`clean_run_parallel`] scans the input in slices, one per thread.
const PARALLEL_FROM: usize = 4 * 1024 * 1024;

/// A slice's length, its clean run and letters, and the letters of its whole blocks.
type SliceScan = (usize, usize, usize, Vec<u8>);

/// [`clean_run`] of a large input, its slices scanned at once on rayon's pool (whose size
/// `--jobs` sets): one huge message should not take longer than reading it, and the scan is the
/// only pass over a skimmed body. One slice per thread; the answer is the same: slices are
/// joined up to the first one whose run stops short. Also returns the letters of each whole
/// 64-byte block of the run.
fn clean_run_parallel(bytes: &[u8]) -> (usize, usize, Vec<u8>) {
    let scan = |slice: &[u8]| {
        let mut blocks = Vec::with_capacity(slice.len() / BLOCK);
        let (run, letters) = dispatched_clean_run(slice, &mut blocks);
        (slice.len(), run, letters, blocks)
    };
    let threads = rayon::current_num_threads().clamp(1, 64);
    if bytes.len() < PARALLEL_FROM || threads == 1 {
        let (_, run, letters, blocks) = scan(bytes);
        return (run, letters, blocks);
    }
    // Slices of whole blocks, so that the block counts join up. The calling thread scans the
    // first (it would only wait otherwise), the pool the others.
    let slice_len = bytes.len().div_ceil(threads).div_ceil(BLOCK) * BLOCK;
    let mut chunks = bytes.chunks(slice_len);
    let first = chunks.next().unwrap_or_default();
    let mut slices: Vec<Option<SliceScan>> = vec![None; threads];
    rayon::in_place_scope(|scope| {
        let (mine, others) = slices.split_at_mut(1);
        for (slot, chunk) in others.iter_mut().zip(chunks) {
            scope.spawn(move |_| *slot = Some(scan(chunk)));
        }
        if let Some(slot) = mine.first_mut() {
            *slot = Some(scan(first));
        }
    });
    let (mut done, mut letters) = (0, 0);
    let mut blocks = Vec::with_capacity(bytes.len() / BLOCK);
    for (len, run, slice_letters, slice_blocks) in slices.into_iter().flatten() {
        done += run;
        letters += slice_letters;
        blocks.extend_from_slice(&slice_blocks);
        if run < len {
            break;
        }
    }
    (done, letters, blocks)
}

/// (non-zero if any byte is not a letter or white space, white space count). A fixed-size
/// array, so that the loop is vectorised.
#[inline(always)]
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
        assert_eq!(clean_run(text, None), (14, 10));
        let long: Vec<u8> = b"QUJDREVG\r\n".iter().copied().cycle().take(1000).collect();
        assert_eq!(clean_run(&long, None), (1000, 800));
        let mut dashed = long.clone();
        dashed[700] = b'-';
        assert_eq!(clean_run(&dashed, None), (700, 560));
        assert_eq!(clean_run(b"", None), (0, 0));
    }

    /// The plain scan with its block counts.
    fn scan(bytes: &[u8]) -> (usize, usize, Vec<u8>) {
        let mut blocks = Vec::new();
        let (run, letters) = clean_run(bytes, Some(&mut blocks));
        (run, letters, blocks)
    }

    #[test]
    fn parallel_scan_agrees_with_the_plain_one() {
        let len = PARALLEL_FROM + PARALLEL_FROM / 2;
        let long: Vec<u8> = b"QUJDREVG\r\n".iter().copied().cycle().take(len).collect();
        assert_eq!(clean_run_parallel(&long), scan(&long));
        // Stops in the first slice, at and around the slice boundaries of 2, 3 and 4 threads.
        let mut stops = vec![0, 17, len - 1];
        for threads in [2, 3, 4] {
            let boundary = len.div_ceil(threads).div_ceil(BLOCK) * BLOCK;
            stops.extend([boundary - 1, boundary, boundary + 1]);
        }
        for stop in stops {
            let mut cut = long.clone();
            cut[stop] = b'=';
            assert_eq!(clean_run_parallel(&cut), scan(&cut), "stop at {stop}");
            assert_eq!(clean_run_parallel(&cut).0, stop);
        }
    }

    /// Byte by byte, from the definitions: the run up to the first byte that is neither a base64
    /// letter nor white space, its letters, and the letters of each whole block in it.
    fn reference_scan(bytes: &[u8]) -> (usize, usize, Vec<u8>) {
        let valid = |b: u8| is_space(b) || BASE64_VALUE[usize::from(b)] < 64;
        let run = bytes.iter().position(|&b| !valid(b)).unwrap_or(bytes.len());
        let letters_in = |s: &[u8]| s.iter().filter(|&&b| !is_space(b)).count();
        let blocks = bytes[..run].chunks_exact(BLOCK).map(|b| letters_in(b) as u8).collect();
        (run, letters_in(&bytes[..run]), blocks)
    }

    /// The scan as dispatched to this CPU's vector instructions (AVX2 here, if it has them)
    /// stops at exactly the same byte as the definition, for every byte value at every place
    /// in a block, with white space of every kind around it.
    #[test]
    fn dispatched_scan_agrees_with_the_definition_for_every_byte() {
        let line = b"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAx\r\n";
        let mut text: Vec<u8> = line.iter().copied().cycle().take(3_000).collect();
        for (i, at) in [5usize, 700, 1_301, 1_302, 2_047].into_iter().enumerate() {
            text[at] = b" \t\n\r+"[i];
        }
        for byte in 0..=255u8 {
            for at in [0, 1, 31, 32, 63, 64, 65, 127, 1_000, 2_943, 2_999] {
                let mut probe = text.clone();
                probe[at] = byte;
                let mut blocks = Vec::new();
                let (run, letters) = dispatched_clean_run(&probe, &mut blocks);
                assert_eq!((run, letters, blocks), reference_scan(&probe), "byte {byte} at {at}");
            }
        }
    }

    /// Base64 of `data` in lines of `line` letters ending in `eol`, with a ragged line now and
    /// then (some encoders do that), as a [`BodyHole`] over the whole run.
    fn encoded(data: &[u8], line: usize, eol: &[u8]) -> Vec<u8> {
        use base64::Engine as _;
        let text = base64::engine::general_purpose::STANDARD_NO_PAD.encode(data);
        let mut out = Vec::new();
        let mut at = 0;
        let mut n = 0;
        while at < text.len() {
            n += 1;
            let width = if n % 7 == 0 { line / 2 + n % 5 } else { line };
            let end = (at + width).min(text.len());
            out.extend_from_slice(&text.as_bytes()[at..end]);
            out.extend_from_slice(eol);
            at = end;
        }
        out
    }

    #[test]
    fn fetch_decodes_any_window_from_the_letters_it_needs() {
        let data: Vec<u8> =
            (0..30_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8).collect();
        for (line, eol) in [(76, &b"\r\n"[..]), (64, b"\n"), (100_000, b"")] {
            let text = encoded(&data[..29_997], line, eol);
            let (run, letters, blocks) = clean_run_parallel(&text);
            assert_eq!((run, letters), (text.len(), 29_997 / 3 * 4));
            let hole = BodyHole { at: 0, len: 29_997, text: &text, run: &text, blocks: &blocks };
            let cursor = std::cell::Cell::new((0, 0));
            // Forward, as a BER walk reads, then backward, then odd windows.
            let mut positions: Vec<usize> = (0..29_980).step_by(1_004).collect();
            positions.extend([29_000, 5, 1, 0, 29_981, 12_345, 64, 63]);
            for at in positions {
                for n in [1, 2, 4, MAX_FETCH] {
                    let mut out = [0u8; MAX_FETCH];
                    assert!(hole.fetch(at, &mut out[..n], &cursor), "line {line}, at {at}, n {n}");
                    assert_eq!(&out[..n], &data[at..at + n], "line {line}, at {at}, n {n}");
                }
            }
            let mut out = [0u8; 4];
            assert!(!hole.fetch(29_995, &mut out, &cursor), "past the run");
        }
    }

    /// The word-at-a-time search finds the same letter as counting byte by byte, whatever the
    /// white space (CRLF, LF, spaces, tabs, runs of them, none, at the block's edges).
    #[test]
    fn nth_letter_agrees_with_counting() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let letters = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        for round in 0..2_000 {
            let mut block = [0u8; BLOCK];
            for b in block.iter_mut() {
                let r = next();
                *b = if r % 100 < [0, 3, 10, 40][round % 4] {
                    b" \t\r\n"[(r >> 8) as usize % 4]
                } else {
                    letters[(r >> 16) as usize % 64]
                };
            }
            let places: Vec<usize> = (0..BLOCK).filter(|&i| !is_space(block[i])).collect();
            for (nth, &place) in places.iter().enumerate() {
                assert_eq!(nth_letter(&block, nth), Some(place), "{block:?} letter {nth}");
            }
            assert_eq!(nth_letter(&block, places.len()), None);
        }
    }

    #[test]
    fn sums_of_block_counts() {
        let counts: [u8; 16] = [64, 62, 63, 0, 1, 64, 64, 2, 33, 64, 64, 64, 17, 5, 64, 64];
        let (low, high) = counts.split_at(8);
        let word = |b: &[u8]| u64::from_le_bytes(b.try_into().unwrap());
        let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
        assert_eq!(sum_of_bytes(word(low)), low.iter().map(|&c| usize::from(c)).sum::<usize>());
        assert_eq!(sum_of_two(word(low), word(high)), total);
        assert_eq!(sum_of_two(u64::from_le_bytes([64; 8]), u64::from_le_bytes([64; 8])), 1024);
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
        assert!(skim(raw, true).is_none());
    }
}
