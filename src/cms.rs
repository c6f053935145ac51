//! S/MIME payload inspection: who an envelope is for, how its content is encrypted, and what a
//! signature carries.
//!
//! An S/MIME body part (`application/pkcs7-mime`, `smime.p7m` / `smime.p7s`) is a CMS
//! `ContentInfo` (RFC 5652 §3) in BER:
//!
//! ```asn1
//! ContentInfo ::= SEQUENCE {
//!   contentType ContentType,
//!   content [0] EXPLICIT ANY DEFINED BY contentType }
//! ```
//!
//! [`inspect`] normalises it with [`crate::ber::to_der`], then reports
//!
//! * for EnvelopedData (RFC 5652 §6) and AuthEnvelopedData (RFC 5083): every RecipientInfo
//!   (one entry per RecipientEncryptedKey of a key-agreement recipient), the content cipher and
//!   whether encrypted content is present — see [`EnvelopeSummary`];
//! * for SignedData (RFC 5652 §5): embedded certificates and signers — see [`SignedSummary`].
//!
//! The envelope is walked element by element (the private `tlv` module) and only its small parts are decoded
//! with `der`/`cms`: the encrypted content is measured, never copied, so inspecting a large
//! message costs little more than reading it.

mod algorithms;
pub(crate) mod recipient_info;
mod tlv;
pub(crate) use tlv::recipient_infos_end;

use crate::ber::{self, BerError};
use crate::name::IssuerSerial;
use ::cms::cert::IssuerAndSerialNumber;
use ::cms::enveloped_data::{RecipientIdentifier, RecipientInfo};
use ::cms::signed_data::{SignedData, SignerIdentifier};
use base64::Engine as _;
use der::asn1::ObjectIdentifier;
use der::{Decode, Encode, Tagged};
use spki::AlgorithmIdentifierOwned;
use std::borrow::Cow;
use std::collections::HashSet;

use algorithms::{algorithm_name, content_cipher};

/// `id-signedData` (RFC 5652 §5.1).
const ID_SIGNED_DATA: &str = "1.2.840.113549.1.7.2";
/// `id-envelopedData` (RFC 5652 §6.1).
const ID_ENVELOPED_DATA: &str = "1.2.840.113549.1.7.3";
/// `id-ct-authEnvelopedData` (RFC 5083 §1.1).
const ID_CT_AUTH_ENVELOPED_DATA: &str = "1.2.840.113549.1.9.16.1.23";

/// The kind of a RecipientInfo (RFC 5652 §6.2):
///
/// ```asn1
/// RecipientInfo ::= CHOICE {
///   ktri KeyTransRecipientInfo,
///   kari [1] KeyAgreeRecipientInfo,
///   kekri [2] KEKRecipientInfo,
///   pwri [3] PasswordRecipientInfo,
///   ori [4] OtherRecipientInfo }
/// ```
///
/// Only `ktri` and `kari` name a certificate; `kekri` (a pre-shared key), `pwri` (a password)
/// and `ori` (anything else) are not certificate-bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RecipientInfoKind {
    /// Key transport (RSA), RFC 5652 §6.2.1.
    Ktri,
    /// Key agreement (ECDH), RFC 5652 §6.2.2.
    Kari,
    /// Previously distributed symmetric key, RFC 5652 §6.2.3.
    Kekri,
    /// Password, RFC 5652 §6.2.4 / RFC 3211.
    Pwri,
    /// Other recipient info, RFC 5652 §6.2.5.
    Ori,
}

impl RecipientInfoKind {
    /// Whether this kind names a recipient certificate (`ktri`, `kari`).
    pub fn is_certificate_bound(self) -> bool {
        matches!(self, RecipientInfoKind::Ktri | RecipientInfoKind::Kari)
    }
}

/// How a RecipientInfo or SignerInfo names a certificate:
///
/// ```asn1
/// RecipientIdentifier ::= CHOICE {
///   issuerAndSerialNumber IssuerAndSerialNumber,
///   subjectKeyIdentifier [0] SubjectKeyIdentifier }
/// ```
///
/// (and `KeyAgreeRecipientIdentifier` with `rKeyId`, whose SubjectKeyIdentifier is kept).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RecipientKeyId {
    /// By issuer name and serial number.
    IssuerSerial {
        /// The comparable key (issuer as a prepared name, serial as an integer).
        key: IssuerSerial,
        /// The issuer as an RFC 4514 string, for display.
        issuer: String,
        /// The serial as lower-case hex without leading zeros.
        serial_hex: String,
    },
    /// By the certificate's subjectKeyIdentifier extension value (RFC 5280 §4.2.1.2).
    SubjectKeyIdentifier(Vec<u8>),
}

