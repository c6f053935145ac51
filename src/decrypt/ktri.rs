//! Key transport (RFC 5652 §6.2.1): the content-encryption key encrypted to an RSA public key,
//! with RSAES-PKCS1-v1_5 (RFC 3370 §4.2.1) or RSAES-OAEP (RFC 3560).
//!
//! The private-key operation is blinded (`decrypt_blinded`, a fresh random blinding factor per
//! call), so its timing does not depend on the key in a way many calls could average out. Its
//! failure is [`DecryptError::KeyDoesNotFit`] with [`RSA_FAILURE`], the same text the caller
//! gives when the content then fails to decrypt with the recovered key: which of the two
//! failed would be a padding oracle (Bleichenbacher 1998, RFC 3218 §2.3).
//!
//! PKCS#1 v1.5 is subject to RUSTSEC-2023-0071 in `rsa` 0.9: see the module documentation of
//! `decrypt` for why that is acceptable here.

use super::structure::{oid, OaepParams};
use super::DecryptError;
use der::asn1::OctetString;
use der::Tagged;
use rsa::{Oaep, Pkcs1v15Encrypt, RsaPrivateKey};
use sha2::digest::DynDigest;
use spki::AlgorithmIdentifierOwned;
use zeroize::Zeroizing;

/// What every failed RSA key transport says, whether the RSA padding or the content with the
/// recovered key failed (see the module documentation).
pub(crate) const RSA_FAILURE: &str = "RSA key transport or the content decryption that follows it failed: a wrong key, or a damaged envelope (which of the two is deliberately not told: it would be a padding oracle)";

/// Decrypts `encrypted_key` with `key` per `algorithm`, blinded. Returns the content-encryption
/// key. Algorithm parameters are read (and their errors reported) before any private-key work.
pub(crate) fn unwrap_key(
    key: &RsaPrivateKey,
    algorithm: &AlgorithmIdentifierOwned,
    encrypted_key: &[u8],
) -> Result<Zeroizing<Vec<u8>>, DecryptError> {
    let mut rng = rand::thread_rng();
    let result = if algorithm.oid == oid::RSA_ENCRYPTION {
        key.decrypt_blinded(&mut rng, Pkcs1v15Encrypt, encrypted_key)
    } else if algorithm.oid == oid::RSAES_OAEP {
        let padding = oaep_padding(algorithm)?;
        key.decrypt_blinded(&mut rng, padding, encrypted_key)
    } else {
        return Err(DecryptError::UnsupportedRecipientInfo(format!(
            "ktri key transport algorithm {} (only rsaEncryption and id-RSAES-OAEP)",
            super::algorithm_name(&algorithm.oid)
        )));
    };
    result.map(Zeroizing::new).map_err(|_| DecryptError::KeyDoesNotFit(RSA_FAILURE.to_owned()))
}

/// `RSAES-OAEP-params` to an `rsa::Oaep`: absent fields take the RFC 8017 defaults (SHA-1,
/// MGF1 with SHA-1, empty label).
fn oaep_padding(algorithm: &AlgorithmIdentifierOwned) -> Result<Oaep, DecryptError> {
    let params = match &algorithm.parameters {
        None => OaepParams { hash: None, mask_gen: None, p_source: None },
        // Some encoders write NULL for "all defaults".
        Some(any) if any.tag() == der::Tag::Null => {
            OaepParams { hash: None, mask_gen: None, p_source: None }
        }
        Some(any) => any.decode_as::<OaepParams>().map_err(|e| {
            DecryptError::Damaged(format!("RSAES-OAEP parameters do not parse: {e}"))
        })?,
    };
    let digest = match &params.hash {
        None => hash(&oid::SHA1),
        Some(alg) => hash(&alg.oid),
    }?;
    let mgf_digest = match &params.mask_gen {
        None => hash(&oid::SHA1),
        Some(mgf) if mgf.oid == oid::MGF1 => {
            let inner = mgf
                .parameters
                .as_ref()
                .ok_or_else(|| DecryptError::Damaged("MGF1 without a hash algorithm".into()))?
                .decode_as::<AlgorithmIdentifierOwned>()
                .map_err(|e| DecryptError::Damaged(format!("MGF1 hash does not parse: {e}")))?;
            hash(&inner.oid)
        }
        Some(mgf) => Err(DecryptError::UnsupportedRecipientInfo(format!(
            "OAEP mask generation function {} (only MGF1)",
            super::algorithm_name(&mgf.oid)
        ))),
    }?;
    let label = match &params.p_source {
        None => None,
        Some(p) if p.oid == oid::P_SPECIFIED => {
            let label = match &p.parameters {
                None => Vec::new(),
                Some(any) => any
                    .decode_as::<OctetString>()
                    .map_err(|e| DecryptError::Damaged(format!("OAEP label does not parse: {e}")))?
                    .into_bytes(),
            };
            if label.is_empty() {
                None
            } else {
                // rsa 0.9 takes the label as a String.
                Some(String::from_utf8(label).map_err(|_| {
                    DecryptError::UnsupportedRecipientInfo("OAEP with a non-UTF-8 label".into())
                })?)
            }
        }
        Some(p) => {
            return Err(DecryptError::UnsupportedRecipientInfo(format!(
                "OAEP label source {}",
                super::algorithm_name(&p.oid)
            )))
        }
    };
    Ok(Oaep { digest, mgf_digest, label })
}

fn hash(
    oid: &der::asn1::ObjectIdentifier,
) -> Result<Box<dyn DynDigest + Send + Sync>, DecryptError> {
    Ok(match *oid {
        o if o == oid::SHA1 => Box::new(sha1::Sha1::default()),
        o if o == oid::SHA224 => Box::new(sha2::Sha224::default()),
        o if o == oid::SHA256 => Box::new(sha2::Sha256::default()),
        o if o == oid::SHA384 => Box::new(sha2::Sha384::default()),
        o if o == oid::SHA512 => Box::new(sha2::Sha512::default()),
        _ => {
            return Err(DecryptError::UnsupportedRecipientInfo(format!(
                "OAEP hash {}",
                super::algorithm_name(oid)
            )))
        }
    })
}
