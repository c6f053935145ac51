//! The audit's bounds never pass silently: an S/MIME part below the MIME depth bound, after the
//! part-count bound, or inside more opaque signatures than are followed makes a `malformed-smime`
//! error naming the bound (testdata/audit/limit-*.eml). One step inside each bound, the same
//! envelope is found and judged as usual.

use base64::Engine as _;
use smime_lint::audit::analysis::MAX_SIGNED_DEPTH;
use smime_lint::audit::{audit_message, AuditOptions, EncryptionKind, Report, Rule};
use smime_lint::smime::{MAX_DEPTH, MAX_PARTS};
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

fn audit(raw: &[u8]) -> Report {
    let options = AuditOptions { at: Some(Time::from_unix(1_780_272_000)), ..Default::default() };
    audit_message(raw, store(), &options)
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("testdata/audit/{name}")).expect("fixture")
}

/// The one finding a message beyond a bound gets: an error naming the bound.
fn beyond_the_bound(r: &Report, bound: &str) {
    let found: Vec<_> = r.findings.iter().map(|f| (f.rule, f.message.as_str())).collect();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, Rule::MalformedSmime);
    assert!(found[0].1.contains(bound), "{}", found[0].1);
    assert!(found[0].1.contains("an S/MIME part there would go unseen"), "{}", found[0].1);
    assert!(r.has_errors());
    assert_eq!(r.encryption.kind, EncryptionKind::Malformed);
}

/// The envelope inside was found and judged: nothing about a bound, and bob can read it. (Deep
/// in a tree with no written body, it is the SmartReply shape: that is reported as usual.)
fn examined(r: &Report) {
    assert!(!r.findings.iter().any(|f| f.rule == Rule::MalformedSmime), "{:?}", r.findings);
    assert_eq!(r.encryption.envelopes.len(), 1, "{:?}", r.encryption);
    assert!(r.is_encrypted());
    assert!(r.recipients.iter().all(|x| x.can_decrypt == Some(true)));
}

#[test]
fn an_envelope_below_the_depth_bound_is_an_error_naming_it() {
    assert_eq!(MAX_DEPTH, 64);
    let raw = fixture("limit-depth.eml");
    beyond_the_bound(&audit(raw.as_bytes()), "beyond depth 64");
    // One level less: the envelope sits at depth 64 and is examined.
    let shallower = raw
        .replacen("Content-Type: multipart/mixed; boundary=\"d65\"\r\n\r\n--d65\r\n", "", 1)
        .replacen("\r\n--d65--\r\n", "", 1);
    assert_ne!(shallower, raw);
    examined(&audit(shallower.as_bytes()));
}

#[test]
fn an_envelope_after_the_part_bound_is_an_error_naming_it() {
    assert_eq!(MAX_PARTS, 10_000);
    let raw = fixture("limit-parts.eml");
    beyond_the_bound(&audit(raw.as_bytes()), "the parts after part 10000 were not examined");
    // 9,998 empty parts: with the multipart itself, the envelope is part 10,000 and examined.
    let empty = "--p\r\n\r\n\r\n";
    let fewer = raw.replacen(&empty.repeat(2), "", 1);
    assert_eq!(fewer.len(), raw.len() - 2 * empty.len());
    examined(&audit(fewer.as_bytes()));
}

#[test]
fn an_envelope_inside_too_many_signatures_is_an_error_naming_it() {
    assert_eq!(MAX_SIGNED_DEPTH, 4);
    let raw = fixture("limit-signatures.eml");
    let r = audit(raw.as_bytes());
    beyond_the_bound(&r, "opaque signatures are nested more than 4 deep");
    assert!(r.encryption.signed);
    // The content of the outer signature is the same message signed four times: examined.
    let (head, body) = raw.split_once("\r\n\r\n").expect("header and body");
    let b64: String = body.split_whitespace().collect();
    let der = base64::engine::general_purpose::STANDARD.decode(b64).expect("base64");
    let smime_lint::cms::CmsSummary::Signed(signed) = smime_lint::cms::inspect(&der).unwrap()
    else {
        panic!("an opaque signature")
    };
    let inner = String::from_utf8(signed.econtent.expect("encapsulated")).expect("MIME text");
    let addressing: String = head
        .lines()
        .filter(|l| ["From:", "To:", "Subject:", "Date:"].iter().any(|h| l.starts_with(h)))
        .map(|l| format!("{l}\r\n"))
        .collect();
    examined(&audit(format!("{addressing}{inner}").as_bytes()));
}
