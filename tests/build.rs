//! The S/MIME builder (`smime_lint::build`): what it writes parses back, decrypts with the
//! recipient's key, carries the shapes it promises (unknown recipients, absent content, BER
//! with indefinite lengths, signatures that verify), and the corpus generator built on it is
//! reproducible.

use cms::content_info::ContentInfo;
use cms::enveloped_data::{EnvelopedData, RecipientIdentifier, RecipientInfo};
use cms::signed_data::{SignedData, SignerIdentifier};
use der::{Decode, DecodePem, Encode};
use rand::rngs::StdRng;
use rand::SeedableRng;
use rsa::pkcs8::DecodePrivateKey;
use rstest::rstest;
use smime_lint::build::{self, mime, BuildCipher, BuildRecipient, EnvelopeBuilder};
use smime_lint::decrypt::{decrypt, DecryptError, DecryptionKey};
use smime_lint::IssuerSerial;
use std::path::{Path, PathBuf};
use x509_cert::Certificate;

// The corpus generator (examples/gen_corpus), compiled into this test to check it is
// reproducible and that the committed demo is what it writes.
#[allow(dead_code)]
#[path = "../examples/gen_corpus/corpus.rs"]
mod corpus;
#[allow(dead_code)]
#[path = "../examples/gen_corpus/office.rs"]
mod office;

#[path = "../examples/gen_corpus/demo.rs"]
mod demo;
#[allow(dead_code)]
#[path = "../examples/gen_corpus/people.rs"]
mod people;
#[allow(dead_code)]
#[path = "../examples/gen_corpus/text.rs"]
mod text;

const ID_ENVELOPED_DATA: &str = "1.2.840.113549.1.7.3";
const ID_AUTH_ENVELOPED_DATA: &str = "1.2.840.113549.1.9.16.1.23";
const MESSAGE: &[u8] =
    b"Content-Type: text/plain; charset=utf-8\r\n\r\nHi Bob,\r\n\r\nTuesday works.\r\n";

fn testdata(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata").join(rel)
}

fn cert(name: &str) -> Certificate {
    let pem = std::fs::read(testdata(&format!("certs/store/{name}.pem"))).unwrap();
    Certificate::from_pem(pem).unwrap()
}

fn key(name: &str) -> DecryptionKey {
    DecryptionKey::load(&testdata(&format!("certs/keys/{name}.key"))).unwrap()
}

fn rsa_key(name: &str) -> rsa::RsaPrivateKey {
    let pem = std::fs::read_to_string(testdata(&format!("certs/keys/{name}.key"))).unwrap();
    rsa::RsaPrivateKey::from_pkcs8_pem(&pem).unwrap()
}

fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

/// The ktris' issuer+serial, in wire order.
fn recipient_ids(ed: &EnvelopedData) -> Vec<IssuerSerial> {
    ed.recip_infos
        .0
        .iter()
        .map(|ri| match ri {
            RecipientInfo::Ktri(k) => match &k.rid {
                RecipientIdentifier::IssuerAndSerialNumber(is) => {
                    IssuerSerial::new(&is.issuer, &is.serial_number)
                }
                other => panic!("expected issuer and serial, got {other:?}"),
            },
            other => panic!("expected ktri, got {other:?}"),
        })
        .collect()
}

fn id_of(cert: &Certificate) -> IssuerSerial {
    IssuerSerial::new(&cert.tbs_certificate.issuer, &cert.tbs_certificate.serial_number)
}

fn enveloped_data(der: &[u8]) -> EnvelopedData {
    let info = ContentInfo::from_der(der).unwrap();
    assert_eq!(info.content_type.to_string(), ID_ENVELOPED_DATA);
    info.content.decode_as().unwrap()
}

#[rstest]
#[case::aes128_cbc(BuildCipher::Aes128Cbc, "2.16.840.1.101.3.4.1.2")]
#[case::aes256_cbc(BuildCipher::Aes256Cbc, "2.16.840.1.101.3.4.1.42")]
#[case::des_ede3(BuildCipher::DesEde3Cbc, "1.2.840.113549.3.7")]
#[case::des(BuildCipher::DesCbc, "1.3.14.3.2.7")]
fn enveloped_data_names_each_recipient_and_its_cipher(
    #[case] cipher: BuildCipher,
    #[case] oid: &str,
) {
    let (alice, bob) = (cert("alice"), cert("bob"));
    let der = build::envelope(MESSAGE, &[&alice, &bob], cipher, &mut rng(1)).unwrap();
    let ed = enveloped_data(&der);
    assert_eq!(ed.encrypted_content.content_enc_alg.oid.to_string(), oid);
    assert_eq!(cipher.oid().to_string(), oid);
    let mut ids = recipient_ids(&ed);
    ids.sort_by_key(|id| id.serial_hex());
    let mut want = vec![id_of(&alice), id_of(&bob)];
    want.sort_by_key(|id| id.serial_hex());
    assert_eq!(ids, want);
    assert!(ed.encrypted_content.encrypted_content.is_some());
}

