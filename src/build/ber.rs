//! DER → BER with indefinite lengths, the way streaming encoders write CMS.
//!
//! `openssl cms -stream`, Thunderbird (NSS) and many gateways write the outer structure of an
//! S/MIME payload with indefinite lengths (X.690 §8.1.3.6: length octet `80`, closed by the
//! end-of-contents octets `00 00`) and the encrypted or signed content as a *constructed*
//! OCTET STRING of fixed-size chunks (X.690 §8.7.3), because they do not know the total length
//! when they start writing. Only that spine is re-encoded; RecipientInfos, algorithm
//! identifiers, certificates and signer infos stay DER, as those encoders leave them.

use crate::error::{Error, Result};
use der::asn1::AnyRef;
use der::{Decode, Encode, Reader, SliceReader, Tag, TagNumber, Tagged};

/// The size of the content chunks [`to_ber_indefinite`] writes: small ones, the worst case for a
/// reader, which must step over every chunk header.
pub const BER_CHUNK: usize = 1000;
/// The size of the content chunks `openssl cms -stream` writes (checked with OpenSSL 3.0).
pub const OPENSSL_STREAM_CHUNK: usize = 4096;
/// Largest chunk [`to_ber_indefinite_chunked`] writes: a length in at most two octets.
pub const MAX_CHUNK: usize = u16::MAX as usize;

const SEQUENCE: u8 = 0x30;
const CONSTRUCTED_OCTET_STRING: u8 = 0x24;
const OCTET_STRING: u8 = 0x04;
const CONTEXT_0_CONSTRUCTED: u8 = 0xA0;

/// Re-encodes a DER `ContentInfo` (EnvelopedData, AuthEnvelopedData or SignedData inside)
/// with indefinite lengths on the path ContentInfo → content → (Encrypted|Encapsulated)
/// ContentInfo → content, and the content split into [`BER_CHUNK`]-byte OCTET STRINGs
/// (`openssl cms -stream` writes 4096-byte ones, see [`to_ber_indefinite_chunked`]):
///
/// ```text
/// 30 80 06 09 <oid> A0 80 30 80 <version> 31 .. <recipientInfos, DER>
///       30 80 06 09 <id-data> 30 .. <algorithm, DER> A0 80 04 82 03 E8 <1000 bytes> .. 00 00
///       00 00 00 00 00 00
/// ```
///
/// Decoding the result as BER gives back the same values; a BER→DER normaliser gives back the
/// input bytes. Errors: the input is not a DER ContentInfo with a SEQUENCE inside.
pub fn to_ber_indefinite(der: &[u8]) -> Result<Vec<u8>> {
    to_ber_indefinite_chunked(der, BER_CHUNK)
}

/// [`to_ber_indefinite`] with content chunks of `chunk` bytes (clamped to 1..=[`MAX_CHUNK`]),
/// e.g. [`OPENSSL_STREAM_CHUNK`].
pub fn to_ber_indefinite_chunked(der: &[u8], chunk: usize) -> Result<Vec<u8>> {
    let chunk = chunk.clamp(1, MAX_CHUNK);
    let info = AnyRef::from_der(der).map_err(|e| ber_error(format!("not DER: {e}")))?;
    if info.tag() != Tag::Sequence {
        return Err(ber_error("a ContentInfo is a SEQUENCE".to_owned()));
    }
    // Each chunk adds at most 4 header octets.
    let mut out = Vec::with_capacity(der.len() + 4 * (der.len() / chunk + 1) + 64);
    open(&mut out, SEQUENCE);
    for child in children(info.value())? {
        if is_context_0(child.tag(), true) {
            // content [0] EXPLICIT ANY DEFINED BY contentType
            open(&mut out, CONTEXT_0_CONSTRUCTED);
            for inner in children(child.value())? {
                if inner.tag() == Tag::Sequence {
                    content_structure(&mut out, inner, chunk)?;
                } else {
                    write_der(&mut out, inner)?;
                }
            }
            close(&mut out);
        } else {
            write_der(&mut out, child)?;
        }
    }
    close(&mut out);
    Ok(out)
}

/// EnvelopedData, AuthEnvelopedData or SignedData: its only SEQUENCE child is the
/// (Encrypted|Encapsulated)ContentInfo, streamed; the rest is copied.
fn content_structure(out: &mut Vec<u8>, structure: AnyRef<'_>, chunk: usize) -> Result<()> {
    open(out, SEQUENCE);
    for child in children(structure.value())? {
        if child.tag() == Tag::Sequence {
            carried_content(out, child, chunk)?;
        } else {
            write_der(out, child)?;
        }
    }
    close(out);
    Ok(())
}

/// `EncryptedContentInfo` (RFC 5652 §6.1: `encryptedContent [0] IMPLICIT OCTET STRING`) or
/// `EncapsulatedContentInfo` (§5.2: `eContent [0] EXPLICIT OCTET STRING`).
fn carried_content(out: &mut Vec<u8>, info: AnyRef<'_>, chunk: usize) -> Result<()> {
    open(out, SEQUENCE);
    for child in children(info.value())? {
        if is_context_0(child.tag(), false) {
            // IMPLICIT: the [0] itself becomes the constructed string.
            open(out, CONTEXT_0_CONSTRUCTED);
            chunks(out, child.value(), chunk);
            close(out);
        } else if is_context_0(child.tag(), true) {
            open(out, CONTEXT_0_CONSTRUCTED);
            for inner in children(child.value())? {
                if inner.tag() == Tag::OctetString {
                    open(out, CONSTRUCTED_OCTET_STRING);
                    chunks(out, inner.value(), chunk);
                    close(out);
                } else {
                    write_der(out, inner)?;
                }
            }
            close(out);
        } else {
            write_der(out, child)?;
        }
    }
    close(out);
    Ok(())
}

fn is_context_0(tag: Tag, constructed: bool) -> bool {
    tag == Tag::ContextSpecific { constructed, number: TagNumber::N0 }
}

/// The elements inside a constructed value, in order.
fn children(value: &[u8]) -> Result<Vec<AnyRef<'_>>> {
    let mut reader =
        SliceReader::new(value).map_err(|e| ber_error(format!("element too long: {e}")))?;
    let mut list = Vec::new();
    while !reader.is_finished() {
        list.push(reader.decode().map_err(|e| ber_error(format!("not DER: {e}")))?);
    }
    Ok(list)
}

fn write_der(out: &mut Vec<u8>, element: AnyRef<'_>) -> Result<()> {
    element.encode_to_vec(out).map_err(|e| ber_error(format!("re-encoding: {e}")))?;
    Ok(())
}

fn open(out: &mut Vec<u8>, tag: u8) {
    out.extend_from_slice(&[tag, 0x80]);
}

/// End-of-contents (X.690 §8.1.5).
fn close(out: &mut Vec<u8>) {
    out.extend_from_slice(&[0, 0]);
}

/// Primitive OCTET STRINGs of at most `size` bytes each (at most [`MAX_CHUNK`]).
fn chunks(out: &mut Vec<u8>, data: &[u8], size: usize) {
    for chunk in data.chunks(size) {
        out.push(OCTET_STRING);
        // Definite length: short form below 128, else two octets (`size` ≤ MAX_CHUNK).
        match u8::try_from(chunk.len()) {
            Ok(len) if len < 0x80 => out.push(len),
            _ => {
                let len = chunk.len() as u16;
                out.push(0x82);
                out.extend_from_slice(&len.to_be_bytes());
            }
        }
        out.extend_from_slice(chunk);
    }
}

fn ber_error(reason: String) -> Error {
    Error::Cms { context: "re-encoding as BER".to_owned(), reason }
}
