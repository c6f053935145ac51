//! The one decoder of `RecipientInfo` (RFC 5652 §6.2), shared by inspection ([`super::inspect`])
//! and decryption ([`crate::decrypt`]), so that both judge an envelope's recipients alike.
//!
//! Why not the `cms` crate's types:
//!
//! - `cms::enveloped_data::EnvelopedData` decodes `RecipientInfos` into a `SetOfVec`, which
//!   sorts the elements and rejects duplicates; reports name a RecipientInfo by its position on
//!   the wire and count repeated ones, so [`RecipientInfoList`] keeps the order as encoded.
//! - `cms` 0.2.3 declares `KeyAgreeRecipientIdentifier.rKeyId` as a *primitive* `[0]`, but
//!   `RecipientKeyIdentifier` is a SEQUENCE, so its IMPLICIT tag is constructed (`A0`): every
//!   kari made with `openssl cms -encrypt -keyid` to an EC recipient would fail to decode. The
//!   kari types are mirrored here with the right tag.
//!
//! A kari is decoded whole, as decryption needs it: version, originator (an
//! `OriginatorIdentifierOrKey`), ukm, key-encryption algorithm, and at least one
//! RecipientEncryptedKey, each with its `rid` and `encryptedKey`. One that does not decode is
//! malformed for both the audit (`malformed-smime`) and decryption.
//!
//! kekri, pwri and ori are kept as raw bytes: they cannot be opened with a private key, and a
//! malformed one must not hide the RecipientInfos that can. Inspection reads their algorithm
//! separately.

use cms::cert::IssuerAndSerialNumber;
use cms::content_info::CmsVersion;
use cms::enveloped_data::{KeyTransRecipientInfo, OriginatorIdentifierOrKey};
use der::asn1::{GeneralizedTime, OctetString};
use der::{
    Any, Choice, DecodeValue, Encode, EncodeValue, FixedTag, Header, Length, Reader, Sequence, Tag,
    Writer,
};
use spki::AlgorithmIdentifierOwned;
use x509_cert::ext::pkix::SubjectKeyIdentifier;

/// `RecipientInfos ::= SET SIZE (1..MAX) OF RecipientInfo` (RFC 5652 §6.1), in wire order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct RecipientInfoList(pub(crate) Vec<RecipientInfo>);

impl FixedTag for RecipientInfoList {
    const TAG: Tag = Tag::Set;
}

impl<'a> DecodeValue<'a> for RecipientInfoList {
    fn decode_value<R: Reader<'a>>(reader: &mut R, header: Header) -> der::Result<Self> {
        reader.read_nested(header.length, |inner| {
            let mut list = Vec::new();
            while !inner.is_finished() {
                list.push(inner.decode()?);
            }
            Ok(RecipientInfoList(list))
        })
    }
}

impl EncodeValue for RecipientInfoList {
    fn value_len(&self) -> der::Result<Length> {
        self.0.iter().try_fold(Length::ZERO, |len, ri| len + ri.encoded_len()?)
    }

    fn encode_value(&self, writer: &mut impl Writer) -> der::Result<()> {
        self.0.iter().try_for_each(|ri| ri.encode(writer))
    }
}

/// `RecipientInfo` (RFC 5652 §6.2).
///
/// ```asn1
/// RecipientInfo ::= CHOICE {
///   ktri KeyTransRecipientInfo,
///   kari [1] KeyAgreeRecipientInfo,
///   kekri [2] KEKRecipientInfo,
///   pwri [3] PasswordRecipientInfo,
///   ori [4] OtherRecipientInfo }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Choice)]
pub(crate) enum RecipientInfo {
    Ktri(KeyTransRecipientInfo),
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", constructed = "true")]
    Kari(KeyAgreeRecipientInfo),
    #[asn1(context_specific = "2", tag_mode = "IMPLICIT", constructed = "true")]
    Kekri(RawSequence),
    #[asn1(context_specific = "3", tag_mode = "IMPLICIT", constructed = "true")]
    Pwri(RawSequence),
    #[asn1(context_specific = "4", tag_mode = "IMPLICIT", constructed = "true")]
    Ori(RawSequence),
}

