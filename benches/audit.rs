//! Auditing one message, next to reading its bytes.
//!
//! Targets (issue 3): a 10 MB encrypted message is audited within 2× the time it takes to read
//! its bytes, so inspecting it costs nothing proportional to the encrypted payload beyond reading
//! it once. Issue 5: a small message costs well under 100 µs (20,000 messages per second on two
//! cores).
//!
//! Inputs are built in the setup with `smime_lint::build` and the test PKI (deterministic, no
//! network): (a) a small message encrypted for alice and bob; (b) a 10 MiB payload encrypted for
//! them (DER; BER with indefinite lengths and 1000-byte content chunks; and BER in the 4096-byte
//! chunks of `openssl cms -stream`), beside
//! `std::fs::read` of the same bytes from a file in the page cache; (c) a plain message with a
//! 5 MiB PDF attachment. `unskimmed` is the reference path that decodes every base64 body in full
//! (what the audit did before the fast path).
//!
//! Issue 14, ordinary sent items: (d) an 80 KB plain message (quoted-printable text and HTML
//! quoting earlier mail, 20 KB, and a PDF attachment of 60 KB in base64) and (e) the same content
//! signed (multipart/signed with alice's detached signature): at most 25 µs each.
//!
//! `cargo bench --bench audit`

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rand::SeedableRng;
use smime_lint::audit::{audit_message, audit_message_unskimmed, AuditOptions};
use smime_lint::build::{self, mime, BuildCipher};
use smime_lint::{CertStore, Time};
use std::hint::black_box;
use std::io::Write;

const BIG: usize = 10 * 1024 * 1024;
const ATTACHMENT: usize = 5 * 1024 * 1024;

fn cert(name: &str) -> x509_cert::Certificate {
    let path = format!("{}/testdata/certs/store/{name}.pem", env!("CARGO_MANIFEST_DIR"));
    let pem = std::fs::read(path).expect("test PKI");
    <x509_cert::Certificate as der::DecodePem>::from_pem(&pem).expect("certificate")
}

fn store() -> CertStore {
    let mut store = CertStore::new();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/certs/store");
    store.load_path(dir.as_ref()).expect("test store");
    store
}

fn headers() -> mime::Headers {
    mime::Headers::new()
        .with("From", "alice@example.com")
        .with("To", "bob@example.com")
        .with("Subject", "the figures")
        .with("Date", "Mon, 01 Jun 2026 09:00:00 +0000")
        .with("Message-ID", "<bench@example.com>")
}

/// `n` bytes that look like a document (deterministic, incompressible enough).
fn document(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect()
}

/// `chunk`: `None` for DER, else BER with indefinite lengths and content chunks of that size.
fn encrypted(content: &[u8], chunk: Option<usize>) -> Vec<u8> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    let der =
        build::envelope(content, &[&cert("alice"), &cert("bob")], BuildCipher::Aes256Cbc, &mut rng)
            .expect("envelope");
    let der = match chunk {
        Some(chunk) => build::to_ber_indefinite_chunked(&der, chunk).expect("ber"),
        None => der,
    };
    mime::message(&headers(), &mime::pkcs7_mime_entity(&der, mime::SmimeType::EnvelopedData))
}

fn plain_with_attachment(size: usize) -> Vec<u8> {
    let text = mime::text_entity("Hi Bob,\r\n\r\nthe figures are attached.\r\n");
    let pdf = mime::attachment_entity("application/pdf", "figures.pdf", &document(size));
    mime::message(&headers(), &mime::multipart("mixed", "b0undary", &[&text, &pdf]))
}

/// An ordinary reply of about 80 KB: quoted-printable text and HTML alternatives (quoting the
/// earlier message, about 20 KB together) and a PDF of 44 KB (60 KB in base64).
fn ordinary_entity() -> Vec<u8> {
    let mut text = String::from("Hi Bob,\n\nthe figures are attached; caf\u{e9} at noon?\n\n");
    for i in 0..120 {
        text.push_str(&format!(
            "> {i}: the numbers for the northern region are still provisional =\n"
        ));
    }
    let html = format!("<html><body><p>{}</p></body></html>", text.replace('\n', "<br>\n"));
    let alternative = mime::multipart(
        "alternative",
        "alt-b0undary",
        &[
            &mime::quoted_printable_entity("plain", &text),
            &mime::quoted_printable_entity("html", &html),
        ],
    );
    let pdf = mime::attachment_entity("application/pdf", "figures.pdf", &document(44 * 1024));
    mime::multipart("mixed", "mixed-b0undary", &[&alternative, &pdf])
}

