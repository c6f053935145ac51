//! The certificate side against the committed test PKI (testdata/certs, see its README.md):
//! loading, indexing, encryptability reasons, choice among several certificates, and trust.

use proptest::prelude::*;
use rstest::rstest;
use smime_lint::{
    Address, AddressSource, CertStore, Certificate, Error, HarvestBinding, KeyKind, Policy,
    Provenance, Reason, Time,
};
use std::path::{Path, PathBuf};
use x509_cert::ext::pkix::name::{GeneralName, OtherName};
use x509_cert::ext::pkix::SubjectAltName;

/// 2026-06-01T00:00:00Z, the time every expectation here is written for.
const AT: Time = Time::from_unix(1_780_272_000);
const PKI: &str = "testdata/certs";

fn pki(path: &str) -> PathBuf {
    Path::new(PKI).join(path)
}

fn addr(text: &str) -> Address {
    Address::parse(text).unwrap()
}

fn store_of(paths: &[&str]) -> CertStore {
    let mut store = CertStore::new();
    for path in paths {
        store.load_path(&pki(path)).unwrap();
    }
    store
}

fn cert(path: &str) -> Certificate {
    let store = store_of(&[path]);
    assert_eq!(store.len(), 1);
    let only = store.iter().next().unwrap().clone();
    only
}

fn codes(reasons: &[Reason]) -> Vec<&'static str> {
    reasons.iter().map(Reason::code).collect()
}

/// Every end-entity certificate, the address it is for, and the exact reason codes at 2026-06-01:
/// without trust anchors, and with `ca/root.pem` trusted and `ca/intermediate.pem` in the store.
#[rstest]
#[case("alice.pem", "alice@example.com", &[], &[])]
#[case("bob.pem", "bob@example.com", &[], &[])]
#[case("carol.pem", "carol@example.org", &[], &[])]
#[case("nina-p384.pem", "nina@example.org", &[], &[])]
#[case("dave-expired.pem", "dave@example.com", &["expired"], &["expired"])]
#[case("erin-not-yet-valid.pem", "erin@example.com", &["not-yet-valid"], &["not-yet-valid"])]
#[case(
    "frank-server-eku.pem",
    "frank@example.com",
    &["eku-excludes-email-protection"],
    &["eku-excludes-email-protection"]
)]
#[case(
    "grace-sign-only.pem",
    "grace@example.com",
    &["key-usage-forbids-encryption"],
    &["key-usage-forbids-encryption"]
)]
#[case(
    "walter-ec-keyenc.pem",
    "walter@example.com",
    &["key-usage-forbids-encryption"],
    &["key-usage-forbids-encryption"]
)]
#[case("heidi-weak.pem", "heidi@example.com", &["weak-key"], &["weak-key"])]
#[case(
    "ivan-ed25519.pem",
    "ivan@example.com",
    &["unsupported-key-algorithm"],
    &["unsupported-key-algorithm"]
)]
#[case("mallory-untrusted.pem", "mallory@example.com", &[], &["untrusted"])]
#[case(
    "judy-subject-only.pem",
    "judy@example.com",
    &["address-only-in-subject"],
    &["address-only-in-subject"]
)]
#[case(
    "oscar-no-extensions.pem",
    "oscar@example.com",
    &["address-only-in-subject"],
    &["address-only-in-subject"]
)]
#[case(
    "trent-ku-not-critical.pem",
    "trent@example.com",
    &["key-usage-not-critical"],
    &["key-usage-not-critical"]
)]
#[case("sybil-any-eku.pem", "sybil@example.com", &[], &[])]
#[case("uma-upper-case.pem", "uma@example.com", &[], &[])]
#[case("victor-multi-san.pem", "victor@example.com", &[], &[])]
#[case("jorg-smtputf8.pem", "jörg@bücher.example", &[], &[])]
#[case("peggy-old.pem", "peggy@example.com", &["expired"], &["expired"])]
#[case("peggy-new.pem", "peggy@example.com", &[], &[])]
#[case("peggy-strong.pem", "peggy@example.com", &[], &[])]
#[case("zoe-serial-clash.pem", "zoe@example.com", &[], &["untrusted"])]
fn reasons_per_certificate(
    #[case] file: &str,
    #[case] address: &str,
    #[case] without_trust: &[&str],
    #[case] with_trust: &[&str],
) {
    let path = format!("store/{file}");
    let address = addr(address);
    let plain = store_of(&[&path]);
    let leaf = plain.iter().next().unwrap();
    assert_eq!(codes(&plain.check(leaf, &address, AT, &Policy::default())), without_trust);

    let mut trusted = store_of(&[&path, "ca/intermediate.pem"]);
    trusted.load_trust_path(&pki("ca/root.pem")).unwrap();
    let leaf = trusted.for_address(&address).next().unwrap();
    assert_eq!(codes(&trusted.check(leaf, &address, AT, &Policy::default())), with_trust);
}