/// `KeyAgreeRecipientInfo` (RFC 5652 §6.2.2).
///
/// ```asn1
/// KeyAgreeRecipientInfo ::= SEQUENCE {
///   version CMSVersion,  -- always set to 3
///   originator [0] EXPLICIT OriginatorIdentifierOrKey,
///   ukm [1] EXPLICIT UserKeyingMaterial OPTIONAL,
///   keyEncryptionAlgorithm KeyEncryptionAlgorithmIdentifier,
///   recipientEncryptedKeys RecipientEncryptedKeys }
/// RecipientEncryptedKeys ::= SEQUENCE OF RecipientEncryptedKey
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub(crate) struct KeyAgreeRecipientInfo {
    pub(crate) version: CmsVersion,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    pub(crate) originator: OriginatorIdentifierOrKey,
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    pub(crate) ukm: Option<OctetString>,
    pub(crate) key_enc_alg: AlgorithmIdentifierOwned,
    pub(crate) recipient_enc_keys: RecipientEncryptedKeys,
}

/// `RecipientEncryptedKeys ::= SEQUENCE OF RecipientEncryptedKey` (RFC 5652 §6.2.2), in wire
/// order. An empty one is refused: a kari that encrypts the key for nobody is no recipient, and
/// both clients and this crate would skip it silently.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct RecipientEncryptedKeys(pub(crate) Vec<RecipientEncryptedKey>);

impl FixedTag for RecipientEncryptedKeys {
    const TAG: Tag = Tag::Sequence;
}

impl<'a> DecodeValue<'a> for RecipientEncryptedKeys {
    fn decode_value<R: Reader<'a>>(reader: &mut R, header: Header) -> der::Result<Self> {
        let keys = reader.read_nested(header.length, |inner| {
            let mut keys = Vec::new();
            while !inner.is_finished() {
                keys.push(inner.decode()?);
            }
            Ok(keys)
        })?;
        if keys.is_empty() {
            return Err(Tag::Sequence.value_error());
        }
        Ok(RecipientEncryptedKeys(keys))
    }
}

impl EncodeValue for RecipientEncryptedKeys {
    fn value_len(&self) -> der::Result<Length> {
        self.0.iter().try_fold(Length::ZERO, |len, rek| len + rek.encoded_len()?)
    }

    fn encode_value(&self, writer: &mut impl Writer) -> der::Result<()> {
        self.0.iter().try_for_each(|rek| rek.encode(writer))
    }
}

/// `RecipientEncryptedKey` (RFC 5652 §6.2.2).
///
/// ```asn1
/// RecipientEncryptedKey ::= SEQUENCE {
///   rid KeyAgreeRecipientIdentifier,
///   encryptedKey EncryptedKey }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub(crate) struct RecipientEncryptedKey {
    pub(crate) rid: KeyAgreeRecipientIdentifier,
    pub(crate) enc_key: OctetString,
}

/// `KeyAgreeRecipientIdentifier` (RFC 5652 §6.2.2); `rKeyId` is a constructed `[0]`.
///
/// ```asn1
/// KeyAgreeRecipientIdentifier ::= CHOICE {
///   issuerAndSerialNumber IssuerAndSerialNumber,
///   rKeyId [0] IMPLICIT RecipientKeyIdentifier }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Choice)]
pub(crate) enum KeyAgreeRecipientIdentifier {
    IssuerAndSerialNumber(IssuerAndSerialNumber),
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", constructed = "true")]
    RKeyId(RecipientKeyIdentifier),
}

/// `RecipientKeyIdentifier` (RFC 5652 §6.2.2).
///
/// ```asn1
/// RecipientKeyIdentifier ::= SEQUENCE {
///   subjectKeyIdentifier SubjectKeyIdentifier,
///   date GeneralizedTime OPTIONAL,
///   other OtherKeyAttribute OPTIONAL }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub(crate) struct RecipientKeyIdentifier {
    pub(crate) subject_key_identifier: SubjectKeyIdentifier,
    pub(crate) date: Option<GeneralizedTime>,
    pub(crate) other: Option<Any>,
}

/// The content octets of a SEQUENCE we do not look into.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct RawSequence(pub(crate) Vec<u8>);

impl FixedTag for RawSequence {
    const TAG: Tag = Tag::Sequence;
}

impl<'a> DecodeValue<'a> for RawSequence {
    fn decode_value<R: Reader<'a>>(reader: &mut R, header: Header) -> der::Result<Self> {
        Ok(RawSequence(reader.read_vec(header.length)?))
    }
}

impl EncodeValue for RawSequence {
    fn value_len(&self) -> der::Result<Length> {
        Length::try_from(self.0.len())
    }

    fn encode_value(&self, writer: &mut impl Writer) -> der::Result<()> {
        writer.write(&self.0)
    }
}