#[rstest]
#[case::aes128_cbc(BuildCipher::Aes128Cbc)]
#[case::aes256_cbc(BuildCipher::Aes256Cbc)]
#[case::aes128_gcm(BuildCipher::Aes128Gcm)]
fn every_recipient_decrypts_the_content(#[case] cipher: BuildCipher) {
    let der =
        build::envelope(MESSAGE, &[&cert("alice"), &cert("bob")], cipher, &mut rng(2)).unwrap();
    for owner in ["alice", "bob"] {
        let opened = decrypt(&der, &[key(owner)]).unwrap();
        assert_eq!(opened.plaintext, MESSAGE, "{owner} reads the message");
    }
    assert!(matches!(
        decrypt(&der, &[key("uma-upper-case")]),
        Err(DecryptError::NoRecipientInfoForKey)
    ));
}

#[test]
fn gcm_builds_auth_enveloped_data() {
    let der =
        build::envelope(MESSAGE, &[&cert("bob")], BuildCipher::Aes128Gcm, &mut rng(3)).unwrap();
    let info = ContentInfo::from_der(&der).unwrap();
    assert_eq!(info.content_type.to_string(), ID_AUTH_ENVELOPED_DATA);
    assert!(BuildCipher::Aes128Gcm.is_authenticated());
}

/// 3DES and DES are not decrypted by the library; open them here with the RSA key and the
/// `des` crate to prove the ciphertext is right.
#[rstest]
#[case::des_ede3(BuildCipher::DesEde3Cbc)]
#[case::des(BuildCipher::DesCbc)]
fn des_family_content_decrypts_with_the_transported_key(#[case] cipher: BuildCipher) {
    use cbc::cipher::block_padding::Pkcs7;
    use cbc::cipher::{BlockDecryptMut, KeyIvInit};
    let der = build::envelope(MESSAGE, &[&cert("bob")], cipher, &mut rng(4)).unwrap();
    let ed = enveloped_data(&der);
    let RecipientInfo::Ktri(ktri) = ed.recip_infos.0.get(0).unwrap() else { panic!("ktri") };
    let cek = rsa_key("bob").decrypt(rsa::Pkcs1v15Encrypt, ktri.enc_key.as_bytes()).unwrap();
    let iv = ed.encrypted_content.content_enc_alg.parameters.as_ref().unwrap().value().to_vec();
    let ciphertext = ed.encrypted_content.encrypted_content.as_ref().unwrap().as_bytes();
    let plaintext = match cipher {
        BuildCipher::DesEde3Cbc => {
            assert_eq!(cek.len(), 24);
            cbc::Decryptor::<des::TdesEde3>::new_from_slices(&cek, &iv)
                .unwrap()
                .decrypt_padded_vec_mut::<Pkcs7>(ciphertext)
                .unwrap()
        }
        _ => {
            assert_eq!(cek.len(), 8);
            cbc::Decryptor::<des::Des>::new_from_slices(&cek, &iv)
                .unwrap()
                .decrypt_padded_vec_mut::<Pkcs7>(ciphertext)
                .unwrap()
        }
    };
    assert_eq!(plaintext, MESSAGE);
    assert!(cek.iter().all(|b| b.count_ones() % 2 == 1), "DES keys have odd parity");
    assert!(matches!(decrypt(&der, &[key("bob")]), Err(DecryptError::UnsupportedCipher(_))));
}

#[test]
fn a_named_recipient_carries_any_issuer_and_serial() {
    let rogue =
        Certificate::from_pem(std::fs::read(testdata("certs/ca/rogue.pem")).unwrap()).unwrap();
    let bob = cert("bob");
    let serial = x509_cert::serial_number::SerialNumber::new(&[0x0B, 0xAD, 0xC0, 0xDE]).unwrap();
    let stranger = BuildRecipient::named(
        rogue.tbs_certificate.subject.clone(),
        serial.clone(),
        BuildRecipient::for_certificate(&bob).unwrap().public_key().clone(),
    );
    let der = EnvelopeBuilder::new(BuildCipher::Aes128Cbc)
        .certificate(&bob)
        .unwrap()
        .recipient(stranger)
        .build(MESSAGE, &mut rng(5))
        .unwrap();
    let ids = recipient_ids(&enveloped_data(&der));
    assert!(ids.contains(&IssuerSerial::new(&rogue.tbs_certificate.subject, &serial)));
    assert!(ids.contains(&id_of(&bob)));
    assert_eq!(decrypt(&der, &[key("bob")]).unwrap().plaintext, MESSAGE);
}

