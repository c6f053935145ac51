//! Key agreement (RFC 5652 §6.2.2) with ECDH, as RFC 5753 §3.1 / RFC 8418 use it:
//!
//! 1. ECDH between the recipient's static key and the originator's ephemeral public key
//!    (`originatorKey`) gives the shared x-coordinate Z.
//! 2. The ANSI X9.63 KDF derives the key-encryption key: `Hash(Z || counter || SharedInfo)`
//!    for counter = 1, 2, .. (32-bit big-endian), truncated to the wrap key's length, where
//!    SharedInfo is the DER `ECC-CMS-SharedInfo` { keyInfo = the key wrap AlgorithmIdentifier,
//!    entityUInfo = ukm if present, suppPubInfo = wrap key length in bits, 4 octets }.
//! 3. AES key unwrap (RFC 3394) of the encrypted key gives the content-encryption key.
//!
//! The cofactor variants are the same computation on P-256 and P-384 (cofactor 1).

use super::keys::Secret;
use super::structure::{oid, EccCmsSharedInfo, KeyAgreeRecipientInfo};
use super::DecryptError;
use cms::enveloped_data::OriginatorIdentifierOrKey;
use der::asn1::{ObjectIdentifier, OctetString};
use der::Encode;
use sha2::Digest;
use spki::AlgorithmIdentifierOwned;
use zeroize::Zeroizing;

/// The curve of an EC key, to pair keys with originator keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Curve {
    P256,
    P384,
}