#[test]
fn the_table_covers_every_certificate_in_the_store_folder() {
    // If a fixture is added to store/, add a row to `reasons_per_certificate`.
    let source = std::fs::read_to_string("tests/certs.rs").unwrap();
    for entry in std::fs::read_dir(pki("store")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(source.contains(&format!("\"{name}\"")), "{name} has no row");
    }
}

#[test]
fn the_whole_store_loads_and_indexes_every_address() {
    let store = store_of(&["store"]);
    assert_eq!(store.len(), 23);
    assert!(store.warnings().is_empty(), "{:?}", store.warnings());
    assert_eq!(store.for_address(&addr("peggy@example.com")).count(), 3);
    assert_eq!(store.for_address(&addr("nobody@example.com")).count(), 0);
}

#[test]
fn peggy_gets_the_strongest_usable_certificate() {
    let store = store_of(&["store"]);
    let status = store.evaluate(&addr("peggy@example.com"), AT, &Policy::default());
    assert!(status.is_encryptable());
    let chosen = status.chosen.as_ref().unwrap();
    assert_eq!(chosen.certificate.serial_hex(), "100f"); // peggy-strong, RSA 3072
    assert_eq!(chosen.certificate.key(), &KeyKind::Rsa { bits: 3072 });
    let serials: Vec<String> =
        status.candidates.iter().map(|v| v.certificate.serial_hex()).collect();
    // strong (usable, 128-bit), new (usable, 112-bit), old (expired) — all still visible.
    assert_eq!(serials, ["100f", "100e", "100d"]);
    assert_eq!(codes(&status.candidates[2].reasons), ["expired"]);
    assert!(status.reasons().is_empty());
}

#[test]
fn later_not_after_breaks_a_strength_tie() {
    // Without peggy-strong, the two RSA 2048 certificates tie on strength only if both usable;
    // at 2023 peggy-old (notAfter 2024) is still valid, and peggy-new (2050) wins on notAfter.
    let store = store_of(&["store/peggy-old.pem", "store/peggy-new.pem"]);
    let in_2023 = Time::parse_rfc3339("2023-06-01T00:00:00Z").unwrap();
    let status = store.evaluate(&addr("peggy@example.com"), in_2023, &Policy::default());
    assert_eq!(status.chosen.unwrap().certificate.serial_hex(), "100e");
}

#[test]
fn an_unusable_only_candidate_explains_itself() {
    let store = store_of(&["store"]);
    let status = store.evaluate(&addr("dave@example.com"), AT, &Policy::default());
    assert!(!status.is_encryptable());
    assert!(status.chosen.is_none());
    assert_eq!(status.candidates.len(), 1);
    assert_eq!(codes(&status.reasons()), ["expired"]);

    let none = store.evaluate(&addr("nobody@example.com"), AT, &Policy::default());
    assert!(none.candidates.is_empty());
    assert_eq!(none.reasons(), [Reason::NoCertificate]);

    let judy = store.evaluate(&addr("judy@example.com"), AT, &Policy::default());
    assert!(judy.is_encryptable());
    assert_eq!(judy.reasons(), [Reason::AddressOnlyInSubject]);
}

