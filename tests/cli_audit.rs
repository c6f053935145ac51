//! `smime-lint audit` as a user runs it (DESIGN §6-7).

use serde_json::Value;
use std::io::Write;
use std::process::{Command, Output, Stdio};

const AT: &str = "2026-06-01T00:00:00Z";

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_smime-lint")).args(args).output().expect("binary runs")
}

fn lines(o: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

fn audit_json(extra: &[&str]) -> Output {
    let mut args = vec![
        "audit",
        "--certs",
        "testdata/certs/store",
        "--at",
        AT,
        "--format",
        "json",
        "--progress",
        "never",
    ];
    args.extend_from_slice(extra);
    run(&args)
}

#[test]
fn ndjson_one_line_per_message_in_input_order_and_exit_1_on_errors() {
    let o = audit_json(&["testdata/audit"]);
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));
    let reports = lines(&o);
    let paths: Vec<&str> = reports.iter().map(|r| r["path"].as_str().unwrap()).collect();
    let mut sorted = paths.clone();
    sorted.sort();
    assert_eq!(paths, sorted, "folder order is sorted by name");
    // Every message is read; the expected-output files, the generator script and the DER file
    // beside the fixtures are not mail at all: counted on standard error, not audited.
    let messages = std::fs::read_dir("testdata/audit")
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "eml"))
        .count();
    assert_eq!(paths.len(), messages);
    let err = String::from_utf8_lossy(&o.stderr);
    let not_mail = std::fs::read_dir("testdata/audit").unwrap().count() - messages;
    assert!(
        err.contains(&format!("note: {not_mail} files found in folders are not mail")),
        "{err}"
    );
    let ios = reports.iter().find(|r| r["path"] == "testdata/audit/ios71-reply-all.eml").unwrap();
    assert_eq!(ios["findings"][0]["rule"], "partial-encryption");
    assert_eq!(ios["findings"][0]["address"], "dan@example.net");
    for key in [
        "path",
        "message_id",
        "date",
        "from",
        "subject",
        "reply",
        "encryption",
        "recipients",
        "findings",
    ] {
        assert!(ios.get(key).is_some(), "missing {key}");
    }
}

#[test]
fn parallel_output_is_identical_to_sequential() {
    let one =
        audit_json(&["--jobs", "1", "testdata/audit", "testdata/smartreply", "testdata/smime"]);
    let many =
        audit_json(&["--jobs", "8", "testdata/audit", "testdata/smartreply", "testdata/smime"]);
    assert!(!one.stdout.is_empty());
    assert_eq!(one.stdout, many.stdout);
}

#[test]
fn clean_messages_exit_0() {
    let o = audit_json(&["testdata/audit/all-can-decrypt.eml", "testdata/audit/bcc-copy.eml"]);
    assert_eq!(o.status.code(), Some(0)); // a warning is not an error
}

