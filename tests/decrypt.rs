//! Decrypting envelopes made by `openssl cms -encrypt` (testdata/decrypt/generate.sh) with the
//! test PKI's private keys.

use proptest::prelude::*;
use rstest::rstest;
use smime_lint::decrypt::{decrypt, inspect_inner, DecryptError, DecryptionKey};
use smime_lint::Error;
use std::path::{Path, PathBuf};
use x509_cert::der::{DecodePem, Encode};
use x509_cert::Certificate;

fn testdata(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata").join(rel)
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(testdata(&format!("decrypt/{name}"))).unwrap()
}

/// A key from testdata/certs/keys (PKCS#8, no certificate).
fn key(name: &str) -> DecryptionKey {
    DecryptionKey::load(&testdata(&format!("certs/keys/{name}.key"))).unwrap()
}

fn read_key(name: &str) -> String {
    std::fs::read_to_string(testdata(&format!("certs/keys/{name}.key"))).unwrap()
}

fn cert(name: &str) -> Certificate {
    Certificate::from_pem(std::fs::read(testdata(&format!("certs/store/{name}.pem"))).unwrap())
        .unwrap()
}

/// The key with its certificate attached, as the CLI does after finding it in the store.
fn key_with_cert(name: &str) -> DecryptionKey {
    key(name).with_certificate(cert(name))
}

#[rstest]
#[case::aes128_cbc_sender("aes128-cbc.der", "alice", "reply.mime", 0)]
#[case::aes128_cbc_recipient("aes128-cbc.der", "bob", "reply.mime", 1)]
#[case::aes192_cbc("aes192-cbc.der", "bob", "reply.mime", 1)]
#[case::aes256_cbc("aes256-cbc.der", "alice", "reply.mime", 0)]
#[case::oaep_sha1("oaep-sha1.der", "alice", "reply.mime", 0)]
#[case::oaep_sha256("oaep-sha256.der", "bob", "reply.mime", 1)]
#[case::subject_key_id("keyid.der", "bob", "reply.mime", 0)]
#[case::subject_key_id_sender("keyid.der", "alice", "reply.mime", 1)]
#[case::aes128_gcm("aes128-gcm.der", "alice", "reply.mime", 0)]
#[case::aes256_gcm("aes256-gcm.der", "bob", "reply.mime", 1)]
#[case::ec_p256_kari("carol-p256.der", "carol", "reply.mime", 1)]
#[case::ec_p256_kari_keyid("carol-p256-keyid.der", "carol", "reply.mime", 0)]
#[case::ec_p256_kari_sha256_kdf("carol-p256-sha256kdf.der", "carol", "reply.mime", 0)]
#[case::ec_p384_kari("nina-p384.der", "nina-p384", "reply.mime", 1)]
#[case::ec_p384_kari_gcm("nina-p384-gcm.der", "nina-p384", "reply.mime", 0)]
#[case::blank_body("blank.der", "alice", "blank.mime", 0)]
#[case::smartreply_shape("smartreply.der", "bob", "smartreply.mime", 1)]
fn opens_with_owner_key(
    #[case] envelope: &str,
    #[case] owner: &str,
    #[case] expected: &str,
    #[case] index: usize,
    #[values(false, true)] with_certificate: bool,
) {
    let key = if with_certificate { key_with_cert(owner) } else { key(owner) };
    let opened = decrypt(&fixture(envelope), &[key]).unwrap();
    assert_eq!(opened.plaintext, fixture(expected), "{envelope} with {owner}'s key");
    assert_eq!(opened.recipient_index, index);
}

/// Inspection (the audit) and decryption read RecipientInfos with one decoder: a kari one of
/// them refuses, the other refuses too, as damage; the untouched original opens. Before, the
/// audit passed a kari without its encryptedKey, with a broken originator or version 7, and
/// decryption took a kari with no RecipientEncryptedKey for "not a recipient".
#[rstest]
#[case::original("carol-keyid.der", true)]
#[case::no_encrypted_key("carol-kari-no-encrypted-key.der", false)]
#[case::no_recipient_encrypted_keys("carol-kari-no-keys.der", false)]
#[case::bad_originator("carol-kari-bad-originator.der", false)]
#[case::version_7("carol-kari-version-7.der", false)]
fn inspection_and_decryption_judge_a_kari_alike(#[case] name: &str, #[case] well_formed: bool) {
    let der = std::fs::read(testdata(&format!("cms/{name}"))).unwrap();
    let inspected = smime_lint::cms::inspect(&der);
    assert_eq!(inspected.is_ok(), well_formed, "{name}: {inspected:?}");
    match decrypt(&der, &[key("carol")]) {
        Ok(opened) => {
            assert!(well_formed, "{name} opened");
            assert!(!opened.plaintext.is_empty());
        }
        Err(e) => {
            assert!(!well_formed, "{name}: {e:?}");
            assert!(matches!(e, DecryptError::Damaged(_)), "{name}: {e:?}");
        }
    }
}

