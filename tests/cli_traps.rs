//! The real binary on the traps a new user fell into: no certificates, symbolic links, a single
//! message saved as .mbox, non-mail beside the mail, the progress bar in a terminal, harvesting
//! that says nothing, help without text, and a Bcc recipient's separate copy.
//!
//! Fixtures: testdata/cli (made by testdata/cli/generate.sh). Expected output beside them
//! (`*.expected.*`); `UPDATE_EXPECTED=1 cargo test --test cli_traps` rewrites it: review the diff.

use serde_json::Value;
use std::process::{Command, Output};

const AT: &str = "2026-06-01T00:00:00Z";
const STORE: &str = "testdata/certs/store";

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_smime-lint")).args(args).output().expect("binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn lines(o: &Output) -> Vec<Value> {
    stdout(o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// `audit --at AT --progress never` plus `args`.
fn audit(args: &[&str]) -> Output {
    let mut all = vec!["audit", "--at", AT, "--progress", "never"];
    all.extend_from_slice(args);
    run(&all)
}

/// (rule, address) of every finding of a JSON report.
fn findings(report: &Value) -> Vec<(String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let address = f["address"].as_str().unwrap_or("-").to_owned();
            (f["rule"].as_str().unwrap().to_owned(), address)
        })
        .collect()
}

