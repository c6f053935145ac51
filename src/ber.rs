//! BER → DER normalisation, bounded.
//!
//! CMS is defined in BER (RFC 5652 §1.2: "CMS values are generated using ASN.1, using BER
//! encoding"), and real clients use what BER allows: NSS/Thunderbird, gpgsm, Outlook and
//! `openssl cms -stream` emit indefinite lengths (X.690 §8.1.3.6) and constructed OCTET STRINGs
//! (X.690 §8.7.3). The `der` crate only reads DER (X.690 §10.1: definite, minimal lengths;
//! §10.2: strings in primitive form), so every S/MIME blob goes through [`to_der`] first.
//!
//! # What is rewritten
//!
//! * Indefinite lengths become definite, minimal lengths (X.690 §10.1); long-form lengths
//!   that are not minimal are shortened.
//! * Constructed strings become primitive (X.690 §10.2), their segments concatenated in order:
//!   - every constructed *universal* string type: BIT STRING (§8.6.4, the unused-bits count taken
//!     from the last segment), OCTET STRING (§8.7.3) and the restricted character strings
//!     (§8.23.6, whose segments are OCTET STRINGs);
//!   - one *context-specific* position: `encryptedContent [0] IMPLICIT OCTET STRING` in
//!     `EncryptedContentInfo` (RFC 5652 §6.1, also used by EncryptedData §8 and
//!     AuthEnvelopedData, RFC 5083 §2.1).
//!
//! A tagged value is IMPLICIT or EXPLICIT only according to its ASN.1 module, which a generic
//! decoder cannot see: `[0] EXPLICIT OCTET STRING` (ContentInfo of type data, eContent in
//! SignedData, `ukm [1] EXPLICIT` in KeyAgreeRecipientInfo) looks exactly like a one-segment
//! constructed `[0] IMPLICIT OCTET STRING`. Schema-driven decoders (OpenSSL, BouncyCastle,
//! pyasn1) know the difference; the RustCrypto `der` crate has no BER support at all
//! (RustCrypto/formats#779, #1888). So the context-specific rule is positional: a constructed
//! `[0]` is merged only when it is the *third* element of a SEQUENCE whose first two elements
//! are an OBJECT IDENTIFIER and a SEQUENCE — the shape of
//!
//! ```asn1
//! EncryptedContentInfo ::= SEQUENCE {
//!   contentType ContentType,                                   -- OBJECT IDENTIFIER
//!   contentEncryptionAlgorithm ContentEncryptionAlgorithmIdentifier,  -- SEQUENCE
//!   encryptedContent [0] IMPLICIT EncryptedContent OPTIONAL }  -- OCTET STRING
//! ```
//!
//! and of nothing else in CMS (ContentInfo and EncapsulatedContentInfo carry their `[0]` as
//! the *second* element). Its segments must then be OCTET STRINGs.
//!
//! # What is not rewritten
//!
//! Primitive contents are copied verbatim: BOOLEAN values other than 0xFF, non-minimal
//! INTEGERs and the order of SET OF elements are left for the `der` decoder to accept or
//! reject (it sorts SET OF on decode). The output is therefore "DER as far as framing goes",
//! which is what the CMS types need.
//!
//! # Bounds
//!
//! Iterative, with an explicit stack bounded by [`Limits::max_depth`]; at most
//! [`Limits::max_elements`] elements; a length is checked against the bytes that remain before
//! anything is read or allocated, and the output is allocated once with its exact size, which
//! is at most the input size plus a few bytes per nesting level. DER input (the fast path) is
//! validated in one pass and returned borrowed, without a copy.

use std::borrow::Cow;

/// Bounds on the work [`to_der_with`] does for one input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Deepest nesting of constructed elements accepted (the outermost element is depth 1).
    pub max_depth: u32,
    /// Most elements (TLVs, end-of-contents markers not counted) accepted in one input.
    pub max_elements: usize,
}

impl Default for Limits {
    /// 64 levels (S/MIME nests about 15 deep) and a million elements.
    fn default() -> Self {
        Limits { max_depth: 64, max_elements: 1_000_000 }
    }
}

/// A DER-framed encoding produced by [`to_der`], with what had to change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Der<'a> {
    /// The encoding: the input itself when it already was DER-framed, else a rewritten copy.
    pub bytes: Cow<'a, [u8]>,
    /// The input used at least one indefinite length (X.690 §8.1.3.6).
    pub had_indefinite_length: bool,
    /// The input used at least one constructed string that was merged (X.690 §8.7.3).
    pub had_constructed_string: bool,
}

/// Why a BER encoding could not be normalised. Every variant names the byte offset (from the
/// start of the input) of the element at fault.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BerError {
    /// The input ended inside an element's identifier or length octets, or before the
    /// end-of-contents of an indefinite-length element.
    #[error("truncated BER at byte {offset}: {what}")]
    Truncated {
        /// Where the cut-off element starts.
        offset: usize,
        /// What was missing.
        what: &'static str,
    },
    /// A definite length runs past the end of the input or of the enclosing element.
    #[error(
        "BER length beyond input at byte {offset}: the element claims {length} content bytes, \
         only {available} remain"
    )]
    LengthBeyondInput {
        /// Where the element starts.
        offset: usize,
        /// The length it claims.
        length: u64,
        /// The bytes left in the input or the enclosing element.
        available: usize,
    },
    /// A primitive element used the indefinite-length form (X.690 §8.1.3.2 a).
    #[error("indefinite length on a primitive element at byte {offset}")]
    IndefinitePrimitive {
        /// Where the element starts.
        offset: usize,
    },
    /// Nesting deeper than [`Limits::max_depth`].
    #[error("BER nested deeper than {max} levels at byte {offset}")]
    TooDeep {
        /// Where the element that went too deep starts.
        offset: usize,
        /// The limit.
        max: u32,
    },
    /// More elements than [`Limits::max_elements`].
    #[error("more than {max} BER elements (at byte {offset})")]
    TooManyElements {
        /// Where the element over the limit starts.
        offset: usize,
        /// The limit.
        max: usize,
    },
    /// A segment of a constructed string is not of the string's type (X.690 §8.7.3.2,
    /// §8.6.4.1), or a BIT STRING segment is malformed (§8.6.2).
    #[error(
        "constructed string at byte {outer_offset} has a bad segment at byte {offset}: {what}"
    )]
    MismatchedStringSegment {
        /// Where the constructed string starts.
        outer_offset: usize,
        /// Where the bad segment starts.
        offset: usize,
        /// What is wrong with it.
        what: String,
    },
    /// A length form this normaliser does not accept: the reserved value 0xFF (X.690 §8.1.3.5 c)
    /// or more than 8 length octets.
    #[error("unsupported BER length encoding at byte {offset}: {what}")]
    UnsupportedLength {
        /// Where the element starts.
        offset: usize,
        /// What is wrong.
        what: &'static str,
    },
    /// An identifier in high-tag-number form that is not minimal or longer than 4 octets
    /// (X.690 §8.1.2.4).
    #[error("unsupported BER tag encoding at byte {offset}")]
    UnsupportedTag {
        /// Where the element starts.
        offset: usize,
    },
    /// An end-of-contents marker (00 00) outside an indefinite-length element, or one with a
    /// non-zero length octet (X.690 §8.1.5).
    #[error("unexpected end-of-contents at byte {offset}")]
    UnexpectedEndOfContents {
        /// Where the marker starts.
        offset: usize,
    },
    /// Bytes after the outermost element.
    #[error("{len} bytes of trailing data after the BER element, at byte {offset}")]
    TrailingData {
        /// Where the trailing bytes start.
        offset: usize,
        /// How many there are.
        len: usize,
    },
}

