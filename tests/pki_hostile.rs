//! The hostile test PKI (testdata/pki-hostile, see its README.md): one certificate or signed
//! message per trust and harvesting defect, each with its expected outcome.
//!
//! * `chains.tsv` says, for every chain fixture, what smime-lint and `openssl verify -purpose
//!   smimeencrypt` answer; `every_chain_fixture` holds smime-lint to it (one case per fixture),
//!   `openssl_agrees_on_every_chain` runs openssl (when on PATH) and holds it to the same table
//!   and to smime-lint's verdict, except where the table documents a deliberate difference.
//! * `expected/NAME.certs.json` is the `certs --format json` output of each chain fixture;
//!   `harvest/NAME.expected.json` what harvesting each signed message yields, per address.
//!
//! `UPDATE_EXPECTED=1 cargo test --test pki_hostile` rewrites the expected files; review the
//! diff.

use rstest::rstest;
use serde_json::{json, Value};
use smime_lint::compose::{decide, ComposeOptions};
use smime_lint::harvest::harvest_message;
use smime_lint::message::{Recipient, RecipientField};
use smime_lint::{Address, CertStore, Certificate, HarvestBinding, Policy, Provenance, Time};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const AT: Time = Time::from_unix(1_780_272_000); // 2026-06-01T00:00:00Z
const AT_TEXT: &str = "2026-06-01T00:00:00Z";
const DIR: &str = "testdata/pki-hostile";

fn path(relative: &str) -> PathBuf {
    Path::new(DIR).join(relative)
}

fn addr(text: &str) -> Address {
    Address::parse(text).unwrap()
}

/// One line of chains.tsv.
#[derive(Clone, Debug)]
struct Chain {
    name: String,
    leaf: String,
    inters: Vec<String>,
    address: String,
    policy: String,
    smime_lint: String,
    openssl: String,
    note: String,
}

impl Chain {
    fn policy(&self) -> Policy {
        Policy { allow_sha1_signatures: self.policy == "allow-sha1", ..Policy::default() }
    }

    fn leaf_path(&self) -> PathBuf {
        path(&format!("leaves/{}.pem", self.leaf))
    }

    fn inter_paths(&self) -> Vec<PathBuf> {
        self.inters.iter().map(|i| path(&format!("ca/{i}.pem"))).collect()
    }

    fn store(&self) -> CertStore {
        let mut store = CertStore::new();
        store.load_path(&self.leaf_path()).unwrap();
        for inter in self.inter_paths() {
            store.load_path(&inter).unwrap();
        }
        store.load_trust_path(&path("ca/root.pem")).unwrap();
        store
    }

    /// `usable`, or the blocking reason codes, as chains.tsv writes them.
    fn smime_lint_verdict(&self) -> (String, Vec<String>) {
        let store = self.store();
        let leaf = store
            .iter()
            .find(|c| c.provenance().label().ends_with(&format!("/{}.pem", self.leaf)))
            .unwrap()
            .clone();
        let reasons = store.check(&leaf, &addr(&self.address), AT, &self.policy());
        let blocking: Vec<_> = reasons.iter().filter(|r| r.is_blocking()).collect();
        let messages = reasons.iter().map(|r| r.message(&addr(&self.address))).collect();
        if blocking.is_empty() {
            ("usable".to_owned(), messages)
        } else {
            (blocking.iter().map(|r| r.code()).collect::<Vec<_>>().join(","), messages)
        }
    }
}

fn chains() -> Vec<Chain> {
    let text = std::fs::read_to_string(path("chains.tsv")).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            assert!(f.len() >= 7, "chains.tsv: {line:?}");
            Chain {
                name: f[0].to_owned(),
                leaf: f[1].to_owned(),
                inters: f[2].split(',').map(str::to_owned).collect(),
                address: f[3].to_owned(),
                policy: f[4].to_owned(),
                smime_lint: f[5].to_owned(),
                openssl: f[6].to_owned(),
                note: f.get(7).copied().unwrap_or_default().to_owned(),
            }
        })
        .collect()
}

fn chain(name: &str) -> Chain {
    chains()
        .into_iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("{name} not in chains.tsv"))
}