/// Issuer names displayed recently, per thread: the RFC 4514 form looks every attribute type up
/// in the `const-oid` database by linear search, and a mailbox names the same few CAs again and
/// again. Keyed by the DER of the name; cleared when it grows past a bound.
const ISSUER_CACHE_MAX: usize = 4096;

thread_local! {
    static ISSUER_DISPLAY: std::cell::RefCell<std::collections::HashMap<Vec<u8>, String>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

fn issuer_display(issuer: &x509_cert::name::Name) -> String {
    let Ok(key) = issuer.to_der() else { return issuer.to_string() };
    ISSUER_DISPLAY.with(|cell| {
        let Ok(mut cache) = cell.try_borrow_mut() else { return issuer.to_string() };
        if let Some(shown) = cache.get(&key) {
            return shown.clone();
        }
        if cache.len() >= ISSUER_CACHE_MAX {
            cache.clear();
        }
        let shown = issuer.to_string();
        cache.insert(key, shown.clone());
        shown
    })
}

impl RecipientKeyId {
    fn from_issuer_serial(ias: &IssuerAndSerialNumber) -> Self {
        let key = IssuerSerial::new(&ias.issuer, &ias.serial_number);
        RecipientKeyId::IssuerSerial {
            serial_hex: key.serial_hex(),
            issuer: issuer_display(&ias.issuer),
            key,
        }
    }

    /// The part that identifies the certificate: equal for two ids that name the same
    /// certificate even if the issuer was spelled differently.
    fn match_key(&self) -> (Option<&IssuerSerial>, Option<&[u8]>) {
        match self {
            RecipientKeyId::IssuerSerial { key, .. } => (Some(key), None),
            RecipientKeyId::SubjectKeyIdentifier(ski) => (None, Some(ski)),
        }
    }
}

/// The last issuer a list of RecipientInfos named, prepared for matching and display: the
/// RecipientInfos of one envelope mostly share their issuer, and preparing the name again for
/// each was a fifth of judging a message to 20 recipients.
#[derive(Default)]
struct IssuerMemo(Option<(x509_cert::name::Name, crate::name::NameKey, String)>);

impl IssuerMemo {
    fn id(&mut self, ias: &IssuerAndSerialNumber) -> RecipientKeyId {
        if let Some((name, prepared, display)) = &self.0 {
            if *name == ias.issuer {
                let key = IssuerSerial::with_issuer_key(prepared.clone(), &ias.serial_number);
                return RecipientKeyId::IssuerSerial {
                    serial_hex: key.serial_hex(),
                    issuer: display.clone(),
                    key,
                };
            }
        }
        let id = RecipientKeyId::from_issuer_serial(ias);
        if let RecipientKeyId::IssuerSerial { issuer, key, .. } = &id {
            self.0 = Some((ias.issuer.clone(), key.issuer_key().clone(), issuer.clone()));
        }
        id
    }
}

/// One recipient of an envelope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecipientInfoSummary {
    /// Which RecipientInfo alternative.
    pub kind: RecipientInfoKind,
    /// The certificate it names; `None` for `kekri`, `pwri` and `ori`.
    pub id: Option<RecipientKeyId>,
    /// The key-encryption (or key-agreement) algorithm, e.g. `"rsaEncryption"`, `"rsaes-oaep"`,
    /// `"dhSinglePass-stdDH-sha256kdf-scheme"`, `"aes128-wrap"`, `"pwri-kek"`; for `ori`, the
    /// oriType. Unknown OIDs are given dotted.
    pub key_encryption: String,
}

/// How strong a content cipher is, by RFC 8551 §2.7.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CipherStrength {
    /// AES (CBC, GCM, CCM), ChaCha20-Poly1305, and ciphers this crate does not know.
    Strong,
    /// Triple DES: readable, but no longer to be sent.
    Weak,
    /// DES, RC2 and anything under 112 bits.
    Broken,
}