#[rstest]
#[case::reply("reply.mime", false, 0)]
#[case::empty_text_part("blank.mime", true, 0)]
#[case::empty_body_beside_the_real_message("smartreply.mime", true, 1)]
fn inner_body_blankness(#[case] mime: &str, #[case] blank: bool, #[case] attachments: usize) {
    let inner = inspect_inner(&fixture(mime));
    assert_eq!(inner.blank, blank, "{inner:?}");
    assert_eq!(inner.attachments, attachments, "{inner:?}");
    assert!(!inner.nested_smime);
}

#[test]
fn empty_content_is_blank_and_nested_smime_is_not() {
    assert!(inspect_inner(b"").blank);
    assert!(inspect_inner(b"\r\n \r\n").blank);
    let nested = inspect_inner(
        b"Content-Type: application/pkcs7-mime; smime-type=signed-data\r\n\
          Content-Transfer-Encoding: base64\r\n\r\nMIAGCSqGSIb3DQEHAqCAMIACAQE=\r\n",
    );
    assert!(nested.nested_smime && !nested.blank, "{nested:?}");
    let html = inspect_inner(b"Content-Type: text/html\r\n\r\n<html><body> </body></html>\r\n");
    assert!(html.blank, "{html:?}");
    let text = inspect_inner(b"Content-Type: text/html\r\n\r\n<p>Hello</p>\r\n");
    assert!(!text.blank, "{text:?}");
}

#[test]
fn decrypted_blank_fixture_is_blank_end_to_end() {
    let opened = decrypt(&fixture("blank.der"), &[key("bob")]).unwrap();
    assert!(inspect_inner(&opened.plaintext).blank);
    let opened = decrypt(&fixture("aes128-cbc.der"), &[key("bob")]).unwrap();
    assert!(!inspect_inner(&opened.plaintext).blank);
}

#[rstest]
#[case::without_certificate(false)]
#[case::with_certificate(true)]
fn not_a_recipient(#[case] with_certificate: bool) {
    let alice = if with_certificate { key_with_cert("alice") } else { key("alice") };
    let err = decrypt(&fixture("bob-only.der"), &[alice]).unwrap_err();
    assert!(matches!(err, DecryptError::NoRecipientInfoForKey), "{err:?}");
}

#[test]
fn ec_key_on_rsa_only_envelope_is_not_a_recipient() {
    let err = decrypt(&fixture("bob-only.der"), &[key("carol")]).unwrap_err();
    assert!(matches!(err, DecryptError::NoRecipientInfoForKey), "{err:?}");
    // Wrong curve: nina's P-384 key on carol's P-256 kari.
    let err = decrypt(&fixture("carol-p256-keyid.der"), &[key("nina-p384")]).unwrap_err();
    assert!(matches!(err, DecryptError::NoRecipientInfoForKey), "{err:?}");
}

#[test]
fn certificate_names_the_recipient_info_but_key_does_not_fit() {
    // zoe's certificate has bob's issuer name and serial: the RecipientInfo names it, zoe's key
    // cannot open it.
    let zoe = DecryptionKey::load(&testdata("decrypt/keys/zoe-with-cert.pem")).unwrap();
    assert_eq!(zoe.certificates().len(), 1);
    let err = decrypt(&fixture("bob-only.der"), &[zoe]).unwrap_err();
    assert!(matches!(err, DecryptError::KeyDoesNotFit(_)), "{err:?}");
}

#[test]
fn several_keys_the_one_that_fits_wins() {
    let keys = [key("carol"), key("alice"), key("bob")];
    let opened = decrypt(&fixture("bob-only.der"), &keys).unwrap();
    assert_eq!(opened.plaintext, fixture("reply.mime"));
    assert_eq!(opened.recipient_index, 0);
    let err = decrypt(&fixture("bob-only.der"), &[]).unwrap_err();
    assert!(matches!(err, DecryptError::NoRecipientInfoForKey), "{err:?}");
}

