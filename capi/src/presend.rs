//! The pre-send verdict: may this message, as built, go to these envelope recipients?

use crate::args::{bytes_arg, handle, opt_str_arg, required_out, str_list, write_opt};
use crate::compose::SmimeLintField;
use crate::error::{Failure, SmimeLintStatus, guard, guard_value};
use crate::store::SmimeLintStore;
use crate::text::{c_string, opt_ptr};
use lint::Time;
use lint::gateway::{self, Action, Envelope, GatewayPolicy};
use std::ffi::{CString, c_char};

/// What to do with the message.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmimeLintAction {
    /// Send it to every recipient: plain mail, or encrypted mail every recipient can decrypt.
    Accept = 0,
    /// Send it only to the recipients marked `delivered`; the others cannot read it (only when
    /// a policy setting asks for `split`).
    Split = 1,
    /// Do not send it now (the check could not run, or the policy says tempfail); keep it.
    Tempfail = 2,
    /// Do not send it: the reply says who cannot read it and why.
    Reject = 3,
}

/// Whether a recipient can decrypt the message.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmimeLintCanDecrypt {
    /// Not encrypted, or it cannot be told (no RecipientInfo matches a known certificate while
    /// some match none).
    Unknown = 0,
    /// A RecipientInfo is for a certificate of theirs.
    Yes = 1,
    /// They cannot.
    No = 2,
}

/// One envelope recipient of a verdict, as `smime_lint_verdict_recipient` fills it in. The
/// strings belong to the verdict: valid until `smime_lint_verdict_free`; never free them.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct SmimeLintVerdictRecipient {
    /// The normalised address, or the path as given when it is not an address.
    pub recipient: *const c_char,
    /// The `RCPT TO` path as given.
    pub path: *const c_char,
    /// The header field that names them; `SMIME_LINT_FIELD_BCC` when none does.
    pub field: SmimeLintField,
    /// Whether they can decrypt it.
    pub can_decrypt: SmimeLintCanDecrypt,
    /// Whether the message goes to them.
    pub delivered: bool,
    /// The rule that names them (`partial-encryption`, `unconfirmed-recipient`), or NULL.
    pub rule: *const c_char,
    /// Why they cannot (or may not) read it, one sentence, or NULL.
    pub reason: *const c_char,
}

/// The owned text behind one [`SmimeLintVerdictRecipient`].
struct RecipientText {
    recipient: CString,
    path: CString,
    field: SmimeLintField,
    can_decrypt: SmimeLintCanDecrypt,
    delivered: bool,
    rule: Option<CString>,
    reason: Option<CString>,
}

/// The result of `smime_lint_presend`. Opaque; read it with the `smime_lint_verdict_*`
/// accessors, free it with `smime_lint_verdict_free`. It holds its own copies: the store and
/// the message may change or be freed while it lives. Immutable, so any thread may read it.
pub struct SmimeLintVerdict {
    action: SmimeLintAction,
    reply: Option<CString>,
    json: CString,
    recipients: Vec<RecipientText>,
}