#[rstest]
#[case("uma@example.com", "store/uma-upper-case.pem", AddressSource::Rfc822Name)]
#[case("UMA@Example.Com", "store/uma-upper-case.pem", AddressSource::Rfc822Name)]
#[case("judy@example.com", "store/judy-subject-only.pem", AddressSource::SubjectEmail)]
#[case("victor@example.com", "store/victor-multi-san.pem", AddressSource::Rfc822Name)]
#[case("victor.alias@example.net", "store/victor-multi-san.pem", AddressSource::Rfc822Name)]
#[case("victor@example.org", "store/victor-multi-san.pem", AddressSource::Rfc822Name)]
#[case("jörg@bücher.example", "store/jorg-smtputf8.pem", AddressSource::SmtpUtf8Mailbox)]
#[case("jörg@xn--bcher-kva.example", "store/jorg-smtputf8.pem", AddressSource::SmtpUtf8Mailbox)]
#[case("oscar@example.com", "store/oscar-no-extensions.pem", AddressSource::SubjectEmail)]
fn found_by_every_address_it_names(
    #[case] address: &str,
    #[case] file: &str,
    #[case] source: AddressSource,
) {
    let store = store_of(&["store"]);
    let expected = cert(file);
    let address = addr(address);
    let found: Vec<_> = store.for_address(&address).collect();
    assert_eq!(found.len(), 1, "{address}");
    assert_eq!(found[0].sha256_hex(), expected.sha256_hex());
    assert_eq!(found[0].names(&address), Some(source));
    assert!(store.evaluate(&address, AT, &Policy::default()).is_encryptable());
}

#[test]
fn victor_lists_all_three_addresses_and_not_his_dns_name() {
    let victor = cert("store/victor-multi-san.pem");
    let names: Vec<&str> = victor.addresses().iter().map(|n| n.address.as_str()).collect();
    assert_eq!(names, ["victor@example.com", "victor.alias@example.net", "victor@example.org"]);
}

/// jorg's certificate with its subjectAltName replaced by `san` and signed again by the
/// intermediate CA (whose key the test PKI commits), so the result chains like the original.
fn jorg_with_san(san: SubjectAltName) -> Vec<u8> {
    use der::{Decode, Encode};
    use rsa::pkcs8::DecodePrivateKey;
    use sha2::Digest;
    let pem = std::fs::read_to_string(pki("store/jorg-smtputf8.pem")).unwrap();
    let (_, der) = pem_rfc7468::decode_vec(pem.as_bytes()).unwrap();
    let mut x509 = x509_cert::Certificate::from_der(&der).unwrap();
    let san_oid = der::asn1::ObjectIdentifier::new_unwrap("2.5.29.17");
    for ext in x509.tbs_certificate.extensions.as_mut().unwrap() {
        if ext.extn_id == san_oid {
            ext.extn_value = der::asn1::OctetString::new(san.to_der().unwrap()).unwrap();
        }
    }
    let tbs = x509.tbs_certificate.to_der().unwrap();
    let key_pem = std::fs::read_to_string(pki("keys/intermediate.key")).unwrap();
    let key = rsa::RsaPrivateKey::from_pkcs8_pem(&key_pem).unwrap();
    let signature =
        key.sign(rsa::Pkcs1v15Sign::new::<sha2::Sha256>(), &sha2::Sha256::digest(&tbs)).unwrap();
    x509.signature = der::asn1::BitString::from_bytes(&signature).unwrap();
    x509.to_der().unwrap()
}

fn smtp_utf8_mailbox(mailbox: &str) -> GeneralName {
    GeneralName::OtherName(OtherName {
        type_id: der::asn1::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.8.9"),
        value: der::Any::new(der::Tag::Utf8String, mailbox.as_bytes()).unwrap(),
    })
}

