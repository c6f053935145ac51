//! [`DecryptionKey`]: a private key read from PEM, with the owner's certificate(s) if known.
//!
//! Key material never leaves this module in text form: errors name the file and the problem,
//! `Debug` prints the key kind and a SHA-256 fingerprint of the public key, nothing more. No
//! type holding a private scalar derives `Debug`, and every one wipes the scalar when dropped
//! (`zeroize`): `rsa::RsaPrivateKey` (d, the primes and the CRT values), `p256`/`p384`
//! `SecretKey`, and the decoded DER they were read from (`Zeroizing`).

use super::structure::{oid, EcPrivateKey};
use crate::error::Error;
use crate::name::IssuerSerial;
use der::{Decode, Encode};
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey, PrivateKeyInfo};
use rsa::traits::PublicKeyParts;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use spki::SubjectPublicKeyInfoRef;
use std::fmt;
use std::path::Path;
use x509_cert::ext::pkix::SubjectKeyIdentifier;
use x509_cert::Certificate;
use zeroize::Zeroizing;

/// The private half, by algorithm. Each type zeroises its secret on drop (asserted by a test),
/// hence the marker below. Deliberately no `Debug`.
pub(crate) enum Secret {
    /// An RSA key: ktri with PKCS#1 v1.5 or OAEP.
    Rsa(Box<rsa::RsaPrivateKey>),
    /// An EC key on P-256: kari.
    P256(p256::SecretKey),
    /// An EC key on P-384: kari.
    P384(p384::SecretKey),
}

impl zeroize::ZeroizeOnDrop for Secret {}

/// A private key for decryption, with the certificate(s) found beside it, if any.
///
/// Certificates are only kept when their public key is this key's public key, so a chain
/// certificate in the same PEM file, or a wrong certificate attached later, never makes a
/// RecipientInfo look like this key's.
pub struct DecryptionKey {
    pub(crate) secret: Secret,
    certificates: Vec<Certificate>,
    /// SubjectPublicKeyInfo DER of the public half.
    public_key_der: Vec<u8>,
}

impl DecryptionKey {
    /// PEM text holding a private key ("PRIVATE KEY" PKCS#8, "RSA PRIVATE KEY" PKCS#1, "EC
    /// PRIVATE KEY" SEC1) and optionally "CERTIFICATE" blocks (the owner's certificate, used to
    /// pick the RecipientInfo by issuer+serial or SKI). Encrypted keys: a clear `Error::Key`
    /// saying they are not supported. `context` is the file name for messages.
    pub fn from_pem(text: &str, context: &str) -> Result<DecryptionKey, Error> {
        let key_error =
            |reason: &str| Error::Key { context: context.to_owned(), reason: reason.to_owned() };
        let mut secret = None;
        let mut certificates = Vec::new();
        for block in pem_blocks(text) {
            match block.label {
                "ENCRYPTED PRIVATE KEY" => {
                    return Err(key_error(
                        "encrypted private keys are not supported; write a decrypted copy \
                         first (openssl pkey -in KEY -out PLAIN.pem) and keep it private",
                    ))
                }
                "PRIVATE KEY" | "RSA PRIVATE KEY" | "EC PRIVATE KEY" => {
                    if block.text.contains("Proc-Type:") || block.text.contains("DEK-Info:") {
                        return Err(key_error(
                            "encrypted (Proc-Type/DEK-Info) private keys are not supported; \
                             write a decrypted copy first (openssl pkey -in KEY -out PLAIN.pem)",
                        ));
                    }
                    if secret.is_some() {
                        return Err(key_error(
                            "holds more than one private key; give each key its own file",
                        ));
                    }
                    let (_, der) = pem_rfc7468::decode_vec(block.text.as_bytes())
                        .map_err(|_| key_error("private key PEM block is not valid base64"))?;
                    let der = Zeroizing::new(der);
                    secret = Some(parse_secret(block.label, &der).map_err(|r| key_error(&r))?);
                }
                "CERTIFICATE" => {
                    let (_, der) = pem_rfc7468::decode_vec(block.text.as_bytes())
                        .map_err(|_| key_error("certificate PEM block is not valid base64"))?;
                    let cert = Certificate::from_der(&der).map_err(|e| Error::Certificate {
                        context: context.to_owned(),
                        reason: format!("certificate beside the key does not parse: {e}"),
                    })?;
                    certificates.push(cert);
                }
                _ => {} // EC PARAMETERS and the like: not needed.
            }
        }
        let secret = secret.ok_or_else(|| {
            key_error("no private key found (expected a PEM \"PRIVATE KEY\", \"RSA PRIVATE KEY\" or \"EC PRIVATE KEY\" block)")
        })?;
        let public_key_der = public_key_der(&secret).map_err(|r| key_error(&r))?;
        let mut key = DecryptionKey { secret, certificates: Vec::new(), public_key_der };
        for cert in certificates {
            key = key.with_certificate(cert);
        }
        Ok(key)
    }

