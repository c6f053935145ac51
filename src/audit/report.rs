//! The audit report of one message: the NDJSON line of DESIGN §7.
//!
//! ```json
//! {"path": "cur/1.eml", "message_id": "<...>", "date": "RFC3339", "from": "alice@example.com",
//!  "subject": "...", "reply": true,
//!  "encryption": {"kind": "none|enveloped|auth-enveloped|signed-only",
//!    "content_cipher": "aes-128-cbc", "ber_indefinite": false,
//!    "recipient_infos": [{"kind": "ktri|kari|kekri|pwri|ori", "layer": "1",
//!      "issuer": "CN=...", "serial": "hex", "ski": "hex|null", "address": "bob@example.com|null"}]},
//!  "recipients": [{"address": "bob@example.com", "field": "to|cc|bcc", "can_decrypt": true}],
//!  "findings": [{"rule": "partial-encryption", "severity": "error",
//!    "address": "carol@example.com", "message": "...", "hint": "..."}]}
//! ```
//!
//! Extensions (additive): `can_decrypt` is `null` when the message is not encrypted or when it
//! cannot be told (a RecipientInfo matches no known certificate); `encryption.decryption` lists
//! the outcome of decrypting with the owner's keys when keys were given.

use super::finding::{Finding, FindingSeverity};
use crate::address::Address;
use crate::cms::RecipientInfoKind;
use crate::message::RecipientField;
use crate::time::Time;

/// What protects the message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EncryptionKind {
    #[default]
    None,
    Enveloped,
    AuthEnveloped,
    SignedOnly,
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
    pub content_cipher: Option<String>,
    pub ber_indefinite: bool,
    pub recipient_infos: Vec<RecipientInfoReport>,
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
