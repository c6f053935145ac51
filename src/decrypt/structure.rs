//! The ASN.1 shapes decryption reads, where the `cms` crate's types do not fit.
//!
//! - The envelopes hold their RecipientInfos in wire order, decoded by the decoder inspection
//!   uses too ([`crate::cms::recipient_info`], which says why the `cms` crate's types do not do).
//! - `AuthEnvelopedData` (RFC 5083) and the parameter structures are not in `cms` 0.2 at all.

pub(crate) use crate::cms::recipient_info::{
    KeyAgreeRecipientIdentifier, KeyAgreeRecipientInfo, RecipientEncryptedKey, RecipientInfo,
    RecipientInfoList,
};
use cms::content_info::CmsVersion;
use cms::enveloped_data::{EncryptedContentInfo, OriginatorInfo};
use der::asn1::{ObjectIdentifier, OctetString};
use der::{DecodeValue, EncodeValue, FixedTag, Header, Length, Reader, Sequence, Tag, Writer};
use spki::AlgorithmIdentifierOwned;

/// The content octets of a `SET OF` kept as received (attributes: only their bytes matter here,
/// e.g. as GCM additional data), so that no re-encoding or sorting can change them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct RawSet(pub(crate) Vec<u8>);

impl FixedTag for RawSet {
    const TAG: Tag = Tag::Set;
}

impl<'a> DecodeValue<'a> for RawSet {
    fn decode_value<R: Reader<'a>>(reader: &mut R, header: Header) -> der::Result<Self> {
        Ok(RawSet(reader.read_vec(header.length)?))
    }
}

impl EncodeValue for RawSet {
    fn value_len(&self) -> der::Result<Length> {
        Length::try_from(self.0.len())
    }

    fn encode_value(&self, writer: &mut impl Writer) -> der::Result<()> {
        writer.write(&self.0)
    }
}

/// `EnvelopedData` (RFC 5652 §6.1), recipient order preserved.
///
/// ```asn1
/// EnvelopedData ::= SEQUENCE {
///   version CMSVersion,
///   originatorInfo [0] IMPLICIT OriginatorInfo OPTIONAL,
///   recipientInfos RecipientInfos,
///   encryptedContentInfo EncryptedContentInfo,
///   unprotectedAttrs [1] IMPLICIT UnprotectedAttributes OPTIONAL }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub(crate) struct EnvelopedData {
    pub(crate) version: CmsVersion,
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", constructed = "true", optional = "true")]
    pub(crate) originator_info: Option<OriginatorInfo>,
    pub(crate) recip_infos: RecipientInfoList,
    pub(crate) encrypted_content: EncryptedContentInfo,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", constructed = "true", optional = "true")]
    pub(crate) unprotected_attrs: Option<RawSet>,
}

/// `AuthEnvelopedData` (RFC 5083 §2.1).
///
/// ```asn1
/// AuthEnvelopedData ::= SEQUENCE {
///   version CMSVersion,
///   originatorInfo [0] IMPLICIT OriginatorInfo OPTIONAL,
///   recipientInfos RecipientInfos,
///   authEncryptedContentInfo EncryptedContentInfo,
///   authAttrs [1] IMPLICIT AuthAttributes OPTIONAL,
///   mac MessageAuthenticationCode,
///   unauthAttrs [2] IMPLICIT UnauthAttributes OPTIONAL }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub(crate) struct AuthEnvelopedData {
    pub(crate) version: CmsVersion,
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", constructed = "true", optional = "true")]
    pub(crate) originator_info: Option<OriginatorInfo>,
    pub(crate) recip_infos: RecipientInfoList,
    pub(crate) auth_encrypted_content: EncryptedContentInfo,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", constructed = "true", optional = "true")]
    pub(crate) auth_attrs: Option<RawSet>,
    pub(crate) mac: OctetString,
    #[asn1(context_specific = "2", tag_mode = "IMPLICIT", constructed = "true", optional = "true")]
    pub(crate) unauth_attrs: Option<RawSet>,
}

