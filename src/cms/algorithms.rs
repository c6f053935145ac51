//! Names and strengths of the algorithms a CMS envelope or signature names by OID.

use super::{CipherStrength, CmsError, ContentCipher};
use const_oid::ObjectIdentifier as Oid;
use der::{Decode, Tag, Tagged};
use spki::AlgorithmIdentifierOwned;

/// The name this crate reports for `oid`: our own table first (stable, the spellings the JSON
/// output uses), then the `const-oid` database, then the dotted form.
pub(crate) fn algorithm_name(oid: &Oid) -> String {
    // Compared as OIDs, not formatted first: a message to many recipients names the same
    // algorithm once per RecipientInfo.
    if let Some((_, name)) = NAMES.iter().find(|(o, _)| o == oid) {
        return (*name).to_owned();
    }
    const_oid::db::DB.by_oid(oid).map_or_else(|| oid.to_string(), str::to_owned)
}

/// Key-management, digest and signature algorithms seen in S/MIME (RFC 8551 §2, RFC 5753,
/// RFC 8418, RFC 3565, RFC 3211, RFC 5754, RFC 4055).
const NAMES: &[(Oid, &str)] = &[
    // key transport (RFC 8551 §2.3, RFC 3560)
    (Oid::new_unwrap("1.2.840.113549.1.1.1"), "rsaEncryption"),
    (Oid::new_unwrap("1.2.840.113549.1.1.7"), "rsaes-oaep"),
    // key agreement (RFC 5753 §7.1.4, RFC 8418)
    (Oid::new_unwrap("1.3.133.16.840.63.0.2"), "dhSinglePass-stdDH-sha1kdf-scheme"),
    (Oid::new_unwrap("1.3.132.1.11.0"), "dhSinglePass-stdDH-sha224kdf-scheme"),
    (Oid::new_unwrap("1.3.132.1.11.1"), "dhSinglePass-stdDH-sha256kdf-scheme"),
    (Oid::new_unwrap("1.3.132.1.11.2"), "dhSinglePass-stdDH-sha384kdf-scheme"),
    (Oid::new_unwrap("1.3.132.1.11.3"), "dhSinglePass-stdDH-sha512kdf-scheme"),
    (Oid::new_unwrap("1.3.133.16.840.63.0.3"), "dhSinglePass-cofactorDH-sha1kdf-scheme"),
    (Oid::new_unwrap("1.3.132.1.14.0"), "dhSinglePass-cofactorDH-sha224kdf-scheme"),
    (Oid::new_unwrap("1.3.132.1.14.1"), "dhSinglePass-cofactorDH-sha256kdf-scheme"),
    (Oid::new_unwrap("1.3.132.1.14.2"), "dhSinglePass-cofactorDH-sha384kdf-scheme"),
    (Oid::new_unwrap("1.3.132.1.14.3"), "dhSinglePass-cofactorDH-sha512kdf-scheme"),
    (Oid::new_unwrap("1.3.133.16.840.63.0.16"), "mqvSinglePass-sha1kdf-scheme"),
    (Oid::new_unwrap("1.2.840.113549.1.9.16.3.19"), "dhSinglePass-stdDH-hkdf-sha256-scheme"),
    (Oid::new_unwrap("1.2.840.113549.1.9.16.3.20"), "dhSinglePass-stdDH-hkdf-sha384-scheme"),
    (Oid::new_unwrap("1.2.840.113549.1.9.16.3.21"), "dhSinglePass-stdDH-hkdf-sha512-scheme"),
    (Oid::new_unwrap("1.2.840.113549.1.9.16.3.5"), "esDH"),
    // key wrap and password (RFC 3394 / RFC 3565, RFC 3217, RFC 3211)
    (Oid::new_unwrap("2.16.840.1.101.3.4.1.5"), "aes128-wrap"),
    (Oid::new_unwrap("2.16.840.1.101.3.4.1.25"), "aes192-wrap"),
    (Oid::new_unwrap("2.16.840.1.101.3.4.1.45"), "aes256-wrap"),
    (Oid::new_unwrap("1.2.840.113549.1.9.16.3.6"), "cms3deswrap"),
    (Oid::new_unwrap("1.2.840.113549.1.9.16.3.9"), "pwri-kek"),
    // digests (RFC 5754, RFC 3370)
    (Oid::new_unwrap("1.2.840.113549.2.5"), "md5"),
    (Oid::new_unwrap("1.3.14.3.2.26"), "sha1"),
    (Oid::new_unwrap("2.16.840.1.101.3.4.2.4"), "sha224"),
    (Oid::new_unwrap("2.16.840.1.101.3.4.2.1"), "sha256"),
    (Oid::new_unwrap("2.16.840.1.101.3.4.2.2"), "sha384"),
    (Oid::new_unwrap("2.16.840.1.101.3.4.2.3"), "sha512"),
    // signatures (RFC 3370 §3.2, RFC 5754 §3, RFC 4056, RFC 8419)
    (Oid::new_unwrap("1.2.840.113549.1.1.4"), "md5WithRSAEncryption"),
    (Oid::new_unwrap("1.2.840.113549.1.1.5"), "sha1WithRSAEncryption"),
    (Oid::new_unwrap("1.2.840.113549.1.1.14"), "sha224WithRSAEncryption"),
    (Oid::new_unwrap("1.2.840.113549.1.1.11"), "sha256WithRSAEncryption"),
    (Oid::new_unwrap("1.2.840.113549.1.1.12"), "sha384WithRSAEncryption"),
    (Oid::new_unwrap("1.2.840.113549.1.1.13"), "sha512WithRSAEncryption"),
    (Oid::new_unwrap("1.2.840.113549.1.1.10"), "rsassa-pss"),
    (Oid::new_unwrap("1.2.840.10045.4.1"), "ecdsa-with-SHA1"),
    (Oid::new_unwrap("1.2.840.10045.4.3.1"), "ecdsa-with-SHA224"),
    (Oid::new_unwrap("1.2.840.10045.4.3.2"), "ecdsa-with-SHA256"),
    (Oid::new_unwrap("1.2.840.10045.4.3.3"), "ecdsa-with-SHA384"),
    (Oid::new_unwrap("1.2.840.10045.4.3.4"), "ecdsa-with-SHA512"),
    (Oid::new_unwrap("1.3.101.112"), "ed25519"),
    (Oid::new_unwrap("1.3.101.113"), "ed448"),
];

