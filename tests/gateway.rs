//! The pre-send verdict (`smime_lint::gateway`) on real fixtures, judged against SMTP envelopes.

use proptest::prelude::*;
use rstest::rstest;
use smime_lint::audit::Rule;
use smime_lint::cert::{HarvestBinding, Provenance};
use smime_lint::gateway::{verdict, Action, Envelope, GatewayPolicy, Verdict, MAX_LINES};
use smime_lint::{CertStore, Certificate, RecipientField, Time};
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

fn read(path: &str) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn judge(path: &str, rcpt: &[&str], policy: &GatewayPolicy) -> Verdict {
    let envelope = Envelope::new("<alice@example.com>", rcpt.iter().copied());
    verdict(&read(path), &envelope, store(), at(), policy)
}

fn policy(settings: &[&str]) -> GatewayPolicy {
    let mut p = GatewayPolicy::default();
    for s in settings {
        p.set_from_str(s).unwrap();
    }
    p
}

fn refused(v: &Verdict) -> Vec<&str> {
    v.refused().map(|r| r.recipient.as_str()).collect()
}

fn unreadable(v: &Verdict) -> Vec<&str> {
    v.unreadable().map(|r| r.recipient.as_str()).collect()
}

#[rstest]
// The iOS 7.1 Reply All: enveloped for carol (and alice); dan is in To.
#[case::reply_all_to_mixed_group("testdata/audit/ios71-reply-all.eml", &["<dan@example.net>", "<carol@example.org>"], Action::Reject, &["dan@example.net"])]
#[case::same_message_to_carol_only("testdata/audit/ios71-reply-all.eml", &["<carol@example.org>"], Action::Accept, &[])]
#[case::everyone_can_decrypt("testdata/audit/all-can-decrypt.eml", &["<bob@example.com>", "<carol@example.org>"], Action::Accept, &[])]
// dan is only in RCPT TO (a Bcc recipient): the header alone would not show him.
#[case::unreadable_bcc_only_in_the_envelope("testdata/audit/all-can-decrypt.eml", &["<bob@example.com>", "<carol@example.org>", "<dan@example.net>"], Action::Reject, &["dan@example.net"])]
#[case::bcc_with_a_recipient_info("testdata/audit/bcc-copy.eml", &["<bob@example.com>", "<uma@example.com>"], Action::Accept, &[])]
#[case::blank_smartreply("testdata/smartreply/sr-empty-text.eml", &["<bob@example.com>"], Action::Reject, &[])]
#[case::truncated_envelope("testdata/audit/truncated.eml", &["<bob@example.com>"], Action::Reject, &[])]
#[case::signed_only("testdata/audit/signed-only.eml", &["<bob@example.com>", "<dan@example.net>"], Action::Accept, &[])]
#[case::plain_mail("testdata/messages/ios71-fresh.eml", &["<dan@example.net>", "<carol@example.org>"], Action::Accept, &[])]
// dan has no known certificate, but one RecipientInfo matches none: it might be his.
#[case::unconfirmed_recipient_accepted_by_default("testdata/audit/unknown-recipient.eml", &["<bob@example.com>", "<dan@example.net>"], Action::Accept, &[])]
#[case::expired_certificate_still_decrypts("testdata/audit/unusable-certificates.eml", &["<dave@example.com>", "<heidi@example.com>"], Action::Accept, &[])]
fn default_policy(
    #[case] path: &str,
    #[case] rcpt: &[&str],
    #[case] action: Action,
    #[case] cannot_read: &[&str],
) {
    let v = judge(path, rcpt, &GatewayPolicy::default());
    assert_eq!(v.action, action, "{v:#?}");
    let named: Vec<&str> = v
        .unreadable()
        .filter(|r| r.rule == Some(Rule::PartialEncryption))
        .map(|r| r.recipient.as_str())
        .collect();
    assert_eq!(named, cannot_read);
    match action {
        Action::Accept => {
            assert!(v.reply.is_none());
            assert_eq!(v.deliver().collect::<Vec<_>>(), rcpt);
        }
        _ => {
            let reply = v.reply.as_ref().expect("a reply");
            assert!(reply.code >= 500);
            assert_eq!(v.deliver().count(), 0);
            for who in cannot_read {
                assert!(reply.to_string().contains(who), "{reply}");
            }
        }
    }
}

