//! MIME assembly for built messages: plain string building, CRLF line ends, base64 in 76-column
//! lines (RFC 2045 §6.8), deterministic for given inputs.
//!
//! An *entity* here is a MIME entity: its `Content-*` header lines, an empty line, its body
//! (RFC 2045 §2.4). A *message* is header fields followed by `MIME-Version` and an entity.
//! Header values are written as given: keep them ASCII (or encode them with RFC 2047 first).

use crate::Time;
use base64::Engine;
use rand::RngCore;

/// Header fields in the order they are written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Headers {
    fields: Vec<(String, String)>,
}

impl Headers {
    /// No fields.
    pub fn new() -> Headers {
        Headers::default()
    }

    /// Adds a field (builder style).
    pub fn with(mut self, name: &str, value: &str) -> Headers {
        self.push(name, value);
        self
    }

    /// Adds a field.
    pub fn push(&mut self, name: &str, value: &str) {
        self.fields.push((name.to_owned(), value.to_owned()));
    }

    /// The fields, in order.
    pub fn fields(&self) -> &[(String, String)] {
        &self.fields
    }

    /// Writes the fields with CRLF line ends. A field longer than 78 characters is folded at
    /// its spaces (RFC 5322 §2.2.3), so long address lists and References stay readable;
    /// unfolding gives the value back.
    pub fn write(&self, out: &mut Vec<u8>) {
        for (name, value) in &self.fields {
            out.extend_from_slice(name.as_bytes());
            out.push(b':');
            let mut line_len = name.len() + 1;
            for (i, word) in value.split(' ').enumerate() {
                if i > 0 && line_len + 1 + word.len() > 78 {
                    out.extend_from_slice(b"\r\n");
                    line_len = 0;
                }
                out.push(b' ');
                out.extend_from_slice(word.as_bytes());
                line_len += 1 + word.len();
            }
            out.extend_from_slice(b"\r\n");
        }
    }
}

/// The `smime-type` parameter of application/pkcs7-mime (RFC 8551 §3.2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmimeType {
    /// `enveloped-data`: EnvelopedData.
    EnvelopedData,
    /// `authEnveloped-data`: AuthEnvelopedData (RFC 8551 §3.2.2).
    AuthEnvelopedData,
    /// `signed-data`: SignedData with the content inside (opaque signing).
    SignedData,
}

impl SmimeType {
    /// The parameter value.
    pub fn as_str(self) -> &'static str {
        match self {
            SmimeType::EnvelopedData => "enveloped-data",
            SmimeType::AuthEnvelopedData => "authEnveloped-data",
            SmimeType::SignedData => "signed-data",
        }
    }
}

/// `data` in base64, 76 characters a line, each line ending in CRLF (RFC 2045 §6.8).
pub fn base64_lines(data: &[u8]) -> Vec<u8> {
    // 57 input bytes make exactly 76 characters.
    let mut text = String::with_capacity(data.len() / 57 * 78 + 80);
    for chunk in data.chunks(57) {
        base64::engine::general_purpose::STANDARD.encode_string(chunk, &mut text);
        text.push_str("\r\n");
    }
    text.into_bytes()
}

/// An S/MIME payload as the whole entity, the way mail clients send it:
///
/// ```text
/// Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m
/// Content-Transfer-Encoding: base64
/// Content-Disposition: attachment; filename=smime.p7m
/// ```
///
/// `der` may be BER as well ([`super::to_ber_indefinite`]); it is only base64-encoded.
pub fn pkcs7_mime_entity(der: &[u8], smime_type: SmimeType) -> Vec<u8> {
    let description = match smime_type {
        SmimeType::SignedData => "S/MIME Signed Message",
        SmimeType::EnvelopedData | SmimeType::AuthEnvelopedData => "S/MIME Encrypted Message",
    };
    let mut out = format!(
        "Content-Type: application/pkcs7-mime; smime-type={}; name=smime.p7m\r\n\
         Content-Transfer-Encoding: base64\r\n\
         Content-Disposition: attachment; filename=smime.p7m\r\n\
         Content-Description: {description}\r\n\r\n",
        smime_type.as_str()
    )
    .into_bytes();
    out.extend_from_slice(&base64_lines(der));
    out
}