#[test]
fn a_correctly_encoded_smtputf8_mailbox_is_found_by_both_domain_forms() {
    // The committed jorg certificate encodes its mailbox twice (see cert.rs); this one is right.
    let der = jorg_with_san(SubjectAltName(vec![
        smtp_utf8_mailbox("jörg@bücher.example"),
        GeneralName::Rfc822Name(der::asn1::Ia5String::new("Joerg@Example.COM").unwrap()),
        smtp_utf8_mailbox("not an address"),
    ]));
    let mut store = trusted_store(&["ca/intermediate.pem"]);
    assert_eq!(store.add_bytes(&der, Provenance::Inline("jorg".into())).unwrap(), 1);
    let jorg = store.iter().find(|c| !c.is_ca()).unwrap();
    let names: Vec<_> = jorg.addresses().iter().map(|n| (n.address.as_str(), n.source)).collect();
    assert_eq!(
        names,
        [
            ("jörg@xn--bcher-kva.example", AddressSource::SmtpUtf8Mailbox),
            ("joerg@example.com", AddressSource::Rfc822Name)
        ]
    );
    for address in ["jörg@bücher.example", "jörg@xn--bcher-kva.example", "joerg@example.com"] {
        let status = store.evaluate(&addr(address), AT, &Policy::default());
        assert!(status.is_encryptable(), "{address}: {:?}", status.reasons());
    }
}

#[test]
fn a_tampered_signature_is_untrusted() {
    let mut der = jorg_with_san(SubjectAltName(vec![smtp_utf8_mailbox("jörg@bücher.example")]));
    let last = der.len() - 1;
    der[last] ^= 0x01; // inside the signature BIT STRING
    let mut store = trusted_store(&["ca/intermediate.pem"]);
    store.add_bytes(&der, Provenance::Inline("jorg".into())).unwrap();
    let detail = untrusted_detail(&store, "jörg@bücher.example").unwrap();
    assert!(detail.contains("does not verify"), "{detail}");
}

#[rstest]
#[case("bundles/bob.der", 1)]
#[case("bundles/three.pem", 3)]
#[case("bundles/three.p7b", 3)]
#[case("bundles/three-pem.p7c", 3)]
#[case("ca/chain.pem", 2)]
fn bundles_load(#[case] file: &str, #[case] count: usize) {
    let mut store = CertStore::new();
    assert_eq!(store.load_path(&pki(file)).unwrap(), count);
    assert_eq!(store.len(), count);
    assert!(store.warnings().is_empty());
    for cert in store.iter() {
        assert_eq!(cert.provenance(), &Provenance::File(pki(file)));
        assert_eq!(cert.provenance().label(), pki(file).display().to_string());
    }
}

#[test]
fn p7b_holds_the_same_certificates_as_the_pem() {
    let pem = store_of(&["bundles/three.pem"]);
    let p7b = store_of(&["bundles/three.p7b"]);
    let mut a: Vec<_> = pem.iter().map(|c| c.sha256_hex().to_owned()).collect();
    let mut b: Vec<_> = p7b.iter().map(|c| c.sha256_hex().to_owned()).collect();
    a.sort();
    b.sort();
    assert_eq!(a, b);
}

#[test]
fn loading_twice_adds_nothing() {
    let mut store = store_of(&["bundles/three.pem"]);
    assert_eq!(store.load_path(&pki("bundles/three.p7b")).unwrap(), 0);
    assert_eq!(store.len(), 3);
}

#[test]
fn a_broken_folder_loads_the_rest_with_warnings() {
    let mut store = CertStore::new();
    assert_eq!(store.load_path(&pki("broken")).unwrap(), 2);
    assert_eq!(store.len(), 2);
    let warned: Vec<_> = store.warnings().iter().map(|w| w.path.clone()).collect();
    assert_eq!(warned, [pki("broken/garbage.pem"), pki("broken/truncated.der")]);
    for warning in store.warnings() {
        assert!(!warning.message.is_empty());
    }
}

