//! The audit's fast path for large bodies (`audit::skim`) gives exactly the report of the full
//! parse: on large envelopes (DER, BER with indefinite lengths, AuthEnveloped, truncated, opaque
//! signed), large attachments, SmartReply mangling, and on arbitrary corruptions of them.

use proptest::prelude::*;
use rand::SeedableRng;
use smime_lint::audit::{audit_message, audit_message_unskimmed, skim, AuditOptions, Report};
use smime_lint::build::{self, mime, BuildCipher};
use smime_lint::message::OutgoingMessage;
use smime_lint::{CertStore, Time};
use std::sync::OnceLock;

fn store() -> &'static CertStore {
    static STORE: OnceLock<CertStore> = OnceLock::new();
    STORE.get_or_init(|| {
        let mut s = CertStore::new();
        s.load_path("testdata/certs/store".as_ref()).expect("test store loads");
        s
    })
}

fn cert(name: &str) -> x509_cert::Certificate {
    let pem = std::fs::read(format!("testdata/certs/store/{name}.pem")).expect("test PKI");
    <x509_cert::Certificate as der::DecodePem>::from_pem(&pem).expect("certificate")
}

fn options() -> AuditOptions {
    AuditOptions { at: Some(Time::from_unix(1_780_272_000)), ..AuditOptions::default() }
}

fn headers() -> mime::Headers {
    mime::Headers::new()
        .with("From", "alice@example.com")
        .with("To", "bob@example.com, carol@example.com")
        .with("Subject", "Re: the figures")
        .with("Date", "Mon, 01 Jun 2026 09:00:00 +0000")
        .with("Message-ID", "<skim@example.com>")
}

/// `n` bytes that look like a document (not compressible to nothing, deterministic).
fn document(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect()
}

/// A `size`-byte content enveloped for alice and bob with `cipher`.
fn envelope_der(size: usize, cipher: BuildCipher) -> Vec<u8> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let inner = mime::attachment_entity("application/pdf", "figures.pdf", &document(size));
    build::envelope(&inner, &[&cert("alice"), &cert("bob")], cipher, &mut rng).expect("envelope")
}

fn enveloped_message(der: &[u8]) -> Vec<u8> {
    mime::message(&headers(), &mime::pkcs7_mime_entity(der, mime::SmimeType::EnvelopedData))
}