/// A text/plain entity in UTF-8. Line ends are made CRLF; the transfer encoding is 7bit for
/// ASCII text and 8bit otherwise.
pub fn text_entity(text: &str) -> Vec<u8> {
    let encoding = if text.is_ascii() { "7bit" } else { "8bit" };
    let mut out = format!(
        "Content-Type: text/plain; charset=utf-8; format=flowed\r\n\
         Content-Transfer-Encoding: {encoding}\r\n\r\n"
    )
    .into_bytes();
    out.extend_from_slice(&crlf(text));
    out
}

/// A text entity (`text/plain`, `text/html`, ...) in UTF-8 with quoted-printable transfer
/// encoding (RFC 2045 §6.7), as Outlook and Apple Mail write bodies with long lines or
/// non-ASCII text: `=XX` for bytes outside printable ASCII and for `=`, soft line breaks (`=`
/// at the end of a line) keeping lines within 76 characters, hard line breaks as CRLF, and
/// white space before a line break encoded.
pub fn quoted_printable_entity(subtype: &str, text: &str) -> Vec<u8> {
    let mut out = format!(
        "Content-Type: text/{subtype}; charset=utf-8\r\n\
         Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    )
    .into_bytes();
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.extend_from_slice(b"\r\n");
        }
        let line = line.strip_suffix('\r').unwrap_or(line).as_bytes();
        let mut column = 0;
        for (j, &b) in line.iter().enumerate() {
            let last = j + 1 == line.len();
            let literal =
                (b == b' ' || b == b'\t') && !last || (33..=126).contains(&b) && b != b'=';
            let width = if literal { 1 } else { 3 };
            // A soft break leaves room for the `=` that ends the line.
            if column + width > 75 {
                out.extend_from_slice(b"=\r\n");
                column = 0;
            }
            if literal {
                out.push(b);
            } else {
                out.extend_from_slice(format!("={b:02X}").as_bytes());
            }
            column += width;
        }
    }
    out
}

/// A file attached with base64: `Content-Type: TYPE; name="FILE"` and
/// `Content-Disposition: attachment; filename="FILE"`.
pub fn attachment_entity(content_type: &str, filename: &str, data: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "Content-Type: {content_type}; name=\"{filename}\"\r\n\
         Content-Transfer-Encoding: base64\r\n\
         Content-Disposition: attachment; filename=\"{filename}\"\r\n\r\n"
    )
    .into_bytes();
    out.extend_from_slice(&base64_lines(data));
    out
}

/// A whole message attached as `message/rfc822` (as forwarding, and Exchange's SmartReply,
/// attach the original).
pub fn rfc822_entity(message: &[u8], filename: &str) -> Vec<u8> {
    let mut out = format!(
        "Content-Type: message/rfc822; name=\"{filename}\"\r\n\
         Content-Disposition: attachment; filename=\"{filename}\"\r\n\r\n"
    )
    .into_bytes();
    out.extend_from_slice(message);
    out
}

/// `multipart/SUBTYPE` with the given parts (each an entity), delimited by `boundary`
/// (RFC 2046 §5.1.1). The caller makes sure the boundary occurs in no part; [`boundary`]
/// makes random ones.
pub fn multipart(subtype: &str, boundary: &str, parts: &[&[u8]]) -> Vec<u8> {
    let mut out = format!(
        "Content-Type: multipart/{subtype}; boundary=\"{boundary}\"\r\n\r\n\
         This is a multi-part message in MIME format.\r\n"
    )
    .into_bytes();
    push_parts(&mut out, boundary, parts);
    out
}

