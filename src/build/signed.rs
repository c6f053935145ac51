//! SignedData (RFC 5652 §5) with one RSA signer, as S/MIME signs mail (RFC 8551 §3.5).

use crate::error::{Error, Result};
use cms::builder::{SignedDataBuilder, SignerInfoBuilder};
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::signed_data::{EncapsulatedContentInfo, SignerIdentifier};
use der::asn1::ObjectIdentifier;
use der::{Any, Encode, Tag};
use sha2::{Digest, Sha256};
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;

/// id-data (RFC 5652 §4).
const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
/// id-sha256 (RFC 5754 §2.2).
const ID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");

/// A DER `ContentInfo` of SignedData over `content`: SHA-256 digest, sha256WithRSAEncryption
/// (PKCS#1 v1.5) signature over signed attributes (content-type, message-digest), the signer
/// named by issuer and serial number, and `signer_cert` in `certificates` so that receivers
/// (and `--harvest`) learn the signer's certificate.
///
/// `detached`: the content is left out (`eContent` absent, RFC 5652 §5.2), as in
/// multipart/signed with application/pkcs7-signature; otherwise it is carried inside, as in
/// application/pkcs7-mime; smime-type=signed-data. PKCS#1 v1.5 signatures are deterministic,
/// so the same input gives the same bytes.
///
/// The key must be the certificate's; this is not checked (a mismatch is a way to build a
/// signature that does not verify).
pub fn signed(
    content: &[u8],
    signer_cert: &Certificate,
    signer_key: &rsa::RsaPrivateKey,
    detached: bool,
) -> Result<Vec<u8>> {
    let econtent = if detached {
        None
    } else {
        Some(Any::new(Tag::OctetString, content.to_vec()).map_err(der_error)?)
    };
    let encapsulated = EncapsulatedContentInfo { econtent_type: ID_DATA, econtent };
    let digest = Sha256::digest(content);
    let signing_key = rsa::pkcs1v15::SigningKey::<Sha256>::new(signer_key.clone());
    let tbs = &signer_cert.tbs_certificate;
    let sid = SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
        issuer: tbs.issuer.clone(),
        serial_number: tbs.serial_number.clone(),
    });
    let sha256 = AlgorithmIdentifierOwned { oid: ID_SHA256, parameters: None };
    let signer = SignerInfoBuilder::new(
        &signing_key,
        sid,
        sha256.clone(),
        &encapsulated,
        if detached { Some(digest.as_slice()) } else { None },
    )
    .map_err(builder_error)?;
    let mut builder = SignedDataBuilder::new(&encapsulated);
    builder
        .add_digest_algorithm(sha256)
        .and_then(|b| b.add_certificate(CertificateChoices::Certificate(signer_cert.clone())))
        .and_then(|b| b.add_signer_info::<_, rsa::pkcs1v15::Signature>(signer))
        .map_err(builder_error)?;
    builder.build().map_err(builder_error)?.to_der().map_err(der_error)
}

fn builder_error(e: cms::builder::Error) -> Error {
    Error::Cms { context: "building SignedData".to_owned(), reason: e.to_string() }
}

fn der_error(e: der::Error) -> Error {
    Error::Cms { context: "building SignedData".to_owned(), reason: format!("DER: {e}") }
}
