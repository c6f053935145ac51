//! Findings: what the audit says about a message (DESIGN §5, the rule catalogue).

use crate::address::Address;
use std::fmt;

/// The rules of DESIGN §5. Codes are stable (JSON `rule`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    PartialEncryption,
    SenderCannotDecrypt,
    BccDisclosed,
    UnconfirmedRecipient,
    WeakContentCipher,
    SmartreplyBlankBody,
    EncryptedToUnusableCertificate,
    UnknownRecipientInfo,
    MalformedSmime,
    EncryptedAttachment,
    Unreadable,
}

impl Rule {
    /// Every rule, in catalogue order.
    pub const ALL: [Rule; 11] = [
        Rule::PartialEncryption,
        Rule::SenderCannotDecrypt,
        Rule::BccDisclosed,
        Rule::UnconfirmedRecipient,
        Rule::WeakContentCipher,
        Rule::SmartreplyBlankBody,
        Rule::EncryptedToUnusableCertificate,
        Rule::UnknownRecipientInfo,
        Rule::MalformedSmime,
        Rule::EncryptedAttachment,
        Rule::Unreadable,
    ];

    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            Rule::PartialEncryption => "partial-encryption",
            Rule::SenderCannotDecrypt => "sender-cannot-decrypt",
            Rule::BccDisclosed => "bcc-disclosed",
            Rule::UnconfirmedRecipient => "unconfirmed-recipient",
            Rule::WeakContentCipher => "weak-content-cipher",
            Rule::SmartreplyBlankBody => "smartreply-blank-body",
            Rule::EncryptedToUnusableCertificate => "encrypted-to-unusable-certificate",
            Rule::UnknownRecipientInfo => "unknown-recipient-info",
            Rule::MalformedSmime => "malformed-smime",
            Rule::EncryptedAttachment => "encrypted-attachment",
            Rule::Unreadable => "unreadable",
        }
    }

    /// The rule's severity; `weak-content-cipher` is a warning for 3DES and an error for
    /// DES/RC2, so its findings carry their own.
    pub fn default_severity(self) -> FindingSeverity {
        match self {
            Rule::PartialEncryption
            | Rule::SmartreplyBlankBody
            | Rule::MalformedSmime
            | Rule::Unreadable => FindingSeverity::Error,
            Rule::SenderCannotDecrypt
            | Rule::BccDisclosed
            | Rule::UnconfirmedRecipient
            | Rule::WeakContentCipher
            | Rule::EncryptedToUnusableCertificate => FindingSeverity::Warning,
            Rule::UnknownRecipientInfo | Rule::EncryptedAttachment => FindingSeverity::Info,
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl serde::Serialize for Rule {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

/// How bad a finding is. Exit code 1 when any finding is an `Error`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FindingSeverity {
    Error,
    Warning,
    Info,
}

/// One finding: `{"rule", "severity", "address", "message", "hint"}` (DESIGN §7).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    pub rule: Rule,
    pub severity: FindingSeverity,
    /// The recipient the finding is about, for per-recipient rules.
    pub address: Option<Address>,
    pub message: String,
    pub hint: String,
}

impl Finding {
    /// A finding with the rule's default severity.
    pub fn new(
        rule: Rule,
        address: Option<Address>,
        message: String,
        hint: impl Into<String>,
    ) -> Self {
        Finding { rule, severity: rule.default_severity(), address, message, hint: hint.into() }
    }

    /// The same finding with another severity.
    pub fn with_severity(mut self, severity: FindingSeverity) -> Self {
        self.severity = severity;
        self
    }
}