/// The verdict of chains.tsv, and the words that must appear in the reason (which link failed).
#[rstest]
#[case::good("good", &[])]
#[case::contradict("contradict", &[])]
#[case::kelvin_sign("kelvin-sign", &[])]
#[case::sha1_leaf("sha1-leaf", &["certificate \"CN=Sam SHA-1", "SHA-1"])]
#[case::sha1_leaf_allowed("sha1-leaf-allowed", &[])]
#[case::sha1_ca("sha1-ca", &["intermediate \"CN=SHA-1 Signed CA", "SHA-1"])]
#[case::sha1_ca_allowed("sha1-ca-allowed", &[])]
#[case::md5_ca("md5-ca", &["intermediate \"CN=MD5 Signed CA", "MD5"])]
#[case::md5_ca_allow_sha1("md5-ca-allow-sha1", &["MD5", "never accepted"])]
#[case::rsa1024_ca("rsa1024-ca", &["intermediate \"CN=RSA-1024 CA", "1024-bit RSA key"])]
#[case::crit_leaf("crit-leaf", &["critical extension 1.3.6.1.4.1.55555.2"])]
#[case::crit_ca("crit-ca", &["intermediate \"CN=Critical-Extension CA", "1.3.6.1.4.1.55555.1"])]
#[case::eku_server_ca("eku-server-ca", &["intermediate \"CN=Server-EKU CA", "emailProtection"])]
#[case::eku_email_ca("eku-email-ca", &[])]
#[case::eku_any_ca("eku-any-ca", &[])]
#[case::ca_as_leaf("ca-as-leaf", &["is a CA certificate"])]
#[case::keycertsign_leaf("keycertsign-leaf", &["is a CA certificate"])]
#[case::nc_inside("nc-inside", &[])]
#[case::nc_subdomain("nc-subdomain", &[])]
#[case::nc_outside("nc-outside", &["eve@victim.test is outside the permitted subtrees (rfc822Name example.org, rfc822Name .example.org)"])]
#[case::nc_excluded("nc-excluded", &["ceo@example.org is inside the excluded subtree rfc822Name ceo@example.org"])]
#[case::nc_excluded_upper_case("nc-excluded-upper-case", &["ceo@example.org is inside the excluded subtree"])]
#[case::nc_second_san("nc-second-san", &["alice@victim.test is outside the permitted subtrees"])]
#[case::nc_subject_email("nc-subject-email", &["alice@victim.test is outside the permitted subtrees"])]
#[case::nc_subject_only("nc-subject-only", &["alice@victim.test is outside the permitted subtrees"])]
#[case::nc_dns_inside("nc-dns-inside", &[])]
#[case::nc_dns_outside("nc-dns-outside", &["the DNS name dora.evil.test is outside the permitted subtrees (dNSName example.org)"])]
#[case::nc_sub_ca_inside("nc-sub-ca-inside", &[])]
#[case::nc_sub_ca_widening("nc-sub-ca-widening", &["intermediate \"CN=Email-Constrained CA", "eve@victim.test is outside"])]
#[case::nc_dir_inside("nc-dir-inside", &[])]
#[case::nc_dir_outside("nc-dir-outside", &["directory name \"CN=Dirk Outside,O=Elsewhere\" is outside"])]
#[case::nc_upn_form("nc-upn-form", &["otherName 1.3.6.1.4.1.311.20.2.3", "does not implement"])]
#[case::nc_upn_absent("nc-upn-absent", &[])]
#[case::nc_smtputf8_excluded("nc-smtputf8-excluded", &["jörg@victim.test is inside the excluded subtree SmtpUTF8Mailbox victim.test"])]
#[case::nc_idn_inside("nc-idn-inside", &[])]
#[case::nc_idn_excluded_subdomain("nc-idn-excluded-subdomain", &["inside the excluded subtree rfc822Name .secret.xn--bcher-kva.example"])]
fn every_chain_fixture(#[case] name: &str, #[case] words: &[&str]) {
    let chain = chain(name);
    let (verdict, messages) = chain.smime_lint_verdict();
    assert_eq!(verdict, chain.smime_lint, "{name}: {messages:#?}");
    let text = messages.join("\n");
    for word in words {
        assert!(text.contains(word), "{name}: {word:?} not in {text}");
    }
}