/// The content-encryption algorithm of an envelope (RFC 5652 §6.1
/// `contentEncryptionAlgorithm`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContentCipher {
    /// `"aes-128-cbc"`, `"aes-256-gcm"`, `"des-ede3-cbc"`, `"des-cbc"`, `"rc2-cbc"`, ...; the
    /// dotted OID when unknown.
    pub name: String,
    /// The algorithm OID, dotted.
    pub oid: String,
    /// The key size in bits; for RC2 the effective key bits from its parameters (RFC 3370
    /// §5.2); `None` when unknown.
    pub key_bits: Option<u32>,
    /// Strength by RFC 8551.
    pub strength: CipherStrength,
}

/// What an EnvelopedData (RFC 5652 §6.1) or AuthEnvelopedData (RFC 5083 §2.1) says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvelopeSummary {
    /// AuthEnvelopedData (RFC 5083) rather than EnvelopedData.
    pub auth_enveloped: bool,
    /// The recipients, in order; a `kari` gives one entry per RecipientEncryptedKey.
    pub recipient_infos: Vec<RecipientInfoSummary>,
    /// The content-encryption algorithm.
    pub content_cipher: ContentCipher,
    /// Length of `encryptedContent`: `None` when absent (detached), `Some(0)` when empty.
    pub encrypted_content_len: Option<u64>,
    /// The encoding used BER indefinite lengths.
    pub ber_indefinite: bool,
    /// How many entries of `recipient_infos` repeat the certificate id of an earlier entry.
    pub duplicate_recipient_infos: usize,
}

/// One signer of a SignedData (RFC 5652 §5.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignerSummary {
    /// The signer's certificate id.
    pub sid: RecipientKeyId,
    /// The digest algorithm, e.g. `"sha256"`.
    pub digest_algorithm: String,
    /// The signature algorithm, e.g. `"rsaEncryption"`, `"ecdsa-with-SHA256"`.
    pub signature_algorithm: String,
}

/// What a SignedData (RFC 5652 §5.1) carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedSummary {
    /// DER of each embedded certificate (`CertificateChoices::Certificate`), in decoded order.
    pub certificates: Vec<Vec<u8>>,
    /// The signers.
    pub signers: Vec<SignerSummary>,
    /// `eContentType`, dotted.
    pub econtent_type: String,
    /// The encapsulated content (opaque signing): the OCTET STRING's contents; `None` when
    /// detached.
    pub econtent: Option<Vec<u8>>,
    /// The parsed structure, for signature verification.
    pub signed_data: SignedData,
    /// The encoding used BER indefinite lengths.
    pub ber_indefinite: bool,
}

/// What a ContentInfo holds.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)]
pub enum CmsSummary {
    /// EnvelopedData or AuthEnvelopedData.
    Enveloped(EnvelopeSummary),
    /// SignedData (including certs-only bundles, which have no signers).
    Signed(SignedSummary),
    /// Any other content type (data, EncryptedData, CompressedData, ...), dotted.
    Other {
        /// The contentType OID, dotted.
        content_type: String,
    },
}

/// Why a CMS structure could not be inspected.
#[derive(Debug, thiserror::Error)]
pub enum CmsError {
    /// The BER framing is broken.
    #[error(transparent)]
    Ber(#[from] BerError),
    /// A CMS structure does not decode; the message names the field.
    #[error("{0}")]
    Der(String),
    /// The outer structure is not `ContentInfo ::= SEQUENCE { OBJECT IDENTIFIER, [0] EXPLICIT
    /// ANY }`.
    #[error(
        "not a CMS ContentInfo (RFC 5652 §3): expected SEQUENCE {{ contentType, [0] content }}"
    )]
    NotContentInfo,
    /// Valid CMS this crate cannot summarise.
    #[error("unsupported CMS: {0}")]
    Unsupported(String),
    /// PEM or base64 armour that does not decode.
    #[error("invalid base64/PEM: {0}")]
    Armor(String),
}

impl From<CmsError> for crate::Error {
    fn from(e: CmsError) -> Self {
        crate::Error::Cms { context: "CMS".to_owned(), reason: e.to_string() }
    }
}