#[test]
fn the_reply_all_rejection_names_who_cannot_decrypt_and_why() {
    let v = judge(
        "testdata/audit/ios71-reply-all.eml",
        &["<dan@example.net>", "<carol@example.org>"],
        &GatewayPolicy::default(),
    );
    let reply = v.reply.expect("reply");
    assert_eq!((reply.code, reply.enhanced.as_str()), (550, "5.7.1"));
    let text = reply.to_string();
    assert!(
        text.starts_with(
            "550-5.7.1 Message refused: it is encrypted, and 1 of 2 recipients cannot read it"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "dan@example.net: no RecipientInfo is theirs (no certificate for dan@example.net)"
        ),
        "{text}"
    );
    assert!(!text.contains("carol"), "carol can read it: {text}");
    assert_eq!(v.decided_by, [Rule::PartialEncryption]);
    assert_eq!(v.recipients[1].can_decrypt, Some(true));
    assert_eq!(v.recipients[1].field, RecipientField::Cc);
}

#[test]
fn a_bcc_recipient_is_judged_from_the_envelope_with_their_field() {
    let v = judge(
        "testdata/audit/all-can-decrypt.eml",
        &["<bob@example.com>", "<dan@example.net>"],
        &GatewayPolicy::default(),
    );
    let dan = &v.recipients[1];
    assert_eq!((dan.field, dan.can_decrypt), (RecipientField::Bcc, Some(false)));
    assert_eq!(v.action, Action::Reject);
}

#[test]
fn a_recipient_whose_certificate_is_known_but_not_used_is_told_so() {
    // bob has a usable certificate, but this copy is enveloped for carol and alice only.
    let v = judge(
        "testdata/audit/ios71-reply-all.eml",
        &["<bob@example.com>", "<carol@example.org>"],
        &GatewayPolicy::default(),
    );
    let bob = &v.recipients[0];
    assert!(bob
        .reason
        .as_deref()
        .unwrap()
        .starts_with("the message is not encrypted to their certificate (sha256 "));
}

#[rstest]
#[case::smartreply("testdata/smartreply/sr-empty-text.eml", 550, "5.7.1", "SmartReply")]
#[case::malformed("testdata/audit/truncated.eml", 554, "5.6.0", "cannot be parsed")]
fn rejections_of_the_message_itself(
    #[case] path: &str,
    #[case] code: u16,
    #[case] enhanced: &str,
    #[case] says: &str,
) {
    let v = judge(path, &["<bob@example.com>"], &GatewayPolicy::default());
    let reply = v.reply.expect("reply");
    assert_eq!((reply.code, reply.enhanced.as_str()), (code, enhanced));
    assert!(reply.to_string().contains(says), "{reply}");
    assert!(reply.to_string().contains("What to do: "), "{reply}");
}

#[test]
fn split_delivers_to_the_readable_recipients_only() {
    let v = judge(
        "testdata/audit/ios71-reply-all.eml",
        &["<dan@example.net>", "<carol@example.org>", "<alice@example.com>"],
        &policy(&["partial-encryption=split"]),
    );
    assert_eq!(v.action, Action::Split);
    assert!(v.reply.is_none());
    assert_eq!(v.deliver().collect::<Vec<_>>(), ["<carol@example.org>", "<alice@example.com>"]);
    assert_eq!(refused(&v), ["dan@example.net"]);
    assert!(
        v.header_value().contains("verdict=split; encryption=enveloped; recipients=2/3"),
        "{}",
        v.header_value()
    );
    assert!(!v.header_value().contains('@'), "the header names nobody");
}

#[test]
fn split_with_nobody_left_rejects() {
    let v = judge(
        "testdata/audit/ios71-reply-all.eml",
        &["<dan@example.net>"],
        &policy(&["partial-encryption=split"]),
    );
    assert_eq!(v.action, Action::Reject);
    assert_eq!(v.reply.expect("reply").code, 550);
}

#[test]
fn tempfail_and_unconfirmed_policies() {
    let v = judge(
        "testdata/audit/ios71-reply-all.eml",
        &["<dan@example.net>", "<carol@example.org>"],
        &policy(&["partial-encryption=tempfail"]),
    );
    assert_eq!(v.action, Action::Tempfail);
    let reply = v.reply.expect("reply");
    assert_eq!((reply.code, reply.enhanced.as_str()), (451, "4.7.1"));
    assert!(reply.to_string().contains("Message deferred"));

    let rcpt = ["<bob@example.com>", "<dan@example.net>"];
    let v = judge("testdata/audit/unknown-recipient.eml", &rcpt, &GatewayPolicy::default());
    assert_eq!(v.action, Action::Accept);
    assert_eq!(unreadable(&v), ["dan@example.net"]);
    assert!(v.header_value().contains("findings=unconfirmed-recipient"), "{}", v.header_value());
    let v = judge(
        "testdata/audit/unknown-recipient.eml",
        &rcpt,
        &policy(&["unconfirmed-recipient=reject"]),
    );
    assert_eq!(v.action, Action::Reject);
    assert!(v
        .reply
        .expect("reply")
        .to_string()
        .contains("dan@example.net: no RecipientInfo matches a certificate known for them"));
    let v = judge(
        "testdata/audit/unknown-recipient.eml",
        &rcpt,
        &policy(&["unconfirmed-recipient=split"]),
    );
    assert_eq!((v.action, refused(&v)), (Action::Split, vec!["dan@example.net"]));
}

