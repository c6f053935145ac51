//! The audit over generated mail: the bundled demo (testdata/demo) and a small fresh corpus
//! from the generator report exactly the findings their ground truth lists, no more, no fewer.

use smime_lint::audit::{audit_message, AuditOptions, Rule};
use smime_lint::scan::{messages, ScanOptions};
use smime_lint::CertStore;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[allow(dead_code)]
#[path = "../examples/gen_corpus/corpus.rs"]
mod corpus;
#[allow(dead_code)]
#[path = "../examples/gen_corpus/office.rs"]
mod office;

#[path = "../examples/gen_corpus/people.rs"]
mod people;
#[allow(dead_code)]
#[path = "../examples/gen_corpus/text.rs"]
mod text;

fn testdata(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata").join(rel)
}

fn store() -> CertStore {
    let mut store = CertStore::new();
    store.load_path(&testdata("certs/store")).unwrap();
    store
}

/// (rule, address) pairs, sorted.
type Findings = Vec<(String, Option<String>)>;

/// The ground truth of `dir`, by file path relative to the Maildir.
fn ground_truth(dir: &Path) -> BTreeMap<String, Findings> {
    std::fs::read_to_string(dir.join("ground-truth.ndjson"))
        .unwrap()
        .lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let mut findings: Findings = v["findings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| {
                    (
                        f["rule"].as_str().unwrap().to_owned(),
                        f["address"].as_str().map(str::to_owned),
                    )
                })
                .collect();
            findings.sort();
            (v["file"].as_str().unwrap().to_owned(), findings)
        })
        .collect()
}

/// Audits the Maildir under `dir` as `smime-lint audit` reads it: (file, findings) in order.
fn audit_maildir(dir: &Path) -> Vec<(String, Findings)> {
    let maildir = dir.join("Maildir");
    let store = store();
    let options = AuditOptions::default();
    messages(std::slice::from_ref(&maildir), &ScanOptions::default())
        .unwrap()
        .map(|raw| {
            let bytes = raw.bytes.unwrap();
            let report = audit_message(&bytes, &store, &options);
            let mut findings: Findings = report
                .findings
                .iter()
                .map(|f| {
                    (f.rule.code().to_owned(), f.address.as_ref().map(|a| a.as_str().to_owned()))
                })
                .collect();
            findings.sort();
            let file = Path::new(&raw.source.label)
                .strip_prefix(&maildir)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (file, findings)
        })
        .collect()
}

fn assert_matches_ground_truth(dir: &Path) -> Vec<(String, Findings)> {
    let truth = ground_truth(dir);
    let audited = audit_maildir(dir);
    assert_eq!(audited.len(), truth.len(), "the scan reads every message and nothing else");
    for (file, findings) in &audited {
        let expected =
            truth.get(file).unwrap_or_else(|| panic!("{file} is not in the ground truth"));
        assert_eq!(findings, expected, "{file}");
    }
    audited
}

#[test]
fn the_demo_reports_exactly_its_ground_truth_and_every_rule() {
    let audited = assert_matches_ground_truth(&testdata("demo"));
    for rule in Rule::ALL {
        assert!(
            audited.iter().any(|(_, f)| f.iter().any(|(r, _)| r == rule.code())),
            "no demo message shows {}",
            rule.code()
        );
    }
    let clean = audited.iter().filter(|(_, f)| f.is_empty()).count();
    assert_eq!(clean, 6, "plain, signed, encrypted, GCM, BER and opaque-signed stay clean");
}

#[test]
fn a_generated_corpus_reports_exactly_its_ground_truth() {
    let dir = tempfile::tempdir().unwrap();
    let pki = corpus::Pki::load(&testdata("certs")).unwrap();
    // Small attachments only would miss nothing the audit looks at, but the generator decides
    // sizes itself: 40 messages keep this test to a few seconds in debug builds.
    corpus::write_corpus(dir.path(), 40, 20_260_601, corpus::Profile::Mixed, &pki).unwrap();
    assert_matches_ground_truth(dir.path());
    assert_both_paths_agree(dir.path());
}

/// The fast path (skimmed bodies) and the full parse give the same report for every message.
fn assert_both_paths_agree(dir: &Path) {
    let store = store();
    let options = AuditOptions::default();
    let maildir = dir.join("Maildir");
    for raw in messages(std::slice::from_ref(&maildir), &ScanOptions::default()).unwrap() {
        let bytes = raw.bytes.unwrap();
        let fast = audit_message(&bytes, &store, &options);
        let full = smime_lint::audit::audit_message_unskimmed(&bytes, &store, &options);
        assert_eq!(fast, full, "{}", raw.source.label);
    }
}

#[test]
fn an_office_corpus_reports_exactly_its_ground_truth_on_both_audit_paths() {
    let dir = tempfile::tempdir().unwrap();
    let pki = corpus::Pki::load(&testdata("certs")).unwrap();
    // 120 messages: every scenario of the office mix at least once, mostly 10-100 KB.
    corpus::write_corpus(dir.path(), 120, 2_026_120, corpus::Profile::Office, &pki).unwrap();
    assert_matches_ground_truth(dir.path());
    assert_both_paths_agree(dir.path());
}
