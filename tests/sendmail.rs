//! `smime-lint sendmail`, the real binary: what reaches the downstream sendmail (byte for
//! byte, with the same arguments), what is refused and with which `sysexits.h` code, and that
//! a refused message is kept. The end-to-end tests deliver through Postfix's own `sendmail`
//! into the Maildirs of a private instance (testkit).

use smime_lint_testkit::{require, Postfix, PostfixOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

const AT: &str = "2026-06-01T00:00:00Z";
const EX_USAGE: i32 = 64;
const EX_DATAERR: i32 = 65;
const EX_UNAVAILABLE: i32 = 69;
const EX_TEMPFAIL: i32 = 75;
const EX_NOPERM: i32 = 77;
const EX_CONFIG: i32 = 78;

fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Runs `smime-lint sendmail ARGS` with `stdin` on standard input.
fn sendmail(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_smime-lint"))
        .arg("sendmail")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary runs");
    let mut input = child.stdin.take().expect("stdin");
    let data = stdin.to_vec();
    // The guard may refuse before reading everything: a closed pipe is then expected.
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().expect("binary ends");
    writer.join().expect("writer thread");
    out
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A stand-in for the real sendmail that records its arguments and standard input and exits
/// with `$FAKE_SENDMAIL_EXIT` (0 by default).
struct FakeSendmail {
    dir: tempfile::TempDir,
}

impl FakeSendmail {
    fn new() -> FakeSendmail {
        let dir = tempfile::tempdir().expect("tempdir");
        let script = dir.path().join("sendmail");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\nprintf '%s\\n' \"$@\" > '{d}/args'\ncat > '{d}/stdin'\nexit ${{FAKE_SENDMAIL_EXIT:-0}}\n",
                d = dir.path().display()
            ),
        )
        .expect("write script");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        FakeSendmail { dir }
    }

    fn path(&self) -> String {
        self.dir.path().join("sendmail").display().to_string()
    }

    fn ran(&self) -> bool {
        self.dir.path().join("args").exists()
    }

    fn args(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("args"))
            .expect("the fake sendmail ran")
            .lines()
            .map(str::to_owned)
            .collect()
    }

    fn stdin(&self) -> Vec<u8> {
        std::fs::read(self.dir.path().join("stdin")).expect("the fake sendmail ran")
    }
}

fn kept(dir: &Path) -> Vec<Vec<u8>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.sort();
    for f in &files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with("refused-") && name.ends_with(".eml"), "{name}");
    }
    files.iter().map(|f| std::fs::read(f).expect("kept file")).collect()
}

fn guard_args<'a>(keep: &'a str, real: &'a str, sendmail_args: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["--certs", "testdata/certs/store", "--at", AT, "--keep", keep, "--", real];
    args.extend_from_slice(sendmail_args);
    args
}

#[test]
fn a_readable_message_reaches_the_real_sendmail_byte_for_byte_with_the_same_arguments() {
    let fake = FakeSendmail::new();
    let keep = tempfile::tempdir().unwrap();
    let keep_dir = keep.path().display().to_string();
    let real = fake.path();
    let message = fixture("testdata/audit/all-can-decrypt.eml");
    let sendmail_args =
        ["-oem", "-oi", "-f", "alice@example.com", "--", "bob@example.com", "carol@example.org"];
    let o = sendmail(&guard_args(&keep_dir, &real, &sendmail_args), &message);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(fake.args(), sendmail_args);
    assert!(fake.stdin() == message, "the real sendmail got other bytes");
    assert!(stderr(&o).is_empty(), "nothing to say: {}", stderr(&o));
    assert!(kept(keep.path()).is_empty());
}

