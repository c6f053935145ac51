//! The compose decision for a recipient list: may this draft go out encrypted?

use crate::args::{handle, opt_str_arg, required_out, str_list, write_opt};
use crate::error::{Failure, SmimeLintStatus, guard, guard_value};
use crate::store::SmimeLintStore;
use crate::text::{c_string, opt_ptr};
use lint::compose::{self, ComposeOptions, Decision, Intent, OnPartial};
use lint::message::{Recipient, RecipientField};
use lint::{Address, Time};
use std::ffi::{CString, c_char};

/// What the user asked for (the `intent` argument of `smime_lint_compose`): a plain number, so
/// that a value from C that is none of these is an error rather than undefined behaviour.
pub type SmimeLintIntent = u32;
/// Encrypt exactly when every recipient can decrypt.
pub const SMIME_LINT_INTENT_AUTO: SmimeLintIntent = 0;
/// Encrypt; if someone cannot decrypt, apply the on-partial choice.
pub const SMIME_LINT_INTENT_ON: SmimeLintIntent = 1;
/// Never encrypt.
pub const SMIME_LINT_INTENT_OFF: SmimeLintIntent = 2;

/// What to do when encryption is on and some recipient cannot decrypt (the `on_partial`
/// argument of `smime_lint_compose`).
pub type SmimeLintOnPartial = u32;
/// Do not send: the decision is `SMIME_LINT_DECISION_REFUSE`.
pub const SMIME_LINT_ON_PARTIAL_REFUSE: SmimeLintOnPartial = 0;
/// Send unencrypted, reported as `SMIME_LINT_DECISION_DOWNGRADE` so the client can ask the
/// user first.
pub const SMIME_LINT_ON_PARTIAL_DOWNGRADE: SmimeLintOnPartial = 1;

/// What happens to the message.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmimeLintDecision {
    /// Every recipient can decrypt: send encrypted.
    Encrypt = 0,
    /// Send in the clear (intent off, or auto with someone unable to decrypt).
    Plaintext = 1,
    /// Encryption was required and is not possible: do not send.
    Refuse = 2,
    /// Encryption was requested, is not possible, and on-partial allows sending in the clear:
    /// ask the user before doing so.
    Downgrade = 3,
}

/// The header field a recipient is in.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmimeLintField {
    /// `To:`
    To = 0,
    /// `Cc:`
    Cc = 1,
    /// `Bcc:` (or, for the pre-send verdict, an envelope recipient no header names).
    Bcc = 2,
}

impl From<RecipientField> for SmimeLintField {
    fn from(f: RecipientField) -> Self {
        match f {
            RecipientField::To => SmimeLintField::To,
            RecipientField::Cc => SmimeLintField::Cc,
            RecipientField::Bcc => SmimeLintField::Bcc,
        }
    }
}

/// One recipient of a compose decision, as `smime_lint_compose_recipient` fills it in. The
/// strings belong to the decision: valid until `smime_lint_compose_free`; never free them.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct SmimeLintComposeRecipient {
    /// The normalised address (`bob@example.com`).
    pub address: *const c_char,
    /// The header field it is in (the most visible one, if several).
    pub field: SmimeLintField,
    /// Whether a usable certificate was found.
    pub encryptable: bool,
    /// Not encryptable: the stable code of the first reason (`no-certificate`, `expired`, ...);
    /// encryptable: the first warning's code, or NULL when there is none.
    pub reason_code: *const c_char,
    /// A sentence explaining `reason_code`, or NULL.
    pub reason: *const c_char,
    /// What to do about it, or NULL.
    pub hint: *const c_char,
}

/// The owned text behind one [`SmimeLintComposeRecipient`].
struct RecipientText {
    address: CString,
    field: SmimeLintField,
    encryptable: bool,
    reason: Option<(CString, CString, CString)>,
}

/// The result of `smime_lint_compose`. Opaque; read it with the `smime_lint_compose_*`
/// accessors, free it with `smime_lint_compose_free`. It holds its own copies: the store may
/// change or be freed while it lives. Immutable, so any thread may read it.
pub struct SmimeLintCompose {
    decision: SmimeLintDecision,
    json: CString,
    recipients: Vec<RecipientText>,
}