/// What ordinary sent items look like: quoted-printable text and HTML alternatives quoting an
/// earlier message, two attachments.
fn office_entity(attachment: usize) -> Vec<u8> {
    let mut text = String::from("Hi Bob,\n\nthe figures are attached; caf\u{e9} at noon?\n\n");
    for i in 0..60 {
        text.push_str(&format!("> line {i} of the quoted history, with = signs and long words\n"));
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
    let pdf = mime::attachment_entity("application/pdf", "figures.pdf", &document(attachment));
    let png = mime::attachment_entity("image/png", "chart.png", &document(attachment / 2));
    mime::multipart("mixed", "mixed-b0undary", &[&alternative, &pdf, &png])
}

fn plain_with_attachment(size: usize) -> Vec<u8> {
    let text = mime::text_entity("Hi Bob,\r\n\r\nthe figures are attached.\r\n");
    let pdf = mime::attachment_entity("application/pdf", "figures.pdf", &document(size));
    mime::message(&headers(), &mime::multipart("mixed", "b0undary", &[&text, &pdf]))
}

/// Both paths agree, and the fast path really cut something (else the test proves nothing).
fn assert_same(raw: &[u8]) -> Report {
    let skimmed = skim::skim(raw, true).expect("the message is large enough to be skimmed");
    let parsed = OutgoingMessage::parser().parse(&skimmed.bytes).expect("the copy parses");
    assert!(skimmed.holes_by_part(raw, &parsed).is_some(), "the holes are where the walk said");
    let fast = audit_message(raw, store(), &options());
    let full = audit_message_unskimmed(raw, store(), &options());
    assert_eq!(fast, full);
    fast
}

#[test]
fn large_der_envelope() {
    let report = assert_same(&enveloped_message(&envelope_der(300_000, BuildCipher::Aes256Cbc)));
    assert_eq!(report.encryption.recipient_infos.len(), 2);
    assert!(report.findings.iter().any(|f| f.rule.code() == "partial-encryption"));
}

#[test]
fn large_ber_indefinite_envelope_is_filled_in() {
    let der = envelope_der(300_000, BuildCipher::Aes128Cbc);
    let ber = build::to_ber_indefinite(&der).expect("ber");
    let report = assert_same(&enveloped_message(&ber));
    assert!(report.encryption.ber_indefinite);
}

/// Every 7th ciphertext segment header of a streamed envelope, its base64 letters changed in
/// the skimmed middle: the fast path reads those headers from the base64 text, and must see
/// exactly what the full decode sees (another length, another tag, a broken structure).
#[test]
fn changed_ber_segment_headers_read_the_same_on_both_paths() {
    let ber =
        build::to_ber_indefinite(&envelope_der(120_000, BuildCipher::Aes128Cbc)).expect("ber");
    let raw = enveloped_message(&ber);
    let body = raw.windows(4).rposition(|w| w == b"\r\n\r\n").expect("body") + 4;
    // Where each base64 letter of the body is in the message.
    let letters: Vec<usize> = (body..raw.len())
        .filter(|&i| raw[i].is_ascii_alphanumeric() || b"+/".contains(&raw[i]))
        .collect();
    let chunk = [0x04, 0x82, (build::BER_CHUNK >> 8) as u8, build::BER_CHUNK as u8];
    let first = ber.windows(4).position(|w| w == chunk).expect("a segment");
    let mut checked = 0;
    for (n, header) in (first..ber.len() - 4).step_by(build::BER_CHUNK + 4).enumerate() {
        if ber[header..header + 4] != chunk {
            break; // the last, shorter segment
        }
        if n % 7 != 3 || header < 10_000 || header > ber.len() - 2_000 {
            continue; // outside the skimmed middle
        }
        for (offset, replacement) in [(0, b'B'), (1, b'z'), (3, b'A'), (5, b'/')] {
            let mut changed = raw.clone();
            let at = letters[header / 3 * 4 + offset];
            if changed[at] == replacement {
                continue;
            }
            changed[at] = replacement;
            let fast = audit_message(&changed, store(), &options());
            let full = audit_message_unskimmed(&changed, store(), &options());
            assert_eq!(fast, full, "segment header at {header}, letter {offset}");
            checked += 1;
        }
    }
    assert!(checked >= 40, "{checked} changes checked");
}

#[test]
fn large_auth_enveloped() {
    let der = envelope_der(200_000, BuildCipher::Aes128Gcm);
    let raw = mime::message(
        &headers(),
        &mime::pkcs7_mime_entity(&der, mime::SmimeType::AuthEnvelopedData),
    );
    assert_same(&raw);
}

#[test]
fn truncated_envelope_is_malformed_on_both_paths() {
    let der = envelope_der(300_000, BuildCipher::Aes256Cbc);
    let report = assert_same(&enveloped_message(&der[..der.len() - 5_000]));
    assert!(report.findings.iter().any(|f| f.rule.code() == "malformed-smime"));
}

#[test]
fn large_plain_attachment() {
    let report = assert_same(&plain_with_attachment(400_000));
    assert!(report.recipients.iter().all(|r| r.can_decrypt.is_none()));
}

#[test]
fn bare_lf_line_ends() {
    let crlf = plain_with_attachment(100_000);
    let lf: Vec<u8> = crlf.iter().copied().filter(|&b| b != b'\r').collect();
    assert_same(&lf);
    let env = enveloped_message(&envelope_der(100_000, BuildCipher::Aes256Cbc));
    let lf: Vec<u8> = env.iter().copied().filter(|&b| b != b'\r').collect();
    assert_same(&lf);
}

#[test]
fn smartreply_mangled_with_a_large_payload() {
    let der = envelope_der(200_000, BuildCipher::Aes256Cbc);
    let original = plain_with_attachment(1_000);
    let entity = mime::smartreply_mangled(&der, Some(&original), "sr-boundary");
    let report = assert_same(&mime::message(&headers(), &entity));
    assert!(report.findings.iter().any(|f| f.rule.code() == "smartreply-blank-body"));
}

#[test]
fn large_opaque_signed_message_is_filled_in() {
    let env = envelope_der(150_000, BuildCipher::Aes256Cbc);
    let inner = mime::pkcs7_mime_entity(&env, mime::SmimeType::EnvelopedData);
    let key_pem = std::fs::read_to_string("testdata/certs/keys/alice.key").expect("key");
    let key = <rsa::RsaPrivateKey as rsa::pkcs8::DecodePrivateKey>::from_pkcs8_pem(&key_pem)
        .expect("alice's key");
    let signed = build::signed(&inner, &cert("alice"), &key, false).expect("signed");
    let raw =
        mime::message(&headers(), &mime::pkcs7_mime_entity(&signed, mime::SmimeType::SignedData));
    let report = assert_same(&raw);
    assert_eq!(report.encryption.recipient_infos.len(), 2);
}

/// The bodies the audit does not read are cut out whole: the copy mail-parser parses is a
/// fraction of the message, and the report is the full parse's.
#[test]
fn office_message_bodies_are_cut_out_whole() {
    let raw = mime::message(&headers(), &office_entity(30_000));
    let skimmed = skim::skim(&raw, true).expect("skimmed");
    assert!(
        skimmed.bytes.len() * 10 < raw.len(),
        "{} of {} bytes kept",
        skimmed.bytes.len(),
        raw.len()
    );
    let kinds: Vec<skim::HoleKind> = skimmed.holes.iter().map(|h| h.kind).collect();
    assert_eq!(
        kinds,
        [
            skim::HoleKind::Unread { text: true },
            skim::HoleKind::Unread { text: true },
            skim::HoleKind::Unread { text: false },
            skim::HoleKind::Unread { text: false },
        ]
    );
    let report = assert_same(&raw);
    assert!(report.findings.is_empty(), "{:?}", report.findings);
    // Without text cuts, the text bodies stay.
    let kept = skim::skim(&raw, false).expect("skimmed");
    assert_eq!(kept.holes.len(), 2);
}

#[test]
fn a_signed_office_message_keeps_its_signature_and_loses_its_bodies() {
    let key_pem = std::fs::read_to_string("testdata/certs/keys/alice.key").expect("key");
    let key = <rsa::RsaPrivateKey as rsa::pkcs8::DecodePrivateKey>::from_pkcs8_pem(&key_pem)
        .expect("alice's key");
    let entity = office_entity(40_000);
    let signature = build::signed(&entity, &cert("alice"), &key, true).expect("signed");
    let raw =
        mime::message(&headers(), &mime::multipart_signed(&entity, &signature, "sig-b0undary"));
    let skimmed = skim::skim(&raw, true).expect("skimmed");
    assert!(skimmed.bytes.len() * 5 < raw.len());
    let report = assert_same(&raw);
    assert_eq!(report.encryption.kind, smime_lint::audit::EncryptionKind::SignedOnly);
}

/// A written body beside an attached envelope is read by the blank-reply rule: with text cut
/// out the skimmed parse is void, and the full parse answers (`encrypted-attachment`).
#[test]
fn a_cut_text_body_that_a_rule_reads_falls_back_to_the_full_parse() {
    let der = envelope_der(30_000, BuildCipher::Aes256Cbc);
    let mut text = String::from("Hi Bob,\n\nthe contract is attached, encrypted as agreed.\n");
    text.push_str(&"More words so that the body is worth cutting out.\n".repeat(20));
    let body = mime::quoted_printable_entity("plain", &text);
    let attached = mime::attachment_entity("application/pkcs7-mime", "contract.pdf.p7m", &der);
    let raw = mime::message(&headers(), &mime::multipart("mixed", "b0undary", &[&body, &attached]));
    let report = assert_same(&raw);
    assert!(
        report.findings.iter().any(|f| f.rule.code() == "encrypted-attachment"),
        "{:?}",
        report.findings
    );
    // The blank version of the same: the SmartReply shape, found on the full parse too.
    let blank = mime::quoted_printable_entity("plain", &" \n".repeat(200));
    let raw =
        mime::message(&headers(), &mime::multipart("mixed", "b0undary", &[&blank, &attached]));
    let report = assert_same(&raw);
    assert!(
        report.findings.iter().any(|f| f.rule.code() == "smartreply-blank-body"),
        "{:?}",
        report.findings
    );
}

/// mail-parser finds a delimiter anywhere, not only at a line start; such a body is not cut
/// (the cut ends at the line break that belongs to the delimiter), and both paths agree.
#[test]
fn a_delimiter_inside_a_line_is_left_alone() {
    let text = format!(
        "Content-Type: text/plain\r\n\r\n{}trailing text--b0undary\r\n",
        "words and more words\r\n".repeat(40)
    );
    let pdf = mime::attachment_entity("application/pdf", "figures.pdf", &document(20_000));
    let raw =
        mime::message(&headers(), &mime::multipart("mixed", "b0undary", &[&pdf, text.as_bytes()]));
    let skimmed = skim::skim(&raw, true).expect("the attachment is cut");
    let text_at = raw.windows(13).position(|w| w == b"trailing text").expect("text");
    assert!(skimmed.holes.iter().all(|h| !h.removed.contains(&text_at)), "{:?}", skimmed.holes);
    assert_eq!(skimmed.holes.len(), 1);
    assert_same(&raw);
}

/// An opaque signature around an office message (and around one with an attached envelope):
/// the unread bodies inside the signed content are cut out before it is parsed, the attached
/// envelope is still found.
#[test]
fn opaque_signed_office_messages() {
    let key_pem = std::fs::read_to_string("testdata/certs/keys/alice.key").expect("key");
    let key = <rsa::RsaPrivateKey as rsa::pkcs8::DecodePrivateKey>::from_pkcs8_pem(&key_pem)
        .expect("alice's key");
    let signed =
        build::signed(&office_entity(50_000), &cert("alice"), &key, false).expect("signed");
    let raw =
        mime::message(&headers(), &mime::pkcs7_mime_entity(&signed, mime::SmimeType::SignedData));
    let report = assert_same(&raw);
    assert_eq!(report.encryption.kind, smime_lint::audit::EncryptionKind::SignedOnly);
    assert!(skim::skim_unread(&office_entity(50_000)).is_some_and(|s| s.holes.len() == 4));

    let der = envelope_der(20_000, BuildCipher::Aes256Cbc);
    let body = mime::quoted_printable_entity("plain", &"See the attached contract.\n".repeat(30));
    let attached = mime::attachment_entity("application/pkcs7-mime", "contract.pdf.p7m", &der);
    let inner = mime::multipart("mixed", "b0undary", &[&body, &attached]);
    let signed = build::signed(&inner, &cert("alice"), &key, false).expect("signed");
    let raw =
        mime::message(&headers(), &mime::pkcs7_mime_entity(&signed, mime::SmimeType::SignedData));
    let report = assert_same(&raw);
    assert_eq!(report.encryption.recipient_infos.len(), 2, "{report:?}");
}

/// Every file under testdata/ (mail, mboxes, CMS blobs, certificates, keys, scripts, expected
/// outputs): the fast path gives exactly the full parse's report, whatever the file is.
#[test]
fn both_paths_agree_on_every_file_in_testdata() {
    let mut stack = vec![std::path::PathBuf::from("testdata")];
    let mut files = 0;
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("testdata") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let Ok(raw) = std::fs::read(&path) else { continue };
            let fast = audit_message(&raw, store(), &options());
            let full = audit_message_unskimmed(&raw, store(), &options());
            assert_eq!(fast, full, "{}", path.display());
            files += 1;
        }
    }
    assert!(files > 400, "{files} files");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// Whatever a few bytes of a large message are changed to (dashes, padding, boundaries,
    /// stray characters, in the headers or the bodies), both paths give the same report.
    #[test]
    fn corruption_never_makes_the_paths_differ(
        which in 0usize..4,
        edits in proptest::collection::vec(
            (any::<prop::sample::Index>(), prop::sample::select(
                b"-=\r\n A.%\x00\xff".to_vec())),
            1..4),
    ) {
        static INPUTS: OnceLock<[Vec<u8>; 4]> = OnceLock::new();
        let inputs = INPUTS.get_or_init(|| {
            let der = envelope_der(60_000, BuildCipher::Aes256Cbc);
            let ber = build::to_ber_indefinite(&der).expect("ber");
            [
                enveloped_message(&der),
                plain_with_attachment(60_000),
                enveloped_message(&ber),
                mime::message(&headers(), &office_entity(20_000)),
            ]
        });
        let mut raw = inputs[which].clone();
        for (index, byte) in edits {
            let i = index.index(raw.len());
            raw[i] = byte;
        }
        let fast = audit_message(&raw, store(), &options());
        let full = audit_message_unskimmed(&raw, store(), &options());
        prop_assert_eq!(fast, full);
    }
}

