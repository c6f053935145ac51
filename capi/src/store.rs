//! The certificate store handle: create, load (paths and bytes), remove, free.

use crate::args::{bytes_arg, handle, handle_mut, opt_str_arg, str_arg, write_opt};
use crate::error::{Failure, SmimeLintStatus, guard, guard_value};
use lint::{CertStore, Provenance};
use std::ffi::c_char;
use std::path::Path;

/// A certificate store: recipients' certificates indexed by address, plus optional trust
/// anchors. Opaque; create with `smime_lint_store_new`, free with `smime_lint_store_free`.
///
/// Thread safety: any number of threads may use one store at the same time for the calls that
/// take it `const` (`smime_lint_compose`, `smime_lint_presend`, `smime_lint_store_len`). The
/// calls that change it (load, add, remove, free) need it to themselves: no other call on the
/// same store may run meanwhile (guard it with a reader-writer lock).
pub struct SmimeLintStore {
    pub(crate) inner: CertStore,
}

/// A new, empty store without trust anchors. Never NULL except when memory runs out; free it
/// with `smime_lint_store_free`.
#[unsafe(no_mangle)]
pub extern "C" fn smime_lint_store_new() -> *mut SmimeLintStore {
    guard_value(std::ptr::null_mut(), || {
        Box::into_raw(Box::new(SmimeLintStore { inner: CertStore::new() }))
    })
}

/// Frees a store. NULL is ignored. Results already computed with it stay valid: they do not
/// refer to the store.
///
/// # Safety
/// `store` is NULL or a store from `smime_lint_store_new` not yet freed, which no other call
/// is using, and which is not used again.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smime_lint_store_free(store: *mut SmimeLintStore) {
    if store.is_null() {
        return;
    }
    guard_value((), || {
        // SAFETY: `store` came from Box::into_raw in smime_lint_store_new and is freed once
        // (the caller's contract); nothing else uses it now.
        drop(unsafe { Box::from_raw(store) });
    });
}

/// Loads certificates from a file or a folder (recursively): PEM, DER, PKCS #7 bundles
/// (`.p7b`, `.p7c`). Folders load files named `*.pem`, `*.crt`, `*.cer`, `*.cert`, `*.der`,
/// `*.p7b`, `*.p7c`, `*.p7`, skipping hidden ones; a file in a folder that cannot be read is
/// skipped (the rest loads). A named file that cannot be read or holds no certificate is an
/// error (`SMIME_LINT_STATUS_IO` or `SMIME_LINT_STATUS_CERTIFICATE`).
///
/// `added` (may be NULL) receives how many certificates were new to the store.
///
/// # Safety
/// `store` is a live store that no other call uses meanwhile; `path` is NULL or a
/// NUL-terminated string; `added` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smime_lint_store_load_path(
    store: *mut SmimeLintStore,
    path: *const c_char,
    added: *mut usize,
) -> SmimeLintStatus {
    guard(|| {
        // SAFETY: the caller's contract (see # Safety).
        let (store, path) = unsafe { (handle_mut(store, "store")?, str_arg(path, "path")?) };
        let n = store.inner.load_path(Path::new(path))?;
        // SAFETY: `added` is NULL or writable (the caller's contract).
        unsafe { write_opt(added, n) };
        Ok(())
    })
}

/// Loads trust anchors from a file or folder, with the formats and rules of
/// `smime_lint_store_load_path`. Once a store has trust anchors, a recipient's certificate is
/// usable only if it chains to one (through CA certificates loaded into the store).
///
/// # Safety
/// As `smime_lint_store_load_path`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smime_lint_store_load_trust_path(
    store: *mut SmimeLintStore,
    path: *const c_char,
    added: *mut usize,
) -> SmimeLintStatus {
    guard(|| {
        // SAFETY: the caller's contract (see # Safety).
        let (store, path) = unsafe { (handle_mut(store, "store")?, str_arg(path, "path")?) };
        let n = store.inner.load_trust_path(Path::new(path))?;
        // SAFETY: `added` is NULL or writable (the caller's contract).
        unsafe { write_opt(added, n) };
        Ok(())
    })
}