#[rstest]
#[case("broken/garbage.pem")]
#[case("broken/truncated.der")]
#[case("README.md")]
#[case("keys/bob.key")]
fn a_named_bad_file_is_an_error_naming_it(#[case] file: &str) {
    let err = CertStore::new().load_path(&pki(file)).unwrap_err();
    assert!(matches!(err, Error::Certificate { .. }), "{err:?}");
    assert!(err.to_string().starts_with(&pki(file).display().to_string()), "{err}");
}

#[test]
fn a_missing_path_is_an_io_error() {
    let err = CertStore::new().load_path(&pki("no-such-file.pem")).unwrap_err();
    assert!(matches!(err, Error::Io { ref path, .. } if path == &pki("no-such-file.pem")), "{err}");
}

#[test]
fn folders_recurse_and_skip_hidden_and_foreign_files() {
    let dir = tempfile::tempdir().unwrap();
    let nested = dir.path().join("a/b");
    std::fs::create_dir_all(&nested).unwrap();
    std::fs::copy(pki("store/bob.pem"), nested.join("bob.PEM")).unwrap();
    std::fs::copy(pki("bundles/three.p7b"), dir.path().join("three.p7b")).unwrap();
    std::fs::copy(pki("store/alice.pem"), dir.path().join(".hidden.pem")).unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not a certificate").unwrap();
    let mut store = CertStore::new();
    assert_eq!(store.load_path(dir.path()).unwrap(), 4);
    assert!(store.warnings().is_empty(), "{:?}", store.warnings());
    assert_eq!(store.for_address(&addr("bob@example.com")).count(), 1);
}

#[cfg(unix)]
#[test]
fn a_symlink_loop_does_not_hang() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(pki("store/bob.pem"), dir.path().join("bob.pem")).unwrap();
    std::os::unix::fs::symlink(dir.path(), dir.path().join("loop")).unwrap();
    let mut store = CertStore::new();
    assert_eq!(store.load_path(dir.path()).unwrap(), 1);
}

#[test]
fn issuer_and_serial_are_ambiguous_for_bob_and_zoe_and_ski_tells_them_apart() {
    let store = store_of(&["store"]);
    let bob = cert("store/bob.pem");
    let zoe = cert("store/zoe-serial-clash.pem");
    assert_eq!(bob.issuer_serial(), zoe.issuer_serial());
    let mut found: Vec<String> =
        store.by_issuer_serial(bob.issuer_serial().unwrap()).map(|c| c.subject_display()).collect();
    found.sort();
    assert_eq!(found, ["CN=Bob Builder", "CN=Zoe Clash"]);

    let by_ski: Vec<_> = store.by_ski(bob.subject_key_identifier().unwrap()).collect();
    assert_eq!(by_ski.len(), 1);
    assert_eq!(by_ski[0].sha256_hex(), bob.sha256_hex());
    let zoe_ski: Vec<_> = store.by_ski(zoe.subject_key_identifier().unwrap()).collect();
    assert_eq!(zoe_ski.len(), 1);
    assert_eq!(zoe_ski[0].sha256_hex(), zoe.sha256_hex());
}

#[test]
fn certificate_getters() {
    let bob = cert("store/bob.pem");
    assert_eq!(bob.serial_hex(), "1002");
    assert_eq!(bob.issuer_serial().unwrap().serial_hex(), "1002");
    assert_eq!(bob.key(), &KeyKind::Rsa { bits: 2048 });
    assert!(bob.subject_display().contains("CN=Bob Builder"));
    assert!(bob.issuer_display().contains("CN=smime-lint Test Intermediate CA"));
    assert_eq!(bob.sha256_hex().len(), 64);
    assert_eq!(bob.not_before(), Time::parse_rfc3339("2020-01-01T00:00:00Z").unwrap());
    assert_eq!(bob.not_after(), Time::parse_rfc3339("2060-01-01T00:00:00Z").unwrap());
    assert!(!bob.is_ca());
    let der = std::fs::read(pki("bundles/bob.der")).unwrap();
    assert_eq!(bob.der(), der.as_slice());
    assert_eq!(bob.x509().unwrap().tbs_certificate.serial_number.as_bytes(), [0x10, 0x02]);

    assert_eq!(cert("store/carol.pem").key(), &KeyKind::Ec { curve: "P-256", bits: 256 });
    assert_eq!(cert("store/nina-p384.pem").key(), &KeyKind::Ec { curve: "P-384", bits: 384 });
    assert_eq!(
        cert("store/ivan-ed25519.pem").key(),
        &KeyKind::Other { algorithm: "Ed25519".into() }
    );
    assert_eq!(cert("store/heidi-weak.pem").key(), &KeyKind::Rsa { bits: 1024 });
    assert!(cert("ca/intermediate.pem").is_ca());
    let oscar = cert("store/oscar-no-extensions.pem");
    assert_eq!(oscar.subject_key_identifier(), None);
    assert!(oscar.key_usage().is_none() && oscar.extended_key_usage().is_none());
}

