//! Reading arguments that come from C: NUL-terminated strings, arrays of them, byte buffers,
//! handles and out-parameters. Every check a C caller can fail (NULL, not UTF-8, a length too
//! large) is an error here, never undefined behaviour in the code that follows.
//!
//! What C must guarantee, and the Rust type system cannot check, is stated once in each
//! function's `# Safety` section: pointers that are not NULL point to what the header says, for
//! the duration of the call.

use crate::error::{Failure, SmimeLintStatus};
use std::ffi::{CStr, c_char};

fn null(name: &str) -> Failure {
    Failure::new(SmimeLintStatus::NullArgument, format!("{name} is NULL"))
}

/// A required string argument, borrowed for the call.
///
/// # Safety
/// `ptr` is NULL or points to a NUL-terminated string that stays valid and unchanged for `'a`.
pub(crate) unsafe fn str_arg<'a>(ptr: *const c_char, name: &str) -> Result<&'a str, Failure> {
    // SAFETY: the caller's contract, passed on.
    unsafe { opt_str_arg(ptr, name) }?.ok_or_else(|| null(name))
}

/// An optional string argument: NULL is `None`.
///
/// # Safety
/// As [`str_arg`].
pub(crate) unsafe fn opt_str_arg<'a>(
    ptr: *const c_char,
    name: &str,
) -> Result<Option<&'a str>, Failure> {
    if ptr.is_null() {
        return Ok(None);
    }
    // SAFETY: not NULL (checked above); the caller guarantees a NUL-terminated string valid
    // for 'a.
    let text = unsafe { CStr::from_ptr(ptr) };
    text.to_str().map(Some).map_err(|e| {
        Failure::new(
            SmimeLintStatus::InvalidUtf8,
            format!("{name} is not UTF-8 (invalid byte at offset {})", e.valid_up_to()),
        )
    })
}

/// An array of `len` strings; NULL is allowed when `len` is 0. Every element must be a string
/// (not NULL).
///
/// # Safety
/// `ptr` is NULL or points to `len` consecutive `const char *`, each satisfying [`str_arg`]'s
/// contract, all valid for `'a`.
pub(crate) unsafe fn str_list<'a>(
    ptr: *const *const c_char,
    len: usize,
    name: &str,
) -> Result<Vec<&'a str>, Failure> {
    // SAFETY: the caller's contract, passed on.
    let pointers = unsafe { slice_arg(ptr, len, name) }?;
    pointers
        .iter()
        .enumerate()
        // SAFETY: each element satisfies str_arg's contract (the caller's guarantee).
        .map(|(i, &p)| unsafe { str_arg(p, &format!("{name}[{i}]")) })
        .collect()
}

/// A byte buffer of `len` bytes; NULL is allowed when `len` is 0.
///
/// # Safety
/// `ptr` is NULL or points to `len` readable bytes that stay valid and unchanged for `'a`.
pub(crate) unsafe fn bytes_arg<'a>(
    ptr: *const u8,
    len: usize,
    name: &str,
) -> Result<&'a [u8], Failure> {
    // SAFETY: the caller's contract, passed on.
    unsafe { slice_arg(ptr, len, name) }
}

/// `len` values of `T` at `ptr`; NULL is allowed (as empty) when `len` is 0.
///
/// # Safety
/// `ptr` is NULL or points to `len` initialised, properly aligned values of `T` that stay
/// valid and unchanged for `'a`.
unsafe fn slice_arg<'a, T>(ptr: *const T, len: usize, name: &str) -> Result<&'a [T], Failure> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(null(name));
    }
    // `from_raw_parts` requires the slice to span at most isize::MAX bytes.
    if len.checked_mul(size_of::<T>()).is_none_or(|bytes| bytes > isize::MAX as usize) {
        return Err(Failure::new(
            SmimeLintStatus::InvalidArgument,
            format!("{name}: length {len} is too large"),
        ));
    }
    if !ptr.is_aligned() {
        return Err(Failure::new(
            SmimeLintStatus::InvalidArgument,
            format!("{name} is misaligned"),
        ));
    }
    // SAFETY: not NULL, aligned, at most isize::MAX bytes (checked above); the caller
    // guarantees `len` initialised values valid and unchanged for 'a.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// A handle argument the library handed out, borrowed shared for the call.