#[test]
fn the_ios71_reply_all_is_refused_kept_and_never_passed_on() {
    let fake = FakeSendmail::new();
    let keep = tempfile::tempdir().unwrap();
    let keep_dir = keep.path().join("refused").display().to_string();
    let real = fake.path();
    let message = fixture("testdata/audit/ios71-reply-all.eml");
    let o = sendmail(&guard_args(&keep_dir, &real, &["-t", "-i"]), &message);
    assert_eq!(o.status.code(), Some(EX_NOPERM), "{}", stderr(&o));
    assert!(!fake.ran(), "nothing reaches the real sendmail");
    let text = stderr(&o);
    assert_eq!(text.trim_end().lines().count(), 1, "one paragraph: {text}");
    assert!(
        text.starts_with(
            "smime-lint: message not sent: it is encrypted, and 1 of 2 recipients cannot read it"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "dan@example.net: no RecipientInfo is theirs (no certificate for dan@example.net)"
        ),
        "{text}"
    );
    assert!(!text.contains("carol@example.org:"), "carol can read it: {text}");
    assert!(text.contains("a copy was saved as "), "{text}");
    assert_eq!(kept(Path::new(&keep_dir)), [message]);
}

#[test]
fn a_bcc_recipient_given_only_as_an_argument_is_judged() {
    // To bob, Cc carol (both can decrypt); dan only on the command line, as a client sends Bcc.
    let fake = FakeSendmail::new();
    let keep = tempfile::tempdir().unwrap();
    let keep_dir = keep.path().display().to_string();
    let real = fake.path();
    let message = fixture("testdata/audit/all-can-decrypt.eml");
    let o = sendmail(
        &guard_args(
            &keep_dir,
            &real,
            &["-i", "bob@example.com", "carol@example.org, Dan <dan@example.net>"],
        ),
        &message,
    );
    assert_eq!(o.status.code(), Some(EX_NOPERM), "{}", stderr(&o));
    assert!(stderr(&o).contains("dan@example.net"));
    assert!(!fake.ran());
}

#[test]
fn the_blank_smartreply_shape_is_refused() {
    let fake = FakeSendmail::new();
    let keep = tempfile::tempdir().unwrap();
    let keep_dir = keep.path().display().to_string();
    let real = fake.path();
    let o = sendmail(
        &guard_args(&keep_dir, &real, &["-t"]),
        &fixture("testdata/smartreply/sr-empty-text.eml"),
    );
    assert_eq!(o.status.code(), Some(EX_NOPERM), "{}", stderr(&o));
    assert!(stderr(&o).contains("attachment"), "{}", stderr(&o));
    assert!(!fake.ran());
    assert_eq!(kept(keep.path()).len(), 1);
}