/// A damaged payload behind RSA key transport fails exactly as a wrong key does: telling the
/// two apart would be a padding oracle (the "No padding oracle" section of `decrypt`).
#[rstest]
#[case::cbc_padding("damaged-cbc.der", "bob")]
#[case::gcm_tag("damaged-gcm.der", "alice")]
fn damaged_payload_behind_rsa_reads_as_a_wrong_key(#[case] envelope: &str, #[case] owner: &str) {
    let damaged = decrypt(&fixture(envelope), &[key_with_cert(owner)]).unwrap_err();
    assert!(matches!(damaged, DecryptError::KeyDoesNotFit(_)), "{damaged:?}");
    let zoe = DecryptionKey::load(&testdata("decrypt/keys/zoe-with-cert.pem")).unwrap();
    let wrong_key = decrypt(&fixture("bob-only.der"), &[zoe]).unwrap_err();
    assert_eq!(damaged.to_string(), wrong_key.to_string());
    assert_eq!(damaged.code(), wrong_key.code());
}

/// The three ways an RSA attempt can fail after the RSA operation starts — RSA padding (the
/// encrypted key changed), content padding (the ciphertext changed), and a wrong key — give one
/// and the same error text, for a named key and for a key tried by trial alike.
#[test]
fn rsa_padding_and_content_padding_failures_read_the_same() {
    let whole = fixture("bob-only.der");
    // The encrypted content key is the 256-byte OCTET STRING of bob's ktri: change its last
    // byte (the RSA ciphertext is no longer a valid PKCS#1 v1.5 block for bob's key).
    let position = whole
        .windows(4)
        .position(|w| w == [0x04, 0x82, 0x01, 0x00])
        .expect("bob's 2048-bit encrypted key")
        + 4
        + 255;
    let mut bad_key_block = whole.clone();
    bad_key_block[position] ^= 0x01;
    // The last ciphertext block changed: the CBC padding no longer checks out.
    let mut bad_content = whole.clone();
    let last = bad_content.len() - 1;
    bad_content[last] ^= 0x01;
    for named in [true, false] {
        let keys = || if named { key_with_cert("bob") } else { key("bob") };
        let texts: Vec<String> = [&bad_key_block, &bad_content]
            .iter()
            .map(|der| decrypt(der, &[keys()]).unwrap_err().to_string())
            .collect();
        assert_eq!(texts[0], texts[1], "named: {named}");
        let expected = if named { "key-does-not-fit" } else { "no-recipient-info-for-key" };
        assert_eq!(decrypt(&bad_content, &[keys()]).unwrap_err().code(), expected);
    }
    assert_eq!(decrypt(&whole, &[key("bob")]).unwrap().plaintext, fixture("reply.mime"));
}

#[test]
fn truncated_and_foreign_structures_are_damaged() {
    let whole = fixture("aes128-cbc.der");
    let err = decrypt(&whole[..whole.len() / 2], &[key("alice")]).unwrap_err();
    assert!(matches!(err, DecryptError::Damaged(_)), "{err:?}");
    // A certs-only SignedData is a ContentInfo, but not an envelope.
    let signed = std::fs::read(testdata("certs/bundles/three.p7b")).unwrap();
    let err = decrypt(&signed, &[key("alice")]).unwrap_err();
    assert!(matches!(&err, DecryptError::Damaged(m) if m.contains("signedData")), "{err}");
    // A certificate is not a ContentInfo at all.
    let der = cert("bob").to_der().unwrap();
    let err = decrypt(&der, &[key("bob")]).unwrap_err();
    assert!(matches!(err, DecryptError::Damaged(_)), "{err:?}");
}

#[test]
fn a_tampered_gcm_mac_behind_rsa_is_not_told_from_a_wrong_key() {
    let mut der = fixture("aes128-gcm.der");
    let last = der.len() - 1; // the mac is the last field
    der[last] ^= 0x80;
    let tampered = decrypt(&der, &[key_with_cert("bob")]).unwrap_err();
    assert!(matches!(tampered, DecryptError::KeyDoesNotFit(_)), "{tampered:?}");
    // A mac of the wrong length is structure, known before any key is used.
    let mut short = fixture("aes128-gcm.der");
    let mac_len_at = short.len() - 17;
    assert_eq!(short[mac_len_at], 16, "a 16-byte mac at the end");
    short[mac_len_at] = 15;
    short.truncate(short.len() - 1);
    let err = decrypt(&short, &[key("bob")]);
    assert!(err.is_err(), "a mac one byte short cannot open");
}