/// Normalises `input` to DER framing with the default [`Limits`].
///
/// DER input is returned borrowed (fast path: validate only, no copy).
pub fn to_der(input: &[u8]) -> Result<Der<'_>, BerError> {
    to_der_with(input, &Limits::default())
}

/// Normalises `input` to DER framing within `limits`; see the [module docs](self) for the rules.
pub fn to_der_with<'a>(input: &'a [u8], limits: &Limits) -> Result<Der<'a>, BerError> {
    normalise(input, limits, false, None).map(|(der, _, _)| der)
}

/// Like [`to_der_with`], but when the input has to be rewritten, the contents of every
/// `encryptedContent [0]` (the EncryptedContentInfo position described in the module docs) are
/// left out: it is written as an empty `[0]`, and its real length is returned, keyed by the
/// offset of that `[0]` in the output. Inspecting an envelope needs that length, never the
/// (possibly huge) ciphertext, so a streamed 10 MB message is not copied.
///
/// DER input is returned borrowed and whole, with no elisions.
pub(crate) fn to_der_eliding_encrypted_content<'a>(
    input: &'a [u8],
    limits: &Limits,
) -> Result<(Der<'a>, Vec<Elided>), BerError> {
    normalise(input, limits, true, None).map(|(der, elided, _)| (der, elided))
}

/// Bytes of an input that are not the real ones (the audit's skimmed base64 bodies: the hole
/// is zero-filled or stale), and a way to fetch the real ones one small window at a time.
pub(crate) trait Missing {
    /// Where the input's bytes are not the real ones.
    fn range(&self) -> std::ops::Range<usize>;
    /// Writes the real bytes at `at..at + out.len()` (inside [`Missing::range`]) into `out`;
    /// `false` when it cannot.
    fn fetch(&self, at: usize, out: &mut [u8]) -> bool;
    /// Another source of the same bytes, for another thread, if there can be one.
    fn fork(&self) -> Option<Box<dyn Missing + Send + '_>> {
        None
    }
}

/// [`to_der_eliding_encrypted_content`] over an input whose bytes in `missing.range()` are not
/// the real ones. Every identifier, length and end-of-contents octet the walk reads there is
/// fetched; the contents of an elided `encryptedContent [0]` (and of its segments) are measured,
/// never read. `Ok(None)` when the answer would need other missing bytes (the content of any
/// other primitive element, or a DER input, which is returned as it is, with its hole, when
/// the hole holds any header), or when a fetch fails: only otherwise is the result that of the
/// real bytes. An error may come from the missing bytes: the caller must not report it but look
/// at the real bytes.
pub(crate) fn to_der_eliding_with_hole<'a>(
    input: &'a [u8],
    limits: &Limits,
    missing: &dyn Missing,
) -> Result<Option<(Der<'a>, Vec<Elided>)>, BerError> {
    let (der, elided, exact) = normalise(input, limits, true, Some(missing))?;
    Ok(exact.then_some((der, elided)))
}

/// An `encryptedContent [0]` written empty by [`to_der_eliding_encrypted_content`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Elided {
    /// Offset of the `[0]` identifier in the output.
    pub offset: usize,
    /// Its real content length.
    pub len: u64,
}

fn normalise<'a>(
    input: &'a [u8],
    limits: &Limits,
    elide: bool,
    hole: Option<&dyn Missing>,
) -> Result<(Der<'a>, Vec<Elided>, bool), BerError> {
    // Pass 1 validates and measures: the DER content length of every constructed element, in
    // document order.
    let mut measure = Measure::default();
    let flags = walk(input, limits, elide, hole, &mut measure)?;
    if flags.needs_missing || !flags.rewrite_needed() {
        let der = Der {
            bytes: Cow::Borrowed(input),
            had_indefinite_length: false,
            had_constructed_string: false,
        };
        // Returned as it is, the input still has its hole: exact only if no header is in it.
        let exact = !flags.needs_missing && !flags.fetched;
        return Ok((der, Vec::new(), exact));
    }
    // Pass 2 writes, taking each constructed element's length from pass 1.
    let mut emit = Emit {
        out: Vec::with_capacity(measure.total),
        lengths: measure.lengths.into_iter(),
        elided_lengths: measure.elided.into_iter(),
        elided: Vec::new(),
        elided_ends: measure.elided_ends.into_iter(),
        bits_patches: Vec::new(),
    };
    let second = walk(input, limits, elide, hole, &mut emit)?;
    let der = Der {
        bytes: Cow::Owned(emit.out),
        had_indefinite_length: flags.indefinite,
        had_constructed_string: flags.merged_string,
    };
    Ok((der, emit.elided, !second.needs_missing))
}

/// What a walk found that DER does not allow.
#[derive(Default)]
struct Flags {
    indefinite: bool,
    merged_string: bool,
    long_length: bool,
    /// Some header octets read were fetched from the caller's [`Missing`] bytes.
    fetched: bool,
    /// The walk needed missing bytes it could not fetch (and stopped there).
    needs_missing: bool,
}

impl Flags {
    fn rewrite_needed(&self) -> bool {
        self.indefinite || self.merged_string || self.long_length
    }

    /// Adds what another walk over part of the same input found.
    fn merge(&mut self, other: &Flags) {
        self.indefinite |= other.indefinite;
        self.merged_string |= other.merged_string;
        self.long_length |= other.long_length;
        self.fetched |= other.fetched;
        self.needs_missing |= other.needs_missing;
    }
}

/// How the segments of a constructed string are joined.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum StringKind {
    /// OCTET STRING segments, concatenated.
    Octets,
    /// BIT STRING segments: the leading unused-bits octet of each is dropped and the last one's
    /// is written first.
    Bits,
    /// OCTET STRING segments of an `encryptedContent [0]` being elided: measured, not written.
    Elided,
}

/// An identifier octet string, decoded enough for the rules.
#[derive(Clone, Copy)]
struct Tag<'a> {
    /// The identifier octets as in the input.
    bytes: &'a [u8],
    class: u8,
    constructed: bool,
    number: u32,
}

impl Tag<'_> {
    fn is_universal(&self, number: u32) -> bool {
        self.class == 0 && self.number == number
    }
}

const UNIVERSAL: u8 = 0;
const CONTEXT: u8 = 2;
const BIT_STRING: u32 = 3;
const OCTET_STRING: u32 = 4;
const OBJECT_IDENTIFIER: u32 = 6;
const SEQUENCE: u32 = 16;

/// Universal string types whose constructed form DER forbids (X.690 §10.2): BIT STRING,
/// OCTET STRING, UTF8String, and the restricted character strings (18–22, 25–30).
fn universal_string_kind(number: u32) -> Option<StringKind> {
    match number {
        BIT_STRING => Some(StringKind::Bits),
        OCTET_STRING | 12 | 18..=22 | 25..=30 => Some(StringKind::Octets),
        _ => None,
    }
}

