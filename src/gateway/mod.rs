//! The pre-send verdict: may this message, as built, go to these envelope recipients?
//!
//! One verdict for every hook that stands between a client and delivery: the milter in front of
//! Postfix or Sendmail, `smime-lint check` on a built message, the `sendmail` guard, the lettre
//! transport guard and the C ABI. [`verdict`] takes the SMTP envelope (`MAIL FROM` and every
//! `RCPT TO`, Bcc recipients included), the message bytes, the certificate store, the time and
//! a [`GatewayPolicy`], and gives a [`Verdict`]:
//!
//! * **accept**: plain mail, or encrypted mail every envelope recipient can decrypt;
//! * **reject** (SMTP 5xx, with a text naming who cannot decrypt and why): by default for
//!   `partial-encryption` (an envelope recipient has no RecipientInfo they can use: the iOS 7.1
//!   Reply All), `smartreply-blank-body` (the encrypted payload travels as an attachment beside
//!   an empty body: the ActiveSync SmartReply mangling), `malformed-smime` and `unreadable`;
//! * **tempfail** (SMTP 4xx): when the policy says so for a rule, and for any internal error;
//! * **split**: deliver to the recipients who can decrypt and refuse the others, when the
//!   policy says so for `partial-encryption` or `unconfirmed-recipient`.
//!
//! The message is examined exactly as `audit` examines a sent copy (the same layers, the same
//! RecipientInfo matching, the same rules), but judged against the **envelope**: a Bcc
//! recipient appears only there, and every envelope recipient without a RecipientInfo certainly
//! receives a copy they cannot open (for a sent copy, a Bcc recipient might have received a
//! separate one). An envelope recipient that some RecipientInfo names only through a certificate
//! whose link to them is unproven (`harvested-unverified`, or `untrusted` when trust anchors are
//! configured) counts as unable to decrypt: whoever holds that key may not be them.
//!
//! ```
//! use smime_lint::gateway::{verdict, Action, Envelope, GatewayPolicy};
//! use smime_lint::{CertStore, Time};
//!
//! let mut store = CertStore::new();
//! store.load_path("testdata/certs/store".as_ref()).expect("test certificates");
//! let at = Time::parse_rfc3339("2026-06-01T00:00:00Z").unwrap(); // a gateway passes Time::now()
//! let policy = GatewayPolicy::default();
//!
//! // iOS 7.1's Reply All: enveloped for carol (Cc) and alice, sent to dan (To) too.
//! let message = std::fs::read("testdata/audit/ios71-reply-all.eml").unwrap();
//! let envelope = Envelope::new("<alice@example.com>", ["<dan@example.net>", "<carol@example.org>"]);
//! let v = verdict(&message, &envelope, &store, at, &policy);
//! assert_eq!(v.action, Action::Reject);
//! let reply = v.reply.unwrap();
//! assert_eq!((reply.code, reply.enhanced.as_str()), (550, "5.7.1"));
//! assert!(reply.to_string().contains("dan@example.net"));
//!
//! // The same message to carol alone is readable by everyone it goes to.
//! let envelope = Envelope::new("<alice@example.com>", ["<carol@example.org>"]);
//! assert_eq!(verdict(&message, &envelope, &store, at, &policy).action, Action::Accept);
//! ```
//!
//! The verdict never panics and never reads the clock. A panic inside (a bug here or in a
//! dependency) is caught and answered with the policy's `on_error` action, tempfail by default,
//! so that the sending server keeps the message: nothing is lost, and nothing unreadable slips
//! through.

mod envelope;
mod headers;
mod policy;
mod reply;
mod verdict;

pub use envelope::{Envelope, EnvelopeRecipient};
pub use headers::HeaderRecipients;
pub use policy::{Action, GatewayPolicy, PolicyError};
pub use reply::{SmtpReply, MAX_LINES, MAX_LINE_TEXT};
pub use verdict::{RecipientVerdict, Verdict};

use crate::certs::CertStore;
use crate::time::Time;

/// The pre-send verdict on one delivery: `raw` (the message as it will be delivered) going to
/// `envelope`'s recipients, judged with `store` at `at` under `policy`. See the [module
/// documentation](self).
pub fn verdict(
    raw: &[u8],
    envelope: &Envelope,
    store: &CertStore,
    at: Time,
    policy: &GatewayPolicy,
) -> Verdict {
    let guarded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        verdict::evaluate(raw, envelope, store, at, policy)
    }));
    guarded.unwrap_or_else(|_| {
        verdict::internal_error(envelope, policy, "internal error while checking the message")
    })
}

/// Whether `raw` is a *built* S/MIME message, to be judged as it is (the [`verdict`]) rather
/// than recomputed as a draft: an envelope carries the message (at the top, inside a
/// signature, or left beside a blank body by a SmartReply server, in any layer the audit
/// finds), or an S/MIME part cannot be parsed. Plain mail, signed-only mail and mail with a
/// deliberately attached `.p7m` are not; neither is input that is not mail at all.
///
/// ```
/// use smime_lint::gateway::is_built;
/// assert!(is_built(&std::fs::read("testdata/audit/ios71-reply-all.eml").unwrap()));
/// assert!(is_built(&std::fs::read("testdata/smartreply/sr-empty-text.eml").unwrap()));
/// assert!(!is_built(&std::fs::read("testdata/check/ios71-reply-all-draft.eml").unwrap()));
/// assert!(!is_built(&std::fs::read("testdata/audit/signed-only.eml").unwrap()));
/// ```
pub fn is_built(raw: &[u8]) -> bool {
    let store = CertStore::new();
    let options = crate::audit::AuditOptions::default();
    let guarded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        match crate::audit::examine(raw, &store, &options, true) {
            Ok(examined) => examined.layers.is_encrypted() || !examined.layers.malformed.is_empty(),
            Err(_) => false,
        }
    }));
    // A panic while looking: the (equally guarded) verdict decides, never the draft path.
    guarded.unwrap_or(true)
}

/// The verdict when the message could not be checked at all (a time-out, a size limit, an I/O
/// error of the hook): the policy's `on_error` action with `why` recorded.
pub fn error_verdict(envelope: &Envelope, policy: &GatewayPolicy, why: &str) -> Verdict {
    verdict::internal_error(envelope, policy, why)
}
