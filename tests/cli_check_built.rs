//! `smime-lint check` on a built (already encrypted) message: judged as it *is*, with the
//! pre-send verdict, not recomputed as the draft it *would be*. The real binary.

use serde_json::Value;
use std::io::Write;
use std::process::{Command, Output, Stdio};

const AT: &str = "2026-06-01T00:00:00Z";

fn check(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_smime-lint"))
        .args(["check", "--certs", "testdata/certs/store", "--at", AT])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary runs");
    let mut input = child.stdin.take().expect("stdin");
    if let Some(data) = stdin {
        input.write_all(data).expect("write stdin");
    }
    drop(input);
    child.wait_with_output().expect("binary ends")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(o)))
}

#[test]
fn the_ios71_reply_all_as_built_is_refused_naming_dan() {
    // Before: "Not Encrypted" and exit 0, as if it were a draft.
    let o = check(&["testdata/audit/ios71-reply-all.eml"], None);
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));
    let text = stdout(&o);
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some(
            "Refused (as built): the message is encrypted, and 1 of 2 recipients cannot decrypt it"
        )
    );
    assert_eq!(
        lines.next(),
        Some("  to   dan@example.net                  CANNOT decrypt: no RecipientInfo is theirs (no certificate for dan@example.net)")
    );
    assert_eq!(lines.next(), Some("         no-certificate: no certificate for dan@example.net"));
    assert!(lines.next().unwrap().starts_with("         hint: ask dan@example.net"));
    assert_eq!(lines.next(), Some("  cc   carol@example.org                can decrypt"));
}

#[test]
fn the_json_says_which_question_was_answered() {
    let o = check(&["--format", "json", "testdata/audit/ios71-reply-all.eml"], None);
    assert_eq!(o.status.code(), Some(1));
    let v = json(&o);
    assert_eq!(v["question"], "is");
    assert_eq!((v["status"].as_str(), v["decision"].as_str()), (Some("refused"), Some("refuse")));
    assert_eq!(
        (v["verdict"].as_str(), v["encryption"].as_str()),
        (Some("reject"), Some("enveloped"))
    );
    let dan = &v["recipients"][0];
    assert_eq!(dan["address"], "dan@example.net");
    assert_eq!(dan["field"], "to");
    assert_eq!(dan["can_decrypt"], false);
    assert_eq!(dan["encryptable"], false);
    assert_eq!(dan["rule"], "partial-encryption");
    assert_eq!(dan["reasons"][0]["code"], "no-certificate");
    let carol = &v["recipients"][1];
    assert_eq!((carol["can_decrypt"].as_bool(), carol["rule"].is_null()), (Some(true), true));
    assert_eq!(carol["certificate"]["source"], "testdata/certs/store/carol.pem");
    assert_eq!(v["sender"]["address"], "alice@example.com");
    assert_eq!(v["decided_by"], serde_json::json!(["partial-encryption"]));
    assert_eq!(v["findings"][0]["rule"], "partial-encryption");
    assert_eq!(v["findings"][0]["address"], "dan@example.net");
    assert!(v["reply"].as_str().unwrap().starts_with("550-5.7.1 "));

    // A draft answers the other question, with the same object otherwise unchanged.
    let o = check(&["--format", "json", "testdata/check/ios71-reply-all-draft.eml"], None);
    let v = json(&o);
    assert_eq!(v["question"], "would-be");
    assert_eq!(v["status"], "not-encrypted");
    assert!(v.get("verdict").is_none());
}

#[test]
fn standard_input_is_read_with_a_dash() {
    let raw = std::fs::read("testdata/audit/ios71-reply-all.eml").unwrap();
    let o = check(&["--format", "json", "-"], Some(&raw));
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(json(&o)["recipients"][0]["address"], "dan@example.net");
    let draft = std::fs::read("testdata/check/ios71-reply-all-draft.eml").unwrap();
    let o = check(&["-"], Some(&draft));
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).starts_with("Not Encrypted: 1 of 2 recipients cannot decrypt\n"));
    let o = check(&["-"], Some(b""));
    assert_eq!(o.status.code(), Some(2), "empty input is an error");
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a mail message"));
}

#[test]
fn every_recipient_can_decrypt_and_envelope_only_recipients_count() {
    let o = check(&["testdata/audit/all-can-decrypt.eml"], None);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).starts_with("Encrypted (as built): every recipient can decrypt it\n"));
    // dan receives it too (Bcc, or any recipient only the envelope names).
    let o = check(
        &["--rcpt", "dan@example.net", "--format", "json", "testdata/audit/all-can-decrypt.eml"],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
    let v = json(&o);
    let dan = v["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["address"] == "dan@example.net")
        .unwrap();
    assert_eq!((dan["field"].as_str(), dan["can_decrypt"].as_bool()), (Some("bcc"), Some(false)));
}

#[test]
fn the_smartreply_blank_body_is_flagged() {
    let o = check(&["--rcpt", "bob@example.com", "testdata/smartreply/sr-empty-text.eml"], None);
    assert_eq!(o.status.code(), Some(1));
    let text = stdout(&o);
    assert!(text.starts_with("Refused (as built): "), "{text}");
    assert!(text.contains("error [smartreply-blank-body]: "), "{text}");
}

#[test]
fn an_smime_part_that_cannot_be_parsed_is_refused() {
    let o = check(&["--format", "json", "testdata/audit/truncated.eml"], None);
    assert_eq!(o.status.code(), Some(1));
    let v = json(&o);
    assert_eq!((v["question"].as_str(), v["status"].as_str()), (Some("is"), Some("refused")));
    assert_eq!(v["decided_by"], serde_json::json!(["malformed-smime"]));
}

#[test]
fn downgrade_tells_the_client_to_rebuild_it_unencrypted() {
    let o = check(
        &["--on-partial", "downgrade", "--format", "json", "testdata/audit/ios71-reply-all.eml"],
        None,
    );
    assert_eq!(o.status.code(), Some(1), "this copy still must not go");
    let v = json(&o);
    assert_eq!(
        (v["status"].as_str(), v["decision"].as_str()),
        (Some("refused"), Some("downgrade"))
    );
}

#[test]
fn a_plain_draft_keeps_its_output_exactly() {
    // The README's example, from the draft file instead of the Reply All derivation.
    let o = check(&["testdata/check/ios71-reply-all-draft.eml"], None);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        stdout(&o),
        "Not Encrypted: 1 of 2 recipients cannot decrypt\n\
         \x20 to   dan@example.net                  CANNOT decrypt\n\
         \x20        no-certificate: no certificate for dan@example.net\n\
         \x20        hint: ask dan@example.net to send you a signed message, or import their certificate\n\
         \x20 cc   carol@example.org                can decrypt (EC P-256, valid until 2060-01-01T00:00:00Z, sha256 c8d9cc494f81ad3e…)\n\
         \x20 from alice@example.com                can decrypt (RSA 2048, valid until 2060-01-01T00:00:00Z, sha256 6681bee56fbdec47…)\n"
    );
}
