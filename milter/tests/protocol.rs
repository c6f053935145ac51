//! The real daemon over a real socket, driven by the milter-protocol client as Postfix would
//! drive it: the verdicts and what they look like to the MTA, then bad input of every kind,
//! after each of which the daemon must still serve a good session.

mod common;

use common::{fixture, Daemon};
use smime_lint_milter::client::{Change, Client, Reply, CHUNK};
use std::time::{Duration, Instant};

const ALICE: &str = "<alice@example.com>";

fn open(d: &Daemon) -> Client {
    Client::open(d.addr).expect("negotiation")
}

/// A message every recipient can read is accepted with the header: the daemon still serves.
fn assert_serves(d: &Daemon) {
    let mut c = open(d);
    let out = c
        .message(
            ALICE,
            &["<bob@example.com>", "<carol@example.org>"],
            &fixture("testdata/audit/all-can-decrypt.eml"),
        )
        .expect("a good session");
    assert_eq!(out.reply, Reply::Continue, "{out:?}");
    let header = out.added_header("X-Smime-Lint").expect("the header");
    assert!(header.contains("verdict=accept; encryption=enveloped; recipients=2/2"), "{header}");
}

#[test]
fn readable_mail_is_accepted_with_the_header_and_forged_copies_removed() {
    let d = Daemon::start(&[]);
    assert_serves(&d);
    let mut forged = b"X-Smime-Lint: verdict=accept; forged\r\nx-smime-lint: another\r\n".to_vec();
    forged.extend_from_slice(&fixture("testdata/audit/all-can-decrypt.eml"));
    let mut c = open(&d);
    let out = c.message(ALICE, &["<bob@example.com>", "<carol@example.org>"], &forged).unwrap();
    assert_eq!(out.reply, Reply::Continue);
    // Both removed, last first (so the first index still means the first copy), then ours.
    assert_eq!(
        out.changes[..2],
        [
            Change::ChangeHeader(2, "X-Smime-Lint".into(), String::new()),
            Change::ChangeHeader(1, "X-Smime-Lint".into(), String::new())
        ]
    );
    assert!(
        matches!(&out.changes[2], Change::AddHeader(n, v) if n == "X-Smime-Lint" && v.contains("verdict=accept"))
    );
    // One log line per message, naming it, never its body.
    assert!(
        d.wait_log("message-id=<all-ok@example.com>: accept", Duration::from_secs(5)),
        "{:?}",
        d.log()
    );
    assert!(d.log().iter().all(|l| !l.contains("MIIE")), "no body in the log");
}

#[test]
fn the_ios_reply_all_is_rejected_naming_the_recipient_who_cannot_read_it() {
    let d = Daemon::start(&[]);
    let mut c = open(&d);
    c.eom_macros = vec![("i".into(), "4QUEUE1".into())];
    let out = c
        .message(
            ALICE,
            &["<dan@example.net>", "<carol@example.org>"],
            &fixture("testdata/audit/ios71-reply-all.eml"),
        )
        .unwrap();
    let Reply::Code(text) = &out.reply else { panic!("{out:?}") };
    assert!(
        text.starts_with(
            "550-5.7.1 Message refused: it is encrypted, and 1 of 2 recipients cannot read it"
        ),
        "{text}"
    );
    assert!(text.contains("550-5.7.1 dan@example.net: no RecipientInfo is theirs"), "{text}");
    assert!(!text.contains("carol"), "{text}");
    assert!(out.changes.is_empty(), "nothing edited on a rejection: {out:?}");
    assert!(d.wait_log("4QUEUE1: reject 550 5.7.1; from=<alice@example.com>; rcpt=2; cannot-read=dan@example.net (partial-encryption)", Duration::from_secs(5)), "{:?}", d.log());
}

#[test]
fn split_removes_the_recipients_who_cannot_read_it() {
    let d = Daemon::start(&["--on-partial", "split"]);
    let mut c = open(&d);
    let out = c
        .message(
            ALICE,
            &["<dan@example.net>", "<carol@example.org>", "<alice@example.com>"],
            &fixture("testdata/audit/ios71-reply-all.eml"),
        )
        .unwrap();
    assert_eq!(out.reply, Reply::Continue);
    // The path exactly as given in RCPT TO.
    assert_eq!(out.deleted_recipients(), ["<dan@example.net>"]);
    let h = out.added_header("X-Smime-Lint").unwrap();
    assert!(h.contains("verdict=split; encryption=enveloped; recipients=2/3"), "{h}");
    assert!(!h.contains('@'), "the header names nobody: {h}");
    assert!(
        d.wait_log(
            "split; from=<alice@example.com>; rcpt=3; refused=dan@example.net (partial-encryption)",
            Duration::from_secs(5)
        ),
        "{:?}",
        d.log()
    );
}