/// Receives the elements of a walk in document order.
trait Sink {
    /// A constructed element opens. `merge` is set when it is (the root of) a constructed
    /// string to be written as one primitive string.
    fn open(&mut self, tag: &Tag<'_>, merge: Option<StringKind>, in_merge: bool);
    /// A primitive element; `in_merge` when it is a segment of a merged string; `elided_root`
    /// for a primitive `encryptedContent [0]` to be written empty.
    fn primitive(
        &mut self,
        tag: &Tag<'_>,
        content: &[u8],
        in_merge: Option<StringKind>,
        elided_root: bool,
    );
    /// The innermost open constructed element closes. `bits_unused` is the unused-bits count of
    /// a merged BIT STRING (from its last segment).
    fn close(&mut self, in_merge: bool, bits_unused: u8);
    /// The segments of the elided `encryptedContent [0]` just opened hold `len` octets of
    /// content, measured all at once.
    fn elided_segments(&mut self, _len: u64) {}
    /// An elided `encryptedContent [0]` in constructed form ended at `end` (just closed).
    fn elided_end(&mut self, _end: usize) {}
    /// An elided `encryptedContent [0]` in constructed form was just opened: `Some(end)` when
    /// its segments are already measured, to go on at `end` without reading them again.
    fn skip_elided(&mut self) -> Option<usize> {
        None
    }
}

/// One open constructed element during a walk.
struct Frame {
    /// Offset of its identifier (for errors).
    offset: usize,
    /// End of its contents, or `None` for indefinite length (ends at 00 00).
    end: Option<usize>,
    /// Where its contents may extend to at most: its own end, or its nearest definite
    /// ancestor's end, or the input's end.
    limit: usize,
    /// Set when this element is a string being merged, or a segment inside one.
    merge: Option<StringKind>,
    /// Whether this frame is inside a merged string (not its root).
    in_merge: bool,
    /// The unused-bits octet of the last BIT STRING segment seen.
    bits_unused: u8,
    /// A universal SEQUENCE: its first two children's (class, constructed, number) decide the
    /// EncryptedContentInfo rule.
    is_sequence: bool,
    children: usize,
    first_child: Option<(u8, bool, u32)>,
    second_child: Option<(u8, bool, u32)>,
}

/// Reads one element at a time, checking every bound, and reports to `sink`.
fn walk(
    input: &[u8],
    limits: &Limits,
    elide: bool,
    hole: Option<&dyn Missing>,
    sink: &mut impl Sink,
) -> Result<Flags, BerError> {
    let mut flags = Flags::default();
    let mut stack: Vec<Frame> = Vec::new();
    let mut pos = 0usize;
    let mut elements = 0usize;
    let mut top_done = false;
    let mut window = Window::default();

    loop {
        // Close every frame that has ended at `pos`.
        if let Some(frame) = stack.last() {
            let ended = match frame.end {
                Some(end) => pos >= end,
                None => {
                    if pos >= frame.limit {
                        return Err(BerError::Truncated {
                            offset: frame.offset,
                            what: "indefinite-length element has no end-of-contents",
                        });
                    }
                    let in_hole = hole.is_some_and(|h| {
                        overlaps(&h.range(), pos, frame.limit.min(pos.saturating_add(2)))
                    });
                    let (first, second) = if in_hole {
                        let read =
                            window.read(input, pos, frame.limit, SHORT_WINDOW, hole, &mut flags)?;
                        let Some(w) = read else {
                            return Ok(flags);
                        };
                        (w.first().copied(), w.get(1).copied())
                    } else {
                        (input.get(pos).copied(), input.get(pos + 1).copied())
                    };
                    let used = if first == Some(0) { 2 } else { 1 };
                    flags.fetched |= hole.is_some_and(|h| overlaps(&h.range(), pos, pos + used));
                    if first == Some(0) {
                        if pos + 2 > frame.limit {
                            return Err(BerError::Truncated {
                                offset: pos,
                                what: "end-of-contents cut short",
                            });
                        }
                        if second != Some(0) {
                            return Err(BerError::UnexpectedEndOfContents { offset: pos });
                        }
                        pos += 2;
                        true
                    } else {
                        false
                    }
                }
            };
            if ended {
                let Some(frame) = stack.pop() else { break };
                sink.close(frame.in_merge, frame.bits_unused);
                if frame.merge == Some(StringKind::Elided) && !frame.in_merge {
                    sink.elided_end(pos);
                }
                // A merged BIT STRING passes its last segment's unused-bits count up.
                if let Some(parent) = stack.last_mut() {
                    if parent.merge == Some(StringKind::Bits) {
                        parent.bits_unused = frame.bits_unused;
                    }
                }
                if stack.is_empty() {
                    top_done = true;
                }
                continue;
            }
        } else if top_done {
            break;
        }

        // Parse one identifier and length at `pos`.
        let offset = pos;
        let limit = stack.last().map_or(input.len(), |f| f.limit);
        // Identifier and length octets, from a window when some are missing (positions in the
        // window are relative to `base`).
        let window_end = limit.min(pos.saturating_add(HEADER_WINDOW));
        let windowed = hole.is_some_and(|h| overlaps(&h.range(), pos, window_end));
        let (header, base) = if windowed {
            // Most headers are short (`04 82 03 e8`): fetch more only when it is not.
            let want = match window.read(input, pos, limit, SHORT_WINDOW, hole, &mut flags)? {
                Some(short) if header_may_be_longer(short) => HEADER_WINDOW,
                Some(_) => SHORT_WINDOW,
                None => return Ok(flags),
            };
            match window.read(input, pos, limit, want, hole, &mut flags)? {
                Some(w) => (w, pos),
                None => return Ok(flags),
            }
        } else {
            (input, 0)
        };
        let (tag, after_tag) = read_tag(header, pos - base, limit - base)?;
        let (length, after_len, long) =
            read_length(header, after_tag, limit - base, offset - base)?;
        let after_len = after_len + base;
        flags.fetched |= windowed && hole.is_some_and(|h| overlaps(&h.range(), pos, after_len));
        if tag.class == UNIVERSAL && tag.number == 0 {
            // 00 00 is only meaningful as the end of an indefinite-length parent, handled above.
            return Err(BerError::UnexpectedEndOfContents { offset });
        }
        elements += 1;
        if elements > limits.max_elements {
            return Err(BerError::TooManyElements { offset, max: limits.max_elements });
        }
        flags.long_length |= long;

        // Where this element sits in its parent decides whether a constructed [0] is merged.
        let (parent_merge, parent_in_merge, parent_offset, encrypted_content_slot) =
            match stack.last_mut() {
                Some(parent) => {
                    let slot = parent.is_sequence
                        && parent.children == 2
                        && parent.first_child == Some((UNIVERSAL, false, OBJECT_IDENTIFIER))
                        && parent.second_child == Some((UNIVERSAL, true, SEQUENCE));
                    let key = (tag.class, tag.constructed, tag.number);
                    match parent.children {
                        0 => parent.first_child = Some(key),
                        1 => parent.second_child = Some(key),
                        _ => {}
                    }
                    parent.children += 1;
                    (parent.merge, parent.in_merge || parent.merge.is_some(), parent.offset, slot)
                }
                None => (None, false, 0, false),
            };

        // Segments of a constructed string must be of the string's segment type.
        if let Some(kind) = parent_merge {
            let want = match kind {
                StringKind::Octets | StringKind::Elided => OCTET_STRING,
                StringKind::Bits => BIT_STRING,
            };
            if !tag.is_universal(want) {
                return Err(BerError::MismatchedStringSegment {
                    outer_offset: parent_offset,
                    offset,
                    what: format!(
                        "expected {} segments, found identifier {}",
                        if want == OCTET_STRING { "OCTET STRING" } else { "BIT STRING" },
                        hex::encode(tag.bytes)
                    ),
                });
            }
        }

        // Only the last BIT STRING segment may have unused bits (X.690 §8.6.4.2).
        if parent_merge == Some(StringKind::Bits)
            && stack.last().is_some_and(|p| p.bits_unused != 0)
        {
            return Err(BerError::MismatchedStringSegment {
                outer_offset: parent_offset,
                offset,
                what: "a BIT STRING segment with unused bits is not the last".into(),
            });
        }

        if tag.constructed {
            let depth = stack.len() + 1;
            if depth > limits.max_depth as usize {
                return Err(BerError::TooDeep { offset, max: limits.max_depth });
            }
            let merge = if let Some(kind) = parent_merge {
                Some(kind) // a nested segment (X.690 §8.7.3.2 allows constructed segments)
            } else if tag.class == UNIVERSAL {
                universal_string_kind(tag.number)
            } else if tag.class == CONTEXT && tag.number == 0 && encrypted_content_slot {
                Some(if elide { StringKind::Elided } else { StringKind::Octets })
            } else {
                None
            };
            flags.merged_string |= merge.is_some();
            let (end, child_limit) = match length {
                Some(len) => (Some(after_len + len), after_len + len),
                None => {
                    flags.indefinite = true;
                    (None, limit)
                }
            };
            sink.open(&tag, merge, parent_in_merge);
            let elided_root = merge == Some(StringKind::Elided) && !parent_in_merge;
            if let Some(end) = elided_root.then(|| sink.skip_elided()).flatten() {
                // Pass 2: the segments were measured in pass 1 (and were valid), and none is
                // written; go on after them.
                if end < after_len || end > child_limit {
                    return Err(BerError::Truncated { offset, what: "elided content moved" });
                }
                sink.close(false, 0);
                pos = end;
                continue;
            }
            if elided_root {
                // Pass 1: the segments a streaming encoder writes, read in a tight loop.
                let budget = limits.max_elements - elements;
                match measure_segments(
                    input,
                    after_len,
                    end,
                    child_limit,
                    budget,
                    hole,
                    &mut flags,
                )? {
                    Segments::Measured { content, count, end } => {
                        elements += count;
                        sink.elided_segments(content);
                        sink.close(false, 0);
                        sink.elided_end(end);
                        pos = end;
                        continue;
                    }
                    Segments::Missing => return Ok(flags),
                    Segments::Other => {} // read one by one below, and any fault reported
                }
            }
            stack.push(Frame {
                offset,
                end,
                limit: child_limit,
                merge,
                in_merge: parent_in_merge,
                bits_unused: 0,
                is_sequence: tag.is_universal(SEQUENCE),
                children: 0,
                first_child: None,
                second_child: None,
            });
            pos = after_len;
        } else {
            let Some(len) = length else {
                return Err(BerError::IndefinitePrimitive { offset });
            };
            let content = input
                .get(after_len..after_len + len)
                .ok_or(BerError::Truncated { offset, what: "content cut short" })?;
            let elided_root = elide
                && encrypted_content_slot
                && tag.class == CONTEXT
                && tag.number == 0
                && parent_merge.is_none();
            // Elided contents are measured, never read; any other content must be real.
            let unread = elided_root || parent_merge == Some(StringKind::Elided);
            if !unread && hole.is_some_and(|h| overlaps(&h.range(), after_len, after_len + len)) {
                flags.needs_missing = true;
                return Ok(flags);
            }
            if parent_merge == Some(StringKind::Bits) {
                let unused = check_bit_segment(content, offset, parent_offset)?;
                if let Some(parent) = stack.last_mut() {
                    parent.bits_unused = unused;
                }
            }
            sink.primitive(&tag, content, parent_merge, elided_root);
            pos = after_len + len;
            if stack.is_empty() {
                top_done = true;
            }
        }
    }

    if pos < input.len() {
        return Err(BerError::TrailingData { offset: pos, len: input.len() - pos });
    }
    Ok(flags)
}

/// What [`measure_segments`] found.
enum Segments {
    /// Primitive OCTET STRING segments only, with this much content, `count` of them, the
    /// constructed string ending at `end`.
    Measured { content: u64, count: usize, end: usize },
    /// Something else (nested segments, another type, a fault): for the generic walk.
    Other,
    /// A missing byte could not be fetched.
    Missing,
}

/// The segments of an elided `encryptedContent [0]` in constructed form whose contents start
/// at `start`: a run of primitive OCTET STRINGs (at most `budget` of them) closed by the
/// end-of-contents octets (`end` is `None`) or by the end of the definite length, which is
/// what `openssl cms -stream`, NSS and Outlook write, thousands of segments for a large
/// message. Measured here in a tight loop; anything else is [`Segments::Other`], for the
/// generic walk to read (and to report any fault in the same words as ever).
///
/// A long run of segments of one size (a streaming encoder's) is measured in two halves at
/// once when rayon's pool has more than one thread (`--jobs`): the second half, on the pool,
/// from where its first header must be if the sizes hold; that is used only if the first half
/// ends exactly there.
fn measure_segments(
    input: &[u8],
    start: usize,
    end: Option<usize>,
    limit: usize,
    budget: usize,
    hole: Option<&dyn Missing>,
    flags: &mut Flags,
) -> Result<Segments, BerError> {
    let span = end.unwrap_or(limit).saturating_sub(start);
    let forked = match hole {
        Some(h) => h.fork().map(Some),
        None => Some(None),
    };
    let step = if span >= PARALLEL_SEGMENTS_FROM && rayon::current_num_threads() > 1 {
        even_step(input, start, limit, hole, flags)?
    } else {
        None
    };
    let (Some(step), Some(forked)) = (step, forked) else {
        return measure_run(input, start, end, limit, budget, hole, flags, None);
    };
    let middle = start + span / step / 2 * step;
    let mut second_flags = Flags::default();
    let mut second = None;
    let first = rayon::in_place_scope(|scope| {
        let (second, second_flags) = (&mut second, &mut second_flags);
        scope.spawn(move |_| {
            let hole = forked.as_deref().map(|h| h as &dyn Missing);
            *second =
                Some(measure_run(input, middle, end, limit, budget, hole, second_flags, None));
        });
        measure_run(input, start, end, limit, budget, hole, flags, Some(middle))
    });
    match first? {
        // The first half ended where the second began: the two make the whole.
        Segments::Measured { content, count, end: at } if at == middle => {
            let Some(Ok(second)) = second else { return Ok(Segments::Other) };
            flags.merge(&second_flags);
            Ok(match second {
                Segments::Measured { content: more, count: also, end }
                    if count + also <= budget =>
                {
                    Segments::Measured { content: content + more, count: count + also, end }
                }
                Segments::Missing => Segments::Missing,
                _ => Segments::Other,
            })
        }
        // The sizes changed before the middle: the first half went on to the end alone.
        whole => Ok(whole),
    }
}

/// From this span on, [`measure_segments`] measures two halves at once.
const PARALLEL_SEGMENTS_FROM: usize = 1 << 20;

/// The size (header and content) of the first two segments at `start`, if they are primitive
/// OCTET STRINGs of the same size.
fn even_step(
    input: &[u8],
    start: usize,
    limit: usize,
    hole: Option<&dyn Missing>,
    flags: &mut Flags,
) -> Result<Option<usize>, BerError> {
    let mut steps = [0usize; 2];
    let mut pos = start;
    for step in &mut steps {
        let mut header = [0u8; SHORT_WINDOW];
        let Some(read) = read_window(input, pos, limit, hole, &mut header, flags)? else {
            return Ok(None);
        };
        let Some((hdr, len, _)) = segment_header(read) else { return Ok(None) };
        *step = hdr + len;
        pos += *step;
    }
    Ok(Some(steps[0]).filter(|&step| step == steps[1] && step > 0))
}

/// [`measure_segments`]' loop, from `start`; with `until`, it stops there (if a segment starts
/// there) with what it measured so far.
#[allow(clippy::too_many_arguments)]
fn measure_run(
    input: &[u8],
    start: usize,
    end: Option<usize>,
    limit: usize,
    budget: usize,
    hole: Option<&dyn Missing>,
    flags: &mut Flags,
    mut until: Option<usize>,
) -> Result<Segments, BerError> {
    let (mut pos, mut content, mut count) = (start, 0u64, 0usize);
    let hole_range = hole.map(|h| h.range());
    loop {
        if end == Some(pos) || until == Some(pos) {
            return Ok(Segments::Measured { content, count, end: pos });
        }
        if until.is_some_and(|u| pos > u) {
            until = None; // the segments changed size: go on to the end
        }
        // An identifier and a length of up to four octets (segments are far shorter than 4 GiB).
        let mut header = [0u8; SHORT_WINDOW];
        let n = limit.min(input.len()).saturating_sub(pos).min(SHORT_WINDOW);
        let in_hole = hole_range.as_ref().filter(|range| overlaps(range, pos, pos + n));
        let Some(read) = header.get_mut(..n) else { return Ok(Segments::Other) };
        match in_hole {
            None => match input.get(pos..pos + n) {
                Some(bytes) => read.copy_from_slice(bytes),
                None => return Ok(Segments::Other),
            },
            Some(_) => match read_window(input, pos, limit, hole, read, flags)? {
                Some(_) => {}
                None => return Ok(Segments::Missing),
            },
        }
        if end.is_none() && header.get(..n.min(2)) == Some(&[0, 0][..]) {
            flags.fetched |= in_hole.is_some_and(|range| overlaps(range, pos, pos + 2));
            return Ok(Segments::Measured { content, count, end: pos + 2 });
        }
        let Some((hdr, len, non_minimal)) = header.get(..n).and_then(segment_header) else {
            return Ok(Segments::Other);
        };
        // Not the fewest length octets: DER would shorten them (the segment is not written).
        flags.long_length |= non_minimal;
        let next = pos + hdr + len;
        if next > limit || end.is_some_and(|e| next > e) || count == budget {
            return Ok(Segments::Other);
        }
        flags.fetched |= in_hole.is_some_and(|range| overlaps(range, pos, pos + hdr));
        content += len as u64;
        count += 1;
        pos = next;
    }
}

/// A primitive OCTET STRING segment's header at the start of `bytes`, with a length in at most
/// four octets: (header length, content length, whether the length is not in the fewest
/// octets). `None` for anything else.
fn segment_header(bytes: &[u8]) -> Option<(usize, usize, bool)> {
    match *bytes {
        [0x04, short, ..] if short < 0x80 => Some((2, usize::from(short), false)),
        [0x04, long, ref rest @ ..] if (0x81..=0x84).contains(&long) => {
            let octets = rest.get(..usize::from(long & 0x7f))?;
            let value = octets.iter().fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
            Some((2 + octets.len(), value, value <= 0x7f || octets.first() == Some(&0)))
        }
        _ => None,
    }
}

/// Identifier (at most 5 octets here) plus length (at most 9) octets.
const HEADER_WINDOW: usize = 16;
/// One identifier octet and up to five length octets: the usual header, read first.
const SHORT_WINDOW: usize = 6;

/// Whether the header starting `short` (its first [`SHORT_WINDOW`] bytes) may not fit in them.
fn header_may_be_longer(short: &[u8]) -> bool {
    let high_tag = short.first().is_some_and(|&b| b & 0x1f == 0x1f);
    let long_length =
        short.get(1).is_some_and(|&b| b > 0x80 && 2 + usize::from(b & 0x7f) > SHORT_WINDOW);
    short.len() == SHORT_WINDOW && (high_tag || long_length)
}

/// Whether `pos..end` overlaps `range`.
fn overlaps(range: &std::ops::Range<usize>, pos: usize, end: usize) -> bool {
    pos < range.end && range.start < end && pos < end
}

/// The input bytes at one position, missing ones fetched: an end-of-contents check and the
/// header read that follows it at the same position share one fetch.
#[derive(Default)]
struct Window {
    /// (position, limit) of the bytes held, if any.
    at: Option<(usize, usize)>,
    len: usize,
    bytes: [u8; HEADER_WINDOW],
}

impl Window {
    /// [`read_window`] at `pos`, up to `limit`, or the bytes already read there.
    fn read(
        &mut self,
        input: &[u8],
        pos: usize,
        limit: usize,
        want: usize,
        hole: Option<&dyn Missing>,
        flags: &mut Flags,
    ) -> Result<Option<&[u8]>, BerError> {
        let held = self.at == Some((pos, limit))
            && (self.len >= want || pos + self.len >= limit.min(input.len()));
        if !held {
            self.at = None;
            let Some(bytes) = self.bytes.get_mut(..want.min(HEADER_WINDOW)) else {
                flags.needs_missing = true;
                return Ok(None);
            };
            match read_window(input, pos, limit, hole, bytes, flags)? {
                Some(read) => self.len = read.len(),
                None => return Ok(None),
            }
            self.at = Some((pos, limit));
        }
        Ok(self.bytes.get(..self.len.min(want)))
    }
}

/// Copies the input bytes at `pos..` (up to `window.len()`, not past `limit`) into `window`,
/// fetching those that are missing. `Ok(None)` (with the flag set) when a fetch fails.
fn read_window<'w>(
    input: &[u8],
    pos: usize,
    limit: usize,
    hole: Option<&dyn Missing>,
    window: &'w mut [u8],
    flags: &mut Flags,
) -> Result<Option<&'w [u8]>, BerError> {
    let end = limit.min(input.len()).min(pos.saturating_add(window.len()));
    let n = end.saturating_sub(pos);
    let (Some(bytes), Some(out)) = (input.get(pos..end), window.get_mut(..n)) else {
        return Err(BerError::Truncated { offset: pos, what: "identifier octets cut short" });
    };
    let Some(h) = hole else {
        out.copy_from_slice(bytes);
        return Ok(Some(out));
    };
    // The bytes before, in and after the hole (those in it are not even looked at: in a large
    // hole they are far apart, and each would cost a cache miss).
    let range = h.range();
    let from = range.start.clamp(pos, end) - pos;
    let to = range.end.clamp(pos, end) - pos;
    // A window wholly in the hole (the usual case in a large one) copies nothing.
    if from > 0 {
        if let (Some(o), Some(b)) = (out.get_mut(..from), bytes.get(..from)) {
            o.copy_from_slice(b);
        }
    }
    if to < n {
        if let (Some(o), Some(b)) = (out.get_mut(to..), bytes.get(to..)) {
            o.copy_from_slice(b);
        }
    }
    if from < to {
        let fetched = out.get_mut(from..to).is_some_and(|o| h.fetch(pos + from, o));
        if !fetched {
            flags.needs_missing = true;
            return Ok(None);
        }
    }
    Ok(Some(out))
}