#[test]
fn every_rule_can_be_made_to_reject() {
    // bcc-disclosed and sender-cannot-decrypt are accepted by default.
    let rcpt = ["<bob@example.com>", "<uma@example.com>"];
    assert_eq!(
        judge("testdata/audit/bcc-copy.eml", &rcpt, &GatewayPolicy::default()).action,
        Action::Accept
    );
    let v = judge("testdata/audit/bcc-copy.eml", &rcpt, &policy(&["bcc-disclosed=reject"]));
    assert_eq!(v.decided_by, [Rule::BccDisclosed]);
    assert!(v.reply.expect("reply").to_string().contains("Bcc recipient uma@example.com"));
    let v = judge(
        "testdata/audit/no-sender.eml",
        &["<bob@example.com>"],
        &policy(&["sender-cannot-decrypt=reject"]),
    );
    assert_eq!(v.decided_by, [Rule::SenderCannotDecrypt]);
    let v = judge(
        "testdata/audit/weak-3des.eml",
        &["<bob@example.com>"],
        &policy(&["weak-content-cipher=reject"]),
    );
    assert_eq!(v.decided_by, [Rule::WeakContentCipher]);
    assert_eq!(
        judge("testdata/audit/weak-3des.eml", &["<bob@example.com>"], &GatewayPolicy::default())
            .action,
        Action::Accept
    );
}

#[test]
fn a_certificate_not_proven_to_be_theirs_does_not_count() {
    // bob's only certificate was harvested from mail that did not prove it is his: a
    // RecipientInfo for it does not show that bob can read the message.
    let der = pem_der("testdata/certs/store/bob.pem");
    let mut harvested = CertStore::new();
    for name in ["alice", "carol"] {
        harvested.load_path(format!("testdata/certs/store/{name}.pem").as_ref()).unwrap();
    }
    let planted = Provenance::Harvested {
        message: "<planted@example.net>".into(),
        binding: HarvestBinding::Unverified("signed by mallory@example.net, not by bob".into()),
    };
    harvested.add(Certificate::from_der(&der, planted).unwrap());
    let envelope =
        Envelope::new("<alice@example.com>", ["<bob@example.com>", "<carol@example.org>"]);
    let raw = read("testdata/audit/all-can-decrypt.eml");
    let v = verdict(&raw, &envelope, &harvested, at(), &GatewayPolicy::default());
    assert_eq!(v.action, Action::Reject);
    assert_eq!(unreadable(&v), ["bob@example.com"]);
    assert!(v.recipients[0].reason.as_deref().unwrap().contains("harvested-unverified"));
}

fn pem_der(path: &str) -> Vec<u8> {
    let pem = std::fs::read_to_string(path).unwrap();
    let (_, der) = pem_rfc7468::decode_vec(pem.as_bytes()).unwrap();
    der
}

#[test]
fn an_envelope_path_that_names_no_address_cannot_decrypt() {
    let v = judge(
        "testdata/audit/all-can-decrypt.eml",
        &["<bob@example.com>", "<postmaster>"],
        &GatewayPolicy::default(),
    );
    assert_eq!(v.action, Action::Reject);
    assert_eq!(unreadable(&v), ["<postmaster>"]);
    // Plain mail to the same path is fine.
    let v =
        judge("testdata/messages/ios71-fresh.eml", &["<postmaster>"], &GatewayPolicy::default());
    assert_eq!(v.action, Action::Accept);
}

#[test]
fn not_mail_is_rejected_as_unreadable_and_an_empty_body_is_plain() {
    let envelope = Envelope::new("<a@example.com>", ["<bob@example.com>"]);
    let v = verdict(b"\x00\x01garbage", &envelope, store(), at(), &GatewayPolicy::default());
    assert_eq!((v.action, v.decided_by.clone()), (Action::Reject, vec![Rule::Unreadable]));
    assert_eq!(v.reply.unwrap().code, 554);
    let v = verdict(
        b"From: a@example.com\r\nTo: bob@example.com\r\n\r\n",
        &envelope,
        store(),
        at(),
        &GatewayPolicy::default(),
    );
    assert_eq!(v.action, Action::Accept);
    let v =
        verdict(b"From: a@example.com\r\n", &envelope, store(), at(), &GatewayPolicy::default());
    assert_eq!(v.action, Action::Accept);
}

