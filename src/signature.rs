//! Signature verification with RustCrypto: the one primitive certificate chains (and, later,
//! harvesting of signed mail) need. No cryptography is written here; this module only maps
//! AlgorithmIdentifiers to the right RustCrypto verifier.
//!
//! Supported:
//!
//! * RSASSA-PKCS1-v1_5 (RFC 8017 §8.2): `sha1/sha224/sha256/sha384/sha512WithRSAEncryption`
//!   (RFC 4055 §5), or `rsaEncryption` plus a digest hint (how CMS SignerInfos name it,
//!   RFC 5754 §3.2);
//! * RSASSA-PSS (RFC 4055 §3.1) with explicit parameters, when the MGF1 digest equals the
//!   message digest (the only combination RFC 8551 §2.2 and RFC 5756 use);
//! * ECDSA on P-256 and P-384 (RFC 5758 §3.2): `ecdsa-with-SHA224/256/384/512`, `ecdsa-with-SHA1`,
//!   or `id-ecPublicKey` plus a digest hint. The signature is the DER `Ecdsa-Sig-Value`
//!   (RFC 5480 §2.2... RFC 3279 §2.2.3).
//!
//! Not supported (→ [`SignatureError::UnsupportedAlgorithm`]): P-521 (no verifier among the
//! crate's dependencies), Ed25519/Ed448, DSA, MD2/MD5. SHA-1 is verified: it still signs old
//! mail and certificates, and rejecting it is a policy decision for the caller; chain building
//! asks [`signature_hash`] and refuses SHA-1 links unless
//! [`Policy::allow_sha1_signatures`](crate::Policy::allow_sha1_signatures) says otherwise.

use const_oid::ObjectIdentifier;
use der::{Decode, Encode};
use ecdsa::signature::hazmat::PrehashVerifier;
use rsa::{BigUint, Pkcs1v15Sign, Pss, RsaPublicKey};
use sha2::Digest as _;

/// Largest RSA modulus accepted, in bits (rsa's default is 4096; real S/MIME keys go to 8192).
const MAX_RSA_BITS: usize = 16384;

/// Why a signature was not accepted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The signature or key algorithm is not one this crate verifies.
    #[error("unsupported signature algorithm: {0}")]
    UnsupportedAlgorithm(String),
    /// The public key cannot be decoded or does not fit the algorithm.
    #[error("unusable public key: {0}")]
    BadKey(String),
    /// The signature value (or the algorithm parameters) are not well formed.
    #[error("malformed signature: {0}")]
    BadEncoding(String),
    /// Well-formed, but it does not verify: wrong key, or the message was changed.
    #[error("signature does not match")]
    Mismatch,
}

mod oid {
    use const_oid::ObjectIdentifier as Oid;

    pub const SHA1: Oid = Oid::new_unwrap("1.3.14.3.2.26");
    pub const SHA224: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.4");
    pub const SHA256: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.1");
    pub const SHA384: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.2");
    pub const SHA512: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.3");

    pub const RSA_ENCRYPTION: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
    pub const SHA1_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.5");
    pub const SHA256_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.11");
    pub const SHA384_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.12");
    pub const SHA512_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.13");
    pub const SHA224_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.14");
    pub const RSASSA_PSS: Oid = Oid::new_unwrap("1.2.840.113549.1.1.10");
    pub const MD2_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.2");
    pub const MD4_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.3");
    pub const MD5_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.4");
    pub const MGF1: Oid = Oid::new_unwrap("1.2.840.113549.1.1.8");

    pub const EC_PUBLIC_KEY: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
    pub const ECDSA_WITH_SHA1: Oid = Oid::new_unwrap("1.2.840.10045.4.1");
    pub const ECDSA_WITH_SHA224: Oid = Oid::new_unwrap("1.2.840.10045.4.3.1");
    pub const ECDSA_WITH_SHA256: Oid = Oid::new_unwrap("1.2.840.10045.4.3.2");
    pub const ECDSA_WITH_SHA384: Oid = Oid::new_unwrap("1.2.840.10045.4.3.3");
    pub const ECDSA_WITH_SHA512: Oid = Oid::new_unwrap("1.2.840.10045.4.3.4");
    pub const SECP256R1: Oid = Oid::new_unwrap("1.2.840.10045.3.1.7");
    pub const SECP384R1: Oid = Oid::new_unwrap("1.3.132.0.34");
}

