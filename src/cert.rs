//! One X.509 certificate, parsed once, with everything encryptability and indexing need
//! precomputed.
//!
//! ```asn1
//! Certificate  ::=  SEQUENCE  {
//!      tbsCertificate       TBSCertificate,
//!      signatureAlgorithm   AlgorithmIdentifier,
//!      signatureValue       BIT STRING  }                  -- RFC 5280 §4.1
//! ```
//!
//! A certificate names its e-mail addresses in three places, all of which count:
//!
//! * `rfc822Name` entries of subjectAltName (RFC 5280 §4.2.1.6, RFC 8550 §3);
//! * `SmtpUTF8Mailbox` otherName entries of subjectAltName (RFC 9598 §3):
//!   `SmtpUTF8Mailbox ::= UTF8String (SIZE (1..MAX))`, type-id `id-on-SmtpUTF8Mailbox`
//!   (1.3.6.1.5.5.7.8.9);
//! * the legacy `emailAddress` attribute of the subject (PKCS #9, 1.2.840.113549.1.9.1,
//!   `IA5String`), which RFC 8550 §3 still allows receivers to honour.
//!
//! Entries that are not addresses are skipped: a certificate is not malformed because one of
//! its names is.
//!
//! Loading walks the DER with borrowed types (`AnyRef`, `IntRef`, `SubjectPublicKeyInfoRef`, …)
//! instead of decoding x509-cert's owned `Certificate`, which allocates for every name,
//! attribute and extension only for most of it to be dropped: a store keeps the DER and decodes
//! it again on first use of [`Certificate::x509`]. The walk checks what x509-cert's decoder
//! checks — every TLV of the RFC 5280 structure well-formed and fully consumed, nothing after
//! the certificate, field tags and order, serial of at most 21 octets, times, a SET in a Name
//! not holding the same attribute twice — and decodes fully only the extensions kept here.
//! The trade-off: an odd corner the walk and x509-cert judge differently would surface as an
//! `Err` from [`Certificate::x509`] (and `None`/error text from the getters built on it) rather
//! than at load; a test holds the two to agreement on mutated certificates.

use crate::address::Address;
use crate::certs::serial_hash;
use crate::error::Error;
use crate::name::{name_display, serial_hex, IssuerSerial};
use crate::time::Time;
use const_oid::ObjectIdentifier;
use der::asn1::{
    AnyRef, BitStringRef, ContextSpecific, IntRef, ObjectIdentifier as Oid, OctetStringRef, UintRef,
};
use der::{Decode, Length, Reader, Tag, TagNumber, Tagged};
use sha2::{Digest, Sha256};
use spki::{AlgorithmIdentifierRef, SubjectPublicKeyInfoRef};
use std::fmt;
use std::path::PathBuf;
use std::sync::OnceLock;
use x509_cert::certificate::Version;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, NameConstraints,
    SubjectAltName, SubjectKeyIdentifier,
};
use x509_cert::time::Validity;

/// Object identifiers this module reads.
pub(crate) mod oid {
    use const_oid::ObjectIdentifier as Oid;

    /// id-ce-subjectAltName (RFC 5280 §4.2.1.6).
    pub const SUBJECT_ALT_NAME: Oid = Oid::new_unwrap("2.5.29.17");
    /// id-ce-basicConstraints (RFC 5280 §4.2.1.9).
    pub const BASIC_CONSTRAINTS: Oid = Oid::new_unwrap("2.5.29.19");
    /// id-ce-keyUsage (RFC 5280 §4.2.1.3).
    pub const KEY_USAGE: Oid = Oid::new_unwrap("2.5.29.15");
    /// id-ce-extKeyUsage (RFC 5280 §4.2.1.12).
    pub const EXT_KEY_USAGE: Oid = Oid::new_unwrap("2.5.29.37");
    /// id-ce-subjectKeyIdentifier (RFC 5280 §4.2.1.2).
    pub const SUBJECT_KEY_IDENTIFIER: Oid = Oid::new_unwrap("2.5.29.14");
    /// id-ce-authorityKeyIdentifier (RFC 5280 §4.2.1.1).
    pub const AUTHORITY_KEY_IDENTIFIER: Oid = Oid::new_unwrap("2.5.29.35");
    /// id-ce-nameConstraints (RFC 5280 §4.2.1.10).
    pub const NAME_CONSTRAINTS: Oid = Oid::new_unwrap("2.5.29.30");
    /// id-ce-cRLDistributionPoints (RFC 5280 §4.2.1.13).
    pub const CRL_DISTRIBUTION_POINTS: Oid = Oid::new_unwrap("2.5.29.31");
    /// id-ce-certificatePolicies (RFC 5280 §4.2.1.4).
    pub const CERTIFICATE_POLICIES: Oid = Oid::new_unwrap("2.5.29.32");
    /// id-kp-emailProtection (RFC 5280 §4.2.1.12).
    pub const KP_EMAIL_PROTECTION: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.4");
    /// anyExtendedKeyUsage (RFC 5280 §4.2.1.12).
    pub const ANY_EXTENDED_KEY_USAGE: Oid = Oid::new_unwrap("2.5.29.37.0");
    /// id-on-SmtpUTF8Mailbox (RFC 9598 §3).
    pub const SMTP_UTF8_MAILBOX: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.8.9");
    /// pkcs-9-at-emailAddress (RFC 2985 §5.2.1).
    pub const EMAIL_ADDRESS: Oid = Oid::new_unwrap("1.2.840.113549.1.9.1");
    /// rsaEncryption (RFC 8017 Appendix C).
    pub const RSA_ENCRYPTION: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
    /// id-RSASSA-PSS (RFC 8017 Appendix C).
    pub const RSASSA_PSS: Oid = Oid::new_unwrap("1.2.840.113549.1.1.10");
    /// id-ecPublicKey (RFC 5480 §2.1.1).
    pub const EC_PUBLIC_KEY: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
    /// secp256r1 / P-256 (RFC 5480 §2.1.1.1).
    pub const SECP256R1: Oid = Oid::new_unwrap("1.2.840.10045.3.1.7");
    /// secp384r1 / P-384 (RFC 5480 §2.1.1.1).
    pub const SECP384R1: Oid = Oid::new_unwrap("1.3.132.0.34");
    /// secp521r1 / P-521 (RFC 5480 §2.1.1.1).
    pub const SECP521R1: Oid = Oid::new_unwrap("1.3.132.0.35");
    /// id-X25519 (RFC 8410 §3).
    pub const X25519: Oid = Oid::new_unwrap("1.3.101.110");
    /// id-X448 (RFC 8410 §3).
    pub const X448: Oid = Oid::new_unwrap("1.3.101.111");
    /// id-Ed25519 (RFC 8410 §3).
    pub const ED25519: Oid = Oid::new_unwrap("1.3.101.112");
    /// id-Ed448 (RFC 8410 §3).
    pub const ED448: Oid = Oid::new_unwrap("1.3.101.113");
    /// id-dsa (RFC 3279 §2.3.2).
    pub const DSA: Oid = Oid::new_unwrap("1.2.840.10040.4.1");
    /// dhpublicnumber (RFC 3279 §2.3.3).
    pub const DH: Oid = Oid::new_unwrap("1.2.840.10046.2.1");
}

