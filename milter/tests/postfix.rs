//! End to end through a real Postfix: a private instance on loopback (see `testkit`) with the
//! milter in `smtpd_milters` and `non_smtpd_milters`, `milter_default_action = tempfail`,
//! delivering into one Maildir per address. Messages are submitted over SMTP with lettre's
//! SMTP transport, or locally with the instance's `sendmail`.
//!
//! Each test is skipped, loudly, when Postfix is not installed or not usable (not root); with
//! `SMIME_LINT_REQUIRE_POSTFIX=1` (set by `.ci/run`, which installs Postfix) it fails instead.
//!
//! The daemon judges with the clock (as in production); the test certificates used here are
//! valid from 2020 to 2060.

mod common;

use common::{fixture, free_port, Daemon};
use lettre::address::Envelope;
use lettre::{SmtpTransport, Transport};
use smime_lint_testkit::{require, Postfix, PostfixOptions};
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);
/// How long "nothing arrives" is watched.
const QUIET: Duration = Duration::from_secs(3);

/// Postfix with the milter at `port`, the milter not started yet.
fn postfix(port: u16) -> Postfix {
    Postfix::start(&PostfixOptions {
        milter: Some(format!("inet:127.0.0.1:{port}")),
        ..PostfixOptions::default()
    })
    .expect("postfix starts")
}

/// CRLF line ends, as SMTP carries them (the fixtures are stored with LF).
fn crlf(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + raw.len() / 40);
    let mut prev = 0;
    for &b in raw {
        if b == b'\n' && prev != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        prev = b;
    }
    out
}

/// Submits the fixture at `path` over SMTP with lettre; `Err` carries the server's reply.
fn submit(postfix: &Postfix, from: &str, to: &[&str], path: &str) -> Result<(), String> {
    submit_bytes(postfix, from, to, &fixture(path))
}

/// The same with the message's bytes.
fn submit_bytes(postfix: &Postfix, from: &str, to: &[&str], raw: &[u8]) -> Result<(), String> {
    let transport = SmtpTransport::builder_dangerous("127.0.0.1")
        .port(postfix.smtp().port())
        .timeout(Some(Duration::from_secs(60)))
        .build();
    let envelope = Envelope::new(
        Some(from.parse().expect("sender")),
        to.iter().map(|a| a.parse().expect("recipient")).collect(),
    )
    .expect("envelope");
    transport
        .send_raw(&envelope, &crlf(raw))
        .map(|_| ())
        .map_err(|e| format!("{} {e}", e.status().map(|c| c.to_string()).unwrap_or_default()))
}

fn text(message: &[u8]) -> String {
    String::from_utf8_lossy(message).into_owned()
}

/// Enough of quoted-printable (RFC 2045 §6.7) for the notice's ASCII text.
fn quoted_printable(text: &str) -> String {
    text.replace("=\r\n", "").replace("=\n", "").replace("=20", " ").replace("=3D", "=")
}

fn header_line(message: &[u8]) -> Option<String> {
    text(message).lines().find(|l| l.starts_with("X-Smime-Lint:")).map(str::to_owned)
}