/// The message digests signatures here may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DigestAlg {
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl DigestAlg {
    fn from_oid(oid: &ObjectIdentifier) -> Result<Self, SignatureError> {
        Ok(match *oid {
            oid::SHA1 => DigestAlg::Sha1,
            oid::SHA224 => DigestAlg::Sha224,
            oid::SHA256 => DigestAlg::Sha256,
            oid::SHA384 => DigestAlg::Sha384,
            oid::SHA512 => DigestAlg::Sha512,
            other => {
                return Err(SignatureError::UnsupportedAlgorithm(format!("digest {other}")));
            }
        })
    }

    fn digest(self, message: &[u8]) -> Vec<u8> {
        match self {
            DigestAlg::Sha1 => sha1::Sha1::digest(message).to_vec(),
            DigestAlg::Sha224 => sha2::Sha224::digest(message).to_vec(),
            DigestAlg::Sha256 => sha2::Sha256::digest(message).to_vec(),
            DigestAlg::Sha384 => sha2::Sha384::digest(message).to_vec(),
            DigestAlg::Sha512 => sha2::Sha512::digest(message).to_vec(),
        }
    }

    fn pkcs1v15(self) -> Pkcs1v15Sign {
        match self {
            DigestAlg::Sha1 => Pkcs1v15Sign::new::<sha1::Sha1>(),
            DigestAlg::Sha224 => Pkcs1v15Sign::new::<sha2::Sha224>(),
            DigestAlg::Sha256 => Pkcs1v15Sign::new::<sha2::Sha256>(),
            DigestAlg::Sha384 => Pkcs1v15Sign::new::<sha2::Sha384>(),
            DigestAlg::Sha512 => Pkcs1v15Sign::new::<sha2::Sha512>(),
        }
    }

    fn pss(self, salt_len: usize) -> Pss {
        match self {
            DigestAlg::Sha1 => Pss::new_with_salt::<sha1::Sha1>(salt_len),
            DigestAlg::Sha224 => Pss::new_with_salt::<sha2::Sha224>(salt_len),
            DigestAlg::Sha256 => Pss::new_with_salt::<sha2::Sha256>(salt_len),
            DigestAlg::Sha384 => Pss::new_with_salt::<sha2::Sha384>(salt_len),
            DigestAlg::Sha512 => Pss::new_with_salt::<sha2::Sha512>(salt_len),
        }
    }
}

/// The hash a signature algorithm signs with, as far as strength policy cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignatureHash {
    /// MD2, MD4 or MD5 (RFC 6151, RFC 6149): collisions are practical; never accepted.
    Broken(&'static str),
    /// SHA-1 (RFC 3279 §2.2): chosen-prefix collisions are practical (2020); refused on
    /// certificate chains unless the policy allows it.
    Sha1,
    /// SHA-224 or larger, or an algorithm this crate does not verify anyway.
    Other,
}

/// What hash the signature algorithm `algorithm` uses: `sha1WithRSAEncryption`,
/// `ecdsa-with-SHA1` and RSASSA-PSS with SHA-1 (also its absent-parameters default) are
/// [`SignatureHash::Sha1`]; `md2/md4/md5WithRSAEncryption` are [`SignatureHash::Broken`].
pub fn signature_hash(algorithm: &spki::AlgorithmIdentifierOwned) -> SignatureHash {
    match algorithm.oid {
        oid::MD2_WITH_RSA => SignatureHash::Broken("MD2"),
        oid::MD4_WITH_RSA => SignatureHash::Broken("MD4"),
        oid::MD5_WITH_RSA => SignatureHash::Broken("MD5"),
        oid::SHA1_WITH_RSA | oid::ECDSA_WITH_SHA1 => SignatureHash::Sha1,
        oid::RSASSA_PSS => match pss_scheme(algorithm.parameters.as_ref()) {
            Ok(Scheme::Pss { digest: DigestAlg::Sha1, .. }) => SignatureHash::Sha1,
            _ => SignatureHash::Other,
        },
        _ => SignatureHash::Other,
    }
}