/// A relay that is down: the notice fails, is logged, and the split stands.
#[test]
fn a_notice_that_cannot_be_sent_changes_nothing() {
    let dead = format!("127.0.0.1:{}", common::free_port());
    let d = Daemon::start(&["--on-partial", "split", "--notify-smtp", &dead, "--notify-on-reject"]);
    let mut c = open(&d);
    c.eom_macros = vec![("i".into(), "4NOTICE".into())];
    let out = c
        .message(
            ALICE,
            &["<dan@example.net>", "<carol@example.org>"],
            &fixture("testdata/audit/ios71-reply-all.eml"),
        )
        .unwrap();
    assert_eq!(out.reply, Reply::Continue);
    assert_eq!(out.deleted_recipients(), ["<dan@example.net>"]);
    assert!(
        d.wait_log(
            "4NOTICE: the notice to alice@example.com could not be sent",
            Duration::from_secs(20)
        ),
        "{:?}",
        d.log()
    );
    // A rejection (the blank SmartReply) with --notify-on-reject: the same.
    let out = open(&d)
        .message(ALICE, &["<bob@example.com>"], &fixture("testdata/smartreply/sr-empty-text.eml"))
        .unwrap();
    assert!(out.reply.is_reject(), "{out:?}");
    assert!(
        d.wait_log("-: the notice to alice@example.com could not be sent", Duration::from_secs(20)),
        "{:?}",
        d.log()
    );
    assert_serves(&d);
}

#[test]
fn policies_per_rule_and_the_reply_for_each() {
    // A blank SmartReply: refused by default, deferred or accepted when asked.
    let blank = fixture("testdata/smartreply/sr-empty-text.eml");
    let bob = ["<bob@example.com>"];
    let d = Daemon::start(&[]);
    let out = open(&d).message(ALICE, &bob, &blank).unwrap();
    assert!(
        matches!(&out.reply, Reply::Code(t) if t.starts_with("550") && t.contains("5.7.1")),
        "{out:?}"
    );
    // S/MIME garbage (a truncated envelope): 554 5.6.0.
    let garbage = fixture("testdata/audit/truncated.eml");
    let out = open(&d).message(ALICE, &bob, &garbage).unwrap();
    assert!(
        matches!(&out.reply, Reply::Code(t) if t.starts_with("554-5.6.0 Message refused: the S/MIME part")),
        "{out:?}"
    );
    drop(d);

    let d = Daemon::start(&["--on-blank", "tempfail", "--on-malformed", "accept"]);
    let out = open(&d).message(ALICE, &bob, &blank).unwrap();
    assert!(
        matches!(&out.reply, Reply::Code(t) if t.starts_with("451") && t.contains("4.7.1")),
        "{out:?}"
    );
    let out = open(&d).message(ALICE, &bob, &garbage).unwrap();
    assert_eq!(out.reply, Reply::Continue);
    assert!(out.added_header("X-Smime-Lint").unwrap().contains("findings=malformed-smime"));
    drop(d);

    let d = Daemon::start(&["--action", "weak-content-cipher=reject"]);
    let out = open(&d)
        .message(ALICE, &["<bob@example.com>"], &fixture("testdata/audit/weak-3des.eml"))
        .unwrap();
    assert!(out.reply.is_reject(), "{out:?}");
}

#[test]
fn a_percent_sign_in_the_reply_is_doubled_for_the_mta() {
    let d = Daemon::start(&[]);
    let out = open(&d)
        .message(
            ALICE,
            &["<100%dan@example.net>", "<carol@example.org>"],
            &fixture("testdata/audit/ios71-reply-all.eml"),
        )
        .unwrap();
    let Reply::Code(text) = &out.reply else { panic!("{out:?}") };
    assert!(text.contains("100%%dan@example.net"), "{text}");
}