/// The pre-send verdict on one delivery: the message bytes exactly as they will be sent
/// (`message`, `message_len`), from `mail_from` (may be NULL or `""`) to every envelope
/// recipient (`rcpt_to`: Bcc recipients included; `<bob@example.com>` or `bob@example.com`),
/// judged at `at` (Unix seconds: pass the current time, e.g. `smime_lint_now()`).
///
/// `policy` (may be NULL when `policy_len` is 0) holds settings applied in order over the
/// defaults: `"RULE=ACTION"` (`"partial-encryption=split"`, `"weak-content-cipher=reject"`;
/// actions `accept`, `split`, `tempfail`, `reject`) and `"on-error=tempfail"` or
/// `"on-error=accept"` (what an internal error gives). Defaults: `partial-encryption`,
/// `smartreply-blank-body`, `malformed-smime` and `unreadable` reject; the rest accept; an
/// internal error tempfails. Plain mail is accepted.
///
/// A message that is not mail is a verdict (reject, rule `unreadable`), not an error. An
/// envelope recipient that is not an address is a verdict too (they cannot decrypt encrypted
/// mail). Errors are for the arguments: NULL pointers, non-UTF-8 strings, bad policy settings.
/// On success `*out` receives a verdict to free with `smime_lint_verdict_free`; on failure it
/// is set to NULL.
///
/// # Safety
/// `store` is a live store that no other call changes meanwhile; `message` points to
/// `message_len` readable bytes (NULL only when 0); the strings are NULL or NUL-terminated;
/// each array is NULL (with length 0) or holds its length of string pointers; `out` is
/// writable.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)] // a flat C signature: no struct layout to version
pub unsafe extern "C" fn smime_lint_presend(
    store: *const SmimeLintStore,
    message: *const u8,
    message_len: usize,
    mail_from: *const c_char,
    rcpt_to: *const *const c_char,
    rcpt_len: usize,
    at: i64,
    policy: *const *const c_char,
    policy_len: usize,
    out: *mut *mut SmimeLintVerdict,
) -> SmimeLintStatus {
    guard(|| {
        required_out(out, "out")?;
        // SAFETY: `out` is writable (the caller's contract; checked not NULL above).
        unsafe { write_opt(out, std::ptr::null_mut()) };
        // SAFETY: the caller's contract (see # Safety).
        let (store, message, mail_from, rcpt_to, settings) = unsafe {
            (
                handle(store, "store")?,
                bytes_arg(message, message_len, "message")?,
                opt_str_arg(mail_from, "mail_from")?,
                str_list(rcpt_to, rcpt_len, "rcpt_to")?,
                str_list(policy, policy_len, "policy")?,
            )
        };
        let policy = gateway_policy(&settings)?;
        let envelope = Envelope::new(mail_from.unwrap_or(""), rcpt_to);
        let v = gateway::verdict(message, &envelope, &store.inner, Time::from_unix(at), &policy);
        let json = serde_json::to_string(&v)
            .map_err(|e| Failure::new(SmimeLintStatus::Internal, format!("JSON: {e}")))?;
        let recipients = v
            .recipients
            .iter()
            .map(|r| RecipientText {
                recipient: c_string(&r.recipient),
                path: c_string(&r.path),
                field: r.field.into(),
                can_decrypt: match r.can_decrypt {
                    None => SmimeLintCanDecrypt::Unknown,
                    Some(true) => SmimeLintCanDecrypt::Yes,
                    Some(false) => SmimeLintCanDecrypt::No,
                },
                delivered: r.delivered,
                rule: r.rule.map(|rule| c_string(rule.code())),
                reason: r.reason.as_deref().map(c_string),
            })
            .collect();
        let result = SmimeLintVerdict {
            action: match v.action {
                Action::Accept => SmimeLintAction::Accept,
                Action::Split => SmimeLintAction::Split,
                Action::Tempfail => SmimeLintAction::Tempfail,
                // Reject, and anything a later version adds: never send on an unknown answer.
                _ => SmimeLintAction::Reject,
            },
            reply: v.reply.as_ref().map(|r| c_string(&r.to_string())),
            json: c_string(&json),
            recipients,
        };
        // SAFETY: `out` is writable (checked not NULL above).
        unsafe { write_opt(out, Box::into_raw(Box::new(result))) };
        Ok(())
    })
}

/// The defaults with `settings` applied in order.
fn gateway_policy(settings: &[&str]) -> Result<GatewayPolicy, Failure> {
    let mut policy = GatewayPolicy::default();
    for (i, setting) in settings.iter().enumerate() {
        let bad = |e: &dyn std::fmt::Display| {
            Failure::new(SmimeLintStatus::InvalidPolicy, format!("policy[{i}] {setting:?}: {e}"))
        };
        match setting.split_once('=') {
            Some((key, action)) if key.trim() == "on-error" => {
                let action: Action = action.trim().parse().map_err(|e| bad(&e))?;
                policy.set_on_error(action).map_err(|e| bad(&e))?;
            }
            _ => policy.set_from_str(setting).map_err(|e| bad(&e))?,
        }
    }
    Ok(policy)
}

/// The action; `SMIME_LINT_ACTION_REJECT` for NULL (never send on a missing answer).
///
/// # Safety
/// `verdict` is NULL or a live result of `smime_lint_presend`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smime_lint_verdict_action(
    verdict: *const SmimeLintVerdict,
) -> SmimeLintAction {
    guard_value(SmimeLintAction::Reject, || {
        // SAFETY: the caller's contract (see # Safety).
        unsafe { handle(verdict, "verdict") }.map_or(SmimeLintAction::Reject, |v| v.action)
    })
}

