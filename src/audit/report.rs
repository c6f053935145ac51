//! The audit report of one message: one NDJSON line of `audit --format json`.
//!
//! ```json
//! {"path": "cur/1.eml", "message_id": "<...>", "date": "RFC3339", "from": "alice@example.com",
//!  "subject": "...", "reply": true,
//!  "encryption": {
//!    "kind": "none|enveloped|auth-enveloped|signed-only|encrypted-attachment|malformed",
//!    "signed": false, "content_cipher": "aes-128-cbc", "ber_indefinite": false,
//!    "recipient_infos": [{"kind": "ktri|kari|kekri|pwri|ori", "layer": "1",
//!      "issuer": "CN=...", "serial": "hex", "ski": "hex|null", "address": "bob@example.com|null"}],
//!    "envelopes": [{"layer": "1", "kind": "enveloped|auth-enveloped|malformed",
//!      "role": "message|mangled-reply|attachment", "content_cipher": "aes-128-cbc|null",
//!      "ber_indefinite": false, "recipient_info_count": 3, "error": "...|null"}]},
//!  "recipients": [{"address": "bob@example.com", "field": "to|cc|bcc", "can_decrypt": true}],
//!  "findings": [{"rule": "partial-encryption", "severity": "error",
//!    "address": "carol@example.com", "message": "...", "hint": "..."}]}
//! ```
//!
//! `encryption.kind` says what protects the message itself, the first that applies:
//! `enveloped` / `auth-enveloped` when an envelope is the message (or the payload a SmartReply
//! server attached beside a blank body); `malformed` when the S/MIME part that is the message
//! could not be read, or part of the message lies beyond the audit's bounds (MIME depth, part
//! count, nested signatures) and was not examined; `encrypted-attachment` when envelopes travel only as attachments; then
//! `signed-only`; else `none`. `signed` tells whether any signature was seen, whatever the kind.
//!
//! `encryption.envelopes` lists, in MIME order, every envelope found (top level, inside
//! `multipart/signed` or opaque signatures, attached) and every S/MIME part that could not be
//! read (`kind: malformed`, with `error`), each with its `role`: `message` (it decides who can
//! read the message), `mangled-reply` (the SmartReply payload beside a blank body, which decides
//! too) or `attachment`. `content_cipher` and `ber_indefinite` at the top of `encryption` keep
//! their first meaning: the cipher of the first envelope that carries the message (else of the
//! first envelope), and whether any envelope used BER indefinite lengths.
//!
//! Extensions (additive): `can_decrypt` is `null` when the message is not encrypted or when it
//! cannot be told (a RecipientInfo matches no known certificate); `encryption.decryption` lists
//! the outcome of decrypting with the owner's keys when keys were given; `encryption.signed`,
//! `encryption.envelopes` and the kinds `encrypted-attachment` and `malformed` were added later
//! (an encrypted attachment used to give `none`, as did an unreadable `smime.p7m`).

use super::analysis::EnvelopeRole;
use super::finding::{Finding, FindingSeverity};
use crate::address::Address;
use crate::cms::RecipientInfoKind;
use crate::message::RecipientField;
use crate::time::Time;

/// What protects the message (the first that applies, in this order).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EncryptionKind {
    /// No S/MIME at all.
    #[default]
    None,
    /// An EnvelopedData carries the message (RFC 5652 §6).
    Enveloped,
    /// An AuthEnvelopedData carries the message (RFC 5083).
    AuthEnveloped,
    /// Signed, and nothing is encrypted.
    SignedOnly,
    /// Envelopes travel only as attachments; the message itself is not encrypted.
    EncryptedAttachment,
    /// The S/MIME part that is the message could not be read, or part of the message lies
    /// beyond the audit's bounds (`malformed-smime` says which).
    Malformed,
}

impl EncryptionKind {
    /// The stable code, as in the JSON `encryption.kind`.
    pub fn code(self) -> &'static str {
        match self {
            EncryptionKind::None => "none",
            EncryptionKind::Enveloped => "enveloped",
            EncryptionKind::AuthEnveloped => "auth-enveloped",
            EncryptionKind::SignedOnly => "signed-only",
            EncryptionKind::EncryptedAttachment => "encrypted-attachment",
            EncryptionKind::Malformed => "malformed",
        }
    }
}