#[test]
fn plain_mail_passes_through() {
    let fake = FakeSendmail::new();
    let real = fake.path();
    let message = fixture("testdata/messages/ios71-fresh.eml");
    let o = sendmail(
        &["--certs", "testdata/certs/store", "--at", AT, "--", &real, "-t", "-i"],
        &message,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(fake.stdin() == message);
    assert_eq!(fake.args(), ["-t", "-i"]);
}

#[test]
fn verbose_says_what_was_decided() {
    let fake = FakeSendmail::new();
    let real = fake.path();
    let o = sendmail(
        &["--certs", "testdata/certs/store", "--at", AT, "--", &real, "-v", "-t"],
        &fixture("testdata/audit/all-can-decrypt.eml"),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("verdict=accept; encryption=enveloped; recipients=2/2"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_configuration_file_keeps_the_client_command_line_short() {
    // What a muttrc line `set sendmail="smime-lint sendmail --config FILE"` gives: mutt appends
    // its own options, `--` and the recipients.
    let fake = FakeSendmail::new();
    let dir = tempfile::tempdir().unwrap();
    let store = std::fs::canonicalize("testdata/certs/store").unwrap();
    std::fs::write(
        dir.path().join("guard.toml"),
        format!(
            "sendmail = \"{}\"\ncerts = [\"{}\"]\nkeep = \"refused\"\n",
            fake.path(),
            store.display()
        ),
    )
    .unwrap();
    let config = dir.path().join("guard.toml").display().to_string();
    let message = fixture("testdata/audit/ios71-reply-all.eml");
    let refused = sendmail(
        &[
            "--config",
            &config,
            "--at",
            AT,
            "-oem",
            "-oi",
            "--",
            "dan@example.net",
            "carol@example.org",
        ],
        &message,
    );
    assert_eq!(refused.status.code(), Some(EX_NOPERM), "{}", stderr(&refused));
    assert_eq!(
        kept(&dir.path().join("refused")),
        std::slice::from_ref(&message),
        "kept relative to the file"
    );
    assert!(!fake.ran());
    let sent = sendmail(
        &["--config", &config, "--at", AT, "-oem", "-oi", "--", "carol@example.org"],
        &message,
    );
    assert_eq!(sent.status.code(), Some(0), "{}", stderr(&sent));
    assert_eq!(fake.args(), ["-oem", "-oi", "--", "carol@example.org"]);
    // The same with no option at all before `--` (mutt's default `sendmail` setting).
    let sent = sendmail(&["--config", &config, "--at", AT, "--", "carol@example.org"], &message);
    assert_eq!(sent.status.code(), Some(0), "{}", stderr(&sent));
    assert_eq!(fake.args(), ["carol@example.org"]);
    // sendmail's -h (hop count) is refused, not taken for a request for help (exit 0).
    let hop = sendmail(&["--config", &config, "-h", "3", "carol@example.org"], &message);
    assert_eq!(hop.status.code(), Some(EX_USAGE), "{}", stderr(&hop));
    assert!(stderr(&hop).contains("\"-h\""), "{}", stderr(&hop));
    // Naming the real sendmail again after `--` is caught, not taken for a recipient.
    let twice = sendmail(
        &["--config", &config, "--at", AT, "--", "/usr/sbin/sendmail", "--", "carol@example.org"],
        &message,
    );
    assert_eq!(twice.status.code(), Some(EX_USAGE), "{}", stderr(&twice));
    assert!(stderr(&twice).contains("looks like a command"), "{}", stderr(&twice));
}

#[test]
fn a_policy_tempfail_asks_the_client_to_try_again_later() {
    let fake = FakeSendmail::new();
    let real = fake.path();
    let o = sendmail(
        &[
            "--certs",
            "testdata/certs/store",
            "--at",
            AT,
            "--policy",
            "partial-encryption=tempfail",
            "--",
            &real,
            "-t",
        ],
        &fixture("testdata/audit/ios71-reply-all.eml"),
    );
    assert_eq!(o.status.code(), Some(EX_TEMPFAIL), "{}", stderr(&o));
    assert!(stderr(&o).contains("Try again later"), "{}", stderr(&o));
    assert!(!fake.ran());
}

/// Bad input: each gets a clear error, a non-zero sysexits code, and nothing reaches the real
/// sendmail.
#[rstest::rstest]
#[case::empty_input(&["-t"], b"".to_vec(), EX_DATAERR, "is empty")]
#[case::not_mail_with_t(&["-t"], b"\x00\x01\x02 binary garbage\n".to_vec(), EX_DATAERR, "not a mail message")]
#[case::not_mail_without_t(&["bob@example.com"], b"\x00\x01\x02 binary garbage\n".to_vec(), EX_DATAERR, "not a mail message")]
#[case::unknown_flag(&["-t", "-X", "/tmp/log"], fixture("testdata/audit/all-can-decrypt.eml"), EX_USAGE, "unknown sendmail option \"-X\"")]
#[case::smtp_mode(&["-bs"], fixture("testdata/audit/all-can-decrypt.eml"), EX_USAGE, "-bs is not a message to deliver")]
#[case::no_recipients(&["-i"], fixture("testdata/audit/all-can-decrypt.eml"), EX_USAGE, "no recipients")]
#[case::no_header_recipients(&["-t"], b"From: alice@example.com\nSubject: x\n\nhi\n".to_vec(), EX_DATAERR, "names no recipients")]
fn bad_input_is_refused_clearly(
    #[case] sendmail_args: &[&str],
    #[case] input: Vec<u8>,
    #[case] code: i32,
    #[case] says: &str,
) {
    let fake = FakeSendmail::new();
    let real = fake.path();
    let mut args = vec!["--certs", "testdata/certs/store", "--at", AT, "--", &real];
    args.extend_from_slice(sendmail_args);
    let o = sendmail(&args, &input);
    assert_eq!(o.status.code(), Some(code), "{}", stderr(&o));
    assert!(stderr(&o).contains(says), "{}", stderr(&o));
    assert!(stderr(&o).starts_with("smime-lint: "), "{}", stderr(&o));
    assert!(!fake.ran(), "nothing is passed on half-checked");
}

#[test]
fn a_100_mb_message_is_refused_and_kept_whole() {
    let fake = FakeSendmail::new();
    let keep = tempfile::tempdir().unwrap();
    let keep_dir = keep.path().display().to_string();
    let real = fake.path();
    let mut message = b"From: alice@example.com\nTo: bob@example.com\nSubject: big\n\n".to_vec();
    message.resize(100 * 1024 * 1024, b'x');
    let o = sendmail(&guard_args(&keep_dir, &real, &["-t"]), &message);
    assert_eq!(o.status.code(), Some(EX_DATAERR), "{}", stderr(&o));
    assert!(stderr(&o).contains("larger than 64 MiB"), "{}", stderr(&o));
    assert!(!fake.ran());
    let kept = kept(keep.path());
    assert_eq!(kept.len(), 1);
    assert!(kept[0] == message, "the kept copy is the whole message");
}

#[test]
fn a_failing_real_sendmail_passes_its_status_on_and_the_message_is_kept() {
    let fake = FakeSendmail::new();
    let keep = tempfile::tempdir().unwrap();
    let keep_dir = keep.path().display().to_string();
    let real = fake.path();
    let message = fixture("testdata/audit/all-can-decrypt.eml");
    let mut child = Command::new(env!("CARGO_BIN_EXE_smime-lint"));
    child
        .arg("sendmail")
        .args(guard_args(&keep_dir, &real, &["-t"]))
        .env("FAKE_SENDMAIL_EXIT", "75");
    let o = {
        let mut c = child
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        c.stdin.take().unwrap().write_all(&message).unwrap();
        c.wait_with_output().unwrap()
    };
    assert_eq!(o.status.code(), Some(75), "{}", stderr(&o));
    assert!(stderr(&o).contains("failed with exit status 75"), "{}", stderr(&o));
    assert!(fake.stdin() == message);
    assert_eq!(kept(keep.path()), [message]);
}

#[test]
fn a_missing_real_sendmail_or_store_is_an_error_and_the_message_is_kept() {
    let keep = tempfile::tempdir().unwrap();
    let keep_dir = keep.path().display().to_string();
    let message = fixture("testdata/audit/all-can-decrypt.eml");
    let o = sendmail(&guard_args(&keep_dir, "/nonexistent/sendmail", &["-t"]), &message);
    assert_eq!(o.status.code(), Some(EX_UNAVAILABLE), "{}", stderr(&o));
    assert!(stderr(&o).contains("/nonexistent/sendmail cannot be run"), "{}", stderr(&o));

    let fake = FakeSendmail::new();
    let real = fake.path();
    let o = sendmail(
        &["--certs", "/nonexistent/certs", "--keep", &keep_dir, "--", &real, "-t"],
        &message,
    );
    assert_eq!(o.status.code(), Some(EX_CONFIG), "{}", stderr(&o));
    assert!(stderr(&o).contains("certificate store cannot be loaded"), "{}", stderr(&o));
    assert!(!fake.ran());
    assert_eq!(kept(keep.path()), [message.clone(), message]);
}

#[test]
fn a_broken_configuration_is_refused_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("guard.toml");
    std::fs::write(&config, "kepp = \"/tmp\"\n").unwrap();
    let config = config.display().to_string();
    let o =
        sendmail(&["--config", &config, "--", "/bin/true", "-t"], b"From: a@example.com\n\nx\n");
    assert_eq!(o.status.code(), Some(EX_CONFIG), "{}", stderr(&o));
    assert!(stderr(&o).contains("kepp"), "{}", stderr(&o));
    let o = sendmail(&["--certs"], b"");
    assert_eq!(o.status.code(), Some(EX_USAGE), "clap's own errors are EX_USAGE too");
}

// End to end: Postfix's real sendmail downstream, delivering into a private instance's
// Maildirs.

fn postfix(test: &str) -> Option<Postfix> {
    if !require(test) {
        return None;
    }
    Some(Postfix::start(&PostfixOptions::default()).expect("postfix starts"))
}

/// The guard in front of the instance's sendmail (`/usr/sbin/sendmail -C CONF`).
fn through_postfix(
    postfix: &Postfix,
    keep: &str,
    sendmail_args: &[&str],
    message: &[u8],
) -> Output {
    let real = postfix.sendmail();
    let mut args = vec!["--certs", "testdata/certs/store", "--at", AT, "--keep", keep, "--"];
    args.extend(real.iter().map(String::as_str));
    args.extend_from_slice(sendmail_args);
    sendmail(&args, message)
}

/// Postfix stores lines with LF endings: the fixtures (CRLF) are sent as LF so that the
/// delivered copy can be compared byte for byte.
fn lf(raw: &[u8]) -> Vec<u8> {
    String::from_utf8_lossy(raw).replace("\r\n", "\n").into_bytes()
}

#[test]
fn postfix_delivers_a_readable_encrypted_message_byte_for_byte() {
    let Some(postfix) = postfix("postfix_delivers_a_readable_encrypted_message_byte_for_byte")
    else {
        return;
    };
    let keep = tempfile::tempdir().unwrap();
    let message = lf(&fixture("testdata/audit/all-can-decrypt.eml"));
    let o = through_postfix(
        &postfix,
        &keep.path().display().to_string(),
        &["-t", "-i", "-f", "alice@example.com"],
        &message,
    );
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stderr(&o), postfix.log());
    for who in ["bob@example.com", "carol@example.org"] {
        let got = postfix.wait_for(who, 1, Duration::from_secs(30));
        assert_eq!(got.len(), 1, "{who}: {}", postfix.log());
        // Postfix prepends Return-Path, Delivered-To and Received; the rest is ours, unchanged.
        assert!(
            got[0].ends_with(&message),
            "{who} got other bytes:\n{}",
            String::from_utf8_lossy(&got[0])
        );
    }
    assert_eq!(postfix.delivered_count(), 2);
    assert!(kept(keep.path()).is_empty());
}

#[test]
fn postfix_never_sees_the_refused_reply_all_and_the_message_is_kept() {
    let Some(postfix) = postfix("postfix_never_sees_the_refused_reply_all_and_the_message_is_kept")
    else {
        return;
    };
    let keep = tempfile::tempdir().unwrap();
    let message = lf(&fixture("testdata/audit/ios71-reply-all.eml"));
    let o = through_postfix(
        &postfix,
        &keep.path().display().to_string(),
        &["-oem", "-oi", "-t"],
        &message,
    );
    assert_eq!(o.status.code(), Some(EX_NOPERM), "{}", stderr(&o));
    assert!(stderr(&o).contains("dan@example.net"), "{}", stderr(&o));
    assert_eq!(kept(keep.path()), [message]);
    // A message Postfix had accepted would be queued or delivered within this time.
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!((postfix.delivered_count(), postfix.queued()), (0, 0), "{}", postfix.log());
}

#[test]
fn postfix_delivers_plain_mail_through_the_guard() {
    let Some(postfix) = postfix("postfix_delivers_plain_mail_through_the_guard") else {
        return;
    };
    let keep = tempfile::tempdir().unwrap();
    let message = lf(&fixture("testdata/messages/ios71-fresh.eml"));
    let o = through_postfix(
        &postfix,
        &keep.path().display().to_string(),
        &["-i", "-f", "alice@example.com", "--", "dan@example.net"],
        &message,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let got = postfix.wait_for("dan@example.net", 1, Duration::from_secs(30));
    assert_eq!(got.len(), 1, "{}", postfix.log());
    assert!(got[0].ends_with(&message));
}
