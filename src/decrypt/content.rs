//! Content decryption with the recovered content-encryption key: AES-CBC with PKCS#7 padding
//! in EnvelopedData (RFC 3565 §4), AES-GCM in AuthEnvelopedData (RFC 5084 §3.2, RFC 5083).

use super::structure::{oid, GcmParameters};
use super::DecryptError;
use aes_gcm::aead::consts::{U12, U13, U14, U15, U16};
use aes_gcm::aead::generic_array::GenericArray;
use aes_gcm::aead::{AeadCore, AeadInPlace, KeyInit};
use aes_gcm::aes::{Aes128, Aes192, Aes256};
use aes_gcm::AesGcm;
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockDecryptMut, KeyIvInit};
use der::asn1::OctetString;
use spki::AlgorithmIdentifierOwned;

/// How the content is protected.
pub(crate) enum Protection<'a> {
    /// EnvelopedData: confidentiality only (CBC).
    Enveloped,
    /// AuthEnvelopedData: `aad` is the DER `SET OF` authAttrs (empty if absent), `mac` the tag.
    Authenticated { aad: &'a [u8], mac: &'a [u8] },
}

/// The AES key size of a content algorithm we can decrypt, or why not. Checked before any
/// private-key work, so an unsupported cipher is reported as such.
pub(crate) fn check_supported(
    alg: &AlgorithmIdentifierOwned,
    protection: &Protection<'_>,
) -> Result<(), DecryptError> {
    match (kind(&alg.oid)?, protection) {
        (Mode::Cbc(_), Protection::Enveloped)
        | (Mode::Gcm(_), Protection::Authenticated { .. }) => Ok(()),
        (Mode::Gcm(_), Protection::Enveloped) => Err(DecryptError::UnsupportedCipher(
            "AES-GCM in EnvelopedData (RFC 5084 requires AuthEnvelopedData: no tag to check)"
                .into(),
        )),
        (Mode::Cbc(_), Protection::Authenticated { .. }) => Err(DecryptError::UnsupportedCipher(
            "AES-CBC in AuthEnvelopedData (not an authenticated cipher)".into(),
        )),
    }
}

#[derive(Clone, Copy)]
enum Mode {
    /// AES-CBC with this key length in bytes.
    Cbc(usize),
    /// AES-GCM with this key length in bytes.
    Gcm(usize),
}

fn kind(alg: &der::asn1::ObjectIdentifier) -> Result<Mode, DecryptError> {
    Ok(match *alg {
        o if o == oid::AES128_CBC => Mode::Cbc(16),
        o if o == oid::AES192_CBC => Mode::Cbc(24),
        o if o == oid::AES256_CBC => Mode::Cbc(32),
        o if o == oid::AES128_GCM => Mode::Gcm(16),
        o if o == oid::AES192_GCM => Mode::Gcm(24),
        o if o == oid::AES256_GCM => Mode::Gcm(32),
        o if o == oid::DES_EDE3_CBC => {
            return Err(DecryptError::UnsupportedCipher(
                "3DES (des-ede3-cbc): this build has no DES implementation".into(),
            ))
        }
        o if o == oid::RC2_CBC || o == oid::DES_CBC => {
            return Err(DecryptError::UnsupportedCipher(format!(
                "{} (obsolete, not decrypted)",
                super::algorithm_name(&o)
            )))
        }
        o if o == oid::AES128_CCM || o == oid::AES192_CCM || o == oid::AES256_CCM => {
            return Err(DecryptError::UnsupportedCipher(format!(
                "{} (AES-CCM is not supported, AES-GCM is)",
                super::algorithm_name(&o)
            )))
        }
        o => {
            return Err(DecryptError::UnsupportedCipher(format!(
                "content encryption {}",
                super::algorithm_name(&o)
            )))
        }
    })
}

