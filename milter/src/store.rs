//! The certificate store the sessions share, replaced whole on SIGHUP.

use crate::options::StoreOptions;
use smime_lint::CertStore;
use std::sync::{Arc, RwLock};

/// The current store. A session takes the `Arc` at end of message and judges with it; a reload
/// swaps in a new one without waiting for them (they finish with the one they took).
pub struct StoreHandle {
    current: RwLock<Arc<CertStore>>,
}

impl StoreHandle {
    pub fn new(store: CertStore) -> StoreHandle {
        StoreHandle { current: RwLock::new(Arc::new(store)) }
    }

    /// The store in force now.
    pub fn current(&self) -> Arc<CertStore> {
        // A poisoned lock only means a panic while swapping an Arc: the value is whole.
        match self.current.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Puts `store` in force.
    pub fn replace(&self, store: CertStore) {
        let store = Arc::new(store);
        match self.current.write() {
            Ok(mut guard) => *guard = store,
            Err(poisoned) => *poisoned.into_inner() = store,
        }
    }
}

/// Why a store could not be (re)loaded.
#[derive(Debug)]
pub struct LoadError(pub String);

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Loads `--certs` and `--trust`. A path that cannot be read is an error; a bad file inside a
/// folder is a warning and the rest loads. With `require_certificates`, a store without any
/// certificate is an error too (a reload that finds the folder emptied keeps the old store
/// rather than refuse every encrypted message).
pub fn load(options: &StoreOptions, require_certificates: bool) -> Result<CertStore, LoadError> {
    let mut store = CertStore::new();
    for path in &options.certs {
        store.load_path(path).map_err(|e| LoadError(format!("{}: {e}", path.display())))?;
    }
    for path in &options.trust {
        store.load_trust_path(path).map_err(|e| LoadError(format!("{}: {e}", path.display())))?;
    }
    for w in store.warnings() {
        crate::log::warn(&format!("{}: {}", w.path.display(), w.message));
    }
    if require_certificates && store.is_empty() {
        return Err(LoadError("no certificate found".into()));
    }
    Ok(store)
}