/// Parses a ContentInfo (RFC 5652 §3) in BER or DER.
///
/// An envelope's encrypted content is measured, not copied, even when BER forces a rewrite.
pub fn inspect(bytes: &[u8]) -> Result<CmsSummary, CmsError> {
    let enveloped = matches!(
        peek_content_type(bytes).as_deref(),
        Some(ID_ENVELOPED_DATA | ID_CT_AUTH_ENVELOPED_DATA)
    );
    let (der, elided) = if enveloped {
        ber::to_der_eliding_encrypted_content(bytes, &ber::Limits::default())?
    } else {
        (ber::to_der(bytes)?, Vec::new())
    };
    summarise(der, &elided)
}

/// [`inspect`] of an envelope some of whose bytes are missing (`missing`: where, and how to
/// fetch the real ones): the audit skims the middle of large base64 bodies. The BER walk fetches
/// every identifier and length it reads in the hole (the segment headers of a BER ciphertext)
/// and never reads the encrypted content. `None` when the answer could depend on other missing
/// bytes (the object is not an envelope, or the hole holds more than its encrypted content and
/// segment headers), or the walk failed (perhaps on the missing bytes). Otherwise the summary
/// is exactly what [`inspect`] of the real bytes gives.
pub(crate) fn inspect_with_hole(
    bytes: &[u8],
    missing: &dyn ber::Missing,
) -> Option<Result<CmsSummary, CmsError>> {
    let enveloped = matches!(
        peek_content_type(bytes).as_deref(),
        Some(ID_ENVELOPED_DATA | ID_CT_AUTH_ENVELOPED_DATA)
    );
    if !enveloped {
        return None;
    }
    let (der, elided) =
        ber::to_der_eliding_with_hole(bytes, &ber::Limits::default(), missing).ok()??;
    Some(summarise(der, &elided))
}

fn summarise(der: ber::Der<'_>, elided: &[ber::Elided]) -> Result<CmsSummary, CmsError> {
    let indefinite = der.had_indefinite_length;
    let base: &[u8] = &der.bytes;
    let (content_type, content) = content_info(base)?;
    let envelope = |auth| {
        let len_of = |raw: &[u8]| {
            let offset = (raw.as_ptr() as usize).wrapping_sub(base.as_ptr() as usize);
            elided.iter().find(|e| e.offset == offset).map(|e| e.len)
        };
        envelope(content, auth, indefinite, &len_of).map(CmsSummary::Enveloped)
    };
    match content_type.to_string().as_str() {
        ID_ENVELOPED_DATA => envelope(false),
        ID_CT_AUTH_ENVELOPED_DATA => envelope(true),
        ID_SIGNED_DATA => signed(content, indefinite).map(CmsSummary::Signed),
        other => Ok(CmsSummary::Other { content_type: other.to_owned() }),
    }
}

/// Removes PEM (`-----BEGIN PKCS7-----`, `CMS`) or bare base64 armour, as `.p7m` files saved from
/// mail often have. Binary input (starting with a SEQUENCE, 0x30) is returned as is.
pub fn decode_armor(input: &[u8]) -> Result<Cow<'_, [u8]>, CmsError> {
    let start = input.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(input.len());
    let text = input.get(start..).unwrap_or(&[]);
    if text.first() == Some(&0x30) {
        return Ok(Cow::Borrowed(input));
    }
    if text.starts_with(b"-----BEGIN") {
        let (label, bytes) =
            pem_rfc7468::decode_vec(text).map_err(|e| CmsError::Armor(e.to_string()))?;
        return match label {
            "PKCS7" | "CMS" | "PKCS #7 SIGNED DATA" => Ok(Cow::Owned(bytes)),
            other => Err(CmsError::Armor(format!("PEM label {other:?} is not PKCS7 or CMS"))),
        };
    }
    let compact: Vec<u8> = text.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
    if compact.is_empty() {
        return Err(CmsError::Armor("empty input".into()));
    }
    base64::engine::general_purpose::STANDARD
        .decode(&compact)
        .map(Cow::Owned)
        .map_err(|e| CmsError::Armor(format!("{e} (truncated or corrupted base64?)")))
}

