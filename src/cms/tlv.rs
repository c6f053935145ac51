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