#[test]
fn triple_des_is_an_unsupported_cipher() {
    let err = decrypt(&fixture("des3.der"), &[key("alice")]).unwrap_err();
    assert!(matches!(&err, DecryptError::UnsupportedCipher(m) if m.contains("3DES")), "{err}");
}

#[rstest]
#[case::kek("kekri.der", "kekri")]
#[case::password("pwri.der", "pwri")]
fn recipient_kinds_without_a_private_key(#[case] envelope: &str, #[case] kind: &str) {
    let err = decrypt(&fixture(envelope), &[key("alice")]).unwrap_err();
    assert!(matches!(&err, DecryptError::UnsupportedRecipientInfo(m) if m.contains(kind)), "{err}");
}

#[rstest]
#[case::pkcs1("alice-pkcs1.pem", "aes128-cbc.der", "RSA 2048")]
#[case::sec1("carol-sec1.pem", "carol-p256.der", "EC P-256")]
#[case::key_with_chain("bob-with-chain.pem", "keyid.der", "RSA 2048")]
fn key_file_formats(#[case] file: &str, #[case] envelope: &str, #[case] kind: &str) {
    let key = DecryptionKey::load(&testdata(&format!("decrypt/keys/{file}"))).unwrap();
    assert_eq!(key.kind(), kind);
    let opened = decrypt(&fixture(envelope), &[key]).unwrap();
    assert_eq!(opened.plaintext, fixture("reply.mime"));
}

#[test]
fn only_the_owner_certificate_is_kept_from_a_chain_file() {
    let key = DecryptionKey::load(&testdata("decrypt/keys/bob-with-chain.pem")).unwrap();
    assert_eq!(key.certificates(), &[cert("bob")]);
    // Attaching someone else's certificate is ignored.
    let key = key.with_certificate(cert("alice"));
    assert_eq!(key.certificates().len(), 1);
}

#[rstest]
#[case::alice("alice")]
#[case::carol("carol")]
#[case::nina("nina-p384")]
fn public_key_der_matches_the_certificate(#[case] name: &str) {
    let spki = cert(name).tbs_certificate.subject_public_key_info.to_der().unwrap();
    assert_eq!(key(name).public_key_der(), spki);
}

#[rstest]
#[case::pkcs8("alice-encrypted.pem")]
#[case::legacy_pkcs1("alice-pkcs1-encrypted.pem")]
fn encrypted_keys_are_refused_clearly(#[case] file: &str) {
    let err = DecryptionKey::load(&testdata(&format!("decrypt/keys/{file}"))).unwrap_err();
    assert!(matches!(&err, Error::Key { reason, .. } if reason.contains("encrypted")), "{err}");
    assert!(err.to_string().contains(file), "names the file: {err}");
}

#[rstest]
#[case::no_key(std::fs::read_to_string(testdata("certs/store/alice.pem")).unwrap(), "no private key")]
#[case::two_keys(format!("{}{}", read_key("alice"), read_key("bob")), "more than one")]
#[case::ed25519(read_key("ivan-ed25519"), "not supported")]
#[case::bad_base64("-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n".to_owned(), "base64")]
fn unusable_key_files(#[case] pem: String, #[case] says: &str) {
    let err = DecryptionKey::from_pem(&pem, "key.pem").unwrap_err();
    assert!(
        matches!(&err, Error::Key { context, reason } if context == "key.pem" && reason.contains(says)),
        "{err}"
    );
}

#[test]
fn missing_key_file_is_an_io_error() {
    let err = DecryptionKey::load(&testdata("decrypt/keys/absent.pem")).unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err}");
}

fn pem_body(pem: &str) -> String {
    pem.lines().filter(|l| !l.starts_with("-----")).collect()
}

