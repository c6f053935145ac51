//! Status codes, the per-thread error message, and the guard every entry point runs in: no
//! panic crosses into C.

use std::cell::RefCell;
use std::ffi::{CStr, CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// What a call that returns a status did. `SMIME_LINT_STATUS_OK` is 0; anything else is an
/// error whose message `smime_lint_last_error()` gives.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmimeLintStatus {
    /// Success.
    Ok = 0,
    /// A required pointer argument was NULL.
    NullArgument = 1,
    /// A string argument is not UTF-8.
    InvalidUtf8 = 2,
    /// An address (from, to, cc, bcc, MAIL FROM, RCPT TO) is not an e-mail address.
    InvalidAddress = 3,
    /// A policy setting is not `RULE=ACTION` with a known rule and action.
    InvalidPolicy = 4,
    /// Another argument is out of range: an unknown intent or on-partial value, an index past
    /// the end, a SHA-256 fingerprint that is not 64 hex digits, a length too large.
    InvalidArgument = 5,
    /// A file or folder could not be read.
    Io = 6,
    /// Nothing in the input could be read as a certificate.
    Certificate = 7,
    /// A bug: a panic inside the library was caught. The call had no effect on its outputs.
    Internal = 8,
}

impl SmimeLintStatus {
    /// The stable name: `ok`, `null-argument`, ...
    pub(crate) fn name(self) -> &'static CStr {
        match self {
            SmimeLintStatus::Ok => c"ok",
            SmimeLintStatus::NullArgument => c"null-argument",
            SmimeLintStatus::InvalidUtf8 => c"invalid-utf8",
            SmimeLintStatus::InvalidAddress => c"invalid-address",
            SmimeLintStatus::InvalidPolicy => c"invalid-policy",
            SmimeLintStatus::InvalidArgument => c"invalid-argument",
            SmimeLintStatus::Io => c"io",
            SmimeLintStatus::Certificate => c"certificate",
            SmimeLintStatus::Internal => c"internal",
        }
    }

    const ALL: [SmimeLintStatus; 9] = [
        SmimeLintStatus::Ok,
        SmimeLintStatus::NullArgument,
        SmimeLintStatus::InvalidUtf8,
        SmimeLintStatus::InvalidAddress,
        SmimeLintStatus::InvalidPolicy,
        SmimeLintStatus::InvalidArgument,
        SmimeLintStatus::Io,
        SmimeLintStatus::Certificate,
        SmimeLintStatus::Internal,
    ];
}

/// A failed call: its status and the message kept for `smime_lint_last_error()`.
#[derive(Debug)]
pub(crate) struct Failure {
    pub status: SmimeLintStatus,
    pub message: String,
}

impl Failure {
    pub fn new(status: SmimeLintStatus, message: impl Into<String>) -> Failure {
        Failure { status, message: message.into() }
    }
}

impl From<lint::Error> for Failure {
    fn from(e: lint::Error) -> Failure {
        let status = match &e {
            lint::Error::Io { .. } => SmimeLintStatus::Io,
            lint::Error::Certificate { .. } => SmimeLintStatus::Certificate,
            _ => SmimeLintStatus::InvalidArgument,
        };
        Failure::new(status, e.to_string())
    }
}

thread_local! {
    /// The message of the last failed status-returning call on this thread.
    static LAST_ERROR: RefCell<Option<CString>> = const { RefCell::new(None) };
}

fn set_last_error(message: Option<&str>) {
    let message = message.map(crate::text::c_string);
    LAST_ERROR.with(|slot| {
        if let Ok(mut slot) = slot.try_borrow_mut() {
            *slot = message;
        }
    });
}