/// For reject and tempfail, the SMTP reply as a server would send it
/// (`550-5.7.1 Message refused: ...` lines separated by CRLF, no final CRLF): it names every
/// recipient who cannot read the message and why, and says what to do. Show it to the user.
/// NULL for accept and split, and for NULL. Belongs to the verdict: valid until
/// `smime_lint_verdict_free`; never free it.
///
/// # Safety
/// `verdict` is NULL or a live result of `smime_lint_presend`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smime_lint_verdict_reply(
    verdict: *const SmimeLintVerdict,
) -> *const c_char {
    guard_value(std::ptr::null(), || {
        // SAFETY: the caller's contract (see # Safety).
        unsafe { handle(verdict, "verdict") }
            .map_or(std::ptr::null(), |v| opt_ptr(v.reply.as_ref()))
    })
}

/// The whole verdict as JSON: `action`, `reply` (`code`, `enhanced`, `lines`), `recipients`
/// (`recipient`, `path`, `field`, `can_decrypt`, `rule`, `reason`, `delivered`), `encryption`,
/// `findings` (as in `smime-lint audit --format json`), `decided_by` and `internal_error`.
/// Belongs to the verdict: valid until `smime_lint_verdict_free`; never free it. NULL for NULL.
///
/// # Safety
/// `verdict` is NULL or a live result of `smime_lint_presend`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smime_lint_verdict_json(
    verdict: *const SmimeLintVerdict,
) -> *const c_char {
    guard_value(std::ptr::null(), || {
        // SAFETY: the caller's contract (see # Safety).
        unsafe { handle(verdict, "verdict") }.map_or(std::ptr::null(), |v| v.json.as_ptr())
    })
}

/// How many envelope recipients the verdict covers (duplicates collapsed); 0 for NULL.
///
/// # Safety
/// `verdict` is NULL or a live result of `smime_lint_presend`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smime_lint_verdict_recipient_count(
    verdict: *const SmimeLintVerdict,
) -> usize {
    guard_value(0, || {
        // SAFETY: the caller's contract (see # Safety).
        unsafe { handle(verdict, "verdict") }.map_or(0, |v| v.recipients.len())
    })
}

/// Fills `*out` with envelope recipient `index` (0-based, in envelope order).
/// `SMIME_LINT_STATUS_INVALID_ARGUMENT` when `index` is past the end.
///
/// # Safety
/// `verdict` is NULL or a live result of `smime_lint_presend`; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smime_lint_verdict_recipient(
    verdict: *const SmimeLintVerdict,
    index: usize,
    out: *mut SmimeLintVerdictRecipient,
) -> SmimeLintStatus {
    guard(|| {
        required_out(out, "out")?;
        // SAFETY: the caller's contract (see # Safety).
        let v = unsafe { handle(verdict, "verdict") }?;
        let r = v.recipients.get(index).ok_or_else(|| {
            Failure::new(
                SmimeLintStatus::InvalidArgument,
                format!("recipient {index} of {}", v.recipients.len()),
            )
        })?;
        let view = SmimeLintVerdictRecipient {
            recipient: r.recipient.as_ptr(),
            path: r.path.as_ptr(),
            field: r.field,
            can_decrypt: r.can_decrypt,
            delivered: r.delivered,
            rule: opt_ptr(r.rule.as_ref()),
            reason: opt_ptr(r.reason.as_ref()),
        };
        // SAFETY: `out` is writable (the caller's contract; checked not NULL above).
        unsafe { write_opt(out, view) };
        Ok(())
    })
}