#[test]
fn the_table_and_the_cases_cover_every_leaf() {
    let chains = chains();
    for entry in std::fs::read_dir(path("leaves")).unwrap() {
        let file = entry.unwrap().file_name().to_string_lossy().into_owned();
        let leaf = file.trim_end_matches(".pem");
        assert!(chains.iter().any(|c| c.leaf == leaf), "{file} is in no line of chains.tsv");
    }
    let source = std::fs::read_to_string("tests/pki_hostile.rs").unwrap();
    for c in &chains {
        assert!(source.contains(&format!("(\"{}\"", c.name)), "{} has no test case", c.name);
    }
}

/// `openssl verify` for one line of chains.tsv: `OK` or `error N`. `None`: no openssl.
fn openssl_verdict(chain: &Chain) -> Option<String> {
    let bundle = std::env::temp_dir().join(format!("smime-lint-pki-hostile-{}.pem", chain.name));
    let mut pem = Vec::new();
    for inter in chain.inter_paths() {
        pem.extend(std::fs::read(inter).unwrap());
    }
    std::fs::write(&bundle, pem).unwrap();
    let level = if chain.policy == "allow-sha1" { "0" } else { "2" };
    let out = Command::new("openssl")
        .args(["verify", "-auth_level", level, "-purpose", "smimeencrypt"])
        .args(["-attime", &AT.unix().to_string(), "-CAfile"])
        .arg(path("ca/root.pem"))
        .arg("-untrusted")
        .arg(&bundle)
        .arg(chain.leaf_path())
        .output()
        .ok()?;
    let _ = std::fs::remove_file(&bundle);
    if out.status.success() {
        return Some("OK".to_owned());
    }
    let text = String::from_utf8_lossy(&out.stdout) + String::from_utf8_lossy(&out.stderr);
    let code = text
        .split("error ")
        .skip(1)
        .find_map(|rest| rest.split_whitespace().next()?.parse::<u32>().ok())
        .map_or_else(|| format!("error ? ({text})"), |n| format!("error {n}"));
    Some(code)
}

