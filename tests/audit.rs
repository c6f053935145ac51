//! The audit over real fixtures: every message under testdata/{audit,smartreply,smime} against
//! its expected report (NAME.audit.json beside it), plus targeted assertions per rule.
//!
//! `UPDATE_EXPECTED=1 cargo test --test audit` rewrites the expected files; review the diff.

use smime_lint::audit::{audit_message, AuditOptions, FindingSeverity, Report, Rule};
use smime_lint::decrypt::DecryptionKey;
use smime_lint::{CertStore, Time};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

fn at() -> Time {
    Time::from_unix(1_780_272_000) // 2026-06-01T00:00:00Z
}

fn store() -> &'static CertStore {
    static STORE: OnceLock<CertStore> = OnceLock::new();
    STORE.get_or_init(|| {
        let mut s = CertStore::new();
        s.load_path("testdata/certs/store".as_ref()).expect("test store loads");
        s
    })
}

fn audit_file(path: &Path, options: &AuditOptions) -> Report {
    let raw = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut report = audit_message(&raw, store(), options);
    report.path = path.display().to_string();
    report
}

fn audit(name: &str) -> Report {
    audit_file(Path::new(name), &AuditOptions { at: Some(at()), ..AuditOptions::default() })
}

fn fixtures() -> Vec<PathBuf> {
    let mut all = Vec::new();
    for dir in ["testdata/audit", "testdata/smartreply", "testdata/smime"] {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
            if ext == "eml" || ext == "bin" {
                all.push(path);
            }
        }
    }
    all.sort();
    all
}