/// A BIT STRING segment starts with its unused-bits count, 0..=7 (X.690 §8.6.2.2).
fn check_bit_segment(content: &[u8], offset: usize, outer_offset: usize) -> Result<u8, BerError> {
    match content.first() {
        Some(&unused) if unused <= 7 && (unused == 0 || content.len() > 1) => Ok(unused),
        _ => Err(BerError::MismatchedStringSegment {
            outer_offset,
            offset,
            what: "BIT STRING segment without a valid unused-bits octet".into(),
        }),
    }
}

/// Reads the identifier octets at `pos` (X.690 §8.1.2).
fn read_tag(input: &[u8], pos: usize, limit: usize) -> Result<(Tag<'_>, usize), BerError> {
    let truncated = BerError::Truncated { offset: pos, what: "identifier octets cut short" };
    let first = *input.get(pos).filter(|_| pos < limit).ok_or(truncated.clone())?;
    let class = first >> 6;
    let constructed = first & 0x20 != 0;
    let mut number = u32::from(first & 0x1f);
    let mut end = pos + 1;
    if number == 0x1f {
        // High-tag-number form: base-128, at most 4 octets, no leading 0x80 (§8.1.2.4.2 c).
        number = 0;
        loop {
            let b = *input.get(end).filter(|_| end < limit).ok_or(truncated.clone())?;
            if (end == pos + 1 && b == 0x80) || end - pos > 4 {
                return Err(BerError::UnsupportedTag { offset: pos });
            }
            number = (number << 7) | u32::from(b & 0x7f);
            end += 1;
            if b & 0x80 == 0 {
                break;
            }
        }
    }
    let bytes = input.get(pos..end).ok_or(truncated)?;
    Ok((Tag { bytes, class, constructed, number }, end))
}