/// A content-encryption algorithm this crate knows: OID, name, key bits, strength.
struct KnownCipher {
    oid: &'static str,
    name: &'static str,
    key_bits: u32,
    strength: CipherStrength,
}

/// RFC 8551 §2.7 requires AES-128 GCM / AES-256 GCM to be supported and allows AES-128 CBC;
/// 3DES is kept for reading old mail only (weak: 112-bit effective strength, 64-bit block);
/// DES and RC2 are broken.
const CIPHERS: &[KnownCipher] = &[
    cipher("2.16.840.1.101.3.4.1.2", "aes-128-cbc", 128, CipherStrength::Strong),
    cipher("2.16.840.1.101.3.4.1.22", "aes-192-cbc", 192, CipherStrength::Strong),
    cipher("2.16.840.1.101.3.4.1.42", "aes-256-cbc", 256, CipherStrength::Strong),
    cipher("2.16.840.1.101.3.4.1.6", "aes-128-gcm", 128, CipherStrength::Strong),
    cipher("2.16.840.1.101.3.4.1.26", "aes-192-gcm", 192, CipherStrength::Strong),
    cipher("2.16.840.1.101.3.4.1.46", "aes-256-gcm", 256, CipherStrength::Strong),
    cipher("2.16.840.1.101.3.4.1.7", "aes-128-ccm", 128, CipherStrength::Strong),
    cipher("2.16.840.1.101.3.4.1.27", "aes-192-ccm", 192, CipherStrength::Strong),
    cipher("2.16.840.1.101.3.4.1.47", "aes-256-ccm", 256, CipherStrength::Strong),
    cipher("1.2.840.113549.1.9.16.3.18", "chacha20-poly1305", 256, CipherStrength::Strong),
    cipher("1.2.840.113549.3.7", "des-ede3-cbc", 168, CipherStrength::Weak),
    cipher("1.3.14.3.2.7", "des-cbc", 56, CipherStrength::Broken),
];