/// Frees a verdict and every string it handed out. NULL is ignored.
///
/// # Safety
/// `verdict` is NULL or a result of `smime_lint_presend` not yet freed, and is not used again
/// (nor are the strings it handed out).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smime_lint_verdict_free(verdict: *mut SmimeLintVerdict) {
    if verdict.is_null() {
        return;
    }
    guard_value((), || {
        // SAFETY: the pointer came from Box::into_raw in smime_lint_presend and is freed once
        // (the caller's contract).
        drop(unsafe { Box::from_raw(verdict) });
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::smime_lint_last_error;
    use crate::store::{
        smime_lint_store_free, smime_lint_store_load_path, smime_lint_store_load_trust_path,
        smime_lint_store_new,
    };
    use std::ffi::CStr;

    const AT: i64 = 1_780_272_000; // 2026-06-01T00:00:00Z

    fn text(p: *const c_char) -> Option<String> {
        // SAFETY: library strings are NUL-terminated and outlive this copy.
        (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
    }

    struct Run {
        status: SmimeLintStatus,
        verdict: *mut SmimeLintVerdict,
    }

    fn presend(message: &[u8], rcpt: &[&CStr], policy: &[&CStr]) -> Run {
        let store = smime_lint_store_new();
        // SAFETY: a live store and a static path.
        let loaded = unsafe {
            smime_lint_store_load_path(
                store,
                c"../testdata/certs/store".as_ptr(),
                std::ptr::null_mut(),
            )
        };
        assert_eq!(loaded, SmimeLintStatus::Ok);
        let rcpt: Vec<_> = rcpt.iter().map(|c| c.as_ptr()).collect();
        let policy: Vec<_> = policy.iter().map(|c| c.as_ptr()).collect();
        let mut verdict = std::ptr::null_mut();
        // SAFETY: live store, message and arrays with their own lengths, a local out.
        let status = unsafe {
            smime_lint_presend(
                store,
                message.as_ptr(),
                message.len(),
                c"<alice@example.com>".as_ptr(),
                rcpt.as_ptr(),
                rcpt.len(),
                AT,
                policy.as_ptr(),
                policy.len(),
                &mut verdict,
            )
        };
        // The verdict does not refer to the store.
        // SAFETY: freed once.
        unsafe { smime_lint_store_free(store) };
        Run { status, verdict }
    }

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!("../testdata/audit/{name}")).unwrap()
    }

    #[test]
    fn ios71_reply_all_is_rejected_naming_dan() {
        let run = presend(
            &fixture("ios71-reply-all.eml"),
            &[c"<dan@example.net>", c"<carol@example.org>"],
            &[],
        );
        assert_eq!(run.status, SmimeLintStatus::Ok);
        let v = run.verdict;
        // SAFETY: a live verdict until freed at the end.
        unsafe {
            assert_eq!(smime_lint_verdict_action(v), SmimeLintAction::Reject);
            let reply = text(smime_lint_verdict_reply(v)).unwrap();
            assert!(
                reply.starts_with("550-5.7.1 ") && reply.contains("dan@example.net"),
                "{reply}"
            );
            assert_eq!(smime_lint_verdict_recipient_count(v), 2);
            let mut r = std::mem::zeroed::<SmimeLintVerdictRecipient>();
            assert_eq!(smime_lint_verdict_recipient(v, 0, &mut r), SmimeLintStatus::Ok);
            assert_eq!(text(r.recipient).as_deref(), Some("dan@example.net"));
            assert_eq!(text(r.path).as_deref(), Some("<dan@example.net>"));
            assert_eq!(
                (r.field, r.can_decrypt, r.delivered),
                (SmimeLintField::To, SmimeLintCanDecrypt::No, false)
            );
            assert_eq!(text(r.rule).as_deref(), Some("partial-encryption"));
            assert!(text(r.reason).is_some());
            assert_eq!(smime_lint_verdict_recipient(v, 1, &mut r), SmimeLintStatus::Ok);
            assert_eq!((r.can_decrypt, r.rule.is_null()), (SmimeLintCanDecrypt::Yes, true));
            let json: serde_json::Value =
                serde_json::from_str(&text(smime_lint_verdict_json(v)).unwrap()).unwrap();
            assert_eq!(json["action"], "reject");
            assert_eq!(json["reply"]["code"], 550);
            smime_lint_verdict_free(v);
        }
    }

    #[test]
    fn policy_settings_apply_and_bad_ones_are_named() {
        let message = fixture("ios71-reply-all.eml");
        let rcpt = [c"dan@example.net", c"carol@example.org"];
        let run = presend(&message, &rcpt, &[c"partial-encryption=split", c"on-error=accept"]);
        assert_eq!(run.status, SmimeLintStatus::Ok);
        // SAFETY: a live verdict, freed once.
        unsafe {
            assert_eq!(smime_lint_verdict_action(run.verdict), SmimeLintAction::Split);
            assert!(smime_lint_verdict_reply(run.verdict).is_null());
            smime_lint_verdict_free(run.verdict);
        }
        for (setting, expected) in [
            (c"partial-encryption", "policy[0] \"partial-encryption\": expected RULE=ACTION"),
            (c"no-such-rule=reject", "policy[0] \"no-such-rule=reject\": unknown rule"),
            (c"on-error=reject", "policy[0] \"on-error=reject\": an internal error can only"),
        ] {
            let run = presend(&message, &rcpt, &[setting]);
            assert_eq!(run.status, SmimeLintStatus::InvalidPolicy);
            assert!(run.verdict.is_null());
            let message = text(smime_lint_last_error()).unwrap();
            assert!(message.starts_with(expected), "{message}");
        }
    }

    #[test]
    fn not_mail_is_a_verdict_and_a_readable_message_is_accepted() {
        let run = presend(b"\x00\x01 not mail", &[c"bob@example.com"], &[]);
        assert_eq!(run.status, SmimeLintStatus::Ok);
        // SAFETY: live verdicts, each freed once.
        unsafe {
            let json = text(smime_lint_verdict_json(run.verdict)).unwrap();
            assert_eq!(smime_lint_verdict_action(run.verdict), SmimeLintAction::Reject, "{json}");
            assert!(json.contains("\"unreadable\""), "{json}");
            smime_lint_verdict_free(run.verdict);
        }
        let run = presend(
            &fixture("all-can-decrypt.eml"),
            &[c"bob@example.com", c"carol@example.org"],
            &[],
        );
        // SAFETY: as above.
        unsafe {
            assert_eq!(smime_lint_verdict_action(run.verdict), SmimeLintAction::Accept);
            smime_lint_verdict_free(run.verdict);
        }
    }

    /// One store, shared by threads that judge at the same time (with trust anchors, so that
    /// they also fill the store's chain cache concurrently), gives each the right verdict.
    #[test]
    fn one_store_serves_many_threads_at_once() {
        let store = smime_lint_store_new();
        for (path, trust) in [
            (c"../testdata/certs/store", false),
            (c"../testdata/certs/ca/intermediate.pem", false),
            (c"../testdata/certs/ca/root.pem", true),
        ] {
            let load =
                if trust { smime_lint_store_load_trust_path } else { smime_lint_store_load_path };
            // SAFETY: a live store, not shared yet; a static path.
            let status = unsafe { load(store, path.as_ptr(), std::ptr::null_mut()) };
            assert_eq!(status, SmimeLintStatus::Ok);
        }
        let shared = store as usize; // a plain number crosses into the threads
        let threads: Vec<_> = (0..8)
            .map(|i| {
                std::thread::spawn(move || {
                    let (name, expected) = if i % 2 == 0 {
                        ("ios71-reply-all.eml", SmimeLintAction::Reject)
                    } else {
                        ("all-can-decrypt.eml", SmimeLintAction::Accept)
                    };
                    let message = fixture(name);
                    let rcpt = [
                        c"bob@example.com".as_ptr(),
                        c"carol@example.org".as_ptr(),
                        c"dan@example.net".as_ptr(),
                    ];
                    let rcpt_len = if i % 2 == 0 { 3 } else { 2 };
                    let mut v = std::ptr::null_mut();
                    // SAFETY: the store outlives the threads (joined before it is freed) and
                    // no thread changes it: concurrent shared use is what the ABI allows.
                    let status = unsafe {
                        smime_lint_presend(
                            shared as *const SmimeLintStore,
                            message.as_ptr(),
                            message.len(),
                            std::ptr::null(),
                            rcpt.as_ptr(),
                            rcpt_len,
                            AT,
                            std::ptr::null(),
                            0,
                            &mut v,
                        )
                    };
                    assert_eq!(status, SmimeLintStatus::Ok);
                    // SAFETY: this thread's own verdict, freed once.
                    unsafe {
                        assert_eq!(smime_lint_verdict_action(v), expected, "{name}");
                        smime_lint_verdict_free(v);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        // SAFETY: every thread has finished; freed once.
        unsafe { smime_lint_store_free(store) };
    }

    #[test]
    fn null_message_with_a_length_is_an_error_not_a_crash() {
        let store = smime_lint_store_new();
        let mut verdict = std::ptr::null_mut();
        // SAFETY: a live store; the NULL message is checked before any read.
        let status = unsafe {
            smime_lint_presend(
                store,
                std::ptr::null(),
                10,
                std::ptr::null(),
                std::ptr::null(),
                0,
                AT,
                std::ptr::null(),
                0,
                &mut verdict,
            )
        };
        assert_eq!(status, SmimeLintStatus::NullArgument);
        assert_eq!(text(smime_lint_last_error()).as_deref(), Some("message is NULL"));
        // SAFETY: a NULL out-parameter is checked first; the store is freed once.
        unsafe {
            let status = smime_lint_presend(
                store,
                b"x".as_ptr(),
                1,
                std::ptr::null(),
                std::ptr::null(),
                0,
                AT,
                std::ptr::null(),
                0,
                std::ptr::null_mut(),
            );
            assert_eq!(status, SmimeLintStatus::NullArgument);
            assert_eq!(smime_lint_verdict_action(std::ptr::null()), SmimeLintAction::Reject);
            smime_lint_store_free(store);
        }
    }
}