#[test]
fn readable_mail_is_delivered_to_everyone_with_the_header() {
    if !require("readable_mail_is_delivered_to_everyone_with_the_header") {
        return;
    }
    let port = free_port();
    let pf = postfix(port);
    let _milter = Daemon::start_on(port, &[]);
    // The sender tries to forge the gateway's header, twice: both copies are removed.
    let mut raw = b"X-Smime-Lint: verdict=accept; forged\nx-smime-lint: forged too\n".to_vec();
    raw.extend_from_slice(&fixture("testdata/audit/all-can-decrypt.eml"));
    submit_bytes(&pf, "alice@example.com", &["bob@example.com", "carol@example.org"], &raw)
        .expect("accepted");
    for who in ["bob@example.com", "carol@example.org"] {
        let got = pf.wait_for(who, 1, WAIT);
        assert_eq!(got.len(), 1, "{who}: {}", pf.log());
        assert!(!text(&got[0]).contains("forged"), "{}", text(&got[0]));
        assert_eq!(text(&got[0]).to_ascii_lowercase().matches("x-smime-lint:").count(), 1);
        let header = header_line(&got[0]).expect("the header");
        assert_eq!(
            header,
            format!(
                "X-Smime-Lint: smime-lint {}; verdict=accept; encryption=enveloped; recipients=2/2",
                env!("CARGO_PKG_VERSION")
            )
        );
        assert!(
            text(&got[0])
                .contains("MIIEdQYJKoZIhvcNAQcDoIIEZjCCBGICAQIxggO8MIIBYwIBADBLMEUxKDAmBgNV"),
            "the payload arrives intact"
        );
    }
    assert_eq!(pf.delivered_count(), 2);
}

#[test]
fn the_ios_reply_all_is_refused_at_end_of_data_naming_the_to_recipient() {
    if !require("the_ios_reply_all_is_refused_at_end_of_data_naming_the_to_recipient") {
        return;
    }
    let port = free_port();
    let pf = postfix(port);
    let milter = Daemon::start_on(port, &[]);
    let err = submit(
        &pf,
        "alice@example.com",
        &["dan@example.net", "carol@example.org"],
        "testdata/audit/ios71-reply-all.eml",
    )
    .expect_err("refused");
    assert!(err.starts_with("550 "), "{err}");
    assert!(
        err.contains(
            "5.7.1 Message refused: it is encrypted, and 1 of 2 recipients cannot read it"
        ),
        "{err}"
    );
    assert!(err.contains("dan@example.net: no RecipientInfo is theirs"), "{err}");
    std::thread::sleep(QUIET);
    assert_eq!(pf.delivered_count(), 0, "nothing delivered");
    assert_eq!(pf.queued(), 0, "nothing queued");
    assert_eq!(
        milter
            .lines_with(
                ": reject 550 5.7.1; from=<alice@example.com>; rcpt=2; cannot-read=dan@example.net"
            )
            .len(),
        1,
        "{:?}",
        milter.log()
    );
}

#[test]
fn an_unreadable_recipient_only_in_rcpt_to_is_refused() {
    if !require("an_unreadable_recipient_only_in_rcpt_to_is_refused") {
        return;
    }
    let port = free_port();
    let pf = postfix(port);
    let _milter = Daemon::start_on(port, &[]);
    // The header names bob and carol; dan is a Bcc recipient: only RCPT TO shows him.
    let err = submit(
        &pf,
        "alice@example.com",
        &["bob@example.com", "carol@example.org", "dan@example.net"],
        "testdata/audit/all-can-decrypt.eml",
    )
    .expect_err("refused");
    assert!(
        err.starts_with("550 ") && err.contains("5.7.1") && err.contains("dan@example.net"),
        "{err}"
    );
    assert!(!err.contains("bob@example.com:"), "{err}");
    std::thread::sleep(QUIET);
    assert_eq!(pf.delivered_count(), 0);
}

#[test]
fn a_smartreply_blank_reply_is_refused() {
    if !require("a_smartreply_blank_reply_is_refused") {
        return;
    }
    let port = free_port();
    let pf = postfix(port);
    let _milter = Daemon::start_on(port, &[]);
    let err = submit(
        &pf,
        "alice@example.com",
        &["bob@example.com"],
        "testdata/smartreply/sr-empty-text.eml",
    )
    .expect_err("refused");
    assert!(err.starts_with("550 ") && err.contains("5.7.1"), "{err}");
    std::thread::sleep(QUIET);
    assert_eq!(pf.delivered_count(), 0);
}