/// Reads the length octets at `pos` (X.690 §8.1.3): `None` for the indefinite form. Checks a
/// definite length against the bytes up to `limit`. The flag says the length was not in
/// minimal DER form.
fn read_length(
    input: &[u8],
    pos: usize,
    limit: usize,
    offset: usize,
) -> Result<(Option<usize>, usize, bool), BerError> {
    let truncated = BerError::Truncated { offset, what: "length octets cut short" };
    let first = *input.get(pos).filter(|_| pos < limit).ok_or(truncated.clone())?;
    let (length, end, long) = match first {
        0x80 => return Ok((None, pos + 1, false)),
        0xff => return Err(BerError::UnsupportedLength { offset, what: "reserved length 0xFF" }),
        n if n < 0x80 => (u64::from(n), pos + 1, false),
        n => {
            let count = usize::from(n & 0x7f);
            if count > 8 {
                return Err(BerError::UnsupportedLength {
                    offset,
                    what: "more than 8 length octets",
                });
            }
            let octets = input.get(pos + 1..pos + 1 + count).ok_or(truncated)?;
            if pos + 1 + count > limit {
                return Err(BerError::Truncated { offset, what: "length octets cut short" });
            }
            let value = octets.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
            // DER: the long form only for lengths over 127, in the fewest octets (§10.1).
            let minimal = value > 0x7f && octets.first() != Some(&0);
            (value, pos + 1 + count, !minimal)
        }
    };
    let available = limit.saturating_sub(end);
    match usize::try_from(length) {
        Ok(len) if len <= available => Ok((Some(len), end, long)),
        _ => Err(BerError::LengthBeyondInput { offset, length, available }),
    }
}