/// The extensions this crate understands, so that marking them critical does not make a
/// certificate unusable (RFC 5280 §4.2: "A certificate-using system MUST reject the certificate
/// if it encounters a critical extension it does not recognize"). certificatePolicies is
/// understood as a path validation with `user-initial-policy-set` anyPolicy and no explicit
/// policy required does (RFC 5280 §6.1.1): it never makes a path invalid. cRLDistributionPoints
/// is understood (its form is checked by nothing here; revocation is not checked at all, see
/// the README). policyConstraints, policyMappings and inhibitAnyPolicy are *not* processed, so a
/// certificate marking them critical (RFC 5280 says they MUST or SHOULD be) is refused: that
/// fails closed where a full policy engine might accept.
pub const UNDERSTOOD_EXTENSIONS: [ObjectIdentifier; 9] = [
    oid::SUBJECT_ALT_NAME,
    oid::BASIC_CONSTRAINTS,
    oid::KEY_USAGE,
    oid::EXT_KEY_USAGE,
    oid::SUBJECT_KEY_IDENTIFIER,
    oid::AUTHORITY_KEY_IDENTIFIER,
    oid::NAME_CONSTRAINTS,
    oid::CRL_DISTRIBUTION_POINTS,
    oid::CERTIFICATE_POLICIES,
];

/// Where in the certificate an address was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AddressSource {
    /// An `rfc822Name` subjectAltName entry (RFC 5280 §4.2.1.6).
    Rfc822Name,
    /// An `SmtpUTF8Mailbox` otherName subjectAltName entry (RFC 9598).
    SmtpUtf8Mailbox,
    /// The legacy `emailAddress` attribute of the subject, and no subjectAltName entry names the
    /// address.
    SubjectEmail,
}

impl AddressSource {
    /// A short name for display: `rfc822Name`, `SmtpUTF8Mailbox` or `emailAddress`.
    pub fn as_str(self) -> &'static str {
        match self {
            AddressSource::Rfc822Name => "rfc822Name",
            AddressSource::SmtpUtf8Mailbox => "SmtpUTF8Mailbox",
            AddressSource::SubjectEmail => "emailAddress",
        }
    }

    /// Whether the address came from subjectAltName (the place RFC 8550 §3 asks for).
    pub fn is_subject_alt_name(self) -> bool {
        !matches!(self, AddressSource::SubjectEmail)
    }
}

/// One address a certificate names, normalised, with where it was found.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NamedAddress {
    /// The normalised address.
    pub address: Address,
    /// The best place it was found (subjectAltName over the subject).
    pub source: AddressSource,
}

/// The kind and size of the subject public key (RFC 5280 §4.1.2.7).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// `rsaEncryption` (RFC 8017), with the modulus length in bits.
    Rsa { bits: u32 },
    /// `id-ecPublicKey` on a named NIST curve (RFC 5480): `"P-256"`, `"P-384"` or `"P-521"`.
    Ec { curve: &'static str, bits: u32 },
    /// Anything else: `"Ed25519"`, `"Ed448"`, `"X25519"`, `"X448"`, `"DSA"`, `"DH"`,
    /// `"RSASSA-PSS"` (a signature-only RSA key), `"EC <curve OID>"` for other curves, or the
    /// dotted algorithm OID.
    Other { algorithm: String },
}

impl KeyKind {
    /// Approximate security strength in bits, to compare keys of different kinds
    /// (NIST SP 800-57 Part 1 Rev. 5, Table 2): RSA 1024 → 80, 2048 → 112, 3072 → 128,
    /// 7680 → 192, 15360 → 256 (in between: the lower step); EC → half the field size
    /// (P-256 → 128, P-384 → 192, P-521 → 260). So RSA 3072 ranks equal to P-256. Keys this
    /// crate cannot encrypt to rank 0.
    pub fn security_bits(&self) -> u32 {
        match self {
            KeyKind::Rsa { bits } => rsa_security_bits(*bits),
            KeyKind::Ec { bits, .. } => bits / 2,
            KeyKind::Other { .. } => 0,
        }
    }
}

/// NIST SP 800-57 steps; below 1024 bits scaled linearly under 80 so the order stays monotonic.
fn rsa_security_bits(bits: u32) -> u32 {
    const STEPS: [(u32, u32); 5] =
        [(15360, 256), (7680, 192), (3072, 128), (2048, 112), (1024, 80)];
    STEPS
        .iter()
        .find(|(modulus, _)| bits >= *modulus)
        .map_or_else(|| bits.saturating_mul(80) / 1024, |(_, strength)| *strength)
}

