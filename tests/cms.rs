//! CMS inspection against fixtures made by real implementations (testdata/cms, see its
//! README.md and generate.sh), plus BER normalisation invariants.
//!
//! Every fixture has `NAME.expected.json` beside it: the summary (or the error) `inspect` gives.
//! `UPDATE_EXPECTED=1 cargo test --test cms` rewrites them; review the diff.

use der::{Decode, Encode};
use proptest::prelude::*;
use rstest::rstest;
use serde_json::{json, Value};
use smime_lint::ber::{self, BerError, Limits};
use smime_lint::cms::{
    self, CipherStrength, CmsError, CmsSummary, RecipientInfoKind, RecipientKeyId,
};
use smime_lint::IssuerSerial;
use std::borrow::Cow;
use std::path::{Path, PathBuf};
use x509_cert::Certificate;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/cms")
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Every fixture file (not the script, README, expectations or the openssl-der folder).
fn fixtures() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".expected.json") && n != "generate.sh" && n != "README.md")
        .collect();
    names.sort();
    names
}

/// Inspects a fixture as the CLI would: armoured text is decoded first.
fn inspect_fixture(bytes: &[u8]) -> Result<CmsSummary, CmsError> {
    let binary = cms::decode_armor(bytes)?;
    cms::inspect(&binary)
}

fn key_id(id: &RecipientKeyId) -> Value {
    match id {
        RecipientKeyId::IssuerSerial { issuer, serial_hex, .. } => {
            json!({"issuer": issuer, "serial": serial_hex})
        }
        RecipientKeyId::SubjectKeyIdentifier(ski) => json!({"ski": hex::encode(ski)}),
    }
}

/// The reviewed, serialisable view of a summary.
fn view(result: &Result<CmsSummary, CmsError>) -> Value {
    match result {
        Err(e) => json!({"error": e.to_string()}),
        Ok(CmsSummary::Enveloped(e)) => json!({
            "type": if e.auth_enveloped { "auth-enveloped" } else { "enveloped" },
            "recipient_infos": e.recipient_infos.iter().map(|ri| json!({
                "kind": ri.kind,
                "id": ri.id.as_ref().map(key_id),
                "key_encryption": ri.key_encryption,
            })).collect::<Vec<_>>(),
            "content_cipher": {
                "name": e.content_cipher.name,
                "oid": e.content_cipher.oid,
                "key_bits": e.content_cipher.key_bits,
                "strength": e.content_cipher.strength,
            },
            "encrypted_content_len": e.encrypted_content_len,
            "ber_indefinite": e.ber_indefinite,
            "duplicate_recipient_infos": e.duplicate_recipient_infos,
        }),
        Ok(CmsSummary::Signed(s)) => json!({
            "type": "signed",
            "certificates": s.certificates.iter().map(|der| {
                Certificate::from_der(der)
                    .map(|c| c.tbs_certificate.subject.to_string())
                    .unwrap_or_else(|e| format!("undecodable: {e}"))
            }).collect::<Vec<_>>(),
            "signers": s.signers.iter().map(|si| json!({
                "sid": key_id(&si.sid),
                "digest_algorithm": si.digest_algorithm,
                "signature_algorithm": si.signature_algorithm,
            })).collect::<Vec<_>>(),
            "econtent_type": s.econtent_type,
            "econtent_len": s.econtent.as_ref().map(Vec::len),
            "ber_indefinite": s.ber_indefinite,
        }),
        Ok(CmsSummary::Other { content_type }) => {
            json!({"type": "other", "content_type": content_type})
        }
    }
}