#[rstest]
#[case::cbc(BuildCipher::Aes128Cbc)]
#[case::gcm(BuildCipher::Aes128Gcm)]
#[case::des_ede3(BuildCipher::DesEde3Cbc)]
fn omitted_content_is_absent(#[case] cipher: BuildCipher) {
    let der = EnvelopeBuilder::new(cipher)
        .certificate(&cert("bob"))
        .unwrap()
        .omit_encrypted_content()
        .build(MESSAGE, &mut rng(6))
        .unwrap();
    match decrypt(&der, &[key("bob")]) {
        Err(DecryptError::Damaged(reason)) => assert!(reason.contains("absent"), "{reason}"),
        other => panic!("expected absent content, got {other:?}"),
    }
    if cipher != BuildCipher::Aes128Gcm {
        assert!(enveloped_data(&der).encrypted_content.encrypted_content.is_none());
    }
}

#[test]
fn ec_and_missing_recipients_are_errors() {
    let err = build::envelope(MESSAGE, &[&cert("carol")], BuildCipher::Aes128Cbc, &mut rng(7))
        .unwrap_err();
    assert!(err.to_string().contains("needs RSA"), "{err}");
    let err = build::envelope(MESSAGE, &[], BuildCipher::Aes128Cbc, &mut rng(7)).unwrap_err();
    assert!(err.to_string().contains("at least one recipient"), "{err}");
}

#[test]
fn the_same_seed_gives_the_same_envelope() {
    let certs = [&cert("alice"), &cert("bob")];
    for cipher in BuildCipher::ALL {
        let a = build::envelope(MESSAGE, &certs, cipher, &mut rng(8)).unwrap();
        let b = build::envelope(MESSAGE, &certs, cipher, &mut rng(8)).unwrap();
        let c = build::envelope(MESSAGE, &certs, cipher, &mut rng(9)).unwrap();
        assert_eq!(a, b, "{}", cipher.name());
        assert_ne!(a, c, "{}", cipher.name());
    }
}

// ---- BER ----------------------------------------------------------------------------------

/// A small BER → DER converter for the tests: indefinite lengths become definite, and a
/// constructed OCTET STRING (`24`) or constructed `[0]` whose pieces are all primitive OCTET
/// STRINGs (the IMPLICIT encrypted content) becomes primitive again. Enough to undo
/// `to_ber_indefinite` and so prove it changed the encoding and nothing else.
fn ber_to_der(input: &[u8]) -> Vec<u8> {
    let (der, rest) = ber_element(input);
    assert!(rest.is_empty(), "trailing bytes after the BER element");
    der
}

fn ber_element(input: &[u8]) -> (Vec<u8>, &[u8]) {
    let tag = input[0];
    assert_ne!(tag & 0x1F, 0x1F, "high tag numbers are not used here");
    let (length, mut rest) = match input[1] {
        0x80 => (None, &input[2..]),
        n if n < 0x80 => (Some(n as usize), &input[2..]),
        n => {
            let count = (n & 0x7F) as usize;
            let len = input[2..2 + count].iter().fold(0usize, |acc, b| acc << 8 | *b as usize);
            (Some(len), &input[2 + count..])
        }
    };
    if tag & 0x20 == 0 {
        let len = length.expect("primitive elements have a definite length");
        return (tlv(tag, &rest[..len]), &rest[len..]);
    }
    let (mut children, mut raw_tags) = (Vec::new(), Vec::new());
    match length {
        Some(len) => {
            let (mut body, after) = rest.split_at(len);
            while !body.is_empty() {
                raw_tags.push(body[0]);
                let (child, r) = ber_element(body);
                children.push(child);
                body = r;
            }
            rest = after;
        }
        None => {
            while rest[..2] != [0, 0] {
                raw_tags.push(rest[0]);
                let (child, r) = ber_element(rest);
                children.push(child);
                rest = r;
            }
            rest = &rest[2..];
        }
    }
    let primitive_pieces = |children: &[Vec<u8>]| -> Vec<u8> {
        children.iter().flat_map(|c| ber_element(c).0[der_header_len(c)..].to_vec()).collect()
    };
    let der = if tag == 0x24 {
        tlv(0x04, &primitive_pieces(&children))
    } else if tag == 0xA0 && raw_tags.iter().all(|t| *t == 0x04) {
        tlv(0x80, &primitive_pieces(&children))
    } else {
        tlv(tag, &children.concat())
    };
    (der, rest)
}

fn der_header_len(element: &[u8]) -> usize {
    if element[1] < 0x80 {
        2
    } else {
        2 + (element[1] & 0x7F) as usize
    }
}

fn tlv(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = value.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len.to_be_bytes().iter().copied().skip_while(|b| *b == 0).collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(value);
    out
}

/// How many times `needle` occurs in `haystack`.
fn count(haystack: &[u8], needle: &[u8]) -> usize {
    haystack.windows(needle.len()).filter(|w| *w == needle).count()
}

