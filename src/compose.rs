//! The compose-time decision: may this draft go out encrypted, and if not, who is the problem?
//!
//! [`decide`] is a pure function of the recipient *set*, the certificate store, the evaluation
//! time and the options. The order of recipients, duplicates, letter case, display names, which
//! header a recipient came from (for encryptability), and whether the draft was typed fresh or
//! made by Reply All never change the outcome. That invariant is what iOS 7.1 Mail broke: its
//! Reply All to a mixed group showed "Encrypted" and sent an `smime.p7m` the To recipient could
//! not open, while a new message to the same people correctly said "Not Encrypted".
//!
//! ```
//! use smime_lint::compose::{decide, ComposeOptions, Intent, Status};
//! use smime_lint::message::{Recipient, RecipientField};
//! use smime_lint::{Address, CertStore, Time};
//!
//! let mut store = CertStore::new();
//! store.load_path("testdata/certs/store/bob.pem".as_ref()).unwrap();
//! let to = |a: &str| Recipient { address: Address::parse(a).unwrap(), field: RecipientField::To };
//! let at = Time::parse_rfc3339("2026-06-01T00:00:00Z").unwrap();
//!
//! let d = decide(&store, None, &[to("bob@example.com")], at, &ComposeOptions::default());
//! assert_eq!(d.status, Status::Encrypted);
//!
//! let d = decide(&store, None, &[to("bob@example.com"), to("dan@example.net")], at, &ComposeOptions::default());
//! assert_eq!(d.status, Status::NotEncrypted); // auto: not everyone can decrypt
//! assert_eq!(d.lacking().count(), 1);
//! ```

use crate::address::Address;
use crate::certs::CertStore;
use crate::message::{collapse_recipients, Recipient, RecipientField};
use crate::time::Time;
use crate::usable::{AddressStatus, Policy};

mod wire;

/// What the user asked for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Intent {
    /// Encrypt; if someone cannot decrypt, apply [`OnPartial`].
    On,
    /// Never encrypt.
    Off,
    /// Encrypt exactly when every recipient can decrypt.
    #[default]
    Auto,
}

impl Intent {
    /// The intent when the user said nothing: a reply to an encrypted message stays encrypted
    /// (`On`), anything else is `Auto`.
    pub fn default_for(replying_to_encrypted: bool) -> Intent {
        if replying_to_encrypted {
            Intent::On
        } else {
            Intent::Auto
        }
    }
}

/// What to do when encryption is wanted (`Intent::On`) and some recipient lacks a usable
/// certificate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OnPartial {
    /// Do not send: the result lists every recipient lacking a usable certificate and why.
    #[default]
    Refuse,
    /// Send without encryption, and say so explicitly so the client can ask the user first.
    Downgrade,
}

/// Options of the decision.
#[derive(Clone, Debug, Default)]
pub struct ComposeOptions {
    pub intent: Intent,
    pub on_partial: OnPartial,
    pub policy: Policy,
}

/// The overall state a client shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Encrypted,
    NotEncrypted,
    Refused,
}

/// What happens to the message, with the why folded in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Decision {
    /// Every recipient can decrypt: send encrypted.
    Encrypt,
    /// Send in the clear (intent off, or auto with someone unable to decrypt).
    Plaintext,
    /// Encryption was required and is not possible: do not send.
    Refuse,
    /// Encryption was requested, is not possible, and policy allows sending in the clear: the
    /// client should ask the user before it does.
    Downgrade,
}

/// One recipient's part of the decision.
#[derive(Debug)]
pub struct RecipientDecision<'s> {
    pub field: RecipientField,
    pub status: AddressStatus<'s>,
}

impl RecipientDecision<'_> {
    pub fn address(&self) -> &Address {
        &self.status.address
    }
}

/// A warning that does not change the decision. Serialized as `{"address", "code", "message"}`
/// (fields in alphabetical order, like every object of `check --format json`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ComposeWarning {
    /// Whom it is about.
    pub address: Address,
    /// `sender-cannot-decrypt` or `bcc-disclosed` (the audit's rule codes).
    pub code: &'static str,
    /// One sentence for the user.
    pub message: String,
}