/// The contentType of a ContentInfo in BER, read from its first bytes without normalising: it
/// decides whether the encrypted content may be left out of the normalised copy.
fn peek_content_type(bytes: &[u8]) -> Option<String> {
    let (&tag, rest) = bytes.split_first()?;
    let (&len, rest) = rest.split_first()?;
    if tag != 0x30 {
        return None;
    }
    let rest = match len {
        0..=0x80 => rest,
        n => rest.get(usize::from(n & 0x7f)..)?,
    };
    match rest {
        [0x06, n, oid @ ..] if *n < 0x80 => {
            let oid = ObjectIdentifier::from_bytes(oid.get(..usize::from(*n))?).ok()?;
            Some(oid.to_string())
        }
        _ => None,
    }
}

/// Splits a ContentInfo into its contentType and the encoding of its content.
fn content_info(der: &[u8]) -> Result<(ObjectIdentifier, &[u8]), CmsError> {
    let mut input = der;
    let outer = tlv::next(&mut input).map_err(|_| CmsError::NotContentInfo)?;
    if outer.tag != 0x30 {
        return Err(CmsError::NotContentInfo);
    }
    let mut fields = outer.value;
    let oid = tlv::next(&mut fields).map_err(|_| CmsError::NotContentInfo)?;
    if oid.tag != 0x06 {
        return Err(CmsError::NotContentInfo);
    }
    let content_type = ObjectIdentifier::from_der(oid.raw).map_err(|_| CmsError::NotContentInfo)?;
    let wrapper = tlv::next(&mut fields).map_err(|_| CmsError::NotContentInfo)?;
    if wrapper.tag != 0xa0 || !fields.is_empty() {
        return Err(CmsError::NotContentInfo);
    }
    let mut inner = wrapper.value;
    let content = tlv::next(&mut inner).map_err(|e| der_error("ContentInfo.content", e))?;
    if !inner.is_empty() {
        return Err(CmsError::Der("ContentInfo.content: more than one element in [0]".into()));
    }
    Ok((content_type, content.raw))
}

fn der_error(context: &str, e: impl std::fmt::Display) -> CmsError {
    CmsError::Der(format!("{context}: {e}"))
}

/// Reads an EnvelopedData (RFC 5652 §6.1) or AuthEnvelopedData (RFC 5083 §2.1); both start
///
/// ```asn1
///   version CMSVersion,
///   originatorInfo [0] IMPLICIT OriginatorInfo OPTIONAL,
///   recipientInfos RecipientInfos,
///   encryptedContentInfo EncryptedContentInfo,   -- authEncryptedContentInfo
///   ...
/// ```
///
/// and what follows (attributes, the MAC) is not needed here.
///
/// `elided_len` gives the real length of an `encryptedContent [0]` the normaliser left out.
fn envelope(
    content: &[u8],
    auth_enveloped: bool,
    ber_indefinite: bool,
    elided_len: &dyn Fn(&[u8]) -> Option<u64>,
) -> Result<EnvelopeSummary, CmsError> {
    let what = if auth_enveloped { "AuthEnvelopedData" } else { "EnvelopedData" };
    let mut input = content;
    let seq = tlv::next(&mut input).map_err(|e| der_error(what, e))?;
    if seq.tag != 0x30 {
        return Err(CmsError::Der(format!("{what}: not a SEQUENCE")));
    }
    let mut fields = seq.value;
    let version = tlv::next(&mut fields).map_err(|e| der_error(what, e))?;
    if version.tag != 0x02 {
        return Err(CmsError::Der(format!("{what}.version: not an INTEGER")));
    }
    let mut next = tlv::next(&mut fields).map_err(|e| der_error(what, e))?;
    if next.tag == 0xa0 {
        next = tlv::next(&mut fields).map_err(|e| der_error(what, e))?;
    }
    if next.tag != 0x31 {
        return Err(CmsError::Der(format!("{what}.recipientInfos: not a SET")));
    }
    let recipient_infos = recipient_infos(next.value, what)?;
    let eci = tlv::next(&mut fields).map_err(|e| der_error(what, e))?;
    let (content_cipher, encrypted_content_len) = encrypted_content_info(eci, what, elided_len)?;

    let mut seen = HashSet::new();
    let duplicate_recipient_infos = recipient_infos
        .iter()
        .filter_map(|ri| ri.id.as_ref())
        .filter(|id| !seen.insert(id.match_key()))
        .count();

    Ok(EnvelopeSummary {
        auth_enveloped,
        recipient_infos,
        content_cipher,
        encrypted_content_len,
        ber_indefinite,
        duplicate_recipient_infos,
    })
}