#[test]
fn plain_mail_and_a_message_without_body_are_accepted() {
    let d = Daemon::start(&[]);
    let out = open(&d)
        .message(ALICE, &["<dan@example.net>"], &fixture("testdata/messages/ios71-fresh.eml"))
        .unwrap();
    assert_eq!(out.reply, Reply::Continue);
    assert!(out.added_header("X-Smime-Lint").unwrap().ends_with("verdict=accept; encryption=none"));
    // Header only: no body chunk at all before end of message.
    let out = open(&d)
        .message(ALICE, &["<dan@example.net>"], b"From: alice@example.com\r\nSubject: empty\r\n")
        .unwrap();
    assert_eq!(out.reply, Reply::Continue);
    // No header either: not mail (an MTA always sends some header), refused per
    // --on-malformed.
    let empty = |d: &Daemon| {
        let mut c = open(d);
        c.mail(ALICE).unwrap();
        c.rcpt("<dan@example.net>").unwrap();
        c.eom().unwrap().reply
    };
    assert!(
        matches!(empty(&d), Reply::Code(t) if t.starts_with("554-5.6.0 Message refused: not a mail message"))
    );
    let d = Daemon::start(&["--on-malformed", "accept"]);
    assert_eq!(empty(&d), Reply::Continue);
}

/// A check that outlasts --verdict-timeout: 10,000 recipients take far longer than 1 ms.
#[test]
fn a_verdict_that_takes_too_long_is_deferred_or_accepted_unchecked_as_configured() {
    let msg = fixture("testdata/audit/all-can-decrypt.eml");
    let many: Vec<String> = (0..10_000).map(|i| format!("<user{i}@example.net>")).collect();
    let rcpt: Vec<&str> = many.iter().map(String::as_str).collect();
    let d = Daemon::start(&["--verdict-timeout", "0.001"]);
    let out = open(&d).message(ALICE, &rcpt, &msg).unwrap();
    assert_eq!(
        out.reply,
        Reply::Code(
            "451 4.7.0 Temporary failure: the S/MIME check could not run; please try again later"
                .into()
        )
    );
    assert!(d.wait_log("tempfail 451 4.7.0; from=<alice@example.com>; rcpt=10000; unchecked: the check took longer than 1ms", Duration::from_secs(5)), "{:?}", d.log());
    drop(d);
    let d = Daemon::start(&["--verdict-timeout", "0.001", "--on-error", "accept"]);
    let out = open(&d).message(ALICE, &rcpt, &msg).unwrap();
    assert_eq!(out.reply, Reply::Continue);
    let h = out.added_header("X-Smime-Lint").unwrap();
    assert!(h.ends_with("verdict=accept; encryption=unchecked; error=internal"), "{h}");
    assert_serves(&d);
}

/// A small message is judged in its session, not on a blocking thread: the limit holds there
/// too (1 µs is shorter than any verdict).
#[test]
fn a_small_message_judged_in_its_session_is_deferred_after_the_time_limit_too() {
    let msg = fixture("testdata/audit/all-can-decrypt.eml");
    let d = Daemon::start(&["--verdict-timeout", "0.000001"]);
    let out = open(&d).message(ALICE, &["<bob@example.com>", "<carol@example.org>"], &msg).unwrap();
    assert_eq!(
        out.reply,
        Reply::Code(
            "451 4.7.0 Temporary failure: the S/MIME check could not run; please try again later"
                .into()
        )
    );
}

#[test]
fn ten_thousand_recipients_get_one_bounded_reply() {
    let d = Daemon::start(&[]);
    let many: Vec<String> = (0..10_000).map(|i| format!("<user{i}@example.net>")).collect();
    let mut rcpt = vec!["<carol@example.org>"];
    rcpt.extend(many.iter().map(String::as_str));
    let started = Instant::now();
    let out =
        open(&d).message(ALICE, &rcpt, &fixture("testdata/audit/ios71-reply-all.eml")).unwrap();
    let took = started.elapsed();
    let Reply::Code(text) = &out.reply else { panic!("{out:?}") };
    assert!(text.starts_with("550-5.7.1"), "{text}");
    assert!(text.contains("... and 9975 more"), "{text}");
    assert!(text.split("\r\n").all(|l| l.len() <= 510));
    assert!(took < Duration::from_secs(20), "took {took:?}");
    let line = d.lines_with(": reject 550 5.7.1;").pop().expect("a log line");
    assert!(line.contains("rcpt=10001") && line.contains(" and 9990 more"), "{line}");
    assert!(line.len() < 2000, "the log line is bounded: {} bytes", line.len());
    assert_serves(&d);
}