#[test]
fn openssl_agrees_on_every_chain() {
    if Command::new("openssl").arg("version").output().is_err() {
        println!(
            "skipped: no openssl on PATH, so the cross-check against `openssl verify` did not run"
        );
        return;
    }
    let mut problems = Vec::new();
    for chain in chains() {
        let Some(openssl) = openssl_verdict(&chain) else { continue };
        if openssl != chain.openssl {
            problems.push(format!(
                "{}: openssl says {openssl}, chains.tsv {}",
                chain.name, chain.openssl
            ));
        }
        let (ours, _) = chain.smime_lint_verdict();
        let agree = (ours == "usable") == (openssl == "OK");
        let documented = chain.note.starts_with("differs:");
        if agree == documented {
            problems.push(format!(
                "{}: smime-lint {ours}, openssl {openssl}, and the note {:?} {}",
                chain.name,
                chain.note,
                if documented { "claims a difference" } else { "does not explain it" }
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Compares `actual` with the file, or rewrites it under UPDATE_EXPECTED.
fn golden(expected: &Path, actual: &str) {
    if std::env::var_os("UPDATE_EXPECTED").is_some() {
        std::fs::create_dir_all(expected.parent().unwrap()).unwrap();
        std::fs::write(expected, actual).unwrap();
        return;
    }
    let want = std::fs::read_to_string(expected)
        .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_EXPECTED=1 writes it)", expected.display()));
    assert_eq!(
        actual,
        want,
        "{} differs (UPDATE_EXPECTED=1 rewrites; review the diff)",
        expected.display()
    );
}

fn smime_lint(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_smime-lint")).args(args).output().expect("binary runs")
}

/// Every chain fixture's `certs --format json`, as the real binary prints it.
#[test]
fn certs_json_of_every_chain_fixture() {
    let mut seen = Vec::new();
    for chain in chains() {
        if chain.policy != "default" || seen.contains(&chain.leaf) {
            continue;
        }
        seen.push(chain.leaf.clone());
        let mut args = vec!["certs".to_owned(), "--format".into(), "json".into(), "--at".into()];
        args.push(AT_TEXT.into());
        for p in std::iter::once(chain.leaf_path()).chain(chain.inter_paths()) {
            args.extend(["--certs".to_owned(), p.display().to_string()]);
        }
        args.extend(["--trust".to_owned(), path("ca/root.pem").display().to_string()]);
        let out = smime_lint(&args.iter().map(String::as_str).collect::<Vec<_>>());
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        golden(
            &path(&format!("expected/{}.certs.json", chain.leaf)),
            &String::from_utf8(out.stdout).unwrap(),
        );
    }
}

#[test]
fn a_subject_email_the_san_contradicts_is_no_name_of_the_certificate() {
    let chain = chain("contradict");
    let store = chain.store();
    let alice = addr("alice@victim.test");
    let status = store.evaluate(&alice, AT, &Policy::default());
    assert!(!status.is_encryptable());
    let codes: Vec<_> = status.reasons().iter().map(|r| r.code()).collect();
    assert_eq!(codes, ["subject-email-not-in-san"]);
    assert!(store.evaluate(&addr("bob@example.org"), AT, &Policy::default()).is_encryptable());
    // Without any SAN mailbox, the legacy subject emailAddress still counts (with a warning).
    let mut store = CertStore::new();
    store.load_path("testdata/certs/store/judy-subject-only.pem".as_ref()).unwrap();
    let status = store.evaluate(&addr("judy@example.com"), AT, &Policy::default());
    assert!(status.is_encryptable());
    assert_eq!(status.reasons()[0].code(), "address-only-in-subject");
}

#[test]
fn the_kelvin_sign_is_not_a_k() {
    let mut store = CertStore::new();
    store.load_path(&path("leaves/kelvin.pem")).unwrap();
    assert_eq!(store.for_address(&addr("kelvin@example.org")).count(), 0);
    assert_eq!(store.for_address(&addr("Kelvin@example.org")).count(), 0);
    assert_eq!(store.for_address(&addr("\u{212A}elvin@example.org")).count(), 1);
    // The real binary: a draft to kelvin@example.org finds no certificate.
    let out = smime_lint(&[
        "check",
        "--certs",
        &path("leaves/kelvin.pem").display().to_string(),
        "--at",
        AT_TEXT,
        "--from",
        "gina@example.org",
        "--to",
        "kelvin@example.org",
        "--format",
        "json",
    ]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["recipients"][0]["address"], "kelvin@example.org");
    assert_eq!(v["recipients"][0]["encryptable"], false);
    assert_eq!(v["recipients"][0]["reasons"][0]["code"], "no-certificate");
}

// --- harvesting ----------------------------------------------------------------------------

fn harvest(name: &str) -> Vec<Certificate> {
    let raw = std::fs::read(path(&format!("harvest/{name}.eml"))).unwrap();
    harvest_message(&raw, &format!("{name}.eml"))
}

fn store_of(certs: &[Certificate]) -> CertStore {
    let mut store = CertStore::new();
    for cert in certs {
        store.add(cert.clone());
    }
    store
}

fn codes_for(store: &CertStore, address: &str) -> Vec<&'static str> {
    let status = store.evaluate(&addr(address), AT, &Policy::default());
    status
        .candidates
        .first()
        .map(|v| v.reasons.iter().map(|r| r.code()).collect())
        .unwrap_or_default()
}

/// What harvesting each signed message yields: the binding, and per address the reasons.
#[rstest]
#[case::mallory_names_alice("mallory-names-alice")]
#[case::alice_sends_mallorys_cert("alice-sends-mallorys-cert")]
#[case::sam_self_signed("sam-self-signed")]
#[case::enc_only_signer("enc-only-signer")]
#[case::gina_ca_issued("gina-ca-issued")]
fn every_signed_message_harvests_as_expected(#[case] name: &str) {
    let certs = harvest(name);
    let store = store_of(&certs);
    let report: Vec<Value> = certs
        .iter()
        .map(|cert| {
            let binding = match cert.provenance() {
                Provenance::Harvested { binding: HarvestBinding::Verified { senders }, .. } => {
                    json!({"verified": senders})
                }
                Provenance::Harvested { binding: HarvestBinding::Unverified(why), .. } => {
                    json!({"unverified": why})
                }
                other => json!({"other": other.label()}),
            };
            let addresses: Vec<Value> = cert
                .addresses()
                .iter()
                .map(|named| {
                    let reasons = store.check(cert, &named.address, AT, &Policy::default());
                    json!({
                        "address": named.address,
                        "reasons": reasons.iter().map(|r| r.report(&named.address)).collect::<Vec<_>>(),
                    })
                })
                .collect();
            json!({"subject": cert.subject_display(), "sha256": cert.sha256_hex(),
                   "binding": binding, "addresses": addresses})
        })
        .collect();
    golden(
        &path(&format!("harvest/{name}.expected.json")),
        &(serde_json::to_string_pretty(&report).unwrap() + "\n"),
    );
}

#[test]
fn a_harvest_binds_only_the_address_the_mail_came_from() {
    let certs = harvest("mallory-names-alice");
    assert_eq!(certs.len(), 1);
    assert!(matches!(
        certs[0].provenance(),
        Provenance::Harvested { binding: HarvestBinding::Verified { senders }, .. }
            if senders == &[addr("mallory@evil.test")]
    ));
    let mut store = store_of(&certs);
    assert_eq!(codes_for(&store, "mallory@evil.test"), ["harvested-self-signed"]);
    assert_eq!(codes_for(&store, "alice@victim.org"), ["harvested-unverified"]);
    let alice = store.evaluate(&addr("alice@victim.org"), AT, &Policy::default());
    let message = alice.reasons()[0].message(&addr("alice@victim.org"));
    assert!(message.contains("it came in signed mail from mallory@evil.test"), "{message}");
    // The same certificate in mail from alice's address binds it to alice as well.
    for cert in harvest("alice-sends-mallorys-cert") {
        store.add(cert);
    }
    assert_eq!(store.len(), 1);
    assert_eq!(codes_for(&store, "alice@victim.org"), ["harvested-self-signed"]);
    assert_eq!(codes_for(&store, "mallory@evil.test"), ["harvested-self-signed"]);
}

#[test]
fn a_signer_whose_key_usage_forbids_signing_binds_nothing() {
    let certs = harvest("enc-only-signer");
    let store = store_of(&certs);
    assert_eq!(codes_for(&store, "enc@example.org"), ["harvested-unverified"]);
    let status = store.evaluate(&addr("enc@example.org"), AT, &Policy::default());
    let message = status.reasons()[0].message(&addr("enc@example.org"));
    assert!(message.contains("neither digitalSignature nor nonRepudiation"), "{message}");
}

#[test]
fn a_ca_issued_harvest_is_not_flagged_and_an_anchor_settles_a_self_signed_one() {
    let gina = store_of(&harvest("gina-ca-issued"));
    assert!(codes_for(&gina, "gina@example.org").is_empty());
    // With the root trusted: gina chains (given her intermediate), sam's self-signed certificate
    // does not, and trusting sam's own certificate lifts the warning.
    let mut store = store_of(&harvest("gina-ca-issued"));
    store.load_path(&path("ca/inter.pem")).unwrap();
    store.load_trust_path(&path("ca/root.pem")).unwrap();
    assert!(codes_for(&store, "gina@example.org").is_empty());
    let mut sam = store_of(&harvest("sam-self-signed"));
    sam.load_trust_path(&path("ca/root.pem")).unwrap();
    assert_eq!(codes_for(&sam, "sam@example.org"), ["untrusted", "harvested-self-signed"]);
    sam.load_trust_path(&path("harvest/sam.pem")).unwrap();
    assert!(codes_for(&sam, "sam@example.org").is_empty());
}

/// `check`'s decision (compose) flags a recipient whose only certificate is self-signed and
/// harvested: the decision still encrypts, and says what the certificate does not prove.
#[test]
fn the_compose_decision_flags_a_self_signed_harvest() {
    let store = store_of(&harvest("sam-self-signed"));
    let sam = Recipient { address: addr("sam@example.org"), field: RecipientField::To };
    let decision = decide(&store, None, &[sam], AT, &ComposeOptions::default());
    let status = &decision.recipients[0].status;
    assert!(status.is_encryptable());
    let reasons = status.reasons();
    assert_eq!(reasons.iter().map(|r| r.code()).collect::<Vec<_>>(), ["harvested-self-signed"]);
    let message = reasons[0].message(&addr("sam@example.org"));
    assert!(
        message.contains("proves the sender holds its key, not that the mail came from"),
        "{message}"
    );
}

/// `audit --harvest`: mail encrypted to a self-signed harvested certificate is flagged.
#[test]
fn audit_flags_mail_encrypted_to_a_self_signed_harvest() {
    let out = smime_lint(&[
        "audit",
        "--harvest",
        "--at",
        AT_TEXT,
        "--format",
        "json",
        &path("harvest/sam-self-signed.eml").display().to_string(),
        &path("mail/to-sam.eml").display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let reports: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let to_sam =
        reports.iter().find(|r| r["path"].as_str().unwrap().ends_with("to-sam.eml")).unwrap();
    let findings = to_sam["findings"].as_array().unwrap();
    let flagged = findings
        .iter()
        .find(|f| {
            f["rule"] == "encrypted-to-unusable-certificate" && f["address"] == "sam@example.org"
        })
        .unwrap_or_else(|| panic!("{findings:#?}"));
    let message = flagged["message"].as_str().unwrap();
    assert!(
        message.contains("nothing vouched for") && message.contains("self-signed"),
        "{message}"
    );
    assert_eq!(flagged["severity"], "warning");
}

/// `audit --allow-sha1`: a SHA-1 link is untrusted by default and accepted on request.
#[test]
fn audit_refuses_sha1_chains_unless_allowed() {
    let run = |extra: &[&str]| {
        let mut args = vec![
            "audit".to_owned(),
            "--at".into(),
            AT_TEXT.into(),
            "--format".into(),
            "json".into(),
            "--certs".into(),
            path("leaves/sha1-ca-leaf.pem").display().to_string(),
            "--certs".into(),
            path("ca/sha1-ca.pem").display().to_string(),
            "--certs".into(),
            path("leaves/good.pem").display().to_string(),
            "--certs".into(),
            path("ca/inter.pem").display().to_string(),
            "--trust".into(),
            path("ca/root.pem").display().to_string(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        args.push(path("mail/to-sha1-chain.eml").display().to_string());
        let out = smime_lint(&args.iter().map(String::as_str).collect::<Vec<_>>());
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == "encrypted-to-unusable-certificate")
            .map(|f| f["message"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    let refused = run(&[]);
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert!(
        refused[0].contains("intermediate \"CN=SHA-1 Signed CA") && refused[0].contains("SHA-1"),
        "{refused:?}"
    );
    assert!(run(&["--allow-sha1"]).is_empty());
}

proptest::proptest! {
    /// A damaged constrained CA never makes evaluation panic, and never makes a certificate
    /// outside its subtree usable: it either still constrains, or it no longer loads, or it no
    /// longer verifies (and then nothing chains through it).
    #[test]
    fn a_damaged_constrained_ca_never_panics_nor_opens_up(
        index in 0usize..4096,
        byte in proptest::num::u8::ANY,
    ) {
        let pem = std::fs::read_to_string(path("ca/nc-email.pem")).unwrap();
        let (_, mut der) = pem_rfc7468::decode_vec(pem.as_bytes()).unwrap();
        let len = der.len();
        der[index % len] = byte;
        for (leaf, address) in [("nc-outside", "eve@victim.test"), ("nc-inside", "alice@example.org")] {
            let mut store = CertStore::new();
            store.load_path(&path(&format!("leaves/{leaf}.pem"))).unwrap();
            let _ = store.add_bytes(&der, smime_lint::Provenance::Inline("mutated".into()));
            store.load_trust_path(&path("ca/root.pem")).unwrap();
            let status = store.evaluate(&addr(address), AT, &Policy::default());
            if leaf == "nc-outside" {
                proptest::prop_assert!(!status.is_encryptable());
            }
        }
    }
}