impl fmt::Display for KeyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyKind::Rsa { bits } => write!(f, "RSA {bits}"),
            KeyKind::Ec { curve, .. } => write!(f, "EC {curve}"),
            KeyKind::Other { algorithm } => f.write_str(algorithm),
        }
    }
}

/// Whether a certificate harvested from signed mail is bound to an address it names.
///
/// A binding is per address: signed mail from `mallory@evil.test` whose certificate also names
/// `alice@victim.org` binds it to mallory's address only. What a binding proves: the sender of
/// that mail holds the certificate's private key. What it does not prove: that the mail came
/// from the address in its From header (headers are easy to forge) — for that, the certificate
/// must chain to a trust anchor (`--trust`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum HarvestBinding {
    /// A signer's signature verified with this certificate, its keyUsage allows signing, and
    /// it names the From address of the mail: bound to these From addresses (one per signed
    /// message it came in from a different address), and to no other address it names.
    Verified {
        /// The From addresses of the signed mail that bound it.
        senders: Vec<Address>,
    },
    /// It did not bind to any address; the text says why.
    Unverified(String),
}

/// Where a certificate came from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Provenance {
    /// Loaded from this file (PEM, DER or PKCS #7 bundle).
    File(PathBuf),
    /// Taken from a signed message (its path or Message-ID in `message`).
    Harvested { message: String, binding: HarvestBinding },
    /// Given in memory; the text names it.
    Inline(String),
}

impl Provenance {
    /// The path or message, as the JSON `source` field shows it.
    pub fn label(&self) -> String {
        match self {
            Provenance::File(path) => path.display().to_string(),
            Provenance::Harvested { message, .. } => message.clone(),
            Provenance::Inline(name) => name.clone(),
        }
    }

    /// `true` for a harvested certificate whose binding to its address is not proven.
    pub fn is_unverified_harvest(&self) -> bool {
        matches!(self, Provenance::Harvested { binding: HarvestBinding::Unverified(_), .. })
    }

    /// The provenance of one certificate that arrived twice: a loaded (file or in-memory) copy
    /// wins over any harvest; two harvests bind the union of their From addresses; a verified
    /// harvest wins over an unverified one. `None`: `self` stays as it is.
    pub(crate) fn merged_with(&self, other: &Provenance) -> Option<Provenance> {
        use HarvestBinding::{Unverified, Verified};
        match (self, other) {
            (Provenance::Harvested { .. }, Provenance::File(_) | Provenance::Inline(_)) => {
                Some(other.clone())
            }
            (
                Provenance::Harvested { binding: Unverified(_), .. },
                Provenance::Harvested { binding: Verified { .. }, .. },
            ) => Some(other.clone()),
            (
                Provenance::Harvested { message, binding: Verified { senders } },
                Provenance::Harvested { binding: Verified { senders: more }, .. },
            ) if more.iter().any(|a| !senders.contains(a)) => {
                let mut senders = senders.clone();
                senders.extend(
                    more.iter().filter(|a| !senders.contains(a)).cloned().collect::<Vec<_>>(),
                );
                Some(Provenance::Harvested {
                    message: message.clone(),
                    binding: Verified { senders },
                })
            }
            _ => None,
        }
    }
}

/// The keyUsage extension (RFC 5280 §4.2.1.3) and whether it was marked critical.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyUsageExt {
    /// The bits asserted.
    pub usage: KeyUsage,
    /// The extension's critical flag.
    pub critical: bool,
}

/// A parsed certificate. Checked and read at load; the getters are cheap, except that the first
/// call to [`x509`](Self::x509) (or a getter built on it: names, serial) decodes the DER again.
#[derive(Clone, Debug)]
pub struct Certificate {
    der: Vec<u8>,
    tbs: std::ops::Range<usize>,
    /// Decoded again on first use: decoded, a certificate takes about three times the memory of
    /// its DER (dozens of small allocations), and most certificates of a large store are only
    /// ever looked up through the fields below. Boxed: the store moves certificates around.
    x509: OnceLock<Box<x509_cert::Certificate>>,
    /// [`crate::certs::serial_hash`] of the serial, for the store's issuer-and-serial index:
    /// computed while parsing (in parallel) rather than while indexing.
    serial_hash: u64,
    sha256: [u8; 32],
    /// Computed on first use: most certificates of a large store are never printed.
    sha256_hex: OnceLock<String>,
    addresses: Vec<NamedAddress>,
    /// Computed on first use: preparing the issuer name costs more than the rest of the
    /// indexing, and the store indexes by serial first (see `CertStore::by_issuer_serial`).
    issuer_serial: OnceLock<IssuerSerial>,
    ski: Option<Vec<u8>>,
    aki: Option<Vec<u8>>,
    not_before: Time,
    not_after: Time,
    key: KeyKind,
    provenance: Provenance,
    basic_constraints: Option<BasicConstraints>,
    key_usage: Option<KeyUsageExt>,
    extended_key_usage: Option<Vec<ObjectIdentifier>>,
    /// Critical extensions not in [`UNDERSTOOD_EXTENSIONS`], in certificate order.
    unknown_critical: Box<[ObjectIdentifier]>,
    /// Boxed: only CA certificates carry it.
    name_constraints: Option<Box<NameConstraints>>,
    /// subjectAltName holds at least one rfc822Name or SmtpUTF8Mailbox entry (parseable or not).
    san_mailbox: bool,
    /// Computed on first use (a signature check): see [`Certificate::is_self_signed`].
    self_signed: OnceLock<bool>,
}

