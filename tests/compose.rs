//! The compose decision: a table of cases, the iOS 7.1 Reply All regression, and the invariant
//! that only the recipient set matters.

use proptest::prelude::*;
use rstest::rstest;
use smime_lint::compose::{decide, ComposeOptions, Decision, Intent, OnPartial, Status};
use smime_lint::message::{OutgoingMessage, Recipient, RecipientField};
use smime_lint::reply::{derive_reply, ReplyKind};
use smime_lint::{Address, CertStore, Time};
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

fn addr(a: &str) -> Address {
    Address::parse(a).unwrap()
}

fn rcpt(spec: &str) -> Recipient {
    let (field, a) = spec.split_once(':').unwrap();
    let field = match field {
        "to" => RecipientField::To,
        "cc" => RecipientField::Cc,
        "bcc" => RecipientField::Bcc,
        other => panic!("bad field {other}"),
    };
    Recipient { address: addr(a), field }
}

fn opts(intent: Intent, on_partial: OnPartial) -> ComposeOptions {
    ComposeOptions { intent, on_partial, ..ComposeOptions::default() }
}

#[rstest]
#[case::all_have_certificates(&["to:bob@example.com", "cc:carol@example.org"], Intent::Auto, OnPartial::Refuse, Status::Encrypted, Decision::Encrypt)]
#[case::auto_with_one_lacking(&["to:bob@example.com", "to:dan@example.net"], Intent::Auto, OnPartial::Refuse, Status::NotEncrypted, Decision::Plaintext)]
#[case::on_refuses(&["to:bob@example.com", "to:dan@example.net"], Intent::On, OnPartial::Refuse, Status::Refused, Decision::Refuse)]
#[case::on_downgrades(&["to:bob@example.com", "to:dan@example.net"], Intent::On, OnPartial::Downgrade, Status::NotEncrypted, Decision::Downgrade)]
#[case::off_never_encrypts(&["to:bob@example.com"], Intent::Off, OnPartial::Refuse, Status::NotEncrypted, Decision::Plaintext)]
#[case::expired_blocks(&["to:dave@example.com"], Intent::On, OnPartial::Refuse, Status::Refused, Decision::Refuse)]
#[case::weak_key_blocks(&["to:heidi@example.com"], Intent::Auto, OnPartial::Refuse, Status::NotEncrypted, Decision::Plaintext)]
#[case::warnings_do_not_block(&["to:judy@example.com", "to:trent@example.com", "to:oscar@example.com"], Intent::Auto, OnPartial::Refuse, Status::Encrypted, Decision::Encrypt)]
#[case::upper_case_certificate(&["to:uma@example.com"], Intent::On, OnPartial::Refuse, Status::Encrypted, Decision::Encrypt)]
#[case::several_certificates_one_usable(&["to:peggy@example.com"], Intent::On, OnPartial::Refuse, Status::Encrypted, Decision::Encrypt)]
#[case::bcc_counts_like_to(&["to:bob@example.com", "bcc:dan@example.net"], Intent::On, OnPartial::Refuse, Status::Refused, Decision::Refuse)]
fn decision_table(
    #[case] recipients: &[&str],
    #[case] intent: Intent,
    #[case] on_partial: OnPartial,
    #[case] status: Status,
    #[case] decision: Decision,
) {
    let rs: Vec<_> = recipients.iter().map(|r| rcpt(r)).collect();
    let d = decide(store(), Some(&addr("alice@example.com")), &rs, at(), &opts(intent, on_partial));
    assert_eq!((d.status, d.decision), (status, decision));
}

#[test]
fn refusal_names_every_recipient_lacking_a_certificate_and_why() {
    let rs = [rcpt("to:bob@example.com"), rcpt("to:dan@example.net"), rcpt("cc:dave@example.com")];
    let d = decide(store(), None, &rs, at(), &opts(Intent::On, OnPartial::Refuse));
    assert_eq!(d.status, Status::Refused);
    let lacking: Vec<(String, Vec<&str>)> = d
        .lacking()
        .map(|r| (r.address().to_string(), r.status.reasons().iter().map(|x| x.code()).collect()))
        .collect();
    assert_eq!(
        lacking,
        [
            ("dan@example.net".to_owned(), vec!["no-certificate"]),
            ("dave@example.com".to_owned(), vec!["expired"]),
        ]
    );
}

#[test]
fn sender_without_certificate_is_a_warning_not_a_block() {
    let rs = [rcpt("to:bob@example.com")];
    let d = decide(store(), Some(&addr("dan@example.net")), &rs, at(), &ComposeOptions::default());
    assert_eq!(d.status, Status::Encrypted);
    let codes: Vec<_> = d.warnings.iter().map(|w| w.code).collect();
    assert_eq!(codes, ["sender-cannot-decrypt"]);
    let d =
        decide(store(), Some(&addr("alice@example.com")), &rs, at(), &ComposeOptions::default());
    assert!(d.warnings.is_empty());
    assert!(d.sender.as_ref().is_some_and(|s| s.is_encryptable()));
}