#[rstest]
#[case::cbc(BuildCipher::Aes128Cbc)]
#[case::gcm(BuildCipher::Aes128Gcm)]
#[case::des_ede3(BuildCipher::DesEde3Cbc)]
fn ber_streams_the_spine_and_chunks_the_content(#[case] cipher: BuildCipher) {
    let content = vec![b'x'; 4321];
    let der = build::envelope(&content, &[&cert("bob")], cipher, &mut rng(10)).unwrap();
    let ber = build::to_ber_indefinite(&der).unwrap();
    assert_ne!(ber, der);
    // ContentInfo, [0], the envelope and EncryptedContentInfo all open with indefinite
    // lengths; the OID of the content type sits between the first two.
    assert_eq!(&ber[..2], [0x30, 0x80]);
    let after_oid = 4 + ber[3] as usize;
    assert_eq!(&ber[after_oid..after_oid + 4], [0xA0, 0x80, 0x30, 0x80]);
    // 4321 bytes (plus padding or nothing for GCM) is four full chunks and a short one.
    assert_eq!(count(&ber, &[0x04, 0x82, 0x03, 0xE8]), 4);
    // The content, EncryptedContentInfo, the envelope, [0] and ContentInfo all close with
    // end-of-contents; AuthEnvelopedData has its mac between the second and the third.
    assert!(ber.ends_with(&[0; 6]));
    assert_eq!(ber.ends_with(&[0; 10]), !cipher.is_authenticated());
    assert!(ber_to_der(&ber) == der, "only the encoding changed");
    if cipher != BuildCipher::DesEde3Cbc {
        let opened = decrypt(&ber_to_der(&ber), &[key("bob")]).unwrap();
        assert_eq!(opened.plaintext, content);
    }
}

/// The chunk size `openssl cms -stream` writes, and the bounds of the chunk size.
#[test]
fn ber_chunk_size_is_chosen() {
    let content = vec![b'z'; 10_000];
    let der =
        build::envelope(&content, &[&cert("bob")], BuildCipher::Aes128Cbc, &mut rng(12)).unwrap();
    let openssl = build::to_ber_indefinite_chunked(&der, build::OPENSSL_STREAM_CHUNK).unwrap();
    // 10,000 bytes of content padded to 10,016: two full 4096-byte chunks and one of 1824.
    assert_eq!(count(&openssl, &[0x04, 0x82, 0x10, 0x00]), 2);
    assert_eq!(count(&openssl, &[0x04, 0x82, 0x07, 0x20]), 1);
    assert!(ber_to_der(&openssl) == der, "only the encoding changed");
    let tiny = build::to_ber_indefinite_chunked(&der, 0).unwrap();
    assert!(ber_to_der(&tiny) == der, "a chunk size of 0 is taken as 1");
    let huge = build::to_ber_indefinite_chunked(&der, usize::MAX).unwrap();
    assert_eq!(count(&huge, &[0x04, 0x82, 0x27, 0x20]), 1, "one chunk of all 10,016 bytes");
}

#[test]
fn ber_streams_signed_data_econtent() {
    let content = vec![b'y'; 2500];
    let der = build::signed(&content, &cert("alice"), &rsa_key("alice"), false).unwrap();
    let ber = build::to_ber_indefinite(&der).unwrap();
    assert_eq!(count(&ber, &[0x24, 0x80]), 1, "eContent is a constructed OCTET STRING");
    assert_eq!(count(&ber, &[0x04, 0x82, 0x03, 0xE8]), 2);
    assert!(ber_to_der(&ber) == der, "only the encoding changed");
}

#[test]
fn ber_of_absent_content_and_of_garbage() {
    let der = EnvelopeBuilder::new(BuildCipher::Aes128Cbc)
        .certificate(&cert("bob"))
        .unwrap()
        .omit_encrypted_content()
        .build(MESSAGE, &mut rng(11))
        .unwrap();
    let ber = build::to_ber_indefinite(&der).unwrap();
    assert_eq!(ber_to_der(&ber), der);
    assert!(build::to_ber_indefinite(b"not der at all").is_err());
    assert!(build::to_ber_indefinite(&der[..der.len() - 5]).is_err());
    assert!(build::to_ber_indefinite(&[0x02, 0x01, 0x05]).is_err(), "an INTEGER is no ContentInfo");
}

// ---- SignedData ---------------------------------------------------------------------------

fn signed_data(der: &[u8]) -> SignedData {
    let info = ContentInfo::from_der(der).unwrap();
    assert_eq!(info.content_type.to_string(), "1.2.840.113549.1.7.2");
    info.content.decode_as().unwrap()
}

/// Verifies the one signer's RSA signature over the signed attributes and returns the
/// message-digest attribute.
fn verify_signer(sd: &SignedData, signer: &Certificate) -> Vec<u8> {
    use rsa::pkcs8::DecodePublicKey;
    use rsa::signature::Verifier;
    let si = sd.signer_infos.0.get(0).unwrap();
    match &si.sid {
        SignerIdentifier::IssuerAndSerialNumber(is) => {
            assert_eq!(IssuerSerial::new(&is.issuer, &is.serial_number), id_of(signer))
        }
        other => panic!("expected issuer and serial, got {other:?}"),
    }
    let attrs = si.signed_attrs.as_ref().unwrap();
    let spki = signer.tbs_certificate.subject_public_key_info.to_der().unwrap();
    let key = rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(
        rsa::RsaPublicKey::from_public_key_der(&spki).unwrap(),
    );
    let signature = rsa::pkcs1v15::Signature::try_from(si.signature.as_bytes()).unwrap();
    key.verify(&attrs.to_der().unwrap(), &signature).expect("the signature verifies");
    let digest = attrs
        .iter()
        .find(|a| a.oid.to_string() == "1.2.840.113549.1.9.4")
        .expect("message-digest attribute");
    digest.values.get(0).unwrap().value().to_vec()
}