/// Summarises each element of `RecipientInfos ::= SET SIZE (1..MAX) OF RecipientInfo`.
///
/// Elements are decoded one by one rather than as a `SET OF`, so that repeated RecipientInfos
/// are reported (the `der` crate refuses duplicates in a SET OF) and order is kept. Each is
/// decoded by [`recipient_info::RecipientInfo`], the decoder decryption uses: a kari gives one
/// summary per RecipientEncryptedKey. kekri, pwri and ori are then read with the `cms` crate
/// for their algorithm.
fn recipient_infos(set: &[u8], what: &str) -> Result<Vec<RecipientInfoSummary>, CmsError> {
    use recipient_info::{KeyAgreeRecipientIdentifier, RecipientInfo as Decoded};
    let mut out = Vec::new();
    let mut input = set;
    let mut index = 0usize;
    let mut issuers = IssuerMemo::default();
    while !input.is_empty() {
        let context = format!("{what}.recipientInfos[{index}]");
        let element = tlv::next(&mut input).map_err(|e| der_error(&context, e))?;
        index += 1;
        let ri = Decoded::from_der(element.raw).map_err(|e| {
            let kind = match element.tag {
                0x30 => " (ktri)",
                0xa1 => " (kari)",
                0xa2 => " (kekri)",
                0xa3 => " (pwri)",
                0xa4 => " (ori)",
                _ => "",
            };
            der_error(&format!("{context}{kind}"), e)
        })?;
        match ri {
            Decoded::Ktri(k) => out.push(RecipientInfoSummary {
                kind: RecipientInfoKind::Ktri,
                id: Some(match &k.rid {
                    RecipientIdentifier::IssuerAndSerialNumber(ias) => issuers.id(ias),
                    RecipientIdentifier::SubjectKeyIdentifier(ski) => {
                        RecipientKeyId::SubjectKeyIdentifier(ski.0.as_bytes().to_vec())
                    }
                }),
                key_encryption: algorithm_name(&k.key_enc_alg.oid),
            }),
            Decoded::Kari(kari) => {
                let key_encryption = algorithm_name(&kari.key_enc_alg.oid);
                out.extend(kari.recipient_enc_keys.0.iter().map(|rek| RecipientInfoSummary {
                    kind: RecipientInfoKind::Kari,
                    id: Some(match &rek.rid {
                        KeyAgreeRecipientIdentifier::IssuerAndSerialNumber(ias) => issuers.id(ias),
                        KeyAgreeRecipientIdentifier::RKeyId(r) => {
                            RecipientKeyId::SubjectKeyIdentifier(
                                r.subject_key_identifier.0.as_bytes().to_vec(),
                            )
                        }
                    }),
                    key_encryption: key_encryption.clone(),
                }));
            }
            Decoded::Kekri(_) | Decoded::Pwri(_) | Decoded::Ori(_) => {
                out.push(not_certificate_bound(element.raw, &context)?)
            }
        }
    }
    if index == 0 {
        return Err(CmsError::Der(format!(
            "{what}.recipientInfos: empty (RFC 5652 §6.1 requires at least one)"
        )));
    }
    Ok(out)
}

/// The algorithm of a kekri, pwri or ori (whose kari alternative the `cms` crate cannot decode,
/// see [`recipient_info`]; it is never asked to here).
fn not_certificate_bound(raw: &[u8], context: &str) -> Result<RecipientInfoSummary, CmsError> {
    match RecipientInfo::from_der(raw).map_err(|e| der_error(context, e))? {
        RecipientInfo::Kekri(k) => Ok(not_bound(RecipientInfoKind::Kekri, &k.key_enc_alg)),
        RecipientInfo::Pwri(p) => Ok(not_bound(RecipientInfoKind::Pwri, &p.key_enc_alg)),
        RecipientInfo::Ori(o) => Ok(RecipientInfoSummary {
            kind: RecipientInfoKind::Ori,
            id: None,
            key_encryption: algorithm_name(&o.ori_type),
        }),
        RecipientInfo::Ktri(_) | RecipientInfo::Kari(_) => {
            Err(CmsError::Der(format!("{context}: not a kekri, pwri or ori")))
        }
    }
}