/// The verification scheme an AlgorithmIdentifier selects.
enum Scheme {
    Pkcs1v15(DigestAlg),
    Pss { digest: DigestAlg, salt_len: usize },
    Ecdsa(DigestAlg),
}

/// The digest of `message` with the digest algorithm `oid` (SHA-1, SHA-224/256/384/512): what
/// a CMS messageDigest attribute holds (RFC 5652 §11.2).
pub fn digest(oid: &ObjectIdentifier, message: &[u8]) -> Result<Vec<u8>, SignatureError> {
    Ok(DigestAlg::from_oid(oid)?.digest(message))
}

/// Verifies `signature` over `message` with the key in `spki`.
///
/// `algorithm` is the signature AlgorithmIdentifier (`sha*WithRSAEncryption`, RSASSA-PSS with its
/// parameters, `ecdsa-with-SHA*`); for CMS SignerInfos that say only `rsaEncryption` or
/// `id-ecPublicKey`, pass the digest OID in `digest_hint`.
pub fn verify_signature(
    spki: &spki::SubjectPublicKeyInfoOwned,
    algorithm: &spki::AlgorithmIdentifierOwned,
    digest_hint: Option<&ObjectIdentifier>,
    message: &[u8],
    signature: &[u8],
) -> Result<(), SignatureError> {
    let hinted = || {
        digest_hint.map(DigestAlg::from_oid).unwrap_or_else(|| {
            Err(SignatureError::UnsupportedAlgorithm(format!(
                "{} without a digest algorithm",
                algorithm.oid
            )))
        })
    };
    let scheme = match algorithm.oid {
        oid::SHA1_WITH_RSA => Scheme::Pkcs1v15(DigestAlg::Sha1),
        oid::SHA224_WITH_RSA => Scheme::Pkcs1v15(DigestAlg::Sha224),
        oid::SHA256_WITH_RSA => Scheme::Pkcs1v15(DigestAlg::Sha256),
        oid::SHA384_WITH_RSA => Scheme::Pkcs1v15(DigestAlg::Sha384),
        oid::SHA512_WITH_RSA => Scheme::Pkcs1v15(DigestAlg::Sha512),
        oid::RSA_ENCRYPTION => Scheme::Pkcs1v15(hinted()?),
        oid::RSASSA_PSS => pss_scheme(algorithm.parameters.as_ref())?,
        oid::ECDSA_WITH_SHA1 => Scheme::Ecdsa(DigestAlg::Sha1),
        oid::ECDSA_WITH_SHA224 => Scheme::Ecdsa(DigestAlg::Sha224),
        oid::ECDSA_WITH_SHA256 => Scheme::Ecdsa(DigestAlg::Sha256),
        oid::ECDSA_WITH_SHA384 => Scheme::Ecdsa(DigestAlg::Sha384),
        oid::ECDSA_WITH_SHA512 => Scheme::Ecdsa(DigestAlg::Sha512),
        oid::EC_PUBLIC_KEY => Scheme::Ecdsa(hinted()?),
        other => return Err(SignatureError::UnsupportedAlgorithm(other.to_string())),
    };
    match scheme {
        Scheme::Pkcs1v15(digest) => {
            let key = rsa_key(spki)?;
            key.verify(digest.pkcs1v15(), &digest.digest(message), signature)
                .map_err(|_| SignatureError::Mismatch)
        }
        Scheme::Pss { digest, salt_len } => {
            let key = rsa_key(spki)?;
            key.verify(digest.pss(salt_len), &digest.digest(message), signature)
                .map_err(|_| SignatureError::Mismatch)
        }
        Scheme::Ecdsa(digest) => verify_ecdsa(spki, &digest.digest(message), signature),
    }
}