/// Adds the certificates in a buffer: PEM (any number of CERTIFICATE, PKCS7 or CMS blocks),
/// one DER certificate, or a DER PKCS #7 certs-only bundle. `label` (may be NULL) names the
/// source in results (the JSON `source` field); NULL gives `"memory"`. An error
/// (`SMIME_LINT_STATUS_CERTIFICATE`) when nothing could be read. The library copies what it
/// keeps: the buffer may be freed after the call.
///
/// # Safety
/// `store` is a live store that no other call uses meanwhile; `bytes` points to `len`
/// readable bytes (NULL only when `len` is 0); `label` is NULL or a NUL-terminated string;
/// `added` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smime_lint_store_add_bytes(
    store: *mut SmimeLintStore,
    bytes: *const u8,
    len: usize,
    label: *const c_char,
    added: *mut usize,
) -> SmimeLintStatus {
    // SAFETY: the caller's contract, passed on.
    guard(|| unsafe { add_bytes(store, bytes, len, label, added, false) })
}

/// Adds trust anchors from a buffer, with the formats and rules of
/// `smime_lint_store_add_bytes` (a mobile client ships its anchors inside the app).
///
/// # Safety
/// As `smime_lint_store_add_bytes`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smime_lint_store_add_trust_bytes(
    store: *mut SmimeLintStore,
    bytes: *const u8,
    len: usize,
    label: *const c_char,
    added: *mut usize,
) -> SmimeLintStatus {
    // SAFETY: the caller's contract, passed on.
    guard(|| unsafe { add_bytes(store, bytes, len, label, added, true) })
}

/// # Safety
/// As `smime_lint_store_add_bytes`.
unsafe fn add_bytes(
    store: *mut SmimeLintStore,
    bytes: *const u8,
    len: usize,
    label: *const c_char,
    added: *mut usize,
    trust: bool,
) -> Result<(), Failure> {
    // SAFETY: the caller's contract (see smime_lint_store_add_bytes).
    let (store, bytes, label) = unsafe {
        (handle_mut(store, "store")?, bytes_arg(bytes, len, "bytes")?, opt_str_arg(label, "label")?)
    };
    let provenance = Provenance::Inline(label.unwrap_or("memory").to_owned());
    let n = if trust {
        store.inner.add_trust_bytes(bytes, provenance)?
    } else {
        store.inner.add_bytes(bytes, provenance)?
    };
    // SAFETY: `added` is NULL or writable (the caller's contract).
    unsafe { write_opt(added, n) };
    Ok(())
}

/// Removes the certificate with this SHA-256 fingerprint (64 hex digits, either case: the JSON
/// `sha256` field) from the store; trust anchors are not affected. `removed` (may be NULL)
/// receives whether it was there. Every later decision is as if it had never been loaded.
///
/// # Safety
/// `store` is a live store that no other call uses meanwhile; `sha256_hex` is NULL or a
/// NUL-terminated string; `removed` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smime_lint_store_remove(
    store: *mut SmimeLintStore,
    sha256_hex: *const c_char,
    removed: *mut bool,
) -> SmimeLintStatus {
    guard(|| {
        // SAFETY: the caller's contract (see # Safety).
        let (store, text) =
            unsafe { (handle_mut(store, "store")?, str_arg(sha256_hex, "sha256_hex")?) };
        let mut sha256 = [0u8; 32];
        hex::decode_to_slice(text.trim(), &mut sha256).map_err(|_| {
            Failure::new(
                SmimeLintStatus::InvalidArgument,
                format!("sha256_hex {text:?} is not 64 hexadecimal digits"),
            )
        })?;
        let gone = store.inner.remove(&sha256).is_some();
        // SAFETY: `removed` is NULL or writable (the caller's contract).
        unsafe { write_opt(removed, gone) };
        Ok(())
    })
}

