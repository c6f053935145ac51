//! The `encryption` object of the audit report says what is there, without contradicting
//! itself: a kind for a message whose only envelopes are attachments, `malformed` for an S/MIME
//! message that cannot be read, one entry per envelope; and the summary counts by that kind.

use smime_lint::audit::analysis::EnvelopeRole;
use smime_lint::audit::{
    audit_message, AuditOptions, EncryptionKind, EnvelopeKind, Report, Summary,
};
use smime_lint::{CertStore, Time};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

fn store() -> &'static CertStore {
    static STORE: OnceLock<CertStore> = OnceLock::new();
    STORE.get_or_init(|| {
        let mut s = CertStore::new();
        s.load_path("testdata/certs/store".as_ref()).expect("test store loads");
        s
    })
}

fn audit(path: &Path) -> Report {
    let raw = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let options = AuditOptions { at: Some(Time::from_unix(1_780_272_000)), ..Default::default() };
    let mut report = audit_message(&raw, store(), &options);
    report.path = path.display().to_string();
    report
}

fn fixtures() -> Vec<PathBuf> {
    let mut all = Vec::new();
    for dir in ["testdata/audit", "testdata/smartreply", "testdata/smime"] {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if matches!(path.extension().and_then(|e| e.to_str()), Some("eml" | "bin")) {
                all.push(path);
            }
        }
    }
    all.sort();
    all
}

fn kind(r: &Report) -> String {
    serde_json::to_value(r.encryption.kind).unwrap().as_str().unwrap().to_owned()
}

#[test]
fn an_encrypted_attachment_is_not_kind_none() {
    let r = audit(Path::new("testdata/smartreply/neg-deliberate-attachment.eml"));
    assert_eq!(kind(&r), "encrypted-attachment");
    assert!(!r.is_encrypted(), "the message itself is not encrypted");
    assert_eq!(r.encryption.envelopes.len(), 1);
    let env = &r.encryption.envelopes[0];
    assert_eq!((env.layer.as_str(), env.role), ("2", EnvelopeRole::Attachment));
    assert_eq!(env.recipient_info_count, r.encryption.recipient_infos.len());
}

#[test]
fn a_truncated_smime_message_is_malformed_not_none() {
    let r = audit(Path::new("testdata/audit/truncated.eml"));
    assert_eq!(kind(&r), "malformed");
    assert_eq!(r.encryption.content_cipher, None);
    let env = &r.encryption.envelopes[0];
    assert_eq!((env.kind, env.role), (EnvelopeKind::Malformed, EnvelopeRole::Message));
    assert!(env.error.as_deref().is_some_and(|e| e.contains("544 content bytes")), "{env:?}");
    assert!(r.findings.iter().any(|f| f.rule.code() == "malformed-smime"));
}

#[test]
fn each_envelope_has_its_own_cipher() {
    let r = audit(Path::new("testdata/smime/several-envelopes.eml"));
    let ciphers: Vec<_> = r
        .encryption
        .envelopes
        .iter()
        .map(|e| (e.layer.as_str(), e.kind, e.content_cipher.as_deref()))
        .collect();
    assert_eq!(
        ciphers,
        [
            ("2", EnvelopeKind::Enveloped, Some("aes-128-cbc")),
            ("3", EnvelopeKind::AuthEnveloped, Some("aes-256-gcm"))
        ]
    );
}

#[test]
fn a_signed_message_around_an_envelope_says_both() {
    let r = audit(Path::new("testdata/smime/signed-envelope.eml"));
    assert_eq!(kind(&r), "enveloped");
    assert!(r.encryption.signed);
    assert!(!audit(Path::new("testdata/audit/all-can-decrypt.eml")).encryption.signed);
}

/// On every fixture: the kind agrees with the envelope list, the per-envelope counts add up to
/// the RecipientInfos listed, and the summary puts each message in exactly one kind.
#[test]
fn the_encryption_object_never_contradicts_itself() {
    let mut summary = Summary::default();
    let mut none = 0;
    for path in fixtures() {
        let r = audit(&path);
        let e = &r.encryption;
        let carrying: Vec<_> = e
            .envelopes
            .iter()
            .filter(|x| x.kind != EnvelopeKind::Malformed && x.role != EnvelopeRole::Attachment)
            .collect();
        let readable = e.envelopes.iter().filter(|x| x.kind != EnvelopeKind::Malformed).count();
        let name = path.display();
        match e.kind {
            EncryptionKind::Enveloped | EncryptionKind::AuthEnveloped => {
                assert!(!carrying.is_empty(), "{name}")
            }
            EncryptionKind::EncryptedAttachment => {
                assert!(carrying.is_empty() && readable > 0, "{name}")
            }
            EncryptionKind::Malformed => assert!(carrying.is_empty(), "{name}"),
            EncryptionKind::SignedOnly | EncryptionKind::None => {
                assert_eq!(readable, 0, "{name}: an envelope but kind {:?}", e.kind);
                assert_eq!(e.content_cipher, None, "{name}");
                assert!(e.recipient_infos.is_empty(), "{name}");
            }
        }
        assert!(e.kind != EncryptionKind::SignedOnly || e.signed, "{name}");
        let counted: usize = e.envelopes.iter().map(|x| x.recipient_info_count).sum();
        assert_eq!(counted, e.recipient_infos.len(), "{name}");
        for ri in &e.recipient_infos {
            assert!(e.envelopes.iter().any(|x| x.layer == ri.layer), "{name}: {}", ri.layer);
        }
        if e.kind == EncryptionKind::None {
            none += 1;
        }
        summary.add(&r);
    }
    let kinds = summary.encrypted
        + summary.signed_only
        + summary.encrypted_attachment
        + summary.malformed
        + none;
    assert_eq!(kinds, summary.messages);
    assert!(summary.encrypted_attachment >= 3 && summary.malformed >= 1, "{summary:?}");
}