#[test]
fn bcc_recipients_of_an_encrypted_message_are_warned_about() {
    let rs = [rcpt("to:bob@example.com"), rcpt("bcc:carol@example.org")];
    let d =
        decide(store(), Some(&addr("alice@example.com")), &rs, at(), &ComposeOptions::default());
    assert_eq!(d.status, Status::Encrypted);
    assert_eq!(
        d.warnings.iter().map(|w| (w.code, w.address.as_str())).collect::<Vec<_>>(),
        [("bcc-disclosed", "carol@example.org")]
    );
}

/// The iOS 7.1 regression: Reply All to a message whose To recipient has no certificate and
/// whose Cc recipient has one. iOS showed "Encrypted" and sent it; it must never be Encrypted.
#[test]
fn ios_7_1_reply_all_to_mixed_group_is_never_encrypted() {
    let original = b"From: Dan Nocert <dan@example.net>\r\n\
To: Alice Sender <alice@example.com>\r\n\
Cc: Carol EC <carol@example.org>\r\n\
Subject: Quarterly numbers\r\n\
Message-ID: <orig-1@example.net>\r\n\
Date: Mon, 1 Jun 2026 09:00:00 +0000\r\n\
\r\n\
Numbers attached.\r\n";
    let original = OutgoingMessage::parse(original).unwrap();
    let me = [addr("alice@example.com")];
    let reply_all = derive_reply(&original, &me, ReplyKind::ReplyAll).recipients();
    let fresh = [rcpt("to:dan@example.net"), rcpt("cc:carol@example.org")];
    let sender = Some(addr("alice@example.com"));

    for (intent, on_partial) in [
        (Intent::Auto, OnPartial::Refuse),
        (Intent::On, OnPartial::Refuse),
        (Intent::On, OnPartial::Downgrade),
    ] {
        let o = opts(intent, on_partial);
        let a = decide(store(), sender.as_ref(), &reply_all, at(), &o);
        let b = decide(store(), sender.as_ref(), &fresh, at(), &o);
        assert_ne!(a.status, Status::Encrypted, "{intent:?}/{on_partial:?}");
        assert_eq!(
            (a.status, a.decision),
            (b.status, b.decision),
            "Reply All differs from a new message"
        );
    }
    let auto =
        decide(store(), sender.as_ref(), &reply_all, at(), &opts(Intent::Auto, OnPartial::Refuse));
    assert_eq!(auto.status, Status::NotEncrypted);
    let refused =
        decide(store(), sender.as_ref(), &reply_all, at(), &opts(Intent::On, OnPartial::Refuse));
    assert_eq!(refused.status, Status::Refused);
    let named: Vec<_> = refused.lacking().map(|r| r.address().as_str()).collect();
    assert_eq!(named, ["dan@example.net"]);
}

const POOL: [&str; 8] = [
    "bob@example.com",
    "carol@example.org",
    "uma@example.com",
    "peggy@example.com",
    "dan@example.net",
    "dave@example.com",
    "heidi@example.com",
    "victor.alias@example.net",
];

fn spell(a: &str, upper: bool, named: bool) -> String {
    let a = if upper { a.to_uppercase() } else { a.to_owned() };
    if named {
        format!("\"Some One\" <{a}>")
    } else {
        a
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Order, duplicates, letter case, display names and the header a recipient sits in never
    /// change the status or decision.
    #[test]
    fn only_the_recipient_set_matters(
        picks in proptest::collection::vec((0..POOL.len(), 0..3u8, any::<bool>(), any::<bool>()), 1..10),
        seed in any::<u64>(),
        intent in prop_oneof![Just(Intent::Auto), Just(Intent::On), Just(Intent::Off)],
        on_partial in prop_oneof![Just(OnPartial::Refuse), Just(OnPartial::Downgrade)],
    ) {
        let fields = [RecipientField::To, RecipientField::Cc, RecipientField::Bcc];
        let canonical: Vec<Recipient> = picks.iter().map(|(i, _, _, _)| Recipient { address: addr(POOL[*i]), field: RecipientField::To }).collect();
        let mut varied: Vec<Recipient> = picks
            .iter()
            .map(|(i, f, upper, named)| Recipient { address: addr(&spell(POOL[*i], *upper, *named)), field: fields[*f as usize] })
            .collect();
        // Duplicate and shuffle deterministically from the seed.
        varied.extend(varied.clone().into_iter().take((seed % 3) as usize));
        let n = varied.len();
        for k in 0..n {
            let j = (seed.wrapping_mul(6364136223846793005).wrapping_add(k as u64) % n as u64) as usize;
            varied.swap(k, j);
        }
        let o = opts(intent, on_partial);
        let a = decide(store(), None, &canonical, at(), &o);
        let b = decide(store(), None, &varied, at(), &o);
        prop_assert_eq!((a.status, a.decision), (b.status, b.decision));
        let set = |d: &smime_lint::compose::ComposeDecision<'_>| {
            let mut v: Vec<(String, bool)> = d.recipients.iter().map(|r| (r.address().to_string(), r.status.is_encryptable())).collect();
            v.sort();
            v
        };
        prop_assert_eq!(set(&a), set(&b));
        let everyone = canonical.iter().all(|r| store().evaluate(&r.address, at(), &Default::default()).is_encryptable());
        prop_assert_eq!(a.status == Status::Encrypted, everyone && intent != Intent::Off);
    }
}