/// Decides for a draft: `from` (may be NULL) sends to `to`, `cc` and `bcc` (arrays of
/// addresses; an array may be NULL when its length is 0; display-name forms such as
/// `"Bob <bob@example.com>"` are accepted; duplicates, order and letter case do not matter),
/// judged at `at` (Unix seconds: pass the current time, e.g. `smime_lint_now()`) with `intent`
/// (`SMIME_LINT_INTENT_*`) and `on_partial` (`SMIME_LINT_ON_PARTIAL_*`).
///
/// On success `*out` receives a decision to free with `smime_lint_compose_free`; on failure it
/// is set to NULL. `SMIME_LINT_STATUS_INVALID_ADDRESS` names the first address that is not one.
/// No recipients at all is allowed: the decision is then never `SMIME_LINT_DECISION_ENCRYPT`.
///
/// # Safety
/// `store` is a live store that no other call changes meanwhile; the strings are NULL or
/// NUL-terminated; each array is NULL (with length 0) or holds its length of string pointers;
/// `out` is writable.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)] // a flat C signature: no struct layout to version
pub unsafe extern "C" fn smime_lint_compose(
    store: *const SmimeLintStore,
    from: *const c_char,
    to: *const *const c_char,
    to_len: usize,
    cc: *const *const c_char,
    cc_len: usize,
    bcc: *const *const c_char,
    bcc_len: usize,
    at: i64,
    intent: SmimeLintIntent,
    on_partial: SmimeLintOnPartial,
    out: *mut *mut SmimeLintCompose,
) -> SmimeLintStatus {
    guard(|| {
        required_out(out, "out")?;
        // SAFETY: `out` is writable (the caller's contract; checked not NULL above).
        unsafe { write_opt(out, std::ptr::null_mut()) };
        // SAFETY: the caller's contract (see # Safety).
        let (store, from, lists) = unsafe {
            (
                handle(store, "store")?,
                opt_str_arg(from, "from")?,
                [
                    (str_list(to, to_len, "to")?, RecipientField::To, "to"),
                    (str_list(cc, cc_len, "cc")?, RecipientField::Cc, "cc"),
                    (str_list(bcc, bcc_len, "bcc")?, RecipientField::Bcc, "bcc"),
                ],
            )
        };
        let sender = from.map(|a| parse_address(a, "from")).transpose()?;
        let mut recipients = Vec::new();
        for (list, field, name) in lists {
            for (i, a) in list.into_iter().enumerate() {
                recipients
                    .push(Recipient { address: parse_address(a, &format!("{name}[{i}]"))?, field });
            }
        }
        let options = ComposeOptions {
            intent: match intent {
                SMIME_LINT_INTENT_AUTO => Intent::Auto,
                SMIME_LINT_INTENT_ON => Intent::On,
                SMIME_LINT_INTENT_OFF => Intent::Off,
                other => return Err(bad_value("intent", other)),
            },
            on_partial: match on_partial {
                SMIME_LINT_ON_PARTIAL_REFUSE => OnPartial::Refuse,
                SMIME_LINT_ON_PARTIAL_DOWNGRADE => OnPartial::Downgrade,
                other => return Err(bad_value("on_partial", other)),
            },
            ..ComposeOptions::default()
        };
        let d = compose::decide(
            &store.inner,
            sender.as_ref(),
            &recipients,
            Time::from_unix(at),
            &options,
        );
        let json = serde_json::to_string(&d)
            .map_err(|e| Failure::new(SmimeLintStatus::Internal, format!("JSON: {e}")))?;
        let recipients = d
            .recipients
            .iter()
            .map(|r| {
                let reasons = r.status.reasons();
                RecipientText {
                    address: c_string(r.address().as_str()),
                    field: r.field.into(),
                    encryptable: r.status.is_encryptable(),
                    reason: reasons.first().map(|first| {
                        (
                            c_string(first.code()),
                            c_string(&first.message(r.address())),
                            c_string(&first.hint(r.address())),
                        )
                    }),
                }
            })
            .collect();
        let result = SmimeLintCompose {
            decision: match d.decision {
                Decision::Encrypt => SmimeLintDecision::Encrypt,
                Decision::Plaintext => SmimeLintDecision::Plaintext,
                Decision::Refuse => SmimeLintDecision::Refuse,
                Decision::Downgrade => SmimeLintDecision::Downgrade,
            },
            json: c_string(&json),
            recipients,
        };
        // SAFETY: `out` is writable (checked not NULL above).
        unsafe { write_opt(out, Box::into_raw(Box::new(result))) };
        Ok(())
    })
}

fn parse_address(text: &str, name: &str) -> Result<Address, Failure> {
    Address::parse(text)
        .map_err(|e| Failure::new(SmimeLintStatus::InvalidAddress, format!("{name} {text:?}: {e}")))
}