/// multipart/signed (RFC 8551 §3.5.3; RFC 1847): `entity` as the first part, exactly as
/// given (it is what `signature_der` signs), and the detached SignedData as
/// application/pkcs7-signature.
pub fn multipart_signed(entity: &[u8], signature_der: &[u8], boundary: &str) -> Vec<u8> {
    let mut out = format!(
        "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; \
         micalg=sha-256;\r\n boundary=\"{boundary}\"\r\n\r\n\
         This is a cryptographically signed message in MIME format.\r\n\r\n"
    )
    .into_bytes();
    let mut signature = b"Content-Type: application/pkcs7-signature; name=smime.p7s\r\n\
        Content-Transfer-Encoding: base64\r\n\
        Content-Disposition: attachment; filename=smime.p7s\r\n\
        Content-Description: S/MIME Cryptographic Signature\r\n\r\n"
        .to_vec();
    signature.extend_from_slice(&base64_lines(signature_der));
    push_parts(&mut out, boundary, &[entity, &signature]);
    out
}

/// What Exchange makes of an encrypted reply sent with ActiveSync `SmartReply` (iOS 5 and
/// Exchange 2010): multipart/mixed of an empty text/plain body, the client's S/MIME payload
/// as an `smime.p7m` attachment, and, if given, the original message as message/rfc822.
/// Readers show a blank reply with an attachment they may not be able to open.
pub fn smartreply_mangled(envelope_der: &[u8], original: Option<&[u8]>, boundary: &str) -> Vec<u8> {
    let body = text_entity("");
    let payload = pkcs7_mime_entity(envelope_der, SmimeType::EnvelopedData);
    let attached = original.map(|o| rfc822_entity(o, "original.eml"));
    let mut parts: Vec<&[u8]> = vec![&body, &payload];
    if let Some(attached) = &attached {
        parts.push(attached);
    }
    multipart("mixed", boundary, &parts)
}

/// A message: `headers`, `MIME-Version: 1.0`, then `entity` (whose `Content-*` fields
/// complete the header section).
pub fn message(headers: &Headers, entity: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(entity.len() + 1024);
    headers.write(&mut out);
    out.extend_from_slice(b"MIME-Version: 1.0\r\n");
    out.extend_from_slice(entity);
    out
}

/// [`message`] around [`pkcs7_mime_entity`]: a complete S/MIME message.
pub fn pkcs7_mime_message(headers: &Headers, der: &[u8], smime_type: SmimeType) -> Vec<u8> {
    message(headers, &pkcs7_mime_entity(der, smime_type))
}

/// A random MIME boundary, e.g. `----=_Part_1f0c9d4b122a1f0c` (never occurs in base64 or in
/// the text this module writes, which has no `=_` sequence).
pub fn boundary<R: RngCore>(rng: &mut R) -> String {
    format!("----=_Part_{:016x}", rng.next_u64())
}

/// `time` as an RFC 5322 §3.3 date-time in the zone `offset_minutes` east of UTC, e.g.
/// `Mon, 01 Jun 2026 02:00:00 +0200`.
pub fn rfc5322_date(time: Time, offset_minutes: i32) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let local = time.unix().saturating_add(i64::from(offset_minutes) * 60);
    let days = local.div_euclid(86_400);
    let secs = local.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    // 1970-01-01 was a Thursday.
    let weekday = DAYS.get(days.rem_euclid(7) as usize).copied().unwrap_or("Thu");
    let month_name = MONTHS.get(month.saturating_sub(1) as usize).copied().unwrap_or("Jan");
    let sign = if offset_minutes < 0 { '-' } else { '+' };
    let offset = offset_minutes.unsigned_abs();
    format!(
        "{weekday}, {day:02} {month_name} {year} {:02}:{:02}:{:02} {sign}{:02}{:02}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60,
        offset / 60,
        offset % 60
    )
}

/// (year, month 1..=12, day 1..=31) of a day count since 1970-01-01, proleptic Gregorian
/// (H. Hinnant, "chrono-Compatible Low-Level Date Algorithms").
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn push_parts(out: &mut Vec<u8>, boundary: &str, parts: &[&[u8]]) {
    for part in parts {
        out.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        out.extend_from_slice(part);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
}

/// Text with every line end made CRLF.
fn crlf(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + text.len() / 40);
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(line.strip_suffix('\r').unwrap_or(line).as_bytes());
    }
    out
}