impl Certificate {
    /// Parses one DER certificate. Fails with [`Error::Certificate`] (context: the provenance
    /// label) when the bytes are not a certificate or an extension this crate reads is malformed.
    pub fn from_der(der: &[u8], provenance: Provenance) -> Result<Certificate, Error> {
        Self::from_der_vec(der.to_vec(), provenance)
    }

    /// As [`from_der`](Self::from_der), taking ownership of the bytes.
    pub fn from_der_vec(der: Vec<u8>, provenance: Provenance) -> Result<Certificate, Error> {
        let fail = |reason: String| Error::Certificate { context: provenance.label(), reason };
        let not_x509 = |e: der::Error| fail(format!("not an X.509 certificate: {e}"));
        // A borrowed walk: the whole structure is checked here, but nothing is built that the
        // certificate does not keep (see the module documentation).
        let (tbs_range, tbs_der) = split_certificate(&der).map_err(not_x509)?;
        let tbs = Tbs::read(tbs_der).map_err(|e| match e {
            TbsError::Der(e) => not_x509(e),
            TbsError::Extension(reason) => fail(reason),
        })?;
        let sha256: [u8; 32] = Sha256::digest(&der).into();
        Ok(Certificate {
            issuer_serial: OnceLock::new(),
            not_before: to_time(tbs.validity.not_before),
            not_after: to_time(tbs.validity.not_after),
            sha256_hex: OnceLock::new(),
            sha256,
            addresses: tbs.parts.addresses,
            ski: tbs.parts.ski,
            aki: tbs.parts.aki,
            key: tbs.key,
            basic_constraints: tbs.parts.basic_constraints,
            key_usage: tbs.parts.key_usage,
            extended_key_usage: tbs.parts.extended_key_usage,
            unknown_critical: tbs.parts.unknown_critical.into_boxed_slice(),
            name_constraints: tbs.parts.name_constraints.map(Box::new),
            san_mailbox: tbs.parts.san_mailbox,
            self_signed: OnceLock::new(),
            serial_hash: tbs.serial_hash,
            der,
            tbs: tbs_range,
            x509: OnceLock::new(),
            provenance,
        })
    }

    /// The DER encoding, as loaded.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The DER of `tbsCertificate`, as loaded: the bytes the issuer signed.
    pub fn tbs_der(&self) -> &[u8] {
        self.der.get(self.tbs.clone()).unwrap_or_default()
    }

    /// The parsed structure, decoded again on first use and kept (a store of 100,000
    /// certificates holds half the memory when the decoded form is not kept for all of them).
    /// These bytes decoded when the certificate was made, so this does not fail in practice;
    /// it is still a `Result` rather than a panic on input.
    pub fn x509(&self) -> Result<&x509_cert::Certificate, Error> {
        if let Some(x509) = self.x509.get() {
            return Ok(x509);
        }
        let decoded =
            x509_cert::Certificate::from_der(&self.der).map_err(|e| Error::Certificate {
                context: self.provenance.label(),
                reason: format!("the certificate no longer decodes: {e}"),
            })?;
        let _ = self.x509.set(Box::new(decoded)); // another thread may have set the same value
        self.x509.get().map(|b| &**b).ok_or_else(|| Error::Certificate {
            context: self.provenance.label(),
            reason: "the decoded certificate was not kept".into(),
        })
    }

    /// Hash of the serial for the store's issuer-and-serial index.
    pub(crate) fn serial_hash(&self) -> u64 {
        self.serial_hash
    }

    /// SHA-256 of the DER encoding.
    pub fn sha256(&self) -> &[u8; 32] {
        &self.sha256
    }

    /// SHA-256 of the DER encoding, lower-case hex (the JSON `sha256` field).
    pub fn sha256_hex(&self) -> &str {
        self.sha256_hex.get_or_init(|| hex::encode(self.sha256))
    }

    /// Every address the certificate names, normalised and deduplicated, subjectAltName entries
    /// first (in certificate order), then subject emailAddress values no SAN entry repeats.
    pub fn addresses(&self) -> &[NamedAddress] {
        &self.addresses
    }

    /// Where the certificate names `address`, if it does (subjectAltName wins over subject).
    pub fn names(&self, address: &Address) -> Option<AddressSource> {
        self.addresses.iter().find(|n| &n.address == address).map(|n| n.source)
    }

    /// Issuer and serial, compared as RFC 5652 `IssuerAndSerialNumber` is matched (`None` only
    /// if the certificate no longer decodes, see [`Certificate::x509`]).
    pub fn issuer_serial(&self) -> Option<&IssuerSerial> {
        if let Some(key) = self.issuer_serial.get() {
            return Some(key);
        }
        let tbs = &self.x509().ok()?.tbs_certificate;
        Some(self.issuer_serial.get_or_init(|| IssuerSerial::new(&tbs.issuer, &tbs.serial_number)))
    }

    /// The issuer as an RFC 4514 string.
    pub fn issuer_display(&self) -> String {
        self.x509().map_or_else(|e| e.to_string(), |x| name_display(&x.tbs_certificate.issuer))
    }

    /// The subject as an RFC 4514 string.
    pub fn subject_display(&self) -> String {
        self.x509().map_or_else(|e| e.to_string(), |x| name_display(&x.tbs_certificate.subject))
    }

    /// The serial number as lower-case hex without leading zeros.
    pub fn serial_hex(&self) -> String {
        self.x509().map_or_else(
            |e| e.to_string(),
            |x| serial_hex(x.tbs_certificate.serial_number.as_bytes()),
        )
    }

    /// The subjectKeyIdentifier extension's value (RFC 5280 §4.2.1.2), if present.
    pub fn subject_key_identifier(&self) -> Option<&[u8]> {
        self.ski.as_deref()
    }

    /// The keyIdentifier of the authorityKeyIdentifier extension (RFC 5280 §4.2.1.1), if
    /// present.
    pub fn authority_key_identifier(&self) -> Option<&[u8]> {
        self.aki.as_deref()
    }

