//! Walking DER elements without decoding (or copying) their contents.
//!
//! Used to step over the parts of an envelope this crate does not need — above all the
//! encrypted content, which may be megabytes — while the small parts are decoded with `der`.

/// One DER element: its first identifier octet, contents and whole encoding.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tlv<'a> {
    /// The first identifier octet (class, constructed bit, low tag number).
    pub tag: u8,
    /// The contents octets.
    pub value: &'a [u8],
    /// The whole encoding: identifier, length and contents.
    pub raw: &'a [u8],
}

/// Splits the next element off the front of `input`. Expects DER framing (definite lengths), as
/// [`crate::ber::to_der`] produces; says what is wrong otherwise.
pub(crate) fn next<'a>(input: &mut &'a [u8]) -> Result<Tlv<'a>, String> {
    let buf: &'a [u8] = input;
    let (&tag, rest) = buf.split_first().ok_or("missing element")?;
    let mut header = 1usize;
    if tag & 0x1f == 0x1f {
        // High tag number: skip the base-128 octets.
        let more = rest.iter().position(|b| b & 0x80 == 0).ok_or("truncated tag")?;
        header += more + 1;
    }
    let first = *buf.get(header).ok_or("truncated length")?;
    header += 1;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 8 {
            return Err("unsupported length".into());
        }
        let octets = buf.get(header..header + count).ok_or("truncated length")?;
        header += count;
        let value = octets.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        usize::try_from(value).map_err(|_| "length too large")?
    };
    let end = header.checked_add(len).ok_or("length too large")?;
    let raw = buf.get(..end).ok_or("length beyond input")?;
    let value = raw.get(header..).ok_or("length beyond input")?;
    *input = buf.get(end..).unwrap_or(&[]);
    Ok(Tlv { tag, value, raw })
}

/// An element's header: first identifier octet, header length, and content length (`None` for
/// BER's indefinite length).
fn header(buf: &[u8]) -> Option<(u8, usize, Option<usize>)> {
    let (&tag, _) = buf.split_first()?;
    if tag & 0x1f == 0x1f {
        return None;
    }
    let first = *buf.get(1)?;
    if first < 0x80 {
        return Some((tag, 2, Some(usize::from(first))));
    }
    if first == 0x80 {
        return Some((tag, 2, None));
    }
    let count = usize::from(first & 0x7f);
    let octets = buf.get(2..2 + count).filter(|_| count <= 4)?;
    let len = octets.iter().fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
    Some((tag, 2 + count, Some(len)))
}

/// Where the RecipientInfos of an EnvelopedData or AuthEnvelopedData end, read from the first
/// bytes of its ContentInfo (DER or BER; `None` when they cannot tell, e.g. an indefinite
/// length on the RecipientInfos themselves):
///
/// ```asn1
/// ContentInfo ::= SEQUENCE { contentType OID, content [0] EXPLICIT
///   EnvelopedData ::= SEQUENCE { version, originatorInfo [0] IMPLICIT OPTIONAL,
///     recipientInfos SET OF RecipientInfo, ... } }
/// ```
///
/// Only headers and the two small elements before the set are read, so a head of a few hundred
/// bytes says how much of a large envelope the inspection needs decoded.
pub(crate) fn recipient_infos_end(head: &[u8]) -> Option<usize> {
    let mut at = 0;
    // ContentInfo SEQUENCE, then its contentType.
    let (tag, h, _) = header(head.get(at..)?)?;
    (tag == 0x30).then_some(())?;
    at += h;
    let (tag, h, len) = header(head.get(at..)?)?;
    (tag == 0x06).then_some(())?;
    at += h + len?;
    // [0] EXPLICIT, then the EnvelopedData SEQUENCE.
    for expected in [0xa0, 0x30] {
        let (tag, h, _) = header(head.get(at..)?)?;
        (tag == expected).then_some(())?;
        at += h;
    }
    // version INTEGER, optional originatorInfo [0].
    let (tag, h, len) = header(head.get(at..)?)?;
    (tag == 0x02).then_some(())?;
    at += h + len?;
    let (mut tag, mut h, mut len) = header(head.get(at..)?)?;
    if tag == 0xa0 {
        at += h + len?;
        (tag, h, len) = header(head.get(at..)?)?;
    }
    (tag == 0x31).then_some(())?;
    at.checked_add(h)?.checked_add(len?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipient_infos_end_in_der_ber_and_nonsense() {
        // SEQ { OID, [0] { SEQ { INTEGER 2, SET (3 bytes) } } }, in DER and with BER's
        // indefinite lengths on the outer constructions.
        let der = [
            0x30, 0x11, 0x06, 0x03, 1, 2, 3, 0xa0, 0x0a, 0x30, 0x08, 0x02, 0x01, 0x02, 0x31, 0x03,
            9, 9, 9,
        ];
        assert_eq!(recipient_infos_end(&der), Some(19));
        let ber = [
            0x30, 0x80, 0x06, 0x03, 1, 2, 3, 0xa0, 0x80, 0x30, 0x80, 0x02, 0x01, 0x02, 0x31, 0x82,
            0x01, 0x00,
        ];
        assert_eq!(recipient_infos_end(&ber), Some(18 + 256));
        // originatorInfo before the set.
        let with_originator = [
            0x30, 0x80, 0x06, 0x01, 1, 0xa0, 0x80, 0x30, 0x80, 0x02, 0x01, 0, 0xa0, 0x02, 5, 5,
            0x31, 0x01, 7,
        ];
        assert_eq!(recipient_infos_end(&with_originator), Some(19));
        // An indefinite set, a wrong tag, a cut head.
        assert_eq!(
            recipient_infos_end(&[
                0x30, 0x80, 0x06, 0x01, 1, 0xa0, 0x80, 0x30, 0x80, 0x02, 0x01, 0, 0x31, 0x80
            ]),
            None
        );
        assert_eq!(recipient_infos_end(&[0x31, 0x00]), None);
        assert_eq!(recipient_infos_end(&der[..12]), None);
    }
}
