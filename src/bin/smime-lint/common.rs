//! What several subcommands share: the certificate store options and the evaluation time.

use crate::output::CliError;
use clap::Args;
use smime_lint::{CertStore, Time};
use std::path::PathBuf;

/// `--certs` / `--trust`.
#[derive(Args, Debug, Clone)]
pub struct StoreArgs {
    /// Certificates: PEM (several per file), DER, PKCS#7 bundles (.p7b/.p7c), or folders
    /// (recursive). May be given several times.
    #[arg(long = "certs", value_name = "PATH")]
    pub certs: Vec<PathBuf>,
    /// Trust anchors: when given, a certificate must chain to one of them to be used.
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