/// The clock-skew allowance widens the certificate's validity period at both ends, inclusive:
/// bob's notBefore and dave's notAfter are midnight, 2020-01-01 and 2021-01-01.
#[rstest]
#[case::before_not_before_exact("bob", "2019-12-31T23:59:25Z", 0, &["not-yet-valid"])]
#[case::before_not_before_within_skew("bob", "2019-12-31T23:59:25Z", 600, &[])]
#[case::at_the_edge_of_the_skew("bob", "2019-12-31T23:50:00Z", 600, &[])]
#[case::before_not_before_beyond_skew("bob", "2019-12-31T23:49:00Z", 600, &["not-yet-valid"])]
#[case::after_not_after_exact("dave-expired", "2021-01-01T00:00:01Z", 0, &["expired"])]
#[case::after_not_after_within_skew("dave-expired", "2021-01-01T00:05:00Z", 600, &[])]
#[case::after_not_after_beyond_skew("dave-expired", "2021-01-01T00:11:00Z", 600, &["expired"])]
fn clock_skew_widens_the_validity_period(
    #[case] name: &str,
    #[case] at: &str,
    #[case] skew_secs: u64,
    #[case] expected: &[&str],
) {
    let store = store_of(&["store"]);
    let cert = cert(&format!("store/{name}.pem"));
    let address = cert.addresses()[0].address.clone();
    let policy =
        Policy { clock_skew: std::time::Duration::from_secs(skew_secs), ..Policy::default() };
    let at = Time::parse_rfc3339(at).unwrap();
    let blocking: Vec<Reason> =
        store.check(&cert, &address, at, &policy).into_iter().filter(Reason::is_blocking).collect();
    assert_eq!(codes(&blocking), expected, "{name} at {at} with {skew_secs} s of skew");
}

#[test]
fn policy_sets_the_minimum_key_size() {
    let store = store_of(&["store/heidi-weak.pem"]);
    let heidi = addr("heidi@example.com");
    let lax = Policy { min_rsa_bits: 1024, ..Policy::default() };
    assert!(store.evaluate(&heidi, AT, &lax).is_encryptable());
    let strict = Policy { min_rsa_bits: 3072, min_ec_bits: 384, ..Policy::default() };
    let store = store_of(&["store"]);
    assert!(!store.evaluate(&addr("alice@example.com"), AT, &strict).is_encryptable());
    assert!(!store.evaluate(&addr("carol@example.org"), AT, &strict).is_encryptable());
    assert!(store.evaluate(&addr("nina@example.org"), AT, &strict).is_encryptable());
    assert_eq!(
        store.evaluate(&addr("carol@example.org"), AT, &strict).reasons(),
        [Reason::WeakKey { algorithm: "EC", bits: 256, minimum: 384 }]
    );
}

#[test]
fn a_certificate_does_not_serve_an_address_it_does_not_name() {
    let store = store_of(&["store/bob.pem"]);
    let bob = store.iter().next().unwrap();
    let reasons = store.check(bob, &addr("alice@example.com"), AT, &Policy::default());
    assert_eq!(codes(&reasons), ["no-certificate"]);
}

