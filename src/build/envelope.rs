//! EnvelopedData (RFC 5652 §6) and AuthEnvelopedData (RFC 5083) with one ktri per recipient.
//!
//! AES-CBC goes through the `cms` crate's `EnvelopedDataBuilder`; 3DES, DES and AES-GCM, which
//! it does not offer, are encrypted here and put in the same structures. Every ktri uses
//! rsaEncryption (PKCS#1 v1.5, RFC 3370 §4.2.1) and names its certificate by issuer and serial
//! number, as Outlook, Apple Mail and Thunderbird do by default.

use crate::error::{Error, Result};
use aes_gcm::aead::{AeadInPlace, KeyInit};
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockEncryptMut, KeyIvInit};
use cms::builder::{
    ContentEncryptionAlgorithm, EnvelopedDataBuilder, KeyEncryptionInfo,
    KeyTransRecipientInfoBuilder, RecipientInfoBuilder,
};
use cms::cert::IssuerAndSerialNumber;
use cms::content_info::{CmsVersion, ContentInfo};
use cms::enveloped_data::{
    EncryptedContentInfo, EnvelopedData, RecipientIdentifier, RecipientInfo, RecipientInfos,
};
use der::asn1::{ObjectIdentifier, OctetString};
use der::{Any, Encode, Sequence, Tag};
use rand::rngs::StdRng;
use rand::{CryptoRng, RngCore, SeedableRng};
use rsa::pkcs8::DecodePublicKey;
use rsa::RsaPublicKey;
use spki::AlgorithmIdentifierOwned;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::Certificate;

/// Object identifiers written here (RFC 5652, RFC 5083, RFC 3565, RFC 5084, RFC 3370).
mod oid {
    use der::asn1::ObjectIdentifier as Oid;
    /// id-data (RFC 5652 §4).
    pub const DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.1");
    /// id-envelopedData (RFC 5652 §6.1).
    pub const ENVELOPED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.3");
    /// id-ct-authEnvelopedData (RFC 5083 §1).
    pub const AUTH_ENVELOPED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.1.23");
    /// rsaEncryption (RFC 8017 §A.1).
    pub const RSA_ENCRYPTION: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
    /// id-aes128-GCM (RFC 5084 §3.2).
    pub const AES128_GCM: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.1.6");
    /// des-ede3-cbc (RFC 3370 §5.1).
    pub const DES_EDE3_CBC: Oid = Oid::new_unwrap("1.2.840.113549.3.7");
    /// desCBC (OIW, 1.3.14.3.2.7): single DES, as old clients still write it.
    pub const DES_CBC: Oid = Oid::new_unwrap("1.3.14.3.2.7");
}

/// The content-encryption algorithm of a built envelope.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BuildCipher {
    /// id-aes128-CBC in EnvelopedData (RFC 3565): what most clients send.
    Aes128Cbc,
    /// id-aes256-CBC in EnvelopedData (RFC 3565).
    Aes256Cbc,
    /// id-aes128-GCM in AuthEnvelopedData (RFC 5083, RFC 5084), 12-byte nonce, 16-byte tag.
    Aes128Gcm,
    /// des-ede3-cbc (RFC 3370 §5.1): 3DES, which RFC 8551 no longer requires receivers to
    /// support (`weak-content-cipher`, warning).
    DesEde3Cbc,
    /// desCBC: single 56-bit DES (`weak-content-cipher`, error).
    DesCbc,
}

impl BuildCipher {
    /// Every cipher, for tables and generators.
    pub const ALL: [BuildCipher; 5] = [
        BuildCipher::Aes128Cbc,
        BuildCipher::Aes256Cbc,
        BuildCipher::Aes128Gcm,
        BuildCipher::DesEde3Cbc,
        BuildCipher::DesCbc,
    ];