#[test]
fn ten_thousand_recipients_get_a_reply_within_the_smtp_limits() {
    let rcpt: Vec<String> = (0..10_000).map(|i| format!("<user{i}@example.net>")).collect();
    let mut all = vec!["<carol@example.org>"];
    all.extend(rcpt.iter().map(String::as_str));
    let v = judge("testdata/audit/ios71-reply-all.eml", &all, &GatewayPolicy::default());
    assert_eq!(v.action, Action::Reject);
    assert_eq!(v.unreadable().count(), 10_000);
    let reply = v.reply.unwrap();
    assert!(reply.lines.len() <= MAX_LINES);
    assert!(reply.to_string().contains("... and 9975 more"));
    assert!(reply.to_string().split("\r\n").all(|l| l.len() <= 510));
}

#[test]
fn header_value_says_what_was_checked() {
    let v = judge(
        "testdata/audit/all-can-decrypt.eml",
        &["<bob@example.com>", "<carol@example.org>"],
        &GatewayPolicy::default(),
    );
    assert_eq!(
        v.header_value(),
        format!(
            "smime-lint {}; verdict=accept; encryption=enveloped; recipients=2/2",
            env!("CARGO_PKG_VERSION")
        )
    );
    let v = judge(
        "testdata/messages/ios71-fresh.eml",
        &["<dan@example.net>"],
        &GatewayPolicy::default(),
    );
    assert!(v.header_value().ends_with("verdict=accept; encryption=none"), "{}", v.header_value());
}

#[test]
fn on_error_accept_fails_open_only_when_asked() {
    let envelope = Envelope::new("<a@example.com>", ["<bob@example.com>"]);
    let v = smime_lint::gateway::error_verdict(&envelope, &GatewayPolicy::default(), "time-out");
    assert_eq!(v.action, Action::Tempfail);
    let reply = v.reply.unwrap();
    assert_eq!((reply.code, reply.enhanced.as_str()), (451, "4.7.0"));
    let mut open = GatewayPolicy::default();
    open.set_on_error(Action::Accept).unwrap();
    let v = smime_lint::gateway::error_verdict(&envelope, &open, "time-out");
    assert_eq!((v.action, v.deliver().count()), (Action::Accept, 1));
    assert!(
        v.header_value().ends_with("verdict=accept; encryption=unchecked; error=internal"),
        "an unchecked message does not claim to be plain: {}",
        v.header_value()
    );
}

proptest! {
    /// The verdict depends on the recipient set only: order, duplicates, letter case and angle
    /// brackets never change who is refused or what is done.
    #[test]
    fn the_verdict_depends_on_the_recipient_set_only(
        picks in proptest::collection::vec(0usize..5, 1..8),
        upper in proptest::collection::vec(any::<bool>(), 8),
        brackets in any::<bool>(),
    ) {
        const PEOPLE: [&str; 5] = ["dan@example.net", "carol@example.org", "alice@example.com", "bob@example.com", "uma@example.com"];
        let path = |i: usize, n: usize| {
            let a = if upper[n % upper.len()] { PEOPLE[i].to_uppercase() } else { PEOPLE[i].to_owned() };
            if brackets { format!("<{a}>") } else { a }
        };
        let given: Vec<String> = picks.iter().enumerate().map(|(n, &i)| path(i, n)).collect();
        let mut set: Vec<usize> = picks.clone();
        set.sort_unstable();
        set.dedup();
        let canonical: Vec<String> = set.iter().map(|&i| format!("<{}>", PEOPLE[i])).collect();
        let raw = read("testdata/audit/ios71-reply-all.eml");
        let policy = GatewayPolicy::default();
        let a = verdict(&raw, &Envelope::new("<alice@example.com>", given.iter().map(String::as_str)), store(), at(), &policy);
        let b = verdict(&raw, &Envelope::new("<alice@example.com>", canonical.iter().map(String::as_str)), store(), at(), &policy);
        prop_assert_eq!(a.action, b.action);
        let mut ua: Vec<&str> = unreadable(&a);
        let mut ub: Vec<&str> = unreadable(&b);
        ua.sort_unstable();
        ub.sort_unstable();
        prop_assert_eq!(ua, ub);
        prop_assert_eq!(a.recipients.len(), set.len());
    }
}