/// Bad packets of every kind: each connection is dropped cleanly (the MTA then applies its
/// `milter_default_action`), no panic, and the next session is served.
#[test]
fn malformed_packets_and_unknown_commands_do_not_stop_the_daemon() {
    let d = Daemon::start(&[]);
    let pid = d.pid();
    type Send = Box<dyn Fn(&mut Client)>;
    let cases: Vec<(&str, Send)> = vec![
        ("zero length", Box::new(|c| c.send_bytes(&[0, 0, 0, 0]))),
        (
            "length beyond the 1 MB limit",
            Box::new(|c| c.send_bytes(&[0x7f, 0xff, 0xff, 0xff, b'B'])),
        ),
        ("a length and then nothing", Box::new(|c| c.send_bytes(&[0, 0, 0, 9, b'M']))),
        ("unknown command before negotiation", Box::new(|c| c.send_raw(b'Z', b"junk"))),
        (
            "unknown command after negotiation",
            Box::new(|c| {
                let _ = c.negotiate(0x1ff, 0x1f_ffff);
                c.send_raw(b'Z', &[0xff; 100]);
            }),
        ),
        ("negotiation with a short payload", Box::new(|c| c.send_raw(b'O', &[0, 0, 0, 6]))),
        (
            "negotiation for protocol version 1",
            Box::new(|c| c.send_raw(b'O', &[0, 0, 0, 1, 0, 0, 1, 0xff, 0, 0x1f, 0xff, 0xff])),
        ),
        (
            "MAIL without the terminating NUL",
            Box::new(|c| {
                let _ = c.negotiate(0x1ff, 0x1f_ffff);
                c.send_raw(b'M', b"<alice@example.com>");
                c.send_raw(b'E', b"");
            }),
        ),
        (
            "a header without value",
            Box::new(|c| {
                let _ = c.negotiate(0x1ff, 0x1f_ffff);
                let _ = c.mail(ALICE);
                c.send_raw(b'L', b"Subject");
                c.send_raw(b'E', b"");
            }),
        ),
        (
            "end of message before MAIL FROM",
            Box::new(|c| {
                let _ = c.negotiate(0x1ff, 0x1f_ffff);
                c.send_raw(b'E', b"");
            }),
        ),
        (
            "random bytes",
            Box::new(|c| {
                let noise: Vec<u8> =
                    (0..5000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 7) as u8).collect();
                c.send_bytes(&noise);
            }),
        ),
    ];
    for (what, send) in &cases {
        let mut c = Client::tcp(d.addr, Duration::from_secs(5)).unwrap();
        send(&mut c);
        let _ = c.flush();
        // Whatever comes back (nothing, or a tempfail), the session ends or answers soon.
        let answer = c.read_packet();
        eprintln!("{what}: {answer:?}");
        drop(c);
        assert_serves(&d);
        assert_eq!(d.pid(), pid, "{what}: same process");
    }
    assert!(d.log().iter().all(|l| !l.contains("panicked")), "{:?}", d.log());
}

#[test]
fn a_client_that_disconnects_mid_message_leaves_the_others_served() {
    let d = Daemon::start(&[]);
    let msg = fixture("testdata/audit/all-can-decrypt.eml");
    // Several clients vanish at different points, one keeps a message half-sent.
    for cut in [10usize, 300, 900, msg.len() - 5] {
        let mut c = open(&d);
        c.mail(ALICE).unwrap();
        c.rcpt("<bob@example.com>").unwrap();
        let (fields, body) = smime_lint_milter::client::split_message(&msg[..cut]);
        for (n, v) in &fields {
            c.header(n, v).unwrap();
        }
        if !body.is_empty() {
            c.body(&body).unwrap();
        }
        c.flush().unwrap();
        drop(c);
    }
    let mut idle = open(&d);
    idle.mail(ALICE).unwrap();
    idle.flush().unwrap();
    assert_serves(&d);
    drop(idle);
    assert_serves(&d);
}

#[test]
fn sessions_run_side_by_side() {
    let d = Daemon::start(&["--on-partial", "split"]);
    let good = fixture("testdata/audit/all-can-decrypt.eml");
    let reply_all = fixture("testdata/audit/ios71-reply-all.eml");
    std::thread::scope(|s| {
        let mut handles = Vec::new();
        for i in 0..16 {
            let (good, reply_all, d) = (&good, &reply_all, &d);
            handles.push(s.spawn(move || {
                let mut c = open(d);
                for _ in 0..5 {
                    if i % 2 == 0 {
                        let out = c
                            .message(ALICE, &["<bob@example.com>", "<carol@example.org>"], good)
                            .unwrap();
                        assert_eq!(out.reply, Reply::Continue);
                        assert!(out.deleted_recipients().is_empty());
                    } else {
                        let out = c
                            .message(
                                ALICE,
                                &["<dan@example.net>", "<carol@example.org>"],
                                reply_all,
                            )
                            .unwrap();
                        assert_eq!(out.deleted_recipients(), ["<dan@example.net>"]);
                    }
                }
            }));
        }
        for h in handles {
            h.join().unwrap();
        }
    });
    assert_eq!(d.lines_with(": split; ").len(), 40);
    assert_eq!(d.lines_with(": accept; ").len(), 40);
}