    /// The name used in the audit's JSON (`content_cipher`), e.g. `aes-128-cbc`.
    pub fn name(self) -> &'static str {
        match self {
            BuildCipher::Aes128Cbc => "aes-128-cbc",
            BuildCipher::Aes256Cbc => "aes-256-cbc",
            BuildCipher::Aes128Gcm => "aes-128-gcm",
            BuildCipher::DesEde3Cbc => "des-ede3-cbc",
            BuildCipher::DesCbc => "des-cbc",
        }
    }

    /// The algorithm's object identifier, as written in `contentEncryptionAlgorithm`.
    pub fn oid(self) -> ObjectIdentifier {
        match self {
            BuildCipher::Aes128Cbc => ContentEncryptionAlgorithm::Aes128Cbc.oid(),
            BuildCipher::Aes256Cbc => ContentEncryptionAlgorithm::Aes256Cbc.oid(),
            BuildCipher::Aes128Gcm => oid::AES128_GCM,
            BuildCipher::DesEde3Cbc => oid::DES_EDE3_CBC,
            BuildCipher::DesCbc => oid::DES_CBC,
        }
    }

    /// Whether the envelope is AuthEnvelopedData rather than EnvelopedData.
    pub fn is_authenticated(self) -> bool {
        matches!(self, BuildCipher::Aes128Gcm)
    }
}

/// Who a ktri is for: the issuer and serial number it names, and the RSA key that encrypts the
/// content-encryption key.
///
/// Usually made from a certificate ([`BuildRecipient::for_certificate`]); [`named`] pairs any
/// name with any key, for a RecipientInfo that matches no known certificate.
///
/// [`named`]: BuildRecipient::named
#[derive(Clone, Debug)]
pub struct BuildRecipient {
    issuer_serial: IssuerAndSerialNumber,
    key: RsaPublicKey,
}

impl BuildRecipient {
    /// The recipient a certificate describes. Only RSA keys: ktri is key *transport*; EC
    /// certificates need kari, which this builder does not write.
    pub fn for_certificate(cert: &Certificate) -> Result<BuildRecipient> {
        let tbs = &cert.tbs_certificate;
        let context = || {
            format!(
                "certificate {} (serial {})",
                crate::name::name_display(&tbs.subject),
                crate::name::serial_hex(tbs.serial_number.as_bytes())
            )
        };
        let spki = &tbs.subject_public_key_info;
        if spki.algorithm.oid != oid::RSA_ENCRYPTION {
            return Err(Error::Certificate {
                context: context(),
                reason: format!(
                    "has a {} key; the builder writes ktri, which needs RSA",
                    crate::decrypt::algorithm_name(&spki.algorithm.oid)
                ),
            });
        }
        let der = spki.to_der().map_err(|e| Error::Certificate {
            context: context(),
            reason: format!("public key does not re-encode: {e}"),
        })?;
        let key = RsaPublicKey::from_public_key_der(&der).map_err(|e| Error::Certificate {
            context: context(),
            reason: format!("RSA public key does not parse: {e}"),
        })?;
        Ok(BuildRecipient::named(tbs.issuer.clone(), tbs.serial_number.clone(), key))
    }

    /// A ktri naming `issuer` and `serial`, with the content key encrypted to `key`, whether or
    /// not any certificate has that name (for `unknown-recipient-info`).
    pub fn named(issuer: Name, serial: SerialNumber, key: RsaPublicKey) -> BuildRecipient {
        BuildRecipient {
            issuer_serial: IssuerAndSerialNumber { issuer, serial_number: serial },
            key,
        }
    }

    /// The issuer and serial number the ktri will carry.
    pub fn issuer_serial(&self) -> &IssuerAndSerialNumber {
        &self.issuer_serial
    }

    /// The RSA key the content-encryption key is encrypted to.
    pub fn public_key(&self) -> &RsaPublicKey {
        &self.key
    }

    fn rid(&self) -> RecipientIdentifier {
        RecipientIdentifier::IssuerAndSerialNumber(self.issuer_serial.clone())
    }
}

/// Builds one envelope: a cipher, recipients in order, and whether the encrypted content is
/// left out.
///
/// RecipientInfos is a DER `SET OF`, so the ktris come out sorted by their encoding, not in
/// the order they were added (as with OpenSSL).
#[derive(Clone, Debug)]
pub struct EnvelopeBuilder {
    cipher: BuildCipher,
    recipients: Vec<BuildRecipient>,
    omit_content: bool,
}