    /// Start of the validity period.
    pub fn not_before(&self) -> Time {
        self.not_before
    }

    /// End of the validity period (inclusive, RFC 5280 §4.1.2.5).
    pub fn not_after(&self) -> Time {
        self.not_after
    }

    /// The subject public key's kind and size.
    pub fn key(&self) -> &KeyKind {
        &self.key
    }

    /// Where the certificate came from.
    pub fn provenance(&self) -> &Provenance {
        &self.provenance
    }

    /// Replaces the provenance (the store upgrades an unverified harvested copy).
    pub(crate) fn set_provenance(&mut self, provenance: Provenance) {
        self.provenance = provenance;
    }

    /// basicConstraints `cA` is TRUE (RFC 5280 §4.2.1.9).
    pub fn is_ca(&self) -> bool {
        self.basic_constraints.as_ref().is_some_and(|b| b.ca)
    }

    /// The basicConstraints extension, if present.
    pub fn basic_constraints(&self) -> Option<&BasicConstraints> {
        self.basic_constraints.as_ref()
    }

    /// The keyUsage extension, if present.
    pub fn key_usage(&self) -> Option<KeyUsageExt> {
        self.key_usage
    }

    /// The key purposes of the extendedKeyUsage extension, if present.
    pub fn extended_key_usage(&self) -> Option<&[ObjectIdentifier]> {
        self.extended_key_usage.as_deref()
    }

    /// Whether extendedKeyUsage, when present, allows e-mail protection: it lists
    /// id-kp-emailProtection or anyExtendedKeyUsage (RFC 5280 §4.2.1.12, RFC 8550 §4.4.4).
    pub fn eku_allows_email(&self) -> bool {
        self.extended_key_usage().is_none_or(|purposes| {
            purposes
                .iter()
                .any(|p| *p == oid::KP_EMAIL_PROTECTION || *p == oid::ANY_EXTENDED_KEY_USAGE)
        })
    }

    /// A CA certificate: basicConstraints `cA` TRUE, or keyUsage keyCertSign (RFC 5280
    /// §4.2.1.3: keyCertSign is for keys that verify certificate signatures, and then `cA` MUST
    /// be TRUE). Such a certificate is not an end entity's, whatever else it names.
    pub fn is_ca_certificate(&self) -> bool {
        self.is_ca() || self.key_usage.is_some_and(|ku| ku.usage.key_cert_sign())
    }

    /// Extensions marked critical that this crate does not understand (see
    /// [`UNDERSTOOD_EXTENSIONS`]); RFC 5280 §4.2 says such a certificate MUST be rejected.
    pub fn unknown_critical_extensions(&self) -> &[ObjectIdentifier] {
        &self.unknown_critical
    }

    /// The nameConstraints extension (RFC 5280 §4.2.1.10), if present.
    pub fn name_constraints(&self) -> Option<&NameConstraints> {
        self.name_constraints.as_deref()
    }

    /// Whether subjectAltName holds any rfc822Name or SmtpUTF8Mailbox entry. With such entries,
    /// a subject emailAddress that none of them repeats is contradicted, not a legacy spelling
    /// (RFC 5280 §4.1.2.6, CA/Browser Forum S/MIME BR §7.1.4.2.2).
    pub fn has_san_mailbox(&self) -> bool {
        self.san_mailbox
    }

    /// Self-issued (subject and issuer are the same Name, RFC 5280 §6.1) and its signature
    /// verifies with its own key: "self-signed" in RFC 5280 §3.2's sense. Computed once.
    pub fn is_self_signed(&self) -> bool {
        *self.self_signed.get_or_init(|| {
            let Ok(x509) = self.x509() else { return false };
            let tbs = &x509.tbs_certificate;
            crate::name::NameKey::new(&tbs.subject) == crate::name::NameKey::new(&tbs.issuer)
                && crate::signature::verify_signature(
                    &tbs.subject_public_key_info,
                    &x509.signature_algorithm,
                    None,
                    self.tbs_der(),
                    x509.signature.raw_bytes(),
                )
                .is_ok()
        })
    }
}

/// What the certificate keeps of its extensions and subject.
#[derive(Default)]
struct Parts {
    addresses: Vec<NamedAddress>,
    ski: Option<Vec<u8>>,
    aki: Option<Vec<u8>>,
    basic_constraints: Option<BasicConstraints>,
    key_usage: Option<KeyUsageExt>,
    extended_key_usage: Option<Vec<ObjectIdentifier>>,
    unknown_critical: Vec<ObjectIdentifier>,
    name_constraints: Option<NameConstraints>,
    san_mailbox: bool,
}

impl Parts {
    /// Reads one extension if it is one the certificate model keeps.
    fn add_extension(&mut self, id: Oid, critical: bool, value: &[u8]) -> Result<(), String> {
        let bad = |what: &str, e: der::Error| format!("malformed {what} extension: {e}");
        match id {
            oid::SUBJECT_ALT_NAME => {
                let san = SubjectAltName::from_der(value).map_err(|e| bad("subjectAltName", e))?;
                self.add_san(&san);
            }
            oid::BASIC_CONSTRAINTS => {
                self.basic_constraints = Some(
                    BasicConstraints::from_der(value).map_err(|e| bad("basicConstraints", e))?,
                );
            }
            oid::KEY_USAGE => {
                let usage = KeyUsage::from_der(value).map_err(|e| bad("keyUsage", e))?;
                self.key_usage = Some(KeyUsageExt { usage, critical });
            }
            oid::EXT_KEY_USAGE => {
                let eku =
                    ExtendedKeyUsage::from_der(value).map_err(|e| bad("extendedKeyUsage", e))?;
                self.extended_key_usage = Some(eku.0);
            }
            oid::SUBJECT_KEY_IDENTIFIER => {
                let ski = SubjectKeyIdentifier::from_der(value)
                    .map_err(|e| bad("subjectKeyIdentifier", e))?;
                self.ski = Some(ski.0.as_bytes().to_vec());
            }
            oid::AUTHORITY_KEY_IDENTIFIER => {
                let aki = AuthorityKeyIdentifier::from_der(value)
                    .map_err(|e| bad("authorityKeyIdentifier", e))?;
                self.aki = aki.key_identifier.map(|k| k.as_bytes().to_vec());
            }
            oid::NAME_CONSTRAINTS => {
                self.name_constraints =
                    Some(NameConstraints::from_der(value).map_err(|e| bad("nameConstraints", e))?);
            }
            _ => {}
        }
        if critical && !UNDERSTOOD_EXTENSIONS.contains(&id) {
            self.unknown_critical.push(id);
        }
        Ok(())
    }