/// A message far beyond --max-size, streamed in the MTA's 64 KB chunks: never buffered beyond
/// the limit. With the default (tempfail) the refusal comes as soon as the limit is crossed;
/// with `--on-oversize accept` a client that ignores SKIP and sends all 300 MB still finds the
/// daemon's memory flat, and the message accepted unchecked.
#[test]
fn a_300_mb_message_keeps_memory_bounded() {
    const TOTAL: usize = 300 * 1024 * 1024;
    let head = b"From: alice@example.com\r\nTo: bob@example.com\r\nSubject: big\r\n".to_vec();
    let chunk = vec![b'x'; CHUNK];

    let d = Daemon::start(&["--max-size", "8000000"]);
    let mut c = open(&d);
    c.mail(ALICE).unwrap();
    c.rcpt("<bob@example.com>").unwrap();
    for (n, v) in smime_lint_milter::client::split_message(&head).0 {
        c.header(&n, &v).unwrap();
    }
    let mut sent = 0;
    let reply = loop {
        let r = c.body(&chunk).unwrap().expect("a reply per chunk");
        sent += chunk.len();
        if r != Reply::Continue {
            break r;
        }
        assert!(sent < TOTAL, "never refused");
    };
    assert!(
        matches!(&reply, Reply::Code(t) if t.starts_with("451 4.3.4 Message too large")),
        "{reply:?}"
    );
    assert!(sent <= 8_000_000 + CHUNK, "refused once over the limit, after {sent} bytes");
    assert!(d.wait_log("tempfail; from=<alice@example.com>; rcpt=1; unchecked: larger than --max-size (8000000 bytes)", Duration::from_secs(5)), "{:?}", d.log());
    drop(c);
    assert_serves(&d);
    drop(d);

    let d = Daemon::start(&["--max-size", "8000000", "--on-oversize", "accept"]);
    let before = d.memory_kb("VmRSS");
    let mut c = open(&d);
    c.mail(ALICE).unwrap();
    c.rcpt("<bob@example.com>").unwrap();
    for (n, v) in smime_lint_milter::client::split_message(&head).0 {
        c.header(&n, &v).unwrap();
    }
    let mut skips = 0;
    for _ in 0..TOTAL / CHUNK {
        match c.body(&chunk).unwrap().expect("a reply per chunk") {
            Reply::Skip => skips += 1,
            Reply::Continue => {}
            other => panic!("{other:?}"),
        }
    }
    let out = c.eom().unwrap();
    assert_eq!(out.reply, Reply::Continue);
    assert!(skips > 4000, "the daemon asked to skip the rest ({skips} times)");
    let h = out.added_header("X-Smime-Lint").unwrap();
    assert!(h.ends_with("verdict=accept; encryption=unchecked; error=internal"), "{h}");
    let peak = d.memory_kb("VmHWM");
    eprintln!("RSS before {before} kB, peak {peak} kB");
    assert!(peak < 60 * 1024, "peak RSS {peak} kB for a 300 MB message");
    assert_serves(&d);
}

