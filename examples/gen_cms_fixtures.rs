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
    // Malformed key-agreement RecipientInfos, edited from OpenSSL's kari to carol by rKeyId.
    let kari_path = [1, 0, 1, 0]; // ContentInfo [0] > EnvelopedData > recipientInfos > kari
    let carol = Node::parse(&std::fs::read(dir.join("carol-keyid.der"))?)?;
    let edits: [(&str, &Edit); 4] = [
        // RecipientEncryptedKey without its encryptedKey.
        ("carol-kari-no-encrypted-key.der", &|kari| {
            kari.child(&[3, 0])?.children_mut()?.truncate(1);
            Ok(())
        }),
        // recipientEncryptedKeys empty: the key is encrypted for nobody.
        ("carol-kari-no-keys.der", &|kari| {
            kari.child(&[3])?.children_mut()?.clear();
            Ok(())
        }),
        // originator [0] holding an INTEGER instead of an OriginatorIdentifierOrKey.
        ("carol-kari-bad-originator.der", &|kari| {
            *kari.child(&[1])?.children_mut()? = vec![Node::leaf(0x02, &[0x01])];
            Ok(())
        }),
        // version 7 (RFC 5652 §6.2.2: always 3; CMSVersion knows 0 to 5).
        ("carol-kari-version-7.der", &|kari| {
            *kari.child(&[0])? = Node::leaf(0x02, &[0x07]);
            Ok(())
        }),
    ];
    for (name, edit) in edits {
        let mut edited = carol.clone();
        edit(edited.child(&kari_path)?)?;
        write(&dir, name, &edited.encode())?;
    }
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

/// An edit of a parsed DER element in place.
type Edit = dyn Fn(&mut Node) -> Result<()>;

/// A DER element with a one-octet tag, parsed down to its primitive leaves, to edit and
/// re-encode with the lengths put right.
#[derive(Clone)]
enum Node {
    Leaf(u8, Vec<u8>),
    Constructed(u8, Vec<Node>),
}

impl Node {
    fn leaf(tag: u8, value: &[u8]) -> Node {
        Node::Leaf(tag, value.to_vec())
    }

    fn parse(bytes: &[u8]) -> Result<Node> {
        let (node, rest) = Node::parse_one(bytes)?;
        if !rest.is_empty() {
            return Err("trailing bytes".into());
        }
        Ok(node)
    }

    fn parse_one(bytes: &[u8]) -> Result<(Node, &[u8])> {
        let (&tag, rest) = bytes.split_first().ok_or("empty")?;
        let (&first, mut rest) = rest.split_first().ok_or("no length")?;
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            let n = usize::from(first & 0x7f);
            let (octets, after) = rest.split_at_checked(n).ok_or("short length")?;
            rest = after;
            octets.iter().fold(0usize, |acc, &b| (acc << 8) | usize::from(b))
        };
        let (value, rest) = rest.split_at_checked(len).ok_or("short value")?;
        if tag & 0x20 == 0 {
            return Ok((Node::Leaf(tag, value.to_vec()), rest));
        }
        let mut children = Vec::new();
        let mut input = value;
        while !input.is_empty() {
            let (child, after) = Node::parse_one(input)?;
            children.push(child);
            input = after;
        }
        Ok((Node::Constructed(tag, children), rest))
    }

    fn encode(&self) -> Vec<u8> {
        match self {
            Node::Leaf(tag, value) => tlv(*tag, value),
            Node::Constructed(tag, children) => {
                tlv(*tag, &children.iter().flat_map(Node::encode).collect::<Vec<u8>>())
            }
        }
    }

    fn children_mut(&mut self) -> Result<&mut Vec<Node>> {
        match self {
            Node::Constructed(_, children) => Ok(children),
            Node::Leaf(..) => Err("a primitive element has no children".into()),
        }
    }

    /// The descendant at `path` (child indices, outermost first).
    fn child(&mut self, path: &[usize]) -> Result<&mut Node> {
        let mut node = self;
        for &i in path {
            node = node.children_mut()?.get_mut(i).ok_or("no such child")?;
        }
        Ok(node)
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    std::fs::write(dir.join(name), bytes)?;
    println!("wrote {name}");
    Ok(())
}