/// Decrypts `ciphertext` with `cek`. A key of the wrong length is [`DecryptError::KeyDoesNotFit`]
/// (the key transport "succeeded" with a wrong key); bad padding or a tag mismatch is
/// [`DecryptError::Damaged`].
pub(crate) fn decrypt_content(
    alg: &AlgorithmIdentifierOwned,
    protection: &Protection<'_>,
    cek: &[u8],
    ciphertext: &[u8],
) -> Result<Vec<u8>, DecryptError> {
    check_supported(alg, protection)?;
    let mode = kind(&alg.oid)?;
    let (Mode::Cbc(key_len) | Mode::Gcm(key_len)) = mode;
    if cek.len() != key_len {
        return Err(DecryptError::KeyDoesNotFit(format!(
            "the recovered content key is {} bytes, {} needs {key_len}",
            cek.len(),
            super::algorithm_name(&alg.oid)
        )));
    }
    match (mode, protection) {
        (Mode::Cbc(_), _) => cbc_decrypt(alg, cek, ciphertext),
        (Mode::Gcm(_), Protection::Authenticated { aad, mac }) => {
            gcm_decrypt(alg, cek, ciphertext, aad, mac)
        }
        (Mode::Gcm(_), Protection::Enveloped) => {
            Err(DecryptError::UnsupportedCipher("AES-GCM in EnvelopedData".into()))
        }
    }
}

/// Everything about the content that can be checked without the content key: the algorithm is
/// supported, the IV, nonce, tag and ciphertext lengths are right. Checked before any
/// private-key work, so that what fails afterwards depends only on the key and the ciphertext
/// (and can be reported as one failure: see `ktri`).
pub(crate) fn check_structure(
    alg: &AlgorithmIdentifierOwned,
    protection: &Protection<'_>,
    ciphertext: &[u8],
) -> Result<(), DecryptError> {
    check_supported(alg, protection)?;
    match (kind(&alg.oid)?, protection) {
        (Mode::Cbc(_), _) => cbc_iv(alg, ciphertext).map(drop),
        (Mode::Gcm(_), Protection::Authenticated { mac, .. }) => gcm_setup(alg, mac).map(drop),
        (Mode::Gcm(_), Protection::Enveloped) => Ok(()), // refused by check_supported
    }
}

/// The AES-CBC IV, after checking it and the ciphertext's length.
fn cbc_iv(alg: &AlgorithmIdentifierOwned, ct: &[u8]) -> Result<OctetString, DecryptError> {
    let iv = alg
        .parameters
        .as_ref()
        .ok_or_else(|| DecryptError::Damaged("AES-CBC without an IV".into()))?
        .decode_as::<OctetString>()
        .map_err(|e| DecryptError::Damaged(format!("AES-CBC IV does not parse: {e}")))?;
    if iv.as_bytes().len() != 16 {
        return Err(DecryptError::Damaged(format!(
            "AES-CBC IV is {} bytes, not 16",
            iv.as_bytes().len()
        )));
    }
    if ct.is_empty() || !ct.len().is_multiple_of(16) {
        return Err(DecryptError::Damaged(format!(
            "AES-CBC ciphertext is {} bytes, not a positive multiple of 16",
            ct.len()
        )));
    }
    Ok(iv)
}

fn cbc_decrypt(
    alg: &AlgorithmIdentifierOwned,
    cek: &[u8],
    ct: &[u8],
) -> Result<Vec<u8>, DecryptError> {
    let iv = cbc_iv(alg, ct)?;
    let iv = iv.as_bytes();
    let bad_key = |_| DecryptError::KeyDoesNotFit("content key of the wrong length".into());
    let padding = |_| {
        DecryptError::Damaged(
            "bad padding after AES-CBC decryption (damaged ciphertext or wrong content key)".into(),
        )
    };
    match cek.len() {
        16 => cbc::Decryptor::<Aes128>::new_from_slices(cek, iv)
            .map_err(bad_key)?
            .decrypt_padded_vec_mut::<Pkcs7>(ct)
            .map_err(padding),
        24 => cbc::Decryptor::<Aes192>::new_from_slices(cek, iv)
            .map_err(bad_key)?
            .decrypt_padded_vec_mut::<Pkcs7>(ct)
            .map_err(padding),
        _ => cbc::Decryptor::<Aes256>::new_from_slices(cek, iv)
            .map_err(bad_key)?
            .decrypt_padded_vec_mut::<Pkcs7>(ct)
            .map_err(padding),
    }
}

