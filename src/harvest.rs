//! Harvesting certificates from signed mail.
//!
//! Mail clients learn a correspondent's certificate from their signed messages. That is also a
//! way to plant a certificate for someone else's address: anyone can put any certificate into a
//! SignedData. So a harvested certificate is *bound* to an address
//! ([`HarvestBinding::Verified`]) only when
//!
//! 1. it is the certificate of a SignerInfo (RFC 5652 §5.3, matched by issuer and serial or by
//!    subject key identifier),
//! 2. its keyUsage, when present, allows signing: digitalSignature or nonRepudiation
//!    (RFC 8550 §4.4.2; a key certified for encryption only proves nothing by signing),
//! 3. that signer's signature verifies with it over the content (RFC 5652 §5.4: with signed
//!    attributes, the messageDigest attribute must equal the content's digest and the
//!    signature covers the DER of the SET OF attributes; without, it covers the content), and
//! 4. it names the message's From address,
//!
//! and then to the From address *only*: signed mail from `mallory@evil.test` with a certificate
//! that also names `alice@victim.org` binds nothing for alice. A binding proves that whoever
//! sent the mail holds the private key; it does not prove that the mail came from its From
//! address (nothing here authenticates headers). Without trust anchors a self-signed bound
//! certificate is therefore reported with the warning `harvested-self-signed`.
//!
//! Every other certificate in the SignedData (chain certificates, extra certificates, signers
//! whose signature fails) is kept with [`HarvestBinding::Unverified`] and a reason; the store
//! then reports `harvested-unverified` instead of using it to encrypt.

use crate::address::Address;
use crate::cert::{Certificate, HarvestBinding, Provenance};
use crate::cms::{self, CmsSummary, SignedSummary};
use crate::message::OutgoingMessage;
use crate::name::IssuerSerial;
use crate::signature::verify_signature;
use crate::smime::{self, SmimeKind};
use ::cms::signed_data::{SignerIdentifier, SignerInfo};
use const_oid::ObjectIdentifier;
use der::Encode;

const MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");

/// Certificates found in the signed layers of `raw`, each with its provenance (`label` names
/// the message, e.g. its path). Never fails: a message without (parseable) signatures yields
/// nothing.
pub fn harvest_message(raw: &[u8], label: &str) -> Vec<Certificate> {
    let Some(msg) = OutgoingMessage::shared_parser().parse(raw) else { return Vec::new() };
    let from = OutgoingMessage::from_message(&msg).author().cloned();
    let mut found: Vec<Certificate> = Vec::new();
    for layer in smime::locate(&msg) {
        if matches!(layer.kind, SmimeKind::Enveloped | SmimeKind::AuthEnveloped) {
            continue;
        }
        let Ok(CmsSummary::Signed(signed)) = cms::inspect(layer.bytes) else { continue };
        let content: Option<&[u8]> = signed.econtent.as_deref().or(layer.signed_content);
        for cert in harvest_signed(&signed, content, from.as_ref(), label) {
            if !found.iter().any(|c| c.sha256() == cert.sha256()) {
                found.push(cert);
            }
        }
    }
    found
}

/// Certificates of one SignedData, bound or not per the module rules. `content` is the signed
/// content (the encapsulated content, or the first part of a multipart/signed as sent).
pub fn harvest_signed(
    signed: &SignedSummary,
    content: Option<&[u8]>,
    from: Option<&Address>,
    label: &str,
) -> Vec<Certificate> {
    let mut out = Vec::new();
    for der in &signed.certificates {
        let Ok(probe) = Certificate::from_der(der, Provenance::Inline(label.to_owned())) else {
            continue;
        };
        let binding = binding_for(signed, &probe, content, from);
        let provenance = Provenance::Harvested { message: label.to_owned(), binding };
        if let Ok(cert) = Certificate::from_der(der, provenance) {
            out.push(cert);
        }
    }
    out
}