#[rstest]
#[case::attached(false)]
#[case::detached(true)]
fn signed_data_verifies_and_carries_the_signer(#[case] detached: bool) {
    use sha2::Digest;
    let alice = cert("alice");
    let der = build::signed(MESSAGE, &alice, &rsa_key("alice"), detached).unwrap();
    let sd = signed_data(&der);
    let digest = verify_signer(&sd, &alice);
    assert_eq!(digest, sha2::Sha256::digest(MESSAGE).to_vec());
    let certs = sd.certificates.as_ref().unwrap();
    assert!(certs
        .0
        .iter()
        .any(|c| matches!(c, cms::cert::CertificateChoices::Certificate(c) if *c == alice)));
    match (&sd.encap_content_info.econtent, detached) {
        (None, true) => {}
        (Some(content), false) => assert_eq!(content.value(), MESSAGE),
        (other, _) => panic!("unexpected eContent {other:?} for detached={detached}"),
    }
    assert_eq!(der, build::signed(MESSAGE, &alice, &rsa_key("alice"), detached).unwrap());
}

#[test]
fn a_wrong_key_gives_a_signature_that_does_not_verify() {
    use rsa::pkcs8::DecodePublicKey;
    use rsa::signature::Verifier;
    let alice = cert("alice");
    let sd = signed_data(&build::signed(MESSAGE, &alice, &rsa_key("bob"), true).unwrap());
    let si = sd.signer_infos.0.get(0).unwrap();
    let spki = alice.tbs_certificate.subject_public_key_info.to_der().unwrap();
    let key = rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(
        rsa::RsaPublicKey::from_public_key_der(&spki).unwrap(),
    );
    let signature = rsa::pkcs1v15::Signature::try_from(si.signature.as_bytes()).unwrap();
    assert!(key.verify(&si.signed_attrs.as_ref().unwrap().to_der().unwrap(), &signature).is_err());
}

// ---- MIME ---------------------------------------------------------------------------------

use mail_parser::MimeHeaders;

fn parse(bytes: &[u8]) -> mail_parser::Message<'_> {
    mail_parser::MessageParser::default().parse(bytes).expect("parses as mail")
}

fn headers() -> mime::Headers {
    mime::Headers::new()
        .with("From", "Alice Example <alice@example.com>")
        .with("To", "Bob Builder <bob@example.com>")
        .with("Subject", "Tuesday")
}

#[rstest]
#[case::enveloped(mime::SmimeType::EnvelopedData, "enveloped-data")]
#[case::auth_enveloped(mime::SmimeType::AuthEnvelopedData, "authEnveloped-data")]
#[case::signed(mime::SmimeType::SignedData, "signed-data")]
fn pkcs7_mime_message_round_trips(#[case] smime_type: mime::SmimeType, #[case] param: &str) {
    let der =
        build::envelope(&vec![7u8; 3000], &[&cert("bob")], BuildCipher::Aes128Cbc, &mut rng(12))
            .unwrap();
    let bytes = mime::pkcs7_mime_message(&headers(), &der, smime_type);
    let msg = parse(&bytes);
    let ct = msg.root_part().content_type().unwrap();
    assert_eq!((ct.ctype(), ct.subtype()), ("application", Some("pkcs7-mime")));
    assert_eq!(ct.attribute("smime-type"), Some(param));
    assert_eq!(msg.root_part().contents(), der.as_slice());
    let body_start = bytes.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let body = &bytes[body_start..];
    assert!(body.split(|b| *b == b'\n').all(|line| line.len() <= 77), "76 columns + CR");
    assert!(!bytes.windows(2).any(|w| w[1] == b'\n' && w[0] != b'\r'), "CRLF line ends only");
}