#[test]
fn every_fixture_matches_its_expected_summary() {
    let update = std::env::var_os("UPDATE_EXPECTED").is_some();
    let names = fixtures();
    assert!(names.len() >= 40, "fixtures missing: {names:?}");
    let mut failures = Vec::new();
    for name in &names {
        let actual = view(&inspect_fixture(&read(name)));
        let path = dir().join(format!("{name}.expected.json"));
        if update {
            let text = serde_json::to_string_pretty(&actual).unwrap() + "\n";
            std::fs::write(&path, text).unwrap();
            continue;
        }
        let expected: Value = match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).unwrap(),
            Err(_) => {
                failures.push(format!("{name}: no {name}.expected.json"));
                continue;
            }
        };
        if expected != actual {
            failures.push(format!(
                "{name}:\n expected {}\n actual   {}",
                serde_json::to_string(&expected).unwrap(),
                serde_json::to_string(&actual).unwrap()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn envelope(name: &str) -> cms::EnvelopeSummary {
    match inspect_fixture(&read(name)) {
        Ok(CmsSummary::Enveloped(e)) => e,
        other => panic!("{name}: not an envelope: {other:?}"),
    }
}

fn cert(name: &str) -> Certificate {
    let pem =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/certs").join(name))
            .unwrap();
    Certificate::from_der(&pem_rfc7468::decode_vec(&pem).unwrap().1).unwrap()
}

fn issuer_serial(c: &Certificate) -> IssuerSerial {
    IssuerSerial::new(&c.tbs_certificate.issuer, &c.tbs_certificate.serial_number)
}

fn ski(c: &Certificate) -> Vec<u8> {
    let ext = c
        .tbs_certificate
        .extensions
        .iter()
        .flatten()
        .find(|e| e.extn_id == const_oid::db::rfc5280::ID_CE_SUBJECT_KEY_IDENTIFIER)
        .unwrap();
    der::asn1::OctetString::from_der(ext.extn_value.as_bytes()).unwrap().as_bytes().to_vec()
}

/// Which certificate each RecipientInfo names: by issuer+serial or by SKI, compared with the
/// test PKI's certificates.
fn named_recipients(e: &cms::EnvelopeSummary) -> Vec<String> {
    let people = ["alice", "bob", "carol", "nina-p384", "zoe-serial-clash"];
    e.recipient_infos
        .iter()
        .map(|ri| match &ri.id {
            None => format!("{:?}", ri.kind).to_lowercase(),
            Some(id) => people
                .iter()
                .find(|p| {
                    let c = cert(&format!("store/{p}.pem"));
                    match id {
                        RecipientKeyId::IssuerSerial { key, .. } => *key == issuer_serial(&c),
                        RecipientKeyId::SubjectKeyIdentifier(s) => *s == ski(&c),
                    }
                })
                .map_or("unknown".to_owned(), |p| p.to_string()),
        })
        .collect()
}

#[rstest]
#[case("bob-aes128.der", &["bob"], "aes-128-cbc", Some(128), CipherStrength::Strong)]
#[case("bob-stream-ber.der", &["bob"], "aes-256-cbc", Some(256), CipherStrength::Strong)]
#[case("bob-keyid.der", &["bob"], "aes-128-cbc", Some(128), CipherStrength::Strong)]
#[case("bob-des3.der", &["bob"], "des-ede3-cbc", Some(168), CipherStrength::Weak)]
#[case("bob-des.der", &["bob"], "des-cbc", Some(56), CipherStrength::Broken)]
#[case("bob-rc2-40.der", &["bob"], "rc2-cbc", Some(40), CipherStrength::Broken)]
#[case("bob-rc2-128.der", &["bob"], "rc2-cbc", Some(128), CipherStrength::Broken)]
#[case("bob-rc2-no-version.der", &["bob"], "rc2-cbc", Some(32), CipherStrength::Broken)]
#[case("bob-aes128-gcm.der", &["bob"], "aes-128-gcm", Some(128), CipherStrength::Strong)]
#[case("alice-bob-carol.der", &["alice", "bob", "carol"], "aes-256-cbc", Some(256), CipherStrength::Strong)]
#[case("carol-keyid.der", &["carol"], "aes-128-cbc", Some(128), CipherStrength::Strong)]
#[case("alice-carol-nina-stream-ber.der", &["alice", "carol", "nina-p384"], "aes-128-cbc", Some(128), CipherStrength::Strong)]
#[case("bob-and-kekri.der", &["bob", "kekri"], "aes-128-cbc", Some(128), CipherStrength::Strong)]
#[case("pwri.der", &["pwri"], "aes-128-cbc", Some(128), CipherStrength::Strong)]
#[case("builder-ski-and-issuer-serial.der", &["alice", "bob"], "aes-256-cbc", Some(256), CipherStrength::Strong)]
#[case("builder-with-ori.der", &["alice", "bob", "ori"], "aes-256-cbc", Some(256), CipherStrength::Strong)]
fn envelopes_name_their_recipients_and_cipher(
    #[case] name: &str,
    #[case] recipients: &[&str],
    #[case] cipher: &str,
    #[case] key_bits: Option<u32>,
    #[case] strength: CipherStrength,
) {
    let e = envelope(name);
    let mut named = named_recipients(&e);
    named.sort();
    assert_eq!(named, recipients);
    assert_eq!(e.content_cipher.name, cipher);
    assert_eq!(e.content_cipher.key_bits, key_bits);
    assert_eq!(e.content_cipher.strength, strength);
}

#[test]
fn keyid_envelopes_use_the_subject_key_identifier() {
    let e = envelope("bob-keyid.der");
    assert_eq!(e.recipient_infos[0].kind, RecipientInfoKind::Ktri);
    assert!(matches!(e.recipient_infos[0].id, Some(RecipientKeyId::SubjectKeyIdentifier(_))));
    let e = envelope("carol-keyid.der");
    assert_eq!(e.recipient_infos[0].kind, RecipientInfoKind::Kari);
    assert!(matches!(e.recipient_infos[0].id, Some(RecipientKeyId::SubjectKeyIdentifier(_))));
}

#[test]
fn kinds_and_key_encryption_are_reported() {
    let kinds = |name: &str| {
        envelope(name)
            .recipient_infos
            .iter()
            .map(|r| (r.kind, r.key_encryption.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(kinds("bob-oaep.der"), [(RecipientInfoKind::Ktri, "rsaes-oaep".to_owned())]);
    assert_eq!(kinds("kekri.der"), [(RecipientInfoKind::Kekri, "aes128-wrap".to_owned())]);
    assert_eq!(kinds("pwri.der"), [(RecipientInfoKind::Pwri, "pwri-kek".to_owned())]);
    let abc = kinds("alice-bob-carol.der");
    assert_eq!(abc.iter().filter(|(k, _)| *k == RecipientInfoKind::Kari).count(), 1);
    assert!(abc.iter().any(|(_, alg)| alg.starts_with("dhSinglePass-stdDH")));
    assert!(!RecipientInfoKind::Pwri.is_certificate_bound());
}

#[rstest]
#[case("bob-aes128.der", Some(112), false, false)]
#[case("bob-stream-ber.der", Some(112), false, true)]
#[case("bob-aes128-gcm.der", Some(101), true, false)]
#[case("bob-aes256-gcm-stream-ber.der", Some(101), true, true)]
#[case("bob-detached-content.der", None, false, false)]
#[case("bob-empty-content.der", Some(0), false, false)]
fn encrypted_content_presence_and_encoding(
    #[case] name: &str,
    #[case] len: Option<u64>,
    #[case] auth: bool,
    #[case] indefinite: bool,
) {
    let e = envelope(name);
    assert_eq!(e.encrypted_content_len, len);
    assert_eq!(e.auth_enveloped, auth);
    assert_eq!(e.ber_indefinite, indefinite);
}

#[rstest]
#[case("bob-aes128.der", 0)]
#[case("bob-bob-duplicate.der", 1)]
#[case("bob-identical-duplicate.der", 1)]
#[case("alice-bob-carol.der", 0)]
fn duplicate_recipient_infos_are_counted(#[case] name: &str, #[case] duplicates: usize) {
    assert_eq!(envelope(name).duplicate_recipient_infos, duplicates);
}

#[test]
fn signed_data_carries_certificates_signers_and_content() {
    let s = match inspect_fixture(&read("alice-signed-opaque.der")).unwrap() {
        CmsSummary::Signed(s) => s,
        other => panic!("{other:?}"),
    };
    let alice = cert("store/alice.pem");
    assert!(s.certificates.contains(&alice.to_der().unwrap()));
    assert!(matches!(&s.signers[0].sid,
        RecipientKeyId::IssuerSerial { key, .. } if *key == issuer_serial(&alice)));
    assert_eq!(s.econtent_type, "1.2.840.113549.1.7.1");
    assert!(s.econtent.as_deref().unwrap().ends_with(b"fixed test body of smime-lint.\r\n"));
    assert_eq!(s.signed_data.signer_infos.0.len(), 1);

    let detached = match inspect_fixture(&read("alice-signed-detached.p7s")).unwrap() {
        CmsSummary::Signed(s) => s,
        other => panic!("{other:?}"),
    };
    assert_eq!(detached.econtent, None);

    let stream = match inspect_fixture(&read("carol-signed-stream-ber.der")).unwrap() {
        CmsSummary::Signed(s) => s,
        other => panic!("{other:?}"),
    };
    assert!(stream.ber_indefinite);
    assert_eq!(stream.certificates.len(), 2, "carol and the intermediate");
    assert_eq!(stream.econtent, s.econtent, "streamed content is merged back whole");

    let bundle = match inspect_fixture(&read("certs-only.p7c")).unwrap() {
        CmsSummary::Signed(s) => s,
        other => panic!("{other:?}"),
    };
    assert!(bundle.signers.is_empty());
    assert_eq!(bundle.certificates.len(), 2);
}

#[rstest]
#[case("truncated.der", "beyond input at byte 0: the element claims 544 content bytes")]
#[case("truncated-stream.ber", "truncated BER")]
#[case("absurd-length.der", "BER length beyond input at byte 0: the element claims 4294967295")]
#[case("deep-nesting.ber", "nested deeper than 64 levels")]
#[case("bad-segment.ber", "bad segment")]
#[case("garbage.bin", "invalid base64/PEM")]
#[case("truncated.b64", "invalid base64/PEM")]
#[case("truncated-on-quad.b64", "beyond input at byte 0")]
#[case("certificate-not-cms.der", "not a CMS ContentInfo")]
#[case("no-recipients.der", "recipientInfos: empty")]
fn bad_input_is_an_error_that_says_why(#[case] name: &str, #[case] says: &str) {
    let err = inspect_fixture(&read(name)).unwrap_err().to_string();
    assert!(err.contains(says), "{name}: {err}");
}

#[test]
fn garbage_binary_is_refused_by_inspect() {
    let err = cms::inspect(&read("garbage.bin")).unwrap_err();
    assert!(matches!(err, CmsError::Ber(_) | CmsError::NotContentInfo), "{err}");
}

#[test]
fn der_fixtures_pass_through_unchanged_and_borrowed() {
    for name in fixtures().iter().filter(|n| n.ends_with(".der") || n.ends_with(".p7s")) {
        if name.contains("-ber") || inspect_fixture(&read(name)).is_err() {
            continue;
        }
        let bytes = read(name);
        let der = ber::to_der(&bytes).unwrap();
        assert!(matches!(der.bytes, Cow::Borrowed(_)), "{name} was copied");
        assert_eq!(&*der.bytes, &bytes[..], "{name}");
    }
}

#[test]
fn ber_fixtures_normalise_to_what_openssl_re_encodes() {
    let mut checked = 0;
    for entry in std::fs::read_dir(dir().join("openssl-der")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let ber_bytes = read(&name);
        let der = ber::to_der(&ber_bytes).unwrap();
        assert!(der.had_indefinite_length, "{name}");
        assert!(der.bytes.len() < ber_bytes.len());
        assert_eq!(&*der.bytes, &std::fs::read(&path).unwrap()[..], "{name}");
        ::cms::content_info::ContentInfo::from_der(&der.bytes).unwrap();
        checked += 1;
    }
    assert_eq!(checked, 4);
}

#[test]
fn limits_apply_to_real_messages() {
    let bytes = read("alice-bob-carol.der");
    let tight = Limits { max_depth: 64, max_elements: 20 };
    assert!(matches!(
        ber::to_der_with(&bytes, &tight),
        Err(BerError::TooManyElements { max: 20, .. })
    ));
    let shallow = Limits { max_depth: 5, max_elements: 1_000 };
    assert!(matches!(ber::to_der_with(&bytes, &shallow), Err(BerError::TooDeep { max: 5, .. })));
}

/// bob-stream-ber.der with its encrypted content replaced by `len` bytes in 4096-byte segments,
/// as `openssl cms -stream` writes large messages.
fn large_stream(len: usize) -> Vec<u8> {
    let small = read("bob-stream-ber.der");
    let at = small.windows(3).position(|w| w == [0xa0, 0x80, 0x04]).unwrap() + 2;
    let mut out = small[..at].to_vec();
    let content: Vec<u8> = (0..len).map(|i| i as u8).collect();
    for chunk in content.chunks(4096) {
        out.extend(der::asn1::OctetString::new(chunk).unwrap().to_der().unwrap());
    }
    out.extend([0u8; 10]);
    out
}

#[test]
fn large_streamed_envelopes_are_measured_not_copied() {
    let bytes = large_stream(1_000_003);
    let e = match cms::inspect(&bytes).unwrap() {
        CmsSummary::Enveloped(e) => e,
        other => panic!("{other:?}"),
    };
    assert_eq!(e.encrypted_content_len, Some(1_000_003));
    assert!(e.ber_indefinite);
    // The full normalisation still has every byte.
    let der = ber::to_der(&bytes).unwrap();
    assert!(der.had_constructed_string);
    assert!(der.bytes.len() > 1_000_003 && der.bytes.len() < bytes.len());
}

fn fixture_bytes() -> Vec<Vec<u8>> {
    fixtures().iter().map(|n| read(n)).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = ber::to_der(&bytes);
        let _ = cms::inspect(&bytes);
        let _ = cms::decode_armor(&bytes);
    }

    #[test]
    fn ber_looking_bytes_never_panic(
        parts in proptest::collection::vec(
            prop_oneof![
                Just(vec![0x30, 0x80]), Just(vec![0x24, 0x80]), Just(vec![0x23, 0x80]),
                Just(vec![0xa0, 0x80]), Just(vec![0x00, 0x00]), Just(vec![0x04, 0x01, 0xaa]),
                Just(vec![0x03, 0x02, 0x01, 0xfe]), Just(vec![0x06, 0x01, 0x2a]),
                Just(vec![0x30, 0x00]), Just(vec![0x84, 0xff]),
            ],
            0..40,
        )
    ) {
        let bytes = parts.concat();
        if let Ok(der) = ber::to_der(&bytes) {
            // Whatever was accepted is DER-framed: normalising again changes nothing.
            let again = ber::to_der(&der.bytes).unwrap();
            prop_assert!(matches!(again.bytes, Cow::Borrowed(_)));
        }
        let _ = cms::inspect(&bytes);
    }

    #[test]
    fn mutated_fixtures_never_panic(
        index in any::<prop::sample::Index>(),
        at in any::<prop::sample::Index>(),
        byte in any::<u8>(),
        cut in any::<bool>(),
    ) {
        let all = fixture_bytes();
        let mut bytes = all[index.index(all.len())].clone();
        if !bytes.is_empty() {
            let i = at.index(bytes.len());
            if cut { bytes.truncate(i) } else { bytes[i] = byte }
        }
        let _ = ber::to_der(&bytes);
        let _ = cms::inspect(&bytes);
    }

    #[test]
    fn normalised_ber_fixtures_decode_with_der(index in any::<prop::sample::Index>()) {
        let names: Vec<String> =
            fixtures().into_iter().filter(|n| n.ends_with("-ber.der")).collect();
        let name = &names[index.index(names.len())];
        let bytes = read(name);
        let der = ber::to_der(&bytes).unwrap();
        let ci = ::cms::content_info::ContentInfo::from_der(&der.bytes).unwrap();
        prop_assert_eq!(ci.to_der().unwrap(), der.bytes.into_owned());
    }
}