#[test]
fn harvested_unverified_blocks_until_a_verified_copy_arrives() {
    let der = std::fs::read(pki("bundles/bob.der")).unwrap();
    let unverified = Provenance::Harvested {
        message: "cur/1.eml".into(),
        binding: HarvestBinding::Unverified("signed by someone else".into()),
    };
    let mut store = CertStore::new();
    assert!(store.add(Certificate::from_der(&der, unverified).unwrap()));
    let bob = addr("bob@example.com");
    let status = store.evaluate(&bob, AT, &Policy::default());
    assert_eq!(
        status.reasons(),
        [Reason::HarvestedUnverified { detail: "signed by someone else".into() }]
    );
    let verified = Provenance::Harvested {
        message: "cur/2.eml".into(),
        binding: HarvestBinding::Verified { senders: vec![bob.clone()] },
    };
    assert!(!store.add(Certificate::from_der(&der, verified.clone()).unwrap()));
    assert_eq!(store.len(), 1);
    let status = store.evaluate(&bob, AT, &Policy::default());
    assert!(status.is_encryptable());
    assert_eq!(status.chosen.unwrap().certificate.provenance(), &verified);
    assert_eq!(store.iter().next().unwrap().provenance().label(), "cur/2.eml");
}

#[test]
fn an_unverified_copy_does_not_downgrade_a_loaded_certificate() {
    let mut store = store_of(&["store/bob.pem"]);
    let der = std::fs::read(pki("bundles/bob.der")).unwrap();
    let unverified = Provenance::Harvested {
        message: "x.eml".into(),
        binding: HarvestBinding::Unverified("no".into()),
    };
    assert!(!store.add(Certificate::from_der(&der, unverified).unwrap()));
    assert!(store.evaluate(&addr("bob@example.com"), AT, &Policy::default()).is_encryptable());
}

fn trusted_store(paths: &[&str]) -> CertStore {
    let mut store = store_of(paths);
    assert_eq!(store.load_trust_path(&pki("ca/root.pem")).unwrap(), 1);
    assert!(store.has_trust_anchors());
    store
}

fn untrusted_detail(store: &CertStore, address: &str) -> Option<String> {
    let status = store.evaluate(&addr(address), AT, &Policy::default());
    status.candidates.first()?.reasons.iter().find_map(|r| match r {
        Reason::Untrusted { detail } => Some(detail.clone()),
        _ => None,
    })
}

#[test]
fn bob_is_trusted_through_the_intermediate_in_the_store() {
    let store = trusted_store(&["store", "ca/intermediate.pem"]);
    assert_eq!(untrusted_detail(&store, "bob@example.com"), None);
    assert!(store.evaluate(&addr("bob@example.com"), AT, &Policy::default()).is_encryptable());
    // Repeated evaluation uses the cached chain and says the same.
    assert_eq!(untrusted_detail(&store, "bob@example.com"), None);
}

#[test]
fn bob_is_trusted_through_an_intermediate_given_as_anchor() {
    let mut store = trusted_store(&["store/bob.pem"]);
    store.load_trust_path(&pki("ca/intermediate.pem")).unwrap();
    assert_eq!(untrusted_detail(&store, "bob@example.com"), None);
}

#[test]
fn without_the_intermediate_bob_is_untrusted() {
    let store = trusted_store(&["store/bob.pem"]);
    let detail = untrusted_detail(&store, "bob@example.com").unwrap();
    assert!(detail.contains("Intermediate CA"), "{detail}");
    assert!(!store.evaluate(&addr("bob@example.com"), AT, &Policy::default()).is_encryptable());
}