    fn add_san(&mut self, san: &SubjectAltName) {
        for name in &san.0 {
            match name {
                GeneralName::Rfc822Name(mailbox) => {
                    self.san_mailbox = true;
                    self.push(mailbox.as_str(), AddressSource::Rfc822Name);
                }
                // RFC 9598 §3: the value is a UTF8String; anything else is not a mailbox.
                GeneralName::OtherName(other)
                    if other.type_id == oid::SMTP_UTF8_MAILBOX
                        && other.value.tag() == Tag::Utf8String =>
                {
                    self.san_mailbox = true;
                    if let Ok(text) = std::str::from_utf8(other.value.value()) {
                        self.push(text, AddressSource::SmtpUtf8Mailbox);
                    }
                }
                _ => {}
            }
        }
    }

    /// Takes a subject `emailAddress` attribute's value, if that is what `id` names.
    fn add_subject_attribute(&mut self, id: Oid, value: AnyRef<'_>) {
        if id != oid::EMAIL_ADDRESS {
            return;
        }
        // IA5String per PKCS #9; some issuers use UTF8String or PrintableString.
        if matches!(value.tag(), Tag::Ia5String | Tag::Utf8String | Tag::PrintableString) {
            if let Ok(text) = std::str::from_utf8(value.value()) {
                self.push(text, AddressSource::SubjectEmail);
            }
        }
    }

    /// Adds an address unless it does not parse or is already there (SAN entries come first, so
    /// an address in both places keeps its SAN source).
    fn push(&mut self, text: &str, source: AddressSource) {
        let Ok(address) = Address::parse(text) else { return };
        if !self.addresses.iter().any(|n| n.address == address) {
            self.addresses.push(NamedAddress { address, source });
        }
    }
}

/// Reads the key kind and size from SubjectPublicKeyInfo (RFC 5280 §4.1.2.7).
fn key_kind(spki: &SubjectPublicKeyInfoRef<'_>) -> Result<KeyKind, String> {
    let algorithm = spki.algorithm.oid;
    Ok(match algorithm {
        oid::RSA_ENCRYPTION => {
            let key = spki
                .subject_public_key
                .as_bytes()
                .ok_or_else(|| "malformed RSA public key: unused bits".to_owned())?;
            let bits =
                rsa_modulus_bits(key).map_err(|e| format!("malformed RSA public key: {e}"))?;
            KeyKind::Rsa { bits }
        }
        oid::EC_PUBLIC_KEY => {
            // ECParameters ::= CHOICE { namedCurve OBJECT IDENTIFIER, ... } (RFC 5480 §2.1.1):
            // only named curves are allowed in PKIX.
            let curve = spki.algorithm.parameters.as_ref().and_then(|p| p.decode_as::<Oid>().ok());
            match curve {
                Some(oid::SECP256R1) => KeyKind::Ec { curve: "P-256", bits: 256 },
                Some(oid::SECP384R1) => KeyKind::Ec { curve: "P-384", bits: 384 },
                Some(oid::SECP521R1) => KeyKind::Ec { curve: "P-521", bits: 521 },
                Some(other) => KeyKind::Other { algorithm: format!("EC {other}") },
                None => KeyKind::Other { algorithm: "EC (unnamed curve)".to_owned() },
            }
        }
        oid::RSASSA_PSS => KeyKind::Other { algorithm: "RSASSA-PSS".to_owned() },
        oid::ED25519 => KeyKind::Other { algorithm: "Ed25519".to_owned() },
        oid::ED448 => KeyKind::Other { algorithm: "Ed448".to_owned() },
        oid::X25519 => KeyKind::Other { algorithm: "X25519".to_owned() },
        oid::X448 => KeyKind::Other { algorithm: "X448".to_owned() },
        oid::DSA => KeyKind::Other { algorithm: "DSA".to_owned() },
        oid::DH => KeyKind::Other { algorithm: "DH".to_owned() },
        other => KeyKind::Other { algorithm: other.to_string() },
    })
}

/// Modulus length of `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }`
/// (RFC 8017 Appendix A.1.1).
fn rsa_modulus_bits(bytes: &[u8]) -> Result<u32, der::Error> {
    let mut reader = der::SliceReader::new(bytes)?;
    let bits = reader.sequence(|r| {
        let modulus = UintRef::decode(r)?;
        let _exponent = UintRef::decode(r)?;
        Ok(bit_length(modulus.as_bytes()))
    })?;
    reader.finish(bits)
}

