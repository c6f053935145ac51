//! The real binary: arguments, output formats, exit codes (DESIGN §6-7).

use serde_json::Value;
use std::io::Read;
use std::process::{Command, Output, Stdio};

const AT: &str = "2026-06-01T00:00:00Z";

fn smime_lint(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_smime-lint")).args(args).output().expect("binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(o)))
}

fn check(extra: &[&str]) -> Output {
    let mut args = vec!["check", "--certs", "testdata/certs/store", "--at", AT];
    args.extend_from_slice(extra);
    smime_lint(&args)
}

#[test]
fn check_reply_all_to_mixed_group_is_not_encrypted_in_auto_mode() {
    let o = check(&[
        "--me",
        "alice@example.com",
        "--reply-all-to",
        "testdata/check/ios71-original.eml",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = json(&o);
    assert_eq!(v["status"], "not-encrypted");
    assert_eq!(v["decision"], "plaintext");
    let recipients: Vec<(String, String, bool)> = v["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["address"].as_str().unwrap().to_owned(),
                r["field"].as_str().unwrap().to_owned(),
                r["encryptable"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        recipients,
        [
            ("dan@example.net".into(), "to".into(), false),
            ("carol@example.org".into(), "cc".into(), true)
        ]
    );
    assert_eq!(v["recipients"][0]["reasons"][0]["code"], "no-certificate");
    // The one replying (--me) is the sender whose own certificate is reported.
    assert_eq!(v["sender"]["address"], "alice@example.com");
    assert_eq!(v["sender"]["encryptable"], true);
    assert_eq!(v["recipients"][1]["certificate"]["source"], "testdata/certs/store/carol.pem");
}

#[test]
fn check_with_encryption_required_refuses_and_names_who_cannot_decrypt() {
    let o = check(&[
        "--encrypt",
        "on",
        "--from",
        "alice@example.com",
        "--to",
        "dan@example.net",
        "--cc",
        "carol@example.org",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(out.starts_with("Refused"), "{out}");
    assert!(out.contains("dan@example.net") && out.contains("no-certificate"), "{out}");
    assert!(out.contains("hint: ask dan@example.net to send you a signed message"), "{out}");
}

#[test]
fn check_downgrade_is_explicit_and_exits_1_when_encryption_was_requested() {
    let o = check(&[
        "--encrypt",
        "on",
        "--on-partial",
        "downgrade",
        "--to",
        "dan@example.net",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let v = json(&o);
    assert_eq!(
        (v["status"].as_str(), v["decision"].as_str()),
        (Some("not-encrypted"), Some("downgrade"))
    );
}

#[test]
fn draft_fresh_message_and_reply_all_agree() {
    let draft = check(&["testdata/check/ios71-reply-all-draft.eml", "--format", "json"]);
    let fresh = check(&[
        "--from",
        "alice@example.com",
        "--to",
        "DAN@example.net",
        "--cc",
        "Carol EC <carol@example.org>",
        "--format",
        "json",
    ]);
    let reply = check(&[
        "--me",
        "alice@example.com",
        "--reply-all-to",
        "testdata/check/ios71-original.eml",
        "--format",
        "json",
    ]);
    let key = |o: &Output| {
        let v = json(o);
        (v["status"].clone(), v["decision"].clone(), v["recipients"].clone())
    };
    assert_eq!(key(&draft), key(&fresh));
    assert_eq!(key(&draft), key(&reply));
}

#[test]
fn check_encrypted_when_everyone_has_a_usable_certificate() {
    let o = check(&[
        "--from",
        "alice@example.com",
        "--to",
        "bob@example.com",
        "--cc",
        "UMA@example.com",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let v = json(&o);
    assert_eq!(v["status"], "encrypted");
    assert_eq!(v["sender"]["encryptable"], true);
    assert!(v["recipients"][0]["certificate"]["sha256"].as_str().is_some_and(|s| s.len() == 64));
    assert_eq!(v["recipients"][0]["certificate"]["not_after"], "2060-01-01T00:00:00Z");
}

#[test]
fn certs_lists_every_certificate_with_its_addresses() {
    let o =
        smime_lint(&["certs", "--certs", "testdata/certs/store", "--at", AT, "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let lines: Vec<Value> = stdout(&o).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let files = std::fs::read_dir("testdata/certs/store").unwrap().count();
    assert_eq!(lines.len(), files);
    let dave = lines.iter().find(|c| c["addresses"][0]["address"] == "dave@example.com").unwrap();
    assert_eq!(dave["addresses"][0]["usable"], false);
    assert_eq!(dave["addresses"][0]["reasons"][0]["code"], "expired");
    let victor =
        lines.iter().find(|c| c["subject"].as_str().is_some_and(|s| s.contains("Victor"))).unwrap();
    assert_eq!(victor["addresses"].as_array().unwrap().len(), 3);
}

#[test]
fn certs_folder_with_broken_files_warns_and_goes_on() {
    let o = smime_lint(&["certs", "--certs", "testdata/certs/broken", "--at", AT]);
    assert_eq!(o.status.code(), Some(0));
    let err = stderr(&o);
    assert!(err.contains("garbage.pem") && err.contains("truncated.der"), "{err}");
    assert!(stdout(&o).contains("2 certificates"), "{}", stdout(&o));
}

#[test]
fn unreadable_inputs_exit_2_with_one_line() {
    for args in [
        vec!["certs", "--certs", "testdata/certs/broken/garbage.pem"],
        vec!["certs", "--certs", "testdata/does-not-exist"],
        vec!["check", "--to", "bob@example.com", "--at", "yesterday"],
        vec!["check", "--to", "not an address"],
        vec!["check", "testdata/does-not-exist.eml"],
    ] {
        let o = smime_lint(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(!err.contains("panicked"), "{err}");
        assert!(!err.trim().is_empty(), "{args:?} printed nothing");
    }
}

#[test]
fn broken_pipe_exits_quietly() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_smime-lint"))
        .args([
            "certs",
            "--certs",
            "testdata/certs/store",
            "--certs",
            "testdata/certs/store",
            "--at",
            AT,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader goes away at once, like `| head -0`
    let status = child.wait().unwrap();
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert!(!err.contains("panicked") && !err.contains("Broken pipe"), "{err}");
    assert_eq!(status.code(), Some(0));
}

/// `check --format json` byte for byte, against `testdata/check/json/NAME.json` (the command
/// lines are below and in `testdata/check/README.md`). The object is the library's
/// `ComposeDecision` serialized; a change to its fields or their order shows here.
/// `UPDATE_EXPECTED=1 cargo test --test cli` rewrites the files; review the diff.
#[test]
fn check_json_is_byte_identical_to_the_expected_files() {
    let cases: [(&str, &[&str]); 5] = [
        (
            "reply-all-mixed",
            &["--me", "alice@example.com", "--reply-all-to", "testdata/check/ios71-original.eml"],
        ),
        (
            "encrypted-bcc",
            &[
                "--from",
                "alice@example.com",
                "--to",
                "bob@example.com",
                "--cc",
                "UMA@example.com",
                "--bcc",
                "carol@example.org",
            ],
        ),
        (
            "refused-candidates",
            &[
                "--encrypt",
                "on",
                "--from",
                "zed@example.com",
                "--to",
                "dan@example.net",
                "--to",
                "peggy@example.com",
                "--cc",
                "dave@example.com",
                "--cc",
                "judy@example.com",
            ],
        ),
        (
            "downgrade-untrusted",
            &[
                "--certs",
                "testdata/certs/ca/intermediate.pem",
                "--trust",
                "testdata/certs/ca/root.pem",
                "--encrypt",
                "on",
                "--on-partial",
                "downgrade",
                "--to",
                "mallory@example.com",
                "--to",
                "bob@example.com",
            ],
        ),
        (
            "off-no-sender",
            &["--encrypt", "off", "--to", "bob@example.com", "--bcc", "ivan@example.com"],
        ),
    ];
    let update = std::env::var_os("UPDATE_EXPECTED").is_some();
    let mut mismatches = Vec::new();
    for (name, args) in cases {
        let mut all = args.to_vec();
        all.extend(["--format", "json"]);
        let o = check(&all);
        assert!(matches!(o.status.code(), Some(0 | 1)), "{name}: {}", stderr(&o));
        let path = format!("testdata/check/json/{name}.json");
        if update {
            std::fs::write(&path, &o.stdout).unwrap();
        } else if std::fs::read(&path).ok().as_deref() != Some(o.stdout.as_slice()) {
            mismatches.push(format!("{name}: stdout differs from {path}:\n{}", stdout(&o)));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{}\n(UPDATE_EXPECTED=1 rewrites; review the diff)",
        mismatches.join("\n")
    );
}