#[test]
fn mallory_from_a_rogue_ca_is_untrusted() {
    let store = trusted_store(&["store", "ca/intermediate.pem", "ca/rogue.pem"]);
    let detail = untrusted_detail(&store, "mallory@example.com").unwrap();
    assert!(
        detail.contains("\"O=Rogue,CN=Rogue CA\" is self-signed and not a trust anchor")
            || detail.contains("\"CN=Rogue CA,O=Rogue\" is self-signed and not a trust anchor"),
        "{detail}"
    );
    // Without the rogue CA in the store, the detail names the missing issuer.
    let store = trusted_store(&["store/mallory-untrusted.pem"]);
    let detail = untrusted_detail(&store, "mallory@example.com").unwrap();
    assert!(
        detail.contains("no certificate for the issuer") && detail.contains("Rogue CA"),
        "{detail}"
    );
    let status = store.evaluate(&addr("mallory@example.com"), AT, &Policy::default());
    assert_eq!(codes(&status.reasons()), ["untrusted"]);
}

#[test]
fn zoe_chains_only_via_the_second_generation_and_a_new_issuer_resets_the_cache() {
    let mut store = trusted_store(&["store", "ca/intermediate.pem"]);
    let detail = untrusted_detail(&store, "zoe@example.com").unwrap();
    assert!(detail.contains("key identifier"), "{detail}");
    store.load_path(&pki("ca/intermediate-g2.pem")).unwrap();
    assert_eq!(untrusted_detail(&store, "zoe@example.com"), None);
    assert_eq!(untrusted_detail(&store, "bob@example.com"), None);
}

#[test]
fn expired_certificates_are_expired_not_untrusted() {
    let store = trusted_store(&["store", "ca/intermediate.pem"]);
    let status = store.evaluate(&addr("dave@example.com"), AT, &Policy::default());
    assert_eq!(codes(&status.reasons()), ["expired"]);
}

#[test]
fn chain_times_are_rechecked_per_call() {
    let store = trusted_store(&["store", "ca/intermediate.pem"]);
    let bob = addr("bob@example.com");
    assert!(store.evaluate(&bob, AT, &Policy::default()).is_encryptable());
    // In 2019 the intermediate and root are not yet valid (bob neither).
    let early = Time::parse_rfc3339("2019-06-01T00:00:00Z").unwrap();
    let status = store.evaluate(&bob, early, &Policy::default());
    assert_eq!(codes(&status.reasons()), ["not-yet-valid", "untrusted"]);
}

#[test]
fn anchors_are_not_recipients() {
    let mut store = CertStore::new();
    store.load_trust_path(&pki("bundles/three.pem")).unwrap();
    assert_eq!(store.len(), 0);
    assert!(store.trust_anchors().len() == 3);
    assert!(store.for_address(&addr("alice@example.com")).next().is_none());
}

#[test]
fn a_trusted_leaf_is_its_own_chain() {
    let mut store = store_of(&["store/mallory-untrusted.pem"]);
    store.load_trust_path(&pki("store/mallory-untrusted.pem")).unwrap();
    assert!(store.evaluate(&addr("mallory@example.com"), AT, &Policy::default()).is_encryptable());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let mut store = CertStore::new();
        let _ = store.add_bytes(&bytes, Provenance::Inline("fuzz".into()));
    }

    #[test]
    fn damaged_certificates_never_panic(
        file in prop::sample::select(vec!["bundles/bob.der", "bundles/three.p7b", "bundles/three.pem"]),
        cut in any::<prop::sample::Index>(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
    ) {
        let mut bytes = std::fs::read(pki(file)).unwrap();
        for (at, value) in flips {
            let i = at.index(bytes.len());
            bytes[i] ^= value;
        }
        bytes.truncate(cut.index(bytes.len() + 1));
        let mut store = CertStore::new();
        if store.add_bytes(&bytes, Provenance::Inline("fuzz".into())).is_ok() {
            // Whatever loaded can be evaluated, with trust too.
            store.load_trust_path(&pki("ca/root.pem")).unwrap();
            let certs: Vec<Certificate> = store.iter().cloned().collect();
            for cert in &certs {
                for named in cert.addresses() {
                    let _ = store.evaluate(&named.address, AT, &Policy::default());
                }
            }
        }
    }
}