#[test]
fn every_fixture_matches_its_expected_report() {
    let update = std::env::var_os("UPDATE_EXPECTED").is_some();
    let mut mismatches = Vec::new();
    for path in fixtures() {
        let report = audit(path.to_str().unwrap());
        let actual = serde_json::to_string_pretty(&report).unwrap() + "\n";
        let expected_path = path.with_extension(format!(
            "{}.audit.json",
            path.extension().and_then(|e| e.to_str()).unwrap_or("")
        ));
        if update {
            std::fs::write(&expected_path, &actual).unwrap();
            continue;
        }
        match std::fs::read_to_string(&expected_path) {
            Ok(expected) if expected == actual => {}
            Ok(_) => mismatches.push(format!(
                "{} differs from {}",
                path.display(),
                expected_path.display()
            )),
            Err(_) => {
                mismatches.push(format!("{} has no {}", path.display(), expected_path.display()))
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "{}\n(UPDATE_EXPECTED=1 rewrites; review the diff)",
        mismatches.join("\n")
    );
}

fn rules(r: &Report) -> Vec<(&'static str, Option<String>)> {
    r.findings.iter().map(|f| (f.rule.code(), f.address.as_ref().map(|a| a.to_string()))).collect()
}

fn can_decrypt(r: &Report) -> Vec<(String, Option<bool>)> {
    r.recipients.iter().map(|x| (x.address.to_string(), x.can_decrypt)).collect()
}

/// The iOS 7.1 Reply All as it went out: enveloped for the Cc recipient (and the sender) only.
#[test]
fn ios_7_1_reply_all_is_partial_encryption_naming_the_to_recipient() {
    let r = audit("testdata/audit/ios71-reply-all.eml");
    assert!(r.is_encrypted() && r.reply);
    assert_eq!(rules(&r), [("partial-encryption", Some("dan@example.net".into()))]);
    assert_eq!(
        can_decrypt(&r),
        [("dan@example.net".into(), Some(false)), ("carol@example.org".into(), Some(true))]
    );
    assert!(r.has_errors());
}

/// A fixture and the (rule, address) findings it must give.
type RuleCase<'a> = (&'a str, &'a [(&'a str, Option<&'a str>)]);

#[test]
fn each_rule_on_its_fixture() {
    let cases: &[RuleCase<'_>] = &[
        ("all-can-decrypt", &[]),
        ("bcc-copy", &[("bcc-disclosed", Some("uma@example.com"))]),
        ("no-sender", &[("sender-cannot-decrypt", Some("alice@example.com"))]),
        ("mixed-case", &[]),
        ("subject-only", &[]),
        ("weak-3des", &[("weak-content-cipher", None)]),
        ("stream-ber", &[]),
        ("keyid", &[]),
        ("auth-enveloped", &[]),
        ("signed-only", &[]),
        (
            "unknown-recipient",
            &[("unconfirmed-recipient", Some("dan@example.net")), ("unknown-recipient-info", None)],
        ),
        ("truncated", &[("malformed-smime", None)]),
        // Two Bcc recipients sharing one envelope see each other.
        (
            "bcc-two",
            &[
                ("bcc-disclosed", Some("bob@example.com")),
                ("bcc-disclosed", Some("carol@example.org")),
            ],
        ),
        ("bcc-separate", &[("partial-encryption", Some("carol@example.org"))]),
        (
            "unusable-certificates",
            &[
                ("encrypted-to-unusable-certificate", Some("dave@example.com")),
                ("encrypted-to-unusable-certificate", Some("heidi@example.com")),
            ],
        ),
    ];
    for (name, expected) in cases {
        let r = audit(&format!("testdata/audit/{name}.eml"));
        let mut got = rules(&r);
        got.sort();
        let mut want: Vec<_> = expected.iter().map(|(c, a)| (*c, a.map(str::to_owned))).collect();
        want.sort();
        assert_eq!(got, want, "{name}");
    }
}

#[test]
fn encodings_and_identifiers_are_reported() {
    let ber = audit("testdata/audit/stream-ber.eml");
    assert!(ber.encryption.ber_indefinite);
    assert!(!audit("testdata/audit/all-can-decrypt.eml").encryption.ber_indefinite);
    let keyid = audit("testdata/audit/keyid.eml");
    assert!(keyid
        .encryption
        .recipient_infos
        .iter()
        .all(|ri| ri.ski.is_some() && ri.serial.is_none()));
    assert!(keyid.recipients.iter().all(|r| r.can_decrypt == Some(true)));
    let gcm = audit("testdata/audit/auth-enveloped.eml");
    assert_eq!(serde_json::to_value(gcm.encryption.kind).unwrap(), "auth-enveloped");
    assert_eq!(gcm.encryption.content_cipher.as_deref(), Some("aes-128-gcm"));
    let kinds: Vec<_> = gcm
        .encryption
        .recipient_infos
        .iter()
        .map(|ri| serde_json::to_value(ri.kind).unwrap())
        .collect();
    assert!(kinds.contains(&"kari".into()) && kinds.contains(&"ktri".into()), "{kinds:?}");
}

#[test]
fn mixed_case_addresses_match_certificates() {
    let r = audit("testdata/audit/mixed-case.eml");
    assert_eq!(r.from.as_ref().map(|a| a.as_str()), Some("alice@example.com"));
    assert!(r.recipients.iter().all(|x| x.can_decrypt == Some(true)), "{:?}", can_decrypt(&r));
    assert!(r.recipients.iter().any(|x| x.address.as_str() == "victor.alias@example.net"));
}

#[test]
fn unknown_recipient_info_leaves_unmatched_recipients_undecided() {
    let r = audit("testdata/audit/unknown-recipient.eml");
    assert_eq!(
        can_decrypt(&r),
        [("bob@example.com".into(), Some(true)), ("dan@example.net".into(), None)]
    );
    assert!(!rules(&r).iter().any(|(c, _)| *c == "partial-encryption"));
}

#[test]
fn certificates_are_judged_at_the_message_date_by_default() {
    // Dated 2012, before the test certificates' notBefore (2020).
    let r = audit_file(
        Path::new("testdata/smartreply/neg-signed-envelope.eml"),
        &AuditOptions::default(),
    );
    assert!(rules(&r).iter().any(|(c, _)| *c == "encrypted-to-unusable-certificate"));
    assert!(!audit("testdata/smartreply/neg-signed-envelope.eml")
        .findings
        .iter()
        .any(|f| f.rule == Rule::EncryptedToUnusableCertificate));
}

#[test]
fn not_mail_is_unreadable_and_nothing_else() {
    let r = audit("testdata/audit/not-mail.bin");
    assert_eq!(rules(&r), [("unreadable", None)]);
    let empty = audit_message(b"", store(), &AuditOptions::default());
    assert_eq!(empty.findings[0].rule, Rule::Unreadable);
}

fn alice_key() -> AuditOptions {
    let key = DecryptionKey::load(Path::new("testdata/certs/keys/alice.key")).unwrap();
    AuditOptions { at: Some(at()), keys: vec![key], ..AuditOptions::default() }
}

#[test]
fn decryption_confirms_the_smartreply_finding() {
    let r = audit_file(Path::new("testdata/smartreply/sr-empty-text.eml"), &alice_key());
    let f = r.findings.iter().find(|f| f.rule == Rule::SmartreplyBlankBody).expect("finding");
    assert!(f.message.contains("holds the written reply"), "{}", f.message);
    assert_eq!(r.encryption.decryption.len(), 1);
    assert_eq!(r.encryption.decryption[0].status, "decrypted");
    assert_eq!(r.encryption.decryption[0].blank_body, Some(false));
}

#[test]
fn a_key_for_someone_else_is_a_reason_not_a_crash() {
    let key = DecryptionKey::load(Path::new("testdata/certs/keys/heidi-weak.key")).unwrap();
    let options = AuditOptions { at: Some(at()), keys: vec![key], ..AuditOptions::default() };
    let r = audit_file(Path::new("testdata/audit/all-can-decrypt.eml"), &options);
    assert_eq!(r.encryption.decryption[0].status, "failed");
    assert!(r.encryption.decryption[0].reason.is_some());
    assert!(r.findings.is_empty());
}

#[test]
fn harvesting_binds_only_verified_signers_of_the_from_address() {
    use smime_lint::cert::{HarvestBinding, Provenance};
    let raw = std::fs::read("testdata/audit/signed-only.eml").unwrap();
    let certs = smime_lint::harvest::harvest_message(&raw, "signed-only.eml");
    assert_eq!(certs.len(), 1);
    assert!(matches!(
        certs[0].provenance(),
        Provenance::Harvested { binding: HarvestBinding::Verified { senders }, .. }
            if senders == &[smime_lint::Address::parse("alice@example.com").unwrap()]
    ));
    // The same message claiming another sender: the certificate is not bound.
    let forged = String::from_utf8_lossy(&raw).replacen(
        "From: Alice Sender <alice@example.com>",
        "From: bob@example.com",
        1,
    );
    let certs = smime_lint::harvest::harvest_message(forged.as_bytes(), "forged.eml");
    assert!(matches!(
        certs[0].provenance(),
        Provenance::Harvested { binding: HarvestBinding::Unverified(why), .. } if why.contains("does not name the From address")
    ));
    // The signed text changed after signing: the signature no longer verifies.
    let tampered =
        String::from_utf8_lossy(&raw).replacen("the figures look good", "the figures look bad!", 1);
    let certs = smime_lint::harvest::harvest_message(tampered.as_bytes(), "tampered.eml");
    assert!(matches!(
        certs[0].provenance(),
        Provenance::Harvested { binding: HarvestBinding::Unverified(why), .. } if why.contains("does not verify")
    ));
    // Unverified harvested certificates are not used to encrypt.
    let mut store = CertStore::new();
    store.add(certs[0].clone());
    let status = store.evaluate(
        &smime_lint::Address::parse("alice@example.com").unwrap(),
        at(),
        &Default::default(),
    );
    assert!(!status.is_encryptable());
    assert!(status.reasons().iter().any(|r| r.code() == "harvested-unverified"));
}

#[test]
fn a_bcc_recipient_missing_from_the_sent_copy_is_a_warning_naming_both_possibilities() {
    let r = audit("testdata/audit/bcc-separate.eml");
    let f = &r.findings[0];
    assert_eq!((f.rule, f.severity), (Rule::PartialEncryption, FindingSeverity::Warning));
    assert!(f.message.contains("if they received this copy they cannot open it"), "{}", f.message);
    assert!(f.message.contains("separately encrypted copy, they can"), "{}", f.message);
    assert!(!r.has_errors(), "a possible separate copy is not an error");
    // To/Cc recipients stay errors: the iOS 7.1 Reply All.
    let r = audit("testdata/audit/ios71-reply-all.eml");
    assert_eq!(r.findings[0].severity, FindingSeverity::Error);
}

#[test]
fn bcc_recipients_sharing_an_envelope_are_told_who_sees_them() {
    let r = audit("testdata/audit/bcc-two.eml");
    let messages: Vec<&str> = r.findings.iter().map(|f| f.message.as_str()).collect();
    assert!(
        messages[0].contains("that the other Bcc recipient carol@example.org received"),
        "{messages:?}"
    );
    assert!(
        messages[1].contains("that the other Bcc recipient bob@example.com received"),
        "{messages:?}"
    );
    // A lone Bcc recipient with no one else in the envelope discloses nothing.
    let raw = std::fs::read_to_string("testdata/audit/bcc-two.eml")
        .unwrap()
        .replace("Bcc: bob@example.com, carol@example.org", "Bcc: bob@example.com");
    let r = audit_message(
        raw.as_bytes(),
        store(),
        &AuditOptions { at: Some(at()), ..AuditOptions::default() },
    );
    assert!(r.findings.iter().all(|f| f.rule != Rule::BccDisclosed), "{:?}", r.findings);
}

#[test]
fn a_recipient_nobody_can_vouch_for_is_named() {
    let r = audit("testdata/audit/unknown-recipient.eml");
    let f = r.findings.iter().find(|f| f.rule == Rule::UnconfirmedRecipient).expect("named");
    assert_eq!(f.address.as_ref().map(|a| a.as_str()), Some("dan@example.net"));
    assert_eq!(f.severity, FindingSeverity::Warning);
    assert_eq!(
        f.message,
        "dan@example.net can read this only if the 1 unknown RecipientInfo is theirs"
    );
    assert_eq!(r.recipients[1].can_decrypt, None);
}