#[test]
fn multipart_signed_keeps_the_signed_entity_byte_for_byte() {
    use sha2::Digest;
    let entity = mime::text_entity("Hi Bob,\n\nsigned, not sealed.\n");
    let alice = cert("alice");
    let signature = build::signed(&entity, &alice, &rsa_key("alice"), true).unwrap();
    let bytes = mime::message(&headers(), &mime::multipart_signed(&entity, &signature, "b1"));
    let mut framed = b"--b1\r\n".to_vec();
    framed.extend_from_slice(&entity);
    framed.extend_from_slice(b"\r\n--b1\r\n");
    assert_eq!(count(&bytes, &framed), 1, "the first part is the entity exactly");
    let msg = parse(&bytes);
    let ct = msg.root_part().content_type().unwrap();
    assert_eq!(ct.subtype(), Some("signed"));
    assert_eq!(ct.attribute("protocol"), Some("application/pkcs7-signature"));
    let p7s = msg.attachment(0).unwrap();
    assert_eq!(p7s.content_type().unwrap().subtype(), Some("pkcs7-signature"));
    assert_eq!(p7s.contents(), signature.as_slice());
    let digest = verify_signer(&signed_data(p7s.contents()), &alice);
    assert_eq!(digest, sha2::Sha256::digest(&entity).to_vec());
}

#[test]
fn smartreply_mangling_leaves_a_blank_body_and_an_attached_envelope() {
    let der = build::envelope(
        MESSAGE,
        &[&cert("alice"), &cert("bob")],
        BuildCipher::Aes128Cbc,
        &mut rng(13),
    )
    .unwrap();
    let original = mime::message(&headers(), &mime::text_entity("Shall we meet on Tuesday?\n"));
    let bytes = mime::message(
        &headers().with("Subject", "Re: Tuesday"),
        &mime::smartreply_mangled(&der, Some(&original), "sr"),
    );
    let msg = parse(&bytes);
    assert_eq!(msg.root_part().content_type().unwrap().subtype(), Some("mixed"));
    assert_eq!(msg.body_text(0).as_deref().map(str::trim), Some(""));
    let p7m = msg.attachment(0).unwrap();
    assert_eq!(p7m.attachment_name(), Some("smime.p7m"));
    assert_eq!(p7m.contents(), der.as_slice());
    let attached = msg.attachment(1).unwrap().message().expect("message/rfc822");
    assert_eq!(attached.body_text(0).as_deref(), Some("Shall we meet on Tuesday?\r\n"));
    assert_eq!(decrypt(p7m.contents(), &[key("bob")]).unwrap().plaintext, MESSAGE);
}

#[test]
fn long_headers_fold_and_unfold_to_the_same_addresses() {
    let to: Vec<String> =
        (0..8).map(|i| format!("Person Number{i} <person{i}@example.com>")).collect();
    let bytes = mime::message(
        &mime::Headers::new().with("From", "alice@example.com").with("To", &to.join(", ")),
        &mime::text_entity("hi\n"),
    );
    let head = &bytes[..bytes.windows(4).position(|w| w == b"\r\n\r\n").unwrap()];
    assert!(head.split(|b| *b == b'\n').all(|l| l.len() <= 79), "folded at 78 columns");
    let msg = parse(&bytes);
    let addresses: Vec<&str> = msg.to().unwrap().iter().filter_map(|a| a.address()).collect();
    let want: Vec<String> = (0..8).map(|i| format!("person{i}@example.com")).collect();
    assert_eq!(addresses, want);
}

#[rstest]
#[case::utc(1_780_272_000, 0, "Mon, 01 Jun 2026 00:00:00 +0000")]
#[case::east(1_780_272_000, 120, "Mon, 01 Jun 2026 02:00:00 +0200")]
#[case::west_previous_day(1_780_272_000, -300, "Sun, 31 May 2026 19:00:00 -0500")]
#[case::india(1_767_225_600, 330, "Thu, 01 Jan 2026 05:30:00 +0530")]
#[case::leap_day(1_709_164_800, 0, "Thu, 29 Feb 2024 00:00:00 +0000")]
fn rfc5322_dates(#[case] unix: i64, #[case] offset: i32, #[case] want: &str) {
    let text = mime::rfc5322_date(smime_lint::Time::from_unix(unix), offset);
    assert_eq!(text, want);
    let bytes = format!("Date: {text}\r\n\r\n");
    let parsed = parse(bytes.as_bytes());
    assert_eq!(smime_lint::Time::from_mail_date(parsed.date().unwrap()).unwrap().unix(), unix);
}

// ---- the corpus generator and the demo ---------------------------------------------------

/// The rules of DESIGN §5.
const RULES: [&str; 10] = [
    "partial-encryption",
    "sender-cannot-decrypt",
    "bcc-disclosed",
    "weak-content-cipher",
    "smartreply-blank-body",
    "encrypted-to-unusable-certificate",
    "unknown-recipient-info",
    "malformed-smime",
    "encrypted-attachment",
    "unreadable",
];

fn pki() -> corpus::Pki {
    corpus::Pki::load(&testdata("certs")).unwrap()
}