/// Checks the outer `Certificate` SEQUENCE (and that nothing follows it) and returns where
/// `tbsCertificate` lies in the DER, with its bytes. The signature algorithm and value are
/// checked for form only: loading does not verify signatures.
fn split_certificate(der: &[u8]) -> Result<(std::ops::Range<usize>, &[u8]), der::Error> {
    use der::Encode;
    let mut reader = der::SliceReader::new(der)?;
    let outer = der::Header::decode(&mut reader)?;
    outer.tag.assert_eq(Tag::Sequence)?;
    let start = usize::try_from(outer.encoded_len()?)?;
    let tbs = reader.read_nested(outer.length, |r| {
        let tbs = r.tlv_bytes()?;
        let _signature_algorithm = AlgorithmIdentifierRef::decode(r)?;
        let _signature = BitStringRef::decode(r)?;
        Ok(tbs)
    })?;
    let tbs = reader.finish(tbs)?;
    Ok((start..start.saturating_add(tbs.len()), tbs))
}

/// Why a `tbsCertificate` was refused.
enum TbsError {
    /// Not DER of the RFC 5280 structure.
    Der(der::Error),
    /// Well-formed, but an extension the certificate model reads is not.
    Extension(String),
}

impl From<der::Error> for TbsError {
    fn from(e: der::Error) -> TbsError {
        TbsError::Der(e)
    }
}

/// What the certificate keeps of its `tbsCertificate` (RFC 5280 §4.1):
///
/// ```asn1
/// TBSCertificate  ::=  SEQUENCE  {
///      version         [0]  EXPLICIT Version DEFAULT v1,
///      serialNumber         CertificateSerialNumber,
///      signature            AlgorithmIdentifier,
///      issuer               Name,
///      validity             Validity,
///      subject              Name,
///      subjectPublicKeyInfo SubjectPublicKeyInfo,
///      issuerUniqueID  [1]  IMPLICIT UniqueIdentifier OPTIONAL,
///      subjectUniqueID [2]  IMPLICIT UniqueIdentifier OPTIONAL,
///      extensions      [3]  EXPLICIT Extensions OPTIONAL }
/// ```
struct Tbs {
    serial_hash: u64,
    validity: Validity,
    key: KeyKind,
    parts: Parts,
}

impl Tbs {
    /// Walks the DER of a `tbsCertificate` with borrowed types, checking every field as
    /// x509-cert's `TbsCertificate` decoder does and decoding only the extensions kept.
    fn read(der: &[u8]) -> Result<Tbs, TbsError> {
        let mut parts = Parts::default();
        let mut reader = der::SliceReader::new(der)?;
        let fields = reader.sequence(|r| {
            let _version = ContextSpecific::<Version>::decode_explicit(r, TagNumber::N0)?;
            let serial = IntRef::decode(r)?;
            // x509-cert's RFC 5280 profile: up to 20 octets, 21 with a sign octet.
            if serial.len() > Length::new(21) {
                return Err(Tag::Integer.value_error());
            }
            let _signature = AlgorithmIdentifierRef::decode(r)?;
            read_name(r, |_, _| {})?;
            let validity = Validity::decode(r)?;
            read_name(r, |id, value| parts.add_subject_attribute(id, value))?;
            let spki = SubjectPublicKeyInfoRef::decode(r)?;
            let _issuer_uid =
                ContextSpecific::<BitStringRef<'_>>::decode_implicit(r, TagNumber::N1)?;
            let _subject_uid =
                ContextSpecific::<BitStringRef<'_>>::decode_implicit(r, TagNumber::N2)?;
            let extensions = ContextSpecific::<AnyRef<'_>>::decode_explicit(r, TagNumber::N3)?;
            Ok((serial, validity, spki, extensions.map(|e| e.value)))
        })?;
        let (serial, validity, spki, extensions) = reader.finish(fields)?;
        if let Some(extensions) = extensions {
            read_extensions(extensions, &mut parts)?;
        }
        Ok(Tbs {
            serial_hash: serial_hash(&serial_hex(serial.as_bytes())),
            validity,
            key: key_kind(&spki).map_err(TbsError::Extension)?,
            parts,
        })
    }
}

/// `Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension`, where
/// `Extension ::= SEQUENCE { extnID OBJECT IDENTIFIER, critical BOOLEAN DEFAULT FALSE,
/// extnValue OCTET STRING }` (RFC 5280 §4.1.2.9).
fn read_extensions(extensions: AnyRef<'_>, parts: &mut Parts) -> Result<(), TbsError> {
    extensions.tag().assert_eq(Tag::Sequence)?;
    let mut reader = der::SliceReader::new(extensions.value())?;
    let mut seen: Vec<Oid> = Vec::new();
    while !reader.is_finished() {
        let (id, critical, value) = reader.sequence(|r| {
            let id = Oid::decode(r)?;
            let critical = Option::<bool>::decode(r)?.unwrap_or(false);
            let value = OctetStringRef::decode(r)?;
            Ok((id, critical, value))
        })?;
        // RFC 5280 §4.2: "A certificate MUST NOT include more than one instance of a
        // particular extension." Two readers could otherwise see two different answers.
        if seen.contains(&id) {
            return Err(TbsError::Extension(format!("extension {id} appears twice")));
        }
        seen.push(id);
        parts.add_extension(id, critical, value.as_bytes()).map_err(TbsError::Extension)?;
    }
    Ok(())
}

