//! What several subcommands share: the certificate store options and the evaluation time.

use crate::output::CliError;
use clap::Args;
use smime_lint::{CertStore, Time};
use std::path::PathBuf;

/// `--certs` / `--trust`.
#[derive(Args, Debug, Clone)]
pub struct StoreArgs {
    /// Certificates: PEM (several per file), DER, PKCS#7 bundles (.p7b/.p7c), or folders
    /// (recursive). May be given several times. Without any, nobody can be shown to be able to
    /// decrypt: the run warns and exits 3.
    #[arg(long = "certs", value_name = "PATH")]
    pub certs: Vec<PathBuf>,
    /// Trust anchors: when given, a certificate must chain to one of them to be used. May be
    /// given several times.
    #[arg(long = "trust", value_name = "PATH")]
    pub trust: Vec<PathBuf>,
}

impl StoreArgs {
    /// Loads the store. A named file that cannot be read is an error (exit 2); a bad file inside
    /// a folder is a warning on standard error and the rest still loads.
    pub fn load(&self) -> Result<CertStore, CliError> {
        let mut store = CertStore::new();
        for path in &self.certs {
            store.load_path(path)?;
        }
        for path in &self.trust {
            store.load_trust_path(path)?;
        }
        for w in store.warnings() {
            eprintln!("smime-lint: warning: {}: {}", w.path.display(), w.message);
        }
        Ok(store)
    }
}

/// Parses `--at`: RFC 3339.
pub fn parse_time(text: &str) -> Result<Time, String> {
    Time::parse_rfc3339(text)
        .ok_or_else(|| format!("{text:?} is not an RFC 3339 time such as 2026-06-01T00:00:00Z"))
}

/// Whether the store can tell who decrypts at all: some certificate names an e-mail address.
pub fn names_anyone(store: &CertStore) -> bool {
    store.iter().any(|c| !c.addresses().is_empty())
}

/// Says loudly, on standard error, that the store names nobody and what that means for this
/// run (`consequence`), and how to fix it (`remedy`). Call it when [`names_anyone`] is false.
pub fn warn_store_names_nobody(
    args: &StoreArgs,
    store: &CertStore,
    consequence: &str,
    remedy: &str,
) {
    let why = if args.certs.is_empty() {
        "no --certs was given".to_string()
    } else if store.is_empty() {
        let paths: Vec<String> = args.certs.iter().map(|p| p.display().to_string()).collect();
        format!("--certs {} held no certificate", paths.join(" "))
    } else {
        format!(
            "the {} loaded {} no e-mail address",
            crate::output::count_usize(store.len(), "certificate", "certificates"),
            if store.len() == 1 { "names" } else { "name" }
        )
    };
    eprintln!("smime-lint: WARNING: the certificate store is empty: {why}.");
    eprintln!("smime-lint: WARNING: without certificates nobody can be shown to be able to decrypt: {consequence}.");
    eprintln!(
        "smime-lint: WARNING: this is NOT a clean result: the exit status is 3 (1 if errors are found). {remedy}"
    );
}
