//! The harness itself: a private instance starts, delivers per address, and stops.

use smime_lint_testkit::{require, smtp_send, Postfix, PostfixOptions};
use std::time::Duration;

#[test]
fn a_private_instance_delivers_into_one_maildir_per_address_and_stops() {
    if !require("a_private_instance_delivers_into_one_maildir_per_address_and_stops") {
        return;
    }
    let postfix = Postfix::start(&PostfixOptions::default()).expect("postfix starts");
    let smtp = postfix.smtp();
    let msg = b"From: alice@example.com\nTo: bob@example.com\nSubject: hi\n\n.leading dot\nbody\n";
    let reply =
        smtp_send(smtp, "alice@example.com", &["bob@example.com", "carol@example.org"], msg)
            .unwrap();
    assert!(reply.starts_with("250"), "{reply}");
    let bob = postfix.wait_for("bob@example.com", 1, Duration::from_secs(20));
    let carol = postfix.wait_for("carol@example.org", 1, Duration::from_secs(20));
    assert_eq!((bob.len(), carol.len()), (1, 1), "{}", postfix.log());
    let text = String::from_utf8_lossy(&bob[0]);
    assert!(text.contains("\n.leading dot\n"), "dot-stuffing undone: {text}");
    assert_eq!(postfix.delivered_count(), 2);
    let conf = postfix.conf_dir();
    drop(postfix);
    assert!(!conf.exists(), "the instance's folder is removed");
    assert!(std::net::TcpStream::connect(smtp).is_err(), "the instance stopped listening");
}
