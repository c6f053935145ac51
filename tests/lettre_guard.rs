//! The lettre guard (feature `lettre`): a refused message never reaches the inner transport, a
//! readable one reaches it unchanged, the inner transport's errors pass through.
#![cfg(feature = "lettre")]

use base64::Engine;
use lettre::address::Envelope;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::stub::{AsyncStubTransport, StubTransport};
use lettre::{AsyncTransport, Transport};
use smime_lint::audit::Rule;
use smime_lint::gateway::GatewayPolicy;
use smime_lint::lettre_guard::{GuardError, GuardedTransport};
use smime_lint::{CertStore, Time};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

const AT: Time = Time::from_unix(1_780_272_000); // 2026-06-01T00:00:00Z

fn store() -> CertStore {
    let mut s = CertStore::new();
    s.load_path("testdata/certs/store".as_ref()).expect("test store loads");
    s
}

fn guard<T>(inner: T) -> GuardedTransport<T> {
    GuardedTransport::new(inner, store()).with_clock(|| AT)
}

/// The CMS of the iOS 7.1 Reply All: enveloped for carol and alice only.
fn reply_all_cms() -> Vec<u8> {
    let raw = std::fs::read_to_string("testdata/audit/ios71-reply-all.eml").expect("fixture");
    let body = raw.split_once("\r\n\r\n").or_else(|| raw.split_once("\n\n")).expect("body").1;
    let text: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(text).expect("base64 body")
}

/// A client building an S/MIME message with lettre: the CMS as an application/pkcs7-mime body.
fn smime_message(to: &[&str], cc: &[&str], bcc: &[&str]) -> Message {
    let mut b = Message::builder()
        .from("Alice <alice@example.com>".parse::<Mailbox>().unwrap())
        .subject("Re: Quarterly numbers")
        .header(
            ContentType::parse(
                "application/pkcs7-mime; smime-type=enveloped-data; name=\"smime.p7m\"",
            )
            .unwrap(),
        );
    for a in to {
        b = b.to(a.parse().unwrap());
    }
    for a in cc {
        b = b.cc(a.parse().unwrap());
    }
    for a in bcc {
        b = b.bcc(a.parse().unwrap());
    }
    b.body(reply_all_cms()).expect("message builds")
}

fn envelope(to: &[&str]) -> Envelope {
    Envelope::new(
        Some("alice@example.com".parse().unwrap()),
        to.iter().map(|a| a.parse().unwrap()).collect(),
    )
    .unwrap()
}

fn refused_recipients<E: std::fmt::Debug>(result: Result<(), GuardError<E>>) -> Vec<String> {
    match result {
        Err(GuardError::Refused(r)) => {
            let text = r.to_string();
            let who: Vec<String> = r.unreadable().map(|x| x.recipient.clone()).collect();
            for w in &who {
                assert!(text.contains(w.as_str()), "the error names {w}: {text}");
            }
            who
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn a_reply_all_to_a_mixed_group_never_reaches_the_inner_transport() {
    let g = guard(StubTransport::new_ok());
    let m = smime_message(&["Dan <dan@example.net>"], &["Carol <carol@example.org>"], &[]);
    assert_eq!(refused_recipients(g.send(&m)), ["dan@example.net"]);
    let raw = std::fs::read("testdata/audit/ios71-reply-all.eml").unwrap();
    let e = envelope(&["dan@example.net", "carol@example.org"]);
    let err = g.send_raw(&e, &raw).unwrap_err();
    assert!(
        err.to_string().contains(
            "dan@example.net: no RecipientInfo is theirs (no certificate for dan@example.net)"
        ),
        "{err}"
    );
    assert!(g.inner().messages().is_empty(), "nothing was handed to the transport");
}

#[test]
fn a_bcc_recipient_is_judged_from_the_envelope() {
    // The formatted message carries no Bcc header: only lettre's envelope names dan.
    let g = guard(StubTransport::new_ok());
    let m = smime_message(&["carol@example.org"], &[], &["dan@example.net"]);
    assert!(!String::from_utf8_lossy(&m.formatted()).contains("dan@"));
    assert_eq!(refused_recipients(g.send(&m)), ["dan@example.net"]);
    assert!(g.inner().messages().is_empty());
}

#[test]
fn a_readable_message_reaches_the_inner_transport_unchanged() {
    let g = guard(StubTransport::new_ok());
    let m = smime_message(&["Carol <carol@example.org>"], &[], &[]);
    g.send(&m).expect("carol can read it");
    let raw = std::fs::read("testdata/audit/ios71-reply-all.eml").unwrap();
    g.send_raw(&envelope(&["carol@example.org"]), &raw).expect("carol can read it");
    let sent = g.inner().messages();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].0.to(), m.envelope().to());
    assert_eq!(sent[0].1.as_bytes(), m.formatted(), "the bytes judged are the bytes sent");
    assert_eq!(sent[1].1.as_bytes(), raw);
}

#[test]
fn plain_mail_passes_and_the_inner_transports_errors_pass_through() {
    let g = guard(StubTransport::new_error());
    let plain = Message::builder()
        .from("alice@example.com".parse::<Mailbox>().unwrap())
        .to("dan@example.net".parse::<Mailbox>().unwrap())
        .subject("lunch")
        .body("Noon?".to_owned())
        .unwrap();
    match g.send(&plain) {
        Err(GuardError::Transport(e)) => assert_eq!(e.to_string(), "stub error"),
        other => panic!("expected the stub's own error, got {other:?}"),
    }
}

#[test]
fn the_clock_is_read_at_each_send_and_the_store_can_be_replaced() {
    let reads = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&reads);
    let mut policy = GatewayPolicy::default();
    policy.set_from_str("unconfirmed-recipient=reject").unwrap();
    // An empty address book: carol's RecipientInfo matches no known certificate.
    let g = GuardedTransport::new(StubTransport::new_ok(), CertStore::new())
        .with_policy(policy)
        .with_clock(move || {
            counted.fetch_add(1, Ordering::SeqCst);
            AT
        });
    let m = smime_message(&["carol@example.org"], &[], &[]);
    match g.send(&m) {
        Err(GuardError::Refused(r)) => {
            assert_eq!(r.verdict().decided_by, [Rule::UnconfirmedRecipient]);
            assert!(!r.is_temporary());
        }
        other => panic!("{other:?}"),
    }
    g.replace_store(store());
    g.send(&m).expect("with carol's certificate known, she can read it");
    assert_eq!(reads.load(Ordering::SeqCst), 2);
    assert_eq!(g.inner().messages().len(), 1);
}

/// Polls a future to completion: the stub transports never wait.
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(out) = f.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

#[test]
fn the_async_transport_is_guarded_the_same_way() {
    let g = guard(AsyncStubTransport::new_ok());
    let refused = smime_message(&["dan@example.net"], &["carol@example.org"], &[]);
    assert_eq!(refused_recipients(block_on(g.send(refused))), ["dan@example.net"]);
    let raw = std::fs::read("testdata/audit/ios71-reply-all.eml").unwrap();
    let e = envelope(&["dan@example.net", "carol@example.org"]);
    assert!(matches!(block_on(g.send_raw(&e, &raw)), Err(GuardError::Refused(_))));
    block_on(g.send(smime_message(&["carol@example.org"], &[], &[]))).expect("readable");
    assert_eq!(block_on(g.inner().messages()).len(), 1);
}