/// Compares `actual` with the expected file (or writes it with UPDATE_EXPECTED=1).
fn expect(path: &str, actual: &str) {
    if std::env::var_os("UPDATE_EXPECTED").is_some() {
        std::fs::write(path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert_eq!(actual, expected, "differs from {path} (UPDATE_EXPECTED=1 rewrites it)");
}

// Item: no certificates loaded.

#[test]
fn audit_without_certificates_says_so_and_exits_3_not_0() {
    // b.eml is clean with the store: without it, it must not pass as clean.
    let with_store = audit(&["--certs", STORE, "testdata/cli/mixed-folder/b.eml"]);
    assert_eq!(with_store.status.code(), Some(0), "{}", stderr(&with_store));
    assert!(!stderr(&with_store).contains("WARNING"), "{}", stderr(&with_store));

    for format in ["human", "json", "summary"] {
        let o = audit(&["--format", format, "testdata/cli/mixed-folder/b.eml"]);
        assert_eq!(o.status.code(), Some(3), "{format}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(
            err.contains("WARNING: the certificate store is empty: no --certs was given"),
            "{err}"
        );
        assert!(err.contains("NOT a clean result"), "{err}");
        if format != "json" {
            assert!(stdout(&o).contains("NOT JUDGED: no certificate"), "{}", stdout(&o));
        } else {
            assert_eq!(lines(&o).len(), 1, "the JSON stays one line per message");
        }
    }
    // Errors found without certificates (a malformed envelope) still exit 1.
    let o = audit(&["testdata/audit/truncated.eml"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("certificate store is empty"));
}

#[test]
fn an_empty_certificate_folder_is_named_in_the_warning() {
    let empty = tempfile::tempdir().unwrap();
    let path = empty.path().to_str().unwrap();
    let o = audit(&["--certs", path, "testdata/cli/mixed-folder/b.eml"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(stderr(&o).contains(&format!("--certs {path} held no certificate")), "{}", stderr(&o));
    // Only CA certificates: nobody is named either.
    let o = audit(&["--certs", "testdata/certs/ca/root.pem", "testdata/cli/mixed-folder/b.eml"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(stderr(&o).contains("the 1 certificate loaded names no e-mail address"));
}

#[test]
fn check_without_certificates_says_so_and_exits_3() {
    let args = ["check", "--at", AT, "--from", "alice@example.com", "--to", "bob@example.com"];
    let o = run(&args);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("WARNING: the certificate store is empty"), "{}", stderr(&o));
    let mut with_store = args.to_vec();
    with_store.extend(["--certs", STORE]);
    assert_eq!(run(&with_store).status.code(), Some(0));
    // Refused stays 1.
    let mut refused = args.to_vec();
    refused.extend(["--encrypt", "on"]);
    assert_eq!(run(&refused).status.code(), Some(1));
}

// Item: symbolic links, and inputs that yield nothing.

#[test]
fn a_maildir_of_symbolic_links_is_audited_like_its_targets() {
    let links = audit(&["--certs", STORE, "--format", "json", "testdata/cli/symlinked"]);
    let targets = audit(&["--certs", STORE, "--format", "json", "testdata/cli/mixed-folder"]);
    let (links, targets) = (lines(&links), lines(&targets));
    assert_eq!(links.len(), 2, "both links are read");
    assert_eq!(
        links.iter().map(findings).collect::<Vec<_>>(),
        targets.iter().map(findings).collect::<Vec<_>>()
    );
    assert_eq!(links[0]["path"], "testdata/cli/symlinked/cur/1780000001.M1P1.host:2,S");
}

#[test]
fn an_input_without_messages_is_a_warning_in_every_format() {
    for format in ["json", "human"] {
        let o = audit(&["--certs", STORE, "--format", format, "testdata/cli/not-mail-only"]);
        let err = stderr(&o);
        assert!(
            err.contains("warning: testdata/cli/not-mail-only: no message found (1 file not mail)"),
            "{format}: {err}"
        );
        assert_eq!(o.status.code(), Some(3), "nothing was audited: {err}");
    }
    // Beside an input that has messages: the warning names the empty one, the exit status is
    // that of the audit.
    let o =
        audit(&["--certs", STORE, "testdata/cli/not-mail-only", "testdata/cli/mixed-folder/b.eml"]);
    assert!(stderr(&o).contains("testdata/cli/not-mail-only: no message found"));
    assert!(!stderr(&o).contains("mixed-folder/b.eml: no message"));
    assert_eq!(o.status.code(), Some(0));
}

// Item: *.mbox holding one message.

#[test]
fn a_single_message_saved_as_mbox_is_audited_as_that_message() {
    let o = audit(&["--certs", STORE, "--format", "json", "testdata/cli/one-message.mbox"]);
    let reports = lines(&o);
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0]["path"], "testdata/cli/one-message.mbox");
    assert_eq!(
        findings(&reports[0]),
        [("partial-encryption".to_string(), "dan@example.net".to_string())]
    );
}

// Item: non-mail files in folders, --include/--exclude.

#[test]
fn non_mail_beside_the_mail_is_counted_not_an_error() {
    let o = audit(&["--certs", STORE, "--format", "json", "testdata/cli/mixed-folder"]);
    let reports = lines(&o);
    let paths: Vec<&str> = reports.iter().map(|r| r["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["testdata/cli/mixed-folder/a.eml", "testdata/cli/mixed-folder/b.eml"]);
    expect("testdata/cli/mixed-folder.expected.stderr", &stderr(&o));
    // Named on the command line, the README must be mail: an unreadable error.
    let o = audit(&["--certs", STORE, "--format", "json", "testdata/cli/mixed-folder/README.md"]);
    assert_eq!(findings(&lines(&o)[0]), [("unreadable".to_string(), "-".to_string())]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn include_and_exclude_choose_the_files_of_a_folder() {
    let only_eml = audit(&[
        "--certs",
        STORE,
        "--include",
        "*.eml",
        "--format",
        "json",
        "testdata/cli/mixed-folder",
    ]);
    let excluded = audit(&[
        "--certs",
        STORE,
        "--exclude",
        "*.md",
        "--exclude",
        "*.json",
        "--exclude",
        "*.pem",
        "--format",
        "json",
        "testdata/cli/mixed-folder",
    ]);
    for o in [&only_eml, &excluded] {
        assert_eq!(lines(o).len(), 2);
        assert!(!stderr(o).contains("not mail"), "nothing left to skip: {}", stderr(o));
    }
    let none = audit(&["--certs", STORE, "--exclude", "*", "testdata/cli/mixed-folder"]);
    assert!(
        stderr(&none).contains("no message found (5 entries left out by --include/--exclude)"),
        "{}",
        stderr(&none)
    );
    let bad = audit(&["--certs", STORE, "--include", "a[", "testdata/cli/mixed-folder"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("--include \"a[\" is not a valid glob"), "{}", stderr(&bad));
}

// Item: harvesting says what it found.

#[test]
fn certs_harvest_lists_each_certificate_its_binding_and_the_store() {
    let o = run(&[
        "certs",
        "--at",
        AT,
        "--certs",
        "testdata/certs/bundles/bob.der",
        "--progress",
        "never",
        "--harvest",
        "testdata/audit/signed-only.eml",
        "testdata/cli/planted.eml",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    expect("testdata/cli/harvest.expected.txt", &stdout(&o));

    let o = run(&[
        "certs",
        "--at",
        AT,
        "--certs",
        "testdata/certs/bundles/bob.der",
        "--progress",
        "never",
        "--format",
        "json",
        "--harvest",
        "testdata/audit/signed-only.eml",
        "testdata/cli/planted.eml",
    ]);
    let found = lines(&o);
    let harvest: Vec<(bool, Value, Value)> = found
        .iter()
        .map(|c| {
            (
                c["harvest"]["bound"].as_bool().unwrap(),
                c["harvest"]["address"].clone(),
                c["harvest"]["already_in_store"].clone(),
            )
        })
        .collect();
    assert_eq!(
        harvest,
        [
            (true, Value::from("alice@example.com"), Value::Null),
            (false, Value::Null, Value::from("testdata/certs/bundles/bob.der")),
        ]
    );
    assert!(found[1]["harvest"]["reason"]
        .as_str()
        .unwrap()
        .contains("does not name the From address"));
}

#[test]
fn harvesting_nothing_new_is_explained() {
    let o = audit(&[
        "--certs",
        STORE,
        "--harvest",
        "--format",
        "summary",
        "testdata/audit/signed-only.eml",
    ]);
    assert!(
        stderr(&o).contains(
            "harvested 0 new certificates from 1 signed message (of 1 message read); 1 certificate found was already in the store"
        ),
        "{}",
        stderr(&o)
    );
    let o = audit(&[
        "--certs",
        "testdata/certs/bundles/bob.der",
        "--harvest",
        "--format",
        "summary",
        "testdata/audit/signed-only.eml",
    ]);
    assert!(stderr(&o).contains("harvested 1 new certificate from 1 signed message (of 1 message read): 1 bound to their sender, 0 not bound"), "{}", stderr(&o));
}

// Item: help, plurals, the summary, certs marks.

#[test]
fn every_option_has_help_and_every_subcommand_exit_codes_and_examples() {
    for command in ["check", "audit", "certs"] {
        let o = run(&[command, "--help"]);
        let help = stdout(&o);
        assert!(help.contains("Examples:\n  smime-lint "), "{command}: {help}");
        assert!(help.contains("Exit codes:\n  0  "), "{command}: {help}");
        // `      --to <ADDR>  A To recipient ...`: text after every option.
        for line in help.lines().filter(|l| l.trim_start().starts_with('-')) {
            let option = line.trim_start();
            let described = option.split("  ").filter(|part| !part.trim().is_empty()).count() >= 2;
            assert!(described, "{command}: no help for {option:?}");
        }
    }
}

#[test]
fn the_summary_splits_errors_and_warnings_and_leaves_the_sender_out() {
    let o = audit(&[
        "--certs",
        STORE,
        "--format",
        "summary",
        "testdata/audit/no-sender.eml",
        "testdata/audit/ios71-reply-all.eml",
    ]);
    expect("testdata/cli/summary.expected.txt", &stdout(&o));
    let out = stdout(&o);
    assert!(
        out.contains("  sender-cannot-decrypt                       0        1        0"),
        "{out}"
    );
    let recipients = out.split("Most affected recipients").nth(1).unwrap();
    let recipients = recipients.split("Senders").next().unwrap();
    assert!(recipients.contains("dan@example.net"), "{out}");
    assert!(
        !recipients.contains("alice@example.com"),
        "the sender's own copy is not a recipient's: {out}"
    );
}

#[test]
fn human_certs_marks_ca_and_expired_certificates_and_counts_in_words() {
    let o = run(&[
        "certs",
        "--at",
        AT,
        "--certs",
        "testdata/certs/ca/root.pem",
        "--certs",
        "testdata/certs/store/dave-expired.pem",
    ]);
    let out = stdout(&o);
    assert!(out.contains("CN=smime-lint Test Root CA  [CA]\n"), "{out}");
    assert!(out.lines().any(|l| l.ends_with("  [EXPIRED]") && l.contains("Dave")), "{out}");
    assert!(out.contains("2 certificates, 1 address, 0 usable"), "{out}");
    let one = run(&["certs", "--at", AT, "--certs", "testdata/certs/store/bob.pem"]);
    assert!(stdout(&one).contains("1 certificate, 1 address, 1 usable"), "{}", stdout(&one));
}

// Item: a Bcc recipient's separately encrypted copy.

#[test]
fn a_bcc_recipients_separate_copy_among_the_inputs_answers_their_finding() {
    let dir = "testdata/cli/bcc-separate";
    let sent = format!("{dir}/1-sent.eml");
    let copy = format!("{dir}/2-copy-for-uma.eml");
    let uma = ("partial-encryption".to_string(), "uma@example.com".to_string());

    // Alone, the sent copy says uma could not read it.
    let alone = lines(&audit(&["--certs", STORE, "--format", "json", &sent]));
    assert_eq!(findings(&alone[0]), std::slice::from_ref(&uma));

    // With uma's copy after it, or before it: nothing for uma; the output keeps input order.
    for order in [[&sent, &copy], [&copy, &sent]] {
        let reports = lines(&audit(&["--certs", STORE, "--format", "json", order[0], order[1]]));
        let paths: Vec<&str> = reports.iter().map(|r| r["path"].as_str().unwrap()).collect();
        assert_eq!(paths, [order[0].as_str(), order[1].as_str()]);
        let sent_report = reports.iter().find(|r| r["path"] == sent.as_str()).unwrap();
        assert!(!findings(sent_report).contains(&uma), "{sent_report}");
        // The recipient list still tells the truth about this copy.
        assert_eq!(sent_report["recipients"][1]["can_decrypt"], false);
    }

    // The whole folder, against its expected output: 3-no-copy has no copy for uma.
    let o = audit(&["--certs", STORE, "--format", "json", dir]);
    expect("testdata/cli/bcc-separate.expected.ndjson", &stdout(&o));
    let reports = lines(&o);
    assert!(findings(&reports[2]).contains(&uma));
}

#[test]
fn without_its_other_copy_a_bcc_finding_is_kept_and_order_holds_with_many_jobs() {
    // Message-IDs shared by no other input do not hold the output back: the same reports, in
    // the same order, with 1 job and with 4.
    let args = |jobs: &'static str| {
        audit(&[
            "--certs",
            STORE,
            "--format",
            "json",
            "--jobs",
            jobs,
            "testdata/cli/bcc-separate",
            "testdata/audit",
            "testdata/cli/bcc-separate/3-no-copy.eml",
        ])
    };
    let (one, four) = (args("1"), args("4"));
    assert_eq!(stdout(&one), stdout(&four));
    let reports = lines(&one);
    let last = reports.last().unwrap();
    assert_eq!(last["path"], "testdata/cli/bcc-separate/3-no-copy.eml");
    // 3-no-copy twice among the inputs: each copy has the same envelope, neither answers uma.
    assert!(
        findings(last).contains(&("partial-encryption".to_string(), "uma@example.com".to_string()))
    );
}

// Item: the progress bar in a terminal.

/// The screen a terminal shows after `bytes` (no wrapping, unlimited scrollback): carriage
/// return, line feed, erase line (`ESC [ 2K`), cursor up (`ESC [ n A`) and printable text.
fn screen(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    let mut lines: Vec<Vec<char>> = vec![Vec::new()];
    let (mut row, mut col) = (0usize, 0usize);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => col = 0,
            '\n' => {
                row += 1;
                if row == lines.len() {
                    lines.push(Vec::new());
                }
            }
            '\x1b' => {
                if chars.peek() != Some(&'[') {
                    continue;
                }
                chars.next();
                let mut arg = String::new();
                let mut end = ' ';
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        end = c;
                        break;
                    }
                    arg.push(c);
                }
                match end {
                    'K' => lines[row].clear(),
                    'A' => row = row.saturating_sub(arg.parse().unwrap_or(1)),
                    'J' => lines.truncate(row + 1),
                    _ => {}
                }
            }
            c => {
                let line = &mut lines[row];
                if line.len() <= col {
                    line.resize(col, ' ');
                    line.push(c);
                } else {
                    line[col] = c;
                }
                col += 1;
            }
        }
    }
    let mut out: Vec<String> = lines
        .into_iter()
        .map(|l| l.into_iter().collect::<String>().trim_end().to_string())
        .collect();
    while out.last().is_some_and(String::is_empty) {
        out.pop();
    }
    out
}

#[test]
fn the_screen_emulator_keeps_what_a_terminal_keeps() {
    assert_eq!(screen(b"bar 1\r\x1b[2Kline\r\nbar 2"), ["line", "bar 2"]);
    assert_eq!(screen(b"bar 1line\r\n\r\x1b[2K"), ["bar 1line"]);
}

#[test]
fn the_progress_bar_leaves_the_report_intact_in_a_terminal() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped: util-linux `script` (a pseudo-terminal) is not installed");
        return;
    }
    // Enough messages for the bar to be drawn many times while the report is printed.
    let dir = tempfile::tempdir().unwrap();
    for i in 0..400 {
        let name = dir.path().join(format!("{i:04}.eml"));
        std::fs::copy("testdata/audit/ios71-reply-all.eml", name).unwrap();
    }
    let bin = env!("CARGO_BIN_EXE_smime-lint");
    let folder = dir.path().to_str().unwrap();
    let command = format!("{bin} audit --jobs 1 --certs {STORE} --at {AT} {folder}");
    let plain = run(&["audit", "--jobs", "1", "--certs", STORE, "--at", AT, folder]);
    let expected: Vec<String> = stdout(&plain).lines().map(|l| l.trim_end().to_string()).collect();

    let tty = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env("TERM", "xterm")
        .env("COLUMNS", "100")
        .output()
        .expect("script runs");
    let raw = tty.stdout;
    assert!(
        String::from_utf8_lossy(&raw).contains(" messages · "),
        "the bar was drawn: {}",
        String::from_utf8_lossy(&raw[..raw.len().min(300)])
    );
    // What the terminal shows is the report, the bar gone: no bar left in the scrollback, no
    // line split.
    let shown = screen(&raw);
    let first_difference = shown.iter().zip(&expected).position(|(a, b)| a != b);
    assert_eq!(
        first_difference,
        None,
        "first different line: {:?}",
        first_difference.map(|i| &shown[i])
    );
    assert_eq!(shown.len(), expected.len());
}