/// `RSAES-OAEP-params` (RFC 8017 §A.2.1; in CMS, RFC 3560 §3).
///
/// ```asn1
/// RSAES-OAEP-params ::= SEQUENCE {
///   hashAlgorithm      [0] HashAlgorithm    DEFAULT sha1,
///   maskGenAlgorithm   [1] MaskGenAlgorithm DEFAULT mgf1SHA1,
///   pSourceAlgorithm   [2] PSourceAlgorithm DEFAULT pSpecifiedEmpty }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub(crate) struct OaepParams {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub(crate) hash: Option<AlgorithmIdentifierOwned>,
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    pub(crate) mask_gen: Option<AlgorithmIdentifierOwned>,
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT", optional = "true")]
    pub(crate) p_source: Option<AlgorithmIdentifierOwned>,
}

/// `GCMParameters` (RFC 5084 §3.2).
///
/// ```asn1
/// GCMParameters ::= SEQUENCE {
///   aes-nonce        OCTET STRING, -- recommended size is 12 octets
///   aes-ICVlen       AES-GCM-ICVlen DEFAULT 12 }
/// AES-GCM-ICVlen ::= INTEGER (12 | 13 | 14 | 15 | 16)
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub(crate) struct GcmParameters {
    pub(crate) nonce: OctetString,
    pub(crate) icv_len: Option<u8>,
}

/// `ECC-CMS-SharedInfo` (RFC 5753 §7.2), the X9.63 KDF's SharedInfo.
///
/// ```asn1
/// ECC-CMS-SharedInfo ::= SEQUENCE {
///   keyInfo         AlgorithmIdentifier,
///   entityUInfo [0] EXPLICIT OCTET STRING OPTIONAL,
///   suppPubInfo [2] EXPLICIT OCTET STRING }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub(crate) struct EccCmsSharedInfo {
    pub(crate) key_info: AlgorithmIdentifierOwned,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub(crate) entity_u_info: Option<OctetString>,
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT")]
    pub(crate) supp_pub_info: OctetString,
}

/// `ECPrivateKey` (RFC 5915 §3), read here because its curve is needed before the key.
///
/// ```asn1
/// ECPrivateKey ::= SEQUENCE {
///   version        INTEGER { ecPrivkeyVer1(1) },
///   privateKey     OCTET STRING,
///   parameters [0] ECParameters {{ NamedCurve }} OPTIONAL,
///   publicKey  [1] BIT STRING OPTIONAL }
/// ```
///
/// Borrows the private key from the (zeroized) DER it was read from: no copy of the scalar is
/// made, and no `Debug` can print it.
#[derive(Sequence)]
pub(crate) struct EcPrivateKey<'a> {
    pub(crate) version: u8,
    pub(crate) private_key: der::asn1::OctetStringRef<'a>,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub(crate) parameters: Option<ObjectIdentifier>,
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    pub(crate) public_key: Option<der::asn1::BitString>,
}

/// Object identifiers used by decryption, named after their ASN.1 modules.
pub(crate) mod oid {
    use der::asn1::ObjectIdentifier as Oid;

    /// id-envelopedData (RFC 5652 §6.1).
    pub const ENVELOPED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.3");
    /// id-ct-authEnvelopedData (RFC 5083 §1).
    pub const AUTH_ENVELOPED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.1.23");

    /// rsaEncryption: RSAES-PKCS1-v1_5 key transport (RFC 3370 §4.2.1).
    pub const RSA_ENCRYPTION: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
    /// id-RSAES-OAEP (RFC 3560 §2.2).
    pub const RSAES_OAEP: Oid = Oid::new_unwrap("1.2.840.113549.1.1.7");
    /// id-mgf1 (RFC 8017 §B.2.1).
    pub const MGF1: Oid = Oid::new_unwrap("1.2.840.113549.1.1.8");
    /// id-pSpecified (RFC 8017 §A.2.1).
    pub const P_SPECIFIED: Oid = Oid::new_unwrap("1.2.840.113549.1.1.9");