/// The number of certificates in the store (trust anchors not counted); 0 for NULL.
///
/// # Safety
/// `store` is NULL or a live store that no other call changes meanwhile.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smime_lint_store_len(store: *const SmimeLintStore) -> usize {
    guard_value(0, || {
        // SAFETY: the caller's contract (see # Safety).
        unsafe { handle(store, "store") }.map_or(0, |s| s.inner.len())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::smime_lint_last_error;
    use std::ffi::CStr;

    fn last_error() -> String {
        // SAFETY: the message is valid until the next status-returning call on this thread.
        unsafe { CStr::from_ptr(smime_lint_last_error()) }.to_string_lossy().into_owned()
    }

    #[test]
    fn loads_paths_and_bytes_and_removes_by_fingerprint() {
        let store = smime_lint_store_new();
        let mut added = 0usize;
        let path = c"../testdata/certs/store/bob.pem";
        // SAFETY: a live store, a static string, a local out-parameter.
        let status = unsafe { smime_lint_store_load_path(store, path.as_ptr(), &mut added) };
        assert_eq!((status, added), (SmimeLintStatus::Ok, 1));

        let pem = std::fs::read("../testdata/certs/store/carol.pem").unwrap();
        // SAFETY: a live store, a live buffer of pem.len() bytes, a static label.
        let status = unsafe {
            smime_lint_store_add_bytes(
                store,
                pem.as_ptr(),
                pem.len(),
                c"carol".as_ptr(),
                &mut added,
            )
        };
        assert_eq!((status, added), (SmimeLintStatus::Ok, 1));
        // SAFETY: a live store.
        assert_eq!(unsafe { smime_lint_store_len(store) }, 2);

        // SAFETY: a live store; the store owns what it keeps.
        let sha = unsafe { &*store }.inner.iter().next().unwrap().sha256_hex().to_uppercase();
        let sha = std::ffi::CString::new(sha).unwrap();
        let mut removed = false;
        // SAFETY: a live store, a live string, a local out-parameter.
        let status = unsafe { smime_lint_store_remove(store, sha.as_ptr(), &mut removed) };
        assert_eq!((status, removed), (SmimeLintStatus::Ok, true));
        // SAFETY: as above.
        let status = unsafe { smime_lint_store_remove(store, sha.as_ptr(), &mut removed) };
        assert_eq!((status, removed), (SmimeLintStatus::Ok, false));
        // SAFETY: a live store.
        assert_eq!(unsafe { smime_lint_store_len(store) }, 1);
        // SAFETY: freed once, not used again.
        unsafe { smime_lint_store_free(store) };
    }

    #[test]
    fn bad_inputs_are_errors_with_messages() {
        let store = smime_lint_store_new();
        // SAFETY: a live store; NULL path and out-parameter are allowed by the contract.
        let status =
            unsafe { smime_lint_store_load_path(store, std::ptr::null(), std::ptr::null_mut()) };
        assert_eq!(status, SmimeLintStatus::NullArgument);
        assert_eq!(last_error(), "path is NULL");

        // SAFETY: a live store and a static string.
        let status = unsafe {
            smime_lint_store_load_path(
                store,
                c"../testdata/nothing-here".as_ptr(),
                std::ptr::null_mut(),
            )
        };
        assert_eq!(status, SmimeLintStatus::Io);
        assert!(last_error().contains("nothing-here"), "{}", last_error());

        let junk = b"not a certificate";
        // SAFETY: a live store and buffer.
        let status = unsafe {
            smime_lint_store_add_bytes(
                store,
                junk.as_ptr(),
                junk.len(),
                std::ptr::null(),
                std::ptr::null_mut(),
            )
        };
        assert_eq!(status, SmimeLintStatus::Certificate);
        assert!(last_error().starts_with("memory"), "{}", last_error());

        // SAFETY: a live store and a static string.
        let status =
            unsafe { smime_lint_store_remove(store, c"abc".as_ptr(), std::ptr::null_mut()) };
        assert_eq!(status, SmimeLintStatus::InvalidArgument);

        // SAFETY: a NULL store is checked before use.
        let status = unsafe {
            smime_lint_store_load_path(std::ptr::null_mut(), c"x".as_ptr(), std::ptr::null_mut())
        };
        assert_eq!(status, SmimeLintStatus::NullArgument);
        // SAFETY: NULL is allowed.
        assert_eq!(unsafe { smime_lint_store_len(std::ptr::null()) }, 0);
        // SAFETY: NULL is ignored; then the live store is freed once.
        unsafe {
            smime_lint_store_free(std::ptr::null_mut());
            smime_lint_store_free(store);
        }
    }
}