fn options() -> AuditOptions {
    AuditOptions { at: Some(Time::from_unix(1_780_272_000)), ..AuditOptions::default() }
}

fn small(c: &mut Criterion) {
    let store = store();
    let options = options();
    let inner = mime::text_entity("Hi Bob,\r\n\r\nTuesday works for me.\r\n\r\nAlice\r\n");
    let raw = encrypted(&inner, None);
    let mut group = c.benchmark_group("audit_small");
    group.throughput(Throughput::Elements(1));
    group.bench_function("encrypted_2_recipients", |b| {
        b.iter(|| audit_message(black_box(&raw), &store, &options))
    });
    group.finish();
}

fn large(c: &mut Criterion) {
    let store = store();
    let options = options();
    let inner = mime::attachment_entity("application/pdf", "figures.pdf", &document(BIG));
    let der = encrypted(&inner, None);
    let ber = encrypted(&inner, Some(build::BER_CHUNK));
    let ber_openssl = encrypted(&inner, Some(build::OPENSSL_STREAM_CHUNK));
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("big.eml");
    std::fs::File::create(&path).and_then(|mut f| f.write_all(&der)).expect("write");
    let _warm = std::fs::read(&path).expect("read");

    let mut group = c.benchmark_group("audit_10MB_encrypted");
    group.sample_size(20);
    group.throughput(Throughput::Bytes(der.len() as u64));
    group.bench_function("fs_read", |b| b.iter(|| std::fs::read(black_box(&path)).expect("read")));
    group.bench_function("audit_der", |b| {
        b.iter(|| audit_message(black_box(&der), &store, &options))
    });
    group.bench_function("audit_ber_indefinite", |b| {
        b.iter(|| audit_message(black_box(&ber), &store, &options))
    });
    group.bench_function("audit_ber_openssl_stream", |b| {
        b.iter(|| audit_message(black_box(&ber_openssl), &store, &options))
    });
    group.bench_function("read_and_audit_der", |b| {
        b.iter(|| {
            let raw = std::fs::read(black_box(&path)).expect("read");
            audit_message(&raw, &store, &options)
        })
    });
    group.bench_function("audit_der_unskimmed", |b| {
        b.iter(|| audit_message_unskimmed(black_box(&der), &store, &options))
    });
    group.finish();

    let plain = plain_with_attachment(ATTACHMENT);
    let mut group = c.benchmark_group("audit_5MB_attachment");
    group.sample_size(20);
    group.throughput(Throughput::Bytes(plain.len() as u64));
    group
        .bench_function("audit", |b| b.iter(|| audit_message(black_box(&plain), &store, &options)));
    group.bench_function("audit_unskimmed", |b| {
        b.iter(|| audit_message_unskimmed(black_box(&plain), &store, &options))
    });
    group.finish();
}

fn ordinary(c: &mut Criterion) {
    let store = store();
    let options = options();
    let entity = ordinary_entity();
    let plain = mime::message(&headers(), &entity);
    let key_pem = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/certs/keys/alice.key"
    ))
    .expect("key");
    let key = <rsa::RsaPrivateKey as rsa::pkcs8::DecodePrivateKey>::from_pkcs8_pem(&key_pem)
        .expect("alice's key");
    let signature = build::signed(&entity, &cert("alice"), &key, true).expect("signature");
    let signed =
        mime::message(&headers(), &mime::multipart_signed(&entity, &signature, "sig-b0undary"));
    let mut group = c.benchmark_group("audit_80KB_ordinary");
    group.throughput(Throughput::Elements(1));
    for (name, raw) in [("plain_with_attachment", &plain), ("signed", &signed)] {
        assert!((75_000..90_000).contains(&raw.len()), "{name}: {} bytes", raw.len());
        group.bench_function(name, |b| b.iter(|| audit_message(black_box(raw), &store, &options)));
        group.bench_function(format!("{name}_unskimmed"), |b| {
            b.iter(|| audit_message_unskimmed(black_box(raw), &store, &options))
        });
    }
    group.finish();
}

criterion_group!(benches, small, ordinary, large);
criterion_main!(benches);