    /// id-ecPublicKey (RFC 5480 §2.1.1).
    pub const EC_PUBLIC_KEY: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
    /// secp256r1 (RFC 5480 §2.1.1.1).
    pub const SECP256R1: Oid = Oid::new_unwrap("1.2.840.10045.3.1.7");
    /// secp384r1.
    pub const SECP384R1: Oid = Oid::new_unwrap("1.3.132.0.34");

    /// dhSinglePass-stdDH-sha1kdf-scheme (RFC 5753 §7.1.4).
    pub const STD_DH_SHA1KDF: Oid = Oid::new_unwrap("1.3.133.16.840.63.0.2");
    /// dhSinglePass-cofactorDH-sha1kdf-scheme.
    pub const COFACTOR_DH_SHA1KDF: Oid = Oid::new_unwrap("1.3.133.16.840.63.0.3");
    /// dhSinglePass-stdDH-sha224kdf-scheme .. sha512 (RFC 5753 §7.1.4): 1.3.132.1.11.{0..3}.
    pub const STD_DH_SHA224KDF: Oid = Oid::new_unwrap("1.3.132.1.11.0");
    pub const STD_DH_SHA256KDF: Oid = Oid::new_unwrap("1.3.132.1.11.1");
    pub const STD_DH_SHA384KDF: Oid = Oid::new_unwrap("1.3.132.1.11.2");
    pub const STD_DH_SHA512KDF: Oid = Oid::new_unwrap("1.3.132.1.11.3");
    /// dhSinglePass-cofactorDH-sha224kdf-scheme .. sha512: 1.3.132.1.14.{0..3}.
    pub const COFACTOR_DH_SHA224KDF: Oid = Oid::new_unwrap("1.3.132.1.14.0");
    pub const COFACTOR_DH_SHA256KDF: Oid = Oid::new_unwrap("1.3.132.1.14.1");
    pub const COFACTOR_DH_SHA384KDF: Oid = Oid::new_unwrap("1.3.132.1.14.2");
    pub const COFACTOR_DH_SHA512KDF: Oid = Oid::new_unwrap("1.3.132.1.14.3");

    /// id-aes128-wrap, id-aes192-wrap, id-aes256-wrap (RFC 3565 §2.3.2).
    pub const AES128_WRAP: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.1.5");
    pub const AES192_WRAP: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.1.25");
    pub const AES256_WRAP: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.1.45");

    /// id-aes128-CBC, id-aes192-CBC, id-aes256-CBC (RFC 3565 §4.1).
    pub const AES128_CBC: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.1.2");
    pub const AES192_CBC: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.1.22");
    pub const AES256_CBC: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.1.42");
    /// id-aes128-GCM, id-aes192-GCM, id-aes256-GCM (RFC 5084 §3.2).
    pub const AES128_GCM: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.1.6");
    pub const AES192_GCM: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.1.26");
    pub const AES256_GCM: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.1.46");
    /// id-aes128-CCM, id-aes192-CCM, id-aes256-CCM (RFC 5084 §3.1).
    pub const AES128_CCM: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.1.7");
    pub const AES192_CCM: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.1.27");
    pub const AES256_CCM: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.1.47");
    /// des-ede3-cbc (RFC 3370 §5.1).
    pub const DES_EDE3_CBC: Oid = Oid::new_unwrap("1.2.840.113549.3.7");
    /// rc2-cbc (RFC 3370 §5.2).
    pub const RC2_CBC: Oid = Oid::new_unwrap("1.2.840.113549.3.2");
    /// desCBC (OIW).
    pub const DES_CBC: Oid = Oid::new_unwrap("1.3.14.3.2.7");

    /// Hash algorithms (RFC 5754).
    pub const SHA1: Oid = Oid::new_unwrap("1.3.14.3.2.26");
    pub const SHA224: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.4");
    pub const SHA256: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.1");
    pub const SHA384: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.2");
    pub const SHA512: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.3");
}