impl EnvelopeBuilder {
    /// An envelope with `cipher` and no recipients yet.
    pub fn new(cipher: BuildCipher) -> EnvelopeBuilder {
        EnvelopeBuilder { cipher, recipients: Vec::new(), omit_content: false }
    }

    /// Adds a ktri for the certificate's owner (RSA only, see
    /// [`BuildRecipient::for_certificate`]).
    pub fn certificate(mut self, cert: &Certificate) -> Result<EnvelopeBuilder> {
        self.recipients.push(BuildRecipient::for_certificate(cert)?);
        Ok(self)
    }

    /// Adds a ktri for each certificate, in order.
    pub fn certificates(self, certs: &[&Certificate]) -> Result<EnvelopeBuilder> {
        certs.iter().try_fold(self, |builder, cert| builder.certificate(cert))
    }

    /// Adds a ktri for any recipient, e.g. one from [`BuildRecipient::named`].
    pub fn recipient(mut self, recipient: BuildRecipient) -> EnvelopeBuilder {
        self.recipients.push(recipient);
        self
    }

    /// Leaves `encryptedContent` out of the EncryptedContentInfo (RFC 5652 §6.1 allows it for
    /// detached content; in mail it means the recipient has nothing to read).
    pub fn omit_encrypted_content(mut self) -> EnvelopeBuilder {
        self.omit_content = true;
        self
    }

    /// The DER `ContentInfo`. `content` is what the recipients will decrypt; for S/MIME, a MIME
    /// entity with CRLF line ends (RFC 8551 §3.1). All randomness (content key, IV or nonce,
    /// PKCS#1 padding) comes from `rng`, so a seeded generator gives the same bytes every time.
    pub fn build<R: CryptoRng + RngCore>(&self, content: &[u8], rng: &mut R) -> Result<Vec<u8>> {
        if self.recipients.is_empty() {
            return Err(invalid("RecipientInfos needs at least one recipient (RFC 5652 §6.1)"));
        }
        match self.cipher {
            BuildCipher::Aes128Cbc => {
                self.aes_cbc(content, ContentEncryptionAlgorithm::Aes128Cbc, rng)
            }
            BuildCipher::Aes256Cbc => {
                self.aes_cbc(content, ContentEncryptionAlgorithm::Aes256Cbc, rng)
            }
            BuildCipher::Aes128Gcm => self.aes_gcm(content, rng),
            BuildCipher::DesEde3Cbc => {
                let mut key = [0u8; 24];
                rng.fill_bytes(&mut key);
                self.des_family::<des::TdesEde3, R>(content, &mut key, oid::DES_EDE3_CBC, rng)
            }
            BuildCipher::DesCbc => {
                let mut key = [0u8; 8];
                rng.fill_bytes(&mut key);
                self.des_family::<des::Des, R>(content, &mut key, oid::DES_CBC, rng)
            }
        }
    }

