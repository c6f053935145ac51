//! Certificate store speed (issue targets: load 100,000 certificates from one PEM bundle and from
//! one folder in under 1 s; decide 1,000 recipients in under 1 ms).
//!
//! The certificates are made in the setup by templating bob's real certificate from the test
//! PKI with a new serial and subjectAltName per copy (re-encoded with x509-cert). Loading does not
//! verify signatures, so the load benchmarks leave the old signature in place. The trusted
//! evaluation benchmark re-signs 1,000 copies with the test intermediate's committed key so that
//! every chain really verifies (once, then cached).
//!
//! `cargo bench --bench store -- --sample-size 10`
//!
//! The folder benchmark reads 100,000 real files from a temporary folder each time (listing,
//! opening, reading); the page cache is warm after the setup wrote them.
//!
//! Figures (2-core VM, no other work running; the load average of 1.6-2 is this benchmark's own
//! threads): bundle 0.58 s, folder 0.81 s, evaluate 1,000 of 100,000 0.19 ms, 1,000 trusted
//! (warm) 0.09 ms. Loading parses each certificate with a borrowed walk of its DER (src/cert.rs)
//! and keeps about 2.2 KB per certificate; the x509-cert structure is decoded on first use.

use criterion::{criterion_group, criterion_main, Criterion};
use der::{Decode, Encode};
use rsa::pkcs8::DecodePrivateKey;
use sha2::Digest;
use smime_lint::{Address, CertStore, Policy, Time};
use std::path::Path;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::serial_number::SerialNumber;

const AT: Time = Time::from_unix(1_780_272_000);
const STORE_SIZE: usize = 100_000;
const RECIPIENTS: usize = 1_000;

fn template() -> x509_cert::Certificate {
    let der = std::fs::read("testdata/certs/bundles/bob.der").expect("test PKI");
    x509_cert::Certificate::from_der(&der).expect("bob.der parses")
}

fn address(i: usize) -> String {
    format!("user{i}@bench.example")
}

/// A copy of `template` for `address(i)` with serial `i + 1`.
fn variant(template: &x509_cert::Certificate, i: usize) -> x509_cert::Certificate {
    let mut cert = template.clone();
    let serial = (i as u64 + 1).to_be_bytes();
    cert.tbs_certificate.serial_number = SerialNumber::new(&serial).expect("serial");
    let san = SubjectAltName(vec![GeneralName::Rfc822Name(
        der::asn1::Ia5String::new(&address(i)).expect("ascii"),
    )]);
    let san_oid = der::asn1::ObjectIdentifier::new_unwrap("2.5.29.17");
    for ext in cert.tbs_certificate.extensions.as_mut().expect("extensions") {
        if ext.extn_id == san_oid {
            ext.extn_value = der::asn1::OctetString::new(san.to_der().expect("san")).expect("san");
        }
    }
    cert
}

fn pem(der: &[u8]) -> String {
    pem_rfc7468::encode_string("CERTIFICATE", pem_rfc7468::LineEnding::LF, der).expect("pem")
}

fn write_fixtures(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let template = template();
    let pems: Vec<String> =
        (0..STORE_SIZE).map(|i| pem(&variant(&template, i).to_der().expect("der"))).collect();
    let bundle = dir.join("bundle.pem");
    std::fs::write(&bundle, pems.concat()).expect("write bundle");
    let folder = dir.join("folder");
    std::fs::create_dir(&folder).expect("mkdir");
    for (i, pem) in pems.iter().enumerate() {
        std::fs::write(folder.join(format!("user{i}.pem")), pem).expect("write cert");
    }
    (bundle, folder)
}

fn recipients() -> Vec<Address> {
    (0..RECIPIENTS)
        .map(|i| Address::parse(&address(i * (STORE_SIZE / RECIPIENTS))).expect("address"))
        .collect()
}

fn load(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (bundle, folder) = write_fixtures(dir.path());
    let mut group = c.benchmark_group("store");
    group.sample_size(10);
    group.bench_function("load_100k_pem_bundle", |b| {
        b.iter_with_large_drop(|| {
            let mut store = CertStore::new();
            assert_eq!(store.load_path(&bundle).expect("load"), STORE_SIZE);
            store
        })
    });
    group.bench_function("load_100k_folder", |b| {
        b.iter_with_large_drop(|| {
            let mut store = CertStore::new();
            assert_eq!(store.load_path(&folder).expect("load"), STORE_SIZE);
            store
        })
    });

    let mut store = CertStore::new();
    store.load_path(&bundle).expect("load");
    let recipients = recipients();
    let policy = Policy::default();
    group.sample_size(50);
    group.bench_function("evaluate_1000_of_100k", |b| {
        b.iter(|| {
            let n = recipients.iter().filter(|a| store.evaluate(a, AT, &policy).is_encryptable());
            assert_eq!(n.count(), RECIPIENTS);
        })
    });
    group.finish();
}

/// 1,000 properly signed certificates, the intermediate in the store, the root as anchor.
fn evaluate_trusted(c: &mut Criterion) {
    let template = template();
    let key_pem = std::fs::read_to_string("testdata/certs/keys/intermediate.key").expect("key");
    let key = rsa::RsaPrivateKey::from_pkcs8_pem(&key_pem).expect("key");
    let mut store = CertStore::new();
    store.load_path(Path::new("testdata/certs/ca/intermediate.pem")).expect("intermediate");
    store.load_trust_path(Path::new("testdata/certs/ca/root.pem")).expect("root");
    let recipients: Vec<Address> =
        (0..RECIPIENTS).map(|i| Address::parse(&address(i)).expect("address")).collect();
    for i in 0..RECIPIENTS {
        let mut cert = variant(&template, i);
        let tbs = cert.tbs_certificate.to_der().expect("tbs");
        let signature = key
            .sign(rsa::Pkcs1v15Sign::new::<sha2::Sha256>(), &sha2::Sha256::digest(&tbs))
            .expect("sign");
        cert.signature = der::asn1::BitString::from_bytes(&signature).expect("bits");
        store
            .add_bytes(&cert.to_der().expect("der"), smime_lint::Provenance::Inline("bench".into()))
            .expect("add");
    }
    let policy = Policy::default();
    let mut group = c.benchmark_group("store");
    group.sample_size(50);
    // The first pass verifies every chain (2 RSA signatures each) and fills the cache.
    let cold = std::time::Instant::now();
    let n = recipients.iter().filter(|a| store.evaluate(a, AT, &policy).is_encryptable()).count();
    assert_eq!(n, RECIPIENTS);
    eprintln!("first (cold) trusted evaluation of {RECIPIENTS}: {:?}", cold.elapsed());
    group.bench_function("evaluate_1000_trusted_warm", |b| {
        b.iter(|| {
            let n = recipients.iter().filter(|a| store.evaluate(a, AT, &policy).is_encryptable());
            assert_eq!(n.count(), RECIPIENTS);
        })
    });
    group.finish();
}

criterion_group!(benches, load, evaluate_trusted);
criterion_main!(benches);