/// RSASSA-PSS-params (RFC 4055 §3.1). Absent parameters mean SHA-1, MGF1-SHA-1, salt 20.
fn pss_scheme(parameters: Option<&der::Any>) -> Result<Scheme, SignatureError> {
    let bad = |e: der::Error| SignatureError::BadEncoding(format!("RSASSA-PSS parameters: {e}"));
    let Some(parameters) = parameters else {
        return Ok(Scheme::Pss { digest: DigestAlg::Sha1, salt_len: 20 });
    };
    let der = parameters.to_der().map_err(bad)?;
    let params = rsa::pkcs1::RsaPssParams::from_der(&der).map_err(bad)?;
    let digest = DigestAlg::from_oid(&params.hash.oid)?;
    if params.mask_gen.oid != oid::MGF1 {
        return Err(SignatureError::UnsupportedAlgorithm(format!(
            "RSASSA-PSS mask generation {}",
            params.mask_gen.oid
        )));
    }
    let mgf_digest = params
        .mask_gen
        .parameters
        .as_ref()
        .map_or(Ok(DigestAlg::Sha1), |p| DigestAlg::from_oid(&p.oid))?;
    if mgf_digest != digest {
        return Err(SignatureError::UnsupportedAlgorithm(
            "RSASSA-PSS with an MGF1 digest other than the message digest".to_owned(),
        ));
    }
    Ok(Scheme::Pss { digest, salt_len: usize::from(params.salt_len) })
}

/// The RSA key of an `rsaEncryption` (or RSASSA-PSS) SubjectPublicKeyInfo.
fn rsa_key(spki: &spki::SubjectPublicKeyInfoOwned) -> Result<RsaPublicKey, SignatureError> {
    if spki.algorithm.oid != oid::RSA_ENCRYPTION && spki.algorithm.oid != oid::RSASSA_PSS {
        return Err(SignatureError::BadKey(format!(
            "an RSA signature needs an RSA key, not {}",
            spki.algorithm.oid
        )));
    }
    let bytes = spki
        .subject_public_key
        .as_bytes()
        .ok_or_else(|| SignatureError::BadKey("public key BIT STRING has unused bits".into()))?;
    let key = rsa::pkcs1::RsaPublicKey::from_der(bytes)
        .map_err(|e| SignatureError::BadKey(format!("RSAPublicKey: {e}")))?;
    RsaPublicKey::new_with_max_size(
        BigUint::from_bytes_be(key.modulus.as_bytes()),
        BigUint::from_bytes_be(key.public_exponent.as_bytes()),
        MAX_RSA_BITS,
    )
    .map_err(|e| SignatureError::BadKey(e.to_string()))
}