/// What one entry of `encryption.envelopes` is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EnvelopeKind {
    Enveloped,
    AuthEnveloped,
    /// An S/MIME part that could not be read as what it claims (see `error`).
    Malformed,
}

/// One envelope, or one S/MIME part that could not be read.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct EnvelopeReport {
    /// MIME path of the part, e.g. `1` or `1.2` (as in `recipient_infos[].layer`).
    pub layer: String,
    pub kind: EnvelopeKind,
    /// Whether it carries the message or travels as an attachment.
    pub role: EnvelopeRole,
    /// The content-encryption algorithm; `null` when malformed.
    pub content_cipher: Option<String>,
    pub ber_indefinite: bool,
    /// How many entries of `recipient_infos` belong to it (a kari counts once per key).
    pub recipient_info_count: usize,
    /// Why it could not be read (`kind: malformed` only).
    pub error: Option<String>,
}

/// One RecipientInfo as reported.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RecipientInfoReport {
    pub kind: RecipientInfoKind,
    /// MIME path of the envelope holding it.
    pub layer: String,
    pub issuer: Option<String>,
    pub serial: Option<String>,
    pub ski: Option<String>,
    /// The address of the certificate it matches in the store, if any.
    pub address: Option<Address>,
}

/// Decrypting one envelope with the owner's key.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct DecryptionReport {
    pub layer: String,
    /// `decrypted` or `failed`.
    pub status: &'static str,
    /// Whether the body a recipient would see after decryption is blank (decrypted only).
    pub blank_body: Option<bool>,
    /// Why it failed (never key material).
    pub reason: Option<String>,
}

/// `encryption` object.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct EncryptionReport {
    pub kind: EncryptionKind,
    /// A signature was seen (detached, opaque, or around an envelope).
    pub signed: bool,
    /// The first message-carrying envelope's cipher, else the first envelope's.
    pub content_cipher: Option<String>,
    /// Some envelope used BER indefinite lengths.
    pub ber_indefinite: bool,
    pub recipient_infos: Vec<RecipientInfoReport>,
    /// Every envelope and unreadable S/MIME part, in MIME order.
    pub envelopes: Vec<EnvelopeReport>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub decryption: Vec<DecryptionReport>,
}

/// One recipient of the stored copy.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RecipientReport {
    pub address: Address,
    pub field: RecipientField,
    /// `true`/`false`; `null` when not encrypted or not decidable.
    pub can_decrypt: Option<bool>,
}

/// The audit of one message.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    /// Where the message came from (set by the caller: file path, `FILE#N` for mbox, `-`).
    pub path: String,
    pub message_id: Option<String>,
    #[serde(serialize_with = "time_rfc3339")]
    pub date: Option<Time>,
    pub from: Option<Address>,
    pub subject: Option<String>,
    pub reply: bool,
    pub encryption: EncryptionReport,
    pub recipients: Vec<RecipientReport>,
    pub findings: Vec<Finding>,
}

fn time_rfc3339<S: serde::Serializer>(t: &Option<Time>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&t.to_rfc3339()),
        None => s.serialize_none(),
    }
}

impl Report {
    /// The most severe finding's severity, if any.
    pub fn worst(&self) -> Option<FindingSeverity> {
        self.findings.iter().map(|f| f.severity).min()
    }

    /// Whether any finding is an error (CLI exit code 1).
    pub fn has_errors(&self) -> bool {
        self.worst() == Some(FindingSeverity::Error)
    }

    /// The message is encrypted (enveloped or auth-enveloped).
    pub fn is_encrypted(&self) -> bool {
        matches!(self.encryption.kind, EncryptionKind::Enveloped | EncryptionKind::AuthEnveloped)
    }

    /// One JSON line (without the newline).
    pub fn to_json(&self) -> String {
        // Serialising plain data into a String cannot fail; keep a valid line regardless.
        serde_json::to_string(self).unwrap_or_else(|e| {
            format!("{{\"path\":{:?},\"error\":\"serialising report: {e}\"}}", self.path)
        })
    }
}