#[test]
fn sighup_reloads_the_store_and_a_bad_reload_keeps_the_old_one() {
    let dir = tempfile::tempdir().unwrap();
    let certs = dir.path().join("certs");
    std::fs::create_dir(&certs).unwrap();
    for name in ["alice", "carol"] {
        std::fs::copy(
            common::certs().join(format!("{name}.pem")),
            certs.join(format!("{name}.pem")),
        )
        .unwrap();
    }
    let certs_arg = certs.display().to_string();
    // bob's certificate is unknown at first: his RecipientInfo matches nothing known.
    let d = Daemon::start(&["--certs", &certs_arg, "--action", "unconfirmed-recipient=reject"]);
    let msg = fixture("testdata/audit/all-can-decrypt.eml");
    let rcpt = ["<bob@example.com>", "<carol@example.org>"];
    let out = open(&d).message(ALICE, &rcpt, &msg).unwrap();
    assert!(out.reply.is_reject(), "{out:?}");

    // A session in progress while the store changes.
    let mut pending = open(&d);
    pending.mail(ALICE).unwrap();
    pending.rcpt(rcpt[0]).unwrap();
    pending.flush().unwrap();

    std::fs::copy(common::certs().join("bob.pem"), certs.join("bob.pem")).unwrap();
    d.signal("HUP");
    assert!(
        d.wait_log("certificates reloaded: 3 (before: 2)", Duration::from_secs(10)),
        "{:?}",
        d.log()
    );
    let out = open(&d).message(ALICE, &rcpt, &msg).unwrap();
    assert_eq!(out.reply, Reply::Continue, "{out:?}");
    pending.rcpt(rcpt[1]).unwrap();
    let (fields, body) = smime_lint_milter::client::split_message(&msg);
    for (n, v) in &fields {
        pending.header(n, v).unwrap();
    }
    pending.body(&body).unwrap();
    assert_eq!(pending.eom().unwrap().reply, Reply::Continue, "the session survived the reload");

    // The folder is gone: the reload fails and the old store stays.
    std::fs::remove_dir_all(&certs).unwrap();
    d.signal("HUP");
    assert!(
        d.wait_log(
            "reload failed, keeping the 3 certificates loaded before",
            Duration::from_secs(10)
        ),
        "{:?}",
        d.log()
    );
    let out = open(&d).message(ALICE, &rcpt, &msg).unwrap();
    assert_eq!(out.reply, Reply::Continue);
    // An emptied folder is refused the same way.
    std::fs::create_dir(&certs).unwrap();
    d.signal("HUP");
    assert!(
        d.wait_log(
            "keeping the 3 certificates loaded before: no certificate found",
            Duration::from_secs(10)
        ),
        "{:?}",
        d.log()
    );
    assert_serves(&d);
}

#[test]
fn sigterm_stops_after_the_command_in_progress() {
    let mut d = Daemon::start(&[]);
    let mut c = open(&d);
    c.mail(ALICE).unwrap();
    c.flush().unwrap();
    d.signal("TERM");
    let status = d.wait_exit(Duration::from_secs(10)).expect("the daemon stops");
    assert!(status.success(), "{status:?}");
    let log = d.log();
    assert!(
        log.iter().any(|l| l.contains("stopping: finishing the messages in progress")),
        "{log:?}"
    );
    assert!(log.last().is_some_and(|l| l.ends_with("stopped")), "{log:?}");
    assert!(!d.accepts(), "no longer listening");
    // The half-sent message is not judged: the connection is closed, the MTA keeps it.
    assert!(c.rcpt("<bob@example.com>").and_then(|_| c.eom()).is_err());
}

#[test]
fn a_unix_socket_is_created_with_its_mode_and_removed_at_exit() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("milter.sock");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_smime-lint-milter"))
        .arg("--listen")
        .arg(format!("unix:{}", sock.display()))
        .arg("--certs")
        .arg(common::certs())
        .arg("--socket-mode")
        .arg("666")
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !sock.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(std::fs::metadata(&sock).unwrap().permissions().mode() & 0o777, 0o666);
    let mut c = Client::unix(&sock, Duration::from_secs(10)).unwrap();
    c.negotiate(0x1ff, 0x1f_ffff).unwrap();
    let out = c
        .message(
            ALICE,
            &["<bob@example.com>", "<carol@example.org>"],
            &fixture("testdata/audit/all-can-decrypt.eml"),
        )
        .unwrap();
    assert_eq!(out.reply, Reply::Continue);
    let _ = std::process::Command::new("kill").arg(child.id().to_string()).status();
    assert!(child.wait().unwrap().success());
    assert!(!sock.exists(), "the socket is removed");
}

#[test]
fn start_up_errors_are_clear_and_exit_2() {
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_smime-lint-milter"))
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&["--listen", "inet:127.0.0.1:1", "--certs", "/no/such/folder"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("cannot load the certificates: /no/such/folder"));
    let certs = common::certs();
    let certs = certs.to_str().unwrap();
    let out = run(&[
        "--listen",
        "inet:127.0.0.1:1",
        "--certs",
        certs,
        "--action",
        "smartreply-blank-body=split",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("split is not possible for smartreply-blank-body"));
    let busy = Daemon::start(&[]);
    let out = run(&["--listen", &format!("inet:{}", busy.addr), "--certs", certs]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot listen on"));
    let out = run(&["--listen", "tcp:1"]);
    assert_eq!(out.status.code(), Some(2));
}
