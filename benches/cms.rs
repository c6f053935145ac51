//! How long inspecting a large S/MIME envelope takes, next to reading its bytes.
//!
//! The target (issue item "Speed"): a 10 MB encrypted message is audited within 2× the time it
//! takes to read its bytes. The payload is bob-aes128.der from testdata/cms with its encrypted
//! content replaced by 10 MiB, once in DER and once as `openssl cms -stream` writes it (BER:
//! indefinite lengths, encryptedContent in 4096-byte OCTET STRING segments).
//!
//! `cargo bench --bench cms`

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use der::asn1::OctetString;
use der::{Decode, Encode};
use std::hint::black_box;

const PAYLOAD: usize = 10 * 1024 * 1024;

/// (DER, BER) encodings of a 10 MiB EnvelopedData to bob.
fn payloads() -> (Vec<u8>, Vec<u8>) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/cms/bob-aes128.der");
    let small = std::fs::read(path).expect("fixture");
    let ci = cms::content_info::ContentInfo::from_der(&small).expect("ContentInfo");
    let mut env: cms::enveloped_data::EnvelopedData = ci.content.decode_as().expect("envelope");
    let content: Vec<u8> = (0..PAYLOAD).map(|i| (i * 31 % 251) as u8).collect();

    // BER, as `openssl cms -stream` writes it.
    let mut ber = vec![0x30, 0x80];
    ber.extend(ci.content_type.to_der().unwrap());
    ber.extend([0xa0, 0x80, 0x30, 0x80]);
    ber.extend(env.version.to_der().unwrap());
    ber.extend(env.recip_infos.to_der().unwrap());
    ber.extend([0x30, 0x80]);
    ber.extend(env.encrypted_content.content_type.to_der().unwrap());
    ber.extend(env.encrypted_content.content_enc_alg.to_der().unwrap());
    ber.extend([0xa0, 0x80]);
    for chunk in content.chunks(4096) {
        ber.extend(OctetString::new(chunk).unwrap().to_der().unwrap());
    }
    ber.extend([0u8; 10]); // five end-of-contents markers

    env.encrypted_content.encrypted_content = Some(OctetString::new(content).unwrap());
    let der = cms::content_info::ContentInfo {
        content_type: ci.content_type,
        content: der::Any::encode_from(&env).unwrap(),
    }
    .to_der()
    .unwrap();
    (der, ber)
}

fn bench(c: &mut Criterion) {
    let (der, ber) = payloads();
    let dir = tempfile::tempdir().unwrap();
    let der_path = dir.path().join("large.der");
    let ber_path = dir.path().join("large-stream.ber");
    std::fs::write(&der_path, &der).unwrap();
    std::fs::write(&ber_path, &ber).unwrap();

    let mut g = c.benchmark_group("10MiB-envelope");
    g.throughput(Throughput::Bytes(der.len() as u64));
    g.sample_size(30);
    g.bench_function("fs::read DER", |b| b.iter(|| black_box(std::fs::read(&der_path).unwrap())));
    g.bench_function("fs::read + inspect DER", |b| {
        b.iter(|| {
            let bytes = std::fs::read(&der_path).unwrap();
            black_box(smime_lint::cms::inspect(&bytes).unwrap());
        })
    });
    g.bench_function("fs::read BER", |b| b.iter(|| black_box(std::fs::read(&ber_path).unwrap())));
    g.bench_function("fs::read + inspect BER -stream", |b| {
        b.iter(|| {
            let bytes = std::fs::read(&ber_path).unwrap();
            black_box(smime_lint::cms::inspect(&bytes).unwrap());
        })
    });
    g.bench_function("inspect DER (in memory)", |b| {
        b.iter(|| black_box(smime_lint::cms::inspect(&der).unwrap()))
    });
    g.bench_function("inspect BER -stream (in memory)", |b| {
        b.iter(|| black_box(smime_lint::cms::inspect(&ber).unwrap()))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