const fn cipher(
    oid: &'static str,
    name: &'static str,
    key_bits: u32,
    strength: CipherStrength,
) -> KnownCipher {
    KnownCipher { oid, name, key_bits, strength }
}

/// `rc2-cbc` (RFC 3370 §5.2).
const RC2_CBC: &str = "1.2.840.113549.3.2";

/// Describes a ContentEncryptionAlgorithmIdentifier (RFC 5652 §10.1.4).
///
/// An algorithm this crate does not know is reported by its dotted OID, without key size, as
/// [`CipherStrength::Strong`]: there is no ground to call it weak.
pub(crate) fn content_cipher(alg: &AlgorithmIdentifierOwned) -> Result<ContentCipher, CmsError> {
    let oid = alg.oid.to_string();
    if oid == RC2_CBC {
        let key_bits = rc2_effective_key_bits(alg)?;
        return Ok(ContentCipher {
            name: "rc2-cbc".to_owned(),
            oid,
            key_bits,
            strength: CipherStrength::Broken,
        });
    }
    Ok(match CIPHERS.iter().find(|c| c.oid == oid) {
        Some(c) => ContentCipher {
            name: c.name.to_owned(),
            oid,
            key_bits: Some(c.key_bits),
            strength: c.strength,
        },
        None => ContentCipher {
            name: oid.clone(),
            oid,
            key_bits: None,
            strength: CipherStrength::Strong,
        },
    })
}

/// The effective key bits of RC2 from its parameters (RFC 3370 §5.2, RFC 8018 §B.2.3):
///
/// ```asn1
/// RC2CBCParameter ::= SEQUENCE {
///   rc2ParameterVersion INTEGER OPTIONAL,
///   iv OCTET STRING (SIZE(8)) }
/// ```
///
/// Versions 160, 120 and 58 encode 40, 64 and 128 bits; a version of 256 or more is the bit
/// count itself; without a version RC2 uses 32 bits (RFC 2268 §6). Other versions below 256
/// encode rarely used sizes through RFC 2268's table and are reported as unknown (`None`).
fn rc2_effective_key_bits(alg: &AlgorithmIdentifierOwned) -> Result<Option<u32>, CmsError> {
    let bad = |why: &str| CmsError::Der(format!("rc2-cbc parameters: {why}"));
    let params = alg.parameters.as_ref().ok_or_else(|| bad("missing"))?;
    if params.tag() != Tag::Sequence {
        return Err(bad("not a SEQUENCE"));
    }
    let mut fields = params.value();
    let first = super::tlv::next(&mut fields).map_err(|e| bad(&e))?;
    if first.tag != 0x02 {
        return Ok(Some(32));
    }
    let version = der::asn1::Int::from_der(first.raw).map_err(|e| bad(&e.to_string()))?;
    let bytes = version.as_bytes();
    if bytes.len() > 4 || bytes.first().is_some_and(|b| b & 0x80 != 0) {
        return Ok(None);
    }
    let v = bytes.iter().fold(0u32, |acc, &b| (acc << 8) | u32::from(b));
    Ok(match v {
        160 => Some(40),
        120 => Some(64),
        58 => Some(128),
        v if v >= 256 => Some(v),
        _ => None,
    })
}