    /// Reads [`from_pem`](Self::from_pem) from `path`; the path is the context of messages.
    pub fn load(path: &Path) -> Result<DecryptionKey, Error> {
        let bytes = Zeroizing::new(std::fs::read(path).map_err(|e| Error::io(path, e))?);
        let text = std::str::from_utf8(&bytes).map_err(|_| Error::Key {
            context: path.display().to_string(),
            reason: "not a PEM file (not UTF-8 text); DER keys are not read, convert with \
                     openssl pkey -inform DER"
                .to_owned(),
        })?;
        DecryptionKey::from_pem(text, &path.display().to_string())
    }

    /// Attach the owner's certificate later (e.g. found in the certificate store by matching
    /// public key). A certificate for another public key is ignored.
    pub fn with_certificate(mut self, cert: Certificate) -> Self {
        let fits = cert
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .map(|spki| same_public_key(&self.secret, &spki))
            .unwrap_or(false);
        if fits && !self.certificates.contains(&cert) {
            self.certificates.push(cert);
        }
        self
    }

    /// The SubjectPublicKeyInfo DER of the public half (to match a certificate in a store).
    pub fn public_key_der(&self) -> Vec<u8> {
        self.public_key_der.clone()
    }

    /// The certificates kept for this key (all with this key's public key).
    pub fn certificates(&self) -> &[Certificate] {
        &self.certificates
    }

    /// "RSA 2048", "EC P-256" or "EC P-384".
    pub fn kind(&self) -> String {
        match &self.secret {
            Secret::Rsa(k) => format!("RSA {}", k.size() * 8),
            Secret::P256(_) => "EC P-256".to_owned(),
            Secret::P384(_) => "EC P-384".to_owned(),
        }
    }

    /// SHA-256 of [`public_key_der`](Self::public_key_der), lower-case hex: a public name for
    /// the key, safe to print.
    pub fn fingerprint(&self) -> String {
        hex::encode(Sha256::digest(&self.public_key_der))
    }

    /// The identities a RecipientInfo may use for this key: issuer+serial of each kept
    /// certificate.
    pub(crate) fn issuer_serials(&self) -> Vec<IssuerSerial> {
        self.certificates
            .iter()
            .map(|c| IssuerSerial::new(&c.tbs_certificate.issuer, &c.tbs_certificate.serial_number))
            .collect()
    }

    /// Subject key identifiers that name this key: each certificate's SKI extension, and the
    /// RFC 5280 §4.2.1.2 method 1 value (SHA-1 of the public key bits), which is what OpenSSL
    /// and most CAs put there, so a `-keyid` RecipientInfo is found even without a certificate.
    pub(crate) fn subject_key_ids(&self) -> Vec<Vec<u8>> {
        let mut ids = Vec::new();
        if let Ok(spki) = SubjectPublicKeyInfoRef::from_der(&self.public_key_der) {
            ids.push(Sha1::digest(spki.subject_public_key.raw_bytes()).to_vec());
        }
        for cert in &self.certificates {
            if let Ok(Some((_, ski))) = cert.tbs_certificate.get::<SubjectKeyIdentifier>() {
                let ski = ski.0.as_bytes().to_vec();
                if !ids.contains(&ski) {
                    ids.push(ski);
                }
            }
        }
        ids
    }
}

impl fmt::Debug for DecryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecryptionKey")
            .field("kind", &self.kind())
            .field("public_key_sha256", &self.fingerprint())
            .field("certificates", &self.certificates.len())
            .finish_non_exhaustive()
    }
}

/// One PEM block: its label and its full text (BEGIN to END line), for `pem_rfc7468`.
struct PemBlock<'a> {
    label: &'a str,
    text: &'a str,
}

/// Splits PEM text into blocks; text between blocks (OpenSSL's "Bag Attributes", comments) is
/// skipped. A block without its END line ends the scan.
fn pem_blocks(text: &str) -> Vec<PemBlock<'_>> {
    const BEGIN: &str = "-----BEGIN ";
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(BEGIN) {
        let from_begin = &rest[start..];
        let after = &from_begin[BEGIN.len()..];
        let Some(label_len) = after.find("-----") else { break };
        let label = &after[..label_len];
        let end_marker = format!("-----END {label}-----");
        let Some(end) = from_begin.find(&end_marker) else { break };
        let block_len = end + end_marker.len();
        blocks.push(PemBlock { label, text: &from_begin[..block_len] });
        rest = &from_begin[block_len..];
    }
    blocks
}