    /// AES-CBC through `cms::builder::EnvelopedDataBuilder`.
    fn aes_cbc<R: CryptoRng + RngCore>(
        &self,
        content: &[u8],
        algorithm: ContentEncryptionAlgorithm,
        rng: &mut R,
    ) -> Result<Vec<u8>> {
        // Each ktri builder borrows an RNG until the envelope is built, which needs one too:
        // give each its own, seeded from ours, so the output still depends on `rng` alone.
        let mut child_rngs = self
            .recipients
            .iter()
            .map(|_| StdRng::from_rng(&mut *rng))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| cms_error(format!("random number generator failed: {e}")))?;
        let mut builder = EnvelopedDataBuilder::new(None, content, algorithm, None)
            .map_err(|e| cms_error(e.to_string()))?;
        for (recipient, child) in self.recipients.iter().zip(child_rngs.iter_mut()) {
            let ktri = KeyTransRecipientInfoBuilder::new(
                recipient.rid(),
                KeyEncryptionInfo::Rsa(recipient.key.clone()),
                child,
            )
            .map_err(|e| cms_error(e.to_string()))?;
            builder.add_recipient_info(ktri).map_err(|e| cms_error(e.to_string()))?;
        }
        let mut enveloped = builder.build_with_rng(rng).map_err(|e| cms_error(e.to_string()))?;
        if self.omit_content {
            enveloped.encrypted_content.encrypted_content = None;
        }
        content_info(oid::ENVELOPED_DATA, &enveloped)
    }

    /// 3DES or DES in CBC mode with PKCS#7 padding; the IV is the algorithm's parameter
    /// (RFC 3370 §5.1: `CBCParameter ::= IV`, an 8-byte OCTET STRING).
    fn des_family<C, R>(
        &self,
        content: &[u8],
        key: &mut [u8],
        algorithm: ObjectIdentifier,
        rng: &mut R,
    ) -> Result<Vec<u8>>
    where
        C: cbc::cipher::BlockCipher + cbc::cipher::BlockEncryptMut + cbc::cipher::KeyInit,
        R: CryptoRng + RngCore,
    {
        set_odd_parity(key);
        let mut iv = [0u8; 8];
        rng.fill_bytes(&mut iv);
        let ciphertext = cbc::Encryptor::<C>::new_from_slices(key, &iv)
            .map_err(|e| cms_error(format!("DES key or IV has the wrong length: {e}")))?
            .encrypt_padded_vec_mut::<Pkcs7>(content);
        let iv_param = Any::new(Tag::OctetString, iv.to_vec()).map_err(der_error)?;
        let recip_infos = self.recipient_infos(key, rng)?;
        key.fill(0);
        let enveloped = EnvelopedData {
            // RFC 5652 §6.1: 0 when there is no originatorInfo or unprotectedAttrs and every
            // RecipientInfo is a version 0 ktri (issuer and serial number).
            version: CmsVersion::V0,
            originator_info: None,
            recip_infos,
            encrypted_content: self.encrypted_content_info(
                AlgorithmIdentifierOwned { oid: algorithm, parameters: Some(iv_param) },
                ciphertext,
            )?,
            unprotected_attrs: None,
        };
        content_info(oid::ENVELOPED_DATA, &enveloped)
    }

    /// AES-128-GCM in AuthEnvelopedData, without authenticated attributes (the additional data
    /// is then empty, RFC 5083 §2.2).
    fn aes_gcm<R: CryptoRng + RngCore>(&self, content: &[u8], rng: &mut R) -> Result<Vec<u8>> {
        let mut key = [0u8; 16];
        rng.fill_bytes(&mut key);
        let mut nonce = [0u8; 12];
        rng.fill_bytes(&mut nonce);
        let mut ciphertext = content.to_vec();
        let tag = aes_gcm::Aes128Gcm::new_from_slice(&key)
            .map_err(|e| cms_error(format!("AES-GCM key: {e}")))?
            .encrypt_in_place_detached(&nonce.into(), b"", &mut ciphertext)
            .map_err(|e| cms_error(format!("AES-GCM encryption failed: {e}")))?;
        let params = GcmParameters {
            nonce: OctetString::new(nonce.to_vec()).map_err(der_error)?,
            icv_len: GCM_TAG_LEN,
        };
        let recip_infos = self.recipient_infos(&key, rng)?;
        key.fill(0);
        let enveloped = AuthEnvelopedData {
            version: CmsVersion::V0,
            recip_infos,
            auth_encrypted_content: self.encrypted_content_info(
                AlgorithmIdentifierOwned {
                    oid: oid::AES128_GCM,
                    parameters: Some(Any::encode_from(&params).map_err(der_error)?),
                },
                ciphertext,
            )?,
            mac: OctetString::new(tag.to_vec()).map_err(der_error)?,
        };
        content_info(oid::AUTH_ENVELOPED_DATA, &enveloped)
    }

    /// One ktri per recipient, the content-encryption key encrypted with PKCS#1 v1.5.
    fn recipient_infos<R: CryptoRng + RngCore>(
        &self,
        cek: &[u8],
        rng: &mut R,
    ) -> Result<RecipientInfos> {
        let infos = self
            .recipients
            .iter()
            .map(|recipient| {
                KeyTransRecipientInfoBuilder::new(
                    recipient.rid(),
                    KeyEncryptionInfo::Rsa(recipient.key.clone()),
                    &mut *rng,
                )
                .and_then(|mut ktri| ktri.build(cek))
                .map_err(|e| cms_error(e.to_string()))
            })
            .collect::<Result<Vec<RecipientInfo>>>()?;
        RecipientInfos::try_from(infos).map_err(der_error)
    }

    fn encrypted_content_info(
        &self,
        content_enc_alg: AlgorithmIdentifierOwned,
        ciphertext: Vec<u8>,
    ) -> Result<EncryptedContentInfo> {
        let encrypted_content = if self.omit_content {
            None
        } else {
            Some(OctetString::new(ciphertext).map_err(der_error)?)
        };
        Ok(EncryptedContentInfo { content_type: oid::DATA, content_enc_alg, encrypted_content })
    }
}