/// Number of octets the DER header (identifier + length) takes.
fn header_len(tag_len: usize, content_len: usize) -> usize {
    tag_len + length_len(content_len)
}

/// Number of octets a minimal DER length takes.
fn length_len(len: usize) -> usize {
    if len < 0x80 {
        1
    } else {
        1 + (usize::BITS as usize / 8 - len.leading_zeros() as usize / 8)
    }
}

/// Pass 1 sink: computes each constructed element's DER content length.
#[derive(Default)]
struct Measure {
    /// DER content length of each constructed element, in order of their opening.
    lengths: Vec<usize>,
    /// For each open element: (its slot in `lengths`, tag length, content so far, in_merge).
    open: Vec<(usize, usize, usize, bool)>,
    /// Total output size.
    total: usize,
    /// The real content length of each elided `encryptedContent [0]`, in document order.
    elided: Vec<u64>,
    /// Where each constructed elided `encryptedContent [0]` ends, in document order.
    elided_ends: Vec<usize>,
}

impl Measure {
    fn add(&mut self, n: usize) {
        match self.open.last_mut() {
            Some(top) => top.2 += n,
            None => self.total += n,
        }
    }
}

impl Sink for Measure {
    fn open(&mut self, tag: &Tag<'_>, merge: Option<StringKind>, in_merge: bool) {
        // Segments inside a merged string are not written: no length to remember.
        let slot = if in_merge {
            usize::MAX
        } else {
            self.lengths.push(0);
            self.lengths.len() - 1
        };
        if merge == Some(StringKind::Elided) && !in_merge {
            self.elided.push(0);
        }
        // A merged BIT STRING starts with its unused-bits octet.
        let initial = usize::from(merge == Some(StringKind::Bits) && !in_merge);
        self.open.push((slot, tag.bytes.len(), initial, in_merge));
    }

    fn primitive(
        &mut self,
        tag: &Tag<'_>,
        content: &[u8],
        in_merge: Option<StringKind>,
        elided_root: bool,
    ) {
        if elided_root {
            self.elided.push(content.len() as u64);
            self.add(header_len(tag.bytes.len(), 0));
            return;
        }
        match in_merge {
            Some(StringKind::Bits) => self.add(content.len().saturating_sub(1)),
            Some(StringKind::Octets) => self.add(content.len()),
            Some(StringKind::Elided) => {
                if let Some(total) = self.elided.last_mut() {
                    *total += content.len() as u64;
                }
            }
            None => self.add(header_len(tag.bytes.len(), content.len()) + content.len()),
        }
    }

    fn elided_end(&mut self, end: usize) {
        self.elided_ends.push(end);
    }

    fn elided_segments(&mut self, len: u64) {
        if let Some(total) = self.elided.last_mut() {
            *total += len;
        }
    }

    fn close(&mut self, in_merge: bool, _bits_unused: u8) {
        if let Some((slot, tag_len, content, _)) = self.open.pop() {
            if let Some(l) = self.lengths.get_mut(slot) {
                *l = content;
            }
            // Segments inside a merged string contribute data only, no header.
            let n = if in_merge { content } else { header_len(tag_len, content) + content };
            self.add(n);
        }
    }
}

/// Pass 2 sink: writes the DER.
struct Emit {
    out: Vec<u8>,
    lengths: std::vec::IntoIter<usize>,
    /// Real lengths of the elided strings, from pass 1.
    elided_lengths: std::vec::IntoIter<u64>,
    /// Where each elided string was written.
    elided: Vec<Elided>,
    /// Where each constructed elided string ends in the input, from pass 1.
    elided_ends: std::vec::IntoIter<usize>,
    /// For each open element written with a header: where its merged BIT STRING's unused-bits
    /// octet sits (patched when it closes), or `None`.
    bits_patches: Vec<Option<usize>>,
}

impl Emit {
    fn write_header(&mut self, tag: &[u8], constructed: bool, len: usize) {
        let mut tag_iter = tag.iter();
        if let Some(&first) = tag_iter.next() {
            self.out.push(if constructed { first | 0x20 } else { first & !0x20 });
        }
        self.out.extend(tag_iter);
        if len < 0x80 {
            self.out.push(len as u8);
        } else {
            let bytes = len.to_be_bytes();
            let skip = len.leading_zeros() as usize / 8;
            let tail = bytes.get(skip..).unwrap_or(&[]);
            self.out.push(0x80 | tail.len() as u8);
            self.out.extend_from_slice(tail);
        }
    }
}

impl Sink for Emit {
    fn open(&mut self, tag: &Tag<'_>, merge: Option<StringKind>, in_merge: bool) {
        if in_merge {
            return;
        }
        let len = self.lengths.next().unwrap_or(0);
        if merge == Some(StringKind::Elided) {
            let len = self.elided_lengths.next().unwrap_or(0);
            self.elided.push(Elided { offset: self.out.len(), len });
        }
        // A merged string is written primitive; anything else keeps its constructed bit.
        self.write_header(tag.bytes, merge.is_none(), len);
        if merge == Some(StringKind::Bits) {
            self.bits_patches.push(Some(self.out.len()));
            self.out.push(0);
        } else {
            self.bits_patches.push(None);
        }
    }

    fn primitive(
        &mut self,
        tag: &Tag<'_>,
        content: &[u8],
        in_merge: Option<StringKind>,
        elided_root: bool,
    ) {
        if elided_root {
            let len = self.elided_lengths.next().unwrap_or(0);
            self.elided.push(Elided { offset: self.out.len(), len });
            self.write_header(tag.bytes, false, 0);
            return;
        }
        match in_merge {
            Some(StringKind::Bits) => self.out.extend_from_slice(content.get(1..).unwrap_or(&[])),
            Some(StringKind::Octets) => self.out.extend_from_slice(content),
            Some(StringKind::Elided) => {}
            None => {
                self.write_header(tag.bytes, false, content.len());
                self.out.extend_from_slice(content);
            }
        }
    }

