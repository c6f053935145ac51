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

/// [`to_der_eliding_encrypted_content`] over an input whose bytes in `hole` are unknown (the
/// audit's skimmed base64 bodies). `Ok(None)` unless the hole lies wholly inside the content of
/// an elided `encryptedContent [0]` (or of one of its segments): content that is measured, never
/// read, so only then is the result that of the real bytes. An error may come from the unknown
/// bytes: the caller must not report it but look at the real bytes.
pub(crate) fn to_der_eliding_with_hole<'a>(
    input: &'a [u8],
    limits: &Limits,
    hole: std::ops::Range<usize>,
) -> Result<Option<(Der<'a>, Vec<Elided>)>, BerError> {
    let (der, elided, covered) = normalise(input, limits, true, Some(&hole))?;
    Ok(covered.then_some((der, elided)))
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
    hole: Option<&std::ops::Range<usize>>,
) -> Result<(Der<'a>, Vec<Elided>, bool), BerError> {
    // Pass 1 validates and measures: the DER content length of every constructed element, in
    // document order.
    let mut measure = Measure::default();
    let flags = walk(input, limits, elide, hole, &mut measure)?;
    if !flags.rewrite_needed() {
        let der = Der {
            bytes: Cow::Borrowed(input),
            had_indefinite_length: false,
            had_constructed_string: false,
        };
        return Ok((der, Vec::new(), flags.hole_covered));
    }
    // Pass 2 writes, taking each constructed element's length from pass 1.
    let mut emit = Emit {
        out: Vec::with_capacity(measure.total),
        lengths: measure.lengths.into_iter(),
        elided_lengths: measure.elided.into_iter(),
        elided: Vec::new(),
        bits_patches: Vec::new(),
    };
    walk(input, limits, elide, hole, &mut emit)?;
    let der = Der {
        bytes: Cow::Owned(emit.out),
        had_indefinite_length: flags.indefinite,
        had_constructed_string: flags.merged_string,
    };
    Ok((der, emit.elided, flags.hole_covered))
}

/// What a walk found that DER does not allow.
#[derive(Default)]
struct Flags {
    indefinite: bool,
    merged_string: bool,
    long_length: bool,
    /// The caller's hole lies inside content that is measured, never read.
    hole_covered: bool,
}

impl Flags {
    fn rewrite_needed(&self) -> bool {
        self.indefinite || self.merged_string || self.long_length
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
    hole: Option<&std::ops::Range<usize>>,
    sink: &mut impl Sink,
) -> Result<Flags, BerError> {
    let mut flags = Flags::default();
    let mut stack: Vec<Frame> = Vec::new();
    let mut pos = 0usize;
    let mut elements = 0usize;
    let mut top_done = false;

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
                    if input.get(pos) == Some(&0) {
                        if pos + 2 > frame.limit {
                            return Err(BerError::Truncated {
                                offset: pos,
                                what: "end-of-contents cut short",
                            });
                        }
                        if input.get(pos + 1) != Some(&0) {
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
        let (tag, after_tag) = read_tag(input, pos, limit)?;
        let (length, after_len, long) = read_length(input, after_tag, limit, offset)?;
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
            if parent_merge == Some(StringKind::Bits) {
                let unused = check_bit_segment(content, offset, parent_offset)?;
                if let Some(parent) = stack.last_mut() {
                    parent.bits_unused = unused;
                }
            }
            let elided_root = elide
                && encrypted_content_slot
                && tag.class == CONTEXT
                && tag.number == 0
                && parent_merge.is_none();
            let unread = elided_root || parent_merge == Some(StringKind::Elided);
            if unread && hole.is_some_and(|h| h.start >= after_len && h.end <= after_len + len) {
                flags.hole_covered = true;
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
        self.lengths.push(0);
        if merge == Some(StringKind::Elided) && !in_merge {
            self.elided.push(0);
        }
        // A merged BIT STRING starts with its unused-bits octet.
        let initial = usize::from(merge == Some(StringKind::Bits) && !in_merge);
        self.open.push((self.lengths.len() - 1, tag.bytes.len(), initial, in_merge));
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
        let len = self.lengths.next().unwrap_or(0);
        if in_merge {
            return;
        }
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
}