fn bad_value(name: &str, value: u32) -> Failure {
    Failure::new(
        SmimeLintStatus::InvalidArgument,
        format!("{name} {value} is not one of the defined values"),
    )
}

/// The decision; `SMIME_LINT_DECISION_REFUSE` for NULL (never send on a missing answer).
///
/// # Safety
/// `decision` is NULL or a live result of `smime_lint_compose`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smime_lint_compose_decision(
    decision: *const SmimeLintCompose,
) -> SmimeLintDecision {
    guard_value(SmimeLintDecision::Refuse, || {
        // SAFETY: the caller's contract (see # Safety).
        unsafe { handle(decision, "decision") }.map_or(SmimeLintDecision::Refuse, |d| d.decision)
    })
}

/// The whole decision as JSON: the object `smime-lint check --format json` prints (status,
/// decision, intent, every recipient with certificate, reasons and candidates, the sender,
/// warnings). Belongs to the decision: valid until `smime_lint_compose_free`; never free it.
/// NULL for NULL.
///
/// # Safety
/// `decision` is NULL or a live result of `smime_lint_compose`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smime_lint_compose_json(
    decision: *const SmimeLintCompose,
) -> *const c_char {
    guard_value(std::ptr::null(), || {
        // SAFETY: the caller's contract (see # Safety).
        unsafe { handle(decision, "decision") }.map_or(std::ptr::null(), |d| d.json.as_ptr())
    })
}

/// How many distinct recipients the decision covers; 0 for NULL.
///
/// # Safety
/// `decision` is NULL or a live result of `smime_lint_compose`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smime_lint_compose_recipient_count(
    decision: *const SmimeLintCompose,
) -> usize {
    guard_value(0, || {
        // SAFETY: the caller's contract (see # Safety).
        unsafe { handle(decision, "decision") }.map_or(0, |d| d.recipients.len())
    })
}

/// Fills `*out` with recipient `index` (0-based, in order of first appearance: To, then Cc,
/// then Bcc). `SMIME_LINT_STATUS_INVALID_ARGUMENT` when `index` is past the end.
///
/// # Safety
/// `decision` is NULL or a live result of `smime_lint_compose`; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smime_lint_compose_recipient(
    decision: *const SmimeLintCompose,
    index: usize,
    out: *mut SmimeLintComposeRecipient,
) -> SmimeLintStatus {
    guard(|| {
        required_out(out, "out")?;
        // SAFETY: the caller's contract (see # Safety).
        let d = unsafe { handle(decision, "decision") }?;
        let r = d.recipients.get(index).ok_or_else(|| {
            Failure::new(
                SmimeLintStatus::InvalidArgument,
                format!("recipient {index} of {}", d.recipients.len()),
            )
        })?;
        let reason = r.reason.as_ref();
        let view = SmimeLintComposeRecipient {
            address: r.address.as_ptr(),
            field: r.field,
            encryptable: r.encryptable,
            reason_code: opt_ptr(reason.map(|r| &r.0)),
            reason: opt_ptr(reason.map(|r| &r.1)),
            hint: opt_ptr(reason.map(|r| &r.2)),
        };
        // SAFETY: `out` is writable (the caller's contract; checked not NULL above).
        unsafe { write_opt(out, view) };
        Ok(())
    })
}