///
/// # Safety
/// `ptr` is NULL or a pointer this library returned for a `T` and that has not been freed; no
/// other thread changes or frees it during the call.
pub(crate) unsafe fn handle<'a, T>(ptr: *const T, name: &str) -> Result<&'a T, Failure> {
    // SAFETY: a non-NULL pointer is a live Box<T> the library leaked (the caller's contract),
    // so it is aligned, initialised and valid for 'a.
    unsafe { ptr.as_ref() }.ok_or_else(|| null(name))
}

/// A handle argument borrowed exclusively for the call.
///
/// # Safety
/// As [`handle`], and no other call uses the handle at the same time.
pub(crate) unsafe fn handle_mut<'a, T>(ptr: *mut T, name: &str) -> Result<&'a mut T, Failure> {
    // SAFETY: a non-NULL pointer is a live Box<T> the library leaked, and nothing else
    // accesses it during the call (the caller's contract).
    unsafe { ptr.as_mut() }.ok_or_else(|| null(name))
}

/// Writes `value` to an optional out-parameter (NULL: not wanted).
///
/// # Safety
/// `ptr` is NULL or points to writable, properly aligned memory for a `T`.
pub(crate) unsafe fn write_opt<T>(ptr: *mut T, value: T) {
    if !ptr.is_null() {
        // SAFETY: not NULL; the caller guarantees writable, aligned memory for a T. `write`
        // does not drop the old contents, which C may have left uninitialised.
        unsafe { ptr.write(value) }
    }
}

/// Checks that a required out-parameter is not NULL.
pub(crate) fn required_out<T>(ptr: *mut T, name: &str) -> Result<(), Failure> {
    if ptr.is_null() { Err(null(name)) } else { Ok(()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_and_non_utf8_strings_are_errors() {
        // SAFETY: NULL is allowed by the contract.
        let e = unsafe { str_arg(std::ptr::null(), "path") }.unwrap_err();
        assert_eq!((e.status, e.message.as_str()), (SmimeLintStatus::NullArgument, "path is NULL"));
        let latin1 = c"caf\xe9";
        // SAFETY: a NUL-terminated literal, static.
        let e = unsafe { str_arg(latin1.as_ptr(), "to[0]") }.unwrap_err();
        assert_eq!(e.status, SmimeLintStatus::InvalidUtf8);
        assert!(e.message.starts_with("to[0] is not UTF-8"), "{}", e.message);
    }

    #[test]
    fn lists_may_be_null_only_when_empty_and_name_the_bad_element() {
        // SAFETY: NULL with length 0 is allowed.
        assert!(unsafe { str_list(std::ptr::null(), 0, "cc") }.unwrap().is_empty());
        // SAFETY: as above; the NULL is caught before any read.
        let e = unsafe { str_list(std::ptr::null(), 2, "cc") }.unwrap_err();
        assert_eq!(e.status, SmimeLintStatus::NullArgument);
        let items = [c"a@example.com".as_ptr(), std::ptr::null()];
        // SAFETY: two valid pointers (one NULL, which is checked) in a live array.
        let e = unsafe { str_list(items.as_ptr(), 2, "cc") }.unwrap_err();
        assert_eq!(e.message, "cc[1] is NULL");
    }

    #[test]
    fn absurd_lengths_are_refused_before_any_read() {
        let byte = 0u8;
        // SAFETY: the length check fails before the pointer is read.
        let e = unsafe { bytes_arg(&byte, usize::MAX, "message") }.unwrap_err();
        assert_eq!(e.status, SmimeLintStatus::InvalidArgument);
    }
}
