//! Writes the CMS fixtures that OpenSSL's command line does not make: envelopes from the
//! RustCrypto `cms` builder, hand-edited envelopes (detached, empty, duplicate, `ori`), and bad
//! inputs. Run by `testdata/cms/generate.sh` after the OpenSSL fixtures exist:
//!
//! ```text
//! cargo run --example gen_cms_fixtures -- testdata/cms
//! ```
//!
//! Deterministic: the builder's random numbers come from a fixed seed.

use base64::Engine as _;
use cms::builder::{
    ContentEncryptionAlgorithm, EnvelopedDataBuilder, KeyEncryptionInfo,
    KeyTransRecipientInfoBuilder,
};
use cms::cert::IssuerAndSerialNumber;
use cms::content_info::{CmsVersion, ContentInfo};
use cms::enveloped_data::{EnvelopedData, OtherRecipientInfo, RecipientIdentifier, RecipientInfo};
use der::asn1::{ObjectIdentifier, OctetString};
use der::{Any, Decode, Encode};
use rand::SeedableRng;
use rsa::pkcs8::DecodePublicKey;
use std::path::{Path, PathBuf};
use x509_cert::ext::pkix::SubjectKeyIdentifier;
use x509_cert::Certificate;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// The builder's error type is not `std::error::Error`.
fn b<T>(r: std::result::Result<T, cms::builder::Error>) -> Result<T> {
    r.map_err(|e| format!("cms builder: {e:?}").into())
}

const ID_ENVELOPED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.3");
/// An oriType under the example private enterprise arc (RFC 5612).
const EXAMPLE_ORI: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.32473.1.1");

fn main() -> Result<()> {
    let dir = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "testdata/cms".into()));
    let certs = dir.join("../certs/store");
    let bob = certificate(&certs.join("bob.pem"))?;
    let alice = certificate(&certs.join("alice.pem"))?;
    let body =
        b"Content-Type: text/plain; charset=us-ascii\r\n\r\nHello from the RustCrypto builder.\r\n";
    let mut rng = rand::rngs::StdRng::seed_from_u64(5652);

    // Builder: bob by subjectKeyIdentifier, alice by issuer and serial, AES-256-CBC.
    let bob_key = rsa_key(&bob)?;
    let alice_key = rsa_key(&alice)?;
    let mut rng_bob = rand::rngs::StdRng::seed_from_u64(1);
    let mut rng_alice = rand::rngs::StdRng::seed_from_u64(2);
    let mut builder =
        b(EnvelopedDataBuilder::new(None, body, ContentEncryptionAlgorithm::Aes256Cbc, None))?;
    b(builder.add_recipient_info(b(KeyTransRecipientInfoBuilder::new(
        RecipientIdentifier::SubjectKeyIdentifier(ski(&bob)?),
        KeyEncryptionInfo::Rsa(bob_key),
        &mut rng_bob,
    ))?))?;
    b(builder.add_recipient_info(b(KeyTransRecipientInfoBuilder::new(
        RecipientIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: alice.tbs_certificate.issuer.clone(),
            serial_number: alice.tbs_certificate.serial_number.clone(),
        }),
        KeyEncryptionInfo::Rsa(alice_key),
        &mut rng_alice,
    ))?))?;
    let built = b(builder.build_with_rng(&mut rng))?;
    write(&dir, "builder-ski-and-issuer-serial.der", &content_info(&built)?)?;

    // The same plus an OtherRecipientInfo (the builder cannot make one; RFC 5652 §6.1 then
    // requires version 3).
    let mut with_ori = built.clone();
    with_ori.version = CmsVersion::V3;
    with_ori.recip_infos.0.insert(RecipientInfo::Ori(OtherRecipientInfo {
        ori_type: EXAMPLE_ORI,
        ori_value: Any::encode_from(&OctetString::new(b"opaque".to_vec())?)?,
    }))?;
    write(&dir, "builder-with-ori.der", &content_info(&with_ori)?)?;

    // Edited OpenSSL envelopes.
    let openssl = read_envelope(&dir.join("bob-aes128.der"))?;
    let mut detached = openssl.clone();
    detached.encrypted_content.encrypted_content = None;
    write(&dir, "bob-detached-content.der", &content_info(&detached)?)?;
    let mut empty = openssl.clone();
    empty.encrypted_content.encrypted_content = Some(OctetString::new(Vec::new())?);
    write(&dir, "bob-empty-content.der", &content_info(&empty)?)?;
    // RC2 parameters without rc2ParameterVersion: 32 effective bits (RFC 2268 §6).
    let mut rc2 = read_envelope(&dir.join("bob-rc2-40.der"))?;
    let iv = OctetString::new(vec![0x11; 8])?;
    rc2.encrypted_content.content_enc_alg.parameters =
        Some(Any::new(der::Tag::Sequence, iv.to_der()?)?);
    write(&dir, "bob-rc2-no-version.der", &content_info(&rc2)?)?;

    // Byte-identical duplicate RecipientInfos (a SET OF the `der` crate refuses to decode).
    let ri = openssl.recip_infos.0.iter().next().ok_or("no RecipientInfo")?.to_der()?;
    let mut body = CmsVersion::V0.to_der()?;
    body.extend(tlv(0x31, &[ri.clone(), ri].concat()));
    body.extend(openssl.encrypted_content.to_der()?);
    write(&dir, "bob-identical-duplicate.der", &wrap_enveloped(&tlv(0x30, &body)))?;
    // No RecipientInfo at all (RFC 5652 §6.1 says SIZE (1..MAX)).
    let mut body = CmsVersion::V0.to_der()?;
    body.extend(tlv(0x31, &[]));
    body.extend(openssl.encrypted_content.to_der()?);
    write(&dir, "no-recipients.der", &wrap_enveloped(&tlv(0x30, &body)))?;

    // Bad framing.
    let good = std::fs::read(dir.join("bob-aes128.der"))?;
    write(&dir, "truncated.der", &good[..good.len() / 2])?;
    let stream = std::fs::read(dir.join("bob-stream-ber.der"))?;
    write(&dir, "truncated-stream.ber", &stream[..stream.len() - 6])?;
    let mut bad_segment = stream.clone();
    let at =
        find(&stream, &[0xa0, 0x80, 0x04]).ok_or("no constructed [0] in the stream fixture")?;
    bad_segment[at + 2] = 0x02; // an INTEGER where an OCTET STRING segment must be
    write(&dir, "bad-segment.ber", &bad_segment)?;
    write(&dir, "garbage.bin", b"This is not a CMS message, just some text in an smime.p7m.\n")?;
    let mut absurd = vec![0x30, 0x84, 0xff, 0xff, 0xff, 0xff];
    absurd.extend(&good[4..]);
    write(&dir, "absurd-length.der", &absurd)?;
    let mut deep = [0x30, 0x80].repeat(10_000);
    deep.extend(vec![0u8; 20_000]);
    write(&dir, "deep-nesting.ber", &deep)?;
    let b64 = base64::engine::general_purpose::STANDARD.encode(&good);
    write(&dir, "truncated.b64", &b64.as_bytes()[..b64.len() / 2 - 1])?;
    write(&dir, "truncated-on-quad.b64", &b64.as_bytes()[..(b64.len() / 2) & !3])?;
    // A certificate saved as smime.p7m: DER, but not a ContentInfo.
    let bob_der = std::fs::read(dir.join("../certs/bundles/bob.der"))?;
    write(&dir, "certificate-not-cms.der", &bob_der)?;
    Ok(())
}