    fn skip_elided(&mut self) -> Option<usize> {
        self.elided_ends.next()
    }

    fn close(&mut self, in_merge: bool, bits_unused: u8) {
        if in_merge {
            return;
        }
        if let Some(Some(at)) = self.bits_patches.pop() {
            if let Some(b) = self.out.get_mut(at) {
                *b = bits_unused;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn hex(s: &str) -> Vec<u8> {
        hex::decode(s.replace(' ', "")).unwrap()
    }

    fn normalised(input: &str) -> String {
        hex::encode(to_der(&hex(input)).unwrap().bytes)
    }

    #[rstest]
    // indefinite SEQUENCE → definite
    #[case("30 80 02 01 05 00 00", "3003020105")]
    // nested indefinite
    #[case("30 80 30 80 05 00 00 00 00 00", "30043002 0500")]
    // constructed OCTET STRING, definite and indefinite, nested segments (X.690 §8.7.3.2)
    #[case("24 08 04 02 aa bb 04 02 cc dd", "0404aabbccdd")]
    #[case("24 80 04 01 aa 24 80 04 01 bb 00 00 04 00 00 00", "0402aabb")]
    // constructed BIT STRING: unused bits from the last segment (X.690 §8.6.4)
    #[case("23 80 03 02 00 aa 03 02 04 b0 00 00", "030304aab0")]
    // constructed UTF8String with OCTET STRING segments (X.690 §8.23.6)
    #[case("2c 80 04 01 61 04 01 62 00 00", "0c026162")]
    // non-minimal long-form lengths are shortened
    #[case("30 81 04 02 81 01 05", "3003020105")]
    #[case("04 83 00 00 01 aa", "0401aa")]
    // EncryptedContentInfo: [0] IMPLICIT OCTET STRING in third position, after OID and SEQUENCE
    #[case("30 80 06 01 2a 30 00 a0 80 04 01 aa 04 01 bb 00 00 00 00", "300906012a30008002aabb")]
    // ContentInfo: [0] EXPLICIT in second position stays constructed
    #[case("30 80 06 01 2a a0 80 04 01 aa 00 00 00 00", "300806012aa0030401aa")]
    // a constructed [0] with an OCTET STRING in third position after other types stays
    #[case("30 0a 02 01 00 30 00 a0 03 04 01 aa", "300a02010030 00a0030401aa")]
    // an empty constructed [1] (OpenSSL's empty crls) is kept as is
    #[case("30 80 a1 00 00 00", "3002a100")]
    // high tag number form passes through
    #[case("30 80 bf 81 00 00 00 00", "3004bf810000")]
    fn ber_is_normalised(#[case] input: &str, #[case] expected: &str) {
        assert_eq!(normalised(input), expected.replace(' ', ""));
    }

    #[test]
    fn der_is_borrowed_unchanged() {
        let input = hex("30 0a 06 01 2a a0 05 04 03 01 02 03");
        let der = to_der(&input).unwrap();
        assert!(matches!(der.bytes, Cow::Borrowed(_)));
        assert!(!der.had_indefinite_length && !der.had_constructed_string);
    }

    #[test]
    fn flags_report_what_changed() {
        let input = hex("30 80 24 80 04 01 aa 00 00 00 00");
        let der = to_der(&input).unwrap();
        assert!(der.had_indefinite_length && der.had_constructed_string);
        let input = hex("30 80 30 00 00 00");
        let der = to_der(&input).unwrap();
        assert!(der.had_indefinite_length && !der.had_constructed_string);
    }

    #[test]
    fn long_content_gets_long_form_length() {
        let mut input = hex("24 80 04 82 01 00");
        input.extend([7u8; 256]);
        input.extend(hex("04 01 08 00 00"));
        let der = to_der(&input).unwrap();
        assert_eq!(&der.bytes[..4], &[0x04, 0x82, 0x01, 0x01]);
        assert_eq!(der.bytes.len(), 4 + 257);
    }

    #[rstest]
    #[case("", "truncated BER at byte 0: identifier octets cut short")]
    #[case("30", "truncated BER at byte 0: length octets cut short")]
    #[case(
        "30 05 02 01",
        "BER length beyond input at byte 0: the element claims 5 content bytes, only 2 remain"
    )]
    #[case("30 84 ff ff ff ff 00", "BER length beyond input at byte 0: the element claims 4294967295 content bytes, only 1 remain")]
    #[case(
        "30 89 01 01 01 01 01 01 01 01 01",
        "unsupported BER length encoding at byte 0: more than 8 length octets"
    )]
    #[case("30 ff", "unsupported BER length encoding at byte 0: reserved length 0xFF")]
    #[case(
        "30 80 02 01 05",
        "truncated BER at byte 0: indefinite-length element has no end-of-contents"
    )]
    #[case("30 80 02 01 05 00", "truncated BER at byte 5: end-of-contents cut short")]
    #[case("04 80 aa 00 00", "indefinite length on a primitive element at byte 0")]
    #[case("30 02 00 00", "unexpected end-of-contents at byte 2")]
    #[case("30 80 00 01 00", "unexpected end-of-contents at byte 2")]
    #[case("30 00 00", "1 bytes of trailing data after the BER element, at byte 2")]
    #[case("24 80 02 01 05 00 00", "constructed string at byte 0 has a bad segment at byte 2: expected OCTET STRING segments, found identifier 02")]
    #[case("23 80 03 02 04 aa 03 01 00 00 00", "constructed string at byte 0 has a bad segment at byte 6: a BIT STRING segment with unused bits is not the last")]
    #[case("23 80 03 01 09 00 00", "constructed string at byte 0 has a bad segment at byte 2: BIT STRING segment without a valid unused-bits octet")]
    #[case("1f 80 01 00", "unsupported BER tag encoding at byte 0")]
    // a definite parent whose indefinite child is cut by the parent's end
    #[case(
        "30 04 30 80 05 00 00 00",
        "truncated BER at byte 2: indefinite-length element has no end-of-contents"
    )]
    fn bad_ber_says_what_is_wrong(#[case] input: &str, #[case] message: &str) {
        let err = to_der(&hex(input)).unwrap_err();
        assert_eq!(err.to_string(), message);
    }

    #[rstest]
    // streamed: constructed [0] in the EncryptedContentInfo slot, 4 content bytes left out
    #[case("30 80 06 01 2a 30 00 a0 80 04 02 aa bb 04 02 cc dd 00 00 00 00", "300706012a30008000", &[(7, 4)])]
    // primitive [0] in a rewritten (indefinite) envelope
    #[case("30 80 06 01 2a 30 00 80 03 aa bb cc 00 00", "300706012a30008000", &[(7, 3)])]
    // DER: nothing to rewrite, nothing left out
    #[case("30 0a 06 01 2a 30 00 80 03 aa bb cc", "300a06012a3000800 3aabbcc", &[])]
    // other strings are merged, not left out
    #[case("30 80 06 01 2a 24 80 04 01 aa 00 00 00 00", "300606012a0401aa", &[])]
    fn encrypted_content_can_be_left_out(
        #[case] input: &str,
        #[case] expected: &str,
        #[case] elided: &[(usize, u64)],
    ) {
        let input = hex(input);
        let (der, got) = to_der_eliding_encrypted_content(&input, &Limits::default()).unwrap();
        assert_eq!(hex::encode(&der.bytes), expected.replace(' ', ""));
        let got: Vec<(usize, u64)> = got.iter().map(|e| (e.offset, e.len)).collect();
        assert_eq!(got, elided);
    }

    #[test]
    fn nesting_is_bounded() {
        let mut input = [0x30, 0x80].repeat(10_000);
        input.extend(vec![0u8; 20_000]);
        assert_eq!(to_der(&input).unwrap_err(), BerError::TooDeep { offset: 128, max: 64 });
        let limits = Limits { max_depth: 20_000, max_elements: 100 };
        assert_eq!(
            to_der_with(&input, &limits).unwrap_err(),
            BerError::TooManyElements { offset: 200, max: 100 }
        );
    }

    #[test]
    fn element_count_is_bounded() {
        let mut input = hex("30 80");
        input.extend([0x05, 0x00].repeat(50));
        input.extend([0, 0]);
        let limits = Limits { max_depth: 4, max_elements: 10 };
        assert!(matches!(
            to_der_with(&input, &limits),
            Err(BerError::TooManyElements { max: 10, .. })
        ));
        assert!(to_der(&input).is_ok());
    }

    /// The real bytes of a buffer whose `range` was overwritten; counts the fetches.
    struct Hidden {
        real: Vec<u8>,
        range: std::ops::Range<usize>,
        fetches: std::cell::Cell<usize>,
    }

    impl Missing for Hidden {
        fn range(&self) -> std::ops::Range<usize> {
            self.range.clone()
        }
        fn fetch(&self, at: usize, out: &mut [u8]) -> bool {
            self.fetches.set(self.fetches.get() + 1);
            assert!(at >= self.range.start && at + out.len() <= self.range.end);
            out.copy_from_slice(&self.real[at..at + out.len()]);
            true
        }
    }

    /// An EncryptedContentInfo with indefinite lengths and `segments` ciphertext segments of
    /// 200 bytes, as `openssl cms -stream` writes it, after an OID and a small SEQUENCE.
    fn streamed(segments: usize) -> Vec<u8> {
        let mut input = hex("30 80 06 01 2a 30 03 02 01 07 a0 80");
        for i in 0..segments {
            input.extend(hex("04 81 c8"));
            input.extend([i as u8; 200]);
        }
        input.extend(hex("00 00 00 00"));
        input
    }

    /// What `to_der_eliding_with_hole` gives: the DER and the elided lengths.
    type Normalised = (Vec<u8>, Vec<Elided>);

    /// `to_der_eliding_with_hole` of `real` with `range` garbled, and how many fetches it made.
    fn with_hole(real: &[u8], range: std::ops::Range<usize>) -> (Option<Normalised>, usize) {
        let mut garbled = real.to_vec();
        garbled[range.clone()].fill(0xee);
        let hidden = Hidden { real: real.to_vec(), range, fetches: std::cell::Cell::new(0) };
        let got = to_der_eliding_with_hole(&garbled, &Limits::default(), &hidden)
            .ok()
            .flatten()
            .map(|(der, elided)| (der.bytes.into_owned(), elided));
        (got, hidden.fetches.get())
    }

    #[test]
    fn a_hole_across_ciphertext_segments_is_read_through_its_headers() {
        let real = streamed(50);
        let (der, elided) = to_der_eliding_encrypted_content(&real, &Limits::default()).unwrap();
        let expected = (der.bytes.into_owned(), elided);
        assert_eq!(expected.1[0].len, 50 * 200);
        // From inside the first segment to inside the last: 49 headers to fetch, once each
        // (the second pass goes past the measured segments).
        let (got, fetches) = with_hole(&real, 20..real.len() - 100);
        assert_eq!(got, Some(expected.clone()));
        assert!((49..=60).contains(&fetches), "{fetches} fetches");
        // Holes over every byte of the segment headers alone, one at a time.
        for at in (12..real.len() - 4).step_by(203) {
            assert_eq!(with_hole(&real, at..at + 3).0, Some(expected.clone()), "header at {at}");
        }
        // The end-of-contents octets are read, and fetched too.
        assert_eq!(with_hole(&real, 1000..real.len()).0, Some(expected));
    }

    #[test]
    fn a_hole_over_anything_but_ciphertext_and_its_framing_is_not_answered() {
        let real = streamed(5);
        // The OID's content, the SEQUENCE's INTEGER: content that is read.
        assert_eq!(with_hole(&real, 4..5).0, None);
        assert_eq!(with_hole(&real, 9..10).0, None);
        // A DER input is returned as it is: a hole over a header would stay in the answer.
        let der = to_der(&real).unwrap().bytes.into_owned();
        assert_eq!(with_hole(&der, 7..8).0, None);
        // ... but a hole inside the ciphertext of a DER input is fine: returned as it is, with
        // the ciphertext (never read) still garbled. The header window before it may fetch a
        // few of its bytes, once per pass, unused.
        let (got, fetches) = with_hole(&der, 20..900);
        let (bytes, elided) = got.expect("answered");
        assert_eq!((&bytes[..20], &bytes[900..], elided.len()), (&der[..20], &der[900..], 0));
        assert!(fetches <= 2, "{fetches} fetches");
    }

    #[test]
    fn a_failed_fetch_is_not_answered() {
        struct Broken;
        impl Missing for Broken {
            fn range(&self) -> std::ops::Range<usize> {
                20..400
            }
            fn fetch(&self, _: usize, _: &mut [u8]) -> bool {
                false
            }
        }
        let real = streamed(5);
        let got = to_der_eliding_with_hole(&real, &Limits::default(), &Broken).unwrap();
        assert!(got.is_none());
    }

    /// An EncryptedContentInfo streamed in segments of the given sizes (long-form lengths).
    fn streamed_sizes(sizes: &[usize]) -> Vec<u8> {
        let mut input = hex("30 80 06 01 2a 30 03 02 01 07 a0 80");
        for (i, &size) in sizes.iter().enumerate() {
            input.push(0x04);
            input.push(0x82);
            input.extend((size as u16).to_be_bytes());
            input.extend(std::iter::repeat_n(i as u8, size));
        }
        input.extend(hex("00 00 00 00"));
        input
    }

    /// Runs of segments long enough to be measured in two halves at once give what one walk
    /// gives: even sizes, sizes that change before the middle (the guess is wrong) or after it,
    /// and a fault in the second half; with the ciphertext in a hole or not.
    #[rstest]
    #[case::even(vec![1000; 1500])]
    #[case::changes_early(std::iter::once(999).chain(std::iter::repeat_n(1000, 1499)).collect())]
    #[case::changes_in_the_middle((0..1500).map(|i| if i == 700 { 17 } else { 1000 }).collect())]
    #[case::changes_late((0..1500).map(|i| if i > 1200 { 333 } else { 1000 }).collect())]
    fn long_runs_of_segments_measure_as_one_walk(#[case] sizes: Vec<usize>) {
        let real = streamed_sizes(&sizes);
        assert!(real.len() > PARALLEL_SEGMENTS_FROM);
        let total: usize = sizes.iter().sum();
        let (der, elided) = to_der_eliding_encrypted_content(&real, &Limits::default()).unwrap();
        assert_eq!(elided[0].len, total as u64);
        let expected = (der.bytes.into_owned(), elided);
        let (got, _) = with_hole(&real, 5_000..real.len() - 5_000);
        assert_eq!(got, Some(expected));
    }

    #[test]
    fn a_fault_in_the_second_half_of_a_long_run_is_reported() {
        let mut real = streamed_sizes(&[1000; 1500]);
        // The identifier of a segment three quarters in becomes a BIT STRING's.
        let at = 12 + 1100 * 1004;
        assert_eq!(real[at], 0x04);
        real[at] = 0x03;
        let error = to_der_eliding_encrypted_content(&real, &Limits::default()).unwrap_err();
        assert!(matches!(error, BerError::MismatchedStringSegment { offset, .. } if offset == at));
    }
}