/// Pieces of a key file that must never be printed: a stretch of the PEM body, and bytes of
/// the DER inside as hex (lower and upper case).
fn secret_fragments(pem: &str) -> Vec<String> {
    use base64::Engine;
    let body = pem_body(pem);
    let piece = body[body.len() / 2..body.len() / 2 + 24].to_owned();
    let der = base64::engine::general_purpose::STANDARD.decode(&body).unwrap();
    let middle = &der[der.len() / 2..der.len() / 2 + 12];
    let hex_lower = hex::encode(middle);
    vec![piece, hex_lower.to_uppercase(), hex_lower]
}

#[rstest]
#[case::rsa("alice")]
#[case::ec("carol")]
fn key_material_never_printed(#[case] name: &str) {
    let pem = read_key(name);
    let fragments = secret_fragments(&pem);
    let key = DecryptionKey::from_pem(&pem, "k.pem").unwrap();
    let mut printed = vec![format!("{key:?}"), format!("{key:#?}")];
    assert!(printed[0].contains("public_key_sha256"), "{}", printed[0]);
    // Every outcome this key has against the fixtures: successes and each kind of error.
    for envelope in [
        "bob-only.der",
        "damaged-cbc.der",
        "damaged-gcm.der",
        "des3.der",
        "kekri.der",
        "carol-p256.der",
        "nina-p384.der",
        "aes128-cbc.der",
    ] {
        let key = DecryptionKey::from_pem(&pem, "k.pem").unwrap();
        match decrypt(&fixture(envelope), &[key]) {
            Ok(opened) => printed.push(format!("{opened:?}")),
            Err(e) => {
                printed.push(e.to_string());
                printed.push(format!("{e:?}"));
                printed.push(Error::from(e).to_string());
            }
        }
    }
    for text in &printed {
        for fragment in &fragments {
            assert!(!text.contains(fragment.as_str()), "key material in {text:?}");
        }
    }
}

#[test]
fn damaged_key_file_error_holds_no_key_material() {
    let pem = read_key("alice");
    // Drop the second half of the base64 body: the DER inside is truncated.
    let lines: Vec<&str> = pem.lines().collect();
    let cut = format!("{}\n{}\n", lines[..lines.len() / 2].join("\n"), lines[lines.len() - 1]);
    let err = DecryptionKey::from_pem(&cut, "cut.pem").unwrap_err();
    assert!(matches!(err, Error::Key { .. }), "{err}");
    for fragment in secret_fragments(&pem) {
        assert!(!err.to_string().contains(&fragment), "{err}");
        assert!(!format!("{err:?}").contains(&fragment), "{err:?}");
    }
}

/// Loaded once: parsing and checking RSA keys dominates otherwise.
fn all_keys() -> &'static [DecryptionKey] {
    static KEYS: std::sync::OnceLock<Vec<DecryptionKey>> = std::sync::OnceLock::new();
    KEYS.get_or_init(|| vec![key_with_cert("alice"), key("bob"), key("carol"), key("nina-p384")])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = decrypt(&bytes, all_keys());
    }

    #[test]
    fn bit_flipped_fixtures_never_panic(
        which in 0usize..6,
        position in any::<prop::sample::Index>(),
        bit in 0u8..8,
    ) {
        let names = ["aes128-cbc.der", "oaep-sha256.der", "aes128-gcm.der", "carol-p256.der",
                     "nina-p384-gcm.der", "keyid.der"];
        let mut der = fixture(names[which]);
        let i = position.index(der.len());
        der[i] ^= 1 << bit;
        match decrypt(&der, all_keys()) {
            // A flip nobody authenticates can still decrypt: a CBC IV or ciphertext byte, an
            // unused field, or even the padding byte (CBC is malleable: a flip in the
            // second-to-last block changes the padding length). It never yields more than the
            // input held.
            Ok(opened) => prop_assert!(opened.plaintext.len() <= der.len()),
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }

    #[test]
    fn truncated_fixtures_never_panic(cut in 0usize..1100) {
        let der = fixture("carol-p256.der");
        prop_assert!(decrypt(&der[..cut.min(der.len() - 1)], all_keys()).is_err());
    }
}

#[test]
fn crlf_pem_with_text_around_blocks_loads() {
    let pem =
        format!("Bag Attributes\n    localKeyID: 01\n{}", read_key("alice").replace('\n', "\r\n"));
    let key = DecryptionKey::from_pem(&pem, "alice.pem").unwrap();
    let opened = decrypt(&fixture("aes128-cbc.der"), &[key]).unwrap();
    assert_eq!(opened.recipient_index, 0);
}