/// Decodes a private key from its PEM label and DER. The error string never holds key bytes.
fn parse_secret(label: &str, der: &[u8]) -> Result<Secret, String> {
    match label {
        "RSA PRIVATE KEY" => rsa::RsaPrivateKey::from_pkcs1_der(der)
            .map(|k| Secret::Rsa(Box::new(k)))
            .map_err(|_| "the PKCS#1 RSA private key does not parse".to_owned()),
        "EC PRIVATE KEY" => parse_sec1(der, None),
        _ => {
            let info = PrivateKeyInfo::from_der(der)
                .map_err(|_| "the PKCS#8 private key does not parse".to_owned())?;
            if info.algorithm.oid == oid::RSA_ENCRYPTION {
                rsa::RsaPrivateKey::from_pkcs8_der(der)
                    .map(|k| Secret::Rsa(Box::new(k)))
                    .map_err(|_| "the PKCS#8 RSA private key does not parse".to_owned())
            } else if info.algorithm.oid == oid::EC_PUBLIC_KEY {
                let curve = info
                    .algorithm
                    .parameters_oid()
                    .map_err(|_| "the EC private key names no curve".to_owned())?;
                parse_sec1(info.private_key, Some(curve))
            } else {
                Err(format!(
                    "{} private keys are not supported (RSA, EC P-256 and EC P-384 are)",
                    super::algorithm_name(&info.algorithm.oid)
                ))
            }
        }
    }
}

/// A SEC1 `ECPrivateKey`; the curve comes from PKCS#8 (`outer_curve`) or the key's own
/// parameters.
fn parse_sec1(
    der: &[u8],
    outer_curve: Option<der::asn1::ObjectIdentifier>,
) -> Result<Secret, String> {
    let key = EcPrivateKey::from_der(der)
        .map_err(|_| "the EC private key does not parse (named curves only)".to_owned())?;
    let curve = match (outer_curve, key.parameters) {
        (Some(a), Some(b)) if a != b => {
            return Err("the EC private key names two different curves".to_owned())
        }
        (Some(c), _) | (None, Some(c)) => c,
        (None, None) => return Err("the EC private key names no curve".to_owned()),
    };
    let scalar = key.private_key.as_bytes();
    if curve == oid::SECP256R1 {
        p256::SecretKey::from_slice(scalar)
            .map(Secret::P256)
            .map_err(|_| "the P-256 private key is out of range".to_owned())
    } else if curve == oid::SECP384R1 {
        p384::SecretKey::from_slice(scalar)
            .map(Secret::P384)
            .map_err(|_| "the P-384 private key is out of range".to_owned())
    } else {
        Err(format!("EC curve {curve} is not supported (P-256 and P-384 are)"))
    }
}

fn public_key_der(secret: &Secret) -> Result<Vec<u8>, String> {
    let doc = match secret {
        Secret::Rsa(k) => k.to_public_key().to_public_key_der(),
        Secret::P256(k) => k.public_key().to_public_key_der(),
        Secret::P384(k) => k.public_key().to_public_key_der(),
    };
    doc.map(|d| d.as_bytes().to_vec()).map_err(|_| "cannot encode the public key".to_owned())
}

/// Whether the SubjectPublicKeyInfo `spki` is the public half of `secret`, compared as keys
/// (an EC point may be compressed in one and not the other).
fn same_public_key(secret: &Secret, spki: &[u8]) -> bool {
    use p256::pkcs8::DecodePublicKey;
    match secret {
        Secret::Rsa(k) => rsa::RsaPublicKey::from_public_key_der(spki)
            .map(|p| p.n() == k.n() && p.e() == k.e())
            .unwrap_or(false),
        Secret::P256(k) => {
            p256::PublicKey::from_public_key_der(spki).map(|p| p == k.public_key()).unwrap_or(false)
        }
        Secret::P384(k) => {
            p384::PublicKey::from_public_key_der(spki).map(|p| p == k.public_key()).unwrap_or(false)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::traits::PrivateKeyParts;

    fn wiped_on_drop<T: zeroize::ZeroizeOnDrop>() {}

    /// Each private key type wipes its scalars when dropped: the promise behind the
    /// `ZeroizeOnDrop` marker on [`Secret`].
    #[test]
    fn every_secret_zeroizes_on_drop() {
        wiped_on_drop::<rsa::RsaPrivateKey>();
        wiped_on_drop::<p256::SecretKey>();
        wiped_on_drop::<p384::SecretKey>();
        wiped_on_drop::<Zeroizing<Vec<u8>>>();
        wiped_on_drop::<Secret>();
    }

    #[test]
    fn debug_shows_no_key_material() {
        let pem = std::fs::read_to_string("testdata/certs/keys/bob.key").unwrap();
        let key = DecryptionKey::from_pem(&pem, "bob.key").unwrap();
        let Secret::Rsa(rsa) = &key.secret else { panic!("bob has an RSA key") };
        let printed = format!("{key:?}");
        let d = rsa.d().to_str_radix(16);
        assert!(!printed.contains(&d[..16]) && printed.contains("public_key_sha256"), "{printed}");
    }
}