#[test]
fn split_delivers_to_the_readers_only_and_the_sender_gets_a_notice() {
    if !require("split_delivers_to_the_readers_only_and_the_sender_gets_a_notice") {
        return;
    }
    let port = free_port();
    let pf = postfix(port);
    let relay = pf.smtp().to_string();
    let milter = Daemon::start_on(port, &["--on-partial", "split", "--notify-smtp", &relay]);
    submit(
        &pf,
        "alice@example.com",
        &["dan@example.net", "carol@example.org"],
        "testdata/audit/ios71-reply-all.eml",
    )
    .expect("accepted for the readers");
    let carol = pf.wait_for("carol@example.org", 1, WAIT);
    assert_eq!(carol.len(), 1, "{}", pf.log());
    let header = header_line(&carol[0]).unwrap();
    assert!(header.contains("verdict=split; encryption=enveloped; recipients=1/2"), "{header}");
    // The notice comes back through the same Postfix (and the milter, which accepts it).
    let notice = pf.wait_for("alice@example.com", 1, WAIT);
    assert_eq!(notice.len(), 1, "{:?}\n{}", milter.log(), pf.log());
    let n = quoted_printable(&text(&notice[0]));
    assert!(n.contains("Subject: Not delivered to 1 recipient: Re: Quarterly numbers"), "{n}");
    assert!(n.contains("Auto-Submitted: auto-generated"), "{n}");
    assert!(n.contains("Return-Path: <>"), "a notice has the null sender: {n}");
    assert!(n.contains("dan@example.net: no RecipientInfo is theirs"), "{n}");
    assert!(n.contains("In-Reply-To: <ios71-reply@example.com>"), "{n}");
    assert!(n.contains("  Message-ID: <ios71-reply@example.com>"), "{n}");
    assert!(!n.contains("MII"), "never the body: {n}");
    std::thread::sleep(QUIET);
    assert!(pf.delivered("dan@example.net").is_empty(), "dan got nothing");
    assert_eq!(pf.delivered_count(), 2, "carol's copy and alice's notice");
    assert!(milter.wait_log("notice sent to alice@example.com", WAIT), "{:?}", milter.log());
}

#[test]
fn mail_held_while_the_milter_is_down_is_delivered_once_after_it_returns() {
    if !require("mail_held_while_the_milter_is_down_is_delivered_once_after_it_returns") {
        return;
    }
    let port = free_port();
    let pf = postfix(port);
    let mut milter = Daemon::start_on(port, &[]);
    milter.kill();
    // Submitted locally: Postfix's pickup hands it to cleanup, whose milter is down.
    let mut sendmail = pf.sendmail();
    sendmail.extend(
        ["-i", "-f", "alice@example.com", "bob@example.com", "carol@example.org"].map(String::from),
    );
    let mut child = Command::new(&sendmail[0])
        .args(&sendmail[1..])
        .stdin(Stdio::piped())
        .spawn()
        .expect("sendmail");
    child.stdin.take().unwrap().write_all(&fixture("testdata/audit/all-can-decrypt.eml")).unwrap();
    assert!(child.wait().unwrap().success());
    std::thread::sleep(QUIET);
    assert_eq!(pf.delivered_count(), 0, "deferred, not delivered: {}", pf.log());
    assert!(pf.queued() >= 1, "Postfix holds it: {}", pf.log());
    assert!(
        pf.log().contains("451 4.7.1 Service unavailable - try again later")
            || pf.log().contains("milter"),
        "{}",
        pf.log()
    );

    let _milter = Daemon::start_on(port, &[]);
    pf.flush().unwrap();
    for who in ["bob@example.com", "carol@example.org"] {
        let got = pf.wait_for(who, 1, Duration::from_secs(120));
        assert_eq!(got.len(), 1, "{who}: {}", pf.log());
        assert!(
            header_line(&got[0]).is_some_and(|h| h.contains("verdict=accept")),
            "checked on the way"
        );
    }
    std::thread::sleep(QUIET);
    assert_eq!(pf.delivered_count(), 2, "exactly once each");
    assert_eq!(pf.queued(), 0);
}
