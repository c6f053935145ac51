//! Clock skew: certificates are judged at the message's Date with a 10-minute allowance for the
//! sending device's clock (testdata/audit/skew-*.eml, dated 35 s and 11 minutes before the
//! certificates' notBefore), and the hints speak of mail that already went out.
//!
//! The fixtures' reports at their own Date are in `NAME.eml.at-date.audit.json` (the golden test
//! in tests/audit.rs judges every fixture at 2026-06-01 instead);
//! `UPDATE_EXPECTED=1 cargo test --test audit_clock_skew` rewrites them: review the diff.

use smime_lint::audit::{audit_message, AuditOptions, Report, Rule, DEFAULT_CLOCK_SKEW};
use smime_lint::{CertStore, Policy, Time};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

fn store() -> &'static CertStore {
    static STORE: OnceLock<CertStore> = OnceLock::new();
    STORE.get_or_init(|| {
        let mut s = CertStore::new();
        s.load_path("testdata/certs/store".as_ref()).expect("test store loads");
        s
    })
}

fn audit_with(path: &Path, options: &AuditOptions) -> Report {
    let raw = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut report = audit_message(&raw, store(), options);
    report.path = path.display().to_string();
    report
}

/// As the CLI audits without `--at`: at the message's Date, default allowance.
fn audit_at_date(name: &str) -> Report {
    audit_with(&Path::new("testdata/audit").join(name), &AuditOptions::default())
}

fn unusable(r: &Report) -> Vec<(String, String)> {
    r.findings
        .iter()
        .filter(|f| f.rule == Rule::EncryptedToUnusableCertificate)
        .map(|f| (f.address.as_ref().map(|a| a.to_string()).unwrap_or_default(), f.hint.clone()))
        .collect()
}

#[test]
fn skew_fixtures_match_their_reports_at_the_message_date() {
    let update = std::env::var_os("UPDATE_EXPECTED").is_some();
    let mut paths: Vec<PathBuf> = std::fs::read_dir("testdata/audit")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.starts_with("skew-") && name.ends_with(".eml")
        })
        .collect();
    paths.sort();
    assert_eq!(paths.len(), 2, "{paths:?}");
    for path in paths {
        let report = audit_with(&path, &AuditOptions::default());
        let actual = serde_json::to_string_pretty(&report).unwrap() + "\n";
        let expected_path = path.with_extension("eml.at-date.audit.json");
        if update {
            std::fs::write(&expected_path, &actual).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path)
            .unwrap_or_else(|e| panic!("{}: {e}", expected_path.display()));
        assert_eq!(actual, expected, "{} (UPDATE_EXPECTED=1 rewrites)", path.display());
    }
}

#[test]
fn a_date_35_seconds_before_not_before_is_within_the_allowance() {
    assert_eq!(DEFAULT_CLOCK_SKEW, Duration::from_secs(600));
    let r = audit_at_date("skew-35s.eml");
    assert!(unusable(&r).is_empty(), "{:?}", r.findings);
    assert!(r.findings.is_empty(), "{:?}", r.findings);
}

#[test]
fn a_date_11_minutes_before_not_before_is_not() {
    let r = audit_at_date("skew-11min.eml");
    let found = unusable(&r);
    let addresses: Vec<_> = found.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(addresses, ["alice@example.com", "bob@example.com"], "{found:?}");
    let f = &r.findings[0];
    assert!(f.message.contains("(allowing 10m of clock skew)"), "{}", f.message);
    assert!(f.message.contains("not valid before 2020-01-01T00:00:00Z"), "{}", f.message);
}

#[test]
fn hints_for_sent_mail_say_what_to_do_next_not_renew_or_wait() {
    let r = audit_at_date("skew-11min.eml");
    for (address, hint) in unusable(&r) {
        assert!(!hint.contains("renew") && !hint.contains("wait"), "{address}: {hint}");
        assert!(hint.contains("clock"), "{address}: {hint}");
    }
    let found = unusable(&r);
    // The sender's own certificate: a hint for the sender, about the sent copy.
    let (_, alice) = found.iter().find(|(a, _)| a == "alice@example.com").unwrap();
    assert!(alice.contains("sender's certificate") && alice.contains("sent copy"), "{alice}");
    let (_, bob) = found.iter().find(|(a, _)| a == "bob@example.com").unwrap();
    assert!(bob.contains("bob@example.com can still open"), "{bob}");
    // An expired recipient certificate at a Date in 2026.
    let expired =
        audit_with(Path::new("testdata/audit/unusable-certificates.eml"), &AuditOptions::default());
    let (_, dave) = unusable(&expired).into_iter().find(|(a, _)| a == "dave@example.com").unwrap();
    assert!(!dave.contains("renew") && dave.contains("for future mail"), "{dave}");
}

/// `--at` is a time the user chose, not a device's clock: no allowance. Nor without any skew.
#[test]
fn no_allowance_at_a_given_time_or_with_zero_skew() {
    let date = Time::parse_rfc3339("2019-12-31T23:59:25Z").unwrap();
    let at = AuditOptions { at: Some(date), ..AuditOptions::default() };
    let r = audit_with(Path::new("testdata/audit/skew-35s.eml"), &at);
    assert_eq!(unusable(&r).len(), 2, "{:?}", r.findings);
    assert!(!r.findings[0].message.contains("clock skew"), "{}", r.findings[0].message);
    let exact = AuditOptions { policy: Policy::default(), ..AuditOptions::default() };
    let r = audit_with(Path::new("testdata/audit/skew-35s.eml"), &exact);
    assert_eq!(unusable(&r).len(), 2, "{:?}", r.findings);
}

/// The real binary: `--clock-skew` sets the allowance, `0` removes it, nonsense is a usage error.
#[test]
fn the_cli_takes_clock_skew() {
    let run = |extra: &[&str]| {
        let mut args = vec!["audit", "--certs", "testdata/certs/store", "--format", "json"];
        args.extend_from_slice(&["--progress", "never"]);
        args.extend_from_slice(extra);
        args.push("testdata/audit/skew-35s.eml");
        std::process::Command::new(env!("CARGO_BIN_EXE_smime-lint"))
            .args(&args)
            .output()
            .expect("binary runs")
    };
    let rules = |o: &std::process::Output| -> Vec<String> {
        let line: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON line");
        line["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["rule"].as_str().unwrap().to_owned())
            .collect()
    };
    let default = run(&[]);
    assert_eq!(default.status.code(), Some(0));
    assert!(rules(&default).is_empty());
    for skew in ["0", "30s"] {
        let exact = run(&["--clock-skew", skew]);
        assert_eq!(rules(&exact), ["encrypted-to-unusable-certificate"; 2], "--clock-skew {skew}");
    }
    assert!(rules(&run(&["--clock-skew", "1m"])).is_empty());
    let bad = run(&["--clock-skew", "2d"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--clock-skew"));
}