/// The result of [`decide`].
///
/// Serializes (with `serde`) to the object `smime-lint check --format json` prints, keys in
/// alphabetical order at every level:
///
/// ```json
/// {"decision": "encrypt|plaintext|refuse|downgrade", "intent": "on|off|auto",
///  "recipients": [{"address": "bob@example.com", "candidates": [{"not_after": "RFC3339",
///    "reasons": ["code"], "sha256": "hex", "source": "path or message", "usable": true}],
///    "certificate": {"not_after": "RFC3339", "sha256": "hex", "source": "..."} or null,
///    "encryptable": true, "field": "to|cc|bcc",
///    "reasons": [{"code": "expired", "hint": "...", "message": "..."}]}],
///  "sender": {... as a recipient, without "field"} or null,
///  "status": "encrypted|not-encrypted|refused",
///  "warnings": [{"address": "...", "code": "sender-cannot-decrypt|bcc-disclosed", "message": "..."}]}
/// ```
///
/// `reasons` are [`AddressStatus::reasons`]: the chosen certificate's warnings, or why no
/// certificate is usable; each candidate lists its own reason codes.
///
/// ```
/// use smime_lint::compose::{decide, ComposeOptions};
/// use smime_lint::message::{Recipient, RecipientField};
/// use smime_lint::{Address, CertStore, Time};
///
/// let mut store = CertStore::new();
/// store.load_path("testdata/certs/store/bob.pem".as_ref()).unwrap();
/// let to = Recipient { address: Address::parse("dan@example.net").unwrap(), field: RecipientField::To };
/// let at = Time::parse_rfc3339("2026-06-01T00:00:00Z").unwrap();
/// let d = decide(&store, None, &[to], at, &ComposeOptions::default());
/// let json = serde_json::to_value(&d).unwrap();
/// assert_eq!(json["status"], "not-encrypted");
/// assert_eq!(json["recipients"][0]["reasons"][0]["code"], "no-certificate");
/// ```
#[derive(Debug)]
pub struct ComposeDecision<'s> {
    pub status: Status,
    pub decision: Decision,
    /// The intent the decision was made with.
    pub intent: Intent,
    /// The collapsed recipients, in order of first appearance (To, then Cc, then Bcc).
    pub recipients: Vec<RecipientDecision<'s>>,
    /// The sender's own certificate, so the sent copy stays readable to its author.
    pub sender: Option<AddressStatus<'s>>,
    pub warnings: Vec<ComposeWarning>,
}

impl<'s> ComposeDecision<'s> {
    /// Recipients without a usable certificate.
    pub fn lacking(&self) -> impl Iterator<Item = &RecipientDecision<'s>> {
        self.recipients.iter().filter(|r| !r.status.is_encryptable())
    }
}

/// Decides for `recipients` (To/Cc/Bcc, in any order, duplicates allowed) sent by `sender`.
pub fn decide<'s>(
    store: &'s CertStore,
    sender: Option<&Address>,
    recipients: &[Recipient],
    at: Time,
    options: &ComposeOptions,
) -> ComposeDecision<'s> {
    let recipients: Vec<RecipientDecision<'s>> = collapse_recipients(recipients.iter().cloned())
        .into_iter()
        .map(|r| RecipientDecision {
            field: r.field,
            status: store.evaluate(&r.address, at, &options.policy),
        })
        .collect();
    // Only the set matters: `all` is order-free, and `collapse_recipients` removed duplicates.
    let everyone_can_decrypt =
        !recipients.is_empty() && recipients.iter().all(|r| r.status.is_encryptable());

    let (status, decision) = match (options.intent, everyone_can_decrypt) {
        (Intent::Off, _) => (Status::NotEncrypted, Decision::Plaintext),
        (Intent::Auto | Intent::On, true) => (Status::Encrypted, Decision::Encrypt),
        (Intent::Auto, false) => (Status::NotEncrypted, Decision::Plaintext),
        (Intent::On, false) => match options.on_partial {
            OnPartial::Refuse => (Status::Refused, Decision::Refuse),
            OnPartial::Downgrade => (Status::NotEncrypted, Decision::Downgrade),
        },
    };

    let sender = sender.map(|a| store.evaluate(a, at, &options.policy));
    let mut warnings = Vec::new();
    if status == Status::Encrypted {
        if let Some(s) = sender.as_ref().filter(|s| !s.is_encryptable()) {
            warnings.push(ComposeWarning {
                code: "sender-cannot-decrypt",
                address: s.address.clone(),
                message: format!(
                    "{} has no usable certificate of their own: the sent copy will be unreadable to its author",
                    s.address
                ),
            });
        }
        for r in recipients.iter().filter(|r| r.field == RecipientField::Bcc) {
            warnings.push(ComposeWarning {
                code: "bcc-disclosed",
                address: r.address().clone(),
                message: format!(
                    "{} is a Bcc recipient: unless the client sends them a separate copy, their RecipientInfo shows To/Cc recipients that they were included",
                    r.address()
                ),
            });
        }
    }
    ComposeDecision { status, decision, intent: options.intent, recipients, sender, warnings }
}

/// Whether `raw` is an encrypted message (so a reply to it defaults to [`Intent::On`]). Uses the
/// audit's layer analysis: an envelope that is the message itself, inside a multipart/signed or
/// an opaque signature, or mangled into an attachment beside a blank body.
pub fn is_encrypted_message(raw: &[u8]) -> bool {
    let Some(msg) = crate::message::OutgoingMessage::shared_parser().parse(raw) else {
        return false;
    };
    crate::audit::analysis::analyse(&msg, &CertStore::new(), &[]).is_encrypted()
}