#[test]
fn missing_input_path_exits_2() {
    let o = audit_json(&["testdata/no-such-folder"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no-such-folder"));
}

#[test]
fn standard_input_is_labelled_dash() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_smime-lint"))
        .args(["audit", "--certs", "testdata/certs/store", "--format", "json", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let raw = std::fs::read("testdata/audit/ios71-reply-all.eml").unwrap();
    child.stdin.take().unwrap().write_all(&raw).unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    let r = &lines(&o)[0];
    assert_eq!(r["path"], "-");
    assert_eq!(r["findings"][0]["rule"], "partial-encryption");
}

#[test]
fn mbox_messages_are_labelled_file_hash_n() {
    let dir = tempfile::tempdir().unwrap();
    let mbox = dir.path().join("Sent.mbox");
    let mut text = Vec::new();
    for name in ["all-can-decrypt", "ios71-reply-all", "no-sender"] {
        text.extend_from_slice(b"From alice@example.com Mon Jun  1 09:30:00 2026\n");
        let raw = std::fs::read(format!("testdata/audit/{name}.eml")).unwrap();
        text.extend(raw.iter().filter(|&&b| b != b'\r'));
        text.extend_from_slice(b"\n");
    }
    std::fs::write(&mbox, text).unwrap();
    let o = audit_json(&[mbox.to_str().unwrap()]);
    let reports = lines(&o);
    let labels: Vec<String> =
        reports.iter().map(|r| r["path"].as_str().unwrap().to_owned()).collect();
    let base = mbox.display().to_string();
    assert_eq!(labels, [format!("{base}#1"), format!("{base}#2"), format!("{base}#3")]);
    assert_eq!(reports[1]["findings"][0]["rule"], "partial-encryption");
    assert_eq!(reports[2]["findings"][0]["rule"], "sender-cannot-decrypt");
}

#[test]
fn summary_prints_the_table_only() {
    let o = run(&[
        "audit",
        "--certs",
        "testdata/certs/store",
        "--at",
        AT,
        "--format",
        "summary",
        "testdata/audit",
    ]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.starts_with("Messages scanned"), "{out}");
    assert!(out.contains("partial-encryption") && out.contains("dan@example.net"), "{out}");
    assert!(!out.contains("testdata/audit/"), "no per-message blocks: {out}");
}

#[test]
fn human_format_shows_blocks_then_the_summary() {
    let o = run(&[
        "audit",
        "--certs",
        "testdata/certs/store",
        "--at",
        AT,
        "testdata/audit/ios71-reply-all.eml",
    ]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.starts_with("testdata/audit/ios71-reply-all.eml\n"), "{out}");
    assert!(
        out.contains("error   partial-encryption: dan@example.net (To) cannot decrypt"),
        "{out}"
    );
    assert!(out.contains("hint: "), "{out}");
    assert!(out.contains("Messages scanned                      1"), "{out}");
}

#[test]
fn harvest_adds_certificates_from_signed_mail() {
    let args = |harvest: bool| {
        let mut a = vec![
            "audit",
            "--certs",
            "testdata/certs/bundles/bob.der",
            "--at",
            AT,
            "--format",
            "json",
        ];
        if harvest {
            a.push("--harvest");
        }
        a.extend(["testdata/audit/signed-only.eml", "testdata/audit/all-can-decrypt.eml"]);
        run(&a)
    };
    let alice_ri = |o: &Output| {
        let r = lines(o)
            .into_iter()
            .find(|r| r["path"] == "testdata/audit/all-can-decrypt.eml")
            .unwrap();
        r["encryption"]["recipient_infos"]
            .as_array()
            .unwrap()
            .iter()
            .any(|ri| ri["address"] == "alice@example.com")
    };
    assert!(!alice_ri(&args(false)));
    assert!(alice_ri(&args(true)));
}

#[test]
fn owner_key_decrypts_and_is_never_printed() {
    let o = audit_json(&[
        "--key",
        "testdata/certs/keys/alice.key",
        "testdata/smartreply/sr-empty-text.eml",
    ]);
    let r = &lines(&o)[0];
    assert_eq!(r["encryption"]["decryption"][0]["status"], "decrypted");
    let key = std::fs::read_to_string("testdata/certs/keys/alice.key").unwrap();
    let body_line = key.lines().nth(3).unwrap();
    let all =
        format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(!all.contains(body_line));
}

#[test]
fn unreadable_files_are_reported_and_the_scan_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("a-junk.bin");
    std::fs::write(&junk, [0u8, 159, 146, 150, 255, 0, 1]).unwrap();
    std::fs::copy("testdata/audit/no-sender.eml", dir.path().join("b.eml")).unwrap();
    // Named, the junk is an error; found in the folder beside the mail, it is only counted.
    let o = audit_json(&[junk.to_str().unwrap(), dir.path().to_str().unwrap()]);
    let reports = lines(&o);
    assert_eq!(reports.len(), 2);
    assert_eq!(reports[0]["path"], junk.to_str().unwrap());
    assert_eq!(reports[0]["findings"][0]["rule"], "unreadable");
    assert_eq!(reports[1]["findings"][0]["rule"], "sender-cannot-decrypt");
    assert!(String::from_utf8_lossy(&o.stderr).contains("1 file found in folders is not mail"));
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn harvest_with_standard_input_is_a_usage_error() {
    let o = run(&["audit", "--harvest", "-"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("standard input"));
}
