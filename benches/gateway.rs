//! The pre-send verdict's speed (issue target: a 50 KB encrypted message with 20 recipients,
//! judged against a 10,000-certificate store loaded once, in under 100 µs).
//!
//! The store is templated from bob's real certificate as in `benches/store.rs` (a new serial
//! and subjectAltName per copy); the message is built in the setup with `smime_lint::build`:
//! AES-128-CBC, one ktri per recipient (RSA 2048), about 50 KB as mail. Every recipient has a
//! RecipientInfo, so the verdict accepts; the second case adds one envelope recipient without
//! a certificate, so it rejects and names them.
//!
//! `cargo bench --bench gateway`
//!
//! Figures (2-core VM shared with other builds, load average 5-15): 250-850 µs wall per verdict
//! between runs; 160-220 µs of CPU (task-clock over 3,000 verdicts, single-threaded). The
//! target is missed; the README's performance section has the profile.

use criterion::{criterion_group, criterion_main, Criterion};
use der::{Decode, Encode};
use rand::SeedableRng;
use smime_lint::build::{envelope, mime, BuildCipher};
use smime_lint::gateway::{verdict, Action, Envelope, GatewayPolicy};
use smime_lint::{CertStore, Provenance, Time};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::serial_number::SerialNumber;

const AT: Time = Time::from_unix(1_780_272_000);
const STORE_SIZE: usize = 10_000;
const RECIPIENTS: usize = 20;
const MESSAGE_SIZE: usize = 50 * 1024;

fn address(i: usize) -> String {
    format!("user{i}@bench.example")
}

/// bob's certificate for `address(i)` with serial `i + 1`.
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

fn gateway(c: &mut Criterion) {
    let der = std::fs::read("testdata/certs/bundles/bob.der").expect("test PKI");
    let template = x509_cert::Certificate::from_der(&der).expect("bob.der parses");
    let certs: Vec<x509_cert::Certificate> =
        (0..STORE_SIZE).map(|i| variant(&template, i)).collect();
    // One PEM bundle, loaded once.
    let bundle: String = certs
        .iter()
        .map(|c| {
            let der = c.to_der().expect("der");
            pem_rfc7468::encode_string("CERTIFICATE", pem_rfc7468::LineEnding::LF, &der)
                .expect("pem")
        })
        .collect();
    let mut store = CertStore::new();
    let loaded =
        store.add_bytes(bundle.as_bytes(), Provenance::Inline("bench".into())).expect("load");
    assert_eq!(loaded, STORE_SIZE);

    // Twenty recipients spread over the store; the body sized so that the mail is ~50 KB.
    let chosen: Vec<usize> = (0..RECIPIENTS).map(|i| i * (STORE_SIZE / RECIPIENTS)).collect();
    let recipients: Vec<&x509_cert::Certificate> = chosen.iter().map(|&i| &certs[i]).collect();
    let to: Vec<String> = chosen.iter().map(|&i| address(i)).collect();
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let line = "The quarterly figures are attached below; numbers in thousands.\r\n";
    let text = line.repeat(30 * 1024 / line.len());
    let der = envelope(&mime::text_entity(&text), &recipients, BuildCipher::Aes128Cbc, &mut rng)
        .expect("envelope");
    let headers = mime::Headers::new()
        .with("From", &address(chosen[0]))
        .with("To", &to.join(", "))
        .with("Subject", "Figures")
        .with("Date", "Mon, 01 Jun 2026 09:30:00 +0000")
        .with("Message-ID", "<bench@bench.example>");
    let message =
        mime::message(&headers, &mime::pkcs7_mime_entity(&der, mime::SmimeType::EnvelopedData));
    assert!(
        (MESSAGE_SIZE * 9 / 10..MESSAGE_SIZE * 11 / 10).contains(&message.len()),
        "message is {} bytes",
        message.len()
    );
    eprintln!(
        "message: {} bytes, {} recipients; store: {} certificates",
        message.len(),
        to.len(),
        store.len()
    );

    let policy = GatewayPolicy::default();
    let paths: Vec<String> = to.iter().map(|a| format!("<{a}>")).collect();
    let readable = Envelope::new(&paths[0], paths.iter().map(String::as_str));
    let mut with_stranger = readable.clone();
    with_stranger.add_recipient("<stranger@bench.example>");

    let mut group = c.benchmark_group("gateway");
    group.bench_function("verdict_50kb_20_recipients_10k_store", |b| {
        b.iter(|| {
            let v = verdict(&message, &readable, &store, AT, &policy);
            assert_eq!(v.action, Action::Accept);
            v
        })
    });
    group.bench_function("verdict_50kb_21_recipients_one_refused", |b| {
        b.iter(|| {
            let v = verdict(&message, &with_stranger, &store, AT, &policy);
            assert_eq!(v.action, Action::Reject);
            v
        })
    });
    group.finish();
}

criterion_group!(benches, gateway);
criterion_main!(benches);