/// [`EnvelopeBuilder`] in one call: `content` encrypted with `cipher` for each certificate's
/// owner (RSA certificates only).
pub fn envelope<R: CryptoRng + RngCore>(
    content: &[u8],
    recipients: &[&Certificate],
    cipher: BuildCipher,
    rng: &mut R,
) -> Result<Vec<u8>> {
    EnvelopeBuilder::new(cipher).certificates(recipients)?.build(content, rng)
}

/// The GCM tag length written (the maximum; RFC 5084 §3.2 allows 12..16).
const GCM_TAG_LEN: u8 = 16;

/// `AuthEnvelopedData` (RFC 5083 §2.1), with only the fields this builder writes.
///
/// ```asn1
/// AuthEnvelopedData ::= SEQUENCE {
///   version CMSVersion,
///   originatorInfo [0] IMPLICIT OriginatorInfo OPTIONAL,   -- never written here
///   recipientInfos RecipientInfos,
///   authEncryptedContentInfo EncryptedContentInfo,
///   authAttrs [1] IMPLICIT AuthAttributes OPTIONAL,        -- never written here
///   mac MessageAuthenticationCode,
///   unauthAttrs [2] IMPLICIT UnauthAttributes OPTIONAL }   -- never written here
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
struct AuthEnvelopedData {
    version: CmsVersion,
    recip_infos: RecipientInfos,
    auth_encrypted_content: EncryptedContentInfo,
    mac: OctetString,
}

/// `GCMParameters` (RFC 5084 §3.2).
///
/// ```asn1
/// GCMParameters ::= SEQUENCE {
///   aes-nonce        OCTET STRING, -- recommended size is 12 octets
///   aes-ICVlen       AES-GCM-ICVlen DEFAULT 12 }
/// ```
///
/// The tag length is always 16 here, so it is always encoded (DER omits only the default).
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
struct GcmParameters {
    nonce: OctetString,
    icv_len: u8,
}

/// `ContentInfo { contentType, [0] EXPLICIT content }` (RFC 5652 §3), DER.
fn content_info(
    content_type: ObjectIdentifier,
    content: &(impl der::EncodeValue + der::Tagged),
) -> Result<Vec<u8>> {
    ContentInfo { content_type, content: Any::encode_from(content).map_err(der_error)? }
        .to_der()
        .map_err(der_error)
}

/// DES keys carry a parity bit per byte (FIPS 46-3); implementations ignore it, but keys in the
/// wild have it set, so ours do too.
fn set_odd_parity(key: &mut [u8]) {
    for byte in key.iter_mut() {
        let high = *byte & 0xFE;
        *byte = if high.count_ones() % 2 == 0 { high | 1 } else { high };
    }
}

fn cms_error(reason: String) -> Error {
    Error::Cms { context: "building an envelope".to_owned(), reason }
}

fn der_error(e: der::Error) -> Error {
    cms_error(format!("DER encoding failed: {e}"))
}

fn invalid(reason: &str) -> Error {
    Error::InvalidInput(format!("building an envelope: {reason}"))
}