/// Every file under `dir`, as (relative path, bytes), sorted.
fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                out.push((rel, std::fs::read(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

fn truth_lines(dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("ground-truth.ndjson"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn the_same_seed_writes_the_same_corpus() {
    let pki = pki();
    let (a, b, c) =
        (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    corpus::write_corpus(a.path(), 30, 7, corpus::Profile::Mixed, &pki).unwrap();
    corpus::write_corpus(b.path(), 30, 7, corpus::Profile::Mixed, &pki).unwrap();
    corpus::write_corpus(c.path(), 30, 8, corpus::Profile::Mixed, &pki).unwrap();
    let (ta, tb, tc) = (tree(a.path()), tree(b.path()), tree(c.path()));
    assert_eq!(ta.len(), 31, "30 messages and the ground truth");
    assert!(ta == tb, "same seed, same bytes");
    assert!(ta != tc, "another seed, another corpus");
    assert!(
        corpus::write_corpus(a.path(), 30, 7, corpus::Profile::Mixed, &pki).is_err(),
        "never writes into an existing Maildir"
    );
}

#[test]
fn ground_truth_describes_every_message() {
    let dir = tempfile::tempdir().unwrap();
    let written = corpus::write_corpus(dir.path(), 40, 11, corpus::Profile::Mixed, &pki()).unwrap();
    let lines = truth_lines(dir.path());
    assert_eq!(lines.len(), 40);
    assert_eq!(written.messages, 40);
    let mut names = Vec::new();
    for line in &lines {
        let file = line["file"].as_str().unwrap();
        let bytes = std::fs::read(dir.path().join("Maildir").join(file)).unwrap();
        assert_eq!(line["bytes"].as_u64().unwrap() as usize, bytes.len(), "{file}");
        assert!(bytes.len() >= 1000 && bytes.len() <= 5_242_880, "{file}: {} bytes", bytes.len());
        for rule in line["rules"].as_array().unwrap() {
            assert!(RULES.contains(&rule.as_str().unwrap()), "{file}: {rule}");
        }
        names.push(file.to_owned());
    }
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "ground truth in file-name order, as the scan reads a Maildir");
    // 40 messages are enough for every scenario once.
    assert_eq!(written.by_scenario.len(), corpus::Scenario::MIX.len());
}

#[rstest]
#[case::small(5)]
#[case::one_each(18)]
#[case::default_size(2000)]
fn the_schedule_follows_the_mix(#[case] n: usize) {
    let list = corpus::schedule(n, 1, corpus::Profile::Mixed);
    assert_eq!(list.len(), n);
    for (scenario, per_mille) in corpus::Scenario::MIX {
        let count = list.iter().filter(|s| **s == scenario).count();
        if n >= corpus::Scenario::MIX.len() {
            assert!(count >= 1, "{scenario:?} appears");
        }
        if n == 2000 {
            assert_eq!(count, per_mille as usize * 2, "{scenario:?}");
        }
    }
}

#[test]
fn the_committed_demo_is_what_the_generator_writes() {
    let dir = tempfile::tempdir().unwrap();
    demo::write_demo(dir.path(), &pki()).unwrap();
    let generated = tree(dir.path());
    let committed: Vec<(String, Vec<u8>)> =
        tree(&testdata("demo")).into_iter().filter(|(name, _)| name != "README.md").collect();
    let names = |t: &[(String, Vec<u8>)]| t.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&generated), names(&committed));
    for ((name, a), (_, b)) in generated.iter().zip(&committed) {
        assert!(a == b, "{name} differs from the generator's output; regenerate the demo");
    }
}

#[test]
fn the_demo_shows_every_rule_and_its_readme_lists_every_message() {
    let lines = truth_lines(&testdata("demo"));
    let readme = std::fs::read_to_string(testdata("demo/README.md")).unwrap();
    for rule in RULES {
        assert!(
            lines.iter().any(|l| l["rules"].as_array().unwrap().iter().any(|r| r == rule)),
            "no demo message for {rule}"
        );
    }
    assert!(lines.iter().filter(|l| l["rules"].as_array().unwrap().is_empty()).count() >= 5);
    for (i, line) in lines.iter().enumerate() {
        let file = line["file"].as_str().unwrap();
        let row = readme
            .lines()
            .find(|l| l.starts_with(&format!("| {i} | `{file}`")))
            .unwrap_or_else(|| panic!("README has no row for {file}"));
        for finding in line["findings"].as_array().unwrap() {
            assert!(row.contains(&format!("`{}`", finding["rule"].as_str().unwrap())), "{row}");
            if let Some(address) = finding["address"].as_str() {
                assert!(row.contains(address), "{row}");
            }
        }
        if line["findings"].as_array().unwrap().is_empty() {
            assert!(row.ends_with("| none |"), "{row}");
        }
    }
}

/// The S/MIME payloads of a message (top level or attached), as DER.
fn payloads(bytes: &[u8]) -> Vec<Vec<u8>> {
    let msg = parse(bytes);
    msg.parts
        .iter()
        .filter(|p| p.content_type().is_some_and(|ct| ct.subtype() == Some("pkcs7-mime")))
        .map(|p| {
            let raw = p.contents();
            if raw.get(1) == Some(&0x80) {
                ber_to_der(raw)
            } else {
                raw.to_vec()
            }
        })
        .collect()
}

/// The demo's bytes agree with its ground truth: whoever should read an envelope can.
#[test]
fn demo_envelopes_open_as_the_ground_truth_says() {
    let maildir = testdata("demo/Maildir");
    for line in truth_lines(&testdata("demo")) {
        let file = line["file"].as_str().unwrap();
        let scenario = line["scenario"].as_str().unwrap();
        let bytes = std::fs::read(maildir.join(file)).unwrap();
        let payloads = if scenario == "unreadable" { Vec::new() } else { payloads(&bytes) };
        let opened: Vec<Result<_, _>> =
            payloads.iter().map(|p| decrypt(p, &[key("alice")])).collect();
        match scenario {
            "plain" | "signed" | "unreadable" => assert!(payloads.is_empty(), "{file}"),
            "signed-opaque" => {
                assert!(matches!(opened.as_slice(), [Err(DecryptError::Damaged(_))]), "{file}")
            }
            "no-sender" => assert!(
                matches!(opened.as_slice(), [Err(DecryptError::NoRecipientInfoForKey)]),
                "{file}"
            ),
            "weak-3des" | "weak-des" => assert!(
                matches!(opened.as_slice(), [Err(DecryptError::UnsupportedCipher(_))]),
                "{file}"
            ),
            "empty-envelope" | "malformed" => {
                assert!(matches!(opened.as_slice(), [Err(DecryptError::Damaged(_))]), "{file}")
            }
            "encrypted-attachment" => {
                let document = opened.into_iter().next().unwrap().unwrap();
                assert!(document.plaintext.starts_with(b"%PDF-"), "{file}: the attached PDF");
            }
            _ => {
                assert_eq!(opened.len(), 1, "{file}: one envelope");
                let inner =
                    opened.into_iter().next().unwrap().unwrap_or_else(|e| panic!("{file}: {e}"));
                assert!(
                    parse(&inner.plaintext).root_part().content_type().is_some(),
                    "{file}: MIME inside"
                );
            }
        }
    }
}

#[test]
fn the_office_profile_looks_like_ordinary_sent_items() {
    let dir = tempfile::tempdir().unwrap();
    let written =
        corpus::write_corpus(dir.path(), 300, 5, corpus::Profile::Office, &pki()).unwrap();
    assert_eq!(written.by_scenario.len(), office::MIX.len(), "every scenario appears");
    let lines = truth_lines(dir.path());
    let mut sizes: Vec<u64> = lines.iter().map(|l| l["bytes"].as_u64().unwrap()).collect();
    sizes.sort_unstable();
    let median = sizes[sizes.len() / 2];
    assert!((15_000..80_000).contains(&median), "median {median}");
    let typical = sizes.iter().filter(|&&s| (8_000..=150_000).contains(&s)).count();
    assert!(typical * 100 / sizes.len() >= 70, "most are 10-100 KB: {typical} of {}", sizes.len());
    let (mut qp, mut html, mut attachments, mut quoted) = (0, 0, 0, 0);
    for line in &lines {
        let raw =
            std::fs::read(dir.path().join("Maildir").join(line["file"].as_str().unwrap())).unwrap();
        let text = String::from_utf8_lossy(&raw);
        if line["scenario"] == "plain" || line["scenario"] == "signed" {
            qp += usize::from(text.contains("Content-Transfer-Encoding: quoted-printable"));
            html += usize::from(text.contains("Content-Type: text/html"));
            attachments +=
                usize::from(text.contains("Content-Disposition: attachment; filename=\""));
            quoted += usize::from(text.contains("\r\n> "));
        }
    }
    let readable =
        lines.iter().filter(|l| l["scenario"] == "plain" || l["scenario"] == "signed").count();
    assert_eq!(qp, readable, "every readable body is quoted-printable");
    assert_eq!(html, readable, "with an HTML alternative");
    assert!(attachments * 2 > readable, "most carry attachments: {attachments} of {readable}");
    assert!(quoted * 2 > readable, "most quote history: {quoted} of {readable}");
}

proptest::proptest! {
    /// A quoted-printable entity decodes (by mail-parser) to the text it was made from, line
    /// ends as CRLF, and keeps every line within 76 characters.
    #[test]
    fn quoted_printable_entities_round_trip(text in "[ -~\u{e9}\u{fc}\u{2013}=\t\n]{0,400}") {
        let entity = mime::quoted_printable_entity("plain", &text);
        let message = mime::message(&mime::Headers::new().with("From", "a@example.com"), &entity);
        for line in message.split(|&b| b == b'\n') {
            proptest::prop_assert!(line.len() <= 77, "{:?}", String::from_utf8_lossy(line));
        }
        let parsed = mail_parser::MessageParser::default().parse(&message).unwrap();
        let decoded = parsed.body_text(0).map(|t| t.into_owned()).unwrap_or_default();
        let expected = text.replace('\n', "\r\n");
        proptest::prop_assert_eq!(decoded.trim_end_matches(['\r', '\n']), expected.trim_end_matches(['\r', '\n']));
    }
}