/// Frees a compose decision and every string it handed out. NULL is ignored.
///
/// # Safety
/// `decision` is NULL or a result of `smime_lint_compose` not yet freed, and is not used again
/// (nor are the strings it handed out).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smime_lint_compose_free(decision: *mut SmimeLintCompose) {
    if decision.is_null() {
        return;
    }
    guard_value((), || {
        // SAFETY: the pointer came from Box::into_raw in smime_lint_compose and is freed once
        // (the caller's contract).
        drop(unsafe { Box::from_raw(decision) });
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::smime_lint_last_error;
    use crate::store::{smime_lint_store_free, smime_lint_store_load_path, smime_lint_store_new};
    use std::ffi::CStr;

    const AT: i64 = 1_780_272_000; // 2026-06-01T00:00:00Z

    fn text(p: *const c_char) -> Option<String> {
        // SAFETY: library strings are NUL-terminated and live as long as their decision, which
        // outlives this copy.
        (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
    }

    fn store() -> *mut SmimeLintStore {
        let store = smime_lint_store_new();
        // SAFETY: a live store and a static path.
        let status = unsafe {
            smime_lint_store_load_path(
                store,
                c"../testdata/certs/store".as_ptr(),
                std::ptr::null_mut(),
            )
        };
        assert_eq!(status, SmimeLintStatus::Ok);
        store
    }

    #[test]
    fn ios71_reply_all_recipients_are_not_encrypted_and_dan_lacks_a_certificate() {
        let store = store();
        let to = [c"dan@example.net".as_ptr()];
        let cc = [c"Carol <CAROL@example.org>".as_ptr()];
        let mut d = std::ptr::null_mut();
        // SAFETY: live store, static strings, arrays of the given lengths, a local out.
        let status = unsafe {
            smime_lint_compose(
                store,
                c"alice@example.com".as_ptr(),
                to.as_ptr(),
                1,
                cc.as_ptr(),
                1,
                std::ptr::null(),
                0,
                AT,
                SMIME_LINT_INTENT_AUTO,
                SMIME_LINT_ON_PARTIAL_REFUSE,
                &mut d,
            )
        };
        assert_eq!(status, SmimeLintStatus::Ok);
        // The result does not refer to the store.
        // SAFETY: freed once.
        unsafe { smime_lint_store_free(store) };
        // SAFETY: `d` is a live decision for the rest of the test.
        unsafe {
            assert_eq!(smime_lint_compose_decision(d), SmimeLintDecision::Plaintext);
            assert_eq!(smime_lint_compose_recipient_count(d), 2);
            let mut r = std::mem::zeroed::<SmimeLintComposeRecipient>();
            assert_eq!(smime_lint_compose_recipient(d, 0, &mut r), SmimeLintStatus::Ok);
            assert_eq!(text(r.address).as_deref(), Some("dan@example.net"));
            assert_eq!((r.field, r.encryptable), (SmimeLintField::To, false));
            assert_eq!(text(r.reason_code).as_deref(), Some("no-certificate"));
            assert!(text(r.hint).unwrap().starts_with("ask dan@example.net"));
            assert_eq!(smime_lint_compose_recipient(d, 1, &mut r), SmimeLintStatus::Ok);
            assert_eq!(text(r.address).as_deref(), Some("carol@example.org"));
            assert_eq!(
                (r.field, r.encryptable, r.reason_code.is_null()),
                (SmimeLintField::Cc, true, true)
            );
            assert_eq!(
                smime_lint_compose_recipient(d, 2, &mut r),
                SmimeLintStatus::InvalidArgument
            );
            let json: serde_json::Value =
                serde_json::from_str(&text(smime_lint_compose_json(d)).unwrap()).unwrap();
            assert_eq!(json["status"], "not-encrypted");
            assert_eq!(json["intent"], "auto");
            assert_eq!(json["sender"]["address"], "alice@example.com");
            smime_lint_compose_free(d);
        }
    }

    #[test]
    fn encryption_on_refuses_and_bad_arguments_are_named() {
        let store = store();
        let to = [c"bob@example.com".as_ptr(), c"dan@example.net".as_ptr()];
        let mut d = std::ptr::null_mut();
        let call = |intent, to: &[*const c_char], d: &mut *mut SmimeLintCompose| {
            // SAFETY: live store, static strings, the array's own length, a local out.
            unsafe {
                smime_lint_compose(
                    store,
                    std::ptr::null(),
                    to.as_ptr(),
                    to.len(),
                    std::ptr::null(),
                    0,
                    std::ptr::null(),
                    0,
                    AT,
                    intent,
                    SMIME_LINT_ON_PARTIAL_REFUSE,
                    d,
                )
            }
        };
        assert_eq!(call(SMIME_LINT_INTENT_ON, &to, &mut d), SmimeLintStatus::Ok);
        // SAFETY: a live decision, freed once.
        unsafe {
            assert_eq!(smime_lint_compose_decision(d), SmimeLintDecision::Refuse);
            smime_lint_compose_free(d);
        }

        assert_eq!(call(7, &to, &mut d), SmimeLintStatus::InvalidArgument);
        assert!(d.is_null());
        let bad = [c"bob@example.com".as_ptr(), c"not an address".as_ptr()];
        assert_eq!(call(SMIME_LINT_INTENT_AUTO, &bad, &mut d), SmimeLintStatus::InvalidAddress);
        let message = text(smime_lint_last_error()).unwrap();
        assert!(message.starts_with("to[1] \"not an address\""), "{message}");
        // SAFETY: NULL handles are allowed for the accessors; the store is freed once.
        unsafe {
            assert_eq!(smime_lint_compose_decision(std::ptr::null()), SmimeLintDecision::Refuse);
            assert!(smime_lint_compose_json(std::ptr::null()).is_null());
            smime_lint_store_free(store);
        }
    }
}