fn certificate(path: &Path) -> Result<Certificate> {
    let pem = std::fs::read(path)?;
    let (_, der) = pem_rfc7468::decode_vec(&pem).map_err(|e| e.to_string())?;
    Ok(Certificate::from_der(&der)?)
}

fn rsa_key(cert: &Certificate) -> Result<rsa::RsaPublicKey> {
    let spki = cert.tbs_certificate.subject_public_key_info.to_der()?;
    Ok(rsa::RsaPublicKey::from_public_key_der(&spki)?)
}

fn ski(cert: &Certificate) -> Result<SubjectKeyIdentifier> {
    let ext = cert
        .tbs_certificate
        .extensions
        .iter()
        .flatten()
        .find(|e| e.extn_id == const_oid::db::rfc5280::ID_CE_SUBJECT_KEY_IDENTIFIER)
        .ok_or("no subjectKeyIdentifier")?;
    Ok(SubjectKeyIdentifier::from_der(ext.extn_value.as_bytes())?)
}

fn read_envelope(path: &Path) -> Result<EnvelopedData> {
    let ci = ContentInfo::from_der(&std::fs::read(path)?)?;
    Ok(ci.content.decode_as::<EnvelopedData>()?)
}

fn content_info(env: &EnvelopedData) -> Result<Vec<u8>> {
    Ok(wrap_enveloped(&env.to_der()?))
}

/// `ContentInfo { id-envelopedData, [0] EXPLICIT content }`.
fn wrap_enveloped(content: &[u8]) -> Vec<u8> {
    let mut body = ID_ENVELOPED_DATA.to_der().unwrap_or_default();
    body.extend(tlv(0xa0, content));
    tlv(0x30, &body)
}

/// A DER element with a one-octet tag.
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len() - 1);
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend(&bytes[skip..]);
    }
    out.extend(content);
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    std::fs::write(dir.join(name), bytes)?;
    println!("wrote {name}");
    Ok(())
}