/// Runs one status-returning entry point: clears the thread's error message, runs `body` with
/// panics caught, and turns a failure or a panic into its status and message.
pub(crate) fn guard(body: impl FnOnce() -> Result<(), Failure>) -> SmimeLintStatus {
    set_last_error(None);
    let failure = match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => return SmimeLintStatus::Ok,
        Ok(Err(failure)) => failure,
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            Failure::new(SmimeLintStatus::Internal, format!("internal error (a bug): {what}"))
        }
    };
    set_last_error(Some(&failure.message));
    failure.status
}

/// Runs an entry point that returns a value rather than a status (accessors, constructors):
/// a panic gives `fallback` instead of unwinding into C. The error message is not touched.
pub(crate) fn guard_value<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}

/// The message of the last call on this thread that returned a status other than
/// `SMIME_LINT_STATUS_OK`, or NULL when the last status-returning call on this thread
/// succeeded (or none was made).
///
/// The message is kept per thread, so threads sharing a store never see each other's errors.
/// The string belongs to the library: it stays valid until the next status-returning call on
/// the same thread; copy it to keep it. Never free it.
#[unsafe(no_mangle)]
pub extern "C" fn smime_lint_last_error() -> *const c_char {
    guard_value(std::ptr::null(), || {
        LAST_ERROR.with(|slot| match slot.try_borrow() {
            // The CString lives in the thread-local until the next status-returning call.
            Ok(slot) => slot.as_ref().map_or(std::ptr::null(), |m| m.as_ptr()),
            Err(_) => std::ptr::null(),
        })
    })
}

/// The stable name of a status value (`"ok"`, `"null-argument"`, `"invalid-utf8"`,
/// `"invalid-address"`, `"invalid-policy"`, `"invalid-argument"`, `"io"`, `"certificate"`,
/// `"internal"`), or `"unknown"` for any other number. A static string: never free it.
#[unsafe(no_mangle)]
pub extern "C" fn smime_lint_status_name(status: i32) -> *const c_char {
    let name = SmimeLintStatus::ALL
        .into_iter()
        .find(|s| *s as i32 == status)
        .map_or(c"unknown", SmimeLintStatus::name);
    name.as_ptr()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn last_error() -> Option<String> {
        let p = smime_lint_last_error();
        // SAFETY: a non-null result points to the thread-local CString, valid until the next
        // status-returning call on this thread; it is copied at once.
        (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
    }

    #[test]
    fn a_panic_becomes_internal_with_its_message_and_success_clears_it() {
        let status = guard(|| panic!("boom"));
        assert_eq!(status, SmimeLintStatus::Internal);
        assert_eq!(last_error().as_deref(), Some("internal error (a bug): boom"));
        assert_eq!(guard(|| Ok(())), SmimeLintStatus::Ok);
        assert_eq!(last_error(), None);
    }

    #[test]
    fn errors_are_per_thread() {
        guard(|| Err(Failure::new(SmimeLintStatus::Io, "here")));
        std::thread::spawn(|| {
            assert_eq!(last_error(), None);
            guard(|| Err(Failure::new(SmimeLintStatus::Certificate, "there")));
            assert_eq!(last_error().as_deref(), Some("there"));
        })
        .join()
        .unwrap();
        assert_eq!(last_error().as_deref(), Some("here"));
    }

    #[test]
    fn status_names_match_and_unknown_numbers_are_named_so() {
        for s in SmimeLintStatus::ALL {
            // SAFETY: smime_lint_status_name returns a static NUL-terminated string.
            let name = unsafe { CStr::from_ptr(smime_lint_status_name(s as i32)) };
            assert_eq!(name, s.name());
        }
        // SAFETY: as above.
        let unknown = unsafe { CStr::from_ptr(smime_lint_status_name(99)) };
        assert_eq!(unknown.to_str().unwrap(), "unknown");
    }

    #[test]
    fn interior_nul_in_a_message_does_not_lose_it() {
        guard(|| Err(Failure::new(SmimeLintStatus::InvalidArgument, "a\0b")));
        assert_eq!(last_error().as_deref(), Some("a\u{fffd}b"));
    }
}
