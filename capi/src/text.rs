//! Strings handed to C: owned by a result handle, NUL-terminated, never freed by C.

use std::ffi::{CString, c_char};

/// `text` as a C string. A NUL inside (a C string cannot hold one) becomes U+FFFD.
pub(crate) fn c_string(text: &str) -> CString {
    CString::new(text.replace('\0', "\u{fffd}")).unwrap_or_default()
}

/// The string's pointer, or NULL.
pub(crate) fn opt_ptr(text: Option<&CString>) -> *const c_char {
    text.map_or(std::ptr::null(), |t| t.as_ptr())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interior_nul_is_replaced_not_truncated() {
        assert_eq!(c_string("a\0b").to_str().unwrap(), "a\u{fffd}b");
        assert!(opt_ptr(None).is_null());
    }
}