fn not_bound(kind: RecipientInfoKind, alg: &AlgorithmIdentifierOwned) -> RecipientInfoSummary {
    RecipientInfoSummary { kind, id: None, key_encryption: algorithm_name(&alg.oid) }
}

/// Reads an EncryptedContentInfo (RFC 5652 §6.1) without copying the encrypted content:
///
/// ```asn1
/// EncryptedContentInfo ::= SEQUENCE {
///   contentType ContentType,
///   contentEncryptionAlgorithm ContentEncryptionAlgorithmIdentifier,
///   encryptedContent [0] IMPLICIT EncryptedContent OPTIONAL }
/// ```
fn encrypted_content_info(
    eci: tlv::Tlv<'_>,
    what: &str,
    elided_len: &dyn Fn(&[u8]) -> Option<u64>,
) -> Result<(ContentCipher, Option<u64>), CmsError> {
    let context = format!("{what}.encryptedContentInfo");
    if eci.tag != 0x30 {
        return Err(CmsError::Der(format!("{context}: not a SEQUENCE")));
    }
    let mut fields = eci.value;
    let content_type = tlv::next(&mut fields).map_err(|e| der_error(&context, e))?;
    if content_type.tag != 0x06 {
        return Err(CmsError::Der(format!("{context}.contentType: not an OBJECT IDENTIFIER")));
    }
    let alg = tlv::next(&mut fields).map_err(|e| der_error(&context, e))?;
    let alg = AlgorithmIdentifierOwned::from_der(alg.raw)
        .map_err(|e| der_error(&format!("{context}.contentEncryptionAlgorithm"), e))?;
    let cipher = content_cipher(&alg)?;
    let len = if fields.is_empty() {
        None
    } else {
        let content = tlv::next(&mut fields).map_err(|e| der_error(&context, e))?;
        if content.tag != 0x80 || !fields.is_empty() {
            return Err(CmsError::Der(format!(
                "{context}: expected encryptedContent [0] IMPLICIT OCTET STRING, found tag 0x{:02x}",
                content.tag
            )));
        }
        Some(elided_len(content.raw).unwrap_or(content.value.len() as u64))
    };
    Ok((cipher, len))
}

/// Reads a SignedData (RFC 5652 §5.1) with the `cms` crate.
fn signed(content: &[u8], ber_indefinite: bool) -> Result<SignedSummary, CmsError> {
    let sd = SignedData::from_der(content).map_err(|e| der_error("SignedData", e))?;
    let mut certificates = Vec::new();
    if let Some(set) = &sd.certificates {
        for choice in set.0.iter() {
            if let ::cms::cert::CertificateChoices::Certificate(cert) = choice {
                certificates
                    .push(cert.to_der().map_err(|e| der_error("SignedData.certificates", e))?);
            }
        }
    }
    let signers = sd
        .signer_infos
        .0
        .iter()
        .map(|si| SignerSummary {
            sid: match &si.sid {
                SignerIdentifier::IssuerAndSerialNumber(ias) => {
                    RecipientKeyId::from_issuer_serial(ias)
                }
                SignerIdentifier::SubjectKeyIdentifier(ski) => {
                    RecipientKeyId::SubjectKeyIdentifier(ski.0.as_bytes().to_vec())
                }
            },
            digest_algorithm: algorithm_name(&si.digest_alg.oid),
            signature_algorithm: algorithm_name(&si.signature_algorithm.oid),
        })
        .collect();
    let econtent = match &sd.encap_content_info.econtent {
        None => None,
        // eContent is an OCTET STRING (RFC 5652 §5.2); PKCS #7 v1.5 allowed any type, whose
        // encoding is then kept whole.
        Some(any) if any.tag() == der::Tag::OctetString => Some(any.value().to_vec()),
        Some(any) => Some(any.to_der().map_err(|e| der_error("SignedData.eContent", e))?),
    };
    Ok(SignedSummary {
        certificates,
        signers,
        econtent_type: sd.encap_content_info.econtent_type.to_string(),
        econtent,
        signed_data: sd,
        ber_indefinite,
    })
}