/// Walks a `Name` (RFC 5280 §4.1.2.4) without building it, handing each attribute to `each`:
///
/// ```asn1
/// Name ::= CHOICE { rdnSequence  RDNSequence }
/// RDNSequence ::= SEQUENCE OF RelativeDistinguishedName
/// RelativeDistinguishedName ::= SET SIZE (1..MAX) OF AttributeTypeAndValue
/// AttributeTypeAndValue ::= SEQUENCE { type AttributeType, value AttributeValue }
/// ```
///
/// As x509-cert's `SetOfVec`, a SET that holds the same attribute twice is refused (out of order
/// is not: x509-cert sorts it).
fn read_name<'a, R: Reader<'a>>(
    reader: &mut R,
    mut each: impl FnMut(Oid, AnyRef<'a>),
) -> der::Result<()> {
    reader.sequence(|rdns| {
        while !rdns.is_finished() {
            let set = AnyRef::decode(rdns)?;
            set.tag().assert_eq(Tag::Set)?;
            let mut atvs = der::SliceReader::new(set.value())?;
            while !atvs.is_finished() {
                let atv = atvs.tlv_bytes()?;
                let (id, value) = der::SliceReader::new(atv)?
                    .sequence(|r| Ok((Oid::decode(r)?, AnyRef::decode(r)?)))?;
                if atv_repeats(set.value(), atv)? {
                    return Err(der::ErrorKind::SetDuplicate.into());
                }
                each(id, value);
            }
        }
        Ok(())
    })
}

/// Whether `atv` occurs in `set` more than once (an RDN rarely holds more than one attribute,
/// so scanning beats allocating).
fn atv_repeats(set: &[u8], atv: &[u8]) -> der::Result<bool> {
    let mut reader = der::SliceReader::new(set)?;
    let mut count = 0;
    while !reader.is_finished() {
        if reader.tlv_bytes()? == atv {
            count += 1;
        }
    }
    Ok(count > 1)
}

/// Bits in a big-endian magnitude (leading zero octets already stripped by `UintRef`).
fn bit_length(magnitude: &[u8]) -> u32 {
    let Some((first, rest)) = magnitude.split_first() else { return 0 };
    let rest_bits = u32::try_from(rest.len()).unwrap_or(u32::MAX / 8).saturating_mul(8);
    rest_bits.saturating_add(8 - first.leading_zeros())
}

/// x509-cert times are already checked to be representable; out-of-range values saturate.
fn to_time(time: x509_cert::time::Time) -> Time {
    Time::from_unix(i64::try_from(time.to_unix_duration().as_secs()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case(KeyKind::Rsa { bits: 1024 }, 80)]
    #[case(KeyKind::Rsa { bits: 2048 }, 112)]
    #[case(KeyKind::Rsa { bits: 3072 }, 128)]
    #[case(KeyKind::Rsa { bits: 4096 }, 128)]
    #[case(KeyKind::Rsa { bits: 512 }, 40)]
    #[case(KeyKind::Ec { curve: "P-256", bits: 256 }, 128)]
    #[case(KeyKind::Ec { curve: "P-384", bits: 384 }, 192)]
    #[case(KeyKind::Other { algorithm: "Ed25519".into() }, 0)]
    fn security_bits_follow_sp800_57(#[case] key: KeyKind, #[case] bits: u32) {
        assert_eq!(key.security_bits(), bits);
    }

    #[test]
    fn bit_length_counts_the_top_octet() {
        assert_eq!(bit_length(&[]), 0);
        assert_eq!(bit_length(&[1]), 1);
        assert_eq!(bit_length(&[0x80, 0]), 16);
        assert_eq!(bit_length(&[0x7f, 0, 0]), 23);
    }

    #[test]
    fn the_decoded_structure_waits_for_first_use_and_matches_the_der() {
        use der::Encode;
        let der = bob();
        let cert = Certificate::from_der(&der, Provenance::Inline("bob.der".into())).unwrap();
        assert!(cert.x509.get().is_none(), "a large store keeps only the DER");
        assert_eq!(cert.serial_hash(), serial_hash(&cert.serial_hex()));
        assert_eq!(cert.x509().unwrap().to_der().unwrap(), der);
        assert!(cert.x509.get().is_some());
    }

    fn bob() -> Vec<u8> {
        std::fs::read("testdata/certs/bundles/bob.der").unwrap()
    }

    #[test]
    fn trailing_data_after_the_certificate_is_refused() {
        let mut der = bob();
        der.push(0);
        assert!(Certificate::from_der(&der, Provenance::Inline("bob".into())).is_err());
    }

    #[test]
    fn a_name_set_holding_one_attribute_twice_is_refused_as_x509_cert_does() {
        // A Name with one RDN whose SET holds CN=a twice: x509-cert refuses it (SetDuplicate).
        let atv = [0x30, 0x08, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x01, b'a'];
        let mut set = vec![0x31, 20];
        set.extend_from_slice(&atv);
        set.extend_from_slice(&atv);
        let mut name = vec![0x30, 22];
        name.extend_from_slice(&set);
        let mut reader = der::SliceReader::new(&name).unwrap();
        assert!(read_name(&mut reader, |_, _| {}).is_err());
        assert!(<x509_cert::name::Name as Decode>::from_der(&name).is_err());
        // The same attribute once is fine.
        let mut once = vec![0x30, 12, 0x31, 10];
        once.extend_from_slice(&atv);
        let mut seen = 0;
        let mut reader = der::SliceReader::new(&once).unwrap();
        read_name(&mut reader, |id, _| seen += usize::from(id == Oid::new_unwrap("2.5.4.3")))
            .unwrap();
        assert_eq!(seen, 1);
    }

    proptest::proptest! {
        /// The load-time walk never accepts what x509-cert's full decode refuses, so
        /// [`Certificate::x509`] does not fail on a certificate that loaded.
        #[test]
        fn what_loads_also_decodes_in_full(index in 0usize..2048, byte in proptest::num::u8::ANY) {
            let mut der = bob();
            let len = der.len();
            if let Some(b) = der.get_mut(index % len) {
                *b = byte;
            }
            if let Ok(cert) = Certificate::from_der(&der, Provenance::Inline("m".into())) {
                proptest::prop_assert!(cert.x509().is_ok());
            }
        }
    }

    #[test]
    fn garbage_is_a_certificate_error_naming_the_source() {
        let err = Certificate::from_der(b"\x30\x03\x02\x01", Provenance::Inline("x.der".into()))
            .unwrap_err();
        assert!(
            matches!(err, Error::Certificate { ref context, .. } if context == "x.der"),
            "{err}"
        );
    }
}
