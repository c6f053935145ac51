//! Envelopes built here rather than by OpenSSL: shapes OpenSSL does not produce (authAttrs as
//! GCM additional data, OAEP with absent parameters).

use super::structure::{oid, AuthEnvelopedData, RawSet, RecipientInfo, RecipientInfoList};
use super::{decrypt, DecryptError, DecryptionKey};
use aes_gcm::aead::consts::U12;
use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::aes::Aes128;
use aes_gcm::AesGcm;
use cms::cert::IssuerAndSerialNumber;
use cms::content_info::{CmsVersion, ContentInfo};
use cms::enveloped_data::{EncryptedContentInfo, KeyTransRecipientInfo, RecipientIdentifier};
use der::asn1::{OctetString, SetOfVec};
use der::{Any, Decode, DecodePem, Encode};
use rand::SeedableRng;
use spki::AlgorithmIdentifierOwned;
use x509_cert::attr::Attribute;
use x509_cert::Certificate;

const CEK: [u8; 16] = *b"0123456789abcdef";
const NONCE: [u8; 12] = *b"nonce-twelve";
const BODY: &[u8] = b"Content-Type: text/plain\r\n\r\nhello\r\n";

fn testdata(rel: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata").join(rel)
}

fn bob() -> (DecryptionKey, Certificate) {
    let key = DecryptionKey::load(&testdata("certs/keys/bob.key")).unwrap();
    let cert =
        Certificate::from_pem(std::fs::read(testdata("certs/store/bob.pem")).unwrap()).unwrap();
    (key, cert)
}

/// A ktri for bob with RSAES-OAEP and *absent* parameters (all RFC 8017 defaults: SHA-1).
fn oaep_ktri(cert: &Certificate) -> RecipientInfo {
    use rsa::pkcs8::DecodePublicKey;
    let spki = cert.tbs_certificate.subject_public_key_info.to_der().unwrap();
    let public = rsa::RsaPublicKey::from_public_key_der(&spki).unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let enc = public.encrypt(&mut rng, rsa::Oaep::new::<sha1::Sha1>(), &CEK).unwrap();
    RecipientInfo::Ktri(KeyTransRecipientInfo {
        version: CmsVersion::V0,
        rid: RecipientIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: cert.tbs_certificate.issuer.clone(),
            serial_number: cert.tbs_certificate.serial_number.clone(),
        }),
        key_enc_alg: AlgorithmIdentifierOwned { oid: oid::RSAES_OAEP, parameters: None },
        enc_key: OctetString::new(enc).unwrap(),
    })
}

/// AuthEnvelopedData with one authenticated attribute (content-type: id-data).
fn auth_enveloped(cert: &Certificate) -> Vec<u8> {
    let id_data = der::asn1::ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
    let attr = Attribute {
        oid: der::asn1::ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3"),
        values: SetOfVec::try_from(vec![Any::encode_from(&id_data).unwrap()]).unwrap(),
    };
    let auth_attrs = RawSet(attr.to_der().unwrap());
    let aad = auth_attrs.to_der().unwrap();
    assert_eq!(aad[0], 0x31, "additional data carries the SET OF tag");
    let mut ciphertext = BODY.to_vec();
    let tag = AesGcm::<Aes128, U12>::new_from_slice(&CEK)
        .unwrap()
        .encrypt_in_place_detached(&NONCE.into(), &aad, &mut ciphertext)
        .unwrap();
    let params = super::structure::GcmParameters {
        nonce: OctetString::new(NONCE.to_vec()).unwrap(),
        icv_len: Some(16),
    };
    let envelope = AuthEnvelopedData {
        version: CmsVersion::V0,
        originator_info: None,
        recip_infos: RecipientInfoList(vec![oaep_ktri(cert)]),
        auth_encrypted_content: EncryptedContentInfo {
            content_type: id_data,
            content_enc_alg: AlgorithmIdentifierOwned {
                oid: oid::AES128_GCM,
                parameters: Some(Any::encode_from(&params).unwrap()),
            },
            encrypted_content: Some(OctetString::new(ciphertext).unwrap()),
        },
        auth_attrs: Some(auth_attrs),
        mac: OctetString::new(tag.to_vec()).unwrap(),
        unauth_attrs: None,
    };
    ContentInfo {
        content_type: oid::AUTH_ENVELOPED_DATA,
        content: Any::encode_from(&envelope).unwrap(),
    }
    .to_der()
    .unwrap()
}

#[test]
fn gcm_authenticates_auth_attrs_and_oaep_defaults_apply() {
    let (key, cert) = bob();
    let der = auth_enveloped(&cert);
    let opened = decrypt(&der, &[key]).unwrap();
    assert_eq!(opened.plaintext, BODY);
    assert_eq!(opened.recipient_index, 0);
}

#[test]
fn changed_auth_attrs_fail_the_tag() {
    let (key, cert) = bob();
    let der = auth_enveloped(&cert);
    // The id-data OID inside the attribute is the last OID before the mac; change its last arc.
    let mut envelope = ContentInfo::from_der(&der).unwrap();
    let mut aed: AuthEnvelopedData = envelope.content.decode_as().unwrap();
    let attrs = aed.auth_attrs.as_mut().unwrap();
    let last = attrs.0.len() - 1;
    attrs.0[last] ^= 0x02; // 1.2.840.113549.1.7.1 -> .3
    envelope.content = Any::encode_from(&aed).unwrap();
    // Behind RSA key transport a failed tag reads as a wrong key (no padding oracle): with the
    // certificate the RecipientInfo names, "the key does not open it"; tried by trial, "not a
    // recipient (or damaged)".
    let der = envelope.to_der().unwrap();
    let err = decrypt(&der, &[DecryptionKey::load(&testdata("certs/keys/bob.key")).unwrap()])
        .unwrap_err();
    assert!(matches!(err, DecryptError::NoRecipientInfoForKey), "{err:?}");
    let err = decrypt(&der, &[key.with_certificate(cert)]).unwrap_err();
    assert!(matches!(err, DecryptError::KeyDoesNotFit(_)), "{err:?}");
}

#[test]
fn absent_content_is_damaged() {
    let (key, cert) = bob();
    let der = auth_enveloped(&cert);
    let mut envelope = ContentInfo::from_der(&der).unwrap();
    let mut aed: AuthEnvelopedData = envelope.content.decode_as().unwrap();
    aed.auth_encrypted_content.encrypted_content = None;
    envelope.content = Any::encode_from(&aed).unwrap();
    let err = decrypt(&envelope.to_der().unwrap(), &[key]).unwrap_err();
    assert!(matches!(&err, DecryptError::Damaged(m) if m.contains("absent")), "{err:?}");
}