/// ECDSA over a message digest (prehash), on the curve the key names.
fn verify_ecdsa(
    spki: &spki::SubjectPublicKeyInfoOwned,
    prehash: &[u8],
    signature: &[u8],
) -> Result<(), SignatureError> {
    if spki.algorithm.oid != oid::EC_PUBLIC_KEY {
        return Err(SignatureError::BadKey(format!(
            "an ECDSA signature needs an EC key, not {}",
            spki.algorithm.oid
        )));
    }
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
        .ok_or_else(|| SignatureError::BadKey("EC key without a named curve".into()))?;
    let point = spki
        .subject_public_key
        .as_bytes()
        .ok_or_else(|| SignatureError::BadKey("public key BIT STRING has unused bits".into()))?;
    let bad_key = |_| SignatureError::BadKey("not a point on the curve".into());
    let bad_sig = |_| SignatureError::BadEncoding("not a DER Ecdsa-Sig-Value".into());
    match curve {
        oid::SECP256R1 => {
            let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(point).map_err(bad_key)?;
            let sig = p256::ecdsa::DerSignature::from_bytes(signature).map_err(bad_sig)?;
            key.verify_prehash(prehash, &sig).map_err(|_| SignatureError::Mismatch)
        }
        oid::SECP384R1 => {
            let key = p384::ecdsa::VerifyingKey::from_sec1_bytes(point).map_err(bad_key)?;
            let sig = p384::ecdsa::DerSignature::from_bytes(signature).map_err(bad_sig)?;
            key.verify_prehash(prehash, &sig).map_err(|_| SignatureError::Mismatch)
        }
        other => Err(SignatureError::UnsupportedAlgorithm(format!("ECDSA on curve {other}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;
    use spki::AlgorithmIdentifierOwned;

    fn cert(path: &str) -> x509_cert::Certificate {
        let pem = std::fs::read_to_string(format!("testdata/certs/{path}")).unwrap();
        let (_, der) = pem_rfc7468::decode_vec(pem.as_bytes()).unwrap();
        x509_cert::Certificate::from_der(&der).unwrap()
    }

    fn check(
        child: &x509_cert::Certificate,
        issuer: &x509_cert::Certificate,
    ) -> Result<(), SignatureError> {
        verify_signature(
            &issuer.tbs_certificate.subject_public_key_info,
            &child.signature_algorithm,
            None,
            &child.tbs_certificate.to_der().unwrap(),
            child.signature.raw_bytes(),
        )
    }

    #[rstest]
    #[case("store/bob.pem", "ca/intermediate.pem", true)]
    #[case("store/carol.pem", "ca/intermediate.pem", true)]
    #[case("ca/intermediate.pem", "ca/root.pem", true)]
    #[case("ca/root.pem", "ca/root.pem", true)]
    #[case("store/zoe-serial-clash.pem", "ca/intermediate-g2.pem", true)]
    #[case("store/zoe-serial-clash.pem", "ca/intermediate.pem", false)]
    #[case("store/mallory-untrusted.pem", "ca/root.pem", false)]
    fn certificate_signatures(#[case] child: &str, #[case] issuer: &str, #[case] ok: bool) {
        let result = check(&cert(child), &cert(issuer));
        if ok {
            assert_eq!(result, Ok(()));
        } else {
            assert_eq!(result, Err(SignatureError::Mismatch));
        }
    }

    #[test]
    fn a_changed_message_is_a_mismatch() {
        let bob = cert("store/bob.pem");
        let inter = cert("ca/intermediate.pem");
        let mut tbs = bob.tbs_certificate.to_der().unwrap();
        let last = tbs.len() - 1;
        tbs[last] ^= 1;
        let r = verify_signature(
            &inter.tbs_certificate.subject_public_key_info,
            &bob.signature_algorithm,
            None,
            &tbs,
            bob.signature.raw_bytes(),
        );
        assert_eq!(r, Err(SignatureError::Mismatch));
    }

    #[test]
    fn rsa_encryption_needs_a_digest_hint() {
        let bob = cert("store/bob.pem");
        let inter = cert("ca/intermediate.pem");
        let alg = AlgorithmIdentifierOwned { oid: oid::RSA_ENCRYPTION, parameters: None };
        let tbs = bob.tbs_certificate.to_der().unwrap();
        let spki = &inter.tbs_certificate.subject_public_key_info;
        let sig = bob.signature.raw_bytes();
        assert!(matches!(
            verify_signature(spki, &alg, None, &tbs, sig),
            Err(SignatureError::UnsupportedAlgorithm(_))
        ));
        assert_eq!(verify_signature(spki, &alg, Some(&oid::SHA256), &tbs, sig), Ok(()));
        assert_eq!(
            verify_signature(spki, &alg, Some(&oid::SHA384), &tbs, sig),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn key_type_must_fit_the_algorithm() {
        let bob = cert("store/bob.pem");
        let carol = cert("store/carol.pem");
        let r = verify_signature(
            &carol.tbs_certificate.subject_public_key_info,
            &bob.signature_algorithm,
            None,
            b"x",
            bob.signature.raw_bytes(),
        );
        assert!(matches!(r, Err(SignatureError::BadKey(_))), "{r:?}");
    }

    #[test]
    fn ed25519_is_unsupported() {
        let ivan = cert("store/ivan-ed25519.pem");
        let alg = AlgorithmIdentifierOwned {
            oid: ObjectIdentifier::new_unwrap("1.3.101.112"),
            parameters: None,
        };
        let r = verify_signature(
            &ivan.tbs_certificate.subject_public_key_info,
            &alg,
            None,
            b"x",
            &[0; 64],
        );
        assert!(matches!(r, Err(SignatureError::UnsupportedAlgorithm(_))), "{r:?}");
    }

    #[test]
    fn garbage_ecdsa_signature_is_an_encoding_error() {
        let carol = cert("store/carol.pem");
        let alg = AlgorithmIdentifierOwned { oid: oid::ECDSA_WITH_SHA256, parameters: None };
        let r = verify_signature(
            &carol.tbs_certificate.subject_public_key_info,
            &alg,
            None,
            b"x",
            b"junk",
        );
        assert!(matches!(r, Err(SignatureError::BadEncoding(_))), "{r:?}");
    }

    #[test]
    fn ecdsa_p256_with_sha256_and_with_a_digest_hint() {
        use p256::pkcs8::DecodePrivateKey;
        let pem = std::fs::read_to_string("testdata/certs/keys/carol.key").unwrap();
        let key = p256::ecdsa::SigningKey::from_pkcs8_pem(&pem).unwrap();
        let sig: p256::ecdsa::DerSignature =
            ecdsa::signature::Signer::<p256::ecdsa::Signature>::sign(&key, b"hello").to_der();
        let carol = cert("store/carol.pem");
        let spki = &carol.tbs_certificate.subject_public_key_info;
        let alg = AlgorithmIdentifierOwned { oid: oid::ECDSA_WITH_SHA256, parameters: None };
        assert_eq!(verify_signature(spki, &alg, None, b"hello", sig.as_bytes()), Ok(()));
        assert_eq!(
            verify_signature(spki, &alg, None, b"hellO", sig.as_bytes()),
            Err(SignatureError::Mismatch)
        );
        let bare = AlgorithmIdentifierOwned { oid: oid::EC_PUBLIC_KEY, parameters: None };
        assert_eq!(
            verify_signature(spki, &bare, Some(&oid::SHA256), b"hello", sig.as_bytes()),
            Ok(())
        );
        // Another EC key (walter's) does not verify carol's signature.
        let walter = cert("store/walter-ec-keyenc.pem");
        assert_eq!(
            verify_signature(
                &walter.tbs_certificate.subject_public_key_info,
                &alg,
                None,
                b"hello",
                sig.as_bytes()
            ),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn rsassa_pss_with_explicit_parameters() {
        use rsa::pkcs8::DecodePrivateKey;
        let pem = std::fs::read_to_string("testdata/certs/keys/bob.key").unwrap();
        let key = rsa::RsaPrivateKey::from_pkcs8_pem(&pem).unwrap();
        let hashed = sha2::Sha256::digest(b"hello");
        let sig = key
            .sign_with_rng(&mut rand::thread_rng(), Pss::new_with_salt::<sha2::Sha256>(32), &hashed)
            .unwrap();
        let params = rsa::pkcs1::RsaPssParams::new::<sha2::Sha256>(32).to_der().unwrap();
        let alg = AlgorithmIdentifierOwned {
            oid: oid::RSASSA_PSS,
            parameters: Some(der::Any::from_der(&params).unwrap()),
        };
        let bob = cert("store/bob.pem");
        let spki = &bob.tbs_certificate.subject_public_key_info;
        assert_eq!(verify_signature(spki, &alg, None, b"hello", &sig), Ok(()));
        assert_eq!(verify_signature(spki, &alg, None, b"bye", &sig), Err(SignatureError::Mismatch));
        // The salt length is part of the parameters: a different one does not verify.
        let params20 = rsa::pkcs1::RsaPssParams::new::<sha2::Sha256>(20).to_der().unwrap();
        let alg20 = AlgorithmIdentifierOwned {
            oid: oid::RSASSA_PSS,
            parameters: Some(der::Any::from_der(&params20).unwrap()),
        };
        assert_eq!(
            verify_signature(spki, &alg20, None, b"hello", &sig),
            Err(SignatureError::Mismatch)
        );
    }
}