/// The hash of the X9.63 KDF named by a kari key-agreement algorithm.
#[derive(Clone, Copy, Debug)]
enum KdfHash {
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

/// Which curve the originator's ephemeral key is on, if the kari says (`None`: not named, or
/// the originator is not an ephemeral key). Used to skip keys that cannot fit.
pub(crate) fn originator_curve(kari: &KeyAgreeRecipientInfo) -> Option<Curve> {
    let OriginatorIdentifierOrKey::OriginatorKey(key) = &kari.originator else { return None };
    let curve = key.algorithm.parameters.as_ref()?.decode_as::<ObjectIdentifier>().ok()?;
    match curve {
        c if c == oid::SECP256R1 => Some(Curve::P256),
        c if c == oid::SECP384R1 => Some(Curve::P384),
        _ => None,
    }
}

/// Recovers the content-encryption key of `encrypted_key` (one RecipientEncryptedKey of
/// `kari`) with `secret`.
pub(crate) fn unwrap_key(
    secret: &Secret,
    kari: &KeyAgreeRecipientInfo,
    encrypted_key: &[u8],
) -> Result<Zeroizing<Vec<u8>>, DecryptError> {
    let kdf = kdf_hash(&kari.key_enc_alg.oid)?;
    let wrap = kari
        .key_enc_alg
        .parameters
        .as_ref()
        .ok_or_else(|| {
            DecryptError::Damaged("kari key agreement without a key wrap algorithm".into())
        })?
        .decode_as::<AlgorithmIdentifierOwned>()
        .map_err(|e| {
            DecryptError::Damaged(format!("kari key wrap algorithm does not parse: {e}"))
        })?;
    let kek_len = match wrap.oid {
        o if o == oid::AES128_WRAP => 16,
        o if o == oid::AES192_WRAP => 24,
        o if o == oid::AES256_WRAP => 32,
        o => {
            return Err(DecryptError::UnsupportedRecipientInfo(format!(
                "kari key wrap {} (only AES key wrap)",
                super::algorithm_name(&o)
            )))
        }
    };
    let originator =
        match &kari.originator {
            OriginatorIdentifierOrKey::OriginatorKey(key) => key,
            _ => return Err(DecryptError::UnsupportedRecipientInfo(
                "kari with a static originator key (named by certificate): only ephemeral-static \
                 ECDH is supported"
                    .into(),
            )),
        };
    if originator.algorithm.oid != oid::EC_PUBLIC_KEY {
        return Err(DecryptError::UnsupportedRecipientInfo(format!(
            "kari originator key {} (only EC)",
            super::algorithm_name(&originator.algorithm.oid)
        )));
    }
    let point = originator
        .public_key
        .as_bytes()
        .ok_or_else(|| DecryptError::Damaged("originator public key has unused bits".into()))?;
    let shared = shared_secret(secret, point)?;

    let shared_info = EccCmsSharedInfo {
        key_info: wrap,
        entity_u_info: kari.ukm.clone(),
        supp_pub_info: OctetString::new(((kek_len as u32) * 8).to_be_bytes().to_vec())
            .map_err(|e| DecryptError::Damaged(format!("SharedInfo: {e}")))?,
    }
    .to_der()
    .map_err(|e| DecryptError::Damaged(format!("SharedInfo does not encode: {e}")))?;
    let kek = x963_kdf(kdf, &shared, &shared_info, kek_len);

    let unwrapped = match kek_len {
        16 => aes_kw::KekAes128::try_from(kek.as_slice()).and_then(|k| k.unwrap_vec(encrypted_key)),
        24 => aes_kw::KekAes192::try_from(kek.as_slice()).and_then(|k| k.unwrap_vec(encrypted_key)),
        _ => aes_kw::KekAes256::try_from(kek.as_slice()).and_then(|k| k.unwrap_vec(encrypted_key)),
    };
    // AES key wrap carries an integrity check: failure means another key (or a damaged
    // RecipientEncryptedKey). The aes-kw error names no key material.
    unwrapped.map(Zeroizing::new).map_err(|e| {
        DecryptError::KeyDoesNotFit(format!("ECDH key agreement: AES key unwrap failed ({e})"))
    })
}

fn kdf_hash(alg: &ObjectIdentifier) -> Result<KdfHash, DecryptError> {
    Ok(match *alg {
        o if o == oid::STD_DH_SHA1KDF || o == oid::COFACTOR_DH_SHA1KDF => KdfHash::Sha1,
        o if o == oid::STD_DH_SHA224KDF || o == oid::COFACTOR_DH_SHA224KDF => KdfHash::Sha224,
        o if o == oid::STD_DH_SHA256KDF || o == oid::COFACTOR_DH_SHA256KDF => KdfHash::Sha256,
        o if o == oid::STD_DH_SHA384KDF || o == oid::COFACTOR_DH_SHA384KDF => KdfHash::Sha384,
        o if o == oid::STD_DH_SHA512KDF || o == oid::COFACTOR_DH_SHA512KDF => KdfHash::Sha512,
        o => {
            return Err(DecryptError::UnsupportedRecipientInfo(format!(
                "kari key agreement {} (only dhSinglePass stdDH/cofactorDH with SHA-1/2 KDF)",
                super::algorithm_name(&o)
            )))
        }
    })
}

/// ECDH: the x-coordinate of `secret` times the originator's point.
fn shared_secret(secret: &Secret, point: &[u8]) -> Result<Zeroizing<Vec<u8>>, DecryptError> {
    let bad_point = |curve: &str| {
        DecryptError::KeyDoesNotFit(format!(
            "the originator's ephemeral key is not a point on {curve}, the curve of this key"
        ))
    };
    match secret {
        Secret::P256(k) => {
            let public = p256::PublicKey::from_sec1_bytes(point).map_err(|_| bad_point("P-256"))?;
            let z = p256::ecdh::diffie_hellman(k.to_nonzero_scalar(), public.as_affine());
            Ok(Zeroizing::new(z.raw_secret_bytes().to_vec()))
        }
        Secret::P384(k) => {
            let public = p384::PublicKey::from_sec1_bytes(point).map_err(|_| bad_point("P-384"))?;
            let z = p384::ecdh::diffie_hellman(k.to_nonzero_scalar(), public.as_affine());
            Ok(Zeroizing::new(z.raw_secret_bytes().to_vec()))
        }
        Secret::Rsa(_) => {
            Err(DecryptError::KeyDoesNotFit("an RSA key cannot do ECDH key agreement".into()))
        }
    }
}

/// ANSI X9.63 KDF (SEC 1 §3.6.1): `Hash(Z || counter || SharedInfo)`, counter from 1.
fn x963_kdf(hash: KdfHash, z: &[u8], shared_info: &[u8], len: usize) -> Zeroizing<Vec<u8>> {
    fn round<D: Digest>(z: &[u8], counter: u32, info: &[u8]) -> Vec<u8> {
        let mut d = D::new();
        d.update(z);
        d.update(counter.to_be_bytes());
        d.update(info);
        d.finalize().to_vec()
    }
    let mut out = Zeroizing::new(Vec::with_capacity(len + 64));
    let mut counter: u32 = 1;
    while out.len() < len {
        let block = Zeroizing::new(match hash {
            KdfHash::Sha1 => round::<sha1::Sha1>(z, counter, shared_info),
            KdfHash::Sha224 => round::<sha2::Sha224>(z, counter, shared_info),
            KdfHash::Sha256 => round::<sha2::Sha256>(z, counter, shared_info),
            KdfHash::Sha384 => round::<sha2::Sha384>(z, counter, shared_info),
            KdfHash::Sha512 => round::<sha2::Sha512>(z, counter, shared_info),
        });
        out.extend_from_slice(&block);
        counter = counter.wrapping_add(1);
    }
    out.truncate(len);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 8418-independent check of the KDF shape against a hand-computed SHA-256 round.
    #[test]
    fn x963_kdf_is_hash_of_z_counter_info_truncated() {
        let z = [1u8, 2, 3];
        let info = [9u8, 9];
        let mut expected = sha2::Sha256::new();
        expected.update(z);
        expected.update(1u32.to_be_bytes());
        expected.update(info);
        let expected = expected.finalize();
        let out = x963_kdf(KdfHash::Sha256, &z, &info, 16);
        assert_eq!(out.as_slice(), &expected[..16]);
        // Longer than one block: the second block uses counter 2.
        let long = x963_kdf(KdfHash::Sha1, &z, &info, 32);
        let mut second = sha1::Sha1::new();
        second.update(z);
        second.update(2u32.to_be_bytes());
        second.update(info);
        assert_eq!(&long[20..], &second.finalize()[..12]);
    }
}