/// The AES-GCM nonce and tag length, after checking them against the mac.
fn gcm_setup(alg: &AlgorithmIdentifierOwned, mac: &[u8]) -> Result<(Vec<u8>, usize), DecryptError> {
    let params = alg
        .parameters
        .as_ref()
        .ok_or_else(|| DecryptError::Damaged("AES-GCM without GCMParameters".into()))?
        .decode_as::<GcmParameters>()
        .map_err(|e| DecryptError::Damaged(format!("GCMParameters do not parse: {e}")))?;
    let icv_len = usize::from(params.icv_len.unwrap_or(12));
    if !(12..=16).contains(&icv_len) {
        return Err(DecryptError::Damaged(format!(
            "AES-GCM ICV length {icv_len} (must be 12..16)"
        )));
    }
    if mac.len() != icv_len {
        return Err(DecryptError::Damaged(format!(
            "the mac is {} bytes but GCMParameters say {icv_len}",
            mac.len()
        )));
    }
    let nonce = params.nonce.as_bytes();
    if nonce.len() != 12 {
        return Err(DecryptError::UnsupportedCipher(format!(
            "AES-GCM with a {}-byte nonce (only the recommended 12)",
            nonce.len()
        )));
    }
    Ok((nonce.to_vec(), icv_len))
}

fn gcm_decrypt(
    alg: &AlgorithmIdentifierOwned,
    cek: &[u8],
    ct: &[u8],
    aad: &[u8],
    mac: &[u8],
) -> Result<Vec<u8>, DecryptError> {
    let (nonce, icv_len) = gcm_setup(alg, mac)?;
    let nonce = nonce.as_slice();
    let mut buffer = ct.to_vec();
    macro_rules! open {
        ($aes:ty, $tag:ty) => {
            gcm_open::<$aes, $tag>(cek, nonce, aad, &mut buffer, mac)
        };
    }
    macro_rules! by_tag {
        ($aes:ty) => {
            match icv_len {
                12 => open!($aes, U12),
                13 => open!($aes, U13),
                14 => open!($aes, U14),
                15 => open!($aes, U15),
                _ => open!($aes, U16),
            }
        };
    }
    match cek.len() {
        16 => by_tag!(Aes128),
        24 => by_tag!(Aes192),
        _ => by_tag!(Aes256),
    }?;
    Ok(buffer)
}

/// AES-GCM open with a detached tag of `T` bytes; lengths were checked by the caller, and are
/// checked again here without panicking.
fn gcm_open<A, T>(
    cek: &[u8],
    nonce: &[u8],
    aad: &[u8],
    buffer: &mut [u8],
    mac: &[u8],
) -> Result<(), DecryptError>
where
    T: aes_gcm::TagSize,
    AesGcm<A, U12, T>: KeyInit + AeadInPlace + AeadCore<NonceSize = U12, TagSize = T>,
{
    let cipher = AesGcm::<A, U12, T>::new_from_slice(cek)
        .map_err(|_| DecryptError::KeyDoesNotFit("content key of the wrong length".into()))?;
    let nonce: GenericArray<u8, U12> = GenericArray::from_exact_iter(nonce.iter().copied())
        .ok_or_else(|| DecryptError::UnsupportedCipher("AES-GCM nonce length".into()))?;
    let tag: GenericArray<u8, T> = GenericArray::from_exact_iter(mac.iter().copied())
        .ok_or_else(|| DecryptError::Damaged("AES-GCM tag length".into()))?;
    cipher.decrypt_in_place_detached(&nonce, aad, buffer, &tag).map_err(|_| {
        DecryptError::Damaged(
            "AES-GCM authentication failed (damaged ciphertext, authAttrs or mac, or wrong \
             content key)"
                .into(),
        )
    })
}