fn binding_for(
    signed: &SignedSummary,
    cert: &Certificate,
    content: Option<&[u8]>,
    from: Option<&Address>,
) -> HarvestBinding {
    let signers: Vec<&SignerInfo> =
        signed.signed_data.signer_infos.0.iter().filter(|si| is_signer(si, cert)).collect();
    if signers.is_empty() {
        return HarvestBinding::Unverified(
            "it is not the certificate of a signer of the message".into(),
        );
    }
    // RFC 8550 §4.4.2: a signature only counts when keyUsage lets the key sign.
    if cert
        .key_usage()
        .is_some_and(|ku| !ku.usage.digital_signature() && !ku.usage.non_repudiation())
    {
        return HarvestBinding::Unverified(
            "the signer's keyUsage allows neither digitalSignature nor nonRepudiation, so its signature proves nothing".into(),
        );
    }
    let Some(content) = content else {
        return HarvestBinding::Unverified("the signed content is missing".into());
    };
    let mut failure = String::new();
    for si in signers {
        match verify_signer(si, cert, content) {
            Ok(()) => {
                return match from {
                    Some(from) if cert.names(from).is_some() => {
                        HarvestBinding::Verified { senders: vec![from.clone()] }
                    }
                    Some(from) => HarvestBinding::Unverified(format!(
                        "the signature verifies, but the certificate does not name the From address {from}"
                    )),
                    None => HarvestBinding::Unverified(
                        "the signature verifies, but the message has no From address".into(),
                    ),
                };
            }
            Err(why) => failure = why,
        }
    }
    HarvestBinding::Unverified(format!("the signature does not verify: {failure}"))
}

fn is_signer(si: &SignerInfo, cert: &Certificate) -> bool {
    match &si.sid {
        SignerIdentifier::IssuerAndSerialNumber(isn) => {
            Some(&IssuerSerial::new(&isn.issuer, &isn.serial_number)) == cert.issuer_serial()
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => {
            cert.subject_key_identifier() == Some(ski.0.as_bytes())
        }
    }
}

/// RFC 5652 §5.4. A multipart/signed copy stored with bare LF line ends is retried with CRLF,
/// the canonical form that was signed (RFC 8551 §3.1.1).
fn verify_signer(si: &SignerInfo, cert: &Certificate, content: &[u8]) -> Result<(), String> {
    let first = verify_signer_over(si, cert, content);
    if first.is_ok() || !content.contains(&b'\n') {
        return first;
    }
    let crlf = to_crlf(content);
    if crlf.as_slice() == content {
        return first;
    }
    verify_signer_over(si, cert, &crlf).map_err(|_| first.err().unwrap_or_default())
}

fn verify_signer_over(si: &SignerInfo, cert: &Certificate, content: &[u8]) -> Result<(), String> {
    let spki = &cert.x509().map_err(|e| e.to_string())?.tbs_certificate.subject_public_key_info;
    let digest_oid = si.digest_alg.oid;
    let signature = si.signature.as_bytes();
    match &si.signed_attrs {
        None => {
            verify_signature(spki, &si.signature_algorithm, Some(&digest_oid), content, signature)
                .map_err(|e| e.to_string())
        }
        Some(attrs) => {
            let digest =
                crate::signature::digest(&digest_oid, content).map_err(|e| e.to_string())?;
            let claimed = attrs
                .iter()
                .find(|a| a.oid == MESSAGE_DIGEST)
                .and_then(|a| a.values.iter().next())
                .map(|v| v.value().to_vec())
                .ok_or("the signed attributes have no messageDigest")?;
            if claimed != digest {
                return Err(
                    "the messageDigest does not match the content (the content was changed)".into(),
                );
            }
            let signed =
                attrs.to_der().map_err(|e| format!("re-encoding signed attributes: {e}"))?;
            verify_signature(spki, &si.signature_algorithm, Some(&digest_oid), &signed, signature)
                .map_err(|e| e.to_string())
        }
    }
}

fn to_crlf(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + data.len() / 32);
    let mut prev = 0u8;
    for &b in data {
        if b == b'\n' && prev != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        prev = b;
    }
    out
}