/// Where the walk reads headers in `ber`, an envelope [`build::to_ber_indefinite_chunked`] cut
/// into `chunk`-byte segments: every segment header, the shorter last one, and the
/// end-of-contents octets that close the constructions at the end.
fn segment_header_positions(ber: &[u8], chunk: usize) -> Vec<usize> {
    let header: Vec<u8> = match u8::try_from(chunk) {
        Ok(short) if short < 0x80 => vec![0x04, short],
        _ => vec![0x04, 0x82, (chunk >> 8) as u8, chunk as u8],
    };
    let step = header.len() + chunk;
    let starts_at = |i: usize| ber.get(i..).is_some_and(|rest| rest.starts_with(&header));
    let first = (0..ber.len()).find(|&i| starts_at(i) && starts_at(i + step)).expect("segments");
    let mut positions: Vec<usize> = (first..).step_by(step).take_while(|&i| starts_at(i)).collect();
    let last = positions.last().copied().unwrap_or(first) + step;
    positions.push(last);
    positions.extend(ber.len().saturating_sub(12)..ber.len());
    positions
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    /// Whatever the envelope's own bytes are changed to before they are base64-encoded, both
    /// paths give the same report. In the BER envelopes half the edits hit the segment headers
    /// that the skimmed path reads through its hole (a tag made constructed, a length changed or
    /// cut short, an octet dropped or added, end-of-contents moved); the rest land anywhere, in
    /// a DER envelope too. 1024 cases: a fault in one kind of header read is rare among them
    /// (with 48, a planted one went unnoticed).
    #[test]
    fn envelope_byte_edits_never_make_the_paths_differ(
        which in 0usize..3,
        edits in proptest::collection::vec(
            (any::<bool>(), any::<prop::sample::Index>(), 0usize..4, 0u8..5, any::<u8>()), 1..4),
        truncate in proptest::option::weighted(0.1, any::<prop::sample::Index>()),
    ) {
        static BASES: OnceLock<[(Vec<u8>, Vec<usize>); 3]> = OnceLock::new();
        let bases = BASES.get_or_init(|| {
            let der = envelope_der(40_000, BuildCipher::Aes256Cbc);
            let chunked = |chunk: usize| {
                let ber = build::to_ber_indefinite_chunked(&der, chunk).expect("ber");
                let positions = segment_header_positions(&ber, chunk);
                (ber, positions)
            };
            [chunked(1000), chunked(100), (der.clone(), Vec::new())]
        });
        let (base, positions) = &bases[which];
        let mut bin = base.clone();
        for (aimed, index, offset, kind, value) in edits {
            let i = match positions.is_empty() || !aimed {
                true => index.index(bin.len()),
                false => positions[index.index(positions.len())] + offset,
            };
            let i = i.min(bin.len() - 1);
            match kind {
                0 => bin[i] ^= 1 << (value % 8),
                1 => bin[i] = value,
                2 => bin[i] = [0x00, 0x80, 0x81, 0x82, 0x84, 0x04, 0x24, 0xff][usize::from(value % 8)],
                3 => {
                    bin.drain(i..(i + 1 + usize::from(value % 3)).min(bin.len()));
                }
                _ => bin.insert(i, value),
            }
        }
        if let Some(at) = truncate {
            bin.truncate(at.index(bin.len()).max(1));
        }
        let raw = enveloped_message(&bin);
        let fast = audit_message(&raw, store(), &options());
        let full = audit_message_unskimmed(&raw, store(), &options());
        prop_assert_eq!(fast, full);
    }
}
